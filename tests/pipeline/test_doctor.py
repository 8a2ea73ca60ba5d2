"""`clinex doctor`: orphans, missing media, stale jobs and stuck episodes, found and fixed, on real
storage (local disk and S3 over HTTP via the moto server) and a real SQLite database."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.pipeline.conftest import copy_template
from pipeline.models import Episode, EpisodeStatus, Job, MediaFile, Transcript, utcnow

NOW = timedelta(0)


@pytest.fixture(params=["local", "s3"])
def dctx(request, settings_dict, template_db):
    """A job context on a migrated SQLite database, with local or S3 storage."""
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.jobs import job_context

    values = dict(settings_dict)
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        values.update(STORAGE_URL=f"s3://{request.getfixturevalue('s3_bucket')}/media", S3_ENDPOINT_URL=server,
                      S3_ADDRESSING_STYLE="path")
    settings = ensure_instance(load_settings(values))
    copy_template(template_db, settings.instance_path)
    return job_context(settings)


def make_episode(ctx, status="in_review", **job_states) -> Episode:
    """An episode whose original, audio and one transcript are stored and referenced."""
    with ctx.sessions.begin() as session:
        ep = Episode(title="Fillers", slug=f"fillers-{os.urandom(3).hex()}", status=status)
        session.add(ep)
        session.flush()
        for kind in ("original", "audio"):
            key = f"{'originals' if kind == 'original' else 'audio'}/{ep.uuid}/{kind}.mp3"
            stored = ctx.storage.put_bytes(key, f"{kind} bytes".encode())
            session.add(MediaFile(episode_id=ep.id, kind=kind, storage_key=key, content_type="audio/mpeg",
                                  size=stored.size, sha256=stored.sha256))
        transcript = Transcript(episode_id=ep.id, engine="e", model="m", status="complete")
        session.add(transcript)
        session.flush()
        for ext in ("vtt", "srt", "json", "txt"):
            ctx.storage.put_bytes(f"transcripts/{ep.uuid}/{transcript.id}.{ext}", b"WEBVTT")
        for kind, state in job_states.items():
            session.add(Job(episode_id=ep.id, kind=kind, state=state, attempts=1))
    return ep


def test_a_consistent_instance_is_healthy(dctx):
    from pipeline.doctor import diagnose

    make_episode(dctx)
    dctx.storage.put_bytes("site/cover.jpg", b"jpeg")
    report = diagnose(dctx)
    assert report.healthy, report.as_dict()


def test_orphans_are_found_and_deleted_but_referenced_files_stay(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx)
    dctx.storage.put_bytes("site/cover.jpg", b"jpeg")
    strays = {f"originals/{ep.uuid}/old-upload.mp3": "no row refers to this file",
              "audio/2b1c0000-0000-4000-8000-000000000000/x.mp3": "no episode has this uuid",
              "published/2b1c0000-0000-4000-8000-000000000000/y.mp3": "no episode has this uuid",
              f"transcripts/{ep.uuid}/999.vtt": "no row refers to this file"}
    for key in strays:
        dctx.storage.put_bytes(key, b"stray")
    before = set(dctx.storage.keys())

    found = diagnose(dctx)
    assert {o.key: o.reason for o in found.orphans} == strays
    assert set(dctx.storage.keys()) == before  # looking changes nothing

    fixed = diagnose(dctx, fix=True, grace=NOW)
    assert sorted(a for a in fixed.actions if a.startswith("deleted")) == sorted(
        f"deleted orphan {k} ({r})" for k, r in strays.items())
    assert set(dctx.storage.keys()) == before - set(strays)
    assert "site/cover.jpg" in set(dctx.storage.keys())
    assert diagnose(dctx).healthy


def test_fresh_orphans_are_kept_during_the_grace_period(dctx):
    from pipeline.doctor import diagnose

    dctx.storage.put_bytes("originals/2b1c0000-0000-4000-8000-000000000000/uploading.mp3", b"x")
    report = diagnose(dctx, fix=True)  # default grace: an hour
    assert report.actions == ["kept originals/2b1c0000-0000-4000-8000-000000000000/uploading.mp3 for now "
                              "(it may belong to work in progress)"]
    assert dctx.storage.exists("originals/2b1c0000-0000-4000-8000-000000000000/uploading.mp3")


def test_media_rows_whose_file_is_gone_are_reported(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx)
    dctx.storage.delete(f"audio/{ep.uuid}/audio.mp3")
    report = diagnose(dctx, fix=True, grace=NOW)
    assert [(m.episode_id, m.kind, m.key) for m in report.missing_media] == [
        (ep.id, "audio", f"audio/{ep.uuid}/audio.mp3")]


def _age_job(ctx, job_id: int, minutes: float, **values) -> None:
    with ctx.sessions.begin() as session:
        job = session.get(Job, job_id)
        job.heartbeat_at = job.started_at = utcnow() - timedelta(minutes=minutes)
        for name, value in values.items():
            setattr(job, name, value)


def _jobs(ctx, episode_id: int) -> dict[str, Job]:
    with ctx.sessions() as session:
        return {j.kind: j for j in session.scalars(select(Job).where(Job.episode_id == episode_id))}


def test_silent_running_job_is_requeued_for_dispatch(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing", prepare_audio="succeeded", transcribe="running")
    job = _jobs(dctx, ep.id)["transcribe"]
    _age_job(dctx, job.id, 20, worker="elsewhere:123")
    assert diagnose(dctx, stale_after=timedelta(minutes=30)).healthy
    found = diagnose(dctx)
    assert [(s.job_id, s.reason) for s in found.stale_jobs] == [(job.id, "no heartbeat from elsewhere:123 for 20 min")]
    fixed = diagnose(dctx, fix=True)
    assert fixed.dispatch == [job.id]
    assert fixed.actions == [f"requeued job {job.id} (transcribe): no heartbeat from elsewhere:123 for 20 min"]
    again = _jobs(dctx, ep.id)["transcribe"]
    assert again.state == "queued" and again.worker is None and "requeued" in again.error
    assert diagnose(dctx).healthy  # a requeued job counts as live, the episode is not stuck


def test_job_of_a_dead_worker_process_is_stale_at_once(dctx):
    import socket
    import subprocess

    from pipeline.doctor import diagnose

    gone = subprocess.Popen(["true"])
    gone.wait()
    ep = make_episode(dctx, status="processing", prepare_audio="running", transcribe="queued")
    job = _jobs(dctx, ep.id)["prepare_audio"]
    _age_job(dctx, job.id, 0, worker=f"{socket.gethostname()}:{gone.pid}")
    alive = make_episode(dctx, status="processing", prepare_audio="running")
    _age_job(dctx, _jobs(dctx, alive.id)["prepare_audio"].id, 0, worker=f"{socket.gethostname()}:{os.getpid()}")
    report = diagnose(dctx)
    assert [(s.job_id, s.reason) for s in report.stale_jobs] == [
        (job.id, f"its worker {socket.gethostname()}:{gone.pid} is no longer running")]


def test_a_job_that_keeps_dying_fails_with_a_reason_an_editor_can_act_on(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing", prepare_audio="succeeded", transcribe="running")
    _age_job(dctx, _jobs(dctx, ep.id)["transcribe"].id, 60, attempts=3, worker="elsewhere:1")
    report = diagnose(dctx, fix=True)
    assert report.dispatch == []
    job = _jobs(dctx, ep.id)["transcribe"]
    assert job.state == "failed" and "stopped 3 times" in job.error and "retry" in job.error
    with dctx.sessions() as session:
        episode = session.get(Episode, ep.id)
        assert episode.status == "failed" and "transcribe: stopped 3 times" in episode.failure_reason


def test_long_queued_job_is_sent_again(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing", prepare_audio="queued", transcribe="queued")
    job = _jobs(dctx, ep.id)["prepare_audio"]
    with dctx.sessions.begin() as session:
        session.get(Job, job.id).created_at = utcnow() - timedelta(hours=7)
    report = diagnose(dctx, fix=True)
    assert report.dispatch == [job.id] and "queued for 420 min" in report.actions[0]


def test_stuck_episode_with_finished_jobs_moves_on(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing", prepare_audio="succeeded", transcribe="succeeded")
    found = diagnose(dctx)
    assert [(s.episode_id, s.reason) for s in found.stuck_episodes] == [
        (ep.id, "every job finished but the next step was never queued")]
    fixed = diagnose(dctx, fix=True)
    analyze = _jobs(dctx, ep.id)["analyze"]
    assert fixed.dispatch == [analyze.id] and analyze.state == "queued"


def test_stuck_episode_after_its_last_step_goes_to_review(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing", prepare_audio="succeeded", transcribe="succeeded",
                      analyze="succeeded", spoken_extras="succeeded")
    diagnose(dctx, fix=True)
    with dctx.sessions() as session:
        assert session.get(Episode, ep.id).status == EpisodeStatus.in_review.value


def test_stuck_episode_after_analysis_gets_its_next_step_and_then_review(dctx):
    from pipeline.doctor import diagnose
    from pipeline.jobs import InlineDispatcher

    ep = make_episode(dctx, status="processing", prepare_audio="succeeded", transcribe="succeeded",
                      analyze="succeeded")
    diagnose(dctx, fix=True)
    with dctx.sessions() as session:
        episode = session.get(Episode, ep.id)
        [queued] = [j for j in episode.jobs if j.state == "queued"]
        assert queued.kind == "spoken_extras" and episode.status == EpisodeStatus.processing.value
        queued_id = queued.id
    InlineDispatcher(dctx).dispatch([queued_id])
    with dctx.sessions() as session:
        assert session.get(Episode, ep.id).status == EpisodeStatus.in_review.value


def test_stuck_episode_without_jobs_fails_retryably(dctx):
    from pipeline.doctor import diagnose

    ep = make_episode(dctx, status="processing")
    report = diagnose(dctx, fix=True)
    assert report.actions == [f"marked episode {ep.id} failed: processing stopped (no job was ever queued); "
                              "an editor can retry it"]
    with dctx.sessions() as session:
        assert session.get(Episode, ep.id).status == "failed"


def test_cli_doctor_json_and_exit_status(dctx):
    import json

    from webapp.cli import main

    ep = make_episode(dctx)
    env = {f"CLINEX_{k}": str(v) for k, v in dctx.settings.values.items()}
    runner = CliRunner(env=env)
    clean = runner.invoke(main, ["doctor"])
    assert clean.exit_code == 0 and "No problems found." in clean.output
    dctx.storage.put_bytes(f"originals/{ep.uuid}/stray.mp3", b"x")
    found = runner.invoke(main, ["doctor", "--json"])
    assert found.exit_code == 1
    data = json.loads(found.output)
    assert data["healthy"] is False and data["orphans"][0]["key"] == f"originals/{ep.uuid}/stray.mp3"
    text = runner.invoke(main, ["doctor"])
    assert text.exit_code == 1 and f"orphan   originals/{ep.uuid}/stray.mp3" in text.output


def test_unfinished_uploads_to_the_store_are_found_and_aborted(dctx):
    from pipeline.doctor import diagnose

    client = getattr(dctx.storage, "client", None)
    if client is None:  # local disk has no multipart uploads: nothing to find, nothing reported
        assert list(dctx.storage.unfinished_uploads()) == [] and diagnose(dctx, grace=NOW).healthy
        return
    key = f"originals/{uuid.uuid4()}/round-table.wav"  # what a server killed mid-store leaves
    bucket, full = dctx.storage.bucket, dctx.storage._key(key)
    upload = client.create_multipart_upload(Bucket=bucket, Key=full)["UploadId"]
    client.upload_part(Bucket=bucket, Key=full, UploadId=upload, PartNumber=1, Body=b"x" * 4096)

    def ours(report):
        return [(u.key, u.upload_id) for u in report.unfinished_uploads if u.key == key]

    # (moto reports every upload as begun in 2010, so the grace period for young uploads, which
    # may still be in progress, cannot be seen here; it is the same comparison as for orphans.)
    report = diagnose(dctx, grace=NOW)
    assert ours(report) == [(key, upload)] and not report.healthy
    fixed = diagnose(dctx, fix=True, grace=NOW)
    assert any(a.startswith(f"aborted the unfinished upload of {key} (begun ") for a in fixed.actions)
    assert all(u["UploadId"] != upload for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    assert ours(diagnose(dctx, grace=NOW)) == []


def test_resumable_uploads_untouched_for_a_day_are_found_and_deleted(dctx):
    from pipeline.doctor import diagnose

    folder = dctx.settings.instance_path / "uploads" / "7"  # user 7's resumable uploads
    folder.mkdir(parents=True)
    old, fresh = folder / f"{'a' * 32}.part", folder / f"{'b' * 32}.part"
    for part in (old, fresh):
        part.write_bytes(b"x" * 100)
        part.with_suffix(".json").write_text('{"filename": "talk.wav", "size": 1000}')
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))  # no slice added for 25 hours
    report = diagnose(dctx)
    assert [(u.path, u.size) for u in report.abandoned_uploads] == [(str(old), 100)] and not report.healthy
    fixed = diagnose(dctx, fix=True)
    assert f"deleted abandoned resumable upload {old} (100 bytes)" in fixed.actions
    assert not old.exists() and not old.with_suffix(".json").exists()
    assert fresh.exists() and fresh.with_suffix(".json").exists()  # still being uploaded
    assert diagnose(dctx).healthy
