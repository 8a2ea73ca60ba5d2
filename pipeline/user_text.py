"""Every column people write into is stored without bidirectional override characters.

Forms, the API, front matter and the command line all strip them on the way in too; these
attribute hooks are the one place no path can go around, so a name made by a script or a future
form is covered as well.
"""

from __future__ import annotations

from sqlalchemy import event

from .text import strip_bidi_controls

def _clean(_target, value, _old, _initiator):
    return strip_bidi_controls(value)


def guard_user_text(*columns) -> None:
    """Strip the controls from whatever is set on these mapped columns (``models.py`` names them
    once, when it is imported); registering a column twice registers it once."""
    for column in columns:
        if not event.contains(column, "set", _clean):
            event.listen(column, "set", _clean, retval=True)
