"""The broker (a private Redis) goes down under a running `clinex worker` and a recording is ingested
meanwhile: the ingest succeeds with one line saying the queue is unreachable, the jobs wait as
``queued`` Job rows, and once Redis is back the worker's own recovery sends them; each runs once.

The private Redis keeps nothing on disk (``--save "" --appendonly no``), like a broker restarted
after a crash: whatever it held is gone, so only the database can bring the jobs back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import FIXTURES, ROOT, free_port
from tests.integration.workers import Worker, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

RECORDING = FIXTURES / "audio" / "good" / "speech.mp3"
# Above the 30 s heartbeat, so a running job is never taken for stale; workers then check every 13 s.
STALE_JOB_SECONDS = 40


class PrivateRedis:
    """A redis-server of this test's own on a loopback port, stopped and started again on that port."""

    def __init__(self, workdir: Path):
        self.port, self.workdir, self.proc = free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 10, f"redis-server on port {self.port}", every=0.1)

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def private_redis(tmp_path):
    broker = PrivateRedis(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def test_jobs_queued_while_the_broker_is_down_run_once_when_it_is_back(tmp_path, pg_url, private_redis):
    from pipeline.models import Job
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": pg_url, "BROKER_URL": private_redis.url,
              "BASE_URL": "http://clinex.test", "SECRET_KEY": "s", "STALE_JOB_SECONDS": str(STALE_JOB_SECONDS)}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    ctx = ops.context(settings)
    env = {**os.environ, **{f"CLINEX_{k}": v for k, v in values.items()}}
    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        private_redis.stop()

        ingest = subprocess.run([sys.executable, "-m", "webapp", "ingest", str(RECORDING), "--title", "Broker outage"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert ingest.returncode == 0, ingest.stderr
        assert "is processing" in ingest.stdout
        assert "Traceback" not in ingest.stderr
        assert "The job queue cannot be reached" in ingest.stderr and "stay queued" in ingest.stderr
        [row] = ops.list_episodes(settings=settings)
        with ctx.sessions() as session:
            waiting = session.scalars(select(Job).where(Job.episode_id == row["id"])).all()
            assert {(j.kind, j.state, j.attempts) for j in waiting} == {("prepare_audio", "queued", 0),
                                                                      ("transcribe", "queued", 0)}

        private_redis.start()

        def in_review() -> bool:
            current = ops.episode_row(ctx, row["id"])
            assert current["status"] != "failed", current["failure_reason"]
            assert worker.proc.poll() is None, f"the worker exited:\n{worker.output()[-3000:]}"
            return current["status"] == "in_review"

        wait_for(in_review, 150, "the episode to reach review once the broker is back", every=1)
        with ctx.sessions() as session:
            jobs = session.scalars(select(Job).where(Job.episode_id == row["id"])).all()
            assert sorted((j.kind, j.state, j.attempts) for j in jobs) == [
                ("analyze", "succeeded", 1), ("prepare_audio", "succeeded", 1), ("spoken_extras", "succeeded", 1),
                ("transcribe", "succeeded", 1)]
            assert all(j.worker.endswith(worker.name_suffix) for j in jobs)
        log = worker.stop()
        for job in waiting:
            assert f"sent job {job.id} ({job.kind}) again" in log
    finally:
        print(worker.stop()[-4000:])


def test_recovery_sends_a_long_queued_job_again_once_per_wait(ctx):
    from datetime import timedelta

    from pipeline.jobs import recover_jobs
    from pipeline.models import Episode, Job, utcnow

    old = utcnow() - timedelta(minutes=20)
    with ctx.sessions.begin() as session:
        waiting = Episode(title="Waiting", slug="waiting", status="processing")
        reviewed = Episode(title="Reviewed", slug="reviewed", status="in_review")
        session.add_all([waiting, reviewed])
        session.flush()
        jobs = [Job(episode_id=waiting.id, kind="prepare_audio", created_at=old),
                Job(episode_id=waiting.id, kind="transcribe", created_at=old, heartbeat_at=old),
                Job(episode_id=waiting.id, kind="analyze"),  # queued just now: its message is on its way
                Job(episode_id=reviewed.id, kind="transcribe", created_at=old)]  # nothing left to do
        session.add_all(jobs)
        session.flush()
        ids = [j.id for j in jobs]

    report = recover_jobs(ctx, timedelta(minutes=10))
    assert sorted(report.dispatch) == ids[:2]
    assert f"sent job {ids[0]} (prepare_audio) again: not picked up for 10 min" in report.actions
    assert recover_jobs(ctx, timedelta(minutes=10)).dispatch == []
    with ctx.sessions() as session:
        assert {session.get(Job, i).state for i in ids} == {"queued"}
