"""Editors: review actions (tags, chapters, request changes, audit trail), comment moderation,
glossary and tag vocabulary, accounts and roles."""

from __future__ import annotations

import pytest
from pipeline.models import (AuditEvent, Chapter, Comment, CommentState, Episode, EpisodeTag, GlossaryTerm, Tag,
                             User)

from .conftest import csrf_from
from .factories import make_episode


@pytest.fixture
def queued(ctx, session, users):
    return make_episode(ctx, session, status="in_review", author=session.get(User, users["summarizer"])).id


def test_queue_lists_oldest_first(ctx, session, users, as_role):
    from datetime import timedelta

    first = make_episode(ctx, session, title="Older talk", status="in_review")
    second = make_episode(ctx, session, title="Newer talk", status="in_review")
    first.updated_at = second.updated_at - timedelta(hours=2)
    session.commit()
    page = as_role("editor").get("/review/").get_data(as_text=True)
    assert page.index("Older talk") < page.index("Newer talk")


def test_request_changes_needs_a_note_and_is_audited(as_role, session, queued):
    editor = as_role("editor")
    page = editor.get(f"/review/{queued}").get_data(as_text=True)
    empty = editor.post(f"/review/{queued}/request-changes", data={"csrf_token": csrf_from(page), "note": ""})
    assert empty.status_code == 409 and "a note for the summarizer is required" in empty.get_data(as_text=True)
    scripted = editor.post(f"/review/{queued}/request-changes", data={"csrf_token": csrf_from(page),
                                                                      "note": "<script>x</script>"})
    assert scripted.status_code == 400 and "HTML tags" in scripted.get_data(as_text=True)
    ok = editor.post(f"/review/{queued}/request-changes", data={"csrf_token": csrf_from(page), "note": "Fix 2:10"})
    assert ok.status_code == 302
    session.expire_all()
    event = session.query(AuditEvent).filter_by(episode_id=queued).order_by(AuditEvent.id.desc()).first()
    assert (event.to_state, event.reason) == ("changes_requested", "Fix 2:10")
    history = editor.get(f"/review/{queued}").get_data(as_text=True)
    assert "in review → changes requested by <bdi>Editor</bdi> <q>Fix 2:10</q>" in history


def test_accept_and_drop_tags(as_role, session, queued):
    editor = as_role("editor")
    page = editor.get(f"/review/{queued}").get_data(as_text=True)
    tags = {t.slug: t.id for t in session.query(Tag)}
    response = editor.post(f"/review/{queued}/tags", data={"csrf_token": csrf_from(page),
                                                            "keep": [tags["rosacea"], tags["melasma"]]})
    assert response.status_code == 302
    session.expire_all()
    rows = {et.tag.slug: (et.accepted, et.dropped) for et in session.query(EpisodeTag).filter_by(episode_id=queued)}
    assert {slug for slug, (accepted, _d) in rows.items() if accepted} == {"rosacea", "melasma"}
    dropped = {slug for slug, (accepted, was_dropped) in rows.items() if was_dropped and not accepted}
    assert dropped and dropped == set(rows) - {"rosacea", "melasma"}
    # the review page lists the dropped tags apart, unchecked; checking one restores it
    page = editor.get(f"/review/{queued}").get_data(as_text=True)
    assert "Dropped (not suggested again" in page
    back = sorted(dropped)[0]
    editor.post(f"/review/{queued}/tags", data={"csrf_token": csrf_from(page),
                                                 "keep": [tags["rosacea"], tags["melasma"], tags[back]]})
    session.expire_all()
    restored = session.query(EpisodeTag).filter_by(episode_id=queued, tag_id=tags[back]).one()
    assert (restored.accepted, restored.dropped) == (True, False)
    assert set(t.slug for t in session.get(Episode, queued).accepted_tags) == {"rosacea", "melasma", back}


def test_edit_chapters_and_bad_lines(as_role, session, queued):
    editor = as_role("editor")
    page = editor.get(f"/review/{queued}").get_data(as_text=True)
    bad = editor.post(f"/review/{queued}/chapters", data={"csrf_token": csrf_from(page), "chapters": "soon Intro"})
    assert bad.status_code == 400 and "Line 1: start with a time" in bad.get_data(as_text=True)
    assert session.query(Chapter).filter_by(episode_id=queued).count() == 2
    ok = editor.post(f"/review/{queued}/chapters", data={"csrf_token": csrf_from(page),
                                                          "chapters": "0:20 Later\n0:00 Opening\n"})
    assert ok.status_code == 302
    session.expire_all()
    rows = session.query(Chapter).filter_by(episode_id=queued).order_by(Chapter.start).all()
    assert [(c.start, c.title, c.source) for c in rows] == [(0.0, "Opening", "editor"), (20.0, "Later", "editor")]


def test_moderation_restore_hide_and_trust(as_role, session, users, episode):
    pending = Comment(episode_id=episode["id"], author_id=users["listener"], body="first post", state="pending")
    session.add(pending)
    session.commit()
    editor = as_role("editor")
    page = editor.get("/moderation/").get_data(as_text=True)
    assert "first post" in page
    token = csrf_from(page)
    assert editor.post(f"/moderation/comments/{pending.id}/restore", data={"csrf_token": token}).status_code == 302
    assert "first post" in as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    editor.post(f"/moderation/comments/{pending.id}/hide", data={"csrf_token": token})
    assert "first post" not in as_role(None).get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    second = Comment(episode_id=episode["id"], author_id=users["listener"], body="second post", state="pending")
    session.add(second)
    session.commit()
    editor.post(f"/moderation/users/{users['listener']}/trust", data={"csrf_token": token})
    session.expire_all()
    assert session.get(User, users["listener"]).trusted
    assert session.get(Comment, second.id).state == CommentState.visible.value


def test_glossary_editor(as_role, session):
    editor = as_role("editor")
    page = editor.get("/admin/glossary").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "term": "Hyaluronidase", "category": "drug", "mishearings": "hyaluron ideas"}
    assert editor.post("/admin/glossary", data=data).status_code == 302
    duplicate = editor.post("/admin/glossary", data=data)
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)
    empty = editor.post("/admin/glossary", data={**data, "term": ""})
    assert empty.status_code == 400 and "The term is required." in empty.get_data(as_text=True)
    term = session.query(GlossaryTerm).one()
    assert term.mishearings == ["hyaluron ideas"]
    assert editor.post(f"/admin/glossary/{term.id}/delete", data={"csrf_token": data["csrf_token"]}).status_code == 302
    session.expire_all()
    assert session.query(GlossaryTerm).count() == 0


def test_tag_vocabulary_editor(as_role, session, episode):
    editor = as_role("editor")
    page = editor.get("/admin/tags").get_data(as_text=True)
    token = csrf_from(page)
    assert editor.post("/admin/tags", data={"csrf_token": token, "name": "IPL", "category": "device",
                                            "description": "Intense pulsed light"}).status_code == 302
    bad = editor.post("/admin/tags", data={"csrf_token": token, "name": "<b>x</b>", "category": "topic"})
    assert bad.status_code == 400 and "HTML tags" in bad.get_data(as_text=True)
    tag = session.query(Tag).filter_by(slug="ipl").one()
    assert editor.post(f"/admin/tags/{tag.id}", data={"csrf_token": token, "name": "IPL therapy",
                                                      "category": "device", "description": ""}).status_code == 302
    session.expire_all()
    assert session.get(Tag, tag.id).name == "IPL therapy" and session.get(Tag, tag.id).slug == "ipl"
    assert "Intense" not in editor.get("/tags/ipl").get_data(as_text=True)


def test_roles_are_managed_and_admin_is_reserved(as_role, session, users):
    editor = as_role("editor")
    page = editor.get("/admin/users").get_data(as_text=True)
    token = csrf_from(page)
    uid = users["listener"]
    ok = editor.post(f"/admin/users/{uid}", data={"csrf_token": token, f"u{uid}-role": "summarizer",
                                                  f"u{uid}-trusted": "y", f"u{uid}-active": "y"})
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(User, uid).role == "summarizer" and session.get(User, uid).trusted
    grant = editor.post(f"/admin/users/{uid}", data={"csrf_token": token, f"u{uid}-role": "admin",
                                                     f"u{uid}-active": "y"})
    assert grant.status_code == 403
    bogus = editor.post(f"/admin/users/{uid}", data={"csrf_token": token, f"u{uid}-role": "king"})
    assert bogus.status_code == 400 and "Not a valid choice" in bogus.get_data(as_text=True)
    self_demote = editor.post(f"/admin/users/{users['editor']}", data={"csrf_token": token,
                                                                       f"u{users['editor']}-role": "listener",
                                                                       f"u{users['editor']}-active": "y"})
    assert self_demote.status_code == 409
    session.expire_all()
    assert session.get(User, uid).role == "summarizer"
    link = editor.post(f"/admin/users/{uid}/reset-link", data={"csrf_token": token}).get_data(as_text=True)
    assert "/reset-password/" in link


def test_unpublish_hides_the_episode(as_role, session, episode):
    editor = as_role("editor")
    page = editor.get(f"/review/{episode['id']}").get_data(as_text=True)
    assert editor.post(f"/review/{episode['id']}/unpublish", data={"csrf_token": csrf_from(page),
                                                                   "note": "withdrawn"}).status_code == 302
    assert as_role(None).get(f"/episodes/{episode['slug']}").status_code == 404
    session.expire_all()
    assert session.get(Episode, episode["id"]).status == "unpublished"
