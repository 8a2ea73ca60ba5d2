"""The S3 store goes away: in the middle of a multipart upload, and before an ingest.

The server is moto's S3 app on a loopback port, stopped the way a real server stops: the listening
socket is closed and every open connection reset. Its objects live in this process, so after a
restart on the same port the test can look at what the interrupted upload left in the bucket.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import FIXTURES, ROOT, free_port

pytestmark = [pytest.mark.services]

RECORDING = FIXTURES / "audio" / "good" / "speech.mp3"
LARGE = 40 * 1024 * 1024  # above the 16 MB multipart threshold: three parts


class StoppableS3:
    """moto's S3 over HTTP on a fixed loopback port that can be stopped and started again.

    With ``hold_parts`` set, UploadPart requests wait (``part_arrived`` tells the test one is in
    flight) until the server is stopped, so the stop lands inside the multipart upload."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = self.thread = None
        self.connections: set[socket.socket] = set()
        self.hold_parts = False
        self.part_arrived, self.released = threading.Event(), threading.Event()

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        open_connections = self.connections

        class Handler(MotoRequestHandler):
            def setup(self):
                super().setup()
                open_connections.add(self.connection)

            def finish(self):
                open_connections.discard(self.connection)
                super().finish()

        self.part_arrived.clear()
        self.released.clear()
        app = self._holding(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _holding(self, app):
        def wsgi(environ, start_response):
            if self.hold_parts and "partNumber=" in environ.get("QUERY_STRING", ""):
                self.part_arrived.set()
                self.released.wait(60)
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            return app(environ, start_response)

        return wsgi

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.released.set()
        self.thread.join(10)
        self.server = None


@pytest.fixture
def s3(monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = StoppableS3()
    server.start()
    server.bucket = f"clinex-{uuid.uuid4().hex[:8]}"
    server.client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1")
    server.client.create_bucket(Bucket=server.bucket)
    yield server
    server.stop()


def _storage(s3):
    from pipeline.storage import S3Storage

    return S3Storage(s3.bucket, "media", endpoint_url=s3.url, addressing_style="path")


def _assert_one_clear_sentence(message: str, verb: str, key: str) -> None:
    assert message.startswith(f"The media store could not {verb} {key}"), message
    assert "\n" not in message and "Traceback" not in message and "botocore" not in message, message


def test_a_multipart_upload_cut_by_a_server_stop_leaves_no_object_and_succeeds_on_retry(s3, tmp_path):
    from pipeline.errors import StorageError

    large = tmp_path / "lecture.wav"
    large.write_bytes(os.urandom(LARGE))
    sha = hashlib.sha256(large.read_bytes()).hexdigest()
    key = "originals/interrupted/lecture.wav"
    storage = _storage(s3)
    s3.hold_parts = True
    outcome: dict = {}

    def upload() -> None:
        try:
            outcome["stored"] = storage.put_file(key, large, content_type="audio/wav")
        except Exception as exc:  # the assertion below says what it was
            outcome["error"] = exc

    uploading = threading.Thread(target=upload)
    uploading.start()
    assert s3.part_arrived.wait(60), "no part of the multipart upload reached the server"
    s3.stop()
    uploading.join(120)
    assert not uploading.is_alive(), "put_file is still trying after two minutes"
    error = outcome.get("error")
    assert isinstance(error, StorageError), outcome
    _assert_one_clear_sentence(str(error), "store", key)

    s3.hold_parts = False
    s3.start()
    assert not storage.exists(key)
    assert list(storage.keys("originals/")) == []
    # The upload had begun: the store holds its unfinished parts, which no reader ever sees.
    pending = storage.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert [u["Key"] for u in pending] == [f"media/{key}"]

    stored = storage.put_file(key, large, content_type="audio/wav")
    assert (stored.size, stored.sha256) == (LARGE, sha)
    assert storage.size(key) == LARGE
    digest = hashlib.sha256()
    for chunk in storage.open_range(key, 0, LARGE - 1):
        digest.update(chunk)
    assert digest.hexdigest() == sha


def test_ingest_while_the_store_is_down_leaves_no_rows_and_says_so_in_one_sentence(s3, tmp_path):
    from pipeline.models import AuditEvent, Episode, Event, Job, MediaFile, Person, Tag
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "STORAGE_URL": f"s3://{s3.bucket}/media",
              "S3_ENDPOINT_URL": s3.url, "S3_ADDRESSING_STYLE": "path", "BASE_URL": "http://clinex.test",
              "SECRET_KEY": "s"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    env = {**os.environ, **{f"CLINEX_{k}": v for k, v in values.items()}}
    s3.stop()

    ingest = subprocess.run([sys.executable, "-m", "webapp", "ingest", str(RECORDING), "--title", "Store outage",
                             "--event", "Aesthetic Forum", "--speaker", "Dr. Outage", "--tag", "Lasers"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert ingest.returncode == 1, ingest.stdout + ingest.stderr
    lines = ingest.stderr.strip().splitlines()
    assert len(lines) == 1, ingest.stderr
    assert lines[0].startswith("Error: "), ingest.stderr
    _assert_one_clear_sentence(lines[0].removeprefix("Error: "), "store", "originals/")

    ctx = ops.context(settings)
    with ctx.sessions() as session:
        for model in (Episode, MediaFile, Job, Event, Person, Tag, AuditEvent):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    s3.start()
    assert list(ctx.storage.keys("")) == []
