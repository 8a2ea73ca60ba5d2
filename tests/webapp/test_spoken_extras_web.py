"""Spoken extras from the review page to the listener: the editor's choice, the listening file
with the introduction (and its chapter in the published MP3), and the recording alone still
downloadable; refusals with their reasons. Real Whisper, Piper and ffmpeg."""

from __future__ import annotations

import pytest

from pipeline.models import Episode, MediaKind
from pipeline.notes import EpisodeMeta, parse_notes
from tests.conftest import SAMPLE

from .conftest import csrf_from

pytestmark = pytest.mark.slow


@pytest.fixture
def inline(app, ctx):
    from pipeline.jobs import InlineDispatcher

    app.extensions["clinex_dispatcher"] = InlineDispatcher(ctx)
    return app


@pytest.fixture
def lecture(ctx, inline):
    from pipeline.ingest import ingest_recording
    from pipeline.jobs import InlineDispatcher

    with ctx.sessions() as session:
        result = ingest_recording(session, ctx.storage, ctx.settings, SAMPLE / "lecture.mp3", filename="lecture.mp3",
                                  meta=EpisodeMeta(), notes=parse_notes((SAMPLE / "lecture.md").read_text()))
    InlineDispatcher(ctx).dispatch(result.job_ids)
    return result.episode_id


def choose(client, episode_id: int, **fields):
    token = csrf_from(client.get(f"/review/{episode_id}").get_data(as_text=True))
    return client.post(f"/review/{episode_id}/spoken-extras", data={"csrf_token": token, **fields})


def test_an_editor_adds_an_introduction_and_listeners_can_still_get_the_recording_alone(ctx, as_role, session, users,
                                                                                         lecture):
    from pipeline.audio.id3 import read_tags
    from pipeline.review import approve
    from pipeline.storage import local_copy

    editor = as_role("editor")
    page = editor.get(f"/review/{lecture}").get_data(as_text=True)
    assert "Spoken by the voice" in page and "The listening file is the recording alone." in page
    response = choose(editor, lecture, intro="1")
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    ep = session.get(Episode, lecture)
    assert ep.status == "in_review" and ep.audio_notes.spoken_intro is True and ep.audio_notes.spoken_summary is False
    plain = ep.media_of(MediaKind.plain)
    assert plain is not None and ep.chapters[0].title == "Introduction"
    page = editor.get(f"/review/{lecture}").get_data(as_text=True)
    assert "The listening file has a spoken introduction; the recording starts at 0:" in page
    assert editor.get(f"/studio/{lecture}/audio?plain=1", headers={"Range": "bytes=0-1"}).status_code == 206

    approve(ctx, lecture, users["editor"])
    session.expire_all()
    ep = session.get(Episode, lecture)
    with local_copy(ctx.storage, ep.media_of(MediaKind.published).storage_key) as published:
        titles = [c["title"] for c in read_tags(published)["chapters"]]
    assert titles[0] == "Introduction" and len(titles) == len(ep.chapters)

    listener = as_role(None)
    page = listener.get(f"/episodes/{ep.slug}").get_data(as_text=True)
    assert "Recording only (without the spoken introduction)" in page
    alone = listener.get(f"/episodes/{ep.slug}/recording-only")
    assert alone.status_code == 200 and alone.mimetype == "audio/mpeg"
    assert alone.headers["Content-Disposition"] == f'attachment; filename="{ep.slug}-recording-only.mp3"'
    assert alone.data == ctx.storage.get_bytes(plain.storage_key)
    again = listener.get(f"/episodes/{ep.slug}/recording-only", headers={"If-None-Match": alone.headers["ETag"]})
    assert again.status_code == 304
    assert listener.head(f"/episodes/{ep.slug}/recording-only").status_code == 200

    refused = choose(editor, lecture, intro="1", summary="1")
    assert refused.status_code == 409 and "chosen while the episode is in review" in refused.get_data(as_text=True)


def test_spoken_extras_need_an_editor_and_an_episode_that_has_them(ctx, as_role, session, lecture):
    summarizer = as_role("summarizer")
    token = csrf_from(summarizer.get("/studio/").get_data(as_text=True))
    assert summarizer.post(f"/review/{lecture}/spoken-extras", data={"csrf_token": token, "intro": "1"}).status_code == 403
    editor = as_role("editor")
    token = csrf_from(editor.get(f"/review/{lecture}").get_data(as_text=True))
    assert editor.post("/review/999/spoken-extras", data={"csrf_token": token}).status_code == 404
    assert as_role(None).get("/episodes/no-such-episode/recording-only").status_code == 404
    ep = session.get(Episode, lecture)
    assert as_role(None).get(f"/episodes/{ep.slug}/recording-only").status_code == 404, "not published, no extras"


def test_the_api_takes_an_editors_choice_and_refuses_others(ctx, client, session, users, lecture):
    from pipeline.accounts import issue_api_token
    from pipeline.models import User

    tokens = {role: issue_api_token(session, session.get(User, users[role])) for role in ("summarizer", "editor")}
    session.commit()
    url = f"/api/episodes/{lecture}/spoken-extras"
    auth = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    refused = client.post(url, json={"intro": True}, headers=auth["summarizer"])
    assert refused.status_code == 403 and "editor" in refused.get_json()["message"]
    bad = client.post(url, json={"intro": "yes"}, headers=auth["editor"])
    assert bad.status_code == 422 and '{"intro": true' in bad.get_json()["message"]
    done = client.post(url, json={"summary": True}, headers=auth["editor"])
    assert done.status_code == 202, done.get_data(as_text=True)
    session.expire_all()
    ep = session.get(Episode, lecture)
    assert ep.status == "in_review" and ep.chapters[-1].title == "The summary, read aloud"
    assert ep.audio_notes.intro_seconds == 0.0 and ep.audio_notes.summary_start > 140
