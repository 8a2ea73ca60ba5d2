"""Delivering jobs: one retry policy for every way a job is run, and the inline dispatcher.

``deliver`` runs one delivery of a job and says what the policy wants next: the follow-up jobs
to send, or a delay before the next attempt of a transient failure. Celery's task
(``webapp.celery_app``) and ``InlineDispatcher`` (``clinex ingest --wait``, tests) both use it,
so a job fails for good after the same number of attempts, with the same message, whichever
carries it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .context import JobContext
from .runner import TransientJobError, fail_job, run_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transient failure (storage or database away) is retried, and how long apart:
    ``first_delay`` seconds, doubling, at most ``longest_delay``."""

    attempts: int = 6
    first_delay: float = 5.0
    longest_delay: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.longest_delay, self.first_delay * 2 ** (attempt - 1))


WORKER_POLICY = RetryPolicy()
# In a person's terminal (and in tests) nobody waits minutes for a retry: three quick tries.
INLINE_POLICY = RetryPolicy(attempts=3, first_delay=0.0)


@dataclass
class Delivery:
    follow_ups: list[int] = field(default_factory=list)
    retry_in: float | None = None  # seconds before the next attempt; None when the job is settled


def internal_error_message(exc: BaseException) -> str:
    return f"an internal error stopped this step ({type(exc).__name__}); an editor can retry it"


def deliver(ctx: JobContext, job_id: int, attempt: int, policy: RetryPolicy = WORKER_POLICY,
            on_progress: Callable[[float], None] | None = None) -> Delivery:
    """Run attempt number ``attempt`` (1-based) of a job. A transient failure asks for a retry
    until the policy's attempts are used up, then fails the job; a bug (any other exception)
    fails the job at once with a message an editor can act on, and is logged with its traceback."""
    try:
        return Delivery(run_job(ctx, job_id, on_progress))
    except TransientJobError as exc:
        if attempt >= policy.attempts:
            fail_job(ctx, job_id, f"gave up after {attempt} attempts: {exc}")
            return Delivery()
        log.warning("job %s attempt %s failed, retrying: %s", job_id, attempt, exc)
        return Delivery(retry_in=policy.delay(attempt))
    except Exception as exc:  # a bug: fail the job visibly rather than leave the episode in processing
        log.exception("job %s crashed", job_id)
        fail_job(ctx, job_id, internal_error_message(exc))
        return Delivery()


class InlineDispatcher:
    """Runs jobs in this process, one after the other, with the inline retry policy."""

    def __init__(self, ctx: JobContext, on_progress: Callable[[int, float], None] | None = None,
                 policy: RetryPolicy = INLINE_POLICY):
        self.ctx, self.on_progress, self.policy = ctx, on_progress, policy

    def dispatch(self, job_ids: Iterable[int]) -> None:
        pending = list(job_ids)
        while pending:
            pending.extend(self._run(pending.pop(0)))

    def _run(self, job_id: int) -> list[int]:
        hook = (lambda f: self.on_progress(job_id, f)) if self.on_progress else None
        for attempt in range(1, self.policy.attempts + 1):
            outcome = deliver(self.ctx, job_id, attempt, self.policy, hook)
            if outcome.retry_in is None:
                return outcome.follow_ups
            time.sleep(outcome.retry_in)
        return []
