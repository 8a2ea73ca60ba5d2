"""A thread in each worker that, every minute, sends due reminders for claimed sessions,
queues instant mail and due digests, and drains the outbox (retrying what a dead mail server
refused). Every step is safe to run from many workers at once."""

from __future__ import annotations

import logging
import threading

from pipeline.community.calls import send_reminders
from pipeline.community.delivery import deliver_mail
from pipeline.settings import Settings

from .context import job_context

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


def mail_round(settings: Settings):
    """One round: reminders, then mail; returns the outbox's DrainReport."""
    ctx = job_context(settings)
    with ctx.sessions.begin() as session:
        send_reminders(session)
    return deliver_mail(ctx.sessions, ctx.settings)


class MailRounds:
    def __init__(self, settings: Settings, every: float = EVERY_SECONDS):
        self.settings, self.every = settings, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clinex-mail-rounds", daemon=True)

    def start(self, **_signal) -> None:
        self._thread.start()

    def stop(self, **_signal) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                mail_round(self.settings)
            except Exception:  # the database may be away for a while; the next round tries again
                log.exception("mail round failed; trying again in a minute")
