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
import socket
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

    http_status = 503


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


def deliver(settings: Settings, email: EmailMessage) -> None:
    """Hand one message to the configured server, or to the instance's Maildir when there is
    none. Raises MailError when the server is away or refuses it."""
    if not settings.SMTP_HOST:
        mailbox.Maildir(str(mailbox_path(settings)), create=True).add(email)
        return
    try:
        with _connect(settings) as smtp:
            if settings.SMTP_USER:
                smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD)
            smtp.send_message(email)
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise MailError(f"The mail server {settings.SMTP_HOST}:{settings.SMTP_PORT} did not take the message: "
                        f"{type(exc).__name__}: {exc}") from exc


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


def _claim(session: Session, message_id: int, now: datetime) -> bool:
    taken = session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id,
        or_(OutboxMessage.state == "queued",
            (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - STUCK_SENDING)))
        .values(state="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    return taken.rowcount == 1


def drain_outbox(sessions: sessionmaker[Session], settings: Settings, limit: int = 500,
                 now: datetime | None = None) -> DrainReport:
    """Send every message that is due; a failure puts the message back for later (or marks it
    failed after MAIL_MAX_ATTEMPTS). Never raises for a mail server problem; raises ConfigError
    for an unknown CLINEX_SMTP_TLS before taking any message."""
    report = DrainReport()
    now = now or utcnow()
    if settings.SMTP_HOST:
        tls_mode(settings)  # a bad setting fails before any message is taken
    with sessions() as session:
        for message_id in _due_ids(session, now, limit):
            if _claim(session, message_id, now):
                _send_one(session, settings, message_id, now, report)
    return report


def _send_one(session: Session, settings: Settings, message_id: int, now: datetime, report: DrainReport) -> None:
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        deliver(settings, build_email(settings, message))
    except MailError as exc:
        message.last_error = str(exc)[:500]
        if message.attempts >= settings.MAIL_MAX_ATTEMPTS:
            message.state = "failed"
            report.failed.append(message_id)
        else:
            message.state, message.next_attempt_at = "queued", now + retry_delay(message.attempts)
            report.retrying.append(message_id)
        log.warning("mail %s not sent (attempt %s): %s", message_id, message.attempts, exc)
    else:
        message.state, message.sent_at, message.last_error = "sent", utcnow(), None
        report.sent.append(message_id)
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
