"""The episode's own vocabulary, sound-alike correction with context, and one transcript style
(no speech model run: heard text is given as Whisper wrote it on the sample lecture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.transcription import Segment, Word, load_glossary
from pipeline.transcription.engines import hotwords_prompt
from pipeline.transcription.finish import correct_transcript
from pipeline.transcription.phonetic import sound_closeness, sound_of
from pipeline.transcription.recall import EpisodeRecall
from pipeline.transcription.style import restyle, spellings
from pipeline.transcription.vocabulary import EpisodeKnowledge, known_phrases, knowledge_vocabulary

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_NOTES = (ROOT / "pipeline" / "sample" / "lecture.md").read_text()
SAMPLE = EpisodeKnowledge("Picosecond lasers for melasma and PIH", SAMPLE_NOTES, ("Dr. Ana Ribeiro",),
                          "Aesthetic Lasers Summit 2026", ("Melasma", "Picosecond laser"), "lecture.mp3")
FILLERS = EpisodeKnowledge("Hyaluronic acid fillers for the midface", """
## Anatomy
- The zygomatic ligament holds the malar fat pad; Restylane Lyft sits deep on bone.
- Aspirate, inject slowly, and watch for blanching of the overlying skin.
""", ("Dr. Leo Marchetti",), "Injectables Forum", ("Fillers",))
# What tiny.en wrote on the bundled sample (the "before" of issue 14), one segment per line.
HEARD = [
    "Before any laser, we fold a graph in a patient under standard and cross-polarized light and we record "
    "the Fitzpatrick skin type.",
    "Patients with its metric type 4 to 6 carry a much higher risk on post-inflammatory hyperpigmentation so we "
    "start lower and go slower.",
    "Every patient uses a rod spectrum sunscreen with iron oxides because visible light matters too.",
    "Modeled hyperpigmentation can appear after many sessions with the Q-switched technique, which is one reason "
    "we moved to picosecond devices.",
    "If a patient develops starconning, we stop treatment, intensifies on protection, and restart at lower "
    "fluence after eight weeks.",
]


def segments(lines: list[str], with_words: bool = True) -> list[Segment]:
    out, t = [], 0.0
    for i, line in enumerate(lines):
        words = []
        for w in line.split():
            words.append(Word(round(t, 2), round(t + 0.3, 2), " " + w, 0.9))
            t += 0.35
        out.append(Segment(i, words[0].start, words[-1].end, line, words if with_words else []))
    return out


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def text_of(segs) -> str:
    return " ".join(s.text for s in segs)


# -- how words sound ------------------------------------------------------------------------------
def test_mishearings_sound_like_their_terms_and_other_words_do_not():
    assert sound_of("photograph") == sound_of("fotograf")
    assert sound_closeness("fold a graph", "photograph") >= 0.8
    assert sound_closeness("Modeled hyperpigmentation", "mottled hypopigmentation") >= 0.8
    assert sound_closeness("its metric", "Fitzpatrick") >= 0.7
    assert sound_closeness("sunscreen", "Fitzpatrick") < 0.4
    assert sound_closeness("", "Fitzpatrick") == 0.0


# -- what the episode knows -----------------------------------------------------------------------
def test_known_phrases_come_from_every_part_of_the_episode():
    phrases = {p.text: p for p in known_phrases(SAMPLE)}
    # a bullet's first word is written small unless Whisper could not spell it (then it is kept
    # as written: in these notes that is mostly a brand)
    assert {"Fitzpatrick", "photograph", "Mottled hypopigmentation", "Ribeiro", "Aesthetic Lasers Summit"} <= set(phrases)
    assert phrases["Fitzpatrick"].rare and not phrases["photograph"].rare
    assert {"standard", "cross", "light", "fitzpatrick"} <= set(phrases["photograph"].context)
    # no phrase runs over a colon or starts/ends on a stop word
    assert "darkening stop" not in phrases and "of the" not in phrases and "and PIH" not in phrases
    source = {p.text for p in known_phrases(EpisodeKnowledge(source="palomar-starlux-talk.mp3"))}
    assert {"palomar", "starlux"} <= {s.lower() for s in source}


def test_vocabulary_for_hotwords_holds_names_and_rare_words(glossary):
    words = knowledge_vocabulary(SAMPLE, glossary)
    assert words[0] == "Dr. Ana Ribeiro"
    assert {"Fitzpatrick", "Q-switched", "Mottled", "hypopigmentation"} <= set(words)
    assert "photograph" not in words  # Whisper can spell ordinary words unaided


def test_hotwords_are_written_as_a_sentence_so_every_window_is_too():
    assert hotwords_prompt(["picosecond laser", "Fitzpatrick"]) == "Picosecond laser Fitzpatrick."
    assert hotwords_prompt(["", " "]) is None


# -- restoring the episode's words ----------------------------------------------------------------
def test_misheard_phrases_of_the_notes_are_restored_and_recorded(glossary):
    fixed, corrections = correct_transcript(segments(HEARD), glossary, SAMPLE)
    text = text_of(fixed)
    for right in ("we photograph in a patient", "with Fitzpatrick type 4 to 6", "broad-spectrum sunscreen",
                  "Mottled hypopigmentation can appear", "develops darkening, we stop"):
        assert right in text
    found = {(c.original, c.term) for c in corrections}
    assert ("fold a graph", "photograph") in found and ("its metric", "Fitzpatrick") in found
    assert all(0 < c.score <= 1 for c in corrections)
    # each corrected stretch becomes one word spanning the heard words' time
    [photo] = [w for w in fixed[0].words if "photograph" in w.word]
    assert photo.start == segments(HEARD)[0].words[4].start


def test_the_same_words_with_unrelated_notes_are_left_alone(glossary):
    fixed, corrections = correct_transcript(segments(HEARD), glossary, FILLERS)
    assert [c for c in corrections if c.term not in {t.term for t in glossary.terms}] == []
    assert "fold a graph" in text_of(fixed) and "its metric" in text_of(fixed)


def test_ordinary_speech_is_never_rewritten():
    notes = EpisodeKnowledge(notes="- Higher risk of PIH in darker skin; melasma and PIH relapse.\n"
                                   "- Topical tranexamic acid when not contraindicated.")
    recall = EpisodeRecall(known_phrases(notes), protected=["hyperpigmentation"])
    heard = ["There is a high risk of relapse in darker skin with melasma and this is PIH.",
             "Tranexamic acid is fine when there is no contraindication, topical or oral.",
             "Rebound hyperpigmentation and relapse in darker skin, melasma and PIH."]
    fixed, corrections = recall.correct(segments(heard))
    assert corrections == [] and [s.text for s in fixed] == heard


def test_short_ordinary_words_never_become_a_name(glossary):
    talk = EpisodeKnowledge("Light and lasers for rosacea", "## Devices\n- Face in minutes; three to five sessions.",
                            ("Dr. Maria Okafor",), "Vascular Lasers Day 2026")
    heard = ["Over the next hour I will cover how we classify patients with rosacea.",
             "The IPL treats the whole face in a few minutes, three to five sessions, and I'm happy with it."]
    fixed, corrections = correct_transcript(segments(heard), glossary, talk)
    assert corrections == [] and "I will cover" in fixed[0].text and "face in a few minutes" in fixed[1].text


def test_real_conversation_keeps_every_word(glossary):
    lines = [line for line in (ROOT / "benchmarks" / "data" / "real_speech.txt").read_text().splitlines() if line]
    for knowledge in (SAMPLE, FILLERS):
        _fixed, corrections = correct_transcript(segments(lines), glossary, knowledge)
        assert corrections == []


# -- one style --------------------------------------------------------------------------------------
def test_every_line_is_written_in_one_style_whatever_block_it_came_from():
    lines = ["good morning and welcome to this session on picosecond Lasers",
             "and pigment my name is ana ribeiro and i work in Lisbon",
             "Now the treatment settings. we use a q-switched laser",
             "The fluence is kept low."]
    known = spellings(["Dr. Ana Ribeiro"], ["Lisbon"], ["Q-switched"])
    for with_words in (True, False):
        fixed = restyle(segments(lines, with_words), known)
        assert [s.text for s in fixed] == [
            "Good morning and welcome to this session on picosecond lasers",
            "and pigment my name is Ana Ribeiro and I work in Lisbon.",
            "Now the treatment settings. We use a Q-switched laser.",
            "The fluence is kept low."]
        if with_words:
            assert all(s.text == "".join(w.word for w in s.words).strip() for s in fixed)


def test_a_silent_letter_alone_has_no_sound_and_breaks_nothing():
    from pipeline.transcription.phonetic import sound_of

    assert [sound_of(w) for w in ("h", "gh", "wh")] == ["", "", ""]
