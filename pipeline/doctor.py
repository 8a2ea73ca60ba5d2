"""Consistency checks between the database, the media store and the job table (``clinex doctor``).

What it finds:

* orphaned storage keys under ``originals/``, ``audio/``, ``published/`` and ``transcripts/`` that no
  MediaFile or Transcript row refers to (``site/`` holds the show's own files and is left alone);
* MediaFile rows whose object is missing from storage (only a backup can bring those back);
* stale jobs: running with no heartbeat for ``stale_after`` (or whose worker process on this host
  is gone), or queued for longer than ``queued_after``;
* episodes in ``processing`` with no live job;
* upload spools in ``INSTANCE_PATH/uploads`` that no live process holds: the web server was killed
  in the middle of a form upload (``pipeline.spool``).

With ``fix=True`` it deletes orphans (older than ``grace``) and leftover spools, puts stale jobs
back in the queue (or fails them for good after ``max_attempts``) and unsticks episodes. It never
dispatches anything itself: the job IDs to send to the queue are returned in
``DoctorReport.dispatch``, because how jobs are delivered is the caller's business (as with
``jobs.run_job``).

``recover_jobs`` is the part a worker runs by itself, on start and every few minutes: stale
running jobs back in the queue, queued jobs that waited too long sent again (their message may
never have reached the broker, or died with it), and episodes whose next step was never queued
moved on. Every requeue is a compare-and-set on the job row as it was seen stale, so two workers
(or a worker and ``clinex doctor --fix``) recovering at the same moment requeue a job once, and
never one that moved on meanwhile.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .jobs import PROCESS_STARTED, PROCESSING_KINDS, JobContext, advance, worker_name
from .models import Episode, EpisodeStatus, Job, JobState, MediaFile, Transcript, utcnow
from .spool import (LeftoverUpload, delete_chunked, delete_leftover_upload, find_abandoned_chunked,
                    find_leftover_uploads, uploads_folder)
from .steps import TRANSCRIPT_FORMATS
from .workflow import transition

MEDIA_PREFIXES = ("originals/", "audio/", "published/", "transcripts/")
STALE_AFTER = timedelta(minutes=15)
QUEUED_AFTER = timedelta(hours=6)
ORPHAN_GRACE = timedelta(hours=1)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Orphan:
    key: str
    reason: str


@dataclass(frozen=True)
class MissingMedia:
    media_id: int
    episode_id: int
    kind: str
    key: str


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


@dataclass(frozen=True)
class UnfinishedUpload:
    key: str
    upload_id: str
    started: str


@dataclass
class DoctorReport:
    orphans: list[Orphan] = field(default_factory=list)
    missing_media: list[MissingMedia] = field(default_factory=list)
    stale_jobs: list[StaleJob] = field(default_factory=list)
    stuck_episodes: list[StuckEpisode] = field(default_factory=list)
    leftover_uploads: list[LeftoverUpload] = field(default_factory=list)
    unfinished_uploads: list[UnfinishedUpload] = field(default_factory=list)
    abandoned_uploads: list[LeftoverUpload] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    dispatch: list[int] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.orphans or self.missing_media or self.stale_jobs or self.stuck_episodes
                    or self.leftover_uploads or self.unfinished_uploads or self.abandoned_uploads)

    def as_dict(self) -> dict:
        return {"healthy": self.healthy, **asdict(self)}


def diagnose(ctx: JobContext, fix: bool = False, *, stale_after: timedelta = STALE_AFTER,
             queued_after: timedelta = QUEUED_AFTER, grace: timedelta = ORPHAN_GRACE,
             max_attempts: int = MAX_ATTEMPTS) -> DoctorReport:
    """Check everything; with ``fix`` repair what can be repaired and say what was done.

    Raises StorageError when the store cannot be listed (nothing is changed then).
    """
    report = DoctorReport()
    report.stale_jobs = find_stale_jobs(ctx, stale_after, queued_after)
    if fix:
        _fix_stale_jobs(ctx, report, max_attempts, stale_after, queued_after)
    report.stuck_episodes = find_stuck_episodes(ctx)
    if fix:
        _fix_stuck_episodes(ctx, report)
    report.orphans = find_orphans(ctx)
    report.missing_media = find_missing_media(ctx)
    if fix:
        _delete_orphans(ctx, report, grace)
    report.leftover_uploads = find_leftover_uploads(uploads_folder(ctx.settings.instance_path))
    report.abandoned_uploads = find_abandoned_chunked(uploads_folder(ctx.settings.instance_path))
    if fix:
        _delete_leftover_uploads(report)
        for upload in report.abandoned_uploads:
            delete_chunked(upload.path)
            report.actions.append(f"deleted abandoned resumable upload {upload.path} ({upload.size} bytes)")
    report.unfinished_uploads = find_unfinished_uploads(ctx, grace)
    if fix:
        for upload in report.unfinished_uploads:
            ctx.storage.abort_upload(upload.key, upload.upload_id)
            report.actions.append(f"aborted the unfinished upload of {upload.key} (begun {upload.started})")
    return report


def recover_jobs(ctx: JobContext, stale_after: timedelta, max_attempts: int = MAX_ATTEMPTS) -> DoctorReport:
    """What a worker does by itself: requeue running jobs whose worker is gone or silent for
    ``stale_after`` (failing them after ``max_attempts``), send again queued jobs last sent more
    than ``stale_after`` ago, and move on episodes whose jobs all finished but whose next step
    was never queued. Orphans and episodes that only an editor can help are left to ``clinex
    doctor``. Job IDs to send are in ``dispatch``."""
    report = DoctorReport()
    report.stale_jobs = [s for s in find_stale_jobs(ctx, stale_after, QUEUED_AFTER) if s.state == JobState.running.value]
    _fix_stale_jobs(ctx, report, max_attempts, stale_after, QUEUED_AFTER)
    _resend_waiting_jobs(ctx, report, stale_after)
    report.stuck_episodes = find_stuck_episodes(ctx)
    _fix_stuck_episodes(ctx, report, give_up=False)
    return report


def _resend_waiting_jobs(ctx: JobContext, report: DoctorReport, waited: timedelta) -> None:
    """Queued jobs of processing episodes not sent for ``waited``: the broker may have been down
    when they were queued (or lost its messages). A second message for a job is harmless, its
    claim is compare-and-set; ``heartbeat_at`` records the send, so each wait sends it once."""
    now = utcnow()
    with ctx.sessions() as session:
        waiting = session.scalars(select(Job).join(Episode, Episode.id == Job.episode_id).where(
            Job.state == JobState.queued.value, Episode.status == EpisodeStatus.processing.value))
        seen = [(j.id, j.kind, j.heartbeat_at) for j in waiting if now - _aware(j.heartbeat_at or j.created_at) > waited]
    for job_id, kind, heartbeat_at in seen:
        with ctx.sessions.begin() as session:
            as_seen = Job.heartbeat_at.is_(None) if heartbeat_at is None else Job.heartbeat_at == heartbeat_at
            sent = session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.queued.value, as_seen)
                                   .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
        if sent.rowcount == 1:
            report.dispatch.append(job_id)
            report.actions.append(f"sent job {job_id} ({kind}) again: not picked up for {_minutes(waited)}")


# --- storage ------------------------------------------------------------------------------------

def referenced_keys(session: Session) -> set[str]:
    """Every key a row refers to: media files, and the four files of each transcript."""
    keys = set(session.scalars(select(MediaFile.storage_key)))
    rows = session.execute(select(Transcript.id, Episode.uuid).join(Episode, Episode.id == Transcript.episode_id))
    keys.update(f"transcripts/{uuid}/{tid}.{ext}" for tid, uuid in rows for ext in TRANSCRIPT_FORMATS)
    return keys


def find_orphans(ctx: JobContext) -> list[Orphan]:
    """Media keys no row refers to, with why (the episode is gone, or just this file)."""
    with ctx.sessions() as session:
        referenced = referenced_keys(session)
        uuids = set(session.scalars(select(Episode.uuid)))
    orphans = []
    for prefix in MEDIA_PREFIXES:
        for key in ctx.storage.keys(prefix):
            if key not in referenced:
                uuid = _episode_uuid(key)
                why = "no episode has this uuid" if uuid not in uuids else "no row refers to this file"
                orphans.append(Orphan(key, why))
    return orphans


def _episode_uuid(key: str) -> str:
    # originals/<uuid>/<name>, audio/<uuid>/<hash>.mp3, and the older flat audio/<uuid>.mp3
    return key.split("/")[1].split(".")[0]


def find_missing_media(ctx: JobContext) -> list[MissingMedia]:
    with ctx.sessions() as session:
        rows = session.execute(select(MediaFile.id, MediaFile.episode_id, MediaFile.kind, MediaFile.storage_key))
        return [MissingMedia(*row) for row in rows if not ctx.storage.exists(row[3])]


def _delete_orphans(ctx: JobContext, report: DoctorReport, grace: timedelta) -> None:
    # A key written moments ago may belong to an upload or job whose row is not committed yet.
    with ctx.sessions() as session:
        busy = _episodes_with_live_jobs(session)
    for orphan in report.orphans:
        if _episode_uuid(orphan.key) in busy or _age(ctx.storage, orphan.key) < grace:
            report.actions.append(f"kept {orphan.key} for now (it may belong to work in progress)")
            continue
        ctx.storage.delete(orphan.key)
        report.actions.append(f"deleted orphan {orphan.key} ({orphan.reason})")


def _episodes_with_live_jobs(session: Session) -> set[str]:
    live = (JobState.queued.value, JobState.running.value)
    return set(session.scalars(select(Episode.uuid).join(Job, Job.episode_id == Episode.id).where(Job.state.in_(live))))


def _age(storage, key: str) -> timedelta:
    """How long ago the object was written; zero when the store cannot say (so it is kept)."""
    path = storage.local_path(key)
    if path is not None:
        return utcnow() - datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    client = getattr(storage, "client", None)
    if client is None:
        return timedelta(0)
    head = storage._call("inspect", key, client.head_object, Bucket=storage.bucket, Key=storage._key(key))
    return utcnow() - head["LastModified"]


def find_unfinished_uploads(ctx: JobContext, grace: timedelta = ORPHAN_GRACE) -> list[UnfinishedUpload]:
    """Multipart uploads to the store begun more than ``grace`` ago and never completed: what a
    process killed mid-store leaves behind (younger ones may still be in progress)."""
    now = utcnow()
    return [UnfinishedUpload(key, upload_id, started.isoformat(timespec="seconds"))
            for key, upload_id, started in ctx.storage.unfinished_uploads() if now - _aware(started) >= grace]


def _delete_leftover_uploads(report: DoctorReport) -> None:
    for leftover in report.leftover_uploads:
        if delete_leftover_upload(leftover.path):
            report.actions.append(f"deleted leftover upload {leftover.path} ({leftover.size} bytes)")


# --- jobs ---------------------------------------------------------------------------------------

def find_stale_jobs(ctx: JobContext, stale_after: timedelta = STALE_AFTER,
                    queued_after: timedelta = QUEUED_AFTER) -> list[StaleJob]:
    """Running jobs whose worker is gone or silent, and queued jobs nobody picked up."""
    now = utcnow()
    with ctx.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.state.in_((JobState.running.value, JobState.queued.value))))
        found = [_stale_reason(job, now, stale_after, queued_after) for job in jobs]
    return [s for s in found if s is not None]


def _stale_reason(job: Job, now: datetime, stale_after: timedelta, queued_after: timedelta) -> StaleJob | None:
    last = _aware(job.heartbeat_at or job.started_at or job.created_at)
    if job.state == JobState.running.value:
        if _worker_is_dead(job.worker, job.started_at):
            reason = f"its worker {job.worker} is no longer running"
        elif now - last > stale_after:
            reason = f"no heartbeat from {job.worker} for {_minutes(now - last)}"
        else:
            return None
    elif now - _aware(job.created_at) > queued_after and now - last > queued_after:
        reason = f"queued for {_minutes(now - _aware(job.created_at))} without being picked up"
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
        return started_at is not None and _aware(started_at) < PROCESS_STARTED
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def _fix_stale_jobs(ctx: JobContext, report: DoctorReport, max_attempts: int, stale_after: timedelta,
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


# --- episodes -----------------------------------------------------------------------------------

def find_stuck_episodes(ctx: JobContext) -> list[StuckEpisode]:
    """Episodes in processing with no queued or running job to move them on."""
    with ctx.sessions() as session:
        episodes = session.scalars(select(Episode).where(Episode.status == EpisodeStatus.processing.value))
        found = [(ep, _stuck_reason(ep)) for ep in episodes]
        return [StuckEpisode(ep.id, ep.title, reason) for ep, reason in found if reason]


def _stuck_reason(episode: Episode) -> str | None:
    latest = _latest_jobs(episode)
    states = {job.state for job in latest.values()}
    if states & {JobState.queued.value, JobState.running.value}:
        return None
    if not latest:
        return "no job was ever queued"
    if JobState.failed.value in states:
        return "a job failed but the episode was not marked failed"
    return "every job finished but the next step was never queued"


def _latest_jobs(episode: Episode) -> dict[str, Job]:
    return {job.kind: job for job in sorted(episode.jobs, key=lambda j: j.id)}


def _fix_stuck_episodes(ctx: JobContext, report: DoctorReport, give_up: bool = True) -> None:
    """Replay the follow-up of an episode whose jobs all succeeded; with ``give_up``, mark the
    others failed (a worker on its own leaves those to ``clinex doctor``)."""
    for stuck in report.stuck_episodes:
        with ctx.sessions() as session:
            episode = session.get(Episode, stuck.episode_id)
            latest = _latest_jobs(episode)
        done = [j for j in latest.values() if j.state == JobState.succeeded.value]
        if len(done) == len(latest) and set(PROCESSING_KINDS) <= set(latest):
            # Replaying the last step's follow-up is safe: advance locks the episode row.
            last = latest.get("analyze") or max(done, key=lambda j: j.id)
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
