"""Profiles: who a commenter or summarizer is, with a visibility choice per field, and an avatar
that is re-encoded (resized, metadata stripped) before it is stored."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ClinexError, NotFound
from ..models import (Comment, CommentState, Episode, EpisodeStatus, EpisodeTag, Role, Tag, User, utcnow)
from ..private_feeds import MEMBER_ROLE
from ..text import slugify
from .models import CREDENTIALS, VISIBILITIES, Profile

FIELDS = ("credentials", "specialty", "practice", "city")
LIMITS = {"display_name": 120, "specialty": 120, "practice": 160, "city": 120, "bio": 1000, "name": 200,
          "place": 200, "session title": 300}
AVATAR_PIXELS = 256
MAX_AVATAR_BYTES = 5 * 1024 * 1024
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|<\s*(script|style|svg|iframe)", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class ProfileError(ClinexError):
    """A profile field cannot be saved as given; the message names the field."""


@dataclass
class ProfileInput:
    """What the profile form sends: plain strings, visibility per optional field."""

    display_name: str
    credentials: str = ""
    specialty: str = ""
    practice: str = ""
    city: str = ""
    bio: str = ""
    handle: str = ""
    visibility: dict[str, str] | None = None


@dataclass(frozen=True)
class ShownField:
    label: str
    value: str


def clean_text(name: str, value: str | None) -> str | None:
    """Plain text: no tags, no control or direction-override characters, within the limit."""
    value = (value or "").strip()
    if not value:
        return None
    if _MARKUP.search(value):
        raise ProfileError(f"{name.replace('_', ' ').capitalize()}: HTML tags are not allowed; write plain text.")
    if _CONTROL.search(value):
        raise ProfileError(f"{name.replace('_', ' ').capitalize()}: remove the control characters.")
    limit = LIMITS.get(name, 120)
    if len(value) > limit:
        raise ProfileError(f"{name.replace('_', ' ').capitalize()} may be at most {limit} characters.")
    return value if name == "bio" else " ".join(value.split())


def _unique_handle(session: Session, wanted: str, user_id: int) -> str:
    base = slugify(wanted, 30).replace("-", "_") or "member"
    handle, n = base, 1
    while session.scalar(select(Profile.user_id).where(Profile.handle == handle)) not in (None, user_id):
        n += 1
        handle = f"{base[:36]}{n}"
    return handle


def ensure_profile(session: Session, user: User) -> Profile:
    """The account's profile, made (with a handle from its name) on first use."""
    profile = session.get(Profile, user.id)
    if profile is None:
        profile = Profile(user_id=user.id, handle=_unique_handle(session, user.display_name or "member", user.id))
        session.add(profile)
        session.flush()
    return profile


def _handle(session: Session, profile: Profile, wanted: str) -> str:
    wanted = (wanted or "").strip().lstrip("@").lower()
    if not wanted or wanted == profile.handle:
        return profile.handle
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,39}", wanted):
        raise ProfileError("Handle: 2 to 40 letters, digits, _ or -, starting with a letter or digit.")
    if session.scalar(select(Profile.user_id).where(Profile.handle == wanted)) not in (None, profile.user_id):
        raise ProfileError(f"Handle: @{wanted} is taken; choose another.")
    return wanted


def update_profile(session: Session, user: User, data: ProfileInput) -> Profile:
    """Check every field first, then save them all (a bad field changes nothing). Raises
    ProfileError naming the field."""
    profile = ensure_profile(session, user)
    name = clean_text("display_name", data.display_name)
    if not name:
        raise ProfileError("Display name is required.")
    values = {f: clean_text(f, getattr(data, f)) for f in FIELDS}
    if values["credentials"] and values["credentials"] not in CREDENTIALS:
        raise ProfileError(f"Credentials: choose one of {', '.join(CREDENTIALS)}.")
    visibility = {f: (data.visibility or {}).get(f, getattr(profile, f"{f}_visibility")) for f in FIELDS}
    bad = [f for f, v in visibility.items() if v not in VISIBILITIES]
    if bad:
        raise ProfileError(f"Who sees your {bad[0]}: choose {', '.join(VISIBILITIES)}.")
    bio, handle = clean_text("bio", data.bio), _handle(session, profile, data.handle)
    user.display_name, profile.bio, profile.handle = name, bio, handle
    for f in FIELDS:
        setattr(profile, f, values[f])
        setattr(profile, f"{f}_visibility", visibility[f])
    profile.updated_at = utcnow()
    session.flush()
    return profile


def shown_fields(profile: Profile | None, viewer: User | None) -> list[ShownField]:
    """The optional fields this viewer may see: public to anyone, members to signed-in members,
    private to the owner (and editors)."""
    if profile is None:
        return []
    out = []
    for f in FIELDS:
        value, who = getattr(profile, f), getattr(profile, f"{f}_visibility")
        if value and _may_see_field(who, profile.user_id, viewer):
            out.append(ShownField(f.capitalize(), value))
    return out


def _may_see_field(who: str, owner_id: int, viewer: User | None) -> bool:
    if who == "public":
        return True
    if viewer is None:
        return False
    if viewer.id == owner_id or Role(viewer.role).rank >= Role.editor.rank:
        return True
    return who == "members" and Role(viewer.role).rank >= MEMBER_ROLE.rank


def process_avatar(data: bytes) -> bytes:
    """Any image Pillow reads to a square 256-px PNG without metadata (EXIF, GPS, comments are
    not carried over). Raises ProfileError for something that is not an image or is too big."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_AVATAR_BYTES:
        raise ProfileError(f"Avatar: the image may be at most {MAX_AVATAR_BYTES // 1024 // 1024} MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 40_000_000:
                raise ProfileError("Avatar: the image has too many pixels; use one under 40 megapixels.")
            image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop EXIF
            square = ImageOps.fit(image.convert("RGB"), (AVATAR_PIXELS, AVATAR_PIXELS))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ProfileError("Avatar: that file is not an image we can read (use JPEG, PNG or WebP).") from None
    out = io.BytesIO()
    Image.frombytes("RGB", square.size, square.tobytes()).save(out, format="PNG", optimize=True)
    return out.getvalue()


def save_avatar(session: Session, storage, user: User, data: bytes) -> Profile:
    """Store the processed avatar under ``avatars/<user id>/<n>.png`` and point the profile at it."""
    png = process_avatar(data)
    profile = ensure_profile(session, user)
    key = f"avatars/{user.id}/{int(utcnow().timestamp() * 1000)}.png"
    storage.put_bytes(key, png, content_type="image/png")
    old, profile.avatar_key = profile.avatar_key, key
    session.flush()
    if old:
        try:
            storage.delete(old)
        except FileNotFoundError:  # already gone: nothing to tidy
            pass
    return profile


def initials(name: str) -> str:
    words = [w for w in re.split(r"[\s.]+", name or "") if w and w[0].isalnum()]
    letters = [w[0] for w in words if w.lower() not in ("dr", "prof")] or [w[0] for w in words]
    return "".join(letters[:2]).upper() or "?"


def profile_by_handle(session: Session, handle: str) -> Profile:
    profile = session.scalars(select(Profile).where(Profile.handle == handle.lower()[:40])).first()
    if profile is None or not profile.user.active:
        raise NotFound("No such member.")
    return profile


def summaries_of(session: Session, user_id: int, include_members_only: bool) -> list[Episode]:
    query = select(Episode).where(Episode.created_by_id == user_id, Episode.status == EpisodeStatus.published.value)
    if not include_members_only:
        query = query.where(Episode.members_only.is_(False))
    return list(session.scalars(query.order_by(Episode.published_at.desc()).limit(100)))


def comments_of(session: Session, user_id: int, include_members_only: bool, limit: int = 30) -> list[Comment]:
    query = (select(Comment).join(Episode, Episode.id == Comment.episode_id)
             .where(Comment.author_id == user_id, Comment.state == CommentState.visible.value,
                    Episode.status == EpisodeStatus.published.value))
    if not include_members_only:
        query = query.where(Episode.members_only.is_(False))
    return list(session.scalars(query.order_by(Comment.id.desc()).limit(limit)))


def active_topics(session: Session, user_id: int, limit: int = 10) -> list[tuple[Tag, int]]:
    """Topics of the published episodes the member summarized or commented on, most first."""
    commented = select(Comment.episode_id).where(Comment.author_id == user_id,
                                                 Comment.state == CommentState.visible.value)
    episodes = select(Episode.id).where(Episode.status == EpisodeStatus.published.value,
                                        (Episode.created_by_id == user_id) | Episode.id.in_(commented))
    rows = session.execute(select(Tag, func.count(EpisodeTag.episode_id)).join(EpisodeTag)
                           .where(EpisodeTag.accepted.is_(True), EpisodeTag.episode_id.in_(episodes))
                           .group_by(Tag.id).order_by(func.count(EpisodeTag.episode_id).desc(), Tag.name)
                           .limit(limit)).all()
    return [(t, n) for t, n in rows]
