"""Kill a real worker (SIGKILL) in the middle of a job, start another, and check nothing is lost.

On the embedded broker (kombu's SQLAlchemy transport on SQLite) a message is hidden the moment a
worker takes it and only a clean shutdown puts it back: after SIGKILL it is never delivered again,
whatever ``acks_late`` says. What recovers the job is the next worker, by itself: on start it sees
the Job row ``running`` under a worker process that no longer exists, puts it back in the queue and
sends it again; nobody runs ``clinex doctor``. The job resumes: transcription keeps the segments
already saved; publishing stores the same tagged file under the same key and commits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, SAMPLE
from tests.integration.workers import visible_broker_messages, wait_for as _wait_for

pytestmark = [pytest.mark.slow]


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
        self.output = ""

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.output += self.proc.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.output += self.proc.communicate()[0].decode(errors="replace")
        return self.output


def long_lecture(folder):
    """The sample lecture four times over (10 minutes, the same MP3 frames): long enough that a
    step is seen running with progress (written once a second) even on an idle machine, where
    the 2.5-minute sample is prepared in about a second."""
    path = folder / "lecture-x4.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-stream_loop", "3", "-i", str(SAMPLE / "lecture.mp3"), "-c", "copy",
                    str(path)], check=True)
    return path


def _job(ctx, episode_id: int, kind: str):
    from pipeline.models import Job

    with ctx.sessions() as session:
        return session.scalars(select(Job).where(Job.episode_id == episode_id, Job.kind == kind)
                               .order_by(Job.id.desc())).first()


def _assert_transcript_whole(ctx, episode_id: int) -> int:
    from pipeline.models import Episode, TranscriptSegment, Transcript

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
        assert session.scalar(select(func.count(TranscriptSegment.id))) == len(segments)
        return len(segments)


@pytest.mark.parametrize("kind", ["prepare_audio", "transcribe"])
def test_killed_worker_job_is_recovered_without_loss(tmp_path, kind, record_property):
    from pipeline.doctor import diagnose
    from webapp import ops

    instance = make_instance(tmp_path, kind)
    settings, env = instance["settings"], instance["env"]
    ctx = ops.context(settings)
    first = Worker(env)
    second = None
    try:
        row = ops.ingest_file(long_lecture(tmp_path), notes_path=SAMPLE / "lecture.md", settings=settings)

        def mid_job():
            job = _job(ctx, row["id"], kind)
            return job is not None and job.state == "running" and job.progress > 0

        _wait_for(mid_job, 900, f"{kind} to be running with progress", every=0.1)
        first.kill()
        killed_at = time.monotonic()
        stuck = _job(ctx, row["id"], kind)
        assert stuck.state == "running" and stuck.progress < 1.0
        # The message died with the worker: nothing on the broker would ever run the job again.
        assert visible_broker_messages(settings) == (1 if kind == "prepare_audio" else 0)

        second = Worker(env)
        _wait_for(lambda: _reached(ctx, row["id"], second, "in_review"), 900,
                  "the episode to reach review after the restart")
        recovery = time.monotonic() - killed_at
        recovered = _job(ctx, row["id"], kind)
        assert recovered.state == "succeeded" and recovered.attempts == 2
        assert recovered.error is None  # cleared when the second run claimed it
        segments = _assert_transcript_whole(ctx, row["id"])
        report = diagnose(ctx)  # looks only: no fix
        assert report.healthy, report.as_dict()
        assert f"requeued job {stuck.id} ({kind})" in second.stop()
        record_property("recovered_by", "restarting the worker")
        record_property("recovery_seconds", round(recovery, 1))
        record_property("segments", segments)
        record_property("progress_at_kill", round(stuck.progress, 3))
    finally:
        print(ops.list_jobs(settings=settings))
        for worker in (first, second):
            if worker is not None:
                print(worker.stop()[-4000:])


def _reached(ctx, episode_id: int, worker: Worker, status: str) -> bool:
    from webapp import ops

    current = ops.episode_row(ctx, episode_id)
    assert current["status"] != "failed", current["failure_reason"]
    assert worker.proc.poll() is None, "the new worker exited"
    return current["status"] == status


# `clinex approve` runs the publish job in its own process; this one dies the moment the tagged
# file is stored, before the row that points at it is committed.
APPROVE_AND_DIE_AFTER_STORING = """
import os, signal, sys
from pipeline.storage import LocalStorage

put_file = LocalStorage.put_file

def put_then_die(self, key, path, content_type="application/octet-stream"):
    stored = put_file(self, key, path, content_type)
    if key.startswith("published/"):
        os.kill(os.getpid(), signal.SIGKILL)
    return stored

LocalStorage.put_file = put_then_die
from webapp.cli import main
main(["approve", sys.argv[1], "--note", "good to go"])
"""


def make_in_review_episode(ctx) -> tuple[int, str]:
    """An episode ready to publish: real MP3 audio, summary and chapters (no pipeline run)."""
    from pipeline.models import Chapter, Episode, MediaFile, Summary

    with ctx.sessions.begin() as session:
        episode = Episode(title="Picosecond lasers", slug="picosecond-lasers", status="in_review", duration=150.0)
        session.add(episode)
        session.flush()
        key = f"audio/{episode.uuid}/prepared.mp3"
        stored = ctx.storage.put_file(key, SAMPLE / "lecture.mp3", content_type="audio/mpeg")
        session.add_all([
            MediaFile(episode_id=episode.id, kind="audio", storage_key=key, content_type="audio/mpeg",
                      size=stored.size, sha256=stored.sha256, duration=150.0),
            Summary(episode_id=episode.id, version=1, markdown=(SAMPLE / "lecture.md").read_text()),
            Chapter(episode_id=episode.id, start=0.0, title="Introduction"),
            Chapter(episode_id=episode.id, start=60.0, title="Melasma")])
        return episode.id, episode.uuid


def test_publishing_killed_after_storing_is_finished_by_the_next_worker(tmp_path, record_property):
    from pipeline.doctor import diagnose
    from pipeline.models import AuditEvent, Job, MediaFile
    from webapp import ops

    instance = make_instance(tmp_path, "publish")
    settings, env = instance["settings"], instance["env"]
    ctx = ops.context(settings)
    episode_id, uuid = make_in_review_episode(ctx)
    approving = subprocess.run([sys.executable, "-c", APPROVE_AND_DIE_AFTER_STORING, str(episode_id)],
                               cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert approving.returncode == -signal.SIGKILL, approving.stderr.decode()[-2000:]
    killed_at = time.monotonic()
    # The window: the tagged file is stored, no row refers to it, the job is running in a dead process.
    left = list(ctx.storage.keys(f"published/{uuid}/"))
    assert len(left) == 1
    stuck = _job(ctx, episode_id, "publish")
    assert (stuck.state, stuck.attempts) == ("running", 1)
    assert ops.episode_row(ctx, episode_id)["status"] == "in_review"

    worker = Worker(env)
    try:
        _wait_for(lambda: _reached(ctx, episode_id, worker, "published"), 300, "the episode to be published")
        recovery = time.monotonic() - killed_at
        done = _job(ctx, episode_id, "publish")
        assert (done.id, done.state, done.attempts) == (stuck.id, "succeeded", 2)
        with ctx.sessions() as session:
            published = session.scalars(select(MediaFile).where(MediaFile.episode_id == episode_id,
                                                                MediaFile.kind == "published")).all()
            reasons = session.scalars(select(AuditEvent.reason).where(AuditEvent.episode_id == episode_id,
                                                                      AuditEvent.to_state == "published")).all()
            assert session.scalar(select(func.count(Job.id)).where(Job.episode_id == episode_id)) == 1
        # Same content, same key: the re-run stored the file again and committed the row for it.
        assert [m.storage_key for m in published] == left
        assert ctx.storage.get_bytes(left[0])[:3] == b"ID3"
        assert reasons == ["publishing finished after an interruption"]
        report = diagnose(ctx)  # looks only: no orphan, no stale job
        assert report.healthy, report.as_dict()
        assert f"requeued job {stuck.id} (publish)" in worker.stop()
        record_property("recovered_by", "restarting the worker")
        record_property("recovery_seconds", round(recovery, 1))
        record_property("progress_at_kill", 0.0)
    finally:
        print(worker.stop()[-4000:])
