"""The named conventions of the data: roles, the states of episodes, jobs and comments, the kinds
of jobs, media files and anchors, and where tags and chapters came from. Each is a ``str`` enum
whose values are what the database columns hold, so a member compares equal to its column."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    listener = "listener"
    summarizer = "summarizer"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class EpisodeStatus(str, enum.Enum):
    draft = "draft"
    processing = "processing"
    in_review = "in_review"
    changes_requested = "changes_requested"
    published = "published"
    unpublished = "unpublished"
    failed = "failed"


class JobState(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class CommentState(str, enum.Enum):
    pending = "pending"
    visible = "visible"
    hidden = "hidden"
    deleted = "deleted"


class JobKind(str, enum.Enum):
    """The steps of the episode flow (``pipeline.flow``); each runs as one Job row."""

    prepare_audio = "prepare_audio"
    transcribe = "transcribe"
    analyze = "analyze"
    publish = "publish"
    voice = "voice"  # a notes-only episode: the summary spoken by the voice (pipeline.voicing)
    spoken_extras = "spoken_extras"  # a recording: the spoken intro and/or summary around it (pipeline.extras)


class MediaKind(str, enum.Enum):
    original = "original"  # the upload as received
    audio = "audio"  # the listening file, loudness-normalised
    published = "published"  # the listening file with ID3 tags, as served
    cover = "cover"
    voiced = "voiced"  # a notes-only episode's summary as spoken, before loudness and encoding
    plain = "plain"  # a recording's listening file without the spoken intro and summary (pipeline.extras)


class TranscriptStatus(str, enum.Enum):
    running = "running"
    complete = "complete"
    failed = "failed"


class TagSource(str, enum.Enum):
    summarizer = "summarizer"
    suggested = "suggested"
    editor = "editor"


class ChapterSource(str, enum.Enum):
    notes = "notes"  # a section of the summary notes, found in the recording
    topics = "topics"  # a topic shift in the transcript (no notes, or too few sections found)
    editor = "editor"
    voice = "voice"  # the spoken introduction or summary around a recording (pipeline.extras)


class AnchorKind(str, enum.Enum):
    section = "section"
    bullet = "bullet"
