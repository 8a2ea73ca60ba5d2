"""Markdown to safe HTML (markdown-it-py, then nh3), and template helpers."""

from __future__ import annotations

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

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


def plain_text(text: str | None) -> str:
    return nh3.clean(_md.render(text or ""), tags=set()).strip()


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["timestamp"] = format_timestamp
    app.jinja_env.filters["plain"] = plain_text
