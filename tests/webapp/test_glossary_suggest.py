"""Corrections that stick (issue 14): word fixes people make are offered to the glossary, the
ones made in two or more episodes are listed by `clinex glossary suggest` with a one-step
accept, and the next episode that says the words gets them right (real model)."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from pipeline.models import Episode, GlossaryTerm, SegmentRevision, User
from tests.conftest import SAMPLE
from webapp.cli import main
from webapp.corrections import apply_correction

from .conftest import csrf_from
from .factories import make_episode


@pytest.fixture
def cli(settings_dict, monkeypatch):
    for key, value in settings_dict.items():
        monkeypatch.setenv(f"CLINEX_{key}", value)
    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def fix(ctx, session, ep: Episode, index: int, old: str, new: str, author: User) -> None:
    seg = ep.transcript.segments[index]
    seg.text = f"Before any laser, we {old} the patient under standard light."
    session.flush()
    apply_correction(ctx, session, ep, seg, seg.text.replace(old, new), author)
    session.commit()


@pytest.fixture
def corrected(ctx, session, users):
    """Three episodes: "fold a graph" fixed to "photograph" in two, "sun light" in one only."""
    editor = session.get(User, users["editor"])
    author = session.get(User, users["summarizer"])
    eps = [make_episode(ctx, session, status="in_review", author=author) for _ in range(3)]
    fix(ctx, session, eps[0], 1, "fold a graph", "photograph", editor)
    fix(ctx, session, eps[1], 2, "fold a graph", "photograph", editor)
    fix(ctx, session, eps[2], 0, "sun light", "sunlight", editor)
    return eps


def test_corrections_made_in_two_episodes_are_listed_and_accepted_in_one_step(cli, session, corrected):
    listed = cli("glossary", "suggest")
    assert listed.exit_code == 0
    assert "1. “fold a graph” -> “photograph”  in 2 episodes" in listed.output and "sun light" not in listed.output
    assert session.query(GlossaryTerm).count() == 0  # listing adds nothing
    accepted = cli("glossary", "suggest", "--accept", "1", "--json")
    data = json.loads(accepted.output)
    assert [a["heard"] for a in data["accepted"]] == ["fold a graph"]
    session.expire_all()
    term = session.query(GlossaryTerm).one()
    assert (term.term, term.mishearings, term.category) == ("photograph", ["fold a graph"], "correction")
    assert "No correction was made in 2 or more episodes." in cli("glossary", "suggest").output
    assert "sun light" in cli("glossary", "suggest", "--min-episodes", "1").output


def test_accepting_a_number_not_listed_fails_with_one_line_and_adds_nothing(cli, session, corrected):
    result = cli("glossary", "suggest", "--accept", "1", "--accept", "7")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: There is no suggestion 7: the list has 1."]
    assert session.query(GlossaryTerm).count() == 0
    assert cli("glossary", "suggest", "--min-episodes", "0").exit_code == 2


def test_the_transcript_editor_offers_an_editors_fix_to_the_glossary(as_role, session, corrected):
    editor = as_role("editor")
    ep = corrected[2]
    seg = ep.transcript.segments[1]
    page = editor.get(f"/studio/{ep.id}/segments/{seg.id}").get_data(as_text=True)
    saved = editor.post(f"/studio/{ep.id}/segments/{seg.id}", data={"csrf_token": csrf_from(page),
                        "text": seg.text.replace("melasma", "melisma")}, follow_redirects=True).get_data(as_text=True)
    assert "Add the corrected words to the glossary below" in saved
    assert "“melasma” → “melisma”" in saved and 'name="back" value="transcript"' in saved
    added = editor.post(f"/review/{ep.id}/glossary", data={"csrf_token": csrf_from(saved), "heard": "melasma",
                                                          "corrected": "melisma", "back": "transcript"})
    assert added.status_code == 302 and added.location.endswith(f"/studio/{ep.id}/transcript#glossary")
    assert session.query(GlossaryTerm).filter_by(term="melisma").one().mishearings == ["melasma"]
    # a summarizer fixes words too, but the glossary is the editors' to keep
    own = as_role("summarizer").get(f"/studio/{ep.id}/transcript")
    assert own.status_code == 200 and "Correct the transcript" in own.get_data(as_text=True)
    assert "Teach the glossary" not in own.get_data(as_text=True)


@pytest.mark.slow
def test_the_next_episode_that_says_it_gets_it_right(settings, ctx, session, users, tmp_path, cli):
    from webapp import ops

    first = ops.ingest_file(SAMPLE / "lecture.mp3", title="Lasers and pigment", wait=True, quiet=True,
                            settings=settings)
    ep = session.get(Episode, first["id"])
    [seg] = [s for s in ep.transcript.segments if "fold a graph" in s.text]  # what tiny.en hears, no notes
    editor = session.get(User, users["editor"])
    apply_correction(ctx, session, ep, seg, seg.text.replace("fold a graph", "photograph"), editor)
    session.commit()
    other = make_episode(ctx, session, status="in_review")
    fix(ctx, session, other, 0, "fold a graph", "photograph", editor)
    assert "added" in cli("glossary", "suggest", "--accept-all").output

    # The same talk again in a new file (not a duplicate): the same audio frames under other tags.
    # Re-encoding would not do: another encoder's rounding can change what tiny.en hears there.
    again = tmp_path / "lecture-again.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SAMPLE / "lecture.mp3"), "-c", "copy", "-map_metadata", "-1",
                    "-metadata", "title=Lasers and pigment, again", str(again)], check=True)
    second = ops.ingest_file(again, title="Lasers and pigment, again", wait=True, quiet=True, settings=settings)
    session.expire_all()
    transcript = session.get(Episode, second["id"]).transcript
    text = " ".join(s.text for s in transcript.segments)
    assert "photograph" in text and "fold a graph" not in text
    assert {"original": "fold a graph", "term": "photograph"}.items() <= \
        next(c for c in transcript.corrections if c["term"] == "photograph").items()
    assert session.query(SegmentRevision).count() == 2
