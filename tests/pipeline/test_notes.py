from datetime import date

import pytest

from pipeline.errors import InvalidUpload
from pipeline.notes import MAX_NOTES_BYTES, parse_notes
from tests.conftest import SAMPLE


def test_sample_notes_front_matter_and_sections():
    notes = parse_notes((SAMPLE / "lecture.md").read_bytes())
    meta = notes.meta
    assert meta.title == "Picosecond lasers for melasma and PIH"
    assert meta.event.name == "Aesthetic Lasers Summit 2026" and meta.event.place == "Lisbon"
    assert meta.recorded_on == date(2026, 5, 14)
    assert [s.name for s in meta.speakers] == ["Dr. Ana Ribeiro"]
    assert meta.tags == ["Melasma", "Picosecond laser"]
    assert (meta.season, meta.number, meta.explicit) == (1, 1, False)
    titles = [s.title for s in notes.sections if s.title]
    assert titles == ["Patient selection", "Treatment settings", "Combination therapy", "Complications"]
    assert len(notes.sections[1].bullets) == 3
    assert not notes.markdown.startswith("---")


def test_notes_without_front_matter():
    notes = parse_notes("# Title\n\nSome text\n\n- a claim\n")
    assert notes.meta.title is None
    assert notes.sections[0].title == "Title" and notes.sections[0].bullets == ["a claim"]


def test_speakers_as_plain_names_and_tags_as_text():
    notes = parse_notes("---\nspeakers: [Dr. A, Dr. B]\ntags: 'IPL, Rosacea'\n---\nbody")
    assert [s.name for s in notes.meta.speakers] == ["Dr. A", "Dr. B"]
    assert notes.meta.tags == ["IPL", "Rosacea"]


@pytest.mark.parametrize("source, message", [
    ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
    ("---\n- a\n- b\n---\n", "must be a list of 'field: value' lines"),
    ("---\ncolour: blue\n---\n", "unknown field(s) colour"),
    ("---\ndate: yesterday\n---\n", "'date' must be a date"),
    ("---\nseason: -1\n---\n", "'season' must be a positive whole number"),
    ("---\nexplicit: maybe\n---\n", "'explicit' must be true or false"),
    ("---\nspeakers: [{role: host}]\n---\n", "Each speaker"),
    ("---\nevent: {place: Paris}\n---\n", "'event' must be a name"),
    ("---\ntitle: " + "x" * 400 + "\n---\n", "longer than 300"),
])
def test_bad_front_matter_is_refused_with_a_clear_message(source, message):
    with pytest.raises(InvalidUpload, match=None) as info:
        parse_notes(source)
    assert message in str(info.value)


def test_too_large_and_not_utf8_notes_are_refused():
    with pytest.raises(InvalidUpload, match="at most"):
        parse_notes(b"x" * (MAX_NOTES_BYTES + 1))
    with pytest.raises(InvalidUpload, match="not UTF-8"):
        parse_notes(b"\xff\xfe\x00bad")


def test_members_only_front_matter():
    assert parse_notes("---\nmembers_only: true\n---\nbody").meta.members_only is True
    assert parse_notes("---\nmembers_only: no\n---\nbody").meta.members_only is False
    assert parse_notes("body").meta.members_only is False
    with pytest.raises(InvalidUpload, match="'members_only' must be true or false"):
        parse_notes("---\nmembers_only: sometimes\n---\n")


def test_bidi_controls_are_stripped_from_every_part_of_the_notes():
    from pipeline.notes import parse_notes

    notes = parse_notes("---\ntitle: \"Fill\u202eers\"\nspeakers: [\"Dr \u2066A\u2069\"]\ntags: [\"IP\u202dL\"]\n"
                        "event: {name: \"Con\u202bgress\", place: \"Li\u2068sbon\"}\n---\n# He\u202aad\n- bul\u2067let\n")
    assert (notes.meta.title, notes.meta.speakers[0].name, notes.meta.tags) == ("Fillers", "Dr A", ["IPL"])
    assert (notes.meta.event.name, notes.meta.event.place) == ("Congress", "Lisbon")
    assert notes.markdown == "# Head\n- bullet\n" and notes.sections[0].bullets == ["bullet"]


def test_stored_user_text_never_keeps_bidi_controls():
    from pipeline.models import Comment, GlossaryTerm, Person, User

    assert Comment(body="a\u202eb\u202c").body == "ab"
    assert Person(name="\u2067Dr\u2069 X").name == "Dr X"
    assert User(display_name="x\u202ay").display_name == "xy"
    assert GlossaryTerm(term="Bo\u202etox", mishearings=["bo\u2066tox"]).mishearings == ["botox"]
