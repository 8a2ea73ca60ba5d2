"""The real model on real (synthetic-speech) audio: order, timing, resume, silence, both engines."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import jiwer
import pytest

from pipeline.transcription import TranscriptionOptions, load_glossary, transcribe
from tests.conftest import require_module

pytestmark = pytest.mark.slow

SPEECH = Path(__file__).resolve().parent.parent / "fixtures" / "speech"
TALK = SPEECH / "clinic_talk.mp3"
# 20-s blocks make the 57-s talk span three blocks, so cuts and resuming across them are tested;
# two of them are transcribed side by side, as on a two-core worker.
OPTIONS = TranscriptionOptions(block_seconds=20, parallel=2)


def words_of(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


@pytest.fixture(scope="module")
def full_run():
    segments, info = transcribe(TALK, OPTIONS)
    return list(segments), info


def test_segments_are_ordered_timed_and_inside_the_recording(full_run):
    segments, info = full_run
    assert info.engine == "faster-whisper" and info.model == "tiny.en"
    assert info.options["block_seconds"] == 20 and 56 < info.duration < 58
    assert [s.index for s in segments] == list(range(len(segments)))
    ends = 0.0
    for s in segments:
        assert ends <= s.start <= s.end <= info.duration
        assert s.words and all(s.start <= w.start <= w.end <= s.end for w in s.words)
        ends = s.end
    heard = " ".join(s.text for s in segments)
    assert jiwer.wer(" ".join(words_of(TALK.with_suffix(".txt").read_text())), " ".join(words_of(heard))) < 0.4


def test_resume_after_kill_gives_the_same_text(full_run):
    reference, _ = full_run
    stream, _ = transcribe(TALK, OPTIONS)
    saved = []
    for segment in stream:  # the worker dies after saving a few segments from the middle block
        saved.append(segment)
        if segment.end > 25:
            break
    stream.close()
    assert 0 < len(saved) < len(reference)
    rest, _ = transcribe(TALK, OPTIONS, start_at=saved[-1].end, first_index=len(saved))
    resumed = saved + list(rest)
    # Same blocks, same decoding: identical words and times, nothing duplicated or missing.
    assert [(s.index, s.text, s.start, s.end) for s in resumed] == \
        [(s.index, s.text, s.start, s.end) for s in reference]


def test_blocks_side_by_side_give_the_same_transcript_as_one_at_a_time(full_run):
    reference, _ = full_run
    for parallel in (1, 3):
        segments, _ = transcribe(TALK, replace(OPTIONS, parallel=parallel))
        assert [(s.index, s.text, s.start, s.end, s.words) for s in segments] == \
            [(s.index, s.text, s.start, s.end, s.words) for s in reference]


def test_glossary_fixes_terms_in_a_real_transcript(full_run):
    segments, _ = full_run
    glossary = load_glossary()
    notes = TALK.with_suffix(".txt").read_text()
    fixed, corrections = glossary.correct(segments, active_terms=glossary.hotwords_for(notes))
    text = " ".join(s.text for s in fixed)
    expected = [t.term for t in glossary.terms_in(notes) if t.category in ("maker", "platform", "product")]
    found = [t for t in expected if t.lower() in text.lower()]
    before = [t for t in expected if t.lower() in " ".join(s.text for s in segments).lower()]
    assert corrections and len(found) > len(before)
    assert "Thank you for listening" in text


def test_a_silent_minute_yields_no_text(tmp_path):
    quiet = tmp_path / "quiet.wav"
    # A minute of room tone at -70 dBFS: what a recorder captures when nobody speaks.
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=60:c=pink:a=0.0003:r=16000",
                    "-ac", "1", str(quiet)], check=True)
    for options in (TranscriptionOptions(), TranscriptionOptions(batch_size=0)):
        segments, info = transcribe(quiet, options)
        assert 59.5 < info.duration < 60.5
        assert [s.text for s in segments] == []


def test_both_engines_agree_on_the_same_weights(tmp_path):
    require_module("whisper")
    clip = SPEECH / "plain_talk.mp3"
    texts = {}
    for engine in ("faster-whisper", "openai-whisper"):
        # Greedy keeps the slow reference engine to one pass; both decode the same way.
        options = TranscriptionOptions(engine=engine, batch_size=0, beam_size=1, word_timestamps=False)
        segments, _ = transcribe(clip, options, cache_dir=str(tmp_path))
        texts[engine] = " ".join(words_of(" ".join(s.text for s in segments)))
    reference = " ".join(words_of(clip.with_suffix(".txt").read_text()))
    # int8 CTranslate2 and fp32 PyTorch differ in rounding only; on clean speech that moves at
    # most a word or two of 55.
    assert jiwer.wer(texts["openai-whisper"], texts["faster-whisper"]) <= 0.05
    assert jiwer.wer(reference, texts["openai-whisper"]) < 0.15
    assert list(tmp_path.glob("whisper-*.pt"))
