"""The ``publish`` step: the tagged listening file, stored, and the episode marked published.

Publishing stores a tagged copy of the listening file and then commits the row that points at
it. An editor's approval (``pipeline.review.approve``) runs it as a ``publish`` job committed
before anything is stored, so a process killed in between leaves a running job whose worker is
gone: a worker requeues it (``jobs.recovery``) and the re-run stores the same content under the
same key and commits. Whatever an interrupted run stored that the finished one does not use is
deleted as it finishes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .artwork import episode_cover_bytes
from .audio import ChapterFrame, EpisodeTags, write_tags
from .cover import default_cover
from .errors import WorkflowError
from .keys import SITE_COVER, published_key, published_prefix
from .models import Episode, EpisodeStatus, MediaFile, MediaKind, SiteValue, User, utcnow
from .storage import file_sha256, local_copy
from .workflow import transition


def site_cover(ctx) -> bytes:
    """The show's cover, made once and kept in storage."""
    if not ctx.storage.exists(SITE_COVER):
        ctx.storage.put_bytes(SITE_COVER, default_cover(ctx.settings.SHOW_TITLE, "Clinical Exchange podcast"),
                              content_type="image/jpeg")
    return ctx.storage.get_bytes(SITE_COVER)


def publish_step(ctx, session: Session, episode: Episode, report, **approval) -> None:
    """The ``publish`` job. Without ``approval`` (actor, note) it is a worker finishing an
    approval that was cut short; if the episode got published meanwhile there is nothing to do."""
    if not approval:
        if episode.status == EpisodeStatus.published.value and episode.media_of(MediaKind.published) is not None:
            return
        approval = {"actor_id": None, "note": "publishing finished after an interruption"}
    actor_id = approval["actor_id"]
    publish_episode(ctx, session, episode, session.get(User, actor_id) if actor_id else None, note=approval["note"])


def publish_episode(ctx, session: Session, episode: Episode, actor: User | None, note: str | None = None) -> MediaFile:
    """Tag the listening file (ID3 with chapters and art, no re-encode), store it under a new key
    and mark the episode published. Raises WorkflowError if it is not ready, StorageError on
    store failures (then nothing is published).

    The episode row is locked first, so two publications of one episode run one after the other
    and the files of an earlier, interrupted one can be told apart and deleted."""
    session.execute(update(Episode).where(Episode.id == episode.id).values(updated_at=utcnow()))
    session.refresh(episode)
    if episode.status not in (EpisodeStatus.in_review.value, EpisodeStatus.unpublished.value):
        transition(session, episode, EpisodeStatus.published, actor=actor, reason=note)  # raises the clear error
    audio = episode.media_of(MediaKind.audio)
    if audio is None:
        raise WorkflowError(f"Episode {episode.id} has no prepared audio yet; it cannot be published.")
    duration = episode.duration or audio.duration or 0.0
    chapters = [ChapterFrame(start=c.start,
                             end=(episode.chapters[i + 1].start if i + 1 < len(episode.chapters) else duration),
                             title=c.title) for i, c in enumerate(episode.chapters)]
    summary = episode.summary.markdown if episode.summary else ""
    tags = EpisodeTags(title=episode.title, artist=", ".join(p.person.name for p in episode.people) or ctx.settings.SHOW_AUTHOR,
                       album=episode.event.name if episode.event else ctx.settings.SHOW_TITLE,
                       date=(episode.recorded_on.isoformat() if episode.recorded_on else None),
                       comment=_first_paragraph(summary), cover=episode_cover_bytes(ctx, episode), cover_mime="image/jpeg",
                       chapters=chapters, url=ctx.page_url(episode.slug) if ctx.page_url else None)
    with local_copy(ctx.storage, audio.storage_key) as src, tempfile.TemporaryDirectory(prefix="clinex-") as tmp:
        tagged = Path(tmp) / Path(audio.storage_key).name
        shutil.copyfile(src, tagged)
        write_tags(tagged, tags)
        key = published_key(episode.uuid, file_sha256(tagged), tagged.suffix)
        existing = session.scalars(select(MediaFile).where(MediaFile.storage_key == key)).first()
        if existing is None:
            stored = ctx.storage.put_file(key, tagged, content_type=audio.content_type)
            existing = MediaFile(episode_id=episode.id, kind=MediaKind.published.value, storage_key=key, content_type=audio.content_type,
                                 size=stored.size, sha256=stored.sha256, duration=audio.duration, codec=audio.codec,
                                 container=audio.container, sample_rate=audio.sample_rate, channels=audio.channels,
                                 bitrate=audio.bitrate, loudness_lufs=audio.loudness_lufs,
                                 true_peak_dbtp=audio.true_peak_dbtp)
            session.add(existing)
    transition(session, episode, EpisodeStatus.published, actor=actor, reason=note)
    bump_site_version(session)
    session.flush()
    _delete_unused_published(ctx, session, episode)
    return existing


def _delete_unused_published(ctx, session: Session, episode: Episode) -> None:
    """Files under published/<uuid>/ no row refers to: what an interrupted publication stored
    (nobody else writes there while this episode's row is locked)."""
    used = set(session.scalars(select(MediaFile.storage_key).where(MediaFile.episode_id == episode.id)))
    for key in ctx.storage.keys(published_prefix(episode.uuid)):
        if key not in used:
            ctx.storage.delete(key)


def bump_site_version(session: Session) -> int:
    """A counter that changes whenever what feeds show changes (drives ETags and feed caches)."""
    row = session.get(SiteValue, "content_version") or SiteValue(key="content_version", value="0")
    row.value = str(int(row.value) + 1)
    session.add(row)
    return int(row.value)


def _first_paragraph(markdown: str, limit: int = 500) -> str:
    for block in markdown.split("\n\n"):
        text = " ".join(line.strip("#-* ").strip() for line in block.splitlines()).strip()
        if text and not block.lstrip().startswith("#"):
            return text[:limit]
    return markdown.strip()[:limit]
