"""A recording's spoken extras on the real flow (Whisper, Piper, ffmpeg): the introduction before
the sample lecture and its summary read aloud after it, every timed row moved by the
introduction's exact length, the listening file without them kept, and all undone again."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from pipeline.errors import WorkflowError
from pipeline.notes import EpisodeMeta, parse_notes
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow


@pytest.fixture
def lecture(ctx):
    """The sample lecture with its notes, processed to review, with a timed comment and a
    listener's place; returns the episode id."""
    from pipeline.ingest import ingest_recording
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Comment, Episode, Listen, User

    notes = parse_notes((SAMPLE / "lecture.md").read_text())
    with ctx.sessions() as session:
        result = ingest_recording(session, ctx.storage, ctx.settings, SAMPLE / "lecture.mp3", filename="lecture.mp3",
                                  meta=EpisodeMeta(), notes=notes)
    InlineDispatcher(ctx).dispatch(result.job_ids)
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, result.episode_id)
        assert episode.status == "in_review", episode.failure_reason
        user = User(email="listener@example.org", display_name="Lee", role="clinician", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Comment(episode_id=episode.id, author_id=user.id, body="At 1:30", timestamp=90.0, state="visible"))
        session.add(Listen(user_id=user.id, episode_id=episode.id, position_seconds=60.0))
    return result.episode_id


def timeline(ctx, episode_id: int) -> dict:
    from pipeline.models import Anchor, Comment, Episode, Listen

    with ctx.sessions() as session:
        ep = session.get(Episode, episode_id)
        anchors = session.query(Anchor).filter_by(episode_id=episode_id)
        return {
            "segments": {s.index: (s.start, s.end, s.text, s.speaker) for s in ep.transcript.segments},
            "words": {s.index: [w["start"] for w in s.words] for s in ep.transcript.segments},
            "chapters": [(c.start, c.title, c.source) for c in ep.chapters],
            "anchors": sorted((a.kind, a.position, a.start) for a in anchors),
            "comment": session.query(Comment).one().timestamp,
            "listen": session.query(Listen).one().position_seconds,
            "media": {m.kind: (m.storage_key, m.duration, m.loudness_lufs) for m in ep.media},
            "duration": ep.duration, "soundbite": ep.soundbite_start, "status": ep.status,
            "jobs": [j.kind for j in ep.jobs],
            "shift": ep.audio_notes.intro_seconds if ep.audio_notes else 0.0,
            "summary_start": ep.audio_notes.summary_start if ep.audio_notes else None,
        }


def choose(ctx, episode_id: int, **choice) -> None:
    from pipeline.jobs import InlineDispatcher
    from pipeline.review import choose_extras

    InlineDispatcher(ctx).dispatch(choose_extras(ctx, episode_id, None, **choice))


def pcm(path, start: float, seconds: float) -> np.ndarray:
    """16 kHz mono float samples of ``path`` from ``start`` (ffmpeg decodes it)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(path),
                          "-ac", "1", "-ar", "16000", "-f", "s16le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32)


def best_lag(needle: np.ndarray, hay: np.ndarray) -> float:
    """Where ``needle`` sits in ``hay`` (seconds at 16 kHz), by normalised cross-correlation."""
    scores = np.correlate(hay, needle, mode="valid")
    energy = np.sqrt(np.convolve(hay ** 2, np.ones(needle.size), mode="valid")) + 1e-9
    return float(np.argmax(scores / energy)) / 16000


def test_the_introduction_and_summary_surround_the_recording_and_every_time_moves_with_it(ctx, lecture):
    from pipeline.keys import transcript_key
    from pipeline.models import Episode
    from pipeline.storage import local_copy

    before = timeline(ctx, lecture)
    assert before["jobs"] == ["prepare_audio", "transcribe", "analyze", "spoken_extras"]
    assert before["shift"] == 0.0 and "plain" not in before["media"], "nothing is added unless chosen"

    choose(ctx, lecture, intro=True, summary=True)
    after = timeline(ctx, lecture)
    assert after["status"] == "in_review" and after["jobs"][-1] == "spoken_extras"
    shift = after["shift"]
    assert 6 < shift < 40, "a short introduction"
    # the recording's own segments keep their numbers and move by exactly the introduction
    for index, (start, end, text, speaker) in before["segments"].items():
        assert after["segments"][index] == (pytest.approx(start + shift, abs=1e-3), pytest.approx(end + shift, abs=1e-3),
                                            text, speaker)
        assert after["words"][index] == pytest.approx([t + shift for t in before["words"][index]], abs=1e-3)
    voice = {i: s for i, s in after["segments"].items() if i not in before["segments"]}
    assert {s[3] for s in voice.values()} == {"Clinical Exchange voice"}
    intro = [s for i, s in sorted(voice.items()) if i < 0]
    summary = [s for i, s in sorted(voice.items()) if i > 0]
    assert intro[0][2].startswith("Clinical Exchange.") and intro[-1][1] <= shift
    assert "In this episode:" in " ".join(s[2] for s in intro)
    assert summary[0][0] >= after["summary_start"] > shift + before["duration"] - 1
    # chapters: the introduction first, the recording's moved, the summary last
    recorded = [(start + shift, title, source) for start, title, source in before["chapters"]]
    assert after["chapters"] == [(0.0, "Introduction", "voice"), *[(pytest.approx(s, abs=1e-3), t, src) for s, t, src in recorded],
                                 (pytest.approx(after["summary_start"], abs=1e-3), "The summary, read aloud", "voice")]
    assert after["anchors"] == [(k, p, pytest.approx(s + shift, abs=1e-3)) for k, p, s in before["anchors"]]
    assert after["comment"] == pytest.approx(90.0 + shift) and after["listen"] == pytest.approx(60.0 + shift)
    if before["soundbite"] is not None:
        assert after["soundbite"] == pytest.approx(before["soundbite"] + shift, abs=1e-3)
    # the listening file: levelled as a whole, the recording without extras kept as "plain"
    assert after["media"]["plain"] == before["media"]["audio"]
    key, duration, lufs = after["media"]["audio"]
    assert duration == pytest.approx(after["duration"]) and abs(lufs - ctx.settings.LOUDNESS_TARGET) <= 1.0
    assert duration == pytest.approx(before["duration"] + shift + (duration - after["summary_start"]), abs=0.1)
    # the recording really starts at the shift: its first seconds are found there in the new file
    with local_copy(ctx.storage, key) as new, local_copy(ctx.storage, before["media"]["audio"][0]) as old:
        needle = pcm(old, 5.0, 3.0)
        assert best_lag(needle, pcm(new, shift + 4.0, 5.0)) + shift + 4.0 == pytest.approx(shift + 5.0, abs=0.03)
    with ctx.sessions() as session:
        ep = session.get(Episode, lecture)
        vtt = ctx.storage.get_bytes(transcript_key(ep.uuid, ep.transcript.id, "vtt")).decode()
    assert "Clinical Exchange voice" in vtt.split("\n\n")[1], "the transcript files start with the introduction"

    choose(ctx, lecture, intro=False, summary=False)
    undone = timeline(ctx, lecture)
    assert undone["media"] == before["media"] and undone["shift"] == 0.0 and undone["summary_start"] is None
    with ctx.sessions() as session:
        uuid = session.get(Episode, lecture).uuid
    assert list(ctx.storage.keys(f"audio/{uuid}/")) == [before["media"]["audio"][0]], "the file with extras is gone"
    for name in ("segments", "words", "chapters"):
        assert undone[name] == before[name], name
    assert undone["anchors"] == [(k, p, pytest.approx(s, abs=1e-3)) for k, p, s in before["anchors"]]
    for name in ("comment", "listen", "duration", "soundbite"):
        assert undone[name] == pytest.approx(before[name], abs=1e-3), name


def test_reprocessing_after_extras_pairs_on_the_recordings_timeline(ctx, lecture):
    """A retry of the analysis undoes the extras first and the step after it makes them again:
    nothing is moved twice."""
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode, Job
    from pipeline.workflow import transition

    choose(ctx, lecture, intro=True, summary=False)
    once = timeline(ctx, lecture)
    with ctx.sessions.begin() as session:
        ep = session.get(Episode, lecture)
        transition(session, ep, "processing", reason="analyze again")
        job = Job(episode_id=lecture, kind="analyze")
        session.add(job)
        session.flush()
        job_id = job.id
    InlineDispatcher(ctx).dispatch([job_id])
    again = timeline(ctx, lecture)
    assert again["jobs"][-2:] == ["analyze", "spoken_extras"] and again["status"] == "in_review"
    moved = again["shift"] - once["shift"]  # the voice says the introduction a little differently each time
    assert abs(moved) < 1.0
    recorded = [i for i in once["segments"] if 0 <= i < 10_000 and once["segments"][i][3] != "Clinical Exchange voice"]
    for index in recorded:
        assert again["segments"][index][:2] == pytest.approx(tuple(t + moved for t in once["segments"][index][:2]), abs=2e-3)
    assert again["comment"] == pytest.approx(once["comment"] + moved, abs=1e-3)
    assert again["listen"] == pytest.approx(once["listen"] + moved, abs=1e-3)
    assert [t for _s, t, _k in again["chapters"]] == [t for _s, t, _k in once["chapters"]]
    assert again["anchors"] == [(k, p, pytest.approx(s + moved, abs=0.05)) for k, p, s in once["anchors"]]


def test_spoken_extras_are_refused_where_they_cannot_be_made(ctx, lecture):
    from pipeline.models import Episode, Summary
    from pipeline.review import choose_extras

    with ctx.sessions.begin() as session:
        ep = session.get(Episode, lecture)
        for summary in list(ep.summaries):
            session.delete(summary)
    with pytest.raises(WorkflowError, match="no summary notes to read aloud"):
        choose_extras(ctx, lecture, None, intro=True, summary=True)
    with ctx.sessions.begin() as session:
        session.get(Episode, lecture).status = "published"
        session.add(Summary(episode_id=lecture, version=9, markdown="# Notes\nSome."))
    with pytest.raises(WorkflowError, match="chosen while the episode is in review"):
        choose_extras(ctx, lecture, None, intro=True, summary=False)
    with ctx.sessions() as session:
        notes = session.get(Episode, lecture).audio_notes
        assert notes is None or (notes.spoken_intro is None and notes.spoken_summary is None), "nothing was stored"


def test_the_setting_gives_the_default_and_a_bad_value_is_a_clear_error(settings):
    from pipeline.errors import ConfigError
    from pipeline.extras import default_extras

    assert default_extras("none") == (False, False) and default_extras("both") == (True, True)
    assert default_extras("Intro") == (True, False) and default_extras("summary") == (False, True)
    with pytest.raises(ConfigError, match="CLINEX_SPOKEN_EXTRAS must be one of none, intro, summary, both"):
        default_extras("loud")


def test_the_setting_gives_every_new_recording_its_introduction(ctx):
    import dataclasses

    from pipeline.ingest import ingest_recording
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode

    introduced = dataclasses.replace(ctx, settings=ctx.settings.replace(SPOKEN_EXTRAS="intro"))
    with introduced.sessions() as session:
        result = ingest_recording(session, introduced.storage, introduced.settings, SAMPLE / "lecture.mp3",
                                  filename="lecture.mp3", meta=EpisodeMeta(),
                                  notes=parse_notes((SAMPLE / "lecture.md").read_text()))
    InlineDispatcher(introduced).dispatch(result.job_ids)
    with introduced.sessions() as session:
        ep = session.get(Episode, result.episode_id)
        assert ep.status == "in_review", ep.failure_reason
        assert ep.chapters[0].title == "Introduction" and ep.audio_notes.intro_seconds > 5
        assert ep.audio_notes.spoken_intro is None, "the setting decided, not an editor"
        assert ep.media_of("plain") is not None and ep.chapters[-1].title != "The summary, read aloud"
