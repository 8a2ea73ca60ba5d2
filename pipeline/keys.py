"""Where each stored object lives: every storage key is built (and read back) here.

    originals/<episode-uuid>/<file name>        the upload, as received
    audio/<episode-uuid>/<sha16>.<ext>          the listening file (loudness-normalised)
    published/<episode-uuid>/<sha16>.<ext>      the listening file with ID3 tags, as served
    transcripts/<episode-uuid>/<id>.<ext>       VTT / SRT / JSON / text of one transcript
    covers/<episode-uuid>/uploaded.jpg          an editor's cover; generated-<sha16>.jpg drawn from the title
    voiced/<episode-uuid>/<sha16>.wav           a notes-only episode's summary as spoken
    voicing/<episode-uuid>/<n>-<sha16>.wav|json one voiced paragraph while voicing runs (resume)
    site/...                                    the show's own files (cover); never an orphan
"""

from __future__ import annotations

from .storage import safe_filename

MEDIA_PREFIXES = ("originals/", "audio/", "published/", "transcripts/", "voiced/", "voicing/")
SITE_COVER = "site/cover.jpg"


def original_key(episode_uuid: str, filename: str) -> str:
    return f"originals/{episode_uuid}/{safe_filename(filename)}"


def audio_key(episode_uuid: str, source_sha256: str, extension: str) -> str:
    return f"{audio_prefix(episode_uuid)}{source_sha256[:16]}.{extension}"


def audio_prefix(episode_uuid: str) -> str:
    return f"audio/{episode_uuid}/"


def published_prefix(episode_uuid: str) -> str:
    return f"published/{episode_uuid}/"


def published_key(episode_uuid: str, sha256: str, suffix: str) -> str:
    """``suffix`` with its dot (``.mp3``), as ``Path.suffix`` gives it."""
    return f"{published_prefix(episode_uuid)}{sha256[:16]}{suffix}"


def published_key_from_url(episode_uuid: str, name: str) -> str:
    """The key a media URL ``/media/<uuid>/<name>`` points at."""
    return f"{published_prefix(episode_uuid)}{name}"


def transcript_key(episode_uuid: str, transcript_id: int, extension: str) -> str:
    return f"transcripts/{episode_uuid}/{transcript_id}.{extension}"


def voiced_key(episode_uuid: str, sha256: str) -> str:
    return f"voiced/{episode_uuid}/{sha256[:16]}.wav"


def voicing_prefix(episode_uuid: str) -> str:
    return f"voicing/{episode_uuid}/"


def voicing_part_key(episode_uuid: str, index: int, text_sha256: str, extension: str) -> str:
    """One voiced paragraph; the text's hash in the name means edited notes are voiced anew."""
    return f"{voicing_prefix(episode_uuid)}{index:04d}-{text_sha256[:16]}.{extension}"


def episode_uuid_of(key: str) -> str:
    """The episode a media key belongs to (also the older flat ``audio/<uuid>.mp3``)."""
    return key.split("/")[1].split(".")[0]


def uploaded_cover_key(episode_uuid: str) -> str:
    return f"covers/{episode_uuid}/uploaded.jpg"


def generated_cover_key(episode_uuid: str, title_sha256: str) -> str:
    return f"covers/{episode_uuid}/generated-{title_sha256[:16]}.jpg"
