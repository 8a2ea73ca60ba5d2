"""Markdown to safe HTML (markdown-it-py, then nh3), and template helpers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import unescape
from typing import Callable, Iterable

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from pipeline.notes import split_sections
from pipeline.text import format_timestamp

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3",
                "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(text: str | None, tags: set[str] = ALLOWED_TAGS) -> Markup:
    """Markdown to HTML with only harmless tags; links get rel=nofollow noopener."""
    html = _md.render(text or "")
    clean = nh3.clean(html, tags=tags, attributes={"a": {"href", "title"}}, url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow noopener noreferrer")
    return Markup(clean)


LISTEN_CLASS = "seek listen-at"


@dataclass(frozen=True)
class ListenPoint:
    """Where a section (its index in ``split_sections``) or a bullet (its running index over the
    notes) of a summary is discussed: what an Anchor row says, minus the database."""

    kind: str  # section | bullet
    position: int
    start: float


def render_summary(markdown: str, points: Iterable[ListenPoint], href: Callable[[float], str]) -> Markup:
    """The summary as safe HTML with a "listen at m:ss" link after each heading and bullet that
    has a point; ``href(start)`` is where the link goes without JavaScript.

    Points are matched to elements by the Markdown line the section or bullet starts on, so a
    point whose element the renderer did not make (a heading inside a code block, say) is
    dropped rather than shifted onto a neighbour.
    """
    lines = _point_lines(markdown, points)
    tokens = _md.parse(markdown)
    for i, token in enumerate(tokens):
        wanted = token.type in ("heading_open", "list_item_open") and token.map and lines.get(token.map[0])
        if not wanted or wanted[0] != ("section" if token.type == "heading_open" else "bullet"):
            continue
        inline = _first_inline(tokens, i)
        if inline is not None:
            inline.children = [*(inline.children or []), *_listen_link(wanted[1], href(wanted[1]))]
    html = _md.renderer.render(tokens, _md.options, {})
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title", "class", "data-t"}},
                            attribute_filter=_only_listen_attributes, url_schemes={"http", "https", "mailto"},
                            link_rel="nofollow noopener noreferrer"))


def _point_lines(markdown: str, points: Iterable[ListenPoint]) -> dict[int, tuple[str, float]]:
    """Markdown line number -> (kind, start) for each point whose section or bullet is known."""
    sections = split_sections(markdown)
    bullet_lines = [line for section in sections for line in section.bullet_lines]
    out: dict[int, tuple[str, float]] = {}
    for point in points:
        where = sections if point.kind == "section" else bullet_lines
        if not 0 <= point.position < len(where) or not math.isfinite(point.start):
            continue
        line = where[point.position].line if point.kind == "section" else where[point.position]
        if line is not None:
            out[line] = (point.kind, point.start)
    return out


def _first_inline(tokens: list[Token], opened: int) -> Token | None:
    """The heading's text, or the inline text that opens the list item (not a nested item's)."""
    following = tokens[opened + 1:opened + 3]
    if tokens[opened].type == "heading_open":
        return following[0] if following and following[0].type == "inline" else None
    if len(following) == 2 and following[0].type == "paragraph_open" and following[1].type == "inline":
        return following[1]
    return None


def _listen_link(start: float, href: str) -> list[Token]:
    space = Token("text", "", 0, content=" ")
    opening = Token("link_open", "a", 1, attrs={"class": LISTEN_CLASS, "data-t": f"{start:.2f}", "href": href})
    label = Token("text", "", 0, content=f"listen at {format_timestamp(start)}")
    return [space, opening, label, Token("link_close", "a", -1)]


def _only_listen_attributes(tag: str, attribute: str, value: str) -> str | None:
    # Markdown cannot make class or data-t (raw HTML is off); this keeps it so if that changes.
    if attribute == "class":
        return value if value == LISTEN_CLASS else None
    if attribute == "data-t":
        try:
            return value if math.isfinite(float(value)) else None
        except ValueError:
            return None
    return value


def plain_text(text: str | None) -> str:
    """Markdown's text without tags, still HTML-escaped: for places read as HTML (a feed's
    description)."""
    return nh3.clean(_md.render(text or ""), tags=set()).strip()


def visible_text(text: str | None) -> str:
    """Markdown's text as a reader sees it (``&lt;`` back to ``<``), for templates, which escape
    it once; ``plain_text`` there would show ``&lt;`` on the page."""
    return unescape(plain_text(text))


def first_paragraph(markdown: str | None) -> str:
    """The plain text of the notes' first paragraph (a bullet's, when the notes start with a
    list), for cards: headings are left out so they do not run into the sentence after them."""
    from pipeline.pairing import strip_front_matter

    tokens = _md.parse(strip_front_matter(markdown or ""))
    for opened, inline in zip(tokens, tokens[1:]):
        if opened.type == "paragraph_open" and inline.type == "inline":
            return visible_text(inline.content)
    return ""


def without_title_heading(html: Markup, title: str) -> Markup:
    """Drop a leading ``<h1>`` that only repeats the page title (its "listen at" link goes too:
    the player starts there anyway)."""
    match = _LEADING_H1.match(html)
    if match is None:
        return html
    text = _LISTEN_LINK.sub("", match.group(1))
    if unescape(nh3.clean(text, tags=set())).strip().casefold() != title.strip().casefold():
        return html
    return Markup(html[match.end():])


_LEADING_H1 = re.compile(r"\s*<h1>(.*?)</h1>\s*", re.S)
_LISTEN_LINK = re.compile(r'\s*<a [^>]*class="seek listen-at"[^>]*>.*?</a>', re.S)


def _published_audio_url(app: Flask, episode) -> str | None:
    from .feed_data import media_url

    media = episode.media_of("published")
    return media_url(app.config["CLINEX"], media.storage_key) if media else None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["timestamp"] = format_timestamp
    app.jinja_env.filters["plain"] = visible_text
    app.jinja_env.filters["excerpt"] = first_paragraph
    app.jinja_env.globals["published_audio_url"] = lambda ep: _published_audio_url(app, ep)
    app.jinja_env.filters["day"] = lambda d: f"{d.day} {d:%B %Y}"  # "14 May 2026", no leading zero
