"""Celery: the app shares the clinex settings; one task runs any job by ID."""

from __future__ import annotations

import logging

from celery import Celery

from pipeline.jobs import TransientJobError, fail_job, run_job
from pipeline.settings import Settings

from .context import internal_error_message, job_context

log = logging.getLogger(__name__)
MAX_RETRIES = 5
LONGEST_JOB_SECONDS = 6 * 3600


def _transport_options(broker_url: str) -> dict:
    """kombu's SQLAlchemy transport hands every option to create_engine (which refuses them) and
    has no visibility timeout: a message taken by a worker that is killed is recovered by
    ``clinex doctor --fix``, not by the broker."""
    if broker_url.startswith("sqla+"):
        return {}
    return {"polling_interval": 0.5, "visibility_timeout": LONGEST_JOB_SECONDS + 3600}


def create_celery(settings: Settings) -> Celery:
    celery = Celery("clinex", broker=settings.BROKER_URL, set_as_current=False)
    celery.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a job whose worker dies is delivered again, not lost
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings.BROKER_URL),
        worker_hijack_root_logger=False,
        task_default_queue="clinex",
    )
    celery.clinex_settings = settings

    @celery.task(bind=True, name="clinex.run_job", max_retries=MAX_RETRIES)
    def run_job_task(self, job_id: int) -> None:
        ctx = job_context(self.app.clinex_settings)
        try:
            follow_ups = run_job(ctx, job_id)
        except TransientJobError as exc:
            if self.request.retries >= MAX_RETRIES:
                fail_job(ctx, job_id, f"gave up after {MAX_RETRIES + 1} attempts: {exc}")
                return
            raise self.retry(exc=exc, countdown=min(300, 5 * 2 ** self.request.retries))
        except Exception as exc:  # a bug: fail visibly instead of leaving the episode in processing
            log.exception("job %s crashed", job_id)
            fail_job(ctx, job_id, internal_error_message(exc))
            raise
        for next_id in follow_ups:
            self.app.send_task("clinex.run_job", args=[next_id])

    return celery


def start_worker(settings: Settings, concurrency: int = 1, loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped."""
    celery = create_celery(settings)
    celery.worker_main(["worker", f"--concurrency={concurrency}", "--pool=solo" if concurrency == 1 else "--pool=prefork",
                        f"--loglevel={loglevel}", "-Q", "clinex", "--without-gossip", "--without-mingle"])
