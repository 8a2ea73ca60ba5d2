"""Feeds, chapters and transcripts over HTTP, the way podcast apps poll them."""

from __future__ import annotations

import gzip
import json

import feedparser
import pytest
from lxml import etree

from tests.webapp.helpers import published_client

pytestmark = pytest.mark.slow
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}


@pytest.fixture(scope="module")
def site(published_sample):
    return published_client(published_sample)


def test_main_feed_has_the_published_episode(site):
    response = site["client"].get("/feed.xml")
    assert response.status_code == 200
    assert response.content_type.startswith("application/rss+xml")
    parsed = feedparser.parse(response.get_data())
    assert parsed.bozo == 0
    [entry] = parsed.entries
    assert entry.title == site["episode"].title
    assert entry.id == site["episode"].guid
    root = etree.fromstring(response.get_data())
    enclosure = root.find("channel/item/enclosure")
    assert int(enclosure.get("length")) == site["media"].size
    assert enclosure.get("url") == "http://clinex.test" + site["path"]
    assert root.xpath("channel/item/podcast:transcript/@type", namespaces=NS) == [
        "application/x-subrip", "application/json", "text/vtt"]


def test_enclosure_length_equals_bytes_served(site):
    root = etree.fromstring(site["client"].get("/feed.xml").get_data())
    enclosure = root.find("channel/item/enclosure")
    body = site["client"].get(enclosure.get("url").removeprefix("http://clinex.test")).get_data()
    assert len(body) == int(enclosure.get("length"))


def test_conditional_get_and_gzip(site):
    client = site["client"]
    first = client.get("/feed.xml")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and "max-age" in first.headers["Cache-Control"]
    assert client.get("/feed.xml", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feed.xml", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feed.xml", headers={"If-None-Match": '"other"'}).status_code == 200
    zipped = client.get("/feed.xml", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == first.get_data()
    head = client.head("/feed.xml")
    assert head.status_code == 200 and head.headers["ETag"] == etag


def test_topic_and_event_feeds(site):
    client = site["client"]
    assert len(feedparser.parse(client.get("/tags/melasma/feed.xml").get_data()).entries) == 1
    assert len(feedparser.parse(client.get("/events/aesthetic-lasers-summit-2026/feed.xml").get_data()).entries) == 1
    assert client.get("/tags/no-such-topic/feed.xml").status_code == 404


def test_transcripts_and_chapters_are_served_with_types_and_cors(site):
    client, slug = site["client"], site["episode"].slug
    for ext, kind in (("vtt", "text/vtt"), ("srt", "application/x-subrip"), ("json", "application/json"),
                      ("txt", "text/plain")):
        response = client.get(f"/episodes/{slug}/transcript.{ext}")
        assert response.status_code == 200 and response.content_type.startswith(kind)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/episodes/{slug}/transcript.vtt").get_data().startswith(b"WEBVTT")
    chapters = client.get(f"/episodes/{slug}/chapters.json")
    assert chapters.status_code == 200 and chapters.content_type == "application/json+chapters"
    starts = [c["startTime"] for c in json.loads(chapters.get_data())["chapters"]]
    assert starts == sorted(starts) and starts[0] == 0


def test_episode_page_and_home(site):
    client = site["client"]
    page = client.get(f"/episodes/{site['episode'].slug}").get_data(as_text=True)
    assert site["episode"].title in page and 'id="transcript"' in page and "melasma" in page.lower()
    assert site["episode"].title in client.get("/").get_data(as_text=True)


def test_if_none_match_uses_weak_comparison(site):
    """RFC 9110 13.1.2: a proxy's W/"..." (or a list naming ours) still means "I have it"."""
    client = site["client"]
    etag = client.get("/feed.xml").headers["ETag"]
    for header in (f"W/{etag}", f'"stale", W/{etag}', etag, "*"):
        response = client.get("/feed.xml", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.get_data() == b"" and response.headers["ETag"] == etag
    assert client.get("/feed.xml", headers={"If-None-Match": f'W/"{etag[1:-1]}x"'}).status_code == 200


def test_gzip_and_identity_bodies_have_their_own_etags(site):
    client = site["client"]
    plain = client.get("/feed.xml")
    zipped = client.get("/feed.xml", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert all("Accept-Encoding" in r.headers["Vary"] for r in (plain, zipped))
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    gz = {"Accept-Encoding": "gzip"}
    again = client.get("/feed.xml", headers={**gz, "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == zipped.headers["ETag"]
    # The identity tag does not validate the gzipped body (and the other way round).
    assert client.get("/feed.xml", headers={**gz, "If-None-Match": plain.headers["ETag"]}).status_code == 200
    assert client.get("/feed.xml", headers={"If-None-Match": zipped.headers["ETag"]}).status_code == 200
    refused = client.get("/feed.xml", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.headers["ETag"] == plain.headers["ETag"]
    assert feedparser.parse(gzip.decompress(zipped.get_data())).bozo == 0


def _alternates(html: bytes) -> list[str]:
    from lxml import html as lxml_html

    return lxml_html.fromstring(html).xpath("//head/link[@rel='alternate'][@type='application/rss+xml']/@href")


def _listing_pages(site) -> list[tuple[str, str]]:
    from pipeline.models import Person

    with site["app"].extensions["clinex"].sessions() as session:
        speaker = session.get(type(site["episode"]), site["episode"].id).people[0].person.slug
        assert session.query(Person).filter_by(slug=speaker).one()
    return [("/tags/melasma", "/tags/melasma/feed.xml"),
            ("/events/aesthetic-lasers-summit-2026", "/events/aesthetic-lasers-summit-2026/feed.xml"),
            (f"/speakers/{speaker}", f"/speakers/{speaker}/feed.xml")]


def test_listing_pages_advertise_their_own_feed_first(site):
    """Pasting a topic, event or speaker page into an app must subscribe to that page's feed;
    each feed's channel <link> leads back to the page."""
    client, base = site["client"], "http://clinex.test"
    for page, feed in _listing_pages(site):
        response = client.get(page)
        assert response.status_code == 200, page
        assert _alternates(response.get_data()) == [feed, "/feed.xml"], page
        parsed = feedparser.parse(client.get(feed).get_data())
        assert parsed.bozo == 0 and [e.id for e in parsed.entries] == [site["episode"].guid], feed
        assert parsed.feed.link == base + page
    assert _alternates(client.get("/").get_data()) == ["/feed.xml"]
    assert feedparser.parse(client.get("/feed.xml").get_data()).feed.link == base + "/"
    assert client.get("/speakers/nobody/feed.xml").status_code == 404
