"""The learning record: minutes from heard time only, the 90 % rule, private-feed downloads marked,
reflections cleaned and limited, and the CSV and PDF exports read back."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from pipeline.errors import NotFound
from pipeline.learning import (MAX_REFLECTION, SELF_REPORTED, InvalidReflection, clean_reflection, learning_record,
                               note_feed_download, save_reflection)
from pipeline.learning_export import LogHeading, record_csv, record_pdf, safe_cell
from pipeline.listening import ListenReport, record_listen
from pipeline.models import Episode, EpisodePerson, Event, FeedDownload, Listen, Person, Reflection, User

T0 = datetime(2026, 5, 14, 8, 0, tzinfo=timezone.utc)
HEADING = LogHeading(name="Dr. Ana", email="ana@example.org", site="http://clinex.test", made_at=T0)


@pytest.fixture
def rows(ctx):
    """Two listeners and three ten-minute episodes (one with an event and two speakers)."""
    with ctx.sessions.begin() as session:
        users = [User(email=f"{n}@example.org", display_name=n.title(), password_hash="x", role="listener")
                 for n in ("ana", "ben")]
        event = Event(name="Aesthetic Lasers Summit", slug="als")
        episodes = [Episode(title=f"Episode {i}", slug=f"ep-{i}", status="published", duration=600.0,
                            event=event if i == 1 else None) for i in (1, 2, 3)]
        session.add_all(users + episodes)
        session.flush()
        for pos, name in enumerate(("Dr. Ana Ribeiro", "Dr. Li Wei")):
            episodes[0].people.append(EpisodePerson(person=Person(name=name, slug=f"p{pos}"), position=pos))
    return [u.id for u in users], [e.id for e in episodes]


def listen(ctx, user_id, episode_id, heard, *, steps=1, start=T0):
    """Report ``heard`` seconds in ``steps`` honest reports one play-length apart."""
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        each = heard / steps
        for i in range(steps):
            record_listen(session, user_id, episode, ListenReport(min(each * (i + 1), 600), each),
                          now=start + timedelta(seconds=each * i))


def record_of(ctx, user_id):
    with ctx.sessions() as session:
        return learning_record(session, user_id)


def test_minutes_come_from_heard_time_and_90_percent_completes(ctx, rows):
    (ana, _), (ep1, ep2, _) = rows
    listen(ctx, ana, ep1, 540, steps=12)  # 90 % of 600 s
    listen(ctx, ana, ep2, 539, steps=12)  # just under
    entries = {e.episode_id: e for e in record_of(ctx, ana).entries}
    assert entries[ep1].minutes == 9.0 and entries[ep1].completed and entries[ep1].how == "site player"
    assert entries[ep2].minutes == 9.0 and not entries[ep2].completed
    assert entries[ep1].event == "Aesthetic Lasers Summit"
    assert entries[ep1].speakers == ("Dr. Ana Ribeiro", "Dr. Li Wei")
    assert record_of(ctx, ana).completed == 1


def test_a_seek_to_the_end_is_not_completion(ctx, rows):
    (ana, _), (ep1, _, _) = rows
    with ctx.sessions.begin() as session:
        record_listen(session, ana, session.get(Episode, ep1), ListenReport(600, 20), now=T0)
        assert session.query(Listen).one().completed_at is not None  # the player's "reached the end"
    entry = record_of(ctx, ana).entries[0]
    assert not entry.completed and entry.minutes == round(20 / 60, 1)


def test_heard_time_above_the_episode_length_counts_the_length_once(ctx, rows):
    (ana, _), (ep1, _, _) = rows
    with ctx.sessions.begin() as session:
        session.add(Listen(user_id=ana, episode_id=ep1, position_seconds=10, heard_seconds=1500, updated_at=T0))
    assert record_of(ctx, ana).entries[0].minutes == 10.0


def test_private_feed_downloads_count_as_completed_and_are_marked(ctx, rows):
    (ana, ben), (ep1, ep2, ep3) = rows
    listen(ctx, ana, ep2, 120, steps=4)
    with ctx.sessions.begin() as session:
        note_feed_download(session, ana, ep1, None, now=T0 + timedelta(days=1))
        note_feed_download(session, ana, ep1, None, now=T0 + timedelta(days=2))  # a second fetch: same row
        note_feed_download(session, ana, ep2, None, now=T0 + timedelta(days=3))
    with ctx.sessions() as session:
        assert session.query(FeedDownload).count() == 2
    entries = {e.episode_id: e for e in record_of(ctx, ana).entries}
    assert set(entries) == {ep1, ep2}
    downloaded = entries[ep1]
    assert downloaded.completed and downloaded.counted_by_download and not downloaded.in_player
    assert downloaded.minutes == 10.0 and "private feed download" in downloaded.how
    assert downloaded.last_heard.isoformat() == "2026-05-16"
    both = entries[ep2]  # heard 2 minutes in the player, then fetched by the podcast app
    assert both.completed and both.in_player and both.via_private_feed and both.minutes == 10.0
    assert record_of(ctx, ben).entries == ()  # someone else's listening is not in ben's record


def test_most_recent_first(ctx, rows):
    (ana, _), (ep1, ep2, ep3) = rows
    listen(ctx, ana, ep1, 30, start=T0)
    listen(ctx, ana, ep3, 30, start=T0 + timedelta(days=2))
    listen(ctx, ana, ep2, 30, start=T0 + timedelta(days=1))
    assert [e.episode_id for e in record_of(ctx, ana).entries] == [ep3, ep2, ep1]


@pytest.mark.parametrize("raw, kept", [
    ("  Use less filler in the \u202etear trough\u202c.\r\n", "Use less filler in the tear trough."),
    ("\u2066isolated\u2069 bell\x07 esc\x1b[31m", "isolated bell esc[31m"),
    ("line one\n\tline two", "line one\n\tline two"),
    ("Cafe\u0301", "Café"),
    ("", ""),
])
def test_reflections_are_cleaned(raw, kept):
    assert clean_reflection(raw) == kept


@pytest.mark.parametrize("raw, message", [
    ("x" * (MAX_REFLECTION + 1), f"at most {MAX_REFLECTION} characters"),
    ("<script>alert(1)</script>", "HTML tags are not allowed"),
    ("<img src=x onerror=alert(1)>", "HTML tags are not allowed"),
])
def test_bad_reflections_are_refused_and_store_nothing(ctx, rows, raw, message):
    (ana, _), (ep1, _, _) = rows
    listen(ctx, ana, ep1, 60)
    with ctx.sessions() as session, pytest.raises(InvalidReflection, match=message):
        save_reflection(session, ana, "ep-1", raw)
    with ctx.sessions() as session:
        assert session.query(Reflection).count() == 0


def test_a_reflection_needs_the_episode_in_ones_own_record(ctx, rows):
    (ana, ben), (ep1, _, _) = rows
    listen(ctx, ana, ep1, 60)
    for user, slug in ((ben, "ep-1"), (ana, "ep-2"), (ana, "no-such-episode")):
        with ctx.sessions() as session, pytest.raises(NotFound, match="not in your learning record"):
            save_reflection(session, user, slug, "Try it")


def test_a_reflection_is_kept_changed_and_removed(ctx, rows):
    (ana, _), (ep1, _, _) = rows
    listen(ctx, ana, ep1, 60)
    for text, expected in (("First idea", "First idea"), ("Second idea", "Second idea"), ("   ", None)):
        with ctx.sessions.begin() as session:
            save_reflection(session, ana, "ep-1", text)
        assert record_of(ctx, ana).entries[0].reflection == expected


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("plain = text", "plain = text"), (None, ""),
])
def test_csv_cells_cannot_start_a_formula(value, cell):
    assert safe_cell(value) == cell


def test_csv_parses_back_with_every_column(ctx, rows):
    (ana, _), (ep1, ep2, _) = rows
    listen(ctx, ana, ep1, 540, steps=12)
    with ctx.sessions.begin() as session:
        note_feed_download(session, ana, ep2, None, now=T0 + timedelta(days=1))
        save_reflection(session, ana, "ep-1", '=cmd|" /C calc"!A0, then "quotes", commas\nand a new line')
    parsed = list(csv.reader(io.StringIO(record_csv(record_of(ctx, ana)))))
    assert parsed[0] == ["date", "episode", "event", "speakers", "minutes", "completed", "how", "reflection"]
    assert parsed[1][:6] == ["2026-05-15", "Episode 2", "", "", "10.0", "yes"]
    assert "private feed download" in parsed[1][6]
    assert parsed[2] == ["2026-05-14", "Episode 1", "Aesthetic Lasers Summit", "Dr. Ana Ribeiro; Dr. Li Wei", "9.0",
                         "yes", "site player", '\'=cmd|" /C calc"!A0, then "quotes", commas\nand a new line']
    assert parsed[-1] == [SELF_REPORTED]


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_pdf_log_opens_and_says_what_it_is(ctx, rows):
    (ana, _), (ep1, ep2, _) = rows
    listen(ctx, ana, ep1, 540, steps=12)
    with ctx.sessions.begin() as session:
        note_feed_download(session, ana, ep2, None, now=T0 + timedelta(days=1))
        save_reflection(session, ana, "ep-1", "Réduire la dose — Δ 10 % для всех \u202egnp.exe")
    body = record_pdf(record_of(ctx, ana), HEADING)
    assert body.startswith(b"%PDF-")
    text = " ".join(pdf_text(body).split())
    for expected in ("Learning log", "Dr. Ana <ana@example.org>", "2 episodes, 2 completed, 19.0 minutes",
                     "2026-05-14 · Episode 1", "Event: Aesthetic Lasers Summit",
                     "Speakers: Dr. Ana Ribeiro, Dr. Li Wei", "Minutes: 9.0", "Minutes: 10.0 (episode length)",
                     "Heard in: podcast app (private feed download; progress not reported)",
                     "Reflection: Réduire la dose — Δ 10 % для всех gnp.exe",
                     "It is not accredited continuing education credit."):
        assert expected in text, expected
    assert "\u202e" not in pdf_text(body)


def test_a_long_record_flows_onto_more_pages(ctx, rows):
    (ana, _), _ = rows
    with ctx.sessions.begin() as session:
        for i in range(60):
            ep = Episode(title=f"Long list {i}", slug=f"long-{i}", status="published", duration=600.0)
            session.add(ep)
            session.flush()
            session.add(Listen(user_id=ana, episode_id=ep.id, position_seconds=5, heard_seconds=300,
                               updated_at=T0 + timedelta(minutes=i)))
            session.add(Reflection(user_id=ana, episode_id=ep.id, text="A thought. " * 30))
    reader = PdfReader(io.BytesIO(record_pdf(record_of(ctx, ana), HEADING)))
    assert len(reader.pages) > 3
    text = " ".join(pdf_text(record_pdf(record_of(ctx, ana), HEADING)).split())
    assert "Long list 0" in text and "Long list 59" in text and "page 1/" in text


def test_an_empty_record_still_makes_a_log(ctx, rows):
    (ana, _), _ = rows
    text = pdf_text(record_pdf(record_of(ctx, ana), HEADING))
    assert "Nothing heard yet." in text and "not accredited" in text


def test_long_notes_and_words_wrap_inside_the_page_and_lose_nothing(ctx, rows):
    (ana, _), (ep1, _, _) = rows
    listen(ctx, ana, ep1, 60)
    url = "https://example.org/" + "a1b2c3" * 60  # one 380-character word
    with ctx.sessions.begin() as session:
        save_reflection(session, ana, "ep-1", f"Read {url} first.\nThen " + "dose gently, " * 60)
    lines = pdf_text(record_pdf(record_of(ctx, ana), HEADING)).splitlines()
    text = "".join("".join(lines).split())
    assert url in text and text.count("dosegently,") == 60
    # unwrapped, the address alone would make a 390-character line; A4 at 9 pt holds about 110
    assert max(len(line) for line in lines) < 130
