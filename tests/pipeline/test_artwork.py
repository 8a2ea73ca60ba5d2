"""Episode covers: uploads are checked against Apple's rules; without one a cover is drawn."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.artwork import (episode_cover_bytes, episode_cover_thumbnail, remove_uploaded_cover,
                              store_uploaded_cover, uploaded_key)
from pipeline.cover import checked_cover
from pipeline.errors import InvalidUpload
from pipeline.models import Episode


def image_bytes(size=(1400, 1400), mode="RGB", fmt="JPEG", colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    fill = colour if mode in ("RGB", "RGBA") else (0, 0, 0, 0) if mode == "CMYK" else 128
    if mode == "RGBA":
        fill = (*colour, 0)  # fully transparent
    Image.new(mode, size, fill).save(out, fmt)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("data, message", [
    (b"not an image at all", "not an image we can read"),
    (image_bytes(fmt="GIF", mode="P"), "GIF; upload a JPEG or PNG"),
    (image_bytes(size=(1600, 1400)), "must be square; this one is 1600×1400"),
    (image_bytes(size=(1000, 1000)), "1400 to 3000 px square"),
    (image_bytes(size=(3200, 3200), fmt="PNG"), "this one is 3200 px"),
    (image_bytes(mode="CMYK"), "CMYK colour; save it as RGB"),
])
def test_covers_apple_would_refuse_are_refused_with_the_reason(data, message):
    with pytest.raises(InvalidUpload) as caught:
        checked_cover(data)
    assert message in str(caught.value)


def test_a_transparent_png_becomes_an_rgb_jpeg_on_white():
    stored = opened(checked_cover(image_bytes(mode="RGBA", fmt="PNG")))
    assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (1400, 1400))
    assert stored.getpixel((700, 700)) == pytest.approx((255, 255, 255), abs=2)


@pytest.fixture
def episode(ctx):
    with ctx.sessions.begin() as session:
        session.add(Episode(title="Fillers and the tear trough", slug="fillers", status="published"))
    with ctx.sessions() as session:
        ep = session.query(Episode).one()
        session.expunge(ep)
    return ep


def test_without_an_upload_the_cover_is_drawn_and_changes_with_the_title(ctx, episode):
    first = episode_cover_bytes(ctx, episode)
    image = opened(first)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (1400, 1400))
    assert episode_cover_bytes(ctx, episode) == first  # kept, not drawn again differently
    episode.title = "Threads and the jawline"
    assert episode_cover_bytes(ctx, episode) != first


def test_an_uploaded_cover_wins_and_removing_it_brings_back_the_drawn_one(ctx, episode):
    drawn = episode_cover_bytes(ctx, episode)
    store_uploaded_cover(ctx, episode, image_bytes(size=(2000, 2000), colour=(10, 200, 10)))
    cover = opened(episode_cover_bytes(ctx, episode))
    assert cover.size == (2000, 2000) and cover.getpixel((5, 5))[1] > 180
    thumb = opened(episode_cover_thumbnail(ctx, episode, 320))
    assert thumb.size == (320, 320) and thumb.getpixel((5, 5))[1] > 180
    remove_uploaded_cover(ctx, episode)
    assert episode_cover_bytes(ctx, episode) == drawn
    assert opened(episode_cover_thumbnail(ctx, episode, 320)).getpixel((5, 5))[1] < 180


def test_a_refused_upload_keeps_the_cover_there_was(ctx, episode):
    store_uploaded_cover(ctx, episode, image_bytes())
    before = ctx.storage.get_bytes(uploaded_key(episode))
    with pytest.raises(InvalidUpload):
        store_uploaded_cover(ctx, episode, image_bytes(size=(1400, 1500)))
    assert ctx.storage.get_bytes(uploaded_key(episode)) == before


def test_only_the_offered_thumbnail_sizes_are_made(ctx, episode):
    with pytest.raises(InvalidUpload, match="160, 320, 640"):
        episode_cover_thumbnail(ctx, episode, 999)


def test_publishing_embeds_the_episode_cover_in_the_mp3(ctx):
    from pipeline.audio.id3 import read_tags
    from pipeline.review import approve as approve_episode
    from tests.pipeline.conftest import episode_ready_to_publish

    episode_id, _uuid = episode_ready_to_publish(ctx)
    with ctx.sessions() as session:
        store_uploaded_cover(ctx, session.get(Episode, episode_id), image_bytes(colour=(10, 200, 10)))
    approve_episode(ctx, episode_id)
    with ctx.sessions() as session:
        episode = session.get(Episode, episode_id)
        published = episode.media_of("published")
        expected = episode_cover_bytes(ctx, episode)
        path = ctx.storage.local_path(published.storage_key)  # the embedded default: local files
    tags = read_tags(path)
    assert tags["cover"] == expected and tags["cover_mime"] == "image/jpeg"
