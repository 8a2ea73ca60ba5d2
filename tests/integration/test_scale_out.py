"""The scale-out path: PostgreSQL + Redis + S3 (moto server over HTTP) + a real `clinex worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, SAMPLE

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def test_sample_reaches_review_through_celery_on_postgres_redis_s3(tmp_path, pg_url, redis_url, s3_server, s3_bucket):
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.storage import storage_from_settings
    from webapp import ops

    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": pg_url, "BROKER_URL": redis_url,
              "STORAGE_URL": f"s3://{s3_bucket}/media", "S3_ENDPOINT_URL": s3_server,
              "S3_ADDRESSING_STYLE": "path", "BASE_URL": "http://clinex.test", "SECRET_KEY": "s"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    env = {**os.environ, **{f"CLINEX_{k}": str(v) for k, v in values.items()}}
    worker = subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--loglevel", "WARNING"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        row = ops.ingest_file(SAMPLE / "lecture.mp3", notes_path=SAMPLE / "lecture.md", settings=settings)
        assert row["status"] == "processing"

        def reached_review():
            current = ops.episode_row(ops.context(settings), row["id"])
            assert current["status"] != "failed", current["failure_reason"]
            return current["status"] == "in_review"

        _wait_for(reached_review, 300, "the episode to reach review")
        jobs = {j["kind"]: j for j in ops.list_jobs(settings=settings) if j["episode_id"] == row["id"]}
        assert {k: j["state"] for k, j in jobs.items()} == {
            "prepare_audio": "succeeded", "transcribe": "succeeded", "analyze": "succeeded", "spoken_extras": "succeeded"}
        assert all(j["attempts"] == 1 for j in jobs.values())

        ctx = ops.context(settings)
        with ctx.sessions() as session:
            from pipeline.models import Episode

            episode = session.get(Episode, row["id"])
            transcript = episode.transcript
            assert transcript is not None and len(transcript.segments) > 5
            assert "melasma" in transcript.text.lower()
            assert episode.media_of("audio").loudness_lufs == pytest.approx(-16.0, abs=1.0)
            keys = set(storage_from_settings(settings).keys(f"transcripts/{episode.uuid}/"))
            assert {k.rsplit(".", 1)[1] for k in keys} == {"vtt", "srt", "json", "txt"}
            assert storage_from_settings(settings).exists(episode.media_of("audio").storage_key)
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
        if "Traceback" in output:
            print(output[-4000:])
