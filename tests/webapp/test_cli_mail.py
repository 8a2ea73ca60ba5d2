"""``clinex mail``: the embedded mailbox listed, a mail round and a digest on demand, bad input."""

from __future__ import annotations

import json

from pipeline.community.notifications import notify_many
from pipeline.models import User

from .test_cli import _one_line_error, cli  # noqa: F401  (the fixture)


def _member_with_news(ctx, kind="reply"):
    with ctx.sessions.begin() as session:
        user = User(email="ana@example.org", display_name="Dr. Ana", password_hash="x", role="listener")
        session.add(user)
        session.flush()
        notify_many(session, [user.id], kind, f"Dr. Bo {kind} news", "/episodes/x#c1")


def test_empty_mailbox_says_so(cli):
    result = cli("mail")
    assert result.exit_code == 0 and "The mailbox is empty" in result.output


def test_send_then_list(cli, ctx):
    _member_with_news(ctx)
    result = cli("mail", "--send")
    assert result.exit_code == 0 and "Sent 1," in result.output and "ana@example.org" in result.output
    [entry] = json.loads(cli("mail", "--json").output)
    assert entry["to"] == "ana@example.org" and "/notifications/" in entry["body"]


def test_digest_on_demand(cli, ctx):
    _member_with_news(ctx, kind="new_episode")  # waits for the daily digest by default
    result = cli("mail", "--digest", "daily")
    assert result.exit_code == 0 and "Digest for 1 member(s)" in result.output and "daily digest" in result.output


def test_bad_digest_period_is_one_line(cli):
    result = cli("mail", "--digest", "hourly")
    assert result.exit_code == 2 and "hourly" in result.output and "Traceback" not in result.output


def test_bad_tls_setting_is_one_line(cli, ctx, monkeypatch):
    _member_with_news(ctx)
    monkeypatch.setenv("CLINEX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLINEX_SMTP_TLS", "sometimes")
    _one_line_error(cli("mail", "--send"), "CLINEX_SMTP_TLS must be one of")
    from pipeline.community.models import OutboxMessage

    with ctx.sessions() as session:
        assert [m.state for m in session.query(OutboxMessage)] == ["queued"]  # not taken, not lost
