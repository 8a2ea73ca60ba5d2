"""Ingest's metadata: names given twice, and a failure before anything is stored."""

from __future__ import annotations

import pytest

from pipeline.notes import EpisodeMeta, Speaker, parse_notes
from tests.conftest import FIXTURES

SPEECH = FIXTURES / "audio" / "good" / "speech.ogg"


def _ingest(ctx, meta: EpisodeMeta, notes=None):
    from pipeline.ingest import ingest_recording

    with ctx.sessions() as session:
        return ingest_recording(session, ctx.storage, ctx.settings, SPEECH, filename="talk.ogg", meta=meta,
                                notes=notes)


def test_a_tag_or_speaker_named_twice_is_credited_once(ctx):
    from pipeline.models import Episode

    notes = parse_notes("---\ntags: [Melasma, melasma, MELASMA, Fillers]\n"
                        "speakers: [Dr. Ana Ribeiro, {name: Dr. Ana Ribeiro, role: moderator}, Dr. Tom Hale]\n---\n"
                        "# Melasma\n")
    result = _ingest(ctx, EpisodeMeta(), notes)
    with ctx.sessions() as session:
        episode = session.get(Episode, result.episode_id)
        assert [t.name for t in episode.accepted_tags] == ["Melasma", "Fillers"]
        assert [(p.person.name, p.role, p.position) for p in episode.people] == [
            ("Dr. Ana Ribeiro", "speaker", 0), ("Dr. Tom Hale", "speaker", 1)]


def test_a_failure_before_the_file_is_stored_raises_itself(ctx, monkeypatch):
    """The clean-up deletes a key that was never stored; that must not hide the real error."""
    from pipeline import ingest

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ingest, "get_or_create_person", broken)
    with pytest.raises(RuntimeError, match="went away"):
        _ingest(ctx, EpisodeMeta(speakers=[Speaker("Dr. A")]))
    assert list(ctx.storage.keys()) == []
