"""A default square cover (JPEG, 1400-3000 px as Apple asks) when none was uploaded."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from .errors import InvalidUpload

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


MIN_EDGE, MAX_EDGE = 1400, 3000  # Apple Podcasts' limits for cover art
UPLOAD_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
THUMB_SIZES = (160, 320, 640)  # cards, the episode page, lock screens


def episode_cover(title: str, show_title: str, size: int = SIZE) -> bytes:
    """A generated episode cover in the show's style: the episode title large, the show's name
    in the band at the foot. Deterministic for the same text."""
    return default_cover(title, show_title, size)


def checked_cover(data: bytes) -> bytes:
    """An uploaded cover as the JPEG we store and serve. Raises InvalidUpload naming what is
    wrong: not JPEG or PNG, not square, outside 1400-3000 px, or not an RGB image."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidUpload(f"The cover may be at most {MAX_UPLOAD_BYTES // 1024 ** 2} MB.")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:  # Pillow raises many kinds for bytes it cannot read
        raise InvalidUpload("The cover is not an image we can read; upload a JPEG or PNG.") from None
    if image.format not in UPLOAD_FORMATS:
        raise InvalidUpload(f"The cover is {image.format or 'an unknown format'}; upload a JPEG or PNG.")
    width, height = image.size
    if width != height:
        raise InvalidUpload(f"The cover must be square; this one is {width}×{height} px.")
    if not MIN_EDGE <= width <= MAX_EDGE:
        raise InvalidUpload(f"The cover must be {MIN_EDGE} to {MAX_EDGE} px square (Apple's rule); "
                            f"this one is {width} px.")
    if image.mode not in ("RGB", "RGBA", "P", "L"):
        raise InvalidUpload(f"The cover is in {image.mode} colour; save it as RGB (not CMYK) and upload again.")
    return _as_jpeg(image)


def _as_jpeg(image: Image.Image) -> bytes:
    if image.mode in ("RGBA", "P"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # JPEG has no transparency
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


def thumbnail(jpeg: bytes, size: int) -> bytes:
    """A smaller square JPEG of a cover (for cards and lock screens)."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB").resize((size, size), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()
