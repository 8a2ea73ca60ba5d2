"""record_listen: heard time grows only as fast as audio can play; completion is set once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.listening import InvalidListen, ListenReport, listen_info, parse_report, record_listen
from pipeline.models import Episode, User

T0 = datetime(2026, 5, 14, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def rows(ctx):
    with ctx.sessions.begin() as session:
        user = User(email="l@example.org", display_name="L", password_hash="x", role="listener")
        episode = Episode(title="Fillers", slug="fillers", status="published", duration=3600.0)
        session.add_all([user, episode])
    return user.id, episode.id


def test_heard_grows_with_the_wall_clock_at_most_twice_as_fast(ctx, rows):
    user_id, episode_id = rows
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        record_listen(session, user_id, episode, ListenReport(30, 30), now=T0)
        # 15 s later the player claims 100 s heard: 2x speed allows 30 s, plus 5 s of slack
        info = record_listen(session, user_id, episode, ListenReport(60, 100), now=T0 + timedelta(seconds=15))
        assert info.heard_seconds == 30 + 35
        # an honest report at 1x is counted in full
        info = record_listen(session, user_id, episode, ListenReport(75, 15), now=T0 + timedelta(seconds=30))
        assert info.heard_seconds == 80


def test_a_seek_moves_the_place_but_adds_no_heard_time(ctx, rows):
    user_id, episode_id = rows
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        record_listen(session, user_id, episode, ListenReport(10, 10), now=T0)
        info = record_listen(session, user_id, episode, ListenReport(3000, 0), now=T0 + timedelta(seconds=60))
        assert (info.position_seconds, info.heard_seconds, info.completed) == (3000, 10, False)


def test_completion_is_stamped_once_and_kept_when_listening_again(ctx, rows):
    user_id, episode_id = rows
    with ctx.sessions.begin() as session:
        episode = session.get(Episode, episode_id)
        assert record_listen(session, user_id, episode, ListenReport(3590, 5), now=T0).completed
        again = record_listen(session, user_id, episode, ListenReport(12, 5), now=T0 + timedelta(hours=1))
        assert again.completed and again.position_seconds == 12
    with ctx.sessions() as session:
        assert listen_info(session, user_id, episode_id).completed


@pytest.mark.parametrize("data", [None, {"position": True}, {"position": float("nan")}, {"heard": "1"}])
def test_parse_report_refuses_what_is_not_seconds(data):
    with pytest.raises(InvalidListen):
        parse_report(data)
