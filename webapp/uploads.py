"""Getting recordings onto disk without holding them in memory, and into the pipeline.

* Plain form posts: Werkzeug writes file parts to a spool file in ``INSTANCE_PATH/uploads``
  (``UploadRequest``, ``pipeline.spool``), whose path goes straight to ``pipeline.ingest.ingest_upload``; one
  that a killed server leaves behind is found and removed by ``clinex doctor``.
* Chunked uploads (the studio's JavaScript, for big files): the browser creates an upload, then
  sends the file in slices appended to ``uploads/<user id>/<upload id>.part``; a slice at the
  wrong offset is refused with the current size so the browser can resume from there.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Request, current_app

from pipeline.errors import InvalidUpload
from pipeline.ingest import ingest_notes_only, ingest_upload
from pipeline.notes import EpisodeMeta
from pipeline.spool import delete_chunked, find_abandoned_chunked, open_spool, uploads_folder

CHUNK_BYTES = 8 * 1024 * 1024
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def uploads_dir() -> Path:
    path = uploads_folder(current_app.config["CLINEX"].instance_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


class UploadRequest(Request):
    """Spools file parts to a named file on disk (Werkzeug's default has no usable path)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return open_spool(uploads_dir())


@dataclass
class ChunkedUpload:
    id: str
    user_id: int
    filename: str
    size: int

    @property
    def path(self) -> Path:
        return uploads_dir() / str(self.user_id) / f"{self.id}.part"

    @property
    def received(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def as_dict(self) -> dict:
        return {"id": self.id, "filename": self.filename, "size": self.size, "received": self.received}

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".json").unlink(missing_ok=True)


def start_chunked(user_id: int, filename: str, size: int) -> ChunkedUpload:
    """Register an upload; raises InvalidUpload when the file name is a path or the announced size is
    not a whole number, empty or over the limit (nothing is written then)."""
    limit = current_app.config["CLINEX"].MAX_UPLOAD_BYTES
    _check_plain_name(filename)
    if isinstance(size, bool) or not isinstance(size, int):
        raise InvalidUpload("Say the file's size in bytes, as a whole number.")
    if size <= 0:
        raise InvalidUpload("Choose a recording to upload; the file is empty.")
    if size > limit:
        raise InvalidUpload(f"That file is {size / 1024**3:.1f} GB; uploads may be at most {limit / 1024**3:.1f} GB.")
    _sweep_stale(user_id)
    upload = ChunkedUpload(secrets.token_hex(16), user_id, filename[:255], size)
    upload.path.parent.mkdir(parents=True, exist_ok=True)
    upload.path.touch()
    upload.path.with_suffix(".json").write_text(json.dumps({"filename": upload.filename, "size": size}))
    return upload


def _check_plain_name(filename: str) -> None:
    """A browser sends a file's own name; a path (``../x.mp3``, ``C:\\x.mp3``) is refused, not
    silently cut, so a client that sends one learns it."""
    if not filename.strip():
        raise InvalidUpload("Choose a recording to upload; it has no file name.")
    if any(c in filename for c in "/\\\x00") or filename.strip(". ") == "":
        raise InvalidUpload(f"Send the file's own name, like talk.mp3, not a path ({filename[:60]!r}).")


def find_chunked(user_id: int, upload_id: str) -> ChunkedUpload | None:
    """The user's upload with this id, or None (ids of other users' uploads are never found)."""
    if not _UPLOAD_ID.match(upload_id or ""):
        return None
    meta = uploads_dir() / str(user_id) / f"{upload_id}.json"
    if not meta.exists():
        return None
    data = json.loads(meta.read_text())
    return ChunkedUpload(upload_id, user_id, data["filename"], data["size"])


def append_chunk(upload: ChunkedUpload, offset: int, stream, length: int) -> int:
    """Append one slice read from ``stream``; returns the bytes received so far.

    Raises InvalidUpload when the offset is not where the file ends (the message carries the
    size to resume from) or when the slice would run past the announced size."""
    received = upload.received
    if offset != received:
        raise InvalidUpload(f"Resume from byte {received}.")
    if length <= 0 or length > CHUNK_BYTES or received + length > upload.size:
        raise InvalidUpload("That slice does not fit the announced file size.")
    with open(upload.path, "ab") as out:
        copied = _copy_exactly(stream, out, length)
    if copied != length:
        with open(upload.path, "ab") as out:
            out.truncate(received)  # a cut-off slice is dropped whole so resuming stays simple
        raise InvalidUpload(f"The slice was cut off; resume from byte {received}.")
    return upload.received


def _copy_exactly(stream, out, length: int) -> int:
    copied = 0
    while copied < length:
        block = stream.read(min(1024 * 1024, length - copied))
        if not block:
            break
        out.write(block)
        copied += len(block)
    return copied


def _sweep_stale(user_id: int) -> None:
    for upload in find_abandoned_chunked(uploads_dir(), user=str(user_id)):
        delete_chunked(upload.path)


def ingest_path(path: str | Path, filename: str, meta: EpisodeMeta, notes_text: str | None, author):
    """Ingest a file already on local disk (``pipeline.ingest.ingest_upload``) and dispatch its
    jobs, which are committed by then. Raises InvalidUpload with nothing stored."""
    from . import dispatcher
    from .db import ctx

    result = ingest_upload(ctx(), path, filename=filename, meta=meta, notes_text=notes_text,
                           author_id=author.id if author is not None else None)
    dispatcher(current_app).dispatch(result.job_ids)
    return result


def ingest_notes(meta: EpisodeMeta, notes_text: str | None, author):
    """Summary notes with no recording (``pipeline.ingest.ingest_notes_only``), dispatched: the
    summary is voiced, levelled and analyzed. Raises InvalidUpload with nothing stored."""
    from . import dispatcher
    from .db import ctx

    result = ingest_notes_only(ctx(), meta=meta, notes_text=notes_text,
                               author_id=author.id if author is not None else None)
    dispatcher(current_app).dispatch(result.job_ids)
    return result


def ingest_chunked(upload: ChunkedUpload, meta: EpisodeMeta, notes_text: str | None, author):
    """Ingest a finished chunked upload; the part file is removed once it is stored."""
    if upload.received != upload.size:
        raise InvalidUpload(f"The upload is not finished: {upload.received} of {upload.size} bytes arrived.")
    result = ingest_path(upload.path, upload.filename, meta, notes_text, author)
    upload.discard()
    return result


__all__ = ["UploadRequest", "ChunkedUpload", "start_chunked", "find_chunked", "append_chunk", "ingest_path",
           "ingest_chunked", "ingest_notes", "CHUNK_BYTES"]
