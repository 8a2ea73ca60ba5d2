"""The learning record as files: CSV for spreadsheets, PDF as a log to hand in.

Both carry the same columns (date, episode, event, speakers, minutes, how it was heard,
reflection) and both say the record is self-reported, not accredited credit. CSV cells that a
spreadsheet would run as a formula are defused; the PDF uses the bundled DejaVu Sans so any
Latin, Greek or Cyrillic reflection prints as written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .learning import SELF_REPORTED, LearningRecord, RecordEntry

FONT = Path(__file__).parent / "data" / "DejaVuSans.ttf"
CSV_HEADER = ("date", "episode", "event", "speakers", "minutes", "completed", "how", "reflection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class LogHeading:
    """Who the log is of and when it was made, printed at its top."""

    name: str
    email: str
    site: str
    made_at: datetime


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(entry: RecordEntry) -> tuple[str, ...]:
    return (entry.last_heard.isoformat(), entry.title, entry.event, "; ".join(entry.speakers),
            f"{entry.minutes:.1f}", "yes" if entry.completed else "no", entry.how, entry.reflection or "")


def record_csv(record: LearningRecord) -> str:
    """The record as CSV text (header first, then one row per episode, then the notice)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for entry in record.entries:
        writer.writerow([safe_cell(v) for v in _row(entry)])
    writer.writerow([safe_cell(SELF_REPORTED)])
    return out.getvalue()


class _LogPDF(FPDF):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._widths: dict[tuple[float, str], float] = {}

    def text_width(self, text: str) -> float:
        """The printed width of ``text``, from a cache of each character's width (fpdf2's own
        get_string_width costs ~0.1 ms a call, and wrapping calls it for every word)."""
        widths, size = self._widths, self.font_size_pt
        total = 0.0
        for char in text:
            if (size, char) not in widths:
                widths[size, char] = self.get_string_width(char)
            total += widths[size, char]
        return total

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=7)
        self.cell(0, 5, f"Self-reported record, not accredited credit · page {self.page_no()}/{{nb}}", align="C")


def record_pdf(record: LearningRecord, heading: LogHeading) -> bytes:
    """The record as a learning log: A4, one block per episode, the notice at top and bottom."""
    pdf = _LogPDF(format="A4")
    pdf.set_title("Learning log")
    pdf.set_creator("Clinical Exchange")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    _heading(pdf, record, heading)
    for entry in record.entries:
        _entry(pdf, entry)
    if not record.entries:
        _line(pdf, "Nothing heard yet.", 10)
    pdf.ln(4)
    _line(pdf, SELF_REPORTED, 9)
    return bytes(pdf.output())


def _line(pdf: _LogPDF, text: str, size: float, height: float = 5.5) -> None:
    """Print ``text`` wrapped to the page width. Wrapped here, word by word, because fpdf2's
    multi_cell measures the line again for every character: 20 ms an entry, 10 s for 500."""
    pdf.set_font("DejaVu", size=size)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for paragraph in text.split("\n"):
        for line in _wrap(pdf, paragraph, width):
            pdf.cell(0, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _wrap(pdf: _LogPDF, paragraph: str, width: float) -> list[str]:
    lines, current, used = [], "", 0.0
    space = pdf.text_width(" ")
    for word in paragraph.split(" "):
        for piece in _fit(pdf, word, width):
            size = pdf.text_width(piece)
            if current and used + space + size > width:
                lines.append(current)
                current, used = "", 0.0
            current, used = (f"{current} {piece}", used + space + size) if current else (piece, size)
    return lines + [current]


def _fit(pdf: _LogPDF, word: str, width: float) -> list[str]:
    """A word wider than the line, cut into pieces that fit (a pasted URL, say)."""
    if pdf.text_width(word) <= width:
        return [word]
    pieces, piece = [], ""
    for char in word:
        if piece and pdf.text_width(piece + char) > width:
            pieces.append(piece)
            piece = ""
        piece += char
    return pieces + [piece]


def _heading(pdf: _LogPDF, record: LearningRecord, heading: LogHeading) -> None:
    _line(pdf, "Learning log — Clinical Exchange", 16, 9)
    _line(pdf, f"{heading.name} <{heading.email}> · {heading.site}", 10)
    _line(pdf, f"Made {heading.made_at:%Y-%m-%d %H:%M} UTC · {len(record.entries)} episodes, "
               f"{record.completed} completed, {record.minutes:.1f} minutes", 10)
    _line(pdf, SELF_REPORTED, 9)
    pdf.ln(3)


def _entry(pdf: _LogPDF, entry: RecordEntry) -> None:
    pdf.ln(2)
    _line(pdf, f"{entry.last_heard.isoformat()} · {entry.title}", 11, 6)
    facts = [f"Event: {entry.event or '—'}", f"Speakers: {', '.join(entry.speakers) or '—'}",
             f"Minutes: {entry.minutes:.1f}{' (episode length)' if entry.counted_by_download else ''}",
             f"Completed: {'yes' if entry.completed else 'no'}", f"Heard in: {entry.how}"]
    _line(pdf, " · ".join(facts), 9)
    if entry.reflection:
        _line(pdf, f"Reflection: {entry.reflection}", 9)
