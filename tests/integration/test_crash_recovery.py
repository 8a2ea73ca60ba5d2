"""Kill a real worker (SIGKILL) in the middle of a job, start another, and check nothing is lost.

On the embedded broker (kombu's SQLAlchemy transport on SQLite) a message is hidden the moment a
worker takes it and only a clean shutdown puts it back: after SIGKILL it is never delivered again,
whatever ``acks_late`` says. What recovers the job is ``clinex doctor --fix``: it sees the Job row
``running`` under a worker process that no longer exists, puts it back in the queue and sends it
again. The job resumes: transcription keeps the segments already saved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from tests.conftest import ROOT, SAMPLE

pytestmark = [pytest.mark.slow]


def _wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def make_instance(tmp_path, kind: str):
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": "http://clinex.test", "SECRET_KEY": "s"}
    if kind == "transcribe":
        # Unbatched greedy decoding saves segments one by one, so the kill lands between two of them.
        values.update(WHISPER_BATCH_SIZE="0", WHISPER_BEAM_SIZE="1")
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    env = {**os.environ, **{f"CLINEX_{k}": str(v) for k, v in settings.values.items()}}
    return {"settings": settings, "env": env}


class Worker:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--loglevel", "WARNING"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[0].decode(errors="replace")


def _job(ctx, episode_id: int, kind: str):
    from pipeline.models import Job

    with ctx.sessions() as session:
        return session.scalars(select(Job).where(Job.episode_id == episode_id, Job.kind == kind)
                               .order_by(Job.id.desc())).first()


def _visible_broker_messages(settings) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(settings.BROKER_URL.removeprefix("sqla+"))
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT COUNT(*) FROM kombu_message WHERE visible = 1"))
    engine.dispose()
    return count


def _assert_transcript_whole(ctx, episode_id: int) -> int:
    from pipeline.models import Episode, Segment, Transcript

    with ctx.sessions() as session:
        episode = session.get(Episode, episode_id)
        transcripts = session.scalars(select(Transcript).where(Transcript.episode_id == episode_id)).all()
        assert [t.status for t in transcripts] == ["complete"]
        segments = transcripts[0].segments
        assert [s.index for s in segments] == list(range(len(segments)))
        starts = [s.start for s in segments]
        assert starts == sorted(starts), "segments out of order: a resume repeated or skipped audio"
        assert all(b.start >= a.end - 0.5 for a, b in zip(segments, segments[1:])), "overlapping segments"
        assert segments[-1].end > 0.8 * episode.duration, "the end of the recording is missing"
        assert len(episode.media) == 2 and {m.kind for m in episode.media} == {"original", "audio"}
        assert session.scalar(select(func.count(Segment.id))) == len(segments)
        return len(segments)


@pytest.mark.parametrize("kind", ["prepare_audio", "transcribe"])
def test_killed_worker_job_is_recovered_without_loss(tmp_path, kind, record_property):
    from pipeline.doctor import diagnose
    from webapp import ops
    from webapp.cli import main

    instance = make_instance(tmp_path, kind)
    settings, env = instance["settings"], instance["env"]
    ctx = ops.context(settings)
    first = Worker(env)
    second = None
    try:
        row = ops.ingest_file(SAMPLE / "lecture.mp3", notes_path=SAMPLE / "lecture.md", settings=settings)

        def mid_job():
            job = _job(ctx, row["id"], kind)
            return job is not None and job.state == "running" and job.progress > 0

        _wait_for(mid_job, 900, f"{kind} to be running with progress", every=0.1)
        first.kill()
        killed_at = time.monotonic()
        stuck = _job(ctx, row["id"], kind)
        assert stuck.state == "running" and stuck.progress < 1.0
        # The message died with the worker: nothing on the broker would ever run the job again.
        assert _visible_broker_messages(settings) == (1 if kind == "prepare_audio" else 0)

        result = CliRunner(env=env).invoke(main, ["doctor", "--fix"])
        assert result.exit_code == 0, result.output
        assert f"requeued job {stuck.id} ({kind})" in result.output
        second = Worker(env)

        def reached_review():
            current = ops.episode_row(ctx, row["id"])
            assert current["status"] != "failed", current["failure_reason"]
            assert second.proc.poll() is None, "the new worker exited"
            return current["status"] == "in_review"

        _wait_for(reached_review, 900, "the episode to reach review after the restart")
        recovery = time.monotonic() - killed_at
        recovered = _job(ctx, row["id"], kind)
        assert recovered.state == "succeeded" and recovered.attempts == 2
        segments = _assert_transcript_whole(ctx, row["id"])
        report = diagnose(ctx)
        assert report.healthy, report.as_dict()
        record_property("recovered_by", "clinex doctor --fix")
        record_property("recovery_seconds", round(recovery, 1))
        record_property("segments", segments)
        record_property("progress_at_kill", round(stuck.progress, 3))
    finally:
        print(ops.list_jobs(settings=settings))
        for worker in (first, second):
            if worker is not None:
                print(worker.stop()[-4000:])
