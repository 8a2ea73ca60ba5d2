"""Download counting on the media route (IAB style) and the counts editors see."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import text

from pipeline.downloads import client_hash, is_countable
from pipeline.models import Download, Episode

APP = {"User-Agent": "AppleCoreMedia/1.0.0.21E230 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)"}
OTHER_APP = {"User-Agent": "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"}


@pytest.fixture
def media(session, episode) -> str:
    key = session.get(Episode, episode["id"]).media_of("published").storage_key
    return "/media/" + key.removeprefix("published/")


def counted(session, episode) -> int:
    session.expire_all()
    return session.query(Download).filter_by(episode_id=episode["id"]).count()


def test_probes_and_head_are_not_counted(client, session, episode, media):
    assert client.get(media, headers={**APP, "Range": "bytes=0-1"}).status_code == 206
    assert client.head(media, headers=APP).status_code == 200
    assert client.get(media, headers={**APP, "Range": "bytes=999999-"}).status_code == 416
    assert client.get(media, headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}).status_code == 200
    assert counted(session, episode) == 0
    assert client.get(media, headers={**APP, "Range": "bytes=0-"}).status_code == 206
    assert counted(session, episode) == 1


def test_one_per_client_per_24_hours(client, session, episode, media):
    for _ in range(3):  # a player fetching the file in ranges is one listener
        assert client.get(media, headers={**APP, "Range": "bytes=0-999"}).status_code == 206
    assert client.get(media, headers=APP).status_code == 200
    assert counted(session, episode) == 1
    client.get(media, headers=OTHER_APP)  # same address, another app: another listener
    assert counted(session, episode) == 2
    client.get(media, headers=APP, environ_base={"REMOTE_ADDR": "192.0.2.7"})  # same app, another address
    assert counted(session, episode) == 3
    session.execute(text("UPDATE downloads SET created_at = :t"),
                    {"t": session.query(Download).first().created_at - timedelta(hours=24, minutes=1)})
    session.commit()
    client.get(media, headers=APP)
    assert counted(session, episode) == 4


def test_the_address_is_never_stored(client, session, episode, media, app):
    client.get(media, headers=APP, environ_base={"REMOTE_ADDR": "198.51.100.23"})
    [row] = session.query(Download).all()
    assert row.client_hash == client_hash(app.config["SECRET_KEY"], "198.51.100.23", APP["User-Agent"])
    assert "198.51.100.23" not in row.client_hash and len(row.client_hash) == 64


def test_a_database_error_while_counting_does_not_stop_playback(client, session, episode, media, caplog):
    session.execute(text("DROP TABLE downloads"))
    session.commit()
    with caplog.at_level(logging.WARNING, logger="webapp.views.media"):
        response = client.get(media, headers={**APP, "Range": "bytes=0-99"})
    assert response.status_code == 206 and len(response.get_data()) == 100
    assert "could not count a download" in caplog.text


def test_editors_see_counts_and_listeners_do_not(as_role, session, episode, media):
    anonymous = as_role(None)
    anonymous.get(media, headers=APP)
    anonymous.get(media, headers=OTHER_APP)
    old = session.query(Download).order_by(Download.id).first()
    old.created_at = old.created_at - timedelta(days=10)
    session.commit()
    editor = as_role("editor")
    stats = editor.get("/stats/downloads")
    assert stats.status_code == 200
    title = session.get(Episode, episode["id"]).title
    row = stats.get_data(as_text=True).split(title, 1)[1].split("</tr>", 1)[0]
    assert [cell.split("<", 1)[0] for cell in row.split("<td>")[1:]] == ["1", "2", "2"]  # 7 days, 30 days, all
    review = editor.get(f"/review/{episode['id']}").get_data(as_text=True)
    assert "<td>1</td><td>2</td><td>2</td>" in review
    assert as_role("listener").get("/stats/downloads").status_code == 403
    assert as_role("summarizer").get("/stats/downloads").status_code == 403
    assert anonymous.get("/stats/downloads").status_code == 302


@pytest.mark.parametrize("method, span, agent, expected", [
    ("GET", None, "AppleCoreMedia/1.0", True),
    ("GET", (0, 1), "AppleCoreMedia/1.0", False),
    ("GET", (0, 0), "AppleCoreMedia/1.0", False),
    ("GET", (0, 2), "AppleCoreMedia/1.0", True),
    ("HEAD", None, "AppleCoreMedia/1.0", False),
    ("GET", None, "", False),
    ("GET", None, "Mozilla/5.0 (compatible; bingbot/2.0)", False),
])
def test_what_counts(method, span, agent, expected):
    assert is_countable(method, span, agent) is expected
