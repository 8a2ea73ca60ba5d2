"""check_feed: a generated feed passes; each kind of broken feed gets its own sentence."""

from __future__ import annotations

import copy
import functools
import http.server
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from feeds import ChapterInfo, build_feed, chapters_json, check_feed
from feeds.check import NS
from tests.feeds.conftest import make_item, make_show

GUID0 = make_item(0).guid
GUID1 = make_item(1).guid


@pytest.fixture(scope="module")
def good_root():
    body = build_feed(make_show(), [make_item(0), make_item(1)])
    assert check_feed(body) == []
    return etree.fromstring(body)


def broken(root, mutate: Callable) -> bytes:
    """Copy the good feed, let ``mutate(channel)`` damage it, and serialize it."""
    root = copy.deepcopy(root)
    mutate(root.find("channel"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def first(channel, path):
    return channel.xpath(path, namespaces=NS)[0]


def drop(path):
    def mutate(channel):
        for elem in channel.xpath(path, namespaces=NS):
            elem.getparent().remove(elem)
    return mutate


def set_text(path, text):
    def mutate(channel):
        first(channel, path).text = text
    return mutate


def set_attr(path, attr, value):
    def mutate(channel):
        first(channel, path).set(attr, value)
    return mutate


def duplicate(path):
    def mutate(channel):
        elem = first(channel, path)
        elem.addnext(copy.deepcopy(elem))
    return mutate


LONG = "x" * 129
OLDEST = "item[2]"  # newest first: item[1] is make_item(1), item[2] is make_item(0)
ITEM = f"Item 2 ({GUID0})"

CASES = [
    (drop("title"), "The channel has no <title>."),
    (drop("link"), "The channel has no <link>."),
    (drop("description"), "The channel has no <description>."),
    (drop("language"), "The channel has no <language>."),
    (drop("itunes:image"), "The channel has no itunes:image with an href."),
    (drop("itunes:category"), "The channel has no itunes:category."),
    (set_attr("itunes:category", "text", "Health"),
     "The itunes:category 'Health' is not on Apple's list."),
    (set_attr("itunes:category/itunes:category", "text", "Surgery"),
     "The subcategory 'Surgery' is not one of Apple's under 'Health & Fitness'."),
    (set_text("itunes:explicit", "no"),
     "The channel has itunes:explicit 'no'; Apple wants \"true\" or \"false\"."),
    (drop("itunes:explicit"), "The channel has no itunes:explicit."),
    (drop("itunes:author"), "The channel has no itunes:author."),
    (drop("itunes:owner/itunes:email"),
     "The channel has no itunes:owner with an itunes:email address."),
    (drop("atom:link[@rel='self']"),
     "The channel has no atom:link rel=\"self\" pointing at the feed."),
    (drop("podcast:guid"), "The channel has no podcast:guid."),
    (set_text("podcast:guid", "917393E3-1B1E-5CEF-ACE4-EDAA54E1F810"),
     "The podcast:guid '917393E3-1B1E-5CEF-ACE4-EDAA54E1F810' is not a lowercase UUIDv5."),
    (set_text("podcast:guid", "1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
     "The podcast:guid '1b4e28ba-2fa1-41d2-883f-0016d3cca427' is not a lowercase UUIDv5."),
    (set_text("podcast:locked", "true"), 'The podcast:locked value must be "yes" or "no".'),
    (set_text("podcast:medium", "radio"),
     "The podcast:medium 'radio' is not one the spec defines."),
    (set_text("podcast:person", " "), "The channel has a podcast:person with no name."),
    # The namespace documentation, tag by tag (feeds/namespace.py).
    (duplicate("podcast:guid"), "The channel has 2 podcast:guid tags; the namespace allows one."),
    (duplicate("podcast:medium"), "The channel has 2 podcast:medium tags; the namespace allows one."),
    (set_attr("podcast:locked", "owner", "the editors"),
     "The podcast:locked owner 'the editors' is not an e-mail address."),
    (set_attr("podcast:funding", "url", "/support"),
     "A podcast:funding has url '/support', not an http(s) URL."),
    (set_text("podcast:funding", LONG), "A podcast:funding label is over 128 characters."),
    (set_attr("podcast:person", "group", "band"),
     "The channel's podcast:person 'Dr Ada Host' has group 'band', not one of the taxonomy's."),
    (set_attr("podcast:person", "role", "Surgeon"),
     "The channel's podcast:person 'Dr Ada Host' has role 'surgeon', not one of the 'cast' group's."),
    (set_attr("podcast:person", "href", "javascript:alert(1)"),
     "The channel's podcast:person 'Dr Ada Host' has href 'javascript:alert(1)', not an http(s) URL."),
    (set_text("podcast:person", LONG), "The channel's podcast:person name is over 128 characters."),
    (set_text("description", "x" * 4000),
     "The channel has a description of 4000 bytes; Apple allows under 4000."),
    (drop(f"{OLDEST}/title"), f"{ITEM} has no <title>."),
    (drop(f"{OLDEST}/description"), f"{ITEM} has no <description>."),
    (set_text(f"{OLDEST}/description", "é" * 2000),
     f"{ITEM} has a description of 4000 bytes; Apple allows under 4000."),
    (drop(f"{OLDEST}/enclosure"), f"{ITEM} has no <enclosure>."),
    (set_attr(f"{OLDEST}/enclosure", "length", "None"),
     f"{ITEM} has enclosure length 'None', not a whole number of bytes above 0."),
    (set_attr(f"{OLDEST}/enclosure", "length", "0"),
     f"{ITEM} has enclosure length '0', not a whole number of bytes above 0."),
    (set_attr(f"{OLDEST}/enclosure", "length", "12.5"),
     f"{ITEM} has enclosure length '12.5', not a whole number of bytes above 0."),
    (set_attr(f"{OLDEST}/enclosure", "type", ""), f"{ITEM} has an enclosure without a type."),
    (set_text(f"{OLDEST}/pubDate", "2024-03-01T09:30:00+01:00"),
     f"{ITEM} has pubDate '2024-03-01T09:30:00+01:00', not an RFC 2822 date with a time zone."),
    (set_text(f"{OLDEST}/pubDate", "Fri, 01 Mar 2024 09:30:00"),
     f"{ITEM} has pubDate 'Fri, 01 Mar 2024 09:30:00', not an RFC 2822 date with a time zone."),
    (set_text(f"{OLDEST}/pubDate", "Fri, 31 Feb 2024 09:30:00 +0000"),
     f"{ITEM} has pubDate 'Fri, 31 Feb 2024 09:30:00 +0000', not an RFC 2822 date with a time "
     "zone."),
    (drop(f"{OLDEST}/pubDate"), f"{ITEM} has no <pubDate>."),
    (set_text(f"{OLDEST}/itunes:duration", "00:30:00"),
     f"{ITEM} has itunes:duration '00:30:00', not a whole number of seconds."),
    (set_text(f"{OLDEST}/itunes:duration", "1800.4"),
     f"{ITEM} has itunes:duration '1800.4', not a whole number of seconds."),
    (drop(f"{OLDEST}/itunes:episodeType"),
     f"{ITEM} needs itunes:episodeType full, trailer or bonus, not ''."),
    (set_text(f"{OLDEST}/itunes:explicit", "clean"),
     f"{ITEM} has itunes:explicit 'clean'; Apple wants \"true\" or \"false\"."),
    (set_attr(f"{OLDEST}/podcast:transcript", "type", "text/x-doc"),
     f"{ITEM} has a podcast:transcript without a url or a known type."),
    (set_attr(f"{OLDEST}/podcast:chapters", "type", "application/json"),
     f"{ITEM} has podcast:chapters without a url or type application/json+chapters."),
    (set_text(f"{OLDEST}/podcast:season", "one"),
     f"{ITEM} has podcast:season 'one', not a number."),
    (set_attr(f"{OLDEST}/podcast:soundbite", "duration", "long"),
     f"{ITEM} has a podcast:soundbite without numeric startTime and duration."),
    (set_text(f"{OLDEST}/podcast:person", ""), f"{ITEM} has a podcast:person with no name."),
    (duplicate(f"{OLDEST}/podcast:chapters"), f"{ITEM} has 2 podcast:chapters tags; the namespace allows one."),
    (set_attr(f"{OLDEST}/podcast:chapters", "url", "chapters.json"),
     f"{ITEM} has podcast:chapters url 'chapters.json', not an http(s) URL."),
    (set_attr(f"{OLDEST}/podcast:transcript", "url", "file:///etc/t.vtt"),
     f"{ITEM} has a podcast:transcript url 'file:///etc/t.vtt', not an http(s) URL."),
    (set_attr(f"{OLDEST}/podcast:transcript", "language", "English!"),
     f"{ITEM} has a podcast:transcript language 'English!', not a language code."),
    (set_attr(f"{OLDEST}/podcast:transcript", "rel", "subtitles"),
     f"{ITEM} has a podcast:transcript rel 'subtitles'; the only value is \"captions\"."),
    (set_text(f"{OLDEST}/podcast:season", "1.5"), f"{ITEM} has podcast:season '1.5', not a whole number."),
    (set_attr(f"{OLDEST}/podcast:season", "name", LONG), f"{ITEM}'s podcast:season name is over 128 characters."),
    (set_attr(f"{OLDEST}/podcast:episode", "display", "x" * 33),
     f"{ITEM}'s podcast:episode display is over 32 characters."),
    (set_attr(f"{OLDEST}/podcast:soundbite", "duration", "0"),
     f"{ITEM} has a podcast:soundbite of duration 0; it must be above 0."),
    (set_attr(f"{OLDEST}/podcast:soundbite", "startTime", "1790.5"),
     f"{ITEM} has a podcast:soundbite ending at 1832.75 s, after the episode (1800 s)."),
    (set_text(f"{OLDEST}/podcast:soundbite", LONG), f"{ITEM}'s podcast:soundbite title is over 128 characters."),
    (set_attr(f"{OLDEST}/podcast:person[2]", "role", "panellist"),
     f"{ITEM}'s podcast:person 'Dr Guest 0' has role 'panellist', not one of the 'cast' group's."),
    (set_text(f"{OLDEST}/guid", GUID1), f"The GUID '{GUID1}' appears on more than one item."),
    (set_attr(f"{OLDEST}/enclosure", "url", make_item(1).enclosure_url),
     f"The enclosure URL '{make_item(1).enclosure_url}' appears on more than one item."),
]


@pytest.mark.parametrize("mutate, message", CASES, ids=[m for _, m in CASES])
def test_each_broken_feed_gets_its_sentence(good_root, mutate, message):
    assert check_feed(broken(good_root, mutate)) == [message]


def test_item_without_guid_is_named_by_position(good_root):
    problems = check_feed(broken(good_root, drop(f"{OLDEST}/guid")))
    assert problems == ["Item 2 has no <guid>."]


def test_not_well_formed():
    problems = check_feed(b"<rss version='2.0'><channel><title>A & B</title></channel></rss>")
    assert len(problems) == 1 and problems[0].startswith("The feed is not well-formed XML")


def test_not_rss():
    assert check_feed(b"<feed xmlns='http://www.w3.org/2005/Atom'/>") == [
        'The document is not RSS 2.0 (<rss version="2.0">).', "The feed has no <channel> element."]


def test_generated_prefix_is_reported(good_root):
    def add_ns0(channel):
        item = first(channel, OLDEST)
        extra = etree.SubElement(item, "{https://example.org/ext}thing",
                                 nsmap={"ns0": "https://example.org/ext"})
        extra.text = "x"
    assert check_feed(broken(good_root, add_ns0)) == [
        "The feed uses generated namespace prefixes (ns0:)."]


def test_podcast_prefix_on_the_old_namespace_is_reported():
    old = b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    body = build_feed(make_show(), [make_item(0)]).replace(
        b"https://podcastindex.org/namespace/1.0", old)
    problems = check_feed(body)
    assert problems[0] == ("The podcast: prefix is bound to " + old.decode()
                           + ", not https://podcastindex.org/namespace/1.0.")
    assert "The channel has no podcast:guid." in problems


# -- with fetch: a real HTTP server on loopback -----------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves files with the types podcast apps expect and CORS, like the site does."""

    cors = True

    def log_message(self, *args):  # keep pytest output clean
        pass

    def guess_type(self, path):
        if str(path).endswith(".chapters.json"):
            return "application/json+chapters"
        return {".srt": "application/x-subrip", ".vtt": "text/vtt"}.get(Path(path).suffix) or super().guess_type(path)

    def end_headers(self):
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


@pytest.fixture
def site(tmp_path):
    """Serve ``tmp_path`` over HTTP on 127.0.0.1; yields (base URL, directory)."""
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def http_fetch(url: str) -> tuple[int, dict, bytes]:
    """What `clinex feed check` would do: HEAD for audio, GET for everything else."""
    method = "HEAD" if url.endswith(".mp3") else "GET"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as rsp:
            return rsp.status, dict(rsp.headers), rsp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""


def cover(size: int, kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (30, 90, 120)).save(out, kind)
    return out.getvalue()


TRANSCRIPT_BODIES = {
    "text/vtt": "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nFillers.\n",
    "application/x-subrip": "1\n00:00:00,000 --> 00:00:02,000\nFillers.\n",
    "application/json": '{"version": "1.0.0", "segments": [{"startTime": 0, "endTime": 2, "body": "Fillers."}]}',
}


def publish(base: str, root, *, audio_bytes: int = 5000, chapters_start: float = 0,
            cover_size: int = 1400, skip_transcript: bool = False) -> bytes:
    """Write one episode's files under ``root`` and return a feed pointing at them."""
    (root / "media").mkdir(exist_ok=True)
    item = make_item(0)
    guid = item.guid
    (root / "media" / f"{guid}.mp3").write_bytes(b"\xff" * audio_bytes)
    for link in item.transcripts[int(skip_transcript):]:
        (root / "media" / link.url.rsplit("/", 1)[1]).write_text(TRANSCRIPT_BODIES[link.type])
    (root / "media" / f"{guid}.chapters.json").write_bytes(
        chapters_json([ChapterInfo(chapters_start, "Intro"), ChapterInfo(60, "Cases")]).replace(
            b'"startTime":0,', f'"startTime":{chapters_start:g},'.encode()))
    (root / "cover.jpg").write_bytes(cover(cover_size))

    def rebase(url: str) -> str:
        return url.replace("https://clinex.example.org", base)

    item = make_item(0, enclosure_length=5000, enclosure_url=rebase(item.enclosure_url),
                     chapters_url=rebase(item.chapters_url),
                     transcripts=tuple(type(t)(rebase(t.url), t.type, t.language, t.rel)
                                       for t in item.transcripts))
    return build_feed(make_show(image_url=f"{base}/cover.jpg"), [item])


def test_served_files_match_the_feed(site):
    base, root = site
    assert check_feed(publish(base, root), fetch=http_fetch) == []


def test_enclosure_length_must_equal_bytes_served(site):
    base, root = site
    problems = check_feed(publish(base, root, audio_bytes=4999), fetch=http_fetch)
    assert problems == [f"Item 1 ({GUID0})'s enclosure says 5000 bytes but the server sends 4999."]


def test_missing_media_transcript_and_bad_chapters(site):
    base, root = site
    body = publish(base, root, chapters_start=5, skip_transcript=True)
    (root / "media" / f"{GUID0}.mp3").unlink()
    assert check_feed(body, fetch=http_fetch) == [
        f"Item 1 ({GUID0})'s enclosure {base}/media/{GUID0}.mp3 answered 404, not 200.",
        f"Item 1 ({GUID0})'s transcript {base}/media/{GUID0}.vtt answered 404, not 200.",
        f"Item 1 ({GUID0}): The first chapter starts at 5, not 0.",
    ]


def test_cover_must_be_a_big_enough_square(site):
    base, root = site
    body = publish(base, root, cover_size=600)
    assert check_feed(body, fetch=http_fetch) == [
        "The cover is 600x600; Apple wants a square of 1400 to 3000 pixels."]
    (root / "cover.jpg").write_bytes(cover(1400, "GIF"))
    assert check_feed(body, fetch=http_fetch) == ["The cover is GIF; Apple accepts JPEG or PNG."]


def test_served_transcripts_need_their_type_cors_and_format(site):
    base, root = site
    body = publish(base, root)
    (root / "media" / f"{GUID0}.vtt").write_text("1\n00:00:00,000 --> 00:00:02,000\nAn SRT in disguise.\n")
    (root / "media" / f"{GUID0}.json").write_text('{"segments": "none"}')
    vtt, json_url = f"{base}/media/{GUID0}.vtt", f"{base}/media/{GUID0}.json"
    assert check_feed(body, fetch=http_fetch) == [
        (f"Item 1 ({GUID0})'s transcript {json_url} is not a JSON transcript (version and segments with "
         "startTime and body)."),
        f"Item 1 ({GUID0})'s transcript {vtt} is not WebVTT (it does not start with WEBVTT).",
    ]


def test_served_types_and_cors_are_checked(site, monkeypatch):
    base, root = site
    body = publish(base, root)
    monkeypatch.setattr(_Quiet, "cors", False)
    monkeypatch.setattr(_Quiet, "guess_type", lambda self, path: "text/plain")
    problems = check_feed(body, fetch=http_fetch)
    srt = f"Item 1 ({GUID0})'s transcript {base}/media/{GUID0}.srt"
    chapters = f"Item 1 ({GUID0})'s chapters {base}/media/{GUID0}.chapters.json"
    assert f"{srt} is served as 'text/plain', not application/x-subrip." in problems
    assert f"{srt} has no Access-Control-Allow-Origin header; web players cannot read it." in problems
    assert f"{chapters} is served as 'text/plain', not application/json+chapters." in problems
    assert f"{chapters} has no Access-Control-Allow-Origin header; web players cannot read it." in problems
    assert len(problems) == 8  # three transcripts and the chapters, two problems each


def test_served_chapters_are_checked_against_the_schema(site):
    base, root = site
    body = publish(base, root)
    (root / "media" / f"{GUID0}.chapters.json").write_text(
        '{"version": "1.2.0", "chapters": [{"startTime": 0, "title": 7}, {"startTime": 60, "url": "x",'
        ' "location": {"name": "Paris"}}]}')
    assert check_feed(body, fetch=http_fetch) == [
        f"Item 1 ({GUID0}): The chapters file at chapters/0/title: 7 is not of type 'string'.",
        f"Item 1 ({GUID0}): The chapters file at chapters/1/location: 'geo' is a required property.",
        f"Item 1 ({GUID0}): The chapters file at chapters/1/url: 'x' does not match '^https?://'.",
    ]
