"""Draw the site's favicon and app icons into webapp/static (run again after changing colours).

The icons are committed; this script is how they were made, so nobody edits PNGs by hand."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parents[1] / "webapp" / "static"
INK, ACCENT = (23, 50, 63), (242, 185, 107)


def icon(size: int) -> Image.Image:
    """A speech bubble with a play triangle, in the house colours."""
    image = Image.new("RGB", (size, size), INK)
    draw = ImageDraw.Draw(image)
    m = size // 6
    draw.rounded_rectangle([m, m, size - m, size - m * 2], radius=size // 8, fill=ACCENT)
    draw.polygon([(m * 2, size - m * 2), (m * 2, size - m), (m * 3, size - m * 2)], fill=ACCENT)
    c = size // 2 - m // 3
    draw.polygon([(c - m // 2, m * 2), (c - m // 2, size - m * 3), (c + m, (m * 2 + size - m * 3) // 2)], fill=INK)
    return image


def main() -> None:
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512), ("apple-touch-icon.png", 180)):
        icon(size).save(STATIC / name, optimize=True)
    icon(64).save(STATIC / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
