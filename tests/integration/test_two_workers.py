"""Two `clinex worker` processes on PostgreSQL + Redis + S3 (moto over HTTP) share four uploads: every
episode reaches review, every job runs once, both workers take part, and nothing is left orphaned
in the store."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import select

from tests.conftest import FIXTURES, REDIS_URL, service_missing
from tests.integration.workers import Worker, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

RECORDING = FIXTURES / "audio" / "good" / "speech.mp3"
BITRATES = ("32k", "48k", "64k", "96k")  # four different files, so none is refused as a duplicate


@pytest.fixture
def redis_db5():
    """Database 5 of the shared Redis, emptied before and after (and nothing else touched)."""
    import redis

    url = REDIS_URL.rsplit("/", 1)[0] + "/5"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        service_missing(f"Redis at {url}")
    client.flushdb()
    yield url
    client.flushdb()


def transcode(tmp_path, bitrate: str):
    out = tmp_path / f"speech-{bitrate}.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(RECORDING), "-ac", "1", "-b:a", bitrate,
                    str(out)], check=True, timeout=60)
    return out


def test_two_workers_share_four_uploads_and_run_each_job_once(tmp_path, pg_url, redis_db5, s3_server, s3_bucket):
    from pipeline.doctor import diagnose
    from pipeline.models import Job
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    recordings = [transcode(tmp_path, rate) for rate in BITRATES]
    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": pg_url, "BROKER_URL": redis_db5,
              "STORAGE_URL": f"s3://{s3_bucket}/media", "S3_ENDPOINT_URL": s3_server,
              "S3_ADDRESSING_STYLE": "path", "BASE_URL": "http://clinex.test", "SECRET_KEY": "s"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    ctx = ops.context(settings)
    env = {**os.environ, **{f"CLINEX_{k}": v for k, v in values.items()}}
    workers = [Worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        for worker in workers:
            worker.wait_ready()
        rows = [ops.ingest_file(path, title=f"Speech at {path.stem}", settings=settings) for path in recordings]
        assert [r["status"] for r in rows] == ["processing"] * 4

        def all_in_review() -> bool:
            current = [ops.episode_row(ctx, r["id"]) for r in rows]
            assert not [c for c in current if c["status"] == "failed"], current
            assert all(w.proc.poll() is None for w in workers), "a worker exited"
            return all(c["status"] == "in_review" for c in current)

        wait_for(all_in_review, 240, "the four episodes to reach review", every=1)
        with ctx.sessions() as session:
            jobs = session.scalars(select(Job)).all()
            assert len(jobs) == 16  # four steps for each of the four uploads
            assert {(j.kind, j.state, j.attempts) for j in jobs} == {
                ("prepare_audio", "succeeded", 1), ("transcribe", "succeeded", 1), ("analyze", "succeeded", 1),
                ("spoken_extras", "succeeded", 1)}
            ran_on = {j.worker.rsplit(":", 1)[1] for j in jobs}
        assert ran_on == {str(w.proc.pid) for w in workers}
        report = diagnose(ctx)  # looks only: no fix
        assert report.orphans == [] and report.missing_media == [], report.as_dict()
        assert report.healthy, report.as_dict()
    finally:
        for worker in workers:
            output = worker.stop()
            if "Traceback" in output:
                print(output[-4000:])
