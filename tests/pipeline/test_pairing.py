"""Pairing the summary notes with a transcript: anchors, chapters, tags, soundbite, vocabulary.

The main fixture is the bundled sample lecture as tiny.en heard it (mishearings and all), with
the true time span of each notes heading; see tests/fixtures/pairing/."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from pipeline.notes import split_sections
from pipeline.pairing import (
    MIN_CONFIDENCE, align_notes, suggest_chapters, suggest_soundbite, suggest_tags,
    topic_chapters,
)
from pipeline.transcription import load_glossary
from pipeline.transcription.vocabulary import episode_vocabulary
from tests.conftest import FIXTURES, SAMPLE

FIXTURE = json.loads((FIXTURES / "pairing" / "sample_lecture_transcript.json").read_text())
SEGMENTS = [tuple(s) for s in FIXTURE["segments"]]
DURATION = FIXTURE["duration"]
SPANS = FIXTURE["sections"]
NOTES = (SAMPLE / "lecture.md").read_text()


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def _span_of(start: float) -> str | None:
    return next((title for title, (lo, hi) in SPANS.items() if lo <= start < hi), None)


def test_section_anchors_land_inside_their_sections(glossary):
    sections = [a for a in align_notes(NOTES, SEGMENTS, glossary) if a.kind == "section"]
    titled = {a.text: a for a in sections if a.text in SPANS}
    assert set(titled) == set(SPANS)
    for title, anchor in titled.items():
        assert anchor.confidence >= MIN_CONFIDENCE, title
        lo, hi = SPANS[title]
        assert lo <= anchor.start < hi, (title, anchor.start)
    # the untitled introduction is where the talk begins
    assert sections[0].start == 0.0


def test_bullet_anchors_fall_in_their_sections_span(glossary):
    anchors = align_notes(NOTES, SEGMENTS, glossary)
    bullets = [a for a in anchors if a.kind == "bullet"]
    owners = [s.title for s in split_sections(NOTES.split("---", 2)[2]) for _ in s.bullets]
    assert [a.position for a in bullets] == list(range(len(owners)))
    confident = [(a, owner) for a, owner in zip(bullets, owners) if a.confidence >= MIN_CONFIDENCE]
    assert len(confident) >= len(bullets) * 2 // 3
    for anchor, owner in confident:
        lo, hi = SPANS[owner]
        # the segment at a boundary holds the end of one section and the start of the next
        assert lo - 10 <= anchor.start <= hi, (anchor.text, anchor.start)


def test_sections_stay_in_notes_order_even_when_a_later_one_matches_earlier_text(glossary):
    # "Complications" written first would have to precede everything; the others keep their order.
    body = NOTES.split("---", 2)[2]
    swapped = body.replace("## Complications", "## Complications later").split("## Patient selection")
    anchors = [a for a in align_notes(swapped[0] + "## Patient selection" + swapped[1], SEGMENTS, glossary)
               if a.kind == "section" and a.start is not None]
    starts = [a.start for a in anchors]
    assert starts == sorted(starts)


def test_alignment_without_glossary_still_works():
    sections = [a for a in align_notes(NOTES, SEGMENTS) if a.kind == "section" and a.text in SPANS]
    hits = [a for a in sections if a.start is not None and _span_of(a.start) == a.text]
    assert len(hits) >= 3


def test_absent_section_is_not_anchored(glossary):
    notes = NOTES + "\n## Hair transplantation\n- Follicular unit extraction with a punch under local anaesthesia.\n"
    anchors = {a.text: a for a in align_notes(notes, SEGMENTS, glossary) if a.kind == "section"}
    assert anchors["Hair transplantation"].confidence < MIN_CONFIDENCE
    chapters = suggest_chapters(notes, SEGMENTS, DURATION, glossary)
    assert "Hair transplantation" not in [t for _s, t, _c, _src in chapters]


def test_chapters_from_notes_are_ascending_start_at_zero_and_fit_the_duration(glossary):
    chapters = suggest_chapters(NOTES, SEGMENTS, DURATION, glossary)
    starts = [s for s, *_ in chapters]
    assert [t for _s, t, _c, _src in chapters] == list(SPANS)
    assert starts[0] == 0.0 and starts == sorted(set(starts)) and starts[-1] < DURATION
    assert {src for *_x, src in chapters} == {"notes"}
    for (start, title, _c, _src) in chapters[1:]:
        assert SPANS[title][0] <= start < SPANS[title][1]


def test_empty_input_gives_nothing(glossary):
    assert align_notes("", SEGMENTS, glossary) == []
    assert suggest_chapters(NOTES, [], DURATION, glossary) == []
    assert all(a.start is None for a in align_notes(NOTES, [], glossary))
    assert suggest_soundbite([(0.0, 5.0, "Too short.")], NOTES, glossary) is None


LASERS = ("The picosecond laser shatters pigment in melasma with photoacoustic energy at low fluence. "
          "Pigment clearance with the picosecond laser needs several sessions and sunscreen.")
FILLERS = ("Hyaluronic acid filler in the tear trough can cause a vascular occlusion and the Tyndall effect. "
           "We keep hyaluronidase ready whenever we inject a filler near the nose.")


def _two_topic_talk(seconds_each: float = 150.0, step: float = 10.0):
    segments, t = [], 0.0
    for text in (LASERS, FILLERS):
        end = t + seconds_each
        while t < end:
            segments.append((t, t + step - 0.5, text))
            t += step
    return segments, t


def test_topic_chapters_without_notes_find_the_shift(glossary):
    segments, duration = _two_topic_talk()
    chapters = topic_chapters(segments, duration, glossary)
    assert [s for s, *_ in chapters] == [0.0, 150.0]
    assert {src for *_x, src in chapters} == {"topics"}
    assert "picosecond laser" in chapters[0][1].lower() and "hyaluronic acid" in chapters[1][1].lower()
    # suggest_chapters falls back to topics when there are no notes
    assert suggest_chapters("", segments, duration, glossary) == chapters


def test_topic_chapters_on_the_sample_are_ascending_and_inside(glossary):
    chapters = topic_chapters(SEGMENTS, DURATION, glossary)
    starts = [s for s, *_ in chapters]
    assert starts[0] == 0.0 and starts == sorted(set(starts)) and starts[-1] < DURATION
    assert all(title.strip() for _s, title, _c, _src in chapters)


def test_tags_come_from_glossary_hits_and_skip_existing_ones(glossary):
    tags = suggest_tags(glossary, SEGMENTS, NOTES)
    names = [n for n, _c, _s in tags]
    assert len(tags) <= 6 and names[0] == "Melasma"
    assert ("Post-inflammatory hyperpigmentation", "indication") in [(n, c) for n, c, _s in tags]
    assert all(0 < s <= 1 for _n, _c, s in tags)
    assert [s for _n, c, s in tags if c != "topic"] == sorted((s for _n, c, s in tags if c != "topic"), reverse=True)
    without = [n for n, _c, _s in suggest_tags(glossary, SEGMENTS, NOTES, exclude=["melasma"])]
    assert "Melasma" not in without
    # a term only mentioned once in passing is not a topic
    assert "Q-switched" not in names


def test_soundbite_is_15_to_60_seconds_inside_the_recording(glossary):
    start, duration = suggest_soundbite(SEGMENTS, NOTES, glossary)
    assert 15 <= duration <= 60
    assert 0 <= start and start + duration <= DURATION
    assert any(abs(start - s) < 0.01 for s, _e, _t in SEGMENTS)  # begins where a segment begins


def test_episode_vocabulary_holds_names_event_and_rare_words(glossary):
    words = episode_vocabulary(NOTES, ["Dr. Ana Ribeiro"], "Aesthetic Lasers Summit 2026", ["Melasma"], glossary)
    assert words[:3] == ["Dr. Ana Ribeiro", "Aesthetic Lasers Summit 2026", "Melasma"]
    lowered = [w.lower() for w in words]
    assert "tranexamic acid" in lowered and "hypopigmentation" in lowered
    assert len(lowered) == len(set(lowered))
    for common in ("patient", "settings", "sessions", "light", "with", "cross-polarized"):
        assert common not in lowered


def test_analyze_stores_anchors_chapters_tags_and_soundbite(ctx):
    from pipeline.catalog import get_or_create_tag
    from pipeline.models import Anchor, Chapter, Episode, EpisodeTag, TranscriptSegment, Summary, Transcript
    from pipeline.steps import analyze_step as analyze

    with ctx.sessions.begin() as session:
        ep = Episode(title="Picosecond lasers", slug="pico", duration=DURATION)
        session.add(ep)
        session.flush()
        ep.tags.append(EpisodeTag(tag=get_or_create_tag(session, "Melasma"), source="summarizer", accepted=True))
        session.add(Summary(episode_id=ep.id, version=1, markdown=NOTES.split("---", 2)[2]))
        transcript = Transcript(episode_id=ep.id, engine="faster-whisper", model="tiny.en", status="complete")
        session.add(transcript)
        session.flush()
        session.add_all([TranscriptSegment(transcript_id=transcript.id, index=i, start=s, end=e, text=t)
                         for i, (s, e, t) in enumerate(SEGMENTS)])
        episode_id = ep.id

    for _run in range(2):  # a second run replaces, never duplicates
        with ctx.sessions.begin() as session:
            analyze(ctx, session, session.get(Episode, episode_id), lambda _p: None)

    with ctx.sessions.begin() as session:
        ep = session.get(Episode, episode_id)
        anchors = session.scalars(select(Anchor).where(Anchor.episode_id == episode_id)).all()
        assert {a.summary_version for a in anchors} == {1}
        assert len([a for a in anchors if a.kind == "section"]) == 5  # intro + four headings
        chapters = session.scalars(select(Chapter).where(Chapter.episode_id == episode_id)
                                   .order_by(Chapter.start)).all()
        assert [c.title for c in chapters] == list(SPANS) and chapters[0].start == 0.0
        names = [(et.tag.name, et.source, et.accepted) for et in ep.tags]
        assert ("Melasma", "summarizer", True) in names
        assert len([n for n in names if n[0] == "Melasma"]) == 1
        assert any(src == "suggested" and not ok for _n, src, ok in names)
        # the editor drops one suggestion: analysing again must not suggest it anew
        refused = next(et for et in ep.tags if et.source == "suggested")
        refused.accepted, refused.dropped = False, True
        refused_name = refused.tag.name

    with ctx.sessions.begin() as session:
        analyze(ctx, session, session.get(Episode, episode_id), lambda _p: None)
    with ctx.sessions.begin() as session:
        ep = session.get(Episode, episode_id)
        again = [(et.tag.name, et.accepted, et.dropped) for et in ep.tags if et.tag.name == refused_name]
        assert again == [(refused_name, False, True)]
        assert refused_name not in [t.name for t in ep.accepted_tags]
        assert 15 <= ep.soundbite_duration <= 60 and ep.soundbite_start + ep.soundbite_duration <= DURATION
        # an editor's chapter is never overwritten
        ep.chapters.clear()
        session.flush()
        ep.chapters.append(Chapter(start=0.0, title="Editor's cut", source="editor"))

    with ctx.sessions.begin() as session:
        analyze(ctx, session, session.get(Episode, episode_id), lambda _p: None)
    with ctx.sessions.begin() as session:
        titles = session.scalars(select(Chapter.title).where(Chapter.episode_id == episode_id)).all()
        assert titles == ["Editor's cut"]
