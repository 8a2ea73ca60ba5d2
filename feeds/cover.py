"""A default cover for shows (and topic feeds) nobody uploaded art for.

Apple refuses a feed without ``itunes:image`` of 1400-3000 px, square, JPEG or
PNG; this draws the title on a plain background so every feed has one.
"""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

#: Apple's minimum edge; smaller covers are rejected.
COVER_SIZE = 1400
_PALETTE = [(22, 78, 99), (91, 33, 82), (25, 94, 70), (120, 53, 15), (40, 50, 110)]


def default_cover(title: str, *, subtitle: str | None = None, size: int = COVER_SIZE) -> bytes:
    """Return a square JPEG (``size`` px, 1400-3000) with ``title`` written on it.

    The background colour follows from the title, so a tag feed keeps its
    colour across renders and the bytes are the same for the same inputs.
    Raises ``ValueError`` for a size Apple would reject.
    """
    if not 1400 <= size <= 3000:
        raise ValueError(f"A cover must be 1400 to 3000 pixels square, not {size}.")
    image = Image.new("RGB", (size, size), _colour(title))
    draw = ImageDraw.Draw(image)
    _write(draw, title, size, top=size // 3, scale=0.085)
    if subtitle:
        _write(draw, subtitle, size, top=int(size * 0.72), scale=0.045)
    out = io.BytesIO()
    # No EXIF, no timestamp: Pillow's JPEG output depends on pixels and options only.
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def _colour(title: str) -> tuple[int, int, int]:
    return _PALETTE[hashlib.sha256(title.encode("utf-8", "replace")).digest()[0] % len(_PALETTE)]


def _write(draw: ImageDraw.ImageDraw, text: str, size: int, *, top: int, scale: float) -> None:
    font = ImageFont.load_default(size=int(size * scale))
    line_height = int(size * scale * 1.25)
    for n, line in enumerate(textwrap.wrap(text, width=18)[:4]):
        draw.text((size // 2, top + n * line_height), line, font=font, fill="white", anchor="mt")
