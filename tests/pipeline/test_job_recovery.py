"""One run of a job at a time: compare-and-set claims and requeues, on SQLite and PostgreSQL, with
real concurrent sessions; a worker that lost its job commits nothing; publishing cleans up after an
interrupted run."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline.models import Episode, Job, MediaFile, utcnow
from tests.pipeline.conftest import copy_template, episode_ready_to_publish

STALE = timedelta(minutes=10)


@pytest.fixture(params=["sqlite", "postgresql"])
def jctx(request, settings_dict, template_db):
    from pipeline.migrate import upgrade_database
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.jobs import job_context

    values = dict(settings_dict)
    if request.param == "postgresql":
        values["DATABASE_URL"] = request.getfixturevalue("pg_url")
    settings = ensure_instance(load_settings(values))
    if request.param == "postgresql":
        upgrade_database(settings.DATABASE_URL)
    else:
        copy_template(template_db, settings.instance_path)
    return job_context(settings)


def add_job(ctx, kind="transcribe", status="processing", **values) -> tuple[int, int]:
    with ctx.sessions.begin() as session:
        episode = Episode(title="Fillers", slug=f"fillers-{utcnow().timestamp()}", status=status)
        session.add(episode)
        session.flush()
        job = Job(episode_id=episode.id, kind=kind, **values)
        session.add(job)
        session.flush()
        return episode.id, job.id


def job_row(ctx, job_id: int) -> Job:
    with ctx.sessions() as session:
        return session.get(Job, job_id)


def at_once(count: int, work) -> list:
    """Run ``work()`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_workers_racing_for_a_job_claim_it_once(jctx):
    from pipeline.jobs import claim_job

    _episode, job_id = add_job(jctx)

    def claim(n=iter(range(10))):
        with jctx.sessions() as session:
            name = f"worker:{next(n)}"
            taken = claim_job(session, job_id, name)
            session.commit()
            return name if taken else None

    winners = [w for w in at_once(4, claim) if w]
    assert len(winners) == 1
    job = job_row(jctx, job_id)
    assert (job.state, job.worker, job.attempts) == ("running", winners[0], 1)


def test_two_workers_recovering_at_once_requeue_a_stale_job_once(jctx):
    from pipeline.jobs import recover_jobs

    old = utcnow() - timedelta(minutes=20)
    _episode, job_id = add_job(jctx, state="running", worker="elsewhere:123", attempts=1,
                               started_at=old, heartbeat_at=old)
    reports = at_once(2, lambda: recover_jobs(jctx, STALE))
    assert sorted(job for r in reports for job in r.dispatch) == [job_id]
    job = job_row(jctx, job_id)
    assert (job.state, job.worker, job.attempts) == ("queued", None, 1)
    assert job.error == "requeued: no heartbeat from elsewhere:123 for 20 min"
    assert recover_jobs(jctx, STALE).dispatch == []


def test_a_job_that_moves_on_after_being_seen_stale_is_left_alone(jctx, monkeypatch):
    from pipeline.jobs import recovery as doctor

    old = utcnow() - timedelta(minutes=20)
    _episode, job_id = add_job(jctx, state="running", worker="elsewhere:123", attempts=1,
                               started_at=old, heartbeat_at=old)
    real = doctor._stale_reason

    def seen_then_heartbeat(job, *args):
        found = real(job, *args)
        # Its worker was only slow: the heartbeat lands between our look and our update.
        with jctx.sessions.begin() as other:
            other.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow()))
        return found

    monkeypatch.setattr(doctor, "_stale_reason", seen_then_heartbeat)
    assert doctor._requeue_if_still_stale(jctx, job_id, doctor.MAX_ATTEMPTS, STALE, doctor.QUEUED_AFTER) is None
    job = job_row(jctx, job_id)
    assert (job.state, job.worker) == ("running", "elsewhere:123")


def test_the_job_of_an_earlier_process_with_this_pid_is_requeued(jctx):
    from pipeline.jobs import recover_jobs
    from pipeline.jobs import PROCESS_STARTED, worker_name

    before = PROCESS_STARTED - timedelta(seconds=30)
    _e, earlier = add_job(jctx, state="running", worker=worker_name(), attempts=1, started_at=before,
                          heartbeat_at=before)
    _e, ours = add_job(jctx, state="running", worker=worker_name(), attempts=1, started_at=utcnow(),
                       heartbeat_at=utcnow())
    assert recover_jobs(jctx, STALE).dispatch == [earlier]
    assert job_row(jctx, ours).state == "running"


def test_after_three_stops_a_job_fails_with_a_reason(jctx):
    from pipeline.jobs import recover_jobs

    old = utcnow() - timedelta(minutes=20)
    episode_id, job_id = add_job(jctx, state="running", worker="elsewhere:123", attempts=3,
                                 started_at=old, heartbeat_at=old)
    report = recover_jobs(jctx, STALE)
    assert report.dispatch == [] and job_row(jctx, job_id).state == "failed"
    with jctx.sessions() as session:
        episode = session.get(Episode, episode_id)
        assert episode.status == "failed" and "stopped 3 times" in episode.failure_reason


def test_a_worker_that_lost_its_job_commits_nothing(jctx, monkeypatch):
    from pipeline import flow
    from pipeline.jobs import claim_job, run_claimed_job

    episode_id, job_id = add_job(jctx, kind="analyze")
    with jctx.sessions() as session:
        assert claim_job(session, job_id, "slow:1")
        session.commit()

    def step(ctx, session, episode, report):
        episode.title = "written by a worker that lost the job"
        # Meanwhile the job was requeued as stale and another worker took it.
        with jctx.sessions.begin() as other:
            other.execute(update(Job).where(Job.id == job_id).values(worker="fast:2", attempts=2))

    monkeypatch.setitem(flow.HANDLERS, "analyze", step)
    assert run_claimed_job(jctx, job_id, "slow:1") == []
    job = job_row(jctx, job_id)
    assert (job.state, job.worker, job.attempts) == ("running", "fast:2", 2)
    with jctx.sessions() as session:
        assert session.get(Episode, episode_id).title == "Fillers"


def test_progress_reports_stop_a_worker_that_lost_its_job(jctx, monkeypatch):
    from pipeline import flow
    from pipeline.jobs import claim_job, run_claimed_job

    _episode, job_id = add_job(jctx, kind="analyze")
    with jctx.sessions() as session:
        assert claim_job(session, job_id, "slow:1")
        session.commit()
    reached = []

    def step(ctx, session, episode, report):
        report(0.1)
        with jctx.sessions.begin() as other:
            other.execute(update(Job).where(Job.id == job_id).values(worker="fast:2"))
        time.sleep(1.1)  # reports are written at most once a second
        report(0.6)  # not written: the job is not ours any more
        report(0.7)  # raises before doing more work
        reached.append("the end")

    monkeypatch.setitem(flow.HANDLERS, "analyze", step)
    assert run_claimed_job(jctx, job_id, "slow:1") == []
    assert reached == [] and job_row(jctx, job_id).progress == 0.1


def test_publishing_deletes_what_an_interrupted_publication_stored(ctx):
    from pipeline.review import approve as approve_episode

    episode_id, uuid = episode_ready_to_publish(ctx)
    # what a run killed after storing its file left (made before the chapters changed)
    ctx.storage.put_bytes(f"published/{uuid}/0123456789abcdef.mp3", b"ID3 earlier tags")
    job_id = approve_episode(ctx, episode_id, note="fine")
    with ctx.sessions() as session:
        rows = session.scalars(select(MediaFile).where(MediaFile.episode_id == episode_id,
                                                       MediaFile.kind == "published")).all()
        assert session.get(Episode, episode_id).status == "published"
        job = session.get(Job, job_id)
        assert (job.kind, job.state, job.attempts) == ("publish", "succeeded", 1)
    assert list(ctx.storage.keys(f"published/{uuid}/")) == [rows[0].storage_key]
