"""Jobs: the steps of the episode flow (``pipeline.flow``) run as rows of the Job table.

    context   JobContext (settings, sessions, storage, hooks) and the per-process cache
    runner    claim a job, run its step with a heartbeat, record the outcome, queue what follows
    delivery  one retry policy; ``deliver`` for any carrier (Celery, inline); InlineDispatcher
    recovery  jobs of dead workers back in the queue, stuck episodes moved on

May import: the rest of ``pipeline``; never ``webapp`` (Celery is an adapter there).
"""

from .context import JobContext, job_context
from .delivery import INLINE_POLICY, WORKER_POLICY, Delivery, InlineDispatcher, RetryPolicy, deliver, internal_error_message
from .recovery import RecoveryReport, recover_jobs
from .runner import (HEARTBEAT_SECONDS, PROCESS_STARTED, JobTakenOver, TransientJobError, advance, claim_job,
                     fail_job, latest_jobs, queue_first_steps, requeue_failed, run_claimed_job, run_job, worker_name)

__all__ = [
    "JobContext", "job_context", "INLINE_POLICY", "WORKER_POLICY", "Delivery", "InlineDispatcher", "RetryPolicy",
    "deliver", "internal_error_message", "RecoveryReport", "recover_jobs", "HEARTBEAT_SECONDS", "PROCESS_STARTED",
    "JobTakenOver", "TransientJobError", "advance", "claim_job", "fail_job", "latest_jobs", "queue_first_steps",
    "requeue_failed", "run_claimed_job", "run_job", "worker_name",
]
