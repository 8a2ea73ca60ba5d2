"""Sign-in protection that an attacker cannot turn against an account's owner: the owner's own
browser (signed device cookie) is never kept out by failures from elsewhere, failures slow an
account down instead of locking it, the per-address limit lets a clinic behind one NAT work,
every slow-down and address limit is in the sign-in audit log, and editors see the failures."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from pipeline.models import SignInEvent
from pipeline.sign_in import DelayPolicy, parse_delay_policy
from sqlalchemy import select

from .conftest import token_for
from .factories import PASSWORD

OWNER = "editor@example.org"
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
CLINIC = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def policy(app):
    app.config["SIGNIN_DELAY"] = DelayPolicy(free_failures=3, first_delay=30, longest_delay=120)
    return app.config["SIGNIN_DELAY"]


def _try(client, email: str, password: str, where: dict | None = None):
    environ = where or {"REMOTE_ADDR": "192.0.2.10"}
    return client.post("/login", data={"csrf_token": token_for(client), "email": email, "password": password},
                       environ_base=environ)


def _events(session, kind: str | None = None) -> list[SignInEvent]:
    session.expire_all()
    query = select(SignInEvent).order_by(SignInEvent.id)
    return list(session.scalars(query.where(SignInEvent.kind == kind) if kind else query))


def _let_time_pass(session, seconds: int) -> None:
    """Move every sign-in event back in time, as if ``seconds`` had gone by."""
    for event in _events(session):
        stamp = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=timezone.utc)
        event.created_at = stamp - timedelta(seconds=seconds)
    session.commit()


def test_the_owners_browser_is_not_kept_out_by_failures_from_elsewhere(app, users, session, policy):
    owner = app.test_client()
    assert _try(owner, OWNER, PASSWORD).status_code == 302  # signed in here once: the device cookie
    assert owner.get_cookie("clinex_device") is not None
    owner.post("/logout", data={"csrf_token": token_for(owner, "/account")})
    attacker = app.test_client()
    answers = [_try(attacker, OWNER, f"guess {i}", ATTACKER).status_code for i in range(12)]
    assert answers[:3] == [400, 400, 400] and set(answers[3:]) == {429}
    assert _try(app.test_client(), OWNER, PASSWORD, CLINIC).status_code == 429  # a new browser waits too
    again = _try(owner, OWNER, PASSWORD, ATTACKER)  # even from the attacker's own network
    assert again.status_code == 302
    assert owner.get("/review/").status_code == 200


def test_a_device_cookie_counts_only_for_its_own_account_and_only_if_ours(app, users, session, policy):
    browser = app.test_client()
    assert _try(browser, "listener@example.org", PASSWORD).status_code == 302
    for i in range(4):
        _try(app.test_client(), OWNER, f"guess {i}", ATTACKER)
    assert _try(browser, OWNER, PASSWORD).status_code == 429  # the listener's cookie is not the editor's
    forged = app.test_client()
    forged.set_cookie("clinex_device", browser.get_cookie("clinex_device").value[:-3] + "abc")
    assert _try(forged, "listener@example.org", "wrong password").status_code == 400
    assert _events(session, "failed")[-1].device is None  # the tampered cookie was not taken as a device


def test_a_known_browser_that_keeps_failing_is_slowed_down_on_its_own(app, users, session, policy):
    browser = app.test_client()
    assert _try(browser, OWNER, PASSWORD).status_code == 302
    answers = [_try(browser, OWNER, f"typo {i}").status_code for i in range(5)]
    assert answers == [400, 400, 400, 429, 429]  # a stolen cookie does not buy unlimited guesses
    assert _try(app.test_client(), OWNER, PASSWORD).status_code == 302  # other browsers are not held back


def test_failures_slow_the_account_down_with_a_growing_wait_not_a_lock(app, users, session, policy):
    client = app.test_client()
    first = [_try(client, OWNER, f"guess {i}") for i in range(3)]
    assert [r.status_code for r in first] == [400, 400, 400]
    assert "Wait 30 seconds before trying again" in first[-1].get_data(as_text=True)
    waiting = _try(client, OWNER, PASSWORD)
    assert waiting.status_code == 429 and 25 <= int(waiting.headers["Retry-After"]) <= 30
    assert "wait 30 seconds and try again" in waiting.get_data(as_text=True)
    waits = []
    for _ in range(3):  # each further failure doubles the wait, up to the longest
        _let_time_pass(session, 200)
        assert _try(client, OWNER, "still wrong").status_code == 400
        waits.append(int(_try(client, OWNER, PASSWORD).headers["Retry-After"]))
    assert [w > limit - 5 and w <= limit for w, limit in zip(waits, (60, 120, 120))] == [True] * 3
    _let_time_pass(session, 121)
    assert _try(client, OWNER, PASSWORD).status_code == 302  # it was never locked: the right password works


def test_a_clinic_behind_one_address_is_not_stopped_by_its_typos(app, users, session):
    """Default limits: 99 failures from one address, three per colleague, stop nobody there."""
    limit, _seconds = app.config["RATE_LIMITS"].get("login", (100, 900))
    assert limit >= 100
    clinic = app.test_client()
    answers = {_try(clinic, f"colleague{i // 3}@clinic.example", "typo", CLINIC).status_code
               for i in range(limit - 1)}
    assert answers == {400}
    assert _try(clinic, "summarizer@example.org", PASSWORD, CLINIC).status_code == 302
    blocked = _try(app.test_client(), "someone@clinic.example", "typo", CLINIC)
    assert blocked.status_code == 400  # the 100th failure fills the window...
    refused = _try(app.test_client(), "someone@clinic.example", "typo", CLINIC)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 800  # ...then the address waits
    assert "from your network" in refused.get_data(as_text=True)
    [limited] = _events(session, "address_limited")
    assert limited.address == CLINIC["REMOTE_ADDR"] and limited.wait_seconds > 800


def test_every_slow_down_is_in_the_audit_log_and_editors_read_it(app, users, session, policy, as_role):
    for i in range(5):
        _let_time_pass(session, 200)
        _try(app.test_client(), OWNER, f"guess {i}", ATTACKER)
    delayed = _events(session, "delayed")
    assert [e.wait_seconds for e in delayed] == [30, 60, 120]
    assert all(e.email == OWNER and e.address == ATTACKER["REMOTE_ADDR"] and e.user_id == users["editor"]
               for e in delayed)
    assert len(_events(session, "failed")) == 5
    page = as_role("editor").get(f"/admin/sign-ins?email={OWNER}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count("203.0.113.66") >= 8 and "slowed down 2 minutes" in text
    for role in (None, "listener", "summarizer"):
        assert as_role(role).get("/admin/sign-ins").status_code in (302, 403)


def test_the_accounts_page_shows_repeated_failures_for_an_account(app, users, session, policy, as_role):
    answers = [_try(app.test_client(), "summarizer@example.org", f"guess {i}", ATTACKER).status_code
               for i in range(4)]
    assert answers == [400, 400, 400, 429]  # the refused 4th try is not a failure: its password was not checked
    page = as_role("editor").get("/admin/users").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if "summarizer@example.org" in r)
    assert "3 failed sign-ins in 24 h" in row and "203.0.113.66" in row
    assert "browsers new to it wait 30 seconds" in row
    quiet = next(r for r in page.split("<tr>") if "listener@example.org" in r)
    assert "failed sign-in" not in quiet


def test_a_correct_sign_in_from_a_new_browser_starts_its_count_again(app, users, session, policy):
    client = app.test_client()
    for i in range(2):
        _try(client, OWNER, f"typo {i}")
    assert _try(client, OWNER, PASSWORD).status_code == 302
    other = app.test_client()
    assert [_try(other, OWNER, f"later {i}").status_code for i in range(2)] == [400, 400]  # 2, not 4


@pytest.mark.parametrize("text, message", [("5/30", "free/first/longest"), ("0/30/900", "at least 1"),
                                           ("5/60/30", "no shorter"), ("a/b/c", "free/first/longest")])
def test_the_delay_setting_is_checked(text, message):
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        parse_delay_policy(text)
    assert parse_delay_policy("5/30/900") == DelayPolicy(5, 30, 900)
