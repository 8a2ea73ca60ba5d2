"""The bundled sample lecture through the real pipeline (tiny.en): the notes' words come back,
every line is written alike, and "listen at" moments land on the words (issue 14)."""

from __future__ import annotations

import re

import pytest

from tests.webapp.helpers import published_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample(published_sample):
    from sqlalchemy import select

    from pipeline.models import Anchor, Episode

    site = published_client(published_sample)
    with site["app"].extensions["clinex"].sessions() as session:
        episode = session.get(Episode, published_sample["episode_id"])
        transcript = episode.transcript
        site["segments"] = [(s.start, s.end, s.text, s.words) for s in transcript.segments]
        site["corrections"] = list(transcript.corrections or [])
        site["check"] = (transcript.options or {}).get("correction_check")
        site["anchors"] = [(a.kind, a.text, a.start, a.confidence)
                           for a in session.scalars(select(Anchor).where(Anchor.episode_id == episode.id))]
    return site


def test_published_transcript_has_the_notes_terms_right(sample):
    text = " ".join(t for _s, _e, t, _w in sample["segments"])
    for right in ("Fitzpatrick", "photograph", "Mottled hypopigmentation"):
        assert right in text
    for wrong in ("fold a graph", "its metric", "Modeled hyperpigmentation", "starconning"):
        assert wrong not in text
    terms = {c["term"].lower() for c in sample["corrections"]}
    assert {"photograph", "mottled hypopigmentation"} <= terms  # recorded, so an editor can undo them
    # each changed segment was judged against the recording, and the restorations survived it
    assert sample["check"]["judged"] >= 3 and sample["check"]["tolerance"] > 0


def test_every_line_is_written_alike(sample):
    texts = [t for _s, _e, t, _w in sample["segments"]]
    assert texts[0][0].isupper() and texts[-1].endswith(".")
    for before, line in zip(texts, texts[1:]):
        # a line starts with a capital exactly when the one before ended a sentence
        assert line[0].isupper() == before.endswith((".", "?", "!")), (before, line)
    assert not re.search(r"\. [a-z]", " ".join(texts))


def test_the_episode_page_and_downloads_show_the_corrected_text(sample):
    page = sample["client"].get(f"/episodes/{sample['episode'].slug}").get_data(as_text=True)
    assert "Fitzpatrick" in page and "Mottled hypopigmentation" in page
    vtt = sample["client"].get(f"/episodes/{sample['episode'].slug}/transcript.vtt").get_data(as_text=True)
    assert "photograph" in vtt and "fold a graph" not in vtt


# When each passage is said in the sample (the start of its sentence, from script.txt spoken by
# espeak-ng; issue 14 lists the first four as missed by whole lines).
SAID_AT = {"532 nm helps epidermal pigment": 75.4, "Broad-spectrum sunscreen": 87.6,
           "Rebound hyperpigmentation": 113.3, "Fitzpatrick IV–VI": 35.2, "Photograph under standard": 25.9,
           "Mottled hypopigmentation": 119.0, "On darkening": 128.1}


def test_listen_at_links_land_on_the_sentence_that_says_the_bullet(sample):
    from pipeline.pairing import MIN_CONFIDENCE

    bullets = {text: (start, confidence) for kind, text, start, confidence in sample["anchors"] if kind == "bullet"}
    for opening, said in SAID_AT.items():
        [(start, confidence)] = [v for text, v in bullets.items() if text.startswith(opening)]
        assert confidence >= MIN_CONFIDENCE and abs(start - said) <= 1.0, (opening, start, said)


def test_a_search_hit_opens_on_the_word_it_found(sample):
    html = sample["client"].get("/search?q=fitzpatrick").get_data(as_text=True)
    moments = [float(m) for m in re.findall(rf'/episodes/{sample["episode"].slug}\?t=([\d.]+)"', html)]
    words = [w for _s, _e, _t, ws in sample["segments"] for w in ws or [] if "fitzpatrick" in w["word"].lower()]
    assert moments and all(any(abs(m - w["start"]) < 0.06 for w in words) for m in moments)
