"""Who is speaking: the voice encoder's front end, the DER scorer, cutting segments where the
voice changes, and the real encoder on the four-voice round table and the one-voice lecture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.settings import load_settings
from pipeline.speakers import diarization_wanted
from pipeline.transcription import Segment, TranscriptionOptions, Word, transcribe
from pipeline.transcription.der import diarization_error_rate
from pipeline.transcription.diarize import (DiarizationOptions, Turn, cluster_voices, diarize, split_by_speaker,
                                            stretches_of)
from tests.conftest import SAMPLE, require_module

ROUND_TABLE = Path(__file__).resolve().parent.parent / "fixtures" / "roundtable"
REFERENCE = json.loads((ROUND_TABLE / "reference.json").read_text())
REF_TURNS = [(t["start"], t["end"], t["speaker"]) for t in REFERENCE["turns"]]


def words(*spans) -> list[Word]:
    return [Word(start=a, end=b, word=f" w{n}", probability=0.9) for n, (a, b) in enumerate(spans)]


def test_mel_front_end_is_the_one_the_encoder_was_trained_with():
    librosa, torch = require_module("librosa"), require_module("torch")
    from pipeline.transcription.voiceprint import mel_filters, mel_frames

    assert np.allclose(mel_filters(), librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), atol=1e-8)
    noise = np.random.default_rng(1).normal(0, 0.2, 25600).astype(np.float32)
    levelled = noise * (10 ** (-30 / 20) / np.sqrt(np.mean(noise ** 2)))
    expected = librosa.feature.melspectrogram(y=levelled, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    got = mel_frames(torch, noise)[0].numpy()
    assert got.shape == expected.shape == (161, 40)
    assert np.abs(got - expected).max() <= 1e-4 * expected.max()


def test_der_is_zero_for_the_same_turns_under_other_names_and_counts_each_error():
    ref = [(0.0, 10.0, "a"), (10.0, 20.0, "b")]
    assert diarization_error_rate(ref, [(0.0, 10.0, 7), (10.0, 20.0, 3)]).der == 0.0
    # a boundary 0.2 s off is inside the 0.25-s collar; 0.5 s off is not
    assert diarization_error_rate(ref, [(0.0, 10.2, 1), (10.2, 20.0, 2)]).der == 0.0
    shifted = diarization_error_rate(ref, [(0.0, 10.5, 1), (10.5, 20.0, 2)])
    assert shifted.confusion == pytest.approx(0.25, abs=0.02) and shifted.der == pytest.approx(0.25 / 19.0, abs=2e-3)
    one_voice = diarization_error_rate(ref, [(0.0, 20.0, 1)])
    assert one_voice.confusion == pytest.approx(9.5, abs=0.02) and one_voice.der == pytest.approx(0.5, abs=0.01)
    missed = diarization_error_rate(ref, [(0.0, 10.0, 1)])
    assert missed.missed == pytest.approx(9.5, abs=0.02) and missed.false_alarm == 0.0
    invented = diarization_error_rate(ref, [(0.0, 10.0, 1), (10.0, 20.0, 2), (25.0, 27.0, 2)])
    assert invented.false_alarm == pytest.approx(2.0, abs=0.02)


def test_stretches_end_at_pauses_and_after_a_few_seconds():
    found = stretches_of(words((0.0, 0.5), (0.6, 1.0), (1.5, 2.0), *[(2.0 + k, 2.9 + k) for k in range(1, 8)]),
                         DiarizationOptions(pause_seconds=0.3, stretch_seconds=4.8))
    assert [s.words for s in found][:2] == [[0, 1], [2]]
    assert all(s.end - s.start <= 4.8 for s in found) and sum(len(s.words) for s in found) == 10


def test_a_segment_is_cut_where_the_voice_changes_and_renumbered():
    ws = words((0.0, 0.4), (0.5, 0.9), (1.4, 1.8), (1.9, 2.3))
    segments = [Segment(index=5, start=0.0, end=2.3, text="w0 w1 w2 w3", words=ws),
                Segment(index=6, start=3.7, end=4.2, text="tail")]
    out = split_by_speaker(segments, [Turn(0.0, 1.0, 0), Turn(1.3, 3.5, 1), Turn(3.6, 4.2, 0)])
    assert [(s.index, s.voice, s.text, s.start, s.end) for s in out] == [
        (5, 0, "w0 w1", 0.0, 0.9), (6, 1, "w2 w3", 1.4, 2.3), (7, 0, "tail", 3.7, 4.2)]


def test_clusters_are_bounded_ordered_and_brief_voices_absorbed():
    rng = np.random.default_rng(3)
    centres = np.eye(4, 16)
    order = [2, 0, 2, 1, 3, 0, 1, 3, 2, 0]
    prints = np.array([centres[k] + rng.normal(0, 0.05, 16) for k in order])
    prints /= np.linalg.norm(prints, axis=1, keepdims=True)
    weights = np.full(len(order), 3.0)
    labels = cluster_voices(prints, weights, DiarizationOptions(threshold=0.3, min_speaker_seconds=1.0))
    assert list(labels) == [0, 1, 0, 2, 3, 1, 2, 3, 0, 1]  # numbered in order of first speaking
    assert cluster_voices(prints, weights, DiarizationOptions(threshold=0.3, max_speakers=2,
                                                              min_speaker_seconds=1.0)).max() == 1
    weights[[4, 7]] = 0.5  # the fourth voice says two words: it joins a real one
    assert cluster_voices(prints, weights, DiarizationOptions(threshold=0.3, min_speaker_seconds=4.0)).max() == 2
    # a stray stretch unlike any voice does not take one of the places the notes allow
    stray = np.vstack([prints, np.eye(1, 16, 9)])
    found = cluster_voices(stray, np.append(np.full(len(order), 3.0), 0.3),
                           DiarizationOptions(threshold=0.3, max_speakers=4, min_speaker_seconds=1.0))
    assert found.max() == 3 and list(found[:10]) == [0, 1, 0, 2, 3, 1, 2, 3, 0, 1]


def test_diarization_mode_setting():
    assert diarization_wanted(load_settings({"DIARIZATION": "off"})) is False
    assert diarization_wanted(load_settings({"DIARIZATION": "ON"})) is True
    with pytest.raises(ConfigError, match="auto, on or off"):
        diarization_wanted(load_settings({"DIARIZATION": "sometimes"}))


@pytest.fixture(scope="module")
def heard_round_table():
    segments, _info = transcribe(ROUND_TABLE / "roundtable.mp3", TranscriptionOptions())
    return list(segments)


@pytest.mark.slow
def test_round_table_has_four_voices_and_its_turns(heard_round_table):
    require_module("torch")
    turns, info = diarize(ROUND_TABLE / "roundtable.mp3", [w for s in heard_round_table for w in s.words])
    assert info.speakers == 4
    assert abs(len(turns) - len(REF_TURNS)) <= 3
    segments = split_by_speaker(heard_round_table, turns)
    scored = diarization_error_rate(REF_TURNS, [(s.start, s.end, s.voice) for s in segments])
    assert scored.der <= 0.10, scored
    assert sorted(scored.mapping.values()) == sorted(REFERENCE["speakers"])
    assert scored.mapping[0] == "moderator"  # voice 0 is the first to speak


@pytest.mark.slow
def test_round_table_bounded_by_the_notes_speakers(heard_round_table):
    require_module("torch")
    heard = [w for s in heard_round_table for w in s.words]
    for bound in (4, 2):
        _turns, info = diarize(ROUND_TABLE / "roundtable.mp3", heard, DiarizationOptions(max_speakers=bound))
        assert info.speakers == bound


@pytest.mark.slow
def test_the_sample_lecture_is_one_speaker():
    require_module("torch")
    segments, _info = transcribe(SAMPLE / "lecture.mp3", TranscriptionOptions())
    turns, info = diarize(SAMPLE / "lecture.mp3", [w for s in segments for w in s.words])  # no bound from notes
    assert info.speakers == 1 and len(turns) == 1 and info.windows > 50


def test_broken_encoder_weights_are_a_clear_transcription_error(tmp_path):
    require_module("torch")
    from pipeline.errors import TranscriptionError
    from pipeline.transcription.voiceprint import VoiceEncoder

    broken = tmp_path / "pretrained.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(TranscriptionError, match="pretrained.pt cannot be loaded.*reinstall resemblyzer"):
        VoiceEncoder(broken)
