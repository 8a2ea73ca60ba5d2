"""Episode artwork: the cover an editor uploaded, else one generated with the episode's title.

Everything that shows an episode's art (pages, feeds, ID3 tags, lock screens) asks
``episode_cover_bytes``; sizes for cards come from ``episode_cover_thumbnail``. Covers live in
storage under ``covers/<episode-uuid>/``; generated ones carry a hash of the title, so renaming an
episode draws a new one.
"""

from __future__ import annotations

import hashlib

from .cover import THUMB_SIZES, checked_cover, episode_cover, thumbnail
from .errors import InvalidUpload
from .keys import generated_cover_key, uploaded_cover_key
from .models import Episode


def uploaded_key(episode: Episode) -> str:
    return uploaded_cover_key(episode.uuid)


def _generated_key(ctx, episode: Episode) -> str:
    text = f"{episode.title}\n{ctx.settings.SHOW_TITLE}".encode()
    return generated_cover_key(episode.uuid, hashlib.sha256(text).hexdigest())


def has_uploaded_cover(ctx, episode: Episode) -> bool:
    return ctx.storage.exists(uploaded_key(episode))


def store_uploaded_cover(ctx, episode: Episode, data: bytes) -> None:
    """Check and keep an editor's cover (replacing an earlier one, and its smaller sizes).
    Raises InvalidUpload with the reason; nothing is stored then. StorageError if the store fails."""
    jpeg = checked_cover(data)
    for size in THUMB_SIZES:
        ctx.storage.put_bytes(_thumb_key(uploaded_key(episode), size), thumbnail(jpeg, size), content_type="image/jpeg")
    ctx.storage.put_bytes(uploaded_key(episode), jpeg, content_type="image/jpeg")


def remove_uploaded_cover(ctx, episode: Episode) -> None:
    """Go back to the generated cover."""
    for key in (uploaded_key(episode), *(_thumb_key(uploaded_key(episode), s) for s in THUMB_SIZES)):
        if ctx.storage.exists(key):
            ctx.storage.delete(key)


def episode_cover_bytes(ctx, episode: Episode) -> bytes:
    """The full-size cover (JPEG, 1400-3000 px square): uploaded, else generated and kept."""
    return ctx.storage.get_bytes(_full_key(ctx, episode))


def episode_cover_thumbnail(ctx, episode: Episode, size: int) -> bytes:
    """The cover at ``size`` px (one of THUMB_SIZES); raises InvalidUpload for another size."""
    if size not in THUMB_SIZES:
        raise InvalidUpload(f"Covers come at {', '.join(map(str, THUMB_SIZES))} px, not {size}.")
    full = _full_key(ctx, episode)
    key = _thumb_key(full, size)
    if not ctx.storage.exists(key):
        ctx.storage.put_bytes(key, thumbnail(ctx.storage.get_bytes(full), size), content_type="image/jpeg")
    return ctx.storage.get_bytes(key)


def _full_key(ctx, episode: Episode) -> str:
    if has_uploaded_cover(ctx, episode):
        return uploaded_key(episode)
    key = _generated_key(ctx, episode)
    if not ctx.storage.exists(key):
        ctx.storage.put_bytes(key, episode_cover(episode.title, ctx.settings.SHOW_TITLE), content_type="image/jpeg")
    return key


def _thumb_key(key: str, size: int) -> str:
    return key.removesuffix(".jpg") + f"-{size}.jpg"
