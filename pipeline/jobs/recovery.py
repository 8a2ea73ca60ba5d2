"""Jobs whose worker died, and episodes whose next step was never queued: found and put right.

``recover_jobs`` is what a worker runs by itself, on start and every few minutes: stale running
jobs back in the queue, queued jobs that waited too long sent again (their message may never
have reached the broker, or died with it), and episodes whose next step was never queued moved
on. Every requeue is a compare-and-set on the job row as it was seen stale, so two workers (or a
worker and ``clinex doctor --fix``) recovering at the same moment requeue a job once, and never
one that moved on meanwhile. ``clinex doctor`` (``pipeline.doctor``) uses the same finders.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from ..flow import flow_for
from ..models import Episode, EpisodeStatus, Job, JobState, utcnow
from ..workflow import transition
from .context import JobContext
from .runner import PROCESS_STARTED, advance, worker_name

STALE_AFTER = timedelta(minutes=15)
QUEUED_AFTER = timedelta(hours=6)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class StaleJob:
    job_id: int
    episode_id: int
    kind: str
    state: str
    reason: str


@dataclass(frozen=True)
class StuckEpisode:
    episode_id: int
    title: str
    reason: str


@dataclass
class RecoveryReport:
    stale_jobs: list[StaleJob] = field(default_factory=list)
    stuck_episodes: list[StuckEpisode] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    dispatch: list[int] = field(default_factory=list)  # job IDs to send to the queue


def recover_jobs(ctx: JobContext, stale_after: timedelta, max_attempts: int = MAX_ATTEMPTS) -> RecoveryReport:
    """What a worker does by itself: requeue running jobs whose worker is gone or silent for
    ``stale_after`` (failing them after ``max_attempts``), send again queued jobs last sent more
    than ``stale_after`` ago, and move on episodes whose jobs all finished but whose next step
    was never queued. Orphans and episodes that only an editor can help are left to ``clinex
    doctor``. Job IDs to send are in ``dispatch``."""
    report = RecoveryReport()
    report.stale_jobs = [s for s in find_stale_jobs(ctx, stale_after, QUEUED_AFTER) if s.state == JobState.running.value]
    fix_stale_jobs(ctx, report, max_attempts, stale_after, QUEUED_AFTER)
    _resend_waiting_jobs(ctx, report, stale_after)
    report.stuck_episodes = find_stuck_episodes(ctx)
    fix_stuck_episodes(ctx, report, give_up=False)
    return report


def _resend_waiting_jobs(ctx: JobContext, report: RecoveryReport, waited: timedelta) -> None:
    """Queued jobs of processing episodes not sent for ``waited``: the broker may have been down
    when they were queued (or lost its messages). A second message for a job is harmless, its
    claim is compare-and-set; ``heartbeat_at`` records the send, so each wait sends it once."""
    now = utcnow()
    with ctx.sessions() as session:
        waiting = session.scalars(select(Job).join(Episode, Episode.id == Job.episode_id).where(
            Job.state == JobState.queued.value, Episode.status == EpisodeStatus.processing.value))
        seen = [(j.id, j.kind, j.heartbeat_at) for j in waiting if now - aware_utc(j.heartbeat_at or j.created_at) > waited]
    for job_id, kind, heartbeat_at in seen:
        with ctx.sessions.begin() as session:
            as_seen = Job.heartbeat_at.is_(None) if heartbeat_at is None else Job.heartbeat_at == heartbeat_at
            sent = session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.queued.value, as_seen)
                                   .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
        if sent.rowcount == 1:
            report.dispatch.append(job_id)
            report.actions.append(f"sent job {job_id} ({kind}) again: not picked up for {_minutes(waited)}")


def find_stale_jobs(ctx: JobContext, stale_after: timedelta = STALE_AFTER,
                    queued_after: timedelta = QUEUED_AFTER) -> list[StaleJob]:
    """Running jobs whose worker is gone or silent, and queued jobs nobody picked up."""
    now = utcnow()
    with ctx.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.state.in_((JobState.running.value, JobState.queued.value))))
        found = [_stale_reason(job, now, stale_after, queued_after) for job in jobs]
    return [s for s in found if s is not None]


def _stale_reason(job: Job, now: datetime, stale_after: timedelta, queued_after: timedelta) -> StaleJob | None:
    last = aware_utc(job.heartbeat_at or job.started_at or job.created_at)
    if job.state == JobState.running.value:
        if _worker_is_dead(job.worker, job.started_at):
            reason = f"its worker {job.worker} is no longer running"
        elif now - last > stale_after:
            reason = f"no heartbeat from {job.worker} for {_minutes(now - last)}"
        else:
            return None
    elif now - aware_utc(job.created_at) > queued_after and now - last > queued_after:
        reason = f"queued for {_minutes(now - aware_utc(job.created_at))} without being picked up"
    else:
        return None
    return StaleJob(job.id, job.episode_id, job.kind, job.state, reason)


def _worker_is_dead(worker: str | None, started_at: datetime | None = None) -> bool:
    """True only when the worker ran on this host and its process is gone (PIDs are per host),
    or it had this process's PID but started the job before this process began (a restarted
    container often gets the same host name and PID)."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if worker == worker_name():
        return started_at is not None and aware_utc(started_at) < PROCESS_STARTED
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def aware_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def fix_stale_jobs(ctx: JobContext, report: RecoveryReport, max_attempts: int, stale_after: timedelta,
                    queued_after: timedelta) -> None:
    for stale in report.stale_jobs:
        outcome = _requeue_if_still_stale(ctx, stale.job_id, max_attempts, stale_after, queued_after)
        if outcome == "requeued":
            report.dispatch.append(stale.job_id)
            report.actions.append(f"requeued job {stale.job_id} ({stale.kind}): {stale.reason}")
        elif outcome == "failed":
            report.actions.append(f"failed job {stale.job_id} ({stale.kind}): {stale.reason}, {max_attempts} attempts")


def _requeue_if_still_stale(ctx: JobContext, job_id: int, max_attempts: int, stale_after: timedelta,
                            queued_after: timedelta) -> str | None:
    """Look at the job again and, if it is still stale, requeue it (or fail it after
    ``max_attempts``) with an UPDATE that only matches the row exactly as just seen: state,
    worker, attempts and heartbeat. Returns "requeued", "failed", or None when it moved on."""
    with ctx.sessions.begin() as session:
        job = session.get(Job, job_id)
        stale = job and _stale_reason(job, utcnow(), stale_after, queued_after)
        if not stale:
            return None
        as_seen = [Job.id == job.id, Job.state == job.state, Job.attempts == job.attempts,
                   Job.worker.is_(None) if job.worker is None else Job.worker == job.worker,
                   Job.heartbeat_at.is_(None) if job.heartbeat_at is None else Job.heartbeat_at == job.heartbeat_at]
        give_up = job.attempts >= max_attempts
        if give_up:
            values = {"state": JobState.failed.value, "finished_at": utcnow(),
                      "error": f"stopped {max_attempts} times ({stale.reason}); an editor can retry it"}
        else:
            # heartbeat_at now, so a requeued job is not "queued too long" at once
            values = {"state": JobState.queued.value, "worker": None, "heartbeat_at": utcnow(),
                      "error": f"requeued: {stale.reason}"}
        changed = session.execute(update(Job).where(*as_seen).values(**values)
                                  .execution_options(synchronize_session=False))
        if changed.rowcount != 1:
            return None
        if give_up:
            episode = session.get(Episode, job.episode_id)
            if episode.status == EpisodeStatus.processing.value:
                transition(session, episode, EpisodeStatus.failed, reason=f"{job.kind.replace('_', ' ')}: {values['error']}")
        return "failed" if give_up else "requeued"


def find_stuck_episodes(ctx: JobContext) -> list[StuckEpisode]:
    """Episodes in processing with no queued or running job to move them on."""
    with ctx.sessions() as session:
        episodes = session.scalars(select(Episode).where(Episode.status == EpisodeStatus.processing.value))
        found = [(ep, _stuck_reason(ep)) for ep in episodes]
        return [StuckEpisode(ep.id, ep.title, reason) for ep, reason in found if reason]


def _stuck_reason(episode: Episode) -> str | None:
    latest = latest_of(episode)
    states = {job.state for job in latest.values()}
    if states & {JobState.queued.value, JobState.running.value}:
        return None
    if not latest:
        return "no job was ever queued"
    if JobState.failed.value in states:
        return "a job failed but the episode was not marked failed"
    return "every job finished but the next step was never queued"


def latest_of(episode: Episode) -> dict[str, Job]:
    return {job.kind: job for job in sorted(episode.jobs, key=lambda j: j.id)}


def fix_stuck_episodes(ctx: JobContext, report: RecoveryReport, give_up: bool = True) -> None:
    """Replay the follow-up of an episode whose jobs all succeeded; with ``give_up``, mark the
    others failed (a worker on its own leaves those to ``clinex doctor``)."""
    for stuck in report.stuck_episodes:
        with ctx.sessions() as session:
            episode = session.get(Episode, stuck.episode_id)
            latest = latest_of(episode)
        done = [j for j in latest.values() if j.state == JobState.succeeded.value]
        flow = flow_for(episode)
        if len(done) == len(latest) and {kind.value for kind in flow.first_steps()} <= set(latest):
            # Replaying the last step's follow-up is safe: advance locks the episode row.
            finals = [latest[kind.value] for kind in flow.last_steps() if kind.value in latest]
            last = finals[0] if finals else max(done, key=lambda j: j.id)
            report.dispatch.extend(advance(ctx, last.id))
            report.actions.append(f"moved episode {stuck.episode_id} on after its {last.kind} job")
        elif give_up:
            reason = _fail_episode(ctx, stuck, latest)
            report.actions.append(f"marked episode {stuck.episode_id} failed: {reason}")


def _fail_episode(ctx: JobContext, stuck: StuckEpisode, latest: dict[str, Job]) -> str:
    errors = [f"{j.kind.replace('_', ' ')}: {j.error}" for j in latest.values() if j.state == JobState.failed.value]
    reason = errors[0] if errors else f"processing stopped ({stuck.reason}); an editor can retry it"
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, stuck.episode_id)
        if episode.status == EpisodeStatus.processing.value:
            transition(session, episode, EpisodeStatus.failed, reason=reason)
    return reason

