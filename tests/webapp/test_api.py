"""The JSON API: bearer tokens only, JSON errors, upload -> 202 -> status -> submit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pipeline.accounts import issue_api_token
from pipeline.models import Episode, User

from .factories import make_episode

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "good"


@pytest.fixture
def tokens(session, users):
    made = {role: issue_api_token(session, session.get(User, uid)) for role, uid in users.items()}
    session.commit()
    return made


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_no_or_bad_token_is_401_json(client):
    for headers in ({}, {"Authorization": "Bearer cx_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/episodes/1", headers=headers)
        assert response.status_code == 401 and response.is_json
        assert "Bearer cx_" in response.get_json()["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_does_not_authenticate_the_api(as_role):
    assert as_role("editor").get("/api/episodes/1").status_code == 401


def test_listener_tokens_are_refused(client, tokens):
    response = client.get("/api/episodes/1", headers=_auth(tokens["listener"]))
    assert response.status_code == 403 and "summarizers" in response.get_json()["message"]


def test_status_of_own_episode_and_not_of_others(ctx, session, users, tokens, client):
    ep = make_episode(ctx, session, status="in_review", author=session.get(User, users["summarizer"]))
    mine = client.get(f"/api/episodes/{ep.id}", headers=_auth(tokens["summarizer"]))
    assert mine.status_code == 200 and mine.get_json()["status"] == "in_review"
    from .factories import make_user

    other = make_user(session, "summarizer", name="other")
    other_token = issue_api_token(session, other)
    session.commit()
    assert client.get(f"/api/episodes/{ep.id}", headers=_auth(other_token)).status_code == 404
    assert client.get("/api/episodes/999", headers=_auth(tokens["editor"])).get_json()["error"] == "Not Found"


def test_submit_only_after_changes_were_requested(ctx, session, users, tokens, client):
    ep = make_episode(ctx, session, status="changes_requested", author=session.get(User, users["summarizer"]))
    ok = client.post(f"/api/episodes/{ep.id}/submit", headers=_auth(tokens["summarizer"]))
    assert ok.status_code == 200 and ok.get_json()["status"] == "in_review"
    again = client.post(f"/api/episodes/{ep.id}/submit", headers=_auth(tokens["summarizer"]))
    assert again.status_code == 409 and "cannot submit for review" in again.get_json()["message"]


def test_upload_errors_are_json_and_store_nothing(client, tokens, session):
    headers = _auth(tokens["summarizer"])
    missing = client.post("/api/episodes", headers=headers, data={"title": "x"})
    assert missing.status_code == 422 and "'audio'" in missing.get_json()["message"]
    tagged = client.post("/api/episodes", headers=headers, content_type="multipart/form-data",
                         data={"title": "<script>", "audio": (open(GOOD / "speech.ogg", "rb"), "speech.ogg")})
    assert tagged.status_code == 422 and "plain text" in tagged.get_json()["message"]
    assert session.query(Episode).count() == 0


@pytest.mark.slow
def test_upload_returns_202_and_processes(app, ctx, client, tokens, session):
    from pipeline.jobs import InlineDispatcher

    app.extensions["clinex_dispatcher"] = InlineDispatcher(ctx)
    response = client.post("/api/episodes", headers=_auth(tokens["summarizer"]), content_type="multipart/form-data",
                           data={"audio": (open(GOOD / "speech.ogg", "rb"), "speech.ogg"), "title": "Scripted",
                                 "speakers": "Dr. A", "tags": "Fillers", "date": "2026-02-03",
                                 "notes": "# Fillers\n- hyaluronidase\n"})
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status_url"].endswith(f"/api/episodes/{body['id']}") and response.headers["Location"]
    status = client.get(f"/api/episodes/{body['id']}", headers=_auth(tokens["summarizer"])).get_json()
    assert status["status"] == "in_review", status


def test_another_summarizers_token_cannot_see_or_submit_an_episode(ctx, session, users, tokens, client):
    from .factories import make_user

    ep = make_episode(ctx, session, status="changes_requested", author=session.get(User, users["summarizer"]))
    other_token = issue_api_token(session, make_user(session, "summarizer", name="other"))
    session.commit()
    seen = client.get(f"/api/episodes/{ep.id}", headers=_auth(other_token))
    submitted = client.post(f"/api/episodes/{ep.id}/submit", headers=_auth(other_token))
    assert (seen.status_code, submitted.status_code) == (404, 404)
    assert submitted.is_json and "No such episode" in submitted.get_json()["message"]
    session.expire_all()
    assert session.get(Episode, ep.id).status == "changes_requested"  # the other token changed nothing


def test_non_utf8_notes_file_is_a_clear_422(client, tokens, session, ctx):
    notes = "# Séance\n- café au lait\n".encode("latin-1")
    response = client.post("/api/episodes", headers=_auth(tokens["summarizer"]), content_type="multipart/form-data",
                           data={"audio": (open(GOOD / "speech.ogg", "rb"), "speech.ogg"),
                                 "notes": (io.BytesIO(notes), "notes.md")})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "InvalidNotes"
    assert "not UTF-8" in body["message"] and "0xE9 on line 1" in body["message"] and "Latin-1" in body["message"]
    assert session.query(Episode).count() == 0 and list(ctx.storage.keys("originals")) == []
