"""A default square cover (JPEG, 1400-3000 px as Apple asks) when none was uploaded."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

SIZE = 1400


def default_cover(title: str, subtitle: str = "", size: int = SIZE) -> bytes:
    """Render ``title`` on a plain background; deterministic for the same text. Raises
    ValueError for a size Apple would reject (covers are 1400 to 3000 pixels square)."""
    if not 1400 <= size <= 3000:
        raise ValueError(f"A cover must be 1400 to 3000 pixels square, not {size}.")
    image = Image.new("RGB", (size, size), (22, 60, 84))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, int(size * 0.78), size, size], fill=(236, 180, 90))
    big = ImageFont.load_default(size=size // 11)
    small = ImageFont.load_default(size=size // 24)
    y = size // 6
    for line in textwrap.wrap(title, width=16)[:5]:
        draw.text((size // 12, y), line, font=big, fill=(255, 255, 255))
        y += int(size / 9.5)
    if subtitle:
        draw.text((size // 12, int(size * 0.83)), subtitle[:48], font=small, fill=(22, 60, 84))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()
