"""Every column people write into is stored without bidirectional override characters.

Forms, the API, front matter and the command line all strip them on the way in too; these
attribute hooks are the one place no path can go around, so a name made by a script or a future
form is covered as well.
"""

from __future__ import annotations

from sqlalchemy import event

from . import models as m
from .text import strip_bidi_controls

USER_WRITTEN = (
    m.User.display_name, m.Event.name, m.Event.place, m.Event.description, m.Person.name,
    m.Episode.title, m.Episode.review_note, m.Summary.markdown, m.Tag.name, m.Tag.category, m.Tag.description,
    m.Chapter.title, m.Anchor.text, m.Comment.body, m.Segment.text, m.Segment.speaker, m.SegmentRevision.text,
    m.AuditEvent.reason, m.GlossaryTerm.term, m.GlossaryTerm.category, m.GlossaryTerm.mishearings,
    m.MediaFile.filename,
)


def _clean(_target, value, _old, _initiator):
    return strip_bidi_controls(value)


def guard_user_text() -> None:
    """Register the hooks (once; models.py calls this when it is imported)."""
    for column in USER_WRITTEN:
        if not event.contains(column, "set", _clean):
            event.listen(column, "set", _clean, retval=True)
