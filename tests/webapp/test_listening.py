"""The listening position endpoint: signed in only, CSRF-protected, honest about heard time."""

from __future__ import annotations

import re

import pytest

from pipeline.models import Listen


def page_token(client, slug: str) -> str:
    html = client.get(f"/episodes/{slug}").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the episode page carries no CSRF token for the player"
    return match.group(1)


def save(client, slug, body, token):
    return client.post(f"/episodes/{slug}/listen", json=body,
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


@pytest.fixture
def listener(as_role):
    return as_role("listener")


def test_signed_out_is_told_the_browser_keeps_the_place(as_role, episode):
    response = as_role(None).get(f"/episodes/{episode['slug']}/listen", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert "browser keeps it" in response.get_json()["message"]


def test_a_save_without_the_csrf_token_is_refused_and_stores_nothing(listener, episode, session):
    response = listener.post(f"/episodes/{episode['slug']}/listen", json={"position": 10, "heard": 5},
                             headers={"Accept": "application/json"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["message"]
    assert session.query(Listen).count() == 0


def test_position_is_saved_and_comes_back_on_the_page(listener, episode, session):
    token = page_token(listener, episode["slug"])
    response = save(listener, episode["slug"], {"position": 21.5, "heard": 12}, token)
    assert response.status_code == 200
    assert response.get_json()["position_seconds"] == 21.5
    assert listener.get(f"/episodes/{episode['slug']}/listen").get_json()["heard_seconds"] == 12
    assert 'data-resume="21.5"' in listener.get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    row = session.query(Listen).one()
    assert (row.position_seconds, row.heard_seconds, row.completed_at) == (21.5, 12.0, None)


def test_heard_time_cannot_outrun_the_clock(listener, episode, session):
    token = page_token(listener, episode["slug"])
    save(listener, episode["slug"], {"position": 5, "heard": 5000}, token)  # first report: at most a minute
    save(listener, episode["slug"], {"position": 6, "heard": 500}, token)  # a moment later: a few seconds
    heard = session.query(Listen).one().heard_seconds
    assert 60 <= heard < 70


@pytest.mark.parametrize("body, message", [
    ({"position": "ten", "heard": 1}, "'position' must be a number"),
    ({"position": 3, "heard": -4}, "'heard' must be a number"),
    ({"position": 99999, "heard": 1}, "past the end of the episode"),
    ([1, 2], "Send JSON like"),
])
def test_bad_reports_are_400_with_a_reason_and_store_nothing(listener, episode, session, body, message):
    response = save(listener, episode["slug"], body, page_token(listener, episode["slug"]))
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert session.query(Listen).count() == 0


def test_reaching_the_end_marks_the_episode_completed(listener, episode, session):
    from pipeline.models import Episode

    duration = session.get(Episode, episode["id"]).duration
    token = page_token(listener, episode["slug"])
    assert save(listener, episode["slug"], {"position": duration - 40, "heard": 10}, token).get_json()["completed"] is False
    assert save(listener, episode["slug"], {"position": duration, "heard": 3}, token).get_json()["completed"] is True
