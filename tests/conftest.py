"""Shared fixtures: an app on a temporary instance, and the real services the scale-out tests use.

Under CI=true every service must be there: a missing one fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "pipeline" / "sample"
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("CLINEX_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CLINEX_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def service_missing(what: str) -> None:
    """Fail in CI, skip elsewhere: a scale-out test never silently passes without its service."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not reachable")
    pytest.skip(f"{what} not reachable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings_dict(tmp_path) -> dict:
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": "http://clinex.test",
            "SECRET_KEY": "test-secret", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"}


@pytest.fixture
def settings(settings_dict):
    from pipeline.settings import ensure_instance, load_settings

    return ensure_instance(load_settings(settings_dict))


@pytest.fixture
def migrated(settings):
    from pipeline.migrate import upgrade_database

    upgrade_database(settings.DATABASE_URL)
    return settings


@pytest.fixture
def ctx(migrated):
    from pipeline.jobs import job_context

    return job_context(migrated)


@pytest.fixture
def app(migrated, settings_dict):
    from webapp import create_app

    app = create_app({**settings_dict})
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory):
    """The bundled sample lecture ingested with the real model and approved, once per session."""
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    base = tmp_path_factory.mktemp("published")
    values = {"INSTANCE_PATH": str(base / "instance"), "BASE_URL": "http://clinex.test", "SECRET_KEY": "s",
              "BROKER_URL": f"sqla+sqlite:///{base / 'broker.sqlite'}"}
    settings = ensure_instance(load_settings(values))
    # The lecture alone: tests count its one episode (the notes-only sample has its own test).
    report = ops.initialize(sample=True, echo=lambda _m: None, settings=settings, summary_sample=False)
    return {"settings": settings, "values": values, "episode_id": report.sample_episode,
            "editor_email": report.editor_email, "editor_password": report.editor_password}


@pytest.fixture
def pg_url():
    """A new, empty PostgreSQL database for one test, dropped afterwards (tests never see each
    other's rows)."""
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"clinex_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        service_missing("PostgreSQL at 127.0.0.1:5432")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from pipeline.db import dispose_all

    dispose_all()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except redis.exceptions.ConnectionError:
        service_missing("Redis at 127.0.0.1:6379")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3 server on a loopback port, spoken to over real HTTP."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    import boto3

    name = f"clinex-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def require_module(name: str):
    """Import an optional package the tests need: a failure under CI=true, a skip elsewhere."""
    try:
        return __import__(name)
    except ImportError:
        service_missing(f"the Python package {name!r}")


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a loopback port keeping what it receives; ``stop`` and
    ``start`` take it down and bring it back on the same port."""

    def __init__(self):
        require_module("aiosmtpd.controller")  # a failure under CI=true when it is not installed
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.port = free_port()
        self._controller_class = Controller
        self.running = False

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd's handler hook
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def start(self) -> "SmtpSink":
        self.controller = self._controller_class(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.running = False

    def settings(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TLS": "none"}


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    if sink.running:
        sink.stop()
