"""The speech model's veto over post-corrections, on the real sample lecture and tiny.en: a
rewrite the audio contradicts is undone (and its correction no longer recorded), one the audio
supports stays, and the sample's known mishearings are still restored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.transcription import Correction, TranscriptionOptions, Word, load_glossary, transcribe
from pipeline.transcription.acoustic import AcousticCheck, edits_between, with_edits
from pipeline.transcription.acoustic import check_for as acoustic_check_for
from pipeline.transcription.engines import hotwords_prompt
from pipeline.transcription.finish import correct_transcript
from pipeline.transcription.vocabulary import EpisodeKnowledge, is_rare, knowledge_vocabulary
from pipeline.words import phrase_words

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LECTURE = ROOT / "pipeline" / "sample" / "lecture.mp3"
NOTES = (ROOT / "pipeline" / "sample" / "lecture.md").read_text()
SAMPLE = EpisodeKnowledge("Picosecond lasers for melasma and PIH", NOTES, ("Dr. Ana Ribeiro",),
                          "Aesthetic Lasers Summit 2026", ("Melasma", "Picosecond laser"), "lecture.mp3")


@pytest.fixture(scope="module")
def heard():
    glossary = load_glossary()
    hot = glossary.hotwords_for(NOTES, extra=list(knowledge_vocabulary(SAMPLE, glossary)))
    segments, _info = transcribe(LECTURE, TranscriptionOptions(hotwords=hot))
    return glossary, hot, list(segments)


def check_for(hot) -> AcousticCheck:
    check = acoustic_check_for(LECTURE, TranscriptionOptions(), hotwords_prompt(hot))
    assert check is not None  # the bundled CTranslate2 model is always there
    return check


def rewrite(seg, position: int, size: int, text: str):
    """The segment with ``size`` words from ``position`` merged into one word saying ``text``."""
    span = seg.words[position:position + size]
    merged = Word(span[0].start, span[-1].end, " " + text, 0.5)
    words = [*seg.words[:position], merged, *seg.words[position + size:]]
    return replace(seg, text="".join(w.word for w in words).strip(), words=words)


def longest(segments):
    return max(range(len(segments)), key=lambda i: len(segments[i].words))


def ordinary_run(seg, size: int = 3) -> int:
    """Where ``size`` heard words in a row are all real words (the rewrites the check judges)."""
    return next(i for i in range(len(seg.words) - size)
                if not any(is_rare(w) for word in seg.words[i:i + size] for w in phrase_words(word.word)))


def test_a_rewrite_the_audio_contradicts_is_undone_and_no_longer_recorded(heard):
    _glossary, hot, segments = heard
    i = longest(segments)
    seg = segments[i]
    at = ordinary_run(seg)
    wrong = rewrite(seg, at, 3, "Juvederm Voluma Daxxify")
    said = "".join(w.word for w in seg.words[at:at + 3]).strip()
    correction = Correction(seg.index, said, "Juvederm Voluma Daxxify", "Juvederm Voluma", 0.8)
    check = check_for(hot)
    fixed, kept = check.confirm(segments, [*segments[:i], wrong, *segments[i + 1:]], [correction])
    assert fixed[i].text == seg.text and [w.word for w in fixed[i].words] == [w.word for w in seg.words]
    assert kept == [] and check.undone == [correction]
    assert check.summary()["judged"] == 1 and check.summary()["undone"] == [
        {"original": said, "corrected": "Juvederm Voluma Daxxify"}]


def test_a_rewrite_back_to_what_was_said_stays(heard):
    """Given a transcript with three words garbled, the rewrite to what tiny.en heard is supported."""
    _glossary, hot, segments = heard
    i = longest(segments)
    garbled = rewrite(segments[i], ordinary_run(segments[i]), 3, "marmalade trombone")
    heard_garbled = [*segments[:i], garbled, *segments[i + 1:]]
    correction = Correction(segments[i].index, "marmalade trombone", "restored", "restored", 0.8)
    check = check_for(hot)
    fixed, kept = check.confirm(heard_garbled, segments, [correction])
    assert fixed[i].text == segments[i].text and kept == [correction] and check.undone == []


def test_a_word_whisper_could_not_spell_is_rewritten_unjudged(heard):
    _glossary, hot, segments = heard
    i = longest(segments)
    nonword = rewrite(segments[i], ordinary_run(segments[i]), 1, "Zxqvbrt")
    check = check_for(hot)
    wrong = rewrite(nonword, ordinary_run(segments[i]), 1, "Juvederm")
    fixed, _kept = check.confirm([*segments[:i], nonword, *segments[i + 1:]], [*segments[:i], wrong, *segments[i + 1:]], [])
    assert fixed[i].text == wrong.text and check.judged == 0


def test_edits_are_found_and_applied_one_by_one(heard):
    _glossary, _hot, segments = heard
    seg = segments[longest(segments)]
    once = rewrite(rewrite(seg, 5, 1, "alpha"), 1, 2, "beta")
    edits = edits_between(seg.words, once.words)
    assert [(e.first, e.last, e.text) for e in edits] == [(1, 3, "beta"), (5, 6, "alpha")]
    assert [w.word for w in with_edits(seg.words, edits[1:])] == [w.word for w in rewrite(seg, 5, 1, "alpha").words]


def test_the_samples_mishearings_are_still_restored_with_the_check(heard):
    glossary, hot, segments = heard
    check = check_for(hot)
    fixed, corrections = correct_transcript(segments, glossary, SAMPLE, hot, check)
    text = " ".join(s.text for s in fixed)
    for right in ("Fitzpatrick", "photograph", "Mottled hypopigmentation"):
        assert right in text
    assert check.judged >= 3 and {"photograph", "mottled hypopigmentation"} <= {c.term.lower() for c in corrections}
