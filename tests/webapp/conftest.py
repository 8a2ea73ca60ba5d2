"""Web test helpers: accounts of every role, a published episode made of rows, sign-in, CSRF."""

from __future__ import annotations

import re

import pytest

from .factories import PASSWORD, ROLES, make_episode, make_user


@pytest.fixture
def session(ctx):
    s = ctx.sessions()
    yield s
    s.close()


@pytest.fixture
def users(session):
    """One account per role; listener untrusted (comments wait), the rest as created."""
    made = {role: make_user(session, role) for role in ROLES}
    session.commit()
    return {role: u.id for role, u in made.items()}


@pytest.fixture
def episode(ctx, session, users):
    from pipeline.models import User

    ep = make_episode(ctx, session, author=session.get(User, users["summarizer"]))
    return {"id": ep.id, "slug": ep.slug, "uuid": ep.uuid}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def token_for(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def login(client, role_or_email: str, password: str = PASSWORD):
    email = role_or_email if "@" in role_or_email else f"{role_or_email}@example.org"
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token_for(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def sign_in(client, user_id: int):
    """Put the account in the session the way Flask-Login does (skips the slow argon2 check;
    the real sign-in form has its own tests)."""
    from pipeline.models import User
    from webapp.auth import SessionUser

    app = client.application
    with app.app_context(), app.extensions["clinex"].sessions() as db_session:
        session_id = SessionUser(db_session.get(User, user_id)).get_id()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True
    return client


@pytest.fixture
def as_role(app, users):
    """as_role("editor") -> a test client signed in with that role (anonymous for None)."""

    def make(role: str | None):
        client = app.test_client()
        return sign_in(client, users[role]) if role else client

    return make
