"""Headers, cookies, CSRF on every state change, and hostile strings rendered inert everywhere."""

from __future__ import annotations

import re

import pytest
from pipeline.models import Comment, CommentState, Episode, Person, Tag, User

from .conftest import sign_in

XSS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "<svg onload=alert(1)>",
       "javascript:alert(1)", "<a href='javascript:alert(1)'>x</a>", '<div style="width: expression(alert(1))">',
       "[x](javascript:alert(1))", "<iframe src=//evil>"]


def test_security_headers_on_pages(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


def test_pages_have_no_inline_scripts_or_styles(client, episode):
    html = client.get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "<style" not in html and " onclick=" not in html


def test_session_cookie_flags(app):
    from webapp import create_app

    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    secure = create_app({**_values(app), "BASE_URL": "https://clinex.example"})
    response = secure.test_client().get("/login", base_url="https://clinex.example")  # the form sets a session
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def _values(app) -> dict:
    settings = app.config["CLINEX"]
    return {"INSTANCE_PATH": str(settings.instance_path), "SECRET_KEY": settings.SECRET_KEY,
            "BROKER_URL": settings.BROKER_URL}


# Routes whose credential is a signed token in the address, not a session (mail clients post
# RFC 8058 one-click unsubscribes with no cookie and no form): a forged token is refused instead.
SIGNED_LINK_ROUTES = {"notifications.unsubscribe"}


def test_every_post_route_needs_csrf(app, users, episode):
    """With CSRF on and no token, every state-changing route says so and changes nothing."""
    failures = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api.") or rule.endpoint in SIGNED_LINK_ROUTES:
            continue
        values = {a: 1 if a.endswith("_id") else "x" * 32 if a == "upload_id" else episode["slug"]
                  for a in rule.arguments}
        values = {k: (v if k != "token" else "t") for k, v in values.items()}
        url = rule.build(values)[1]
        response = sign_in(app.test_client(), users["admin"]).post(url, data={"body": "x", "name": "x"})
        if response.status_code != 400 or "CSRF" not in response.get_data(as_text=True):
            failures.append(f"{url}: {response.status_code}")
    assert failures == []


@pytest.fixture
def hostile(ctx, session, users, episode):
    """Hostile strings stored where people can put them (bypassing form checks, e.g. from notes)."""
    ep = session.get(Episode, episode["id"])
    ep.title = XSS[0] + " title"
    ep.summary.markdown = "\n\n".join(XSS)
    session.query(Person).first().name = XSS[1]
    session.query(Tag).filter_by(slug="melasma").one().name = XSS[2]
    ep.transcript.segments[0].text = XSS[4]
    session.add(Comment(episode_id=ep.id, author_id=users["editor"], body="\n\n".join(XSS),
                        state=CommentState.visible.value))
    session.get(User, users["editor"]).display_name = XSS[1]
    session.commit()
    return ep


def _inert(html: str) -> list[str]:
    bad = []
    for pattern in (r"<script>alert", r"<img[^>]*onerror", r"<svg", r"<iframe", r"<a[^>]+href=['\"]?javascript:",
                    r"expression\(alert\(1\)\)\">", r"<div style"):
        if re.search(pattern, html, re.I):
            bad.append(pattern)
    return bad


def test_hostile_strings_render_inert_on_every_page(app, hostile, users):
    editor = sign_in(app.test_client(), users["admin"])
    pages = ["/", f"/episodes/{hostile.slug}", "/tags/melasma", "/speakers/ana-ribeiro", "/search?q=title",
             "/search?q=alert", f"/review/{hostile.id}", "/review/", "/moderation/", "/admin/users", "/admin/tags",
             f"/studio/{hostile.id}", f"/studio/{hostile.id}/transcript",
             "/events/aesthetic-lasers-summit"]
    failures = {}
    for page in pages:
        response = editor.get(page)
        assert response.status_code == 200, page
        if bad := _inert(response.get_data(as_text=True)):
            failures[page] = bad
    assert failures == {}


def test_feed_html_fields_are_inert(app, hostile):
    """What a podcast app renders as HTML (description, content:encoded) carries no live markup."""
    from lxml import etree

    root = etree.fromstring(app.test_client().get("/feed.xml").get_data())
    html_fields = root.xpath("//item/description | //item/*[local-name()='encoded']")
    assert html_fields
    assert [bad for el in html_fields if (bad := _inert(el.text or ""))] == []


def test_search_query_syntax_is_inert(client, episode):
    for query in ['"', "NEAR(", "melasma OR", "a* AND -b", "' OR 1=1 --", "title:x", "*", "😀"]:
        assert client.get("/search", query_string={"q": query}).status_code == 200, query
    assert client.get("/search", query_string={"q": "x" * 201}).status_code == 400


def test_rate_limits_come_from_the_setting(settings_dict):
    from pipeline.errors import ConfigError
    from webapp import create_app

    app = create_app({**settings_dict, "RATE_LIMITS": "comment=100/60, upload = 5/10"})
    assert app.config["RATE_LIMITS"] == {"comment": (100, 60), "upload": (5, 10)}
    for bad in ("comments=1/60", "comment=6", "comment=x/60", "comment=6/0", "=6/60"):
        with pytest.raises(ConfigError, match="CLINEX_RATE_LIMITS"):
            create_app({**settings_dict, "RATE_LIMITS": bad})


def test_the_comment_limit_setting_is_what_posting_meets(settings_dict, users, episode):
    from webapp import create_app

    app = create_app({**settings_dict, "RATE_LIMITS": "comment=2/60"})
    client = sign_in(app.test_client(), users["editor"])
    page = client.get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answers = [client.post(f"/episodes/{episode['slug']}/comments",
                           data={"body": f"note {n}", "csrf_token": token}).status_code for n in range(3)]
    assert answers == [302, 302, 429]


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_controls_written_straight_into_rows_are_shown_nowhere(app, session, users, episode):
    """Even text that skips every form (a script, a future path) loses them on the way to the database."""
    ep = session.get(Episode, episode["id"])
    spoof = "Dr.\u202e xoba\u202c \u2067RLI\u2069 \u2066LRI\u2069 \u2068FSI\u2069 \u202aLRE\u202c \u202bRLE\u202c \u202dLRO"
    ep.title = "Title " + spoof
    ep.summary.markdown = f"# {spoof}\n\n- {spoof}\n"
    session.query(Person).first().name = spoof
    session.query(Tag).filter_by(slug="melasma").one().name = "Melasma " + spoof
    ep.transcript.segments[0].text = spoof
    session.add(Comment(episode_id=ep.id, author_id=users["editor"], body=spoof, state=CommentState.visible.value))
    session.get(User, users["editor"]).display_name = spoof
    session.commit()
    editor = sign_in(app.test_client(), users["admin"])
    shown = {}
    for page in ["/", f"/episodes/{ep.slug}", "/tags/melasma", "/review/", f"/review/{ep.id}", "/moderation/",
                 "/admin/users", f"/studio/{ep.id}/transcript", "/feed.xml"]:
        body = editor.get(page).get_data(as_text=True)
        if found := [c for c in BIDI_CONTROLS if c in body]:
            shown[page] = found
    assert shown == {}
    assert "Title Dr. xoba RLI LRI FSI LRE RLE LRO" in editor.get(f"/episodes/{ep.slug}").get_data(as_text=True)
