"""Running one job: claim it, run its step (``pipeline.flow`` names the handler), record the
outcome, and queue what the flow says comes next.

Each step is idempotent and resumable; progress, attempts and errors live on the Job row.
How jobs are delivered (Celery on SQLite or Redis, or inline for ``clinex ingest --wait``) is
``pipeline.jobs.delivery``'s business: ``run_job`` returns the IDs of the jobs that became ready,
to dispatch after the commit.

One run at a time: a worker takes a job with a compare-and-set UPDATE (``queued`` -> ``running``
under its own name), so a second delivery of the same message, or a second worker, finds nothing
to take. While the step runs, a thread writes ``heartbeat_at`` every ``HEARTBEAT_SECONDS``; a job
whose heartbeat stops is put back in the queue by ``jobs.recovery.recover_jobs`` (which workers run on
start and every few minutes), again with a compare-and-set, and the worker that lost it stops at
its next progress report instead of finishing a step someone else now owns.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable

from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..errors import ClinexError, StorageError
from ..flow import flow_for, handler_for
from ..models import Episode, EpisodeStatus, Job, JobKind, JobState, utcnow
from ..workflow import transition
from .context import JobContext

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (StorageError, OperationalError, ConnectionError, TimeoutError)
HEARTBEAT_SECONDS = 30.0  # a running job's heartbeat_at is never older than this while its worker lives
# Any process that runs jobs imports this module first: a job under this process's name that
# started earlier was run by an earlier process that had the same PID.
PROCESS_STARTED = utcnow()
Progress = Callable[[float], None]


class TransientJobError(Exception):
    """A job failed in a way a retry may fix; the message says what happened."""


class JobTakenOver(Exception):
    """This worker no longer owns the job: it was put back in the queue as stale (the heartbeat
    could not be written for too long) and may be running elsewhere."""


def worker_name() -> str:
    """Who runs a job, as stored in Job.worker: host and process ID."""
    return f"{socket.gethostname()}:{os.getpid()}"


def queue_first_steps(session: Session, episode: Episode) -> list[Job]:
    """Create the jobs that start a freshly stored episode's flow (caller commits, then dispatches)."""
    jobs = [Job(episode_id=episode.id, kind=kind.value) for kind in flow_for(episode).first_steps()]
    session.add_all(jobs)
    session.flush()
    return jobs


def run_job(ctx: JobContext, job_id: int, on_progress: Progress | None = None, **options) -> list[int]:
    """Run one queued job to completion; returns follow-up job IDs to dispatch.

    A job that is not queued (running in another worker, finished, failed for good) is left
    alone. A ClinexError other than StorageError fails the job and the episode for good (its
    message is shown to the summarizer). Transient failures raise TransientJobError, leaving the
    job queued for a retry; the caller calls ``fail_job`` when it gives up. ``options`` go to
    the step (the editor and note of a publish job run by hand).
    """
    me = worker_name()
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None or job.state != JobState.queued.value:
            return []
        episode = session.get(Episode, job.episode_id)
        if episode.status != EpisodeStatus.processing.value and job.kind != JobKind.publish.value:
            return []
        if not claim_job(session, job_id, me):
            return []  # another worker took it between our read and our claim
        session.commit()
    return run_claimed_job(ctx, job_id, me, on_progress, **options)


def claim_job(session: Session, job_id: int, worker: str) -> bool:
    """Take a queued job for ``worker`` (compare-and-set on its state); False when it was not
    queued any more. The caller commits."""
    now = utcnow()
    taken = session.execute(
        update(Job).where(Job.id == job_id, Job.state == JobState.queued.value)
        .values(state=JobState.running.value, attempts=Job.attempts + 1, error=None, worker=worker,
                started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def run_claimed_job(ctx: JobContext, job_id: int, worker: str, on_progress: Progress | None = None,
                    **options) -> list[int]:
    """Run the step of a job this worker has claimed (see ``claim_job``); as ``run_job``."""
    with ctx.sessions() as session, _Heartbeat(ctx, job_id, worker) as heartbeat:
        job = session.get(Job, job_id)
        episode = session.get(Episode, job.episode_id)
        report = _progress_reporter(heartbeat, on_progress)
        try:
            handler_for(job.kind)(ctx, session, episode, report, **options)
            _fence(session, job_id, worker)
        except JobTakenOver:
            session.rollback()
            log.warning("job %s was requeued while %s ran it; leaving it to its new worker", job_id, worker)
            return []
        except TRANSIENT_ERRORS as exc:
            session.rollback()
            _release(ctx, job_id, worker, state=JobState.queued.value, error=str(exc))
            raise TransientJobError(str(exc)) from exc
        except ClinexError as exc:
            session.rollback()
            fail_job(ctx, job_id, str(exc), worker=worker)
            return []
        session.commit()
    if not _release(ctx, job_id, worker, state=JobState.succeeded.value, progress=1.0, finished_at=utcnow()):
        log.warning("job %s finished in %s after it had been requeued", job_id, worker)
        return []
    return advance(ctx, job_id)


def fail_job(ctx: JobContext, job_id: int, message: str, worker: str | None = None) -> None:
    """Mark a job failed for good and the episode failed with the job's message as the reason.
    With ``worker``, only while that worker still runs the job (its failure is not another's)."""
    with ctx.sessions.begin() as session:
        mine = [Job.worker == worker, Job.state == JobState.running.value] if worker else []
        done = session.execute(update(Job).where(Job.id == job_id, *mine)
                               .values(state=JobState.failed.value, error=message, finished_at=utcnow()))
        if done.rowcount != 1:
            return
        job = session.get(Job, job_id)
        episode = session.get(Episode, job.episode_id)
        if episode.status == EpisodeStatus.processing.value:
            transition(session, episode, EpisodeStatus.failed, reason=f"{job.kind.replace('_', ' ')}: {message}")


def advance(ctx: JobContext, job_id: int) -> list[int]:
    """After a job succeeds: queue the steps the flow says are ready now; after the flow's last
    step, put the episode in review. The episode row is locked first so two workers finishing at
    the same moment cannot both queue the next step."""
    with ctx.sessions.begin() as session:
        job = session.get(Job, job_id)
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before anything is read.
        session.execute(update(Episode).where(Episode.id == job.episode_id).values(updated_at=utcnow()))
        episode = session.get(Episode, job.episode_id)
        if episode.status != EpisodeStatus.processing.value:
            return []
        flow = flow_for(episode)
        if flow.is_last(job.kind):
            transition(session, episode, flow.done, reason="processing finished")
            return []
        ready = [Job(episode_id=episode.id, kind=kind.value) for kind in flow.ready_after(job.kind, latest_jobs(session, episode.id))]
        session.add_all(ready)
        session.flush()
        return [new.id for new in ready]


def latest_jobs(session: Session, episode_id: int) -> dict[str, Job]:
    """Each kind's newest job of an episode."""
    jobs = session.scalars(select(Job).where(Job.episode_id == episode_id).order_by(Job.id))
    return {job.kind: job for job in jobs}


def requeue_failed(ctx: JobContext, episode_id: int, actor=None) -> list[int]:
    """Retry an episode's failed jobs (an editor's "retry"); returns job IDs to dispatch."""
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        # A failed publish job is an editor's approval that did not go through: approving again
        # publishes; processing it again would fail the episode.
        failed = [j for j in session.scalars(select(Job).where(Job.episode_id == episode_id))
                  if j.state in (JobState.failed.value, JobState.queued.value) and j.kind != JobKind.publish.value]
        transition(session, episode, EpisodeStatus.processing, actor=actor, reason="retry")
        for job in failed:
            job.state, job.error, job.progress = JobState.queued.value, None, 0.0
        if not failed:
            failed = queue_first_steps(session, episode)
        session.flush()
        return [j.id for j in failed]


def _fence(session: Session, job_id: int, worker: str) -> None:
    """Check, in the step's own transaction, that the job is still this worker's; the row stays
    locked until the step's work commits, so no requeue can slip in between."""
    mine = session.execute(update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == JobState.running.value)
                           .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
    if mine.rowcount != 1:
        raise JobTakenOver(f"job {job_id} is no longer run by {worker}")


def _release(ctx: JobContext, job_id: int, worker: str, **values) -> bool:
    """Update a job this worker runs; False (and nothing changed) when it is not its own any more."""
    with ctx.sessions.begin() as session:
        done = session.execute(update(Job).where(Job.id == job_id, Job.worker == worker,
                                                 Job.state == JobState.running.value).values(**values))
        return done.rowcount == 1


class _Heartbeat:
    """Keeps a running job's heartbeat fresh from a thread (steps can go minutes without a
    progress report: loading a model, a loudness pass, an upload) and notices when the job was
    taken away; ``check`` then raises JobTakenOver."""

    def __init__(self, ctx: JobContext, job_id: int, worker: str, every: float = HEARTBEAT_SECONDS):
        self.ctx, self.job_id, self.worker, self.every = ctx, job_id, worker, every
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()

    def beat(self, progress: float | None = None) -> None:
        if _record_progress(self.ctx, self.job_id, self.worker, progress) is False:
            self.lost = True

    def check(self) -> None:
        if self.lost:
            raise JobTakenOver(f"job {self.job_id} is no longer run by {self.worker}")


def _progress_reporter(heartbeat: _Heartbeat, on_progress: Progress | None) -> Progress:
    last = [0.0]

    def report(fraction: float) -> None:
        heartbeat.check()
        fraction = min(max(fraction, 0.0), 1.0)
        if on_progress:
            on_progress(fraction)
        now = time.monotonic()
        if now - last[0] >= 1.0:  # one small write a second at most, in its own transaction
            last[0] = now
            heartbeat.beat(fraction)

    return report


def _record_progress(ctx: JobContext, job_id: int, worker: str, fraction: float | None) -> bool | None:
    """Write the heartbeat (and progress, if given) of a job ``worker`` runs. True when written,
    False when the job is not this worker's any more, None when skipped: progress is advisory,
    so when the step itself holds SQLite's write lock this update is dropped (after a short
    wait) instead of stalling or failing the job."""
    values = {"heartbeat_at": utcnow(), **({"progress": fraction} if fraction is not None else {})}
    with ctx.sessions() as session:
        sqlite = session.bind.dialect.name == "sqlite"
        try:
            if sqlite:
                session.execute(text("PRAGMA busy_timeout=200"))
            done = session.execute(update(Job).where(Job.id == job_id, Job.worker == worker,
                                                     Job.state == JobState.running.value).values(**values))
            session.commit()
            return done.rowcount == 1
        except OperationalError as exc:
            session.rollback()
            log.debug("progress of job %s not recorded this time: %s", job_id, exc)
            return None
        finally:
            if sqlite:
                session.execute(text("PRAGMA busy_timeout=30000"))
                session.commit()
