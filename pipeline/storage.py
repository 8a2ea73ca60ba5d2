"""Media storage: one interface, a local-disk and an S3 implementation.

Keys are relative POSIX paths built by our code (``originals/<uuid>/<name>``); anything that
could escape the store (``..``, absolute paths, backslashes, control characters) is refused.
Third-party errors are translated here: a missing object is ``FileNotFoundError``, any other
failure ``StorageError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import urlparse

from .errors import ConfigError, StorageError

CHUNK = 1024 * 1024
_KEY_PART = re.compile(r"^[A-Za-z0-9._-]+$")


def safe_filename(name: str, max_length: int = 100) -> str:
    """A harmless file name from an untrusted one: ASCII letters, digits, ``.-_``, no leading dot."""
    base = Path(str(name).replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("."):
        stem, ext = base, ""

    def clean(part: str) -> str:
        part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip(".-_")

    stem, ext = clean(stem), clean(ext)[:10]
    stem = stem[: max_length - len(ext) - 1].strip(".-_") or "file"
    return f"{stem}.{ext}" if ext else stem


def check_key(key: str) -> str:
    """Return ``key`` if every part is a plain name; raise StorageError otherwise."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") or not _KEY_PART.match(p) for p in parts):
        raise StorageError(f"Refusing unsafe storage key {key!r}.")
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def _hash_file(fh: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file on disk, read in chunks."""
    with open(path, "rb") as fh:
        return _hash_file(fh)[1]


@contextlib.contextmanager
def local_copy(storage: "Storage", key: str) -> Iterator[Path]:
    """A path to the stored object: the file itself on local storage, a temporary copy otherwise."""
    path = storage.local_path(key)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="clinex-") as tmp:
        yield storage.fetch_to(key, Path(tmp) / Path(key).name)


class Storage(ABC):
    """What every media store can do. Methods raise FileNotFoundError or StorageError."""

    @abstractmethod
    def put_file(self, key: str, path: str | os.PathLike, content_type: str = "application/octet-stream") -> StoredObject:
        """Copy a local file to ``key`` atomically (readers never see half an object)."""

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredObject:
        """Store everything read from ``stream`` (spooled through a temporary file, never whole in memory)."""
        with tempfile.NamedTemporaryFile(prefix="clinex-put-") as tmp:
            shutil.copyfileobj(stream, tmp, CHUNK)
            tmp.flush()
            return self.put_file(key, tmp.name, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        import io

        return self.put_stream(key, io.BytesIO(data), content_type)

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary file object for the whole object."""

    @abstractmethod
    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive, in chunks."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``, for audits and backups."""

    def url(self, key: str) -> str | None:
        """A URL clients may fetch directly (presigned for S3), or None when the app must serve it."""
        return None

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def fetch_to(self, key: str, path: str | os.PathLike) -> Path:
        """Copy an object to a local file (for ffmpeg and Whisper, which want paths)."""
        path = Path(path)
        with self.open(key) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        return path

    def unfinished_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """Multipart uploads left unfinished; only object stores have them."""
        return iter(())

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Discard an unfinished upload's parts (nothing to do where there are none)."""

    def local_path(self, key: str) -> Path | None:
        """The object's path on this machine when it has one (local storage), else None."""
        return None


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key, path, content_type="application/octet-stream"):
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                digest, size = hashlib.sha256(), 0
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(f"Could not write {key}: {exc.strerror or exc}.") from exc
        return StoredObject(key, size, digest.hexdigest())

    def open(self, key):
        return open(self._path(key), "rb")

    def open_range(self, key, start, end):
        with open(self._path(key), "rb") as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0 and (chunk := fh.read(min(CHUNK, remaining))):
                remaining -= len(chunk)
                yield chunk

    def size(self, key):
        return self._path(key).stat().st_size

    def exists(self, key):
        return self._path(key).is_file()

    def delete(self, key):
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == self.root or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()

    def keys(self, prefix=""):
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".part-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def local_path(self, key):
        return self._path(key)


class S3Storage(Storage):
    """Objects in an S3 bucket (or any S3-compatible store) under an optional prefix."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str = "us-east-1", addressing_style: str = "auto", presign_seconds: int = 3600):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.presign_seconds = presign_seconds
        config = Config(s3={"addressing_style": addressing_style}, retries={"max_attempts": 5, "mode": "standard"},
                        connect_timeout=10, read_timeout=60, signature_version="s3v4")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region, config=config)
        self.transfer = TransferConfig(multipart_threshold=16 * CHUNK, multipart_chunksize=16 * CHUNK)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, key: str, fn, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(key) from None
            raise StorageError(f"The media store refused to {what} {key} ({code or exc}).") from exc
        except BotoCoreError as exc:
            raise StorageError(f"The media store could not {what} {key}: {exc}.") from exc

    def put_file(self, key, path, content_type="application/octet-stream"):
        with open(path, "rb") as fh:
            size, sha = _hash_file(fh)
        # upload_file uses multipart above the threshold; an object appears only when complete.
        self._call("store", key, self.client.upload_file, str(path), self.bucket, self._key(key),
                   ExtraArgs={"ContentType": content_type, "Metadata": {"sha256": sha}}, Config=self.transfer)
        return StoredObject(key, size, sha)

    def open(self, key):
        body = self._call("read", key, self.client.get_object, Bucket=self.bucket, Key=self._key(key))["Body"]
        return body

    def open_range(self, key, start, end):
        resp = self._call("read", key, self.client.get_object, Bucket=self.bucket, Key=self._key(key),
                          Range=f"bytes={start}-{end}")
        yield from resp["Body"].iter_chunks(CHUNK)

    def size(self, key):
        return self._call("inspect", key, self.client.head_object, Bucket=self.bucket, Key=self._key(key))["ContentLength"]

    def exists(self, key):
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key):
        self._call("delete", key, self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix=""):
        full = self._key(prefix.rstrip("/")) if prefix else (self.prefix + "/" if self.prefix else "")
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("list", prefix or "/", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=full)))
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"][strip:]

    def unfinished_uploads(self):
        """(key, upload id, started) of multipart uploads begun under the prefix and never completed
        or aborted: readers never see them, but the store keeps (and bills) their parts."""
        full = self.prefix + "/" if self.prefix else ""
        paginator = self.client.get_paginator("list_multipart_uploads")
        pages = self._call("list", "unfinished uploads", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=full)))
        for page in pages:
            for upload in page.get("Uploads", []):
                yield upload["Key"][len(full):], upload["UploadId"], upload["Initiated"]

    def abort_upload(self, key: str, upload_id: str) -> None:
        self._call("abort the upload of", key, self.client.abort_multipart_upload, Bucket=self.bucket,
                   Key=self._key(key), UploadId=upload_id)

    def url(self, key):
        return self._call("sign", key, self.client.generate_presigned_url, "get_object",
                          Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=self.presign_seconds)


def storage_from_settings(settings) -> Storage:
    """Pick the backend from ``STORAGE_URL`` (``file:///path`` or ``s3://bucket/prefix``)."""
    url = urlparse(settings.STORAGE_URL)
    if url.scheme in ("", "file"):
        return LocalStorage(url.path or settings.STORAGE_URL)
    if url.scheme == "s3":
        if not url.netloc:
            raise ConfigError("CLINEX_STORAGE_URL must name a bucket: s3://bucket/prefix.")
        return S3Storage(url.netloc, url.path, endpoint_url=settings.S3_ENDPOINT_URL or None,
                         region=settings.S3_REGION, addressing_style=settings.S3_ADDRESSING_STYLE,
                         presign_seconds=settings.S3_PRESIGN_SECONDS)
    raise ConfigError(f"Unsupported CLINEX_STORAGE_URL scheme {url.scheme!r}; use file:// or s3://.")
