"""Transcript corrections by people: versions kept, downloads rewritten, and the word swaps
offered to editors as glossary additions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.errors import ClinexError
from pipeline.models import Episode, GlossaryTerm, TranscriptSegment, SegmentRevision, Transcript, User
from pipeline.steps import heard_segments, write_transcript_files

_WORDS = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class GlossarySuggestion:
    heard: str
    corrected: str
    segment_id: int
    start: float
    author: str | None


def apply_correction(ctx, session: Session, episode: Episode, segment: TranscriptSegment, text: str, author: User) -> bool:
    """Record a new version of ``segment``'s text and rewrite the transcript downloads.

    Returns False (nothing stored) when the text is unchanged. Raises StorageError when the
    downloads cannot be rewritten; the caller's transaction is then rolled back."""
    text = " ".join(text.split())
    if text == segment.text.strip():
        return False
    session.add(SegmentRevision(segment_id=segment.id, text=text, previous_text=segment.text, author_id=author.id))
    # the segment row holds the newest text, so pages, search and downloads all show it
    segment.text = text
    session.flush()
    transcript = session.get(Transcript, segment.transcript_id)
    if transcript.status == "complete":
        rewrite_downloads(ctx, episode, transcript)
    return True


def rewrite_downloads(ctx, episode: Episode, transcript: Transcript) -> None:
    write_transcript_files(ctx, episode, transcript.id, heard_segments(transcript.segments))


def swapped_words(before: str, after: str) -> list[tuple[str, str]]:
    """The (heard, corrected) word runs that differ between two versions of a line."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    pairs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=[w.lower() for w in old],
                                                      b=[w.lower() for w in new]).get_opcodes():
        if op == "replace" and i2 - i1 <= 4 and j2 - j1 <= 4:
            pairs.append((" ".join(old[i1:i2]), " ".join(new[j1:j2])))
    return pairs


def glossary_suggestions(session: Session, episode: Episode) -> list[GlossarySuggestion]:
    """Word swaps people made in this episode's transcript that the glossary does not know yet."""
    transcript = episode.transcript
    if transcript is None:
        return []
    known = {t.term.lower(): {m.lower() for m in t.mishearings or []} for t in session.scalars(select(GlossaryTerm))}
    rows = session.execute(select(SegmentRevision, TranscriptSegment.start, User.display_name)
                           .join(TranscriptSegment, TranscriptSegment.id == SegmentRevision.segment_id)
                           .outerjoin(User, User.id == SegmentRevision.author_id)
                           .where(TranscriptSegment.transcript_id == transcript.id).order_by(SegmentRevision.id)).all()
    seen, out = set(), []
    for revision, start, author in rows:
        for heard, corrected in swapped_words(revision.previous_text, revision.text):
            key = (heard.lower(), corrected.lower())
            if key in seen or heard.lower() in known.get(corrected.lower(), set()):
                continue
            seen.add(key)
            out.append(GlossarySuggestion(heard, corrected, revision.segment_id, start, author))
    return out


@dataclass(frozen=True)
class RecurringCorrection:
    """The same word swap made by people in several episodes' transcripts."""

    heard: str
    corrected: str
    episodes: tuple[str, ...]  # slugs, in the order the swaps were made


def recurring_corrections(session: Session, min_episodes: int = 2) -> list[RecurringCorrection]:
    """Word swaps people made in at least ``min_episodes`` episodes that the glossary does not
    know yet, most episodes first (then alphabetically, so the numbering is stable)."""
    known = {(m.lower(), t.term.lower()) for t in session.scalars(select(GlossaryTerm)) for m in t.mishearings or []}
    rows = session.execute(select(SegmentRevision.previous_text, SegmentRevision.text, Episode.slug)
                           .join(TranscriptSegment, TranscriptSegment.id == SegmentRevision.segment_id)
                           .join(Transcript, Transcript.id == TranscriptSegment.transcript_id)
                           .join(Episode, Episode.id == Transcript.episode_id).order_by(SegmentRevision.id)).all()
    seen: dict[tuple[str, str], dict] = {}
    for before, after, slug in rows:
        for heard, corrected in swapped_words(before, after):
            key = (heard.lower(), corrected.lower())
            if key not in known:
                entry = seen.setdefault(key, {"heard": heard, "corrected": corrected, "episodes": {}})
                entry["episodes"].setdefault(slug, None)
    found = [RecurringCorrection(e["heard"], e["corrected"], tuple(e["episodes"])) for e in seen.values()
             if len(e["episodes"]) >= min_episodes]
    return sorted(found, key=lambda r: (-len(r.episodes), r.heard.lower(), r.corrected.lower()))


def accept_recurring(session: Session, suggestions: list[RecurringCorrection], numbers) -> list[RecurringCorrection]:
    """Add suggestions (numbered from 1 as listed) to the glossary as known mishearings.

    Raises ClinexError naming the first number that is not on the list; nothing is added then."""
    for n in numbers:
        if not 1 <= n <= len(suggestions):
            raise ClinexError(f"There is no suggestion {n}: the list has {len(suggestions)}.")
    chosen = [suggestions[n - 1] for n in dict.fromkeys(numbers)]
    for s in chosen:
        add_mishearing(session, s.corrected, s.heard, category="correction")
    return chosen


def add_mishearing(session: Session, term: str, heard: str, category: str = "term") -> GlossaryTerm:
    """Add ``heard`` as a known mishearing of ``term`` (creating the term if new)."""
    row = session.scalars(select(GlossaryTerm).where(GlossaryTerm.term == term)).first()
    if row is None:
        row = GlossaryTerm(term=term, category=category, mishearings=[])
        session.add(row)
    if heard and heard.lower() not in {m.lower() for m in row.mishearings or []}:
        row.mishearings = [*(row.mishearings or []), heard]  # a new list, so the JSON change is saved
    return row
