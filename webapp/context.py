"""The core's job context as the web package uses it: with the web's hooks installed (the WebSub
ping after the feeds change, the episode page's address for the MP3's tags), and Celery as the
way jobs are delivered."""

from __future__ import annotations

import logging
from typing import Iterable

from pipeline.jobs import JobContext, job_context
from pipeline.settings import Settings

from .websub import announce_changed_feeds

log = logging.getLogger(__name__)


def web_context(settings: Settings | None = None) -> JobContext:
    """The process's context for these settings (``pipeline.jobs.job_context``), hooks installed."""
    ctx = job_context(settings)
    ctx.on_feeds_changed(announce_changed_feeds)
    ctx.page_url = episode_page_url(ctx.settings)
    return ctx


def episode_page_url(settings: Settings):
    base = settings.BASE_URL

    def page_url(slug: str) -> str:
        return f"{base}/episodes/{slug}"

    return page_url


class CeleryDispatcher:
    """Queues jobs on the Celery broker; workers pick them up.

    A broker that cannot be reached does not fail the upload or approval that queued the jobs:
    they are committed as ``queued`` Job rows, and a worker's recovery (``jobs.recovery``) sends
    them again once they have waited ``CLINEX_STALE_JOB_SECONDS``."""

    def __init__(self, celery):
        self.celery = celery

    def dispatch(self, job_ids: Iterable[int]) -> None:
        from kombu.exceptions import OperationalError

        pending = list(job_ids)
        for n, job_id in enumerate(pending):
            try:
                self.celery.send_task("clinex.run_job", args=[job_id])
            except OperationalError as exc:
                log.warning("The job queue cannot be reached (%s); job(s) %s stay queued and a worker sends "
                            "them once the queue is back.", exc, ", ".join(map(str, pending[n:])))
                return
