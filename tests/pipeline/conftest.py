"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """One migrated SQLite file per module, copied for each test (migrating is the slow part)."""
    from pipeline.db import dispose_all
    from pipeline.migrate import upgrade_database

    path = tmp_path_factory.mktemp("template") / "clinex.sqlite"
    upgrade_database(f"sqlite:///{path}")
    dispose_all()
    return path


def copy_template(template, instance) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, instance / "clinex.sqlite")


def episode_ready_to_publish(ctx) -> tuple[int, str]:
    """An episode in review with a prepared listening file (the sample lecture); (id, uuid)."""
    from pipeline.models import Episode, EpisodeStatus, MediaFile
    from tests.conftest import SAMPLE

    with ctx.sessions.begin() as session:
        episode = Episode(title="Fillers", slug="fillers", status=EpisodeStatus.in_review.value, duration=150.0)
        session.add(episode)
        session.flush()
        key = f"audio/{episode.uuid}/a.mp3"
        stored = ctx.storage.put_file(key, SAMPLE / "lecture.mp3", content_type="audio/mpeg")
        session.add(MediaFile(episode_id=episode.id, kind="audio", storage_key=key, content_type="audio/mpeg",
                              size=stored.size, sha256=stored.sha256, duration=150.0))
        return episode.id, episode.uuid
