"""Whatever people type — control characters, "]]>", HTML, emoji, lone surrogates — the feed
stays well-formed, feedparser reads it without a bozo flag, and check_feed finds nothing."""

from __future__ import annotations

import io

import feedparser
import podcastparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feeds import PersonCredit, Soundbite, build_feed, check_feed
from tests.feeds.conftest import make_item, make_show

NASTY = ["]]>", "<![CDATA[", "<b>bold</b>", "<script>alert(1)</script>", "&amp;", "&#0;", "&",
         "\x00", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\ufffe", "\uffff", "\ud800", "\udfff",
         "😀", "👩🏽‍⚕️", "\u200f", "\r\n", "\t", "é", "中文", " " * 3, "\u2028"]

# Any code point, lone surrogates included, mixed with the pieces most likely to break XML.
piece = st.one_of(st.text(st.characters(exclude_categories=()), max_size=12),
                  st.sampled_from(NASTY))
messy = st.lists(piece, max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(show_title=messy, show_text=messy, name=messy, title=messy, html=messy, text=messy,
       keyword=messy, long=st.integers(0, 3))
def test_any_text_gives_a_valid_feed(show_title, show_text, name, title, html, text, keyword,
                                     long):
    text = text * (1 + long * 400)  # sometimes far past the 4000-byte description limit
    show = make_show(title=show_title, description=show_text, author=name, owner_name=name,
                     funding_text=name, people=(PersonCredit(name, role="host"),))
    item = make_item(0, title=title, summary_html=html, summary_text=text, keywords=(keyword,),
                     people=(PersonCredit(name),), soundbites=(Soundbite(1.0, 30.0, name),))
    body = build_feed(show, [item, make_item(1, title=title)])

    etree.fromstring(body, etree.XMLParser(recover=False))  # raises if not well-formed
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 2
    assert check_feed(body) == []
    assert len(podcastparser.parse("https://clinex.example.org/feed.xml",
                                   io.BytesIO(body))["episodes"]) == 2
