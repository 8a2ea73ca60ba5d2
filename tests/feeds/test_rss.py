"""build_feed: every tag Apple and Podcasting 2.0 ask for, read back by three parsers."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import feedparser
import podcastparser
import pytest

from feeds import build_feed, check_feed, feed_etag
from feeds.model import PersonCredit, TranscriptLink
from feeds.podcast_ext import PODCAST_NS
from feeds.rss import DESCRIPTION_LIMIT, clean_text, truncate_utf8
from tests.feeds.conftest import BASE, make_item, make_show, parse, xpath


def test_channel_carries_every_required_tag(show, items):
    channel = parse(build_feed(show, items))
    assert xpath(channel, "string(title)") == "Clinical Exchange"
    assert xpath(channel, "string(description)").startswith("Conference talks")
    assert xpath(channel, "string(language)") == "en"
    assert xpath(channel, "string(itunes:author)") == "Clinical Exchange editors"
    assert xpath(channel, "string(itunes:owner/itunes:name)") == "Erin Editor"
    assert xpath(channel, "string(itunes:owner/itunes:email)") == "editors@clinex.example.org"
    assert xpath(channel, "string(itunes:category/@text)") == "Health & Fitness"
    assert xpath(channel, "string(itunes:category/itunes:category/@text)") == "Medicine"
    assert xpath(channel, "string(itunes:type)") == "episodic"
    assert xpath(channel, "string(image/url)") == show.image_url


def test_feedgen_traps_are_worked_around(show, items):
    channel = parse(build_feed(make_show(hub_url="https://hub.example.net/"), items))
    # Site in <link>, feed in atom:link rel=self, hub written at all.
    assert xpath(channel, "string(link)") == show.link
    assert xpath(channel, "atom:link[@rel='self']/@href") == [show.feed_url]
    assert xpath(channel, "atom:link[@rel='hub']/@href") == ["https://hub.example.net/"]
    # A .jpeg cover survives, and explicit is true/false, not yes/no.
    assert xpath(channel, "itunes:image/@href") == [show.image_url]
    assert xpath(channel, "string(itunes:explicit)") == "false"
    assert xpath(channel, "item/itunes:explicit/text()") == ["false"] * 3
    assert not xpath(channel, "item/enclosure[@length='None' or @length='0']")


def test_explicit_true_and_episode_image(show):
    item = make_item(0, explicit=True, image_url="https://clinex.example.org/e/0.jpeg")
    channel = parse(build_feed(make_show(explicit=True), [item]))
    assert xpath(channel, "string(itunes:explicit)") == "true"
    assert xpath(channel, "string(item/itunes:explicit)") == "true"
    assert xpath(channel, "item/itunes:image/@href") == ["https://clinex.example.org/e/0.jpeg"]


def test_no_hub_link_unless_configured(show, items):
    assert not xpath(parse(build_feed(show, items)), "atom:link[@rel='hub']")


def test_items_carry_every_required_tag(show, items):
    channel = parse(build_feed(show, items))
    item = xpath(channel, "item")[-1]  # newest first, so the last is items[0]
    first = items[0]
    assert xpath(item, "string(title)") == first.title
    assert xpath(item, "string(guid)") == first.guid
    assert xpath(item, "string(guid/@isPermaLink)") == "false"
    assert xpath(item, "string(enclosure/@url)") == first.enclosure_url
    assert xpath(item, "string(enclosure/@length)") == str(first.enclosure_length)
    assert xpath(item, "string(enclosure/@type)") == "audio/mpeg"
    assert xpath(item, "string(pubDate)") == "Fri, 01 Mar 2024 09:30:00 +0100"
    assert xpath(item, "string(itunes:duration)") == "1800"
    assert xpath(item, "string(itunes:episodeType)") == "full"
    assert xpath(item, "string(description)") == first.summary_text
    assert xpath(item, "string(content:encoded)") == first.summary_html
    assert xpath(item, "category/text()") == ["fillers", "IPL"]


def test_podcast_namespace_channel_tags(show, items):
    channel = parse(build_feed(show, items))
    assert xpath(channel, "string(podcast:guid)") == show.guid
    assert xpath(channel, "string(podcast:locked)") == "yes"
    assert xpath(channel, "string(podcast:locked/@owner)") == show.owner_email
    assert xpath(channel, "string(podcast:medium)") == "podcast"
    assert xpath(channel, "string(podcast:funding/@url)") == show.funding_url
    assert xpath(channel, "string(podcast:funding)") == "Support the society"
    assert xpath(channel, "string(podcast:person[@role='host'])") == "Dr Ada Host"


def test_podcast_namespace_item_tags(show, items):
    item = xpath(parse(build_feed(show, items)), "item")[-1]
    guid = items[0].guid
    transcripts = xpath(item, "podcast:transcript")
    assert [(t.get("type"), t.get("language")) for t in transcripts] == [
        ("application/x-subrip", "en"), ("application/json", "en"), ("text/vtt", "en")]
    assert transcripts[-1].get("rel") == "captions" and transcripts[0].get("rel") is None
    assert xpath(item, "string(podcast:chapters/@url)").endswith(f"{guid}.chapters.json")
    assert xpath(item, "string(podcast:chapters/@type)") == "application/json+chapters"
    assert xpath(item, "string(podcast:season)") == "1"
    assert xpath(item, "string(podcast:episode)") == "1"
    bite = xpath(item, "podcast:soundbite")[0]
    assert (bite.get("startTime"), bite.get("duration"), bite.text) == (
        "73.0", "42.25", "Why filler migrates")
    assert xpath(item, "podcast:person/@role") == ["host", "guest"]


def test_no_generated_prefixes_and_one_podcast_declaration(show, items):
    body = build_feed(show, items)
    assert not re.search(rb"\bns\d+:", body)
    assert body.count(f'xmlns:podcast="{PODCAST_NS}"'.encode()) == 1


def test_guids_and_enclosures_unique_newest_first(show):
    items = [make_item(n) for n in (3, 1, 2, 0)]
    channel = parse(build_feed(show, items))
    guids = xpath(channel, "item/guid/text()")
    assert guids == [make_item(n).guid for n in (3, 2, 1, 0)]
    assert len(set(xpath(channel, "item/enclosure/@url"))) == 4


def test_same_inputs_same_bytes_and_etag(show, items):
    first = build_feed(show, items)
    again = build_feed(show, list(reversed(items)))
    assert first == again
    assert feed_etag(first) == feed_etag(again)
    assert re.fullmatch(r'"[0-9a-f]{40}"', feed_etag(first))
    assert feed_etag(build_feed(show, items[:2])) != feed_etag(first)


def test_last_build_date_comes_from_content(show, items):
    channel = parse(build_feed(show, items))
    assert xpath(channel, "string(lastBuildDate)") == "Sun, 03 Mar 2024 09:30:00 +0100"
    updated = make_show(updated_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))
    channel = parse(build_feed(updated, items))
    assert xpath(channel, "string(lastBuildDate)") == "Mon, 06 May 2024 07:08:09 +0000"


def test_empty_feed_is_valid_and_stable(show):
    assert build_feed(show, []) == build_feed(show, [])
    assert check_feed(build_feed(show, [])) == []


def test_feedparser_reads_it_without_complaint(show, items):
    parsed = feedparser.parse(build_feed(show, items))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "Clinical Exchange"
    assert parsed.feed.link == show.link
    assert parsed.feed.image.href == show.image_url
    entry = parsed.entries[-1]
    assert entry.id == items[0].guid
    assert entry.enclosures[0].length == str(items[0].enclosure_length)
    assert entry.itunes_duration == "1800"
    assert entry.content[0].value == items[0].summary_html


def test_podcastparser_reads_the_basics(show, items):
    body = build_feed(show, items)
    parsed = podcastparser.parse(show.feed_url, io.BytesIO(body))
    assert parsed["title"] == "Clinical Exchange"
    assert parsed["cover_url"] == show.image_url
    assert parsed["link"] == show.link
    episode = next(e for e in parsed["episodes"] if e["guid"] == items[0].guid)
    assert episode["total_time"] == 1800
    assert episode["enclosures"][0]["file_size"] == items[0].enclosure_length
    assert episode["enclosures"][0]["url"] == items[0].enclosure_url
    assert episode["published"] == int(items[0].published_at.timestamp())
    assert episode["explicit"] is False
    assert len(parsed["episodes"]) == 3


def test_own_checker_passes_generated_feed(show, items):
    assert check_feed(build_feed(make_show(hub_url="https://hub.example.net/"), items)) == []


def test_description_is_plain_text_under_4000_bytes(show):
    text = "é" * 2500 + " tail"  # 5000+ bytes, two bytes per character
    item = make_item(0, summary_text=text, summary_html="<p>" + text + "</p>")
    channel = parse(build_feed(make_show(description="😀" * 1500), [item]))
    description = xpath(channel, "string(item/description)")
    assert len(description.encode()) < DESCRIPTION_LIMIT
    assert description.endswith("…") and description.startswith("éé")
    assert xpath(channel, "string(item/content:encoded)") == "<p>" + text + "</p>"
    assert len(xpath(channel, "string(description)").encode()) < DESCRIPTION_LIMIT


def test_control_characters_and_cdata_end_survive(show):
    item = make_item(0, title="A\x00B\x1b]]><i>C</i>\ufffe", summary_text="x\x0by",
                     people=(PersonCredit("\x07"),))
    body = build_feed(show, [item])
    channel = parse(body)
    assert xpath(channel, "string(item/title)") == "AB]]><i>C</i>"
    assert xpath(channel, "string(item/description)") == "xy"
    assert xpath(channel, "item/podcast:person") == []  # a blank name is dropped, not written
    assert check_feed(body) == []


def test_blank_texts_fall_back_to_something_valid(show):
    item = make_item(0, title=" \x01 ", summary_text="", summary_html="")
    channel = parse(build_feed(make_show(description=""), [item]))
    assert xpath(channel, "string(item/title)") == f"Episode {item.guid}"
    assert xpath(channel, "string(item/description)") == f"Episode {item.guid}"
    assert xpath(channel, "item/content:encoded") == []
    assert xpath(channel, "string(description)") == "Clinical Exchange"


@pytest.mark.parametrize("value, expected", [
    ("plain", "plain"), ("  pad \n", "pad"), ("a\x00b\x08c\x7f", "abc\x7f"), ("\ud800x", "x"),
])
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_truncate_utf8_never_splits_a_character():
    for limit in range(4, 30):
        cut = truncate_utf8("€😀" * 10, limit)
        assert len(cut.encode()) <= limit
        cut.encode("utf-8")  # a split character would not encode back
    assert truncate_utf8("short", 10) == "short"


def test_build_never_touches_the_process_locale(show, items, monkeypatch):
    # feedgen formats dates by switching the locale process-wide; other server
    # threads would see it. Our dates do not go through that path.
    def refuse(*args):
        raise AssertionError("locale.setlocale called")

    monkeypatch.setattr("locale.setlocale", refuse)
    channel = parse(build_feed(show, items))
    assert len(xpath(channel, "lastBuildDate")) == 1
    assert len(xpath(channel, "item/pubDate")) == 3


def test_gc_setting_is_restored(show, items):
    import gc

    assert gc.isenabled()
    build_feed(show, items)
    assert gc.isenabled()
    gc.disable()
    try:
        build_feed(show, items)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_duplicate_guids_or_enclosures_are_refused(show):
    with pytest.raises(ValueError, match="share the GUID"):
        build_feed(show, [make_item(0), make_item(1, guid=make_item(0).guid)])
    with pytest.raises(ValueError, match="share the enclosure URL"):
        build_feed(show, [make_item(0), make_item(1, enclosure_url=make_item(0).enclosure_url)])


OLD_PODCAST_NS = b"https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"


def test_single_transcript_clients_keep_the_vtt(show):
    """feedparser and podcastparser keep one transcript, the last tag: it must be the VTT, even
    when the caller hands the links over worst first."""
    links = tuple(reversed(make_item(0).transcripts)) + (
        TranscriptLink(f"{BASE}/t.txt", "text/plain"), TranscriptLink(f"{BASE}/t.html", "text/html"))
    body = build_feed(show, [make_item(0, transcripts=links)])
    item = xpath(parse(body), "item")[0]
    assert xpath(item, "podcast:transcript/@type") == [
        "text/plain", "text/html", "application/x-subrip", "application/json", "text/vtt"]
    entry = feedparser.parse(body).entries[0]
    assert entry.podcast_transcript == {"url": make_item(0).transcripts[0].url, "type": "text/vtt",
                                        "language": "en", "rel": "captions"}
    assert entry.podcast_chapters == {"url": make_item(0).chapters_url, "type": "application/json+chapters"}
    # podcastparser reads podcast: tags only under the namespace's old GitHub URL (README table).
    official = podcastparser.parse(show.feed_url, io.BytesIO(body))["episodes"][0]
    assert "transcript_url" not in official and "chapters_json_url" not in official
    old = podcastparser.parse(show.feed_url, io.BytesIO(body.replace(PODCAST_NS.encode(), OLD_PODCAST_NS)))
    assert old["episodes"][0]["transcript_url"] == make_item(0).transcripts[0].url
    assert old["episodes"][0]["chapters_json_url"] == make_item(0).chapters_url
