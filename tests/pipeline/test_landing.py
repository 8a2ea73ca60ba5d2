"""Listen-at moments on the words: bullets land on the sentence that begins their passage,
search hits on the word that matched (no model: word times are given)."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.pairing.alignment import AnchorResult
from pipeline.pairing.landing import first_match, land_anchors, land_passage, timed_words


def row(start: float, text: str, step: float = 0.4, stored: bool = True):
    words = [{"start": round(start + k * step, 2), "end": round(start + k * step + 0.3, 2), "word": " " + w,
              "probability": 1.0} for k, w in enumerate(text.split())]
    return SimpleNamespace(start=start, end=words[-1]["end"], text=text, words=words if stored else [])


ROWS = [row(60.0, "Sessions are spaced four weeks apart. For epidermal pigment, the 532 nm wavelength can help."),
        row(66.0, "Combination therapy. Every patient uses a broad-spectrum sunscreen with iron oxides."),
        row(72.0, "now the first device intense pulsed light is a broad spectrum flash lamp and a cutoff filter "
                  "removes the shorter wavelengths")]
WORDS = timed_words(ROWS)


def test_a_bullet_lands_on_the_sentence_that_begins_its_passage():
    start, share = land_passage(WORDS, "532 nm helps epidermal pigment, in lighter skin types only.", near=60.0)
    assert start == 62.4 and 0.5 < share < 1  # "For epidermal pigment", not the segment's start at 60.0
    start, _ = land_passage(WORDS, "Broad-spectrum sunscreen with iron oxides for visible light.", near=60.0)
    assert start == 66.8
    assert land_passage(WORDS, "Hyaluronidase for occlusion.", near=60.0) is None


def test_in_a_sentence_without_full_stops_it_lands_on_the_opening_words():
    start, _ = land_passage(WORDS, "Flash lamp with a cutoff filter for redness.", near=66.0)
    assert start == 72.0 + 11 * 0.4  # "flash", not "now the first device" 4.4 s before


def test_anchors_move_and_gain_confidence_from_the_words_said():
    anchors = [AnchorResult("section", 0, "Settings", 60.0, 0.8),
               AnchorResult("bullet", 0, "Broad-spectrum sunscreen with iron oxides", 60.0, 0.05),
               AnchorResult("bullet", 1, "Not placed", None, 0.0)]
    section, bullet, unplaced = land_anchors(anchors, WORDS)
    assert section == anchors[0] and unplaced == anchors[2]
    assert bullet.start == 66.8 and bullet.confidence == 1.0


def test_edited_lines_spread_their_words_over_their_time():
    edited = row(10.0, "We photograph the patient")
    edited.text = "We photograph every patient twice"  # an editor's fix: stored words no longer match
    words = timed_words([edited])
    assert [w.text.strip() for w in words] == edited.text.split()
    assert words[0].start == 10.0 and words[0].opens and words[-1].end == edited.end


def test_a_search_hit_opens_on_the_matching_word():
    assert first_match(WORDS, ["sunscreen"]) == 66.0 + 7 * 0.4
    assert first_match(WORDS, ["iron", "oxi"]) == 66.0 + 9 * 0.4  # the last word as a prefix, as search does
    assert first_match(WORDS, ["fillers"]) is None


# Whisper's words for part 3 of benchmarks/pairing.py's lecture (tiny.en; "missiles" for vessels).
LASERS = timed_words([
    row(92.0, "The second device is the pulsed dye laser at 755 nanometer."),
    row(97.5, "The pulsed dye laser is the gold standard for discrete missiles. With long pulse duration it "
              "heats the missile without bursting it."),
    row(105.3, "With short pulses heat causes purpura, a bruise net lasts about 10 days.")])


def test_a_passage_reaches_back_over_sentences_that_say_more_of_the_opening():
    # "short pulses ... purpura ... days" says most of the bullet, but "long pulse ... heats" begins
    # the passage; the gold-standard sentence before it says only "pulse", which the passage says too.
    start, _ = land_passage(LASERS, "Long pulses heat vessels without purpura; short pulses bruise for ten days.",
                            near=97.5)
    assert start == round(97.5 + 11 * 0.4, 2)
    # "755 nanometer" is the line's "nm", said in the sentence before the one that says the rest.
    start, _ = land_passage(LASERS, "595 nm PDL is the gold standard for discrete vessels.", near=97.5)
    assert start == 92.0


def test_a_title_with_a_full_stop_does_not_end_the_sentence():
    words = timed_words([row(10.0, "Thank you. In Dr. Okafor's clinic we test a small area first.")])
    start, _ = land_passage(words, "Test a small area first.", near=10.0)
    assert start == 10.0 + 2 * 0.4  # "In", not "Okafor's"


def test_a_segment_that_opens_mid_sentence_lands_on_the_opening_words():
    words = timed_words([row(128.5, "topical ivermectin for papules and pustules because light does"),
                         row(132.6, "little for the inflammatory lesions brimonidine gel can calm flushing "
                                    "for a social event but it may cause rebound redness.")])
    start, _ = land_passage(words, "Brimonidine for flushing before events; warn about rebound redness.", near=132.6)
    assert start == 132.6 + 5 * 0.4  # "brimonidine": "little for the inflammatory lesions" ends the sentence before
