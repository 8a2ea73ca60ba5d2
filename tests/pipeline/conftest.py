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
