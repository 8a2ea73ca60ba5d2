"""The default cover meets Apple's artwork rules."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.cover import default_cover


def test_default_cover_is_an_apple_sized_jpeg():
    body = default_cover("Clinical Exchange — IPL & lasers 😀", "Topic feed")
    with Image.open(io.BytesIO(body)) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (1400, 1400), "RGB")
    assert default_cover("IPL") == default_cover("IPL")
    assert default_cover("IPL") != default_cover("Fillers")


def test_default_cover_refuses_sizes_apple_rejects():
    with pytest.raises(ValueError, match="1400 to 3000"):
        default_cover("x", size=1000)
