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

The job and episode checks are ``pipeline.jobs.recovery``'s, which workers also run by themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from .jobs import JobContext
from .jobs.recovery import (MAX_ATTEMPTS, QUEUED_AFTER, STALE_AFTER, StaleJob, StuckEpisode, aware_utc,
                            find_stale_jobs, find_stuck_episodes, fix_stale_jobs, fix_stuck_episodes)
from .keys import MEDIA_PREFIXES, episode_uuid_of, transcript_key
from .models import Episode, Job, JobState, MediaFile, Transcript, utcnow
from .spool import (LeftoverUpload, delete_chunked, delete_leftover_upload, find_abandoned_chunked,
                    find_leftover_uploads, uploads_folder)
from .transcription import TRANSCRIPT_TYPES

ORPHAN_GRACE = timedelta(hours=1)


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
        fix_stale_jobs(ctx, report, max_attempts, stale_after, queued_after)
    report.stuck_episodes = find_stuck_episodes(ctx)
    if fix:
        fix_stuck_episodes(ctx, report)
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


# --- storage ------------------------------------------------------------------------------------

def referenced_keys(session: Session) -> set[str]:
    """Every key a row refers to: media files, and the four files of each transcript."""
    keys = set(session.scalars(select(MediaFile.storage_key)))
    rows = session.execute(select(Transcript.id, Episode.uuid).join(Episode, Episode.id == Transcript.episode_id))
    keys.update(transcript_key(uuid, tid, ext) for tid, uuid in rows for ext in TRANSCRIPT_TYPES)
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
                uuid = episode_uuid_of(key)
                why = "no episode has this uuid" if uuid not in uuids else "no row refers to this file"
                orphans.append(Orphan(key, why))
    return orphans


def find_missing_media(ctx: JobContext) -> list[MissingMedia]:
    with ctx.sessions() as session:
        rows = session.execute(select(MediaFile.id, MediaFile.episode_id, MediaFile.kind, MediaFile.storage_key))
        return [MissingMedia(*row) for row in rows if not ctx.storage.exists(row[3])]


def _delete_orphans(ctx: JobContext, report: DoctorReport, grace: timedelta) -> None:
    # A key written moments ago may belong to an upload or job whose row is not committed yet.
    with ctx.sessions() as session:
        busy = _episodes_with_live_jobs(session)
    for orphan in report.orphans:
        if episode_uuid_of(orphan.key) in busy or _age(ctx.storage, orphan.key) < grace:
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
            for key, upload_id, started in ctx.storage.unfinished_uploads() if now - aware_utc(started) >= grace]


def _delete_leftover_uploads(report: DoctorReport) -> None:
    for leftover in report.leftover_uploads:
        if delete_leftover_upload(leftover.path):
            report.actions.append(f"deleted leftover upload {leftover.path} ({leftover.size} bytes)")


# --- jobs ---------------------------------------------------------------------------------------

# --- episodes -----------------------------------------------------------------------------------

