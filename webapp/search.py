"""Full-text search over published titles, summaries and transcript segments.

SQLite: the FTS5 table ``search_fts`` (kept current by triggers, see migration 0002).
PostgreSQL: ``to_tsvector('english', ...)`` against GIN expression indexes.
Both return the same ``SearchHit`` rows; snippets come back with \x02/\x03 around matches so the
template can escape the text first and highlight after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from markupsafe import Markup, escape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pipeline.models import TranscriptSegment
from pipeline.pairing.landing import first_match, timed_words

MAX_QUERY = 200
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKDOWN = re.compile(r"(^|\n)\s*(#{1,6}|[-*+>]|\d+[.)])\s|[*_`]+")
_KIND_OFFSETS = {"segment": 1, "summary": 2, "title": 3}
_ROW_ID = {"segment": "x.id", "summary": "NULL", "title": "NULL"}


@dataclass(frozen=True)
class SearchHit:
    kind: str  # title | summary | segment
    episode_id: int
    slug: str
    title: str
    snippet: str
    start: float | None = None
    segment_id: int | None = None

    @property
    def snippet_html(self) -> Markup:
        """Escaped first, then the match markers become <mark>; Markdown markers are dropped."""
        plain = " ".join(_MARKDOWN.sub(" ", self.snippet).split())
        return Markup(str(escape(plain)).replace("\x02", "<mark>").replace("\x03", "</mark>"))


def query_words(query: str) -> list[str]:
    return _WORD.findall((query or "")[:MAX_QUERY])[:12]


def search(session: Session, query: str, limit: int = 50, episode_id: int | None = None,
           include_members_only: bool = False, speaker: str | None = None) -> list[SearchHit]:
    """Published matches for ``query``, titles first, then summaries, then transcript moments;
    members-only episodes only when asked for. With ``speaker``, only the transcript moments
    that voice speaks (its name, any case), and those of transcripts that name no voice.

    An empty or punctuation-only query returns no hits (never an error)."""
    words = query_words(query)
    if not words:
        return []
    run = _search_postgres if session.bind.dialect.name == "postgresql" else _search_sqlite
    where = _where_episode(episode_id) + ("" if include_members_only else " AND NOT e.members_only")
    if speaker:
        # a transcript nobody diarized names no voice: its moments stay (the episode filter decides)
        where += " AND (x.speaker IS NULL OR lower(x.speaker) = lower(:speaker))"
    hits: list[SearchHit] = []
    for kind in (("segment",) if speaker else ("title", "summary", "segment")):
        hits += run(session, kind, words, limit, where, episode_id, speaker)
    return _on_the_words(session, hits, words)


def _on_the_words(session: Session, hits: list[SearchHit], words: list[str]) -> list[SearchHit]:
    """Transcript hits moved from the start of their line to the word that matched."""
    ids = [h.segment_id for h in hits if h.segment_id is not None]
    rows = {r.id: r for r in session.scalars(select(TranscriptSegment).where(TranscriptSegment.id.in_(ids)))} if ids else {}
    out = []
    for h in hits:
        row = rows.get(h.segment_id)
        at = first_match(timed_words([row]), words) if row is not None else None
        out.append(replace(h, start=round(at, 2)) if at is not None else h)
    return out


# (the table holding the text, joins up to the episode, start time column)
_JOINS = {
    "title": ("episodes e", "", "NULL"),
    "summary": ("summaries x", "JOIN episodes e ON e.id = x.episode_id", "NULL"),
    "segment": ("segments x", "JOIN transcripts t ON t.id = x.transcript_id JOIN episodes e ON e.id = t.episode_id",
                "x.start"),
}
_LATEST = {
    "title": "",
    # only the newest summary version and the newest complete transcript are what pages show
    "summary": "AND x.version = (SELECT max(version) FROM summaries s2 WHERE s2.episode_id = e.id)",
    "segment": "AND t.status = 'complete' AND t.id = (SELECT max(id) FROM transcripts t2 "
               "WHERE t2.episode_id = e.id AND t2.status = 'complete')",
}


def _where_episode(episode_id: int | None) -> str:
    return "AND e.id = :episode_id" if episode_id is not None else ""


def _search_sqlite(session: Session, kind: str, words: list[str], limit: int, where: str,
                   episode_id, speaker=None) -> list[SearchHit]:
    # every word quoted (so FTS5 syntax in the query is inert), the last one as a prefix
    match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
    table, joins, start = _JOINS[kind]
    alias = table.split()[1]
    sql = (f"SELECT e.id, e.slug, e.title, snippet(search_fts, 0, char(2), char(3), '…', 14), {start}, {_ROW_ID[kind]} "
           f"FROM search_fts JOIN {table} ON search_fts.rowid = {alias}.id * 4 + {_KIND_OFFSETS[kind]} {joins} "
           f"WHERE search_fts MATCH :match AND e.status = 'published' {_LATEST[kind]} {where} "
           f"ORDER BY bm25(search_fts) LIMIT :limit")
    rows = session.execute(text(sql), {"match": match, "limit": limit, "episode_id": episode_id, "speaker": speaker})
    return [SearchHit(kind, r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


_PG_COLUMNS = {"title": "e.title", "summary": "x.markdown", "segment": "x.text"}


def _search_postgres(session: Session, kind: str, words: list[str], limit: int, where: str,
                     episode_id, speaker=None) -> list[SearchHit]:
    column = _PG_COLUMNS[kind]
    table, joins, start = _JOINS[kind]
    vector = f"to_tsvector('english', {column})"
    sql = (f"SELECT e.id, e.slug, e.title, ts_headline('english', {column}, q, "
           f"'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=28, MinWords=10'), {start}, "
           f"{_ROW_ID[kind]} "
           f"FROM {table} {joins} CROSS JOIN to_tsquery('english', :tsquery) q "
           f"WHERE {vector} @@ q AND e.status = 'published' {_LATEST[kind]} {where} "
           f"ORDER BY ts_rank({vector}, q) DESC LIMIT :limit")
    tsquery = " & ".join(w.replace("'", "") for w in words[:-1]) + (" & " if len(words) > 1 else "") + f"{words[-1]}:*"
    rows = session.execute(text(sql), {"tsquery": tsquery, "limit": limit, "episode_id": episode_id,
                                       "speaker": speaker})
    return [SearchHit(kind, r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
