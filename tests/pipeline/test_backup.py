"""`clinex backup` / `clinex restore`: JSON per table plus hashed copies of every stored object,
round-tripped on SQLite and on PostgreSQL (and across the two) into freshly migrated databases."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.pipeline.conftest import copy_template
from pipeline.models import (Comment, Episode, EpisodePerson, EpisodeTag, Job, MediaFile, Person, TranscriptSegment,
                             SiteValue, Tag, Transcript, User)

TABLES = [Episode, MediaFile, Transcript, TranscriptSegment, Comment, User, Tag, EpisodeTag, Job, SiteValue]


@pytest.fixture
def make_instance(template_db, tmp_path):
    """Instances on a migrated SQLite copy, or on a PostgreSQL URL (migrated here)."""
    return lambda name, database_url=None: _instance(template_db, tmp_path, name, database_url)


def _instance(template, tmp_path, name: str, database_url: str | None = None):
    from pipeline.migrate import upgrade_database
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.jobs import job_context

    values = {"INSTANCE_PATH": str(tmp_path / name), "SECRET_KEY": "s", "BASE_URL": "http://clinex.test"}
    if database_url:
        values["DATABASE_URL"] = database_url
    settings = ensure_instance(load_settings(values))
    if database_url:
        upgrade_database(settings.DATABASE_URL)
    else:
        copy_template(template, settings.instance_path)
    return job_context(settings)


def fill(ctx) -> None:
    """Rows in most tables (timestamps, dates, JSON, unicode, a reply to a comment) and some files."""
    with ctx.sessions.begin() as s:
        user = User(email="ana@example.org", display_name="Dr. Ana Ribeiro – São Paulo", password_hash="x")
        tag = Tag(name="Melasma", slug="melasma")
        ep = Episode(title="Picosecond lasers ✓", slug="pico", status="in_review", recorded_on=date(2026, 5, 14),
                     duration=101.5, created_by=user)
        s.add_all([user, tag, ep])
        s.flush()
        ep.people.append(EpisodePerson(person=Person(name="Dr. Tom Hale", slug="tom-hale"), position=0))
        ep.tags.append(EpisodeTag(tag=tag, source="suggested", accepted=False, score=0.42))
        stored = ctx.storage.put_bytes(f"originals/{ep.uuid}/talk.mp3", bytes(range(256)) * 40)
        s.add(MediaFile(episode_id=ep.id, kind="original", storage_key=stored.key, content_type="audio/mpeg",
                        size=stored.size, sha256=stored.sha256))
        transcript = Transcript(episode_id=ep.id, engine="faster-whisper", model="tiny.en",
                                options={"beam_size": 5, "hotwords": "melasma"}, status="complete")
        s.add(transcript)
        s.flush()
        for i in range(3):
            s.add(TranscriptSegment(transcript_id=transcript.id, index=i, start=i * 2.0, end=i * 2.0 + 1.9,
                          text=f"segment {i}", words=[{"word": "x", "start": 0.1, "end": 0.2, "probability": 0.9}]))
        ctx.storage.put_bytes(f"transcripts/{ep.uuid}/{transcript.id}.vtt", "WEBVTT\n\nnaïve".encode())
        ctx.storage.put_bytes("site/cover.jpg", b"\xff\xd8jpeg")
        parent = Comment(episode_id=ep.id, author_id=user.id, body="First", state="visible", timestamp=12.5)
        s.add(parent)
        s.flush()
        s.add(Comment(episode_id=ep.id, author_id=user.id, parent_id=parent.id, body="Reply <b>", state="pending"))
        s.add(Job(episode_id=ep.id, kind="transcribe", state="succeeded", progress=1.0, attempts=2))
        s.add(SiteValue(key="content_version", value="3"))


def snapshot(ctx) -> dict:
    with ctx.sessions() as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}
        ep = s.scalars(select(Episode)).one()
        sample = {"episode": (ep.uuid, ep.guid, ep.title, ep.recorded_on, ep.duration, ep.created_at.replace(tzinfo=None)),
                  "segments": [(g.index, g.start, g.text, g.words) for g in ep.transcripts[0].segments],
                  "options": ep.transcripts[0].options,
                  "comments": [(c.id, c.parent_id, c.body, c.timestamp) for c in s.scalars(select(Comment).order_by(Comment.id))],
                  "tags": [(et.tag.name, et.source, et.accepted, et.score) for et in ep.tags],
                  "people": [p.person.name for p in ep.people]}
    objects = {k: ctx.storage.get_bytes(k) for k in ctx.storage.keys()}
    return {"counts": counts, "sample": sample, "objects": objects}


def round_trip(tmp_path, source, target) -> None:
    from pipeline.backup import backup, restore

    fill(source)
    before = snapshot(source)
    report = backup(source, tmp_path / "backup")
    assert report.objects == 3 and report.rows["segments"] == 3
    restore(target, tmp_path / "backup")
    after = snapshot(target)
    assert after == before
    # New rows get fresh ids after a restore (PostgreSQL sequences were moved past the restored ids).
    with target.sessions.begin() as s:
        s.add(Tag(name="Fillers", slug="fillers"))
        s.add(Comment(episode_id=s.scalars(select(Episode.id)).one(), author_id=s.scalars(select(User.id)).one(),
                      body="after restore"))


def test_round_trip_on_sqlite(tmp_path, make_instance):
    round_trip(tmp_path, make_instance("a"), make_instance("b"))


def test_round_trip_on_postgresql(tmp_path, pg_url, make_instance):
    import sqlalchemy as sa

    from tests.conftest import PG_ADMIN_URL

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    target_url = pg_url + "_restored"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target_url.rsplit("/", 1)[1]}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{target_url.rsplit("/", 1)[1]}"'))
    try:
        round_trip(tmp_path, make_instance("a", pg_url), make_instance("b", target_url))
    finally:
        from pipeline.db import _factories

        factory = _factories.pop(target_url, None)
        if factory:
            factory.kw["bind"].dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def test_sqlite_backup_restores_into_postgresql(tmp_path, pg_url, make_instance):
    round_trip(tmp_path, make_instance("a"), make_instance("b", pg_url))


def test_restore_refuses_a_database_with_rows(tmp_path, make_instance):
    from pipeline.backup import BackupError, backup, restore

    source, target = make_instance("a"), make_instance("b")
    fill(source)
    backup(source, tmp_path / "backup")
    with target.sessions.begin() as s:
        s.add(Tag(name="Fillers", slug="fillers"))
    with pytest.raises(BackupError, match="already holds data"):
        restore(target, tmp_path / "backup")
    assert list(target.storage.keys()) == []


def test_restore_refuses_a_damaged_object_before_writing_anything(tmp_path, make_instance):
    from pipeline.backup import BackupError, backup, restore

    source, target = make_instance("a"), make_instance("b")
    fill(source)
    backup(source, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    damaged = tmp_path / "backup" / "storage" / manifest["objects"][0]["key"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    with pytest.raises(BackupError, match="is damaged"):
        restore(target, tmp_path / "backup")
    with target.sessions() as s:
        assert s.scalar(select(func.count(Episode.id))) == 0
    assert list(target.storage.keys()) == []


def test_backup_into_a_non_empty_folder_is_refused(tmp_path, make_instance):
    from pipeline.backup import BackupError, backup

    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="not empty"):
        backup(make_instance("a"), tmp_path / "dest")


def test_cli_backup_and_restore(tmp_path, make_instance):
    from webapp.cli import main

    source, target = make_instance("a"), make_instance("b")
    fill(source)

    def env(ctx):
        return {f"CLINEX_{k}": str(v) for k, v in ctx.settings.values.items()}

    made = CliRunner(env=env(source)).invoke(main, ["backup", str(tmp_path / "bk")])
    assert made.exit_code == 0 and "and 3 files" in made.output, made.output
    restored = CliRunner(env=env(target)).invoke(main, ["restore", str(tmp_path / "bk")])
    assert restored.exit_code == 0 and "hashes verified" in restored.output, restored.output
    again = CliRunner(env=env(target)).invoke(main, ["restore", str(tmp_path / "bk")])
    assert again.exit_code == 1 and again.output.count("\n") == 1 and "empty database" in again.output
    not_backup = CliRunner(env=env(target)).invoke(main, ["restore", str(tmp_path)])
    assert not_backup.exit_code == 1 and "not a Clinical Exchange backup" in not_backup.output
