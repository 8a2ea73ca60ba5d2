"""Celery: the app shares the clinex settings; one task runs any job by ID. A worker also puts
back in the queue, on start and every few minutes, the jobs of workers that died."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import Celery, signals

from pipeline.jobs import WORKER_POLICY, deliver, recover_jobs
from pipeline.settings import Settings

from .context import web_context

log = logging.getLogger(__name__)
LONGEST_JOB_SECONDS = 6 * 3600


def _transport_options(broker_url: str) -> dict:
    """kombu's SQLAlchemy transport hands every option to create_engine (which refuses them) and
    has no visibility timeout: a message taken by a worker that is killed is never delivered
    again; the next worker's ``JobRecovery`` requeues the job and sends it anew."""
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

    @celery.task(bind=True, name="clinex.run_job", max_retries=WORKER_POLICY.attempts - 1)
    def run_job_task(self, job_id: int) -> None:
        """One delivery of a job; the retry policy is the core's (``pipeline.jobs.deliver``)."""
        outcome = deliver(web_context(self.app.clinex_settings), job_id, attempt=self.request.retries + 1)
        if outcome.retry_in is not None:
            raise self.retry(countdown=outcome.retry_in)
        for next_id in outcome.follow_ups:
            self.app.send_task("clinex.run_job", args=[next_id])

    return celery


class JobRecovery:
    """A thread in the worker's main process that runs ``jobs.recover_jobs`` when the worker is
    ready and then every ``every`` seconds, and sends the requeued jobs. Requeues are
    compare-and-set, so any number of workers can do this at once."""

    def __init__(self, celery: Celery, every: float | None = None):
        self.celery = celery
        self.stale_after = timedelta(seconds=celery.clinex_settings.STALE_JOB_SECONDS)
        self.every = every or recovery_interval(celery.clinex_settings.STALE_JOB_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clinex-job-recovery", daemon=True)

    def start(self, **_signal) -> None:
        self._thread.start()

    def stop(self, **_signal) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                self.recover_once()
            except Exception:  # the database may be away for a while; the next round tries again
                log.exception("could not check for jobs of stopped workers")
            if self._stop.wait(self.every):
                return

    def recover_once(self) -> list[int]:
        report = recover_jobs(web_context(self.celery.clinex_settings), self.stale_after)
        for action in report.actions:
            log.warning("recovery: %s", action)
        for job_id in report.dispatch:
            self.celery.send_task("clinex.run_job", args=[job_id])
        return report.dispatch


def recovery_interval(stale_seconds: float) -> float:
    """How often a worker looks for stale jobs: a few times per staleness period, at most every
    five minutes, at least every ten seconds."""
    return max(10.0, min(300.0, stale_seconds / 3))


def start_worker(settings: Settings, concurrency: int = 1, loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped, recovering dead workers' jobs."""
    celery = create_celery(settings)
    recovery = JobRecovery(celery)
    signals.worker_ready.connect(recovery.start, weak=False)
    signals.worker_shutdown.connect(recovery.stop, weak=False)
    from .mail_rounds import MailRounds  # notification mail: reminders, digests, outbox retries

    mail = MailRounds(settings)
    signals.worker_ready.connect(mail.start, weak=False)
    signals.worker_shutdown.connect(mail.stop, weak=False)
    celery.worker_main(["worker", f"--concurrency={concurrency}", "--pool=solo" if concurrency == 1 else "--pool=prefork",
                        f"--loglevel={loglevel}", "-Q", "clinex", "--without-gossip", "--without-mingle"])
