"""Threaded comments: moderation of new accounts, replies, timestamps, edit window, delete,
honeypot, rate limit, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pipeline.models import Comment, CommentState

from .conftest import csrf_from


def _post(client, slug, **fields):
    token = csrf_from(client.get(f"/episodes/{slug}").get_data(as_text=True))
    return client.post(f"/episodes/{slug}/comments", data={"csrf_token": token, "body": "", "timestamp": "",
                                                            "parent_id": "", "website": "", **fields})


def _comments(session):
    session.expire_all()
    return session.query(Comment).order_by(Comment.id).all()


def test_untrusted_comment_waits_and_only_its_author_sees_it(as_role, episode, session):
    listener = as_role("listener")
    response = _post(listener, episode["slug"], body="Does this apply to **Fitzpatrick V**?", timestamp="0:42")
    assert response.status_code == 302 and "#c" in response.headers["Location"]
    [comment] = _comments(session)
    assert comment.state == CommentState.pending.value and comment.timestamp == 42.0
    mine = listener.get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    assert "Fitzpatrick V</strong>" in mine and "waiting for moderation" in mine
    assert "Fitzpatrick" not in as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)


def test_trusted_comment_shows_with_a_timestamp_link_and_replies_nest(as_role, episode, session):
    editor = as_role("editor")
    _post(editor, episode["slug"], body="Key point here", timestamp="0:30")
    [parent] = _comments(session)
    assert parent.state == CommentState.visible.value
    _post(editor, episode["slug"], body="A reply", parent_id=str(parent.id))
    page = as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    assert 'class="seek stamp" data-t="30.0" href="#t=30">0:30</a>' in page
    assert page.index("Key point here") < page.index('class="thread replies"') < page.index("A reply")


def test_reply_to_a_missing_comment_is_refused(as_role, episode, session):
    response = _post(as_role("editor"), episode["slug"], body="hi", parent_id="424242")
    assert response.status_code == 400 and _comments(session) == []


@pytest.mark.parametrize("fields, message", [
    ({"body": ""}, "A comment is required."),
    ({"body": "   "}, "A comment is required."),
    ({"body": "x" * 5001}, "at most 5000 characters"),
    ({"body": "<script>alert(1)</script>"}, "HTML tags are not allowed"),
    ({"body": "ok", "timestamp": "twelve"}, "minutes:seconds"),
    ({"body": "ok", "timestamp": "99:00"}, "only 1 minutes long"),
    ({"body": "ok", "website": "http://spam.example"}, "website"),
])
def test_bad_comments_are_refused_with_a_reason(as_role, episode, session, fields, message):
    response = _post(as_role("editor"), episode["slug"], **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _comments(session) == []


def test_comment_without_csrf_is_refused(as_role, episode, session):
    response = as_role("editor").post(f"/episodes/{episode['slug']}/comments", data={"body": "hello"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert _comments(session) == []


def test_markdown_is_sanitized(as_role, episode):
    editor = as_role("editor")
    _post(editor, episode["slug"], body="[click](javascript:alert(1)) ![x](http://e/x.png) `code` *ok*")
    page = as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    body = page[page.index('id="discussion"'):]  # the page has its own cover image above
    assert "href=\"javascript:" not in page and "<img" not in body
    assert "<code>code</code>" in page and "<em>ok</em>" in page


def test_edit_within_the_window_then_not(app, as_role, episode, session):
    listener = as_role("listener")
    _post(listener, episode["slug"], body="first words")
    [comment] = _comments(session)
    form = listener.get(f"/comments/{comment.id}/edit").get_data(as_text=True)
    response = listener.post(f"/comments/{comment.id}/edit", data={"csrf_token": csrf_from(form),
                                                                  "body": "better words", "timestamp": "0:05"})
    assert response.status_code == 302
    [comment] = _comments(session)
    assert comment.body == "better words" and comment.edited_at is not None and comment.timestamp == 5.0
    comment.created_at = comment.created_at - timedelta(hours=1)
    session.commit()
    assert listener.get(f"/comments/{comment.id}/edit").status_code == 403


def test_only_the_author_edits_or_deletes(as_role, episode, session):
    _post(as_role("listener"), episode["slug"], body="mine")
    [comment] = _comments(session)
    other = as_role("summarizer")
    assert other.get(f"/comments/{comment.id}/edit").status_code == 403
    token = csrf_from(other.get(f"/episodes/{episode['slug']}").get_data(as_text=True))
    assert other.post(f"/comments/{comment.id}/delete", data={"csrf_token": token}).status_code == 403
    assert _comments(session)[0].state == CommentState.pending.value


def test_delete_own_keeps_replies_in_place(as_role, episode, session):
    editor = as_role("editor")
    _post(editor, episode["slug"], body="parent text")
    [parent] = _comments(session)
    _post(as_role("admin"), episode["slug"], body="child text", parent_id=str(parent.id))
    token = csrf_from(editor.get(f"/episodes/{episode['slug']}").get_data(as_text=True))
    assert editor.post(f"/comments/{parent.id}/delete", data={"csrf_token": token}).status_code == 302
    page = as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    assert "parent text" not in page and "[comment removed]" in page and "child text" in page


def test_comment_rate_limit(app, as_role, episode, session):
    app.config["RATE_LIMITS"] = {"comment": (3, 60)}
    editor = as_role("editor")
    codes = [_post(editor, episode["slug"], body=f"comment {i}").status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert len(_comments(session)) == 3


def test_unpublished_episodes_take_no_comments(as_role, episode, session):
    from pipeline.models import Episode

    editor = as_role("editor")
    token = csrf_from(editor.get(f"/episodes/{episode['slug']}").get_data(as_text=True))
    session.get(Episode, episode["id"]).status = "unpublished"
    session.commit()
    response = editor.post(f"/episodes/{episode['slug']}/comments", data={"csrf_token": token, "body": "x"})
    assert response.status_code == 404 and _comments(session) == []
