"""Notification mail: an outbox table drained by ``drain_outbox``, which sends through SMTP or,
with no server configured, writes each message to a Maildir in the instance (``mailbox/``).

The outbox has its own retry columns rather than riding on the episode Job rows (a Job belongs
to an episode; a mail does not). A message is taken with a compare-and-set (queued -> sending),
so several drainers never send one twice; a failed attempt puts it back with a later
``next_attempt_at``, so a dead mail server delays mail and never loses it.
"""

from __future__ import annotations

import logging
import mailbox
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ClinexError, ConfigError
from ..models import utcnow
from ..settings import Settings
from .models import OutboxMessage

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 15.0
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600
#: A message left in ``sending`` this long was being sent by a process that died; send it again.
STUCK_SENDING = timedelta(minutes=10)
TLS_MODES = ("starttls", "ssl", "none")


class MailError(ClinexError):
    """The mail server refused or could not be reached (the message stays queued)."""


@dataclass
class DrainReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class MailboxEntry:
    """One message the embedded mailbox holds."""

    key: str
    date: str
    to: str
    subject: str
    body: str


def one_line(text: str, limit: int = 200) -> str:
    """Header-safe text: whitespace (newlines too, which could start a new header) folded to spaces."""
    return " ".join(str(text).split())[:limit]


def queue_mail(session: Session, to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> OutboxMessage:
    """Add a message to the outbox (the caller commits, then drains). Raises ClinexError for an
    address that is not one."""
    if "@" not in parseaddr(to)[1] or any(c in to for c in "\r\n"):
        raise ClinexError(f"{to[:80]!r} is not an email address to send to.")
    message = OutboxMessage(to_addr=to, subject=one_line(subject, 300), body=body, unsubscribe_url=unsubscribe_url)
    session.add(message)
    session.flush()
    return message


def build_email(settings: Settings, message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.MAIL_FROM
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = format_datetime(_aware(message.created_at))
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="clinex.local")
    if message.unsubscribe_url:
        # RFC 8058: mail apps may show a one-click unsubscribe button that POSTs to this address
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    return email


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def mailbox_path(settings: Settings) -> Path:
    return settings.instance_path / "mailbox"


class Courier:
    """Hands messages to the configured server over one connection for a whole drain
    (reconnecting once if the server dropped it), or to the instance's Maildir when there is
    no server. ``send`` raises MailError when the server is away or refuses a message."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._box: mailbox.Maildir | None = None

    def send(self, email: EmailMessage) -> None:
        if not self.settings.SMTP_HOST:
            if self._box is None:  # not ``or``: a Maildir's truth value lists the whole folder
                self._box = mailbox.Maildir(str(mailbox_path(self.settings)), create=True)
            self._box.add(email)
            return
        for last_try in (False, True):
            try:
                self._connection().send_message(email)
                return
            except smtplib.SMTPServerDisconnected as exc:  # an idle connection the server closed
                self.close()
                if last_try:
                    raise self._error(exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                raise self._error(exc) from exc

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                smtp = _connect(self.settings)
                if self.settings.SMTP_USER:
                    smtp.login(self.settings.SMTP_USER, self.settings.SMTP_PASSWORD)
            except (smtplib.SMTPException, OSError) as exc:
                raise self._error(exc, unreachable=True) from exc
            self._smtp = smtp
        return self._smtp

    def _error(self, exc: BaseException, unreachable: bool = False) -> "MailError":
        error = MailError(f"The mail server {self.settings.SMTP_HOST}:{self.settings.SMTP_PORT} did not take "
                          f"the message: {type(exc).__name__}: {exc}")
        error.unreachable = unreachable
        return error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):  # already broken: closing it is all we can do
                smtp.close()

    def __enter__(self) -> "Courier":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def tls_mode(settings: Settings) -> str:
    """The configured TLS mode; raises ConfigError for one we do not know."""
    mode = settings.SMTP_TLS.lower()
    if mode not in TLS_MODES:
        raise ConfigError(f"CLINEX_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {settings.SMTP_TLS!r}.")
    return mode


def _connect(settings: Settings) -> smtplib.SMTP:
    mode = tls_mode(settings)
    if mode == "ssl":
        return smtplib.SMTP_SSL(settings.SMTP_HOST, settings.SMTP_PORT, timeout=SMTP_TIMEOUT,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=SMTP_TIMEOUT)
    if mode == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return timedelta(seconds=min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def _due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(select(OutboxMessage.id).where(or_(
        (OutboxMessage.state == "queued") & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - STUCK_SENDING),
    )).order_by(OutboxMessage.id).limit(limit)))


def _claim(session: Session, ids: list[int], now: datetime) -> list[int]:
    """Take the due messages among ``ids`` (compare-and-set on their state, one statement);
    returns those this drainer now owns."""
    taken = session.execute(update(OutboxMessage).where(
        OutboxMessage.id.in_(ids),
        or_(OutboxMessage.state == "queued",
            (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - STUCK_SENDING)))
        .values(state="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)).scalars().all()
    session.commit()
    return sorted(taken)


def drain_outbox(sessions: sessionmaker[Session], settings: Settings, limit: int = 500,
                 now: datetime | None = None, batch: int = 100) -> DrainReport:
    """Send up to ``limit`` messages that are due, over one connection; a failure puts the
    message back for later (or marks it failed after MAIL_MAX_ATTEMPTS), and a server that cannot
    be reached ends the drain, the rest of the batch going back to wait. Never raises for a mail
    server problem; raises ConfigError for an unknown CLINEX_SMTP_TLS before taking any message."""
    report = DrainReport()
    now = now or utcnow()
    if settings.SMTP_HOST:
        tls_mode(settings)  # a bad setting fails before any message is taken
    with sessions() as session, Courier(settings) as courier:
        while len(report.sent) + len(report.retrying) + len(report.failed) < limit:
            claimed = _claim(session, _due_ids(session, now, min(batch, limit - _done(report))), now)
            if not claimed:
                break
            for n, message_id in enumerate(claimed):
                if not _send_one(session, courier, settings, message_id, now, report):
                    _put_back(session, claimed[n + 1:], settings, now, report)
                    return report
    return report


def _done(report: DrainReport) -> int:
    return len(report.sent) + len(report.retrying) + len(report.failed)


def _send_one(session: Session, courier: Courier, settings: Settings, message_id: int, now: datetime,
              report: DrainReport) -> bool:
    """Send one claimed message and record how it went; False when the server cannot be reached."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        courier.send(build_email(settings, message))
    except MailError as exc:
        _failed(message, settings, now, str(exc), report)
        session.commit()
        log.warning("mail %s not sent (attempt %s): %s", message_id, message.attempts, exc)
        return not getattr(exc, "unreachable", False)
    message.state, message.sent_at, message.last_error = "sent", utcnow(), None
    report.sent.append(message_id)
    session.commit()
    return True


def _failed(message: OutboxMessage, settings: Settings, now: datetime, error: str, report: DrainReport) -> None:
    message.last_error = error[:500]
    if message.attempts >= settings.MAIL_MAX_ATTEMPTS:
        message.state = "failed"
        report.failed.append(message.id)
    else:
        message.state, message.next_attempt_at = "queued", now + retry_delay(message.attempts)
        report.retrying.append(message.id)


def _put_back(session: Session, ids: list[int], settings: Settings, now: datetime, report: DrainReport) -> None:
    """Claimed messages not tried because the server is away: they wait like the one that failed."""
    for message_id in ids:
        _failed(session.get(OutboxMessage, message_id), settings, now, "not tried: the mail server was away",
                report)
    session.commit()


def retry_failed(session: Session) -> int:
    """Queue every failed message again from now; returns how many."""
    return session.execute(update(OutboxMessage).where(OutboxMessage.state == "failed")
                           .values(state="queued", attempts=0, next_attempt_at=utcnow())).rowcount


def list_mailbox(settings: Settings) -> list[MailboxEntry]:
    """The messages the embedded mailbox holds, oldest first (empty when none was written)."""
    path = mailbox_path(settings)
    if not path.is_dir():
        return []
    box = mailbox.Maildir(str(path), create=False)
    entries = [MailboxEntry(key, m["Date"] or "", m["To"] or "", m["Subject"] or "", _text(m)) for key, m in box.items()]
    return sorted(entries, key=lambda e: (_parsed_date(e.date), e.key))


def _text(message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode(message.get_content_charset() or "utf-8", "replace") if payload else ""


def _parsed_date(value: str) -> datetime:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)
