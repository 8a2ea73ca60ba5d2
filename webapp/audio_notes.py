"""What a notes-only episode adds to its page and feed item: the source it summarizes, cited,
and the summarizer credited (``podcast:person`` role author)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from feeds.model import PersonCredit
from pipeline.models import Episode


@dataclass(frozen=True)
class Citation:
    html: Markup
    text: str


def summarizer_name(episode: Episode) -> str | None:
    summary = episode.summary
    author = summary.author if summary and summary.author else episode.created_by
    return author.display_name if author else None


def is_notes_only(episode: Episode) -> bool:
    return episode.audio_notes is not None and episode.audio_notes.notes_only


def citation(episode: Episode) -> Citation | None:
    """"A summary of the article <title> by <authors> (date), written by <summarizer>", or None
    for an episode that cites no source and is not notes-only."""
    notes = episode.audio_notes
    if notes is None or not (notes.source_title or notes.notes_only):
        return None
    who = summarizer_name(episode)
    title = escape(notes.source_title or "")
    linked = Markup(f'<a href="{escape(notes.source_url)}">{title}</a>') if notes.source_url else title
    authors = ", ".join(notes.source_authors or [])
    tail = "".join([f" by {escape(authors)}" if authors else "",
                    f" ({notes.source_date.isoformat()})" if notes.source_date else ""])
    kind = notes.source_kind or "source"
    lead = f"A summary of the {kind} " if notes.source_title else "A summary"
    voiced = f", not the original {kind}: read by the show's voice" if notes.notes_only else ""
    by = f", written by {escape(who)}" if who else ""
    html = Markup(f"<p class=\"citation\">{escape(lead)}{linked}{tail}{by}{voiced}.</p>")
    text = f"{lead}{notes.source_title or ''}{tail.replace('&amp;', '&')}{by}{voiced}."
    return Citation(html, text)


def init_app(app) -> None:
    """Templates cite a summary's source with ``episode_citation(episode)``."""
    app.add_template_global(citation, "episode_citation")


def summarizer_credit(episode: Episode) -> tuple[PersonCredit, ...]:
    who = summarizer_name(episode) if is_notes_only(episode) else None
    return (PersonCredit(name=who, role="author", group="writing"),) if who else ()
