"""Upload spools: the named files a web request writes a posted recording to before it is stored.

A spool is deleted when its request closes it, but a process killed mid-request (SIGKILL, the OOM
killer, a power cut) never closes it, and the file would stay in ``INSTANCE_PATH/uploads`` for
good. So each spool is locked (``flock``) while it is open; the kernel drops the lock with the
process, which makes a spool nobody holds one left behind, whatever its age. ``clinex doctor``
reports those and ``--fix`` deletes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

PREFIX, SUFFIX = "form-", ".part"
ABANDONED_AFTER = timedelta(hours=24)  # a resumable upload untouched this long is given up


@dataclass(frozen=True)
class LeftoverUpload:
    path: str
    size: int


def uploads_folder(instance_path: Path) -> Path:
    return instance_path / "uploads"


class Spool(io.FileIO):
    """A file locked while open and deleted when closed (or garbage-collected)."""

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name)  # before the lock goes, so nobody sees it named and unheld
        super().close()


def open_spool(folder: Path) -> Spool:
    """A new spool in ``folder``, open for writing and reading; its ``name`` is its path.

    Raises OSError when the folder cannot be written."""
    while True:
        path = str(folder / f"{PREFIX}{secrets.token_hex(8)}{SUFFIX}")
        spool = Spool(path, "x+", opener=lambda name, flags: os.open(name, flags, 0o600))
        fcntl.flock(spool.fileno(), fcntl.LOCK_EX)
        if _names(path, os.fstat(spool.fileno())):
            return spool
        # `clinex doctor --fix` took it for a leftover in the instant before the lock: start again.
        spool.close()


def find_abandoned_chunked(folder: Path, older_than: timedelta = ABANDONED_AFTER, user: str = "*"
                           ) -> list[LeftoverUpload]:
    """Resumable uploads (``<user id>/<upload id>.part``) nobody has added a slice to for
    ``older_than``, oldest first; ``user`` narrows them to one account's. The studio sweeps a
    user's own when they start another; the doctor finds those whose user never came back."""
    cutoff = time.time() - older_than.total_seconds()
    found = []
    for part in folder.glob(f"{user}/*.part"):
        try:
            stat = part.stat()
        except FileNotFoundError:  # finished or discarded while we looked
            continue
        if stat.st_mtime < cutoff:
            found.append((stat.st_mtime, LeftoverUpload(str(part), stat.st_size)))
    return [upload for _mtime, upload in sorted(found)]


def delete_chunked(part: str | Path) -> None:
    """Remove a resumable upload: its slices so far and its description."""
    part = Path(part)
    part.unlink(missing_ok=True)
    part.with_suffix(".json").unlink(missing_ok=True)


def find_leftover_uploads(folder: Path) -> list[LeftoverUpload]:
    """Spools in ``folder`` that no live process holds, oldest first."""
    found = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        with _unheld(path) as stat:
            if stat is not None:
                found.append((stat.st_mtime, LeftoverUpload(str(path), stat.st_size)))
    return [leftover for _mtime, leftover in sorted(found)]


def delete_leftover_upload(path: str | Path) -> bool:
    """Delete the spool if no process holds it; False when one does, or it is gone already."""
    with _unheld(Path(path)) as stat:
        if stat is None or not _names(path, stat):
            return False
        os.unlink(path)  # under the lock, so an open_spool that was about to take it notices
        return True


@contextlib.contextmanager
def _unheld(path: Path):
    """Lock the file if no process holds it and give its stat; None when held or gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield os.fstat(fd)
    finally:
        os.close(fd)


def _names(path: str | Path, stat: os.stat_result) -> bool:
    """Whether ``path`` is still the file ``stat`` describes (not deleted, not replaced)."""
    try:
        return os.path.samestat(os.stat(path), stat)
    except FileNotFoundError:
        return False
