"""Notification mail through a real SMTP server on loopback (aiosmtpd), and the embedded Maildir."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.community.delivery import deliver_mail, queue_digests, queue_instant_mail
from pipeline.community.mail import drain_outbox, list_mailbox, queue_mail, retry_delay
from pipeline.community.models import Notification, OutboxMessage
from pipeline.community.notifications import notify_many
from pipeline.errors import ClinexError
from pipeline.models import User, utcnow
from pipeline.settings import load_settings


@pytest.fixture
def mail_ctx(ctx, smtp_sink, settings_dict):
    settings = load_settings({**settings_dict, **smtp_sink.settings()})
    return ctx.sessions, settings, smtp_sink


def _member(session, name="ana"):
    user = User(email=f"{name}@example.org", display_name=f"Dr. {name.title()}", password_hash="x", role="listener")
    session.add(user)
    session.flush()
    return user


def test_a_message_reaches_the_smtp_server(mail_ctx):
    sessions, settings, sink = mail_ctx
    with sessions.begin() as session:
        queue_mail(session, "ana@example.org", "Hello\nBcc: evil@example.org", "Body text é", "http://x/unsub")
    report = drain_outbox(sessions, settings)
    assert len(report.sent) == 1 and not report.retrying
    [message] = sink.messages
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Hello Bcc: evil@example.org"  # a newline cannot start a header
    assert message["Bcc"] is None
    assert message["List-Unsubscribe"] == "<http://x/unsub>"
    assert "Body text é" in message.get_content()


def test_a_dead_smtp_server_never_loses_a_notification(mail_ctx):
    sessions, settings, sink = mail_ctx
    sink.stop()
    with sessions.begin() as session:
        user = _member(session)
        notify_many(session, [user.id], "reply", "Dr. Bo replied to you on “Lasers”", "/episodes/lasers#c1")
    first = deliver_mail(sessions, settings, digests=False)
    assert first.retrying and not first.sent
    with sessions() as session:
        row = session.get(OutboxMessage, first.retrying[0])
        assert row.state == "queued" and row.attempts == 1 and "did not take the message" in row.last_error
    assert drain_outbox(sessions, settings).sent == []  # not due yet: the retry waits
    sink.start()
    later = utcnow() + retry_delay(1) + timedelta(seconds=1)
    assert drain_outbox(sessions, settings, now=later).sent == first.retrying
    [message] = sink.messages
    assert "replied to you" in message.get_content() and "/notifications/" in message.get_content()


def test_attempts_run_out_into_failed(mail_ctx):
    sessions, settings, sink = mail_ctx
    sink.stop()
    settings = settings.replace(MAIL_MAX_ATTEMPTS=2)
    with sessions.begin() as session:
        queue_mail(session, "ana@example.org", "s", "b")
    drain_outbox(sessions, settings)
    report = drain_outbox(sessions, settings, now=utcnow() + timedelta(hours=2))
    assert len(report.failed) == 1


def test_two_drainers_send_a_message_once(mail_ctx):
    sessions, settings, sink = mail_ctx
    with sessions.begin() as session:
        for n in range(5):
            queue_mail(session, f"m{n}@example.org", "s", "b")
    import threading

    reports = []
    threads = [threading.Thread(target=lambda: reports.append(drain_outbox(sessions, settings))) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(i for r in reports for i in r.sent) == sorted({i for r in reports for i in r.sent})
    assert len(sink.messages) == 5


def test_bad_address_is_refused(ctx):
    with ctx.sessions() as session, pytest.raises(ClinexError, match="not an email address"):
        queue_mail(session, "nobody\r\nBcc: x@y.z", "s", "b")


def test_embedded_mailbox_without_a_server(ctx, settings):
    with ctx.sessions.begin() as session:
        user = _member(session)
        notify_many(session, [user.id], "mention", "Dr. Bo mentioned you", "/episodes/x#c2")
    assert deliver_mail(ctx.sessions, settings, digests=False).sent
    [entry] = list_mailbox(settings)
    assert entry.to == "ana@example.org" and "mentioned you" in entry.subject and "/notifications/" in entry.body
    assert (settings.instance_path / "mailbox" / "new").is_dir()  # a Maildir any mail reader opens


def test_digest_gathers_daily_notifications_once(ctx, settings):
    with ctx.sessions.begin() as session:
        user = _member(session)
        for n in range(3):
            notify_many(session, [user.id], "new_episode", f"New episode: “Talk {n}”", f"/episodes/t{n}")
        assert queue_instant_mail(session, settings) == 0  # new episodes default to the daily digest
        report = queue_digests(session, settings, "daily")
        assert (report.members, report.items) == (1, 3)
        assert queue_digests(session, settings, "daily").members == 0
        [digest] = session.query(OutboxMessage).all()
        assert "Talk 0" in digest.body and "Talk 2" in digest.body and "/notifications/unsubscribe/" in digest.body
        assert {n.email for n in session.query(Notification)} == {"sent"}


def test_a_mail_round_makes_each_digest_once_per_period(ctx, settings):
    with ctx.sessions.begin() as session:
        user = _member(session)
        notify_many(session, [user.id], "new_episode", "New episode: “Talk”", "/episodes/t")
    first = deliver_mail(ctx.sessions, settings)
    assert len(first.sent) == 1 and "daily digest" in list_mailbox(settings)[0].subject
    with ctx.sessions.begin() as session:
        notify_many(session, [session.query(User).one().id], "new_episode", "New episode: “Next”", "/episodes/n")
    assert deliver_mail(ctx.sessions, settings).sent == []  # the day is not over: it waits
    with ctx.sessions() as session:
        assert session.query(Notification).filter_by(email="daily").count() == 1


def test_a_dead_server_ends_the_drain_and_every_message_waits(mail_ctx):
    sessions, settings, sink = mail_ctx
    with sessions.begin() as session:
        for n in range(3):
            queue_mail(session, f"m{n}@example.org", f"s{n}", "b")
    sink.stop()
    report = drain_outbox(sessions, settings)
    assert len(report.retrying) == 3 and not report.sent  # one connection attempt, the rest put back
    sink.start()
    later = drain_outbox(sessions, settings, now=utcnow() + timedelta(minutes=2))
    assert len(later.sent) == 3 and sorted(m["To"] for m in sink.messages) == [f"m{n}@example.org" for n in range(3)]
