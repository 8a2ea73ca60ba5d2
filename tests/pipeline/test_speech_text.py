"""Notes written for the ear: units, ranges, skin types, abbreviations, Markdown, the lexicon,
the opening and closing, and the errors for notes a voice cannot say. Plain text, no voice."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.errors import ConfigError, InvalidUpload
from pipeline.notes import Source, parse_notes
from pipeline.voice import MAX_SPEECH_WORDS, bundled_lexicon, script_for
from pipeline.voice.lexicon import Lexicon, Pronunciation, parse_pronunciations
from pipeline.voice.speech_text import Credits, sentences_of
from pipeline.voice.spoken_numbers import expand_numbers

CREDITS = Credits("Clinical Exchange", "Lasers for melasma", "Dr. Ana Ribeiro",
                  Source("Picosecond lasers in melasma", "article", "https://doi.org/10.1/x", ("A. Ribeiro", "T. Hale"),
                         date(2026, 3, 1)))


@pytest.mark.parametrize("written, said", [
    ("1064 nm at 12 J/cm²", "ten sixty-four nanometers at twelve joules per square centimeter"),
    ("a 755-nm laser", "a seven fifty-five nanometer laser"),
    ("heals in 3-5 days", "heals in three to five days"),
    ("rest 45 min", "rest forty-five minutes"),
    ("Fitzpatrick IV–VI", "Fitzpatrick four to six"),
    ("skin types I-III", "skin types one to three"),
    ("1.5 mL of 30%", "one point five milliliters of thirty percent"),
    ("in 2026", "in twenty twenty-six"),
    ("the 3rd session on June 22nd", "the third session on June twenty-second"),
    ("the 11th and 21st visits", "the eleventh and twenty-first visits"),
])
def test_clinical_writing_is_said_in_words(written, said):
    assert expand_numbers(written) == said


def test_markdown_links_emphasis_and_code_are_stripped_and_shorthand_expanded():
    [sentence] = sentences_of("See **the** [guide](https://x.org/a) with `code`, e.g. *this* & that", Lexicon([]))
    assert sentence.display == "See the guide with code, for example this and that."


def test_the_lexicon_gives_phonemes_to_the_voice_and_the_written_term_to_the_transcript():
    [sentence] = sentences_of("Sciton and PIH after HSV.", bundled_lexicon())
    assert sentence.display == "Sciton and post-inflammatory hyperpigmentation after HSV."
    assert sentence.spoken == "[[sˈaɪ tˌɑːn]] and post-inflammatory hyperpigmentation after H S V."


def test_a_pronunciation_with_characters_the_voice_cannot_say_is_refused():
    with pytest.raises(ConfigError, match="cannot say"):
        parse_pronunciations([{"term": "Sciton", "phonemes": "SIGH-tawn"}], "test")
    with pytest.raises(ConfigError, match="needs phonemes"):
        parse_pronunciations([{"term": "Sciton"}], "test")


def test_headings_are_chapters_bullets_sentences_and_the_opening_cites_the_source():
    notes = "# Lasers for melasma\nMelasma relapses.\n## Who to treat\n- Fitzpatrick IV–VI skin\n- test spots first\n"
    script = script_for(notes, CREDITS, bundled_lexicon())
    kinds = [(b.kind, b.chapter, b.section, b.bullet) for b in script.blocks]
    assert kinds == [("opening", "Opening", None, None), ("body", None, 0, None), ("heading", "Who to treat", 1, None),
                     ("bullet", None, None, 0), ("bullet", None, None, 1), ("closing", None, None, None)]
    opening = " ".join(s.display for s in script.blocks[0].sentences)
    assert "This is a summary written by Doctor Ana Ribeiro, not the original article." in opening
    assert "the article Picosecond lasers in melasma by A. Ribeiro and T. Hale, March first, twenty twenty-six" in opening
    assert script.blocks[3].sentences[0].display == "Fitzpatrick four to six skin."
    assert script.blocks[2].pause_after > script.blocks[3].pause_after
    assert "linked in the show notes" in script.blocks[-1].sentences[-1].display


@pytest.mark.parametrize("notes, message", [
    ("", "The notes are empty"),
    ("   \n\n", "The notes are empty"),
    ("[](https://x.org)\n\n```\ncode\n```\n- ✓ !\n", "nothing a voice can say"),
    ("word " * (MAX_SPEECH_WORDS + 1), "at most"),
])
def test_notes_a_voice_cannot_say_are_refused_with_a_reason(notes, message):
    with pytest.raises(InvalidUpload, match=message):
        script_for(notes, CREDITS, bundled_lexicon())


def test_source_front_matter_is_read_and_checked():
    notes = parse_notes("---\nsource: {title: A guide, kind: guide, url: https://example.org/g, authors: Dr. X,"
                        " date: 2026-01-02}\n---\n# Body\n")
    assert notes.meta.source == Source("A guide", "guide", "https://example.org/g", ("Dr. X",), date(2026, 1, 2))
    for bad, message in [("{title: A, kind: podcast}", "must be one of"), ("{url: https://x.org}", "at least 'title'"),
                         ("{title: A, url: ftp://x}", "web address"), ("{title: A, pages: 3}", "unknown field")]:
        with pytest.raises(InvalidUpload, match=message):
            parse_notes(f"---\nsource: {bad}\n---\nx\n")
