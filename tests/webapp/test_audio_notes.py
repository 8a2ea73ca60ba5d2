"""Notes-only episodes from the three faces: the studio form, the JSON API and `clinex ingest
NOTES.md`, on the real voice; and their refusals, with nothing stored."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pipeline.accounts import issue_api_token
from pipeline.models import Episode, User

from webapp.cli import main

from .conftest import csrf_from

NOTES = """---
title: Hyaluronidase for filler nodules
source: {title: Managing filler complications, kind: guide, url: https://example.org/guide, authors: [Dr. K. Osei]}
---
Dissolve hyaluronic acid nodules with hyaluronidase.

## Dosing
- Start with a small test dose.
"""


@pytest.fixture
def inline(app, ctx):
    from pipeline.jobs import InlineDispatcher

    app.extensions["clinex_dispatcher"] = InlineDispatcher(ctx)
    return app


def _episodes(session):
    session.expire_all()
    return session.query(Episode).order_by(Episode.id).all()


def _form(client, **fields):
    token = csrf_from(client.get("/studio/notes").get_data(as_text=True))
    return {"csrf_token": token, "title": "", "event": "", "speakers": "", "recorded_on": "", "tags": "",
            "notes": "", **fields}


def test_the_studio_form_voices_notes_to_review(inline, as_role, session):
    client = as_role("summarizer")
    assert "Voice a summary" in client.get("/studio/").get_data(as_text=True)
    response = client.post("/studio/notes", data=_form(client, notes=NOTES))
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    [ep] = _episodes(session)
    assert ep.status == "in_review", ep.failure_reason
    assert ep.audio_notes.notes_only and ep.audio_notes.source_kind == "guide"
    status = client.get(f"/studio/{ep.id}/status.json").get_json()
    assert [j["kind"] for j in status["jobs"]] == ["voice", "prepare_audio", "analyze"]
    assert client.get(f"/studio/{ep.id}/audio", headers={"Range": "bytes=0-1"}).status_code == 206


def test_the_studio_form_refuses_empty_notes_with_the_reason(inline, as_role, session):
    client = as_role("summarizer")
    response = client.post("/studio/notes", data=_form(client, title="Nothing yet"))
    assert response.status_code == 422 and "needs its notes" in response.get_data(as_text=True)
    assert _episodes(session) == []


def test_the_api_takes_notes_only_and_refuses_ambiguity(inline, client, session, users):
    token = issue_api_token(session, session.get(User, users["summarizer"]))
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    missing = client.post("/api/episodes", headers=auth, data={"title": "x"})
    assert missing.status_code == 422 and "notes_only=true" in missing.get_json()["message"]
    created = client.post("/api/episodes", headers=auth, data={"notes_only": "true", "notes": NOTES})
    assert created.status_code == 202, created.get_json()
    status = client.get(created.get_json()["status_url"], headers=auth).get_json()
    assert status["status"] == "in_review"
    unspeakable = client.post("/api/episodes", headers=auth, data={"notes_only": "true", "title": "Links",
                                                                    "notes": "[](https://example.org)"})
    assert unspeakable.status_code == 422 and "nothing a voice can say" in unspeakable.get_json()["message"]
    assert len(_episodes(session)) == 1


def test_clinex_ingest_notes_md_voices_it(settings_dict, monkeypatch, tmp_path):
    for key, value in settings_dict.items():
        monkeypatch.setenv(f"CLINEX_{key}", value)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    notes = tmp_path / "summary.md"
    notes.write_text(NOTES)
    result = runner.invoke(main, ["ingest", str(notes), "--wait", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "in_review"
    again = runner.invoke(main, ["ingest", str(notes), "--wait"], catch_exceptions=False)
    assert again.exit_code != 0 and "already submitted" in again.output and "Traceback" not in again.output
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    refused = runner.invoke(main, ["ingest", "--notes-only", str(empty)], catch_exceptions=False)
    assert refused.exit_code != 0 and "needs its notes" in refused.output


def _notes_only_published(ctx, session, users, title="Oral TXA for melasma"):
    from pipeline.models import AudioNotes

    from .factories import make_episode

    ep = make_episode(ctx, session, title=title, author=session.get(User, users["summarizer"]))
    ep.audio_notes = AudioNotes(notes_only=True, source_title="Oral tranexamic acid in melasma", source_kind="article",
                                source_url="https://example.org/txa", source_authors=["M. Lee"])
    session.commit()
    return ep


def test_feeds_cite_the_source_credit_the_summarizer_and_list_spoken_summaries(ctx, session, users, client):
    from lxml import etree

    from .factories import make_episode

    recorded = make_episode(ctx, session, title="A recorded lecture")
    spoken = _notes_only_published(ctx, session, users)
    ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
    main = etree.fromstring(client.get("/feed.xml").data)
    [item] = main.xpath("//item[title='Oral TXA for melasma']")
    assert "A summary of the article Oral tranexamic acid in melasma by M. Lee" in item.findtext("description")
    assert "not the original article" in item.findtext("description")
    people = [(p.text, p.get("role"), p.get("group")) for p in item.xpath("podcast:person", namespaces=ns)]
    assert (session.get(User, users["summarizer"]).display_name, "author", "writing") in people
    summaries = etree.fromstring(client.get("/summaries/feed.xml").data)
    assert summaries.xpath("//item/title/text()") == [spoken.title]
    assert "Spoken summaries" in summaries.findtext("channel/title")
    assert recorded.title not in client.get("/tags/melasma/summaries.xml").get_data(as_text=True)
    assert spoken.title in client.get("/events/aesthetic-lasers-summit/summaries.xml").get_data(as_text=True)
    assert client.get("/tags/no-such/summaries.xml").status_code == 404
    page = client.get(f"/episodes/{spoken.slug}").get_data(as_text=True)
    assert 'href="https://example.org/txa"' in page and "not the original article" in page


def test_editors_add_pronunciations_on_the_glossary_page_and_the_voice_uses_them(ctx, as_role, session):
    from pipeline.models import SpokenTerm
    from pipeline.voicing import episode_lexicon

    client = as_role("editor")
    page = client.get("/admin/glossary").get_data(as_text=True)
    assert "Pronunciations" in page
    token = csrf_from(page)
    bad = client.post("/admin/glossary/pronunciations", data={"csrf_token": token, "term": "Xeomin",
                                                              "phonemes": "ZEE-oh-min"})
    assert bad.status_code == 400 and "cannot say" in bad.get_data(as_text=True)
    ok = client.post("/admin/glossary/pronunciations", data={"csrf_token": token, "term": "Xeomin",
                                                             "phonemes": "zˈiːoʊmɪn"})
    assert ok.status_code == 302
    session.expire_all()
    assert [p.term for p in session.query(SpokenTerm)] == ["Xeomin"]
    assert episode_lexicon(session).apply("Xeomin works.")[1] == "[[zˈiːoʊmɪn]] works."


def test_the_sample_article_summary_is_voiced_and_published(ctx):
    """What `clinex init --sample` publishes beside the lecture (the lecture is the shared fixture)."""
    from pipeline.accounts import create_user
    from pipeline.models import MediaKind
    from webapp import ops

    with ctx.session() as session:
        editor, _password = create_user(session, "editor@example.org", "Editor", "editor")
    episode_id = ops.publish_sample_summary("editor@example.org", lambda _m: None, ctx.settings)
    with ctx.sessions() as session:
        summary = session.get(Episode, episode_id)
        assert summary.status == "published" and summary.audio_notes.notes_only
        assert summary.audio_notes.source_kind == "article"
        assert summary.media_of(MediaKind.published).duration > 30
        assert [c.title for c in summary.chapters][:2] == ["Opening", "Why it matters"]


def _edit(client, ep, notes: str):
    """Save the studio's edit form of ``ep`` with these notes and its other fields as they are."""
    page = client.get(f"/studio/{ep.id}/edit").get_data(as_text=True)
    return client.post(f"/studio/{ep.id}/edit", data={
        "csrf_token": csrf_from(page), "title": ep.title, "event": "", "speakers": "", "recorded_on": "", "tags": "",
        "notes": notes})


def test_changed_notes_of_a_notes_only_episode_are_voiced_again(inline, as_role, session):
    client = as_role("summarizer")
    client.post("/studio/notes", data=_form(client, notes=NOTES))
    [ep] = _episodes(session)
    assert ep.status == "in_review", ep.failure_reason
    changed = NOTES.replace("Start with a small test dose.", "Start with a small test dose and wait an hour.")
    response = _edit(client, ep, changed)
    assert response.status_code == 302
    [ep] = _episodes(session)
    assert ep.status == "in_review", ep.failure_reason
    assert [j.kind for j in ep.jobs].count("voice") == 2
    assert "wait an hour" in " ".join(s.text for s in ep.transcript.segments)


def test_the_source_is_shown_in_the_edit_form_and_a_changed_source_is_saved_and_voiced(inline, as_role, session):
    client = as_role("summarizer")
    client.post("/studio/notes", data=_form(client, notes=NOTES))
    [ep] = _episodes(session)
    assert ep.status == "in_review", ep.failure_reason
    page = client.get(f"/studio/{ep.id}/edit").get_data(as_text=True)
    assert "source:" in page and "Managing filler complications" in page, "the form shows the cited source"
    notes = NOTES.replace("title: Managing filler complications, kind: guide",
                          "title: Filler complications consensus 2026, kind: article")
    response = _edit(client, ep, notes)
    assert response.status_code == 302
    [ep] = _episodes(session)
    assert ep.status == "in_review", ep.failure_reason
    assert (ep.audio_notes.source_title, ep.audio_notes.source_kind) == ("Filler complications consensus 2026", "article")
    assert ep.summary.version == 1, "the notes' text did not change"
    assert [j.kind for j in ep.jobs].count("voice") == 2, "a changed source is said again in the opening"
    assert "the article Filler complications consensus" in " ".join(s.text for s in ep.transcript.segments)

    without = NOTES.split("---\n", 2)[2]  # the front matter taken out: the source is no longer cited
    _edit(client, ep, without)
    [ep] = _episodes(session)
    assert ep.audio_notes.source_title is None and ep.audio_notes.notes_only
