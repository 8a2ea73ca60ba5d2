"""Background work on episodes, as plain functions that take IDs.

Each job kind is idempotent and resumable; progress, attempts and errors live on the Job row.
How jobs are delivered (Celery on SQLite or Redis, or inline for ``clinex ingest --wait``) is the
caller's business: ``run_job`` returns the IDs of the jobs that became ready, to dispatch after
the commit.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .errors import ClinexError, StorageError
from .models import Episode, EpisodeStatus, Job, JobState, utcnow
from .settings import Settings
from .storage import Storage
from .workflow import transition

log = logging.getLogger(__name__)

PROCESSING_KINDS = ("prepare_audio", "transcribe")
TRANSIENT_ERRORS = (StorageError, OperationalError, ConnectionError, TimeoutError)
Progress = Callable[[float], None]


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    storage: Storage


class TransientJobError(Exception):
    """A job failed in a way a retry may fix; the message says what happened."""


def queue_processing(session: Session, episode: Episode) -> list[Job]:
    """Create the jobs that process a freshly stored recording (caller commits, then dispatches)."""
    jobs = [Job(episode_id=episode.id, kind=kind) for kind in PROCESSING_KINDS]
    session.add_all(jobs)
    session.flush()
    return jobs


def run_job(ctx: JobContext, job_id: int, on_progress: Progress | None = None) -> list[int]:
    """Run one job to completion; returns follow-up job IDs to dispatch.

    A ClinexError other than StorageError fails the job and the episode for good (its message is
    shown to the summarizer). Transient failures raise TransientJobError, leaving the job queued
    for a retry; the caller calls ``fail_job`` when it gives up.
    """
    from . import steps

    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None or job.state == JobState.succeeded.value:
            return []
        episode = session.get(Episode, job.episode_id)
        if episode.status not in (EpisodeStatus.processing.value,) and job.kind != "publish":
            return []
        job.state, job.attempts, job.error = JobState.running.value, job.attempts + 1, None
        job.started_at = job.heartbeat_at = utcnow()
        job.worker = f"{socket.gethostname()}:{os.getpid()}"
        session.commit()
        report = _progress_reporter(ctx, job_id, on_progress)
        try:
            steps.HANDLERS[job.kind](ctx, session, episode, report)
        except TRANSIENT_ERRORS as exc:
            session.rollback()
            _set_job(ctx, job_id, state=JobState.queued.value, error=str(exc))
            raise TransientJobError(str(exc)) from exc
        except ClinexError as exc:
            session.rollback()
            fail_job(ctx, job_id, str(exc))
            return []
        session.commit()
    _set_job(ctx, job_id, state=JobState.succeeded.value, progress=1.0, finished_at=utcnow())
    return advance(ctx, job_id)


def fail_job(ctx: JobContext, job_id: int, message: str) -> None:
    """Mark a job failed for good and the episode failed with the job's message as the reason."""
    with ctx.sessions.begin() as session:
        job = session.get(Job, job_id)
        job.state, job.error, job.finished_at = JobState.failed.value, message, utcnow()
        episode = session.get(Episode, job.episode_id)
        if episode.status == EpisodeStatus.processing.value:
            transition(session, episode, EpisodeStatus.failed, reason=f"{job.kind.replace('_', ' ')}: {message}")


def advance(ctx: JobContext, job_id: int) -> list[int]:
    """After a job succeeds: queue analysis once both processing jobs are done; after analysis,
    put the episode in review. The episode row is locked first so two workers finishing at the
    same moment cannot both queue the next step."""
    with ctx.sessions.begin() as session:
        job = session.get(Job, job_id)
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before anything is read.
        session.execute(update(Episode).where(Episode.id == job.episode_id).values(updated_at=utcnow()))
        episode = session.get(Episode, job.episode_id)
        if episode.status != EpisodeStatus.processing.value:
            return []
        jobs = list(session.scalars(select(Job).where(Job.episode_id == episode.id)))
        latest = {j.kind: j for j in sorted(jobs, key=lambda j: j.id)}
        if job.kind in PROCESSING_KINDS:
            done = all(latest.get(k) and latest[k].state == JobState.succeeded.value for k in PROCESSING_KINDS)
            analyze = latest.get("analyze")
            if done and (analyze is None or analyze.id < max(latest[k].id for k in PROCESSING_KINDS)):
                new = Job(episode_id=episode.id, kind="analyze")
                session.add(new)
                session.flush()
                return [new.id]
        elif job.kind == "analyze":
            transition(session, episode, EpisodeStatus.in_review, reason="processing finished")
    return []


def requeue_failed(ctx: JobContext, episode_id: int, actor=None) -> list[int]:
    """Retry an episode's failed jobs (an editor's "retry"); returns job IDs to dispatch."""
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        failed = [j for j in session.scalars(select(Job).where(Job.episode_id == episode_id))
                  if j.state in (JobState.failed.value, JobState.queued.value)]
        transition(session, episode, EpisodeStatus.processing, actor=actor, reason="retry")
        for job in failed:
            job.state, job.error, job.progress = JobState.queued.value, None, 0.0
        if not failed:
            failed = queue_processing(session, episode)
        session.flush()
        return [j.id for j in failed]


def _set_job(ctx: JobContext, job_id: int, **values) -> None:
    with ctx.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def _progress_reporter(ctx: JobContext, job_id: int, on_progress: Progress | None) -> Progress:
    last = [0.0]

    def report(fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if on_progress:
            on_progress(fraction)
        now = time.monotonic()
        if now - last[0] >= 1.0:  # one small write a second at most, in its own transaction
            last[0] = now
            _record_progress(ctx, job_id, fraction)

    return report


def _record_progress(ctx: JobContext, job_id: int, fraction: float) -> None:
    """Progress is advisory: when the step itself holds SQLite's write lock, skip this update
    (after a short wait) instead of stalling or failing the job."""
    with ctx.sessions() as session:
        sqlite = session.bind.dialect.name == "sqlite"
        try:
            if sqlite:
                session.execute(text("PRAGMA busy_timeout=200"))
            session.execute(update(Job).where(Job.id == job_id).values(progress=fraction, heartbeat_at=utcnow()))
            session.commit()
        except OperationalError as exc:
            session.rollback()
            log.debug("progress of job %s not recorded this time: %s", job_id, exc)
        finally:
            if sqlite:
                session.execute(text("PRAGMA busy_timeout=30000"))
                session.commit()
