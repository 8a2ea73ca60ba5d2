"""The hostile-input corpus through the community's paths: bios and display names on the
profile form, mentions in comments. What is refused is refused with a reason and stores
nothing; what is taken shows as text on every page that shows it, and in mail."""

from __future__ import annotations

import pytest

from pipeline.community.mail import list_mailbox
from pipeline.community.models import Profile
from pipeline.models import User
from tests.integration.test_hostile_input import CORPUS, live_markup, parse_page, shown
from .conftest import csrf_from
from .test_discussion import _post


def _save_profile(client, **fields):
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    base = {"display_name": "Dr. Lee", "handle": "", "credentials": "", "credentials_visibility": "public",
            "specialty": "", "specialty_visibility": "public", "practice": "", "practice_visibility": "public",
            "city": "", "city_visibility": "public", "bio": ""}
    return client.post("/account/profile", data={"csrf_token": token, **base, **fields})


def _no_live_markup(body: str) -> list[str]:
    return live_markup(parse_page(body))


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_hostile_bios_are_refused_or_inert(as_role, session, users, index):
    client = as_role("listener")
    text = f"b{index:02d} {CORPUS[index]}"
    response = _save_profile(client, bio=text, specialty=CORPUS[index][:120])
    session.expire_all()
    profile = session.get(Profile, users["listener"])
    if response.status_code != 302:
        body = response.get_data(as_text=True)
        assert response.status_code in (400, 422) and ("not allowed" in body or "control characters" in body)
        assert profile.bio is None and profile.specialty is None
        return
    for viewer in (None, "summarizer", "listener"):
        page = as_role(viewer).get(f"/members/{users['listener']}").get_data(as_text=True)
        assert _no_live_markup(page) == []
    assert profile.bio == text


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_hostile_display_names_are_refused_or_inert(as_role, episode, session, users, index):
    client = as_role("editor")
    response = _save_profile(client, display_name=CORPUS[index][:120], handle="ed")
    session.expire_all()
    name = session.get(User, users["editor"]).display_name
    if response.status_code != 302:
        assert name == "Editor"
        return
    _post(client, episode["slug"], body="hello @listener")
    for path in (f"/episodes/{episode['slug']}", f"/members/{users['editor']}"):
        assert _no_live_markup(as_role(None).get(path).get_data(as_text=True)) == []
    assert shown(name) in " ".join(parse_page(as_role(None).get(f"/episodes/{episode['slug']}")
                                              .get_data(as_text=True)).xpath("//main//text()"))


def test_hostile_mentions_notify_as_text(as_role, episode, session, users, settings):
    listener = as_role("listener")
    listener.get("/account/profile")
    handle = session.get(Profile, users["listener"]).handle
    editor = as_role("editor")
    taken = []
    for i, s in enumerate(CORPUS):
        if _post(editor, episode["slug"], body=f"@{handle} m{i:02d} {s}").status_code == 302:
            taken.append(i)
    assert taken  # the Markdown-link strings pass the comment form's check
    for path in ("/notifications/", "/following", f"/episodes/{episode['slug']}"):
        assert _no_live_markup(listener.get(path).get_data(as_text=True)) == []
    mails = [m for m in list_mailbox(settings) if m.to == "listener@example.org"]
    assert len(mails) == len(taken)
    assert all("\n" not in m.subject and "<script" not in m.subject.lower() for m in mails)
