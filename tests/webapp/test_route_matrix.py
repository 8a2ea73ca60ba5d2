"""Every URL rule x every role: who gets in, who is turned away.

The expected set is written out per endpoint, so a new route without an entry fails here until
someone decides who may use it.
"""

from __future__ import annotations

import pytest
from pipeline.models import Comment, CommentState, FeedToken, GlossaryTerm, Tag

from .conftest import sign_in

ROLES = (None, "listener", "summarizer", "editor", "admin")
EVERYONE = set(ROLES)
SIGNED_IN = {"listener", "summarizer", "editor", "admin"}
STUDIO = {"summarizer", "editor", "admin"}
EDITORS = {"editor", "admin"}
TOKEN_ONLY: set = set()  # the API ignores session cookies: every role without a token gets 401

EXPECTED = {
    "static": EVERYONE, "public.home": EVERYONE, "public.episode": EVERYONE, "public.tag": EVERYONE,
    "public.event": EVERYONE, "public.favicon": EVERYONE, "public.embed": EVERYONE, "public.summarizer": EVERYONE,
    "covers.cover": EVERYONE, "covers.upload": EDITORS,
    "listening.show": SIGNED_IN, "listening.save": SIGNED_IN, "public.speaker": EVERYONE, "search.results": EVERYONE,
    "feeds.main_feed": EVERYONE, "feeds.tag_feed": EVERYONE, "feeds.event_feed": EVERYONE, "feeds.speaker_feed": EVERYONE,
    "feeds.chapters": EVERYONE, "feeds.transcript": EVERYONE, "feeds.cover": EVERYONE,
    "feeds.private_feed": EVERYONE,  # the token is the credential: anyone holding a live one
    "media.published_media": EVERYONE, "media.recording_only": EVERYONE,
    "accounts.login": EVERYONE, "accounts.logout": EVERYONE, "accounts.signup": EVERYONE,
    "accounts.forgot": EVERYONE, "accounts.reset": EVERYONE, "accounts.account": SIGNED_IN,
    "accounts.api_token": STUDIO, "accounts.create_private_feed": SIGNED_IN,
    "accounts.revoke_private_feed": SIGNED_IN,
    "learning.record": SIGNED_IN, "learning.reflect": SIGNED_IN, "learning.csv": SIGNED_IN, "learning.pdf": SIGNED_IN,
    "discussion.post": SIGNED_IN, "discussion.edit": {"listener"}, "discussion.delete": {"listener"},
    "studio.index": STUDIO, "studio.upload": STUDIO, "studio.start_upload": STUDIO, "studio.upload_chunk": STUDIO,
    "studio.preview": STUDIO, "studio.episode": STUDIO, "studio.status": STUDIO, "studio.audio": STUDIO,
    "studio.edit": STUDIO, "studio.transcript": STUDIO, "studio.segment": STUDIO, "studio.submit": STUDIO,
    "studio.retry": STUDIO, "studio.notes_only": STUDIO,
    "summaries.summaries_feed": EVERYONE, "summaries.tag_summaries_feed": EVERYONE,
    "summaries.event_summaries_feed": EVERYONE,
    "admin.add_pronunciation": EDITORS, "admin.delete_pronunciation": EDITORS,
    "review.queue": EDITORS, "review.episode": EDITORS, "review.approve": EDITORS, "review.send_back": EDITORS,
    "review.unpublish": EDITORS, "review.retry": EDITORS, "review.tags": EDITORS, "review.chapters": EDITORS,
    "review.voices": EDITORS, "review.spoken_extras": EDITORS,
    "review.glossary": EDITORS, "review.access": EDITORS, "stats.downloads": EDITORS,
    "moderation.queue": EDITORS, "moderation.hide": EDITORS, "moderation.restore": EDITORS,
    "moderation.trust": EDITORS,
    "admin.glossary": EDITORS, "admin.delete_term": EDITORS, "admin.tags": EDITORS, "admin.edit_tag": EDITORS,
    "admin.delete_tag": EDITORS, "admin.users": EDITORS, "admin.update_user": EDITORS,
    "admin.user_reset_link": EDITORS, "admin.sign_ins": EDITORS, "admin.revoke_user_feeds": EDITORS,
    "api.create": TOKEN_ONLY, "api.show": TOKEN_ONLY, "api.submit": TOKEN_ONLY, "api.spoken_extras": TOKEN_ONLY,
    "profiles.show": EVERYONE, "profiles.avatar": EVERYONE, "profiles.edit": SIGNED_IN,
    "profiles.helpful": SIGNED_IN, "profiles.contributors": EVERYONE,
    "notifications.index": SIGNED_IN, "notifications.open_one": SIGNED_IN, "notifications.read_all": SIGNED_IN,
    "notifications.settings": SIGNED_IN,
    "notifications.unsubscribe": EVERYONE,  # the signed link is the credential, no sign-in
    "follows.toggle": SIGNED_IN, "follows.following": SIGNED_IN,
    "follows.following_feed": EVERYONE,  # a private feed token is the credential
    "reports.report": SIGNED_IN, "reports.queue": EDITORS, "reports.act": EDITORS, "reports.member": EDITORS,
    "calls.index": EVERYONE, "calls.meeting": EVERYONE, "calls.ics": EVERYONE, "calls.new": STUDIO,
    "calls.claim": STUDIO,
}


@pytest.fixture
def world(app, ctx, session, users, episode):
    """Real ids for every URL parameter (the listener's comment, a tag, a term, a segment...)."""
    from webapp.passwords import make_reset_token
    from pipeline.models import Episode, User
    from pipeline.private_feeds import issue_feed_token

    comment = Comment(episode_id=episode["id"], author_id=users["listener"], body="hello",
                      state=CommentState.visible.value)
    term = GlossaryTerm(term="Tranexamic acid", category="drug", mishearings=[])
    session.add_all([comment, term])
    feed_token = issue_feed_token(session, session.get(User, users["listener"]))
    session.commit()
    ep = session.get(Episode, episode["id"])
    tag = session.query(Tag).filter_by(slug="melasma").one()
    return {
        "slug": episode["slug"], "episode_id": episode["id"], "comment_id": comment.id, "user_id": users["listener"],
        "tag_id": tag.id, "term_id": term.id, "segment_id": ep.transcript.segments[0].id, "upload_id": "0" * 32,
        "token": make_reset_token(session.get(User, users["listener"]), app.config["SECRET_KEY"]),
        "token_id": session.query(FeedToken).one().id, "uuid": ep.uuid, "name": "p.mp3", "ext": "vtt",
        "filename": "site.css", "kind": "tag", "target_id": tag.id, "action": "hide", "session_id": 1,
        "notification_id": 1, "pronunciation_id": 1,
        "by_endpoint": {"public.tag": {"slug": "melasma"}, "feeds.tag_feed": {"slug": "melasma"},
                        "public.event": {"slug": "aesthetic-lasers-summit"},
                        "feeds.event_feed": {"slug": "aesthetic-lasers-summit"},
                        "summaries.tag_summaries_feed": {"slug": "melasma"},
                        "summaries.event_summaries_feed": {"slug": "aesthetic-lasers-summit"},
                        "public.speaker": {"slug": "ana-ribeiro"}, "feeds.speaker_feed": {"slug": "ana-ribeiro"},
                        "feeds.private_feed": {"token": feed_token},
                        "follows.following_feed": {"token": feed_token},
                        "calls.claim": {"action": "claim"}, "reports.member": {"action": "suspend"}},
    }


def _url(app, rule, world, missing: bool) -> str:
    values = {}
    for arg in rule.arguments:
        value = world["by_endpoint"].get(rule.endpoint, {}).get(arg, world.get(arg))
        if missing and arg.endswith("_id") and arg != "upload_id":
            value = 999999  # allowed roles are checked against a missing thing, so nothing changes
        values[arg] = value
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _turned_away(response, role) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _request(app, users, role, method, url):
    client = app.test_client()
    if role:
        sign_in(client, users[role])
    return client.open(url, method=method)


def test_every_rule_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "new routes need an entry in EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED names routes that no longer exist"


def test_every_rule_for_every_role(app, users, world):
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is its own test; here only roles are checked
    app.config["RATE_LIMITS"] = {name: (10_000, 60) for name in ("login", "signup", "comment", "reset", "upload")}
    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                allowed = role in EXPECTED[rule.endpoint]
                url = _url(app, rule, world, missing=allowed and method == "POST")
                response = _request(app, __import__("builtins").dict(users), role, method, url)
                if allowed == _turned_away(response, role):
                    failures.append(f"{method} {url} as {role or 'anonymous'}: {response.status_code} "
                                    f"(expected {'allowed' if allowed else 'turned away'})")
                if allowed and method == "GET" and response.status_code >= 500:
                    failures.append(f"{method} {url} as {role}: server error")
    assert failures == []


def test_anonymous_is_sent_to_sign_in_and_others_get_403(app, users, world):
    client = app.test_client()
    response = client.get("/review/")
    assert response.status_code == 302 and "/login?next=%2Freview%2F" in response.headers["Location"]
    listener = sign_in(app.test_client(), users["listener"])
    page = listener.get("/review/")
    assert page.status_code == 403 and "for editors" in page.get_data(as_text=True)


def test_a_summarizer_cannot_reach_another_summarizers_episode(app, session, users, world):
    from .factories import make_user

    other = make_user(session, "summarizer", name="other")
    session.commit()
    client = sign_in(app.test_client(), other.id)
    for path in (f"/studio/{world['episode_id']}", f"/studio/{world['episode_id']}/status.json",
                 f"/studio/{world['episode_id']}/edit", f"/studio/{world['episode_id']}/audio"):
        assert client.get(path).status_code == 404, path
