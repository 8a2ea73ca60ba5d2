"""JSON chapters 1.2.0: ascending, first at 0, inside the audio."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import ChapterInfo, chapters_json, check_chapters


def test_renders_the_spec_shape():
    body = chapters_json([ChapterInfo(0, "Intro"), ChapterInfo(168.5, "Hearing aids",
                          url="https://x/y", img="https://x/y.jpg")], title="Episode 7")
    assert json.loads(body) == {
        "version": "1.2.0", "title": "Episode 7",
        "chapters": [{"startTime": 0, "title": "Intro"},
                     {"startTime": 168.5, "title": "Hearing aids", "img": "https://x/y.jpg",
                      "url": "https://x/y"}]}


def test_sorts_moves_first_to_zero_and_drops_what_cannot_be_reached():
    marks = [ChapterInfo(300, "Late"), ChapterInfo(12.3, "Opening"), ChapterInfo(90, "Middle"),
             ChapterInfo(90, "Same start"), ChapterInfo(4000, "Past the end")]
    chapters = json.loads(chapters_json(marks, duration=3600))["chapters"]
    assert [(c["startTime"], c["title"]) for c in chapters] == [
        (0, "Opening"), (90, "Middle"), (300, "Late")]


def test_untitled_and_control_characters():
    chapters = json.loads(chapters_json([ChapterInfo(0, "\x00 "), ChapterInfo(5, "A\x07B")]))
    assert [c["title"] for c in chapters["chapters"]] == ["Chapter 1", "AB"]


def test_deterministic_bytes_and_utf8():
    marks = [ChapterInfo(0, "Évaluation 😀"), ChapterInfo(61.25, "Fin")]
    assert chapters_json(marks) == chapters_json(list(reversed(marks)))
    assert "Évaluation 😀".encode() in chapters_json(marks)


def test_empty_list_is_still_a_valid_file():
    assert json.loads(chapters_json([])) == {"version": "1.2.0", "chapters": []}


@settings(deadline=None)  # a shared CI box can stall any single example past 200 ms
@given(st.lists(st.tuples(st.floats(-10, 10_000, allow_nan=False), st.text(max_size=20)),
                max_size=30),
       st.one_of(st.none(), st.floats(1, 8000)))
def test_any_marks_give_a_file_the_checker_accepts(marks, duration):
    body = chapters_json([ChapterInfo(start, title) for start, title in marks], duration=duration)
    assert check_chapters(body, duration) == []


def test_checker_names_each_problem():
    bad = json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": 5, "title": "a"}, {"startTime": 3, "title": "b"},
        {"startTime": 9000, "title": "c"}]}).encode()
    assert check_chapters(bad, 3600) == [
        "The first chapter starts at 5, not 0.",
        "The chapters are not in ascending startTime order.",
        "A chapter starts at or after the end of the audio (3600 s).",
    ]
    assert check_chapters(b"{")[0].startswith("The chapters file is not valid JSON")
    assert check_chapters(b'{"version": "1.2.0"}') == ['The chapters file has no "chapters" list.']
    assert check_chapters(b'{"chapters": [{"title": "x"}]}') == [
        'The chapters file has no "version" string.', "A chapter has no numeric startTime."]
