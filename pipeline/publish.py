"""Approve and publish, send back, unpublish: the editor's actions on an episode."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .cover import default_cover
from .errors import WorkflowError
from .models import Episode, EpisodeStatus, MediaFile, SiteValue, User
from .steps import local_copy
from .workflow import transition

COVER_KEY = "site/cover.jpg"


def site_cover(ctx) -> bytes:
    """The show's cover, made once and kept in storage."""
    if not ctx.storage.exists(COVER_KEY):
        ctx.storage.put_bytes(COVER_KEY, default_cover(ctx.settings.SHOW_TITLE, "Clinical Exchange podcast"),
                              content_type="image/jpeg")
    return ctx.storage.get_bytes(COVER_KEY)


def publish_episode(ctx, session: Session, episode: Episode, actor: User | None, note: str | None = None) -> MediaFile:
    """Tag the listening file (ID3 with chapters and art, no re-encode), store it under a new key
    and mark the episode published. Raises WorkflowError if it is not ready, StorageError on
    store failures (then nothing is published)."""
    from .audio import Chapter as ChapterTag, EpisodeTags
    from .id3 import write_tags

    if episode.status not in (EpisodeStatus.in_review.value, EpisodeStatus.unpublished.value):
        transition(session, episode, EpisodeStatus.published, actor=actor, reason=note)  # raises the clear error
    audio = episode.media_of("audio")
    if audio is None:
        raise WorkflowError(f"Episode {episode.id} has no prepared audio yet; it cannot be published.")
    duration = episode.duration or audio.duration or 0.0
    chapters = [ChapterTag(start=c.start, end=(episode.chapters[i + 1].start if i + 1 < len(episode.chapters) else duration),
                           title=c.title) for i, c in enumerate(episode.chapters)]
    summary = episode.summary.markdown if episode.summary else ""
    tags = EpisodeTags(title=episode.title, artist=", ".join(p.person.name for p in episode.people) or ctx.settings.SHOW_AUTHOR,
                       album=episode.event.name if episode.event else ctx.settings.SHOW_TITLE,
                       date=(episode.recorded_on.isoformat() if episode.recorded_on else None),
                       comment=_first_paragraph(summary), cover=site_cover(ctx), cover_mime="image/jpeg",
                       chapters=chapters, url=f"{ctx.settings.BASE_URL}/episodes/{episode.slug}")
    with local_copy(ctx, audio.storage_key) as src, tempfile.TemporaryDirectory(prefix="clinex-") as tmp:
        tagged = Path(tmp) / Path(audio.storage_key).name
        shutil.copyfile(src, tagged)
        write_tags(tagged, tags)
        from .ingest import file_sha256

        sha = file_sha256(tagged)
        key = f"published/{episode.uuid}/{sha[:16]}{tagged.suffix}"
        existing = session.scalars(select(MediaFile).where(MediaFile.storage_key == key)).first()
        if existing is None:
            stored = ctx.storage.put_file(key, tagged, content_type=audio.content_type)
            existing = MediaFile(episode_id=episode.id, kind="published", storage_key=key, content_type=audio.content_type,
                                 size=stored.size, sha256=stored.sha256, duration=audio.duration, codec=audio.codec,
                                 container=audio.container, sample_rate=audio.sample_rate, channels=audio.channels,
                                 bitrate=audio.bitrate, loudness_lufs=audio.loudness_lufs,
                                 true_peak_dbtp=audio.true_peak_dbtp)
            session.add(existing)
    transition(session, episode, EpisodeStatus.published, actor=actor, reason=note)
    bump_site_version(session)
    return existing


def request_changes(session: Session, episode: Episode, actor: User | None, note: str) -> None:
    if not note or not note.strip():
        raise WorkflowError("Say what needs to change: a note for the summarizer is required.")
    transition(session, episode, EpisodeStatus.changes_requested, actor=actor, reason=note.strip())


def unpublish_episode(session: Session, episode: Episode, actor: User | None, note: str | None = None) -> None:
    transition(session, episode, EpisodeStatus.unpublished, actor=actor, reason=note)
    bump_site_version(session)


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
