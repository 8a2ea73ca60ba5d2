"""The sign-in slow-down's counting, on SQLite and PostgreSQL: per kind of browser, since the last
success, within the window, with the wait growing and capped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pipeline.models import SignInEvent, utcnow
from pipeline.sign_in import Attempt, DelayPolicy, failures_by_email, record_failure, say_wait, wait_seconds

POLICY = DelayPolicy(free_failures=2, first_delay=10, longest_delay=40, window_seconds=3600)
STRANGER = Attempt("ana@example.org", "203.0.113.5")
OWN_LAPTOP = Attempt("ana@example.org", "198.51.100.2", device="laptop-device-id")


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    from pipeline.db import session_factory
    from pipeline.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 's.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade_database(url)
    return session_factory(url)


def _age(sessions, seconds: int) -> None:
    with sessions.begin() as session:
        for event in session.scalars(select(SignInEvent)):
            event.created_at = event.created_at - timedelta(seconds=seconds)


def test_waits_grow_to_the_cap_and_end(sessions):
    delays = []
    for _ in range(5):
        with sessions.begin() as session:
            delays.append(record_failure(session, STRANGER, None, POLICY))
        _age(sessions, 100)
    assert delays == [0, 10, 20, 40, 40]
    with sessions() as session:
        assert wait_seconds(session, STRANGER, POLICY) == 0  # 100 s later the 40-s wait is over
        with sessions.begin() as s2:
            record_failure(s2, STRANGER, None, POLICY)
        assert 39 <= wait_seconds(session, STRANGER, POLICY) <= 40


def test_each_known_browser_counts_apart_from_the_rest(sessions):
    with sessions.begin() as session:
        for _ in range(6):
            record_failure(session, STRANGER, None, POLICY)
    with sessions() as session:
        assert wait_seconds(session, STRANGER, POLICY) > 0
        assert wait_seconds(session, OWN_LAPTOP, POLICY) == 0
        assert wait_seconds(session, Attempt("other@example.org", "203.0.113.5"), POLICY) == 0


def test_a_success_and_the_window_start_the_count_again(sessions):
    with sessions.begin() as session:
        record_failure(session, STRANGER, None, POLICY)
    _age(sessions, 1)
    with sessions.begin() as session:
        session.add(SignInEvent(email=STRANGER.email, kind="signed_in", address=STRANGER.address))  # as record_success
    with sessions.begin() as session:
        assert record_failure(session, STRANGER, None, POLICY) == 0  # one since the success, not two
    _age(sessions, 3601)
    with sessions.begin() as session:
        assert record_failure(session, STRANGER, None, POLICY) == 0  # the old ones left the window
        assert record_failure(session, STRANGER, None, POLICY) == 10


def test_failures_by_email_for_the_editors(sessions):
    with sessions.begin() as session:
        for _ in range(3):
            record_failure(session, STRANGER, None, POLICY)
    with sessions() as session:
        assert failures_by_email(session, POLICY) == {}  # no account has that email here
        info = failures_by_email(session, POLICY, accounts_only=False)["ana@example.org"]
    assert (info.failures, info.last_address) == (3, "203.0.113.5") and 15 <= info.waiting_seconds <= 20
    assert abs((utcnow() - info.last_at).total_seconds()) < 60


def test_waits_are_said_in_words():
    assert [say_wait(s) for s in (1, 45, 60, 61, 900)] == ["1 second", "45 seconds", "1 minute", "2 minutes",
                                                            "15 minutes"]
