"""Tags on the published file, written with mutagen at publish time.

MP3 gets ID3v2.3 (what old car stereos and players read): title, artist, album, date, genre,
comment, cover art (APIC), the episode page (WXXX) and chapters as CHAP frames under one CTOC.
M4A gets the equivalent MP4 atoms (chapters are not written there). The file's size and hash
must be taken after tagging: tagging changes both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    WXXX,
    CTOCFlags,
    ID3NoHeaderError,
)
from mutagen.mp4 import MP4, MP4Cover

from ..errors import AudioError

_UTF8 = 3  # mutagen turns it into UTF-16 when saving v2.3, which has no UTF-8
_NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets unused: players seek by time
_TAG_HEADER = 10  # the tag header and each v2.3 frame header are 10 bytes


@dataclass
class ChapterFrame:
    start: float
    end: float
    title: str


@dataclass
class EpisodeTags:
    title: str
    artist: str
    album: str
    date: str | None
    comment: str
    genre: str = "Podcast"
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"
    chapters: list[ChapterFrame] = field(default_factory=list)
    url: str | None = None


def write_tags(path: str | os.PathLike, tags: EpisodeTags) -> None:
    """Replace the tags of an .mp3 (ID3v2.3) or .m4a (MP4 atoms) file.

    Raises AudioError for another extension or a file mutagen cannot write.
    """
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".mp3":
            id3 = _id3_from(tags)
            id3.update_to_v23()  # save(v2_version=3) alone leaves v2.4 frames such as TDRC in place
            id3.save(os.fspath(path), v1=0, v2_version=3, padding=lambda info: 0)
            _put_chapters_in_time_order(path)
        elif suffix in (".m4a", ".mp4"):
            _write_mp4(path, tags)
        else:
            raise AudioError(f"Cannot tag a {suffix or 'nameless'} file; only MP3 and M4A are published.")
    except (OSError, ValueError) as exc:  # mutagen's errors derive from these
        raise AudioError(f"Could not write the tags: {exc}.") from exc


def _id3_from(tags: EpisodeTags) -> ID3:
    id3 = ID3()
    id3.add(TIT2(encoding=_UTF8, text=[tags.title]))
    id3.add(TPE1(encoding=_UTF8, text=[tags.artist]))
    id3.add(TALB(encoding=_UTF8, text=[tags.album]))
    id3.add(TCON(encoding=_UTF8, text=[tags.genre]))
    id3.add(COMM(encoding=_UTF8, lang="eng", desc="", text=[tags.comment]))
    if tags.date:
        id3.add(TDRC(encoding=_UTF8, text=[tags.date]))  # becomes TYER (+TDAT) for v2.3
    if tags.url:
        id3.add(WXXX(encoding=_UTF8, desc="", url=tags.url))
    if tags.cover:
        id3.add(APIC(encoding=_UTF8, mime=tags.cover_mime, type=3, desc="Cover", data=tags.cover))
    _add_chapters(id3, tags.chapters)
    return id3


def _add_chapters(id3: ID3, chapters: list[ChapterFrame]) -> None:
    chapters = sorted(chapters, key=lambda chapter: chapter.start)
    ids = [f"chp{index}" for index in range(len(chapters))]
    for element_id, chapter in zip(ids, chapters):
        id3.add(CHAP(
            element_id=element_id,
            start_time=round(chapter.start * 1000), end_time=round(chapter.end * 1000),
            start_offset=_NO_OFFSET, end_offset=_NO_OFFSET,
            sub_frames=[TIT2(encoding=_UTF8, text=[chapter.title])],
        ))
    if ids:
        id3.add(CTOC(
            element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
            sub_frames=[TIT2(encoding=_UTF8, text=["Chapters"])],
        ))


def _put_chapters_in_time_order(path: str | os.PathLike) -> None:
    """Rewrite the saved ID3v2.3 tag in place with CTOC, then the CHAP frames by start time.

    mutagen orders frames by size, and ffmpeg-based players list CHAP frames in file order, so a
    short title jumped ahead ("Complications" second). Only frames move: the tag keeps its length,
    so the audio after it is untouched. A tag this module did not write (unsynchronised, with an
    extended header) is left alone. Raises OSError when the file cannot be rewritten.
    """
    with open(path, "r+b") as file:
        header = file.read(_TAG_HEADER)
        if len(header) < _TAG_HEADER or header[:4] != b"ID3\x03" or header[5] & 0xC0:
            return
        size = int.from_bytes(bytes(b & 0x7F for b in header[6:10]), "big")  # syncsafe: 7 bits a byte
        body = file.read(size)
        frames, padding = _split_frames(body)
        chapters = [f for f in frames if f[:4] == b"CTOC"] + sorted(
            (f for f in frames if f[:4] == b"CHAP"), key=_chap_start)
        if not chapters:
            return
        first = next(i for i, f in enumerate(frames) if f[:4] in (b"CHAP", b"CTOC"))
        others = [f for f in frames if f[:4] not in (b"CHAP", b"CTOC")]
        ordered = b"".join(others[:first] + chapters + others[first:]) + padding
        file.seek(_TAG_HEADER)
        file.write(ordered)


def _split_frames(body: bytes) -> tuple[list[bytes], bytes]:
    """v2.3 frames (10-byte header: id, 32-bit big-endian size, flags) and the padding after them."""
    frames, offset = [], 0
    while offset + _TAG_HEADER <= len(body) and body[offset] != 0:
        end = offset + _TAG_HEADER + int.from_bytes(body[offset + 4:offset + 8], "big")
        frames.append(body[offset:end])
        offset = end
    return frames, body[offset:]


def _chap_start(frame: bytes) -> int:
    """CHAP data: element id, a NUL, then the start time in milliseconds (32 bits)."""
    data = frame[_TAG_HEADER:]
    cut = data.index(b"\0") + 1
    return int.from_bytes(data[cut:cut + 4], "big")


def _write_mp4(path: str | os.PathLike, tags: EpisodeTags) -> None:
    mp4 = MP4(os.fspath(path))
    mp4.delete()
    mp4["\xa9nam"] = [tags.title]
    mp4["\xa9ART"] = [tags.artist]
    mp4["\xa9alb"] = [tags.album]
    mp4["\xa9gen"] = [tags.genre]
    mp4["\xa9cmt"] = [tags.comment]
    if tags.date:
        mp4["\xa9day"] = [tags.date]
    if tags.cover:
        kind = MP4Cover.FORMAT_PNG if tags.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
        mp4["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
    mp4.save()


def read_tags(path: str | os.PathLike) -> dict:
    """The tags as plain data (for tests and the editor's check); ``{}`` when there are none."""
    suffix = Path(path).suffix.lower()
    if suffix in (".m4a", ".mp4"):
        return _read_mp4(path)
    try:
        raw = ID3(os.fspath(path), translate=False)
    except ID3NoHeaderError:
        return {}
    id3 = ID3(os.fspath(path))  # translated: v2.3 TYER/TDAT read back as TDRC
    return {
        "version": raw.version,
        "frames": sorted({key.split(":")[0] for key in raw.keys()}),
        "title": _text(id3, "TIT2"),
        "artist": _text(id3, "TPE1"),
        "album": _text(id3, "TALB"),
        "genre": _text(id3, "TCON"),
        "date": _text(id3, "TDRC"),
        "comment": _text(id3, "COMM"),
        "url": next((frame.url for frame in id3.getall("WXXX")), None),
        "cover": next((frame.data for frame in id3.getall("APIC")), None),
        "cover_mime": next((frame.mime for frame in id3.getall("APIC")), None),
        "chapters": [_chapter_dict(frame) for frame in sorted(id3.getall("CHAP"), key=lambda f: f.start_time)],
        "toc": [_toc_dict(frame) for frame in id3.getall("CTOC")],
    }


def _text(id3: ID3, frame_id: str) -> str | None:
    frames = id3.getall(frame_id)
    return str(frames[0].text[0]) if frames and frames[0].text else None


def _chapter_dict(frame: CHAP) -> dict:
    title = frame.sub_frames.getall("TIT2")
    return {"id": frame.element_id, "start": frame.start_time / 1000, "end": frame.end_time / 1000,
            "title": str(title[0].text[0]) if title else None}


def _toc_dict(frame: CTOC) -> dict:
    return {"id": frame.element_id, "children": list(frame.child_element_ids),
            "top_level": bool(frame.flags & CTOCFlags.TOP_LEVEL), "ordered": bool(frame.flags & CTOCFlags.ORDERED)}


def _read_mp4(path: str | os.PathLike) -> dict:
    tags = MP4(os.fspath(path)).tags or {}

    def first(key):
        return str(tags[key][0]) if key in tags and tags[key] else None

    cover = tags.get("covr")
    return {
        "title": first("\xa9nam"), "artist": first("\xa9ART"), "album": first("\xa9alb"),
        "genre": first("\xa9gen"), "date": first("\xa9day"), "comment": first("\xa9cmt"),
        "cover": bytes(cover[0]) if cover else None, "chapters": [],
    }
