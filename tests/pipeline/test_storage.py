"""One contract suite for every storage backend: local disk and S3 over real HTTP (moto server)."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request

import pytest

from pipeline.errors import StorageError
from pipeline.storage import LocalStorage, S3Storage, check_key, safe_filename, storage_from_settings


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    endpoint = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket, "clinex/media", endpoint_url=endpoint, addressing_style="path")


def test_put_file_reports_size_and_hash(storage, tmp_path):
    data = os.urandom(300_000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    stored = storage.put_file("audio/abc/x.mp3", src, content_type="audio/mpeg")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.size("audio/abc/x.mp3") == len(data)
    assert storage.get_bytes("audio/abc/x.mp3") == data


def test_put_stream_and_byte_ranges(storage):
    data = bytes(range(256)) * 40
    storage.put_stream("transcripts/e/1.vtt", io.BytesIO(data))
    assert b"".join(storage.open_range("transcripts/e/1.vtt", 0, 1)) == data[:2]
    assert b"".join(storage.open_range("transcripts/e/1.vtt", 1000, 2047)) == data[1000:2048]
    assert b"".join(storage.open_range("transcripts/e/1.vtt", len(data) - 5, len(data) - 1)) == data[-5:]


def test_large_file_goes_through_multipart(storage, tmp_path):
    src = tmp_path / "big.bin"
    with open(src, "wb") as fh:
        for _ in range(20):
            fh.write(os.urandom(1024 * 1024))
    stored = storage.put_file("originals/u/big.wav", src)
    assert stored.size == 20 * 1024 * 1024
    assert storage.size("originals/u/big.wav") == stored.size
    with storage.open("originals/u/big.wav") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == stored.sha256


def test_exists_delete_and_keys(storage):
    storage.put_bytes("a/one.txt", b"1")
    storage.put_bytes("a/two.txt", b"2")
    storage.put_bytes("b/three.txt", b"3")
    assert storage.exists("a/one.txt")
    assert sorted(storage.keys("a/")) == ["a/one.txt", "a/two.txt"]
    storage.delete("a/one.txt")
    storage.delete("a/one.txt")  # deleting twice is fine
    storage.delete("never/stored/x.mp3")  # so is a key whose folder never existed (a failed ingest's cleanup)
    assert not storage.exists("a/one.txt")
    assert sorted(storage.keys()) == ["a/two.txt", "b/three.txt"]


def test_missing_object_is_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.size("nope/missing.mp3")
    with pytest.raises(FileNotFoundError):
        storage.get_bytes("nope/missing.mp3")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../b", "a//b", "a/b\\c", "", "a/ b", "ü/x"])
def test_unsafe_keys_are_refused(storage, key):
    with pytest.raises(StorageError):
        storage.put_bytes(key, b"x")


def test_s3_presigned_url_is_fetchable_over_http(s3_server, s3_bucket):
    storage = S3Storage(s3_bucket, "p", endpoint_url=s3_server, addressing_style="path")
    storage.put_bytes("published/u/a.mp3", b"0123456789", content_type="audio/mpeg")
    request = urllib.request.Request(storage.url("published/u/a.mp3"), headers={"Range": "bytes=0-1"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == "bytes 0-1/10"
        assert response.read() == b"01"


def test_local_url_is_none_and_path_is_inside_root(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put_bytes("x/y.bin", b"1")
    assert storage.url("x/y.bin") is None
    assert storage.local_path("x/y.bin").is_relative_to(tmp_path)


def test_storage_from_settings_picks_backend(settings, s3_server, s3_bucket):
    assert isinstance(storage_from_settings(settings), LocalStorage)
    s3 = storage_from_settings(settings.replace(STORAGE_URL=f"s3://{s3_bucket}/media", S3_ENDPOINT_URL=s3_server,
                                                S3_ADDRESSING_STYLE="path"))
    assert isinstance(s3, S3Storage) and s3.prefix == "media"


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.mp3", "passwd.mp3"),
    ("Conférence – Lisbon.MP3", "Conference-Lisbon.MP3"),
    (".hidden", "hidden"),
    ("a" * 300 + ".wav", "a" * 96 + ".wav"),
    ("录音.m4a", "file.m4a"),
    ("C:\\Users\\me\\talk.flac", "talk.flac"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected
    check_key(f"originals/u/{safe_filename(name)}")
