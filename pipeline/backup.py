"""Backups that move between machines and databases (``clinex backup`` / ``clinex restore``).

A backup is a folder::

    manifest.json          format, schema revision, row counts, and every object's key, size, sha256
    database/<table>.jsonl one JSON object per row, in primary-key order
    storage/<key>          a copy of every stored object

JSON (not a SQL dump) is what makes a SQLite backup restorable into PostgreSQL and back. Tables
are written and read in SQLAlchemy's dependency order, so foreign keys hold while restoring.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Date, DateTime, Integer, LargeBinary, func, insert, select, text
from sqlalchemy.engine import Connection

from . import schema  # noqa: F401  (registers every table on Base.metadata)
from .db import Base
from .errors import ClinexError
from .jobs import JobContext
from .migrate import current_revision, upgrade_database
from .storage import CHUNK, check_key

FORMAT = "clinex-backup/1"
BATCH = 500


class BackupError(ClinexError):
    """A backup cannot be written or restored; the message says why and what to do."""


@dataclass
class BackupReport:
    path: str
    revision: str | None
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    bytes: int = 0


def tables():
    """Every table, parents before children (the order rows must be inserted in)."""
    return Base.metadata.sorted_tables


# --- backup -------------------------------------------------------------------------------------

def backup(ctx: JobContext, dest: str | Path) -> BackupReport:
    """Write the database and every stored object to the folder ``dest`` (new or empty).

    Raises BackupError when ``dest`` holds something already, StorageError when an object
    cannot be read. The database is read in one transaction, so the dump is consistent.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; back up into a new folder.")
    (dest / "database").mkdir(parents=True, exist_ok=True)
    report = BackupReport(str(dest), current_revision(ctx.settings.DATABASE_URL))
    engine = ctx.sessions.kw["bind"]
    with engine.connect() as conn, conn.begin():
        for table in tables():
            report.rows[table.name] = _dump_table(conn, table, dest / "database" / f"{table.name}.jsonl")
    objects = [_copy_object(ctx.storage, key, dest / "storage") for key in ctx.storage.keys()]
    report.objects, report.bytes = len(objects), sum(o["size"] for o in objects)
    manifest = {"format": FORMAT, "revision": report.revision, "rows": report.rows, "objects": objects}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return report


def _dump_table(conn: Connection, table, path: Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings():
            out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
            count += 1
    return count


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _copy_object(storage, key: str, root: Path) -> dict:
    target = root / check_key(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with storage.open(key) as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"key": key, "size": size, "sha256": digest.hexdigest()}


# --- restore ------------------------------------------------------------------------------------

def restore(ctx: JobContext, src: str | Path) -> BackupReport:
    """Load a backup into this instance's (migrated, empty) database and store its objects.

    Every object's hash is checked before anything is written. Raises BackupError when the
    folder is not a backup, an object is missing or damaged, the schema revision differs, or the
    database already holds rows (restoring never merges).
    """
    src = Path(src)
    manifest = read_manifest(src)
    verify_objects(src, manifest["objects"])
    upgrade_database(ctx.settings.DATABASE_URL)
    revision = current_revision(ctx.settings.DATABASE_URL)
    if revision != manifest["revision"]:
        raise BackupError(f"The backup is of schema {manifest['revision']} but this database is at {revision}; "
                          "restore with the version of Clinical Exchange that made it.")
    engine = ctx.sessions.kw["bind"]
    with engine.begin() as conn:
        _refuse_non_empty(conn)
        rows = {table.name: _load_table(conn, table, src / "database" / f"{table.name}.jsonl") for table in tables()}
        if conn.dialect.name == "postgresql":
            _fix_sequences(conn)
    types = _content_types(src)
    for obj in manifest["objects"]:
        _put_checked(ctx.storage, src / "storage" / obj["key"], obj, types)
    total = sum(o["size"] for o in manifest["objects"])
    return BackupReport(str(src), revision, rows, len(manifest["objects"]), total)


def read_manifest(src: Path) -> dict:
    """The backup's manifest; raises BackupError when there is none or it is of another format."""
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} is not a Clinical Exchange backup (no manifest.json).") from None
    except json.JSONDecodeError:
        raise BackupError(f"The manifest in {src} is damaged (not JSON).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src} is a backup of format {manifest.get('format')!r}; this version reads {FORMAT}.")
    return manifest


def verify_objects(src: Path, objects: list[dict]) -> None:
    """Raise BackupError naming the first object that is missing or whose size or hash differs."""
    for obj in objects:
        path = src / "storage" / check_key(obj["key"])
        if not path.is_file():
            raise BackupError(f"The backup is missing the stored object {obj['key']}.")
        if path.stat().st_size != obj["size"] or _sha256(path) != obj["sha256"]:
            raise BackupError(f"The backup copy of {obj['key']} is damaged (its hash does not match the manifest).")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_non_empty(conn: Connection) -> None:
    busy = [t.name for t in tables() if conn.scalar(select(func.count()).select_from(t))]
    if busy:
        raise BackupError(f"The database already holds data (in {', '.join(busy[:3])}); "
                          "restore into a new, empty database.")


def _load_table(conn: Connection, table, path: Path) -> int:
    count = 0
    for batch in _batches(_read_rows(table, path)):
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _read_rows(table, path: Path) -> Iterator[dict]:
    if not path.is_file():  # a table added after the backup was made starts empty
        return
    decoders = {c.name: _decoder(c.type) for c in table.columns}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            yield {k: decoders[k](v) if v is not None and k in decoders else v for k, v in row.items()}


def _decoder(column_type):
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat
    if isinstance(column_type, Date):
        return date.fromisoformat
    if isinstance(column_type, LargeBinary):
        return base64.b64decode
    return lambda v: v


def _batches(rows: Iterator[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _fix_sequences(conn: Connection) -> None:
    """Rows came in with their ids, so PostgreSQL's sequences must skip past them."""
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name})
        if seq:
            conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'),
                         {"s": seq})


def _content_types(src: Path) -> dict[str, str]:
    """Content types by key from the media rows (S3 serves objects with the type they were stored with)."""
    path = src / "database" / "media_files.jsonl"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as fh:
        return {row["storage_key"]: row["content_type"] for row in map(json.loads, fh)}


def _put_checked(storage, path: Path, obj: dict, types: dict[str, str]) -> None:
    kind = types.get(obj["key"]) or mimetypes.guess_type(obj["key"])[0] or "application/octet-stream"
    stored = storage.put_file(obj["key"], path, content_type=kind)
    if stored.sha256 != obj["sha256"]:
        raise BackupError(f"{obj['key']} changed while being restored; run the restore again.")


__all__ = ["BackupError", "BackupReport", "backup", "restore", "read_manifest", "verify_objects"]
