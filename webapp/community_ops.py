"""What ``clinex mail`` does, as plain functions (the CLI only translates)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.community.delivery import queue_digests
from pipeline.community.mail import DrainReport, MailboxEntry, drain_outbox, list_mailbox, retry_failed
from pipeline.settings import Settings

from .context import job_context
from .mail_rounds import mail_round


@dataclass
class MailRun:
    retried: int = 0
    digest: str | None = None
    digest_members: int = 0
    report: DrainReport | None = None
    mailbox: list[MailboxEntry] = field(default_factory=list)


def mail(settings: Settings | None = None, *, send: bool = False, digest: str | None = None,
         retry: bool = False) -> MailRun:
    """List the embedded mailbox, after (as asked) queueing failed mail again, making a digest
    now, and running a mail round (reminders, instant mail, due digests, the outbox)."""
    ctx = job_context(settings)
    run = MailRun(digest=digest)
    with ctx.sessions.begin() as session:
        if retry:
            run.retried = retry_failed(session)
        if digest:
            run.digest_members = queue_digests(session, ctx.settings, digest).members
    if send:
        run.report = mail_round(ctx.settings)
    elif digest or retry:
        run.report = drain_outbox(ctx.sessions, ctx.settings)
    run.mailbox = list_mailbox(ctx.settings)
    return run
