"""Members-only episodes and private feeds: who gets what, tokens kept as hashes, revocation at once."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from pipeline.models import AuditEvent, Episode, FeedToken, User

from .conftest import csrf_from
from .factories import make_episode

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}
BASE = "http://clinex.test"


@pytest.fixture
def members_episode(ctx, session, users, episode):
    """Beside the public ``episode``, a published members-only one."""
    ep = make_episode(ctx, session, title="Thread lifts, members edition", author=session.get(User, users["summarizer"]))
    ep.members_only = True
    session.commit()
    return {"id": ep.id, "slug": ep.slug, "uuid": ep.uuid, "title": ep.title,
            "media": "/media/" + ep.media_of("published").storage_key.removeprefix("published/")}


def make_private_feed(client) -> str:
    """Make a feed on the account page the way a person does; returns the URL path shown once."""
    token = csrf_from(client.get("/account").get_data(as_text=True))
    page = client.post("/account/private-feeds", data={"csrf_token": token}).get_data(as_text=True)
    match = re.search(re.escape(BASE) + r"(/feeds/private/cxf_[A-Za-z0-9_-]+\.xml)", page)
    assert match, "the new private feed address is not on the page"
    return match.group(1)


def token_of(path: str) -> str:
    return path.removeprefix("/feeds/private/").removesuffix(".xml")


def items(body: bytes) -> dict[str, etree._Element]:
    root = etree.fromstring(body)
    return {item.findtext("title"): item for item in root.iter("item")}


def local(url: str) -> str:
    return url.removeprefix(BASE)


def test_private_feed_has_members_only_episodes_and_public_feeds_do_not(as_role, episode, members_episode, session):
    listener = as_role("listener")
    path = make_private_feed(listener)
    anonymous = as_role(None)
    response = anonymous.get(path)
    assert response.status_code == 200 and response.content_type.startswith("application/rss+xml")
    assert response.headers["Cache-Control"].startswith("private")
    assert feedparser.parse(response.get_data()).bozo == 0
    found = items(response.get_data())
    public_title = session.get(Episode, episode["id"]).title
    assert set(found) == {public_title, members_episode["title"]}
    members_url = found[members_episode["title"]].find("enclosure").get("url")
    assert members_url == BASE + members_episode["media"] + "?token=" + token_of(path)
    assert "token=" not in found[public_title].find("enclosure").get("url")
    root = etree.fromstring(response.get_data())
    assert root.findtext("channel/itunes:block", namespaces=NS).lower() == "yes"
    for public in ("/feed.xml", "/tags/melasma/feed.xml", "/events/aesthetic-lasers-summit/feed.xml",
                   "/speakers/ana-ribeiro/feed.xml"):
        body = anonymous.get(public).get_data()
        assert list(items(body)) == [public_title], public
        assert b"cxf_" not in body and b"members edition" not in body
        assert etree.fromstring(body).find("channel/itunes:block", namespaces=NS) is None


def test_private_feed_conditional_get(as_role, members_episode):
    path = make_private_feed(as_role("listener"))
    client = as_role(None)
    first = client.get(path)
    etag = first.headers["ETag"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": first.headers["Last-Modified"]}):
        again = client.get(path, headers=headers)
        assert again.status_code == 304 and again.headers["Cache-Control"].startswith("private"), headers
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    other = client.get(make_private_feed(as_role("editor")))
    assert other.headers["ETag"] != etag  # each subscriber's feed differs by its token


def test_anonymous_and_wrong_tokens_get_404(as_role, episode, members_episode, session):
    client = as_role(None)
    assert client.get("/feeds/private/cxf_not-a-token.xml").status_code == 404
    assert client.get("/feeds/private/anything.xml").status_code == 404
    media = members_episode["media"]
    assert client.get(media).status_code == 404
    assert client.get(media + "?token=cxf_wrong").status_code == 404
    assert client.get(media, headers={"Range": "bytes=0-1"}).status_code == 404
    assert client.head(media).status_code == 404
    slug = members_episode["slug"]
    assert client.get(f"/episodes/{slug}/transcript.vtt").status_code == 404
    assert client.get(f"/episodes/{slug}/chapters.json").status_code == 404
    public = session.get(Episode, episode["id"]).media_of("published").storage_key.removeprefix("published/")
    assert client.get(f"/media/{public}").status_code == 200


def test_token_in_the_feed_urls_fetches_members_only_media_with_ranges(as_role, members_episode, ctx, session):
    path = make_private_feed(as_role("listener"))
    client = as_role(None)  # a podcast app: no cookies, only the URLs from the feed
    item = items(client.get(path).get_data())[members_episode["title"]]
    url = local(item.find("enclosure").get("url"))
    body = ctx.storage.get_bytes(session.get(Episode, members_episode["id"]).media_of("published").storage_key)
    whole = client.get(url)
    assert whole.status_code == 200 and whole.get_data() == body
    assert whole.headers["Cache-Control"].startswith("private")
    probe = client.get(url, headers={"Range": "bytes=0-1"})
    assert probe.status_code == 206 and probe.get_data() == body[:2]
    assert probe.headers["Content-Range"] == f"bytes 0-1/{len(body)}"
    tail = client.get(url, headers={"Range": "bytes=100-"})
    assert tail.status_code == 206 and tail.get_data() == body[100:]
    assert client.head(url).headers["Content-Length"] == str(len(body))
    for link in item.xpath("podcast:transcript/@url", namespaces=NS) + item.xpath("podcast:chapters/@url", namespaces=NS):
        response = client.get(local(link))
        assert response.status_code == 200 and response.headers["Cache-Control"].startswith("private"), link


def test_revocation_is_immediate_and_a_new_feed_works(as_role, members_episode, session):
    listener = as_role("listener")
    path = make_private_feed(listener)
    client = as_role(None)
    media = local(items(client.get(path).get_data())[members_episode["title"]].find("enclosure").get("url"))
    assert client.get(media).status_code == 200
    row = session.query(FeedToken).one()
    page = listener.get("/account").get_data(as_text=True)
    assert client.get(path).status_code == 200  # still works until revoked
    revoked = listener.post(f"/account/private-feeds/{row.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert revoked.status_code == 302
    assert client.get(path).status_code == 404
    assert client.get(media).status_code == 404
    assert "revoked" in listener.get("/account").get_data(as_text=True)
    fresh = make_private_feed(listener)
    assert fresh != path and client.get(fresh).status_code == 200


def test_only_the_tokens_hash_is_stored(as_role, members_episode, session, settings):
    path = make_private_feed(as_role("listener"))
    token = token_of(path)
    as_role(None).get(path)  # a use, so last_used_at is written too
    [row] = session.query(FeedToken).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.created_at is not None and row.last_used_at is not None and row.revoked_at is None
    assert session.query(User).filter(User.feed_token.is_not(None)).count() == 0
    database = Path(settings.DATABASE_URL.removeprefix("sqlite:///"))
    for file in database.parent.glob(database.name + "*"):  # the database and its WAL
        assert token.encode() not in file.read_bytes(), file.name


def test_someone_elses_token_cannot_be_revoked(as_role, users, session):
    make_private_feed(as_role("listener"))
    [row] = session.query(FeedToken).all()
    other = as_role("summarizer")
    token = csrf_from(other.get("/account").get_data(as_text=True))
    assert other.post(f"/account/private-feeds/{row.id}/revoke", data={"csrf_token": token}).status_code == 404
    session.refresh(row)
    assert row.revoked_at is None


def test_editor_revokes_a_users_feeds_from_user_admin(as_role, users, members_episode):
    path = make_private_feed(as_role("listener"))
    client = as_role(None)
    listener = as_role("listener")
    token = csrf_from(listener.get("/account").get_data(as_text=True))
    assert listener.post(f"/admin/users/{users['listener']}/revoke-feeds", data={"csrf_token": token}).status_code == 403
    assert client.get(path).status_code == 200
    editor = as_role("editor")
    page = editor.get("/admin/users").get_data(as_text=True)
    assert "1 working" in page
    response = editor.post(f"/admin/users/{users['listener']}/revoke-feeds", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "Revoked 1 private feed(s)" in response.get_data(as_text=True)
    assert client.get(path).status_code == 404


def test_disabling_an_account_kills_its_feeds_for_good(as_role, users, members_episode, session):
    path = make_private_feed(as_role("listener"))
    client, editor = as_role(None), as_role("editor")
    uid = users["listener"]
    token = csrf_from(editor.get("/admin/users").get_data(as_text=True))
    editor.post(f"/admin/users/{uid}", data={"csrf_token": token, f"u{uid}-role": "listener"})  # active unchecked
    assert client.get(path).status_code == 404
    editor.post(f"/admin/users/{uid}", data={"csrf_token": token, f"u{uid}-role": "listener", f"u{uid}-active": "y"})
    assert session.get(User, uid, populate_existing=True).active
    assert client.get(path).status_code == 404  # enabled again, but the old addresses stay dead


def test_members_only_episodes_are_hidden_from_anonymous_visitors(as_role, episode, members_episode):
    anonymous, listener = as_role(None), as_role("listener")
    slug, title = members_episode["slug"], members_episode["title"]
    for page in ("/", "/tags/melasma", "/events/aesthetic-lasers-summit", "/speakers/ana-ribeiro",
                 "/search?q=thread+lifts"):
        assert title not in anonymous.get(page).get_data(as_text=True), page
    assert anonymous.get(f"/episodes/{slug}").status_code == 404
    assert anonymous.get(f"/episodes/{episode['slug']}").status_code == 200
    assert listener.get(f"/episodes/{slug}").status_code == 200
    assert title in listener.get("/search?q=thread+lifts").get_data(as_text=True)
    for page in ("/", "/tags/melasma", "/events/aesthetic-lasers-summit", "/speakers/ana-ribeiro"):
        assert title in listener.get(page).get_data(as_text=True), page  # members see them listed
    assert listener.get(members_episode["media"], headers={"Range": "bytes=0-9"}).status_code == 206
    assert listener.get(f"/episodes/{slug}/transcript.vtt").status_code == 200


def test_editor_makes_an_episode_members_only_in_review(as_role, episode, session):
    editor, anonymous = as_role("editor"), as_role(None)
    title = session.get(Episode, episode["id"]).title
    assert title in anonymous.get("/feed.xml").get_data(as_text=True)
    page = editor.get(f"/review/{episode['id']}").get_data(as_text=True)
    assert 'name="members_only"' in page
    token = csrf_from(page)
    editor.post(f"/review/{episode['id']}/access", data={"csrf_token": token, "members_only": "on"})
    assert session.get(Episode, episode["id"], populate_existing=True).members_only
    assert title not in anonymous.get("/feed.xml").get_data(as_text=True)
    assert anonymous.get(f"/episodes/{episode['slug']}").status_code == 404
    editor.post(f"/review/{episode['id']}/access", data={"csrf_token": token})
    assert not session.get(Episode, episode["id"], populate_existing=True).members_only
    assert title in anonymous.get("/feed.xml").get_data(as_text=True)
    reasons = [a.reason for a in session.query(AuditEvent).filter_by(episode_id=episode["id"]).order_by(AuditEvent.id)]
    assert reasons[-2:] == ["made members-only", "opened to everyone"]


def test_clinex_users_revoke_feeds(as_role, settings_dict, monkeypatch, members_episode):
    from webapp.cli import main

    path = make_private_feed(as_role("listener"))
    for key, value in settings_dict.items():
        monkeypatch.setenv(f"CLINEX_{key}", value)
    result = CliRunner().invoke(main, ["users", "revoke-feeds", "listener@example.org"])
    assert result.exit_code == 0 and "Revoked 1 private feed(s)" in result.output
    assert as_role(None).get(path).status_code == 404
    missing = CliRunner().invoke(main, ["users", "revoke-feeds", "nobody@example.org"])
    assert missing.exit_code == 1 and "No account for nobody@example.org" in missing.output


def test_members_only_in_the_notes_front_matter_marks_the_upload(ctx, session, users):
    from pipeline.ingest import ingest_recording
    from pipeline.notes import EpisodeMeta, parse_notes

    from .test_api import GOOD

    notes = parse_notes("---\ntitle: Members round table\nmembers_only: true\n---\n# Fillers\n- hyaluronidase\n")
    result = ingest_recording(session, ctx.storage, ctx.settings, GOOD / "speech.ogg", filename="speech.ogg",
                              meta=EpisodeMeta(), notes=notes, author=session.get(User, users["summarizer"]))
    assert session.get(Episode, result.episode_id).members_only is True
