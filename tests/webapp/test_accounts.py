"""Sign up, sign in and out, rate-limited sign-in, password reset links, own account, API token."""

from __future__ import annotations

import pytest
from pipeline.models import User

from .conftest import csrf_from, token_for
from .factories import PASSWORD


def _signup(client, **fields):
    data = {"csrf_token": token_for(client, "/signup"), "display_name": "Dr. Lee", "email": "lee@example.org",
            "password": "long enough pw", "confirm": "long enough pw", "website": "", **fields}
    return client.post("/signup", data=data)


def _count(session):
    session.expire_all()
    return session.query(User).count()


def test_signup_makes_an_untrusted_listener_and_signs_in(client, session):
    response = _signup(client)
    assert response.status_code == 302
    user = session.query(User).filter_by(email="lee@example.org").one()
    assert user.role == "listener" and not user.trusted and user.password_hash.startswith("$argon2")
    assert "Dr. Lee" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"display_name": ""}, "A name is required."),
    ({"display_name": "x" * 121}, "Field cannot be longer than 120 characters."),
    ({"display_name": "<img src=x onerror=alert(1)>"}, "HTML tags are not allowed"),
    ({"email": "not-an-email"}, "That is not an email address."),
    ({"password": "short", "confirm": "short"}, "Passwords must be 10 to 200 characters long."),
    ({"confirm": "something else"}, "The two passwords differ."),
    ({"website": "http://bot.example"}, "Leave the “website” field empty"),
    ({"csrf_token": ""}, "The CSRF token is missing."),
])
def test_bad_signups_change_nothing(client, session, fields, message):
    before = _count(session)
    response = _signup(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(session) == before


def test_signup_with_a_taken_email(client, session, users):
    response = _signup(client, email="listener@example.org")
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_login_logout_and_wrong_password(client, users):
    bad = client.post("/login", data={"csrf_token": token_for(client), "email": "editor@example.org",
                                      "password": "wrong password"})
    assert bad.status_code == 400 and "do not match" in bad.get_data(as_text=True)
    good = client.post("/login?next=/review/", data={"csrf_token": token_for(client), "email": "Editor@Example.org",
                                                     "password": PASSWORD, "next": "/review/"})
    assert good.status_code == 302 and good.headers["Location"] == "/review/"
    assert client.get("/review/").status_code == 200
    client.post("/logout", data={"csrf_token": token_for(client, "/")})
    assert client.get("/review/").status_code == 302


def test_login_refuses_offsite_next(client, users):
    response = client.post("/login", data={"csrf_token": token_for(client), "email": "editor@example.org",
                                           "password": PASSWORD, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_login_rate_limit_counts_failures(app, client, users):
    app.config["RATE_LIMITS"] = {"login": (3, 300)}
    codes = [client.post("/login", data={"csrf_token": token_for(client), "email": "editor@example.org",
                                         "password": "nope nope nope"}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    again = client.post("/login", data={"csrf_token": token_for(client), "email": "editor@example.org",
                                         "password": PASSWORD})
    # a browser that never signed in here, from the same address, waits out the window (Retry-After says how long)
    assert again.status_code == 429 and 290 <= int(again.headers["Retry-After"]) <= 300


def test_reset_link_from_the_cli_function_works_once(app, client, session, users, settings_dict):
    from webapp.passwords import issue_password_reset

    link = issue_password_reset("listener@example.org", app.config["CLINEX"])
    path = link.removeprefix("http://clinex.test")
    page = client.get(path)
    assert page.status_code == 200 and "listener@example.org" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                   "password": "a brand new one", "confirm": "a brand new one"})
    assert done.status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    login = client.post("/login", data={"csrf_token": token_for(client), "email": "listener@example.org",
                                        "password": "a brand new one"})
    assert login.status_code == 302


def test_forged_reset_link_and_unknown_email(app, client, users):
    from pipeline.errors import NotFound
    from webapp.passwords import issue_password_reset

    assert client.get("/reset-password/not-a-token").status_code == 400
    with pytest.raises(NotFound):
        issue_password_reset("nobody@example.org", app.config["CLINEX"])


def test_forgot_password_answers_the_same_for_unknown_addresses(client, users):
    for email in ("listener@example.org", "nobody@example.org"):
        response = client.post("/forgot-password", data={"csrf_token": token_for(client, "/forgot-password"),
                                                          "email": email}, follow_redirects=True)
        assert "If that address has an account" in response.get_data(as_text=True)


def test_change_password_needs_the_current_one(as_role, session, users):
    client = as_role("listener")
    page = client.get("/account").get_data(as_text=True)
    bad = client.post("/account", data={"csrf_token": csrf_from(page), "current": "wrong wrong",
                                        "password": "another password", "confirm": "another password"})
    assert bad.status_code == 400 and "not your current password" in bad.get_data(as_text=True)


def test_api_token_is_shown_once_and_stored_as_a_digest(as_role, session, users):
    client = as_role("summarizer")
    page = client.post("/account/api-token", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))})
    text = page.get_data(as_text=True)
    token = text.split('<pre class="token">')[1].split("</pre>")[0]
    assert token.startswith("cx_")
    session.expire_all()
    assert token not in session.get(User, users["summarizer"]).api_token_hash


def test_a_password_reset_ends_every_other_session(app, users):
    from webapp.passwords import issue_password_reset

    from .conftest import login

    laptop, phone, resetter = app.test_client(), app.test_client(), app.test_client()
    login(laptop, "listener"), login(phone, "listener")
    assert laptop.get("/account").status_code == 200 and phone.get("/account").status_code == 200
    path = issue_password_reset("listener@example.org", app.config["CLINEX"]).removeprefix("http://clinex.test")
    done = resetter.post(path, data={"csrf_token": csrf_from(resetter.get(path).get_data(as_text=True)),
                                     "password": "a brand new one", "confirm": "a brand new one"})
    assert done.status_code == 302
    for client in (laptop, phone):
        gone = client.get("/account")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    login(laptop, "listener", "a brand new one")
    assert laptop.get("/account").status_code == 200


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, users):
    from .conftest import login

    here, there = app.test_client(), app.test_client()
    login(here, "listener"), login(there, "listener")
    page = here.get("/account").get_data(as_text=True)
    changed = here.post("/account", data={"csrf_token": csrf_from(page), "current": PASSWORD,
                                          "password": "another password", "confirm": "another password"})
    assert changed.status_code == 302
    assert here.get("/account").status_code == 200
    assert there.get("/account").status_code == 302


def test_a_session_cookie_with_a_bare_user_id_is_not_signed_in(client, users):
    with client.session_transaction() as sess:
        sess["_user_id"] = str(users["editor"])  # what sessions held before they carried a stamp
    assert client.get("/review/").status_code == 302


def test_bidi_controls_leave_names_but_not_passwords(app, client, session):
    """A display name loses its override characters; a password keeps every character typed."""
    password = "pass\u202eword\u2066 12"
    assert _signup(client, display_name="Dr.\u202e eeL\u202c \u2067Lee\u2069", password=password,
                   confirm=password).status_code == 302
    user = session.query(User).filter_by(email="lee@example.org").one()
    assert user.display_name == "Dr. eeL Lee"
    fresh = app.test_client()
    wrong = fresh.post("/login", data={"csrf_token": token_for(fresh), "email": "lee@example.org",
                                       "password": "password 12"})
    assert wrong.status_code == 400
    right = fresh.post("/login", data={"csrf_token": token_for(fresh), "email": "lee@example.org",
                                       "password": password})
    assert right.status_code == 302
