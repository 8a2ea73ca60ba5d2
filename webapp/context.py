"""The pieces every face of the app shares: settings, database sessions, storage, job delivery."""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from pipeline.db import session_factory
from pipeline.jobs import JobContext, TransientJobError, fail_job, run_job
from pipeline.settings import Settings, ensure_instance, load_settings
from pipeline.storage import storage_from_settings

log = logging.getLogger(__name__)
_contexts: dict[tuple, JobContext] = {}


def job_context(settings: Settings | None = None) -> JobContext:
    """One context per distinct configuration, reused for the life of the process."""
    settings = ensure_instance(settings or load_settings())
    key = tuple(sorted((k, str(v)) for k, v in settings.values.items()))
    if key not in _contexts:
        _contexts[key] = JobContext(settings=settings, sessions=session_factory(settings.DATABASE_URL),
                                    storage=storage_from_settings(settings))
    return _contexts[key]


def internal_error_message(exc: BaseException) -> str:
    return f"an internal error stopped this step ({type(exc).__name__}); an editor can retry it"


class InlineDispatcher:
    """Runs jobs in this process, one after the other (``clinex ingest --wait``, tests)."""

    def __init__(self, ctx: JobContext, on_progress: Callable[[int, float], None] | None = None, attempts: int = 3):
        self.ctx, self.on_progress, self.attempts = ctx, on_progress, attempts

    def dispatch(self, job_ids: Iterable[int]) -> None:
        pending = list(job_ids)
        while pending:
            job_id = pending.pop(0)
            pending.extend(self._run(job_id))

    def _run(self, job_id: int) -> list[int]:
        hook = (lambda f: self.on_progress(job_id, f)) if self.on_progress else None
        for attempt in range(1, self.attempts + 1):
            try:
                return run_job(self.ctx, job_id, hook)
            except TransientJobError as exc:
                if attempt == self.attempts:
                    fail_job(self.ctx, job_id, f"gave up after {attempt} attempts: {exc}")
                    return []
                log.warning("job %s attempt %s failed, retrying: %s", job_id, attempt, exc)
            except Exception as exc:  # a bug: fail the job visibly rather than leave it running
                log.exception("job %s crashed", job_id)
                fail_job(self.ctx, job_id, internal_error_message(exc))
                return []
        return []


class CeleryDispatcher:
    """Queues jobs on the Celery broker; workers pick them up.

    A broker that cannot be reached does not fail the upload or approval that queued the jobs:
    they are committed as ``queued`` Job rows, and a worker's recovery (``doctor.recover_jobs``)
    sends them again once they have waited ``CLINEX_STALE_JOB_SECONDS``."""

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
