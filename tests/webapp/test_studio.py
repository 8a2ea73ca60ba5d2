"""The studio: uploads (form and chunked) through the real pipeline, progress, notes and
details, transcript corrections, submit after changes were requested."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline.models import Episode, EpisodeStatus, GlossaryTerm, TranscriptSegment, SegmentRevision, Summary, User

from .conftest import csrf_from, sign_in
from .factories import make_episode

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "good"
BAD = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "bad"


@pytest.fixture
def inline(app, ctx):
    from pipeline.jobs import InlineDispatcher

    app.extensions["clinex_dispatcher"] = InlineDispatcher(ctx)
    return app


def _form(client, path="/studio/upload", **fields):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return {"csrf_token": token, "title": "", "event": "", "speakers": "", "recorded_on": "", "tags": "",
            "notes": "", "upload_id": "", **fields}


def _episodes(session):
    session.expire_all()
    return session.query(Episode).order_by(Episode.id).all()


@pytest.mark.slow
def test_form_upload_runs_the_pipeline_to_review(inline, as_role, session):
    client = as_role("summarizer")
    data = _form(client, title="Melasma update", event="Aesthetic Lasers Summit", speakers="Dr. Ana Ribeiro, Dr. Tom Hale",
                 recorded_on="2026-05-14", tags="Melasma, Picosecond laser", notes="# Melasma\n- go gently\n")
    data["audio"] = (open(GOOD / "speech.mp3", "rb"), "speech.mp3")
    response = client.post("/studio/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    [ep] = _episodes(session)
    assert ep.status == EpisodeStatus.in_review.value, ep.failure_reason
    assert [p.person.name for p in ep.people] == ["Dr. Ana Ribeiro", "Dr. Tom Hale"]
    assert ep.event.name == "Aesthetic Lasers Summit" and ep.summary.markdown.startswith("# Melasma")
    status = client.get(f"/studio/{ep.id}/status.json").get_json()
    assert status["status"] == "in_review" and status["progress"] == 1.0
    assert {j["kind"] for j in status["jobs"]} == {"prepare_audio", "transcribe", "analyze", "spoken_extras"}
    assert client.get(f"/studio/{ep.id}/audio", headers={"Range": "bytes=0-1"}).status_code == 206


@pytest.mark.slow
def test_chunked_upload_resumes_and_finishes(inline, as_role, session):
    client = as_role("summarizer")
    page = client.get("/studio/upload").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_from(page)}
    body = (GOOD / "speech.m4a").read_bytes()
    started = client.post("/studio/uploads", json={"filename": "talk.m4a", "size": len(body)}, headers=headers)
    assert started.status_code == 201
    upload = started.get_json()["id"]
    half = len(body) // 2
    assert client.post(f"/studio/uploads/{upload}?offset=0", data=body[:half], headers=headers).status_code == 200
    wrong = client.post(f"/studio/uploads/{upload}?offset=0", data=body[half:], headers=headers)
    assert wrong.status_code == 409 and wrong.get_json()["received"] == half
    assert client.get(f"/studio/uploads/{upload}").get_json()["received"] == half
    done = client.post(f"/studio/uploads/{upload}?offset={half}", data=body[half:], headers=headers)
    assert done.get_json()["received"] == len(body)
    other = sign_in(client.application.test_client(), session.query(User).filter_by(role="editor").one().id)
    assert other.get(f"/studio/uploads/{upload}").status_code == 404  # uploads are private to their owner
    response = client.post("/studio/upload", data=_form(client, upload_id=upload), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    [ep] = _episodes(session)
    assert ep.media_of("original").filename == "talk.m4a" and ep.status == "in_review"


def test_chunked_upload_refuses_oversize_and_bad_offsets(app, as_role):
    client = as_role("summarizer")
    headers = {"X-CSRFToken": csrf_from(client.get("/studio/upload").get_data(as_text=True))}
    too_big = client.post("/studio/uploads", json={"filename": "x.mp3", "size": 3 * 1024**3}, headers=headers)
    assert too_big.status_code == 422 and "at most" in too_big.get_json()["message"]
    assert client.post("/studio/uploads", json={"filename": "x.mp3", "size": 0}, headers=headers).status_code == 422
    upload = client.post("/studio/uploads", json={"filename": "x.mp3", "size": 10}, headers=headers).get_json()["id"]
    assert client.post(f"/studio/uploads/{upload}?offset=0", data=b"x" * 11, headers=headers).status_code == 409
    assert client.post(f"/studio/uploads/{upload}?offset=abc", data=b"x", headers=headers).status_code == 422
    no_csrf = client.post(f"/studio/uploads/{upload}?offset=0", data=b"x")
    assert no_csrf.status_code == 400


@pytest.mark.parametrize("name", ["random_bytes.mp3", "document_pdf.mp3", "empty.mp3", "silence.wav"])
def test_bad_recordings_are_refused_and_nothing_is_stored(inline, ctx, as_role, session, name):
    client = as_role("summarizer")
    data = _form(client, title="Bad")
    data["audio"] = (open(BAD / name, "rb"), name)
    response = client.post("/studio/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert _episodes(session) == [] and list(ctx.storage.keys("originals")) == []


@pytest.mark.parametrize("fields, message", [
    ({}, "Choose a recording to upload."),
    ({"title": "<script>x</script>"}, "HTML tags are not allowed"),
    ({"title": "t" * 301}, "Field cannot be longer than 300 characters."),
    ({"recorded_on": "14/05/2026", "audio": True}, "The date must look like 2026-05-14"),
    ({"notes": "---\ntitle: [1, 2\n---\n", "audio": True}, "front matter is not valid YAML"),
    ({"csrf_token": ""}, "The CSRF token is missing."),
])
def test_bad_upload_forms_change_nothing(inline, as_role, session, fields, message):
    client = as_role("summarizer")
    data = _form(client, **{k: v for k, v in fields.items() if k != "audio"})
    if fields.get("audio"):
        data["audio"] = (open(GOOD / "speech.opus", "rb"), "speech.opus")
    response = client.post("/studio/upload", data=data, content_type="multipart/form-data")
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert _episodes(session) == []


@pytest.fixture
def draft(ctx, session, users):
    ep = make_episode(ctx, session, status="in_review", author=session.get(User, users["summarizer"]))
    return ep.id


def test_edit_details_and_notes_makes_a_new_summary_version(as_role, session, draft):
    client = as_role("summarizer")
    preview = client.post(f"/studio/{draft}/edit", data=_form(client, f"/studio/{draft}/edit", title="New title",
                                                              notes="# Heading\n*em*", action="preview"))
    assert preview.status_code == 200 and "<h1>Heading</h1>" in preview.get_data(as_text=True)
    assert session.query(Summary).filter_by(episode_id=draft).count() == 1  # preview saves nothing
    saved = client.post(f"/studio/{draft}/edit", data=_form(client, f"/studio/{draft}/edit", title="New title",
                                                            speakers="Dr. B", tags="Fillers", event="Other Congress",
                                                            recorded_on="2026-01-02", notes="# Heading\n", action="save"))
    assert saved.status_code == 302
    session.expire_all()
    ep = session.get(Episode, draft)
    assert ep.title == "New title" and ep.summary.version == 2 and ep.event.name == "Other Congress"
    assert [p.person.name for p in ep.people] == ["Dr. B"]
    assert {et.tag.name for et in ep.tags} == {"Fillers", "Rosacea"}  # the unreviewed suggestion stays


def test_js_preview_endpoint_sanitizes(as_role):
    client = as_role("summarizer")
    token = csrf_from(client.get("/studio/upload").get_data(as_text=True))
    html = client.post("/studio/preview", data={"csrf_token": token, "notes": "**b** [x](javascript:alert(1))"}).get_json()["html"]
    assert "<strong>b</strong>" in html and 'href="javascript' not in html


def test_transcript_correction_keeps_versions_and_offers_glossary(ctx, as_role, session, draft):
    client = as_role("summarizer")
    seg = session.get(Episode, draft).transcript.segments[1]
    page = client.get(f"/studio/{draft}/segments/{seg.id}").get_data(as_text=True)
    fixed = "We treat melasma conservatively and protect the skin from UV light."
    response = client.post(f"/studio/{draft}/segments/{seg.id}", data={"csrf_token": csrf_from(page), "text": fixed})
    assert response.status_code == 302
    session.expire_all()
    [revision] = session.query(SegmentRevision).all()
    assert revision.previous_text.startswith("We treat melasma") and session.get(TranscriptSegment, seg.id).text == fixed
    ep = session.get(Episode, draft)
    vtt = ctx.storage.get_bytes(f"transcripts/{ep.uuid}/{ep.transcript.id}.vtt").decode()
    assert "UV light" in vtt
    editor = as_role("editor")
    review = editor.get(f"/review/{draft}").get_data(as_text=True)
    assert "“sunlight” → “UV light”" in review
    added = editor.post(f"/review/{draft}/glossary", data={"csrf_token": csrf_from(review),
                                                           "heard": "sunlight", "corrected": "UV light"})
    assert added.status_code == 302
    term = session.query(GlossaryTerm).one()
    assert term.term == "UV light" and term.mishearings == ["sunlight"]
    assert "“sunlight” → “UV light”" not in editor.get(f"/review/{draft}").get_data(as_text=True)


def test_bad_correction_changes_nothing(as_role, session, draft):
    client = as_role("summarizer")
    seg = session.get(Episode, draft).transcript.segments[0]
    page = client.get(f"/studio/{draft}/segments/{seg.id}").get_data(as_text=True)
    for text, message in (("", "The text is required."), ("<b>x</b>", "HTML tags"), ("x" * 2001, "2000")):
        response = client.post(f"/studio/{draft}/segments/{seg.id}", data={"csrf_token": csrf_from(page), "text": text})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert session.query(SegmentRevision).count() == 0


def test_editor_note_is_shown_and_submit_returns_to_review(as_role, session, draft):
    editor = as_role("editor")
    review = editor.get(f"/review/{draft}").get_data(as_text=True)
    sent = editor.post(f"/review/{draft}/request-changes", data={"csrf_token": csrf_from(review),
                                                                 "note": "Please name the second speaker."})
    assert sent.status_code == 302
    client = as_role("summarizer")
    page = client.get(f"/studio/{draft}").get_data(as_text=True)
    assert "Please name the second speaker." in page
    assert client.post(f"/studio/{draft}/submit", data={"csrf_token": csrf_from(page)}).status_code == 302
    session.expire_all()
    assert session.get(Episode, draft).status == "in_review"
    again = client.post(f"/studio/{draft}/submit", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 409 and "cannot submit for review" in again.get_data(as_text=True)


def test_studio_lists_only_own_episodes(ctx, session, users, as_role, draft):
    from .factories import make_user

    other = make_user(session, "summarizer", name="other")
    make_episode(ctx, session, title="Someone else's", status="in_review", author=other)
    page = as_role("summarizer").get("/studio/").get_data(as_text=True)
    assert "Picosecond lasers for melasma" in page and "Someone else" not in page


def _error_holders(html: str) -> dict[str, str]:
    """Each field error on the page -> the id of the input it follows."""
    from lxml import html as lxml_html

    page = lxml_html.document_fromstring(html)
    return {p.text_content(): p.xpath("preceding-sibling::*[@id][1]")[0].get("id")
            for p in page.xpath("//form//p[@class='field-error']")}


def test_notes_errors_are_shown_beside_the_notes(inline, as_role, session):
    client = as_role("summarizer")
    data = _form(client, notes="---\ntitle: ok\nspeakers: [a, b\n---\n# Talk\n")
    data["audio"] = (open(GOOD / "speech.opus", "rb"), "speech.opus")
    response = client.post("/studio/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    holders = _error_holders(response.get_data(as_text=True))
    assert [where for message, where in holders.items() if "front matter is not valid YAML" in message] == ["notes"]
    assert _episodes(session) == []


def test_notes_errors_on_the_edit_form_are_beside_the_notes(as_role, draft):
    client = as_role("summarizer")
    response = client.post(f"/studio/{draft}/edit", data=_form(client, f"/studio/{draft}/edit", title="T",
                                                               notes="---\nfoo: 1\n---\n", action="save"))
    holders = _error_holders(response.get_data(as_text=True))
    assert [where for message, where in holders.items() if "unknown field(s) foo" in message] == ["notes"]


def test_markdown_autolinks_in_notes_become_links(as_role, session, draft):
    client = as_role("summarizer")
    notes = "# Links\nSee <https://example.org/a?b=1>, <http://example.org> or <mailto:editors@example.org>.\n"
    saved = client.post(f"/studio/{draft}/edit", data=_form(client, f"/studio/{draft}/edit", title="T", notes=notes,
                                                            action="save"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[-800:]
    session.expire_all()
    assert session.get(Episode, draft).summary.markdown == notes
    token = csrf_from(client.get("/studio/upload").get_data(as_text=True))
    html = client.post("/studio/preview", data={"csrf_token": token, "notes": notes}).get_json()["html"]
    for href in ("https://example.org/a?b=1", "http://example.org", "mailto:editors@example.org"):
        assert f'href="{href.replace("&", "&amp;")}"' in html


@pytest.mark.parametrize("link", ["<javascript:alert(1)>", "<data:text/html,x>", "<vbscript:msgbox(1)>",
                                  "<https://example.org><script>alert(1)</script>"])
def test_other_autolink_schemes_stay_refused(as_role, session, draft, link):
    client = as_role("summarizer")
    response = client.post(f"/studio/{draft}/edit", data=_form(client, f"/studio/{draft}/edit", title="T",
                                                               notes=f"see {link}", action="save"))
    assert response.status_code == 400 and "HTML tags are not allowed" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Episode, draft).summary.version == 1


@pytest.mark.parametrize("announced, status, message", [
    ({"filename": "talk.mp3", "size": 10 * 1024**4}, 422, "uploads may be at most 2.0 GB"),
    ({"filename": "../../talk.mp3", "size": 1000}, 422, "not a path"),
    ({"filename": "..", "size": 1000}, 422, "not a path"),
    ({"filename": "..\\..\\talk.mp3", "size": 1000}, 422, "not a path"),
    ({"filename": "talk.mp3", "size": "1000"}, 422, "whole number"),
    ({"filename": "talk.mp3", "size": True}, 422, "whole number"),
])
def test_chunked_upload_refuses_huge_sizes_and_paths_storing_nothing(app, as_role, users, announced, status, message):
    client = as_role("summarizer")
    headers = {"X-CSRFToken": csrf_from(client.get("/studio/upload").get_data(as_text=True))}
    response = client.post("/studio/uploads", json=announced, headers=headers)
    assert response.status_code == status and message in response.get_json()["message"]
    instance = Path(app.config["CLINEX"].instance_path)
    assert [p for p in instance.rglob("*") if p.is_file() and p.suffix in (".part", ".json", ".mp3")] == []
    assert not (instance.parent / "talk.mp3").exists()
