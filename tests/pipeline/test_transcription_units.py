"""Transcription pieces that need no speech model run: glossary, guards, outputs, converter, blocks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import srt
import webvtt

from pipeline.errors import ConfigError, TranscriptionError
from pipeline.transcription import (
    Segment, TranscriptionOptions, Word, bundled_model_path, decode_blocks, load_glossary, to_json,
    to_srt, to_text, to_vtt,
)
from pipeline.transcription import engines
from pipeline.transcription.convert import read_ct2_model, whisper_state_dict
from pipeline.transcription.guards import Timeline, break_loops, is_hallucination
from tests.conftest import require_module

SPEECH = Path(__file__).resolve().parent.parent / "fixtures" / "speech"


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def seg(text: str, index: int = 0, start: float = 0.0, end: float = 5.0, **kw) -> Segment:
    return Segment(index, start, end, text, **kw)


# -- glossary -----------------------------------------------------------------------------------
def test_bundled_glossary_is_large_and_categorized(glossary):
    assert len(glossary) >= 400
    categories = {t.category for t in glossary.terms}
    assert {"platform", "maker", "product", "procedure", "indication", "complication",
            "skin", "abbreviation", "anatomy"} <= categories
    names = {t.term for t in glossary.terms}
    assert {"Sciton", "Lumenis", "Morpheus8", "Daxxify", "Tyndall effect", "hyaluronidase"} <= names


@pytest.mark.parametrize("heard, expected", [
    ("The sit and BBL and the lumen is IPL.", "The Sciton BBL and the Lumenis IPL."),
    ("We used Zeomin and this port for the glabella.", "We used Xeomin and Dysport for the glabella."),
    ("Watch for a dint all effect after a muscular occlusion.",
     "Watch for a Tyndall effect after a vascular occlusion."),
    ("She had fractle and Morpheus 8 in Fitzpatrick type four.",
     "She had Fraxel and Morpheus8 in Fitzpatrick type IV."),
    ("Then pico sure for the tattoo, then telangectasia with the V beam.",
     "Then PicoSure for the tattoo, then telangiectasia with the VBeam."),
])
def test_known_mishearings_become_terms(glossary, heard, expected):
    fixed, corrections = glossary.correct([seg(heard)])
    assert fixed[0].text == expected
    assert corrections and all(c.segment_index == 0 and c.score >= 0.85 for c in corrections)


@pytest.mark.parametrize("text", [
    "We sat and talked about the garden, then we sit and wait for the bus.",
    "The lumen is narrow and the radius is short; hello to everyone in the room.",
    "A fractional increase in the volume is a pixel on the screen.",
    "He walked along the river to the old bridge with a cup of coffee.",
])
def test_ordinary_words_are_left_alone(glossary, text):
    fixed, corrections = glossary.correct([seg(text)])
    assert fixed[0].text == text and corrections == []


def test_ordinary_word_mishearing_needs_context(glossary):
    heard = "We sit and review the results."
    assert glossary.correct([seg(heard)])[1] == []
    fixed, corrections = glossary.correct([seg(heard)], active_terms=["Sciton"])
    assert fixed[0].text == "We Sciton review the results."
    assert corrections[0].original == "sit and" and corrections[0].term == "Sciton"


def test_correction_keeps_word_timestamps(glossary):
    words = [Word(0.0, 0.4, " The", 0.9), Word(0.4, 0.8, " sit", 0.5), Word(0.8, 1.1, " and", 0.6),
             Word(1.1, 1.6, " BBL.", 0.9)]
    fixed, _ = glossary.correct([seg("The sit and BBL.", words=words, end=1.6)])
    assert [w.word for w in fixed[0].words] == [" The", " Sciton", " BBL."]
    assert fixed[0].words[1].start == 0.4 and fixed[0].words[1].end == 1.1


@pytest.mark.parametrize("said", [
    "We use the 595 nanometers pulsed dye laser on vessels.",  # was rewritten to "755 nanometer"
    "In Fitzpatrick 4 to 6 we lower the fluence.",  # was "Fitzpatrick to 6": the number dropped
    "Treat Fitzpatrick 4-6 skin with care.",
])
def test_a_guess_by_spelling_or_sound_never_changes_a_number_or_a_plural(glossary, said):
    hot = glossary.hotwords_for("595 nm pulsed dye laser. Fitzpatrick IV-VI. 755 nm alexandrite")
    fixed, corrections = glossary.correct([seg(said)], active_terms=hot)
    assert fixed[0].text.strip() == said and corrections == []


def test_a_listed_mishearing_with_a_number_is_still_corrected(glossary):
    fixed, _ = glossary.correct([seg("Patients of fitzpatrick type 4 tan easily.")])
    assert "Fitzpatrick type IV" in fixed[0].text


def test_hotwords_come_from_context(glossary):
    notes = "Dr Lee compared Morpheus8 with Sofwave for laxity; one case of Tyndall effect."
    hot = glossary.hotwords_for(notes, extra=["Dr Ana Lee", "IMCAS Paris"])
    assert hot[:2] == ["Dr Ana Lee", "IMCAS Paris"]
    assert {"Morpheus8", "Sofwave", "Tyndall effect"} <= set(hot)
    assert "Botox" not in hot
    assert len(" ".join(hot)) <= 600


def test_extra_file_and_database_terms_merge(tmp_path):
    extra = tmp_path / "more.yaml"
    extra.write_text("terms:\n  - {term: Zynexa, category: product, mishearings: [zine exa]}\n"
                     "  - {term: Sciton, category: maker, mishearings: [sigh tone]}\n")
    glossary = load_glossary(str(extra), [("Quadrafil", "product", ["quad refill"])])
    heard = seg("Zine exa after quad refill with the sigh tone laser.")
    text = glossary.correct([heard], active_terms=["Quadrafil", "Sciton"])[0][0].text
    assert text == "Zynexa after Quadrafil with the Sciton laser."
    sciton = next(t for t in glossary.terms if t.term == "Sciton")
    assert "sit and" in sciton.mishearings and "sigh tone" in sciton.mishearings


def test_bad_glossary_file_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("terms:\n  - {term: Foo, category: gadget}\n")
    with pytest.raises(ConfigError, match="unknown category"):
        load_glossary(str(bad))


# -- guards -----------------------------------------------------------------------------------
def test_repetition_loop_collapses():
    looped = "We inject the filler. " + "Thank you. " * 12 + "Next slide."
    fixed = break_loops(seg(looped))
    assert fixed.text == "We inject the filler. Thank you. Next slide."
    assert break_loops(seg("no, no, no, not there")).text == "no, no, no, not there"


def test_loop_in_words_collapses_words_too():
    words = [Word(i * 0.2, i * 0.2 + 0.2, " the", 0.5) for i in range(10)]
    fixed = break_loops(seg(" the" * 10, words=words))
    assert fixed.text == "the" and len(fixed.words) == 1


def test_unsure_text_over_silence_is_dropped():
    assert is_hallucination(seg("Thanks for watching!", avg_logprob=-1.3, no_speech_prob=0.8))
    assert not is_hallucination(seg("Thanks for watching!", avg_logprob=-0.3, no_speech_prob=0.8))
    assert is_hallucination(seg("la " * 80, avg_logprob=-0.2, no_speech_prob=0.0))


def test_timeline_is_monotonic_and_bounded():
    line = Timeline(10.0, 20.0)
    a = line.place(seg("one", start=9.0, end=12.0, words=[Word(9.0, 12.0, " one", 1.0)]))
    b = line.place(seg("two", start=11.0, end=25.0))
    assert (a.start, a.end) == (10.0, 12.0) and a.words[0].start == 10.0
    assert (b.start, b.end) == (12.0, 20.0)


# -- outputs ----------------------------------------------------------------------------------
SEGMENTS = [
    Segment(0, 0.5, 3.25, "Welcome to the IPL session.", speaker="Dr Ana Lee"),
    Segment(1, 3.25, 7.0, "Fluence --> matters & <so> does cooling."),
    Segment(2, 3661.5, 3663.0, "An hour later."),
]


def test_vtt_parses_with_webvtt_py(tmp_path):
    path = tmp_path / "t.vtt"
    path.write_text(to_vtt(SEGMENTS))
    captions = webvtt.read(str(path))
    assert len(captions) == 3
    assert captions[0].voice == "Dr Ana Lee" and captions[0].text == "Welcome to the IPL session."
    # Markup characters are escaped, and "-->" cannot end up inside a cue.
    assert captions[1].start == "00:00:03.250"
    assert captions[1].text == "Fluence -&gt; matters &amp; &lt;so&gt; does cooling."
    assert captions[2].start == "01:01:01.500"


def test_srt_parses_with_srt():
    subs = list(srt.parse(to_srt(SEGMENTS)))
    assert [s.index for s in subs] == [1, 2, 3]
    assert subs[0].content == "Dr Ana Lee: Welcome to the IPL session."
    assert subs[2].start.total_seconds() == 3661.5


def test_json_is_podcasting_2_transcript():
    doc = json.loads(to_json(SEGMENTS))
    assert doc["version"] == "1.0.0"
    assert doc["segments"][0] == {"startTime": 0.5, "endTime": 3.25, "body": "Welcome to the IPL session.",
                                  "speaker": "Dr Ana Lee"}
    assert "speaker" not in doc["segments"][1]


def test_text_has_speaker_turns():
    assert to_text(SEGMENTS).startswith("Dr Ana Lee:\nWelcome to the IPL session.\n")


# -- model file, converter, audio blocks ------------------------------------------------------
def test_bundled_model_checksum_is_verified(monkeypatch):
    assert (bundled_model_path() / "model.bin").is_file()
    monkeypatch.setattr(engines, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(TranscriptionError, match="checksum"):
        engines.bundled_model_path.__wrapped__()


@pytest.mark.slow  # imports torch
def test_converter_fills_every_openai_whisper_weight():
    whisper = require_module("whisper")
    dims, sd = whisper_state_dict(read_ct2_model(bundled_model_path() / "model.bin"))
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**dims))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in sd.items()} == expected


def test_blocks_cover_the_audio_and_cut_in_pauses(tmp_path):
    # 50 s of tones with a 0.4 s pause every 2.5 s; blocks of 10 s must cut inside a pause.
    sr, tone = 16000, []
    for k in range(20):
        t = np.arange(int(2.1 * sr)) / sr
        tone += [0.3 * np.sin(2 * np.pi * (200 + 10 * k) * t), np.zeros(int(0.4 * sr))]
    audio = (np.concatenate(tone) * 32767).astype(np.int16)
    wav = tmp_path / "tones.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", "-", str(wav)],
                   input=audio.tobytes(), check=True)
    blocks = list(decode_blocks(wav, block_seconds=10))
    assert sum(len(b) for _, b in blocks) == len(audio)
    assert len(blocks) == 5
    for start, samples in blocks[1:]:
        assert np.abs(samples[:800]).max() < 0.01  # starts in silence
        assert abs(start - round(start / 10) * 10) <= 2.5


def test_options_from_settings():
    from pipeline.settings import load_settings

    settings = load_settings({"WHISPER_BEAM_SIZE": 2, "WHISPER_BATCH_SIZE": 0, "WHISPER_PARALLEL": 1}, environ={})
    options = TranscriptionOptions.from_settings(settings, hotwords=["Sciton"])
    assert (options.engine, options.model, options.beam_size, options.batch_size, options.parallel) == \
        ("faster-whisper", "tiny.en", 2, 0, 1)
    assert options.as_dict()["hotwords"] == ["Sciton"]


@pytest.mark.parametrize("engine, threads, parallel, expected", [
    ("faster-whisper", 2, 0, (2, 1)),   # two cores: two blocks side by side, a thread each
    ("faster-whisper", 8, 0, (4, 2)),   # at most four blocks; the threads are shared out
    ("faster-whisper", 1, 0, (1, 1)),
    ("faster-whisper", 4, 1, (1, 4)),   # one block at a time, streaming each segment
    ("faster-whisper", 2, 4, (4, 1)),   # asked for more blocks than threads: one thread each
    ("openai-whisper", 4, 0, (1, 4)),   # the reference engine runs one block at a time
])
def test_parallel_plan(engine, threads, parallel, expected):
    options = TranscriptionOptions(engine=engine, threads=threads, parallel=parallel)
    assert engines.plan(options) == expected
