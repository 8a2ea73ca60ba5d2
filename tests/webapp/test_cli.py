"""The clinex CLI: help everywhere, one clear line and a non-zero exit on bad input, JSON output."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES, SAMPLE
from webapp.cli import main


@pytest.fixture
def cli(settings_dict, monkeypatch):
    for key, value in settings_dict.items():
        monkeypatch.setenv(f"CLINEX_{key}", value)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def _all_commands(group, path=()):
    for name, command in group.commands.items():
        yield path + (name,)
        if isinstance(command, click.Group):
            yield from _all_commands(command, path + (name,))


@pytest.mark.parametrize("path", list(_all_commands(main)), ids=" ".join)
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def _one_line_error(result, needle: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.output.strip().splitlines() if line]
    assert len(lines) == 1 and needle in lines[0], result.output
    assert "Traceback" not in result.output


def test_ingest_missing_file(cli):
    _one_line_error(cli("ingest", "/nonexistent/talk.mp3"), "No such file")


def test_ingest_text_file_renamed_mp3(cli, tmp_path):
    fake = tmp_path / "talk.mp3"
    fake.write_text("these are my notes, not audio\n" * 20)
    _one_line_error(cli("ingest", str(fake)), "")
    assert json.loads(cli("episodes", "list", "--json").output) == []


def test_ingest_bad_notes_front_matter(cli, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("---\ntitle: [broken\n---\n")
    _one_line_error(cli("ingest", str(SAMPLE / "lecture.mp3"), "--notes", str(notes)), "not valid YAML")
    assert json.loads(cli("episodes", "list", "--json").output) == []


def test_ingest_bad_date(cli):
    _one_line_error(cli("ingest", str(SAMPLE / "lecture.mp3"), "--date", "14/05/2026"), "--date must look like")


@pytest.mark.parametrize("args, needle", [
    (("approve", "999"), "No episode 999"),
    (("reject", "999", "--note", "x"), "No episode 999"),
    (("unpublish", "999"), "No episode 999"),
    (("users", "set-role", "nobody@example.org", "editor"), "No account for nobody@example.org"),
    (("users", "add", "not-an-email"), "is not an email address"),
    (("feed", "--tag", "no-such-topic"), "No topic tag"),
])
def test_unknown_things_fail_with_one_line(cli, args, needle):
    _one_line_error(cli(*args), needle)


def test_users_add_list_and_set_role(cli):
    result = cli("users", "add", "ana@example.org", "--name", "Ana", "--role", "summarizer")
    assert result.exit_code == 0 and "One-time password:" in result.output
    _one_line_error(cli("users", "add", "ana@example.org"), "already exists")
    assert cli("users", "set-role", "ana@example.org", "editor").exit_code == 0
    users = json.loads(cli("users", "list", "--json").output)
    assert [(u["email"], u["role"]) for u in users] == [("ana@example.org", "editor")]


def test_init_creates_one_editor_once(cli):
    first = cli("init")
    assert first.exit_code == 0 and "one-time password" in first.output
    second = cli("init")
    assert second.exit_code == 0 and "one-time password" not in second.output
    assert [u["role"] for u in json.loads(cli("users", "list", "--json").output)] == ["editor"]


@pytest.mark.slow
def test_ingest_wait_reaches_review_then_approve_publishes(cli):
    result = cli("ingest", str(SAMPLE / "lecture.mp3"), "--notes", str(SAMPLE / "lecture.md"), "--wait", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["status"] == "in_review" and row["title"] == "Picosecond lasers for melasma and PIH"
    listed = json.loads(cli("episodes", "list", "--status", "in_review", "--json").output)
    assert [e["id"] for e in listed] == [row["id"]] and {"id", "slug", "title", "status"} <= set(listed[0])
    jobs = json.loads(cli("jobs", "--json").output)
    assert sorted(j["kind"] for j in jobs) == ["analyze", "prepare_audio", "spoken_extras", "transcribe"]
    assert all(j["state"] == "succeeded" and j["progress"] == 1.0 for j in jobs)
    _one_line_error(cli("ingest", str(SAMPLE / "lecture.mp3")), "already uploaded as episode")
    assert cli("approve", str(row["id"])).exit_code == 0
    _one_line_error(cli("approve", str(row["id"])), "is published")
    feed = cli("feed").output
    assert "Picosecond lasers for melasma and PIH" in feed and row["guid"] in feed
    assert cli("unpublish", str(row["id"]), "--note", "speaker asked").exit_code == 0
    assert row["guid"] not in cli("feed").output


@pytest.mark.slow
def test_feed_check_passes_on_the_published_sample(published_sample, monkeypatch):
    for key, value in published_sample["values"].items():
        monkeypatch.setenv(f"CLINEX_{key}", value)
    result = CliRunner().invoke(main, ["feed", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_feed_check_reports_a_broken_file(tmp_path):
    broken = tmp_path / "feed.xml"
    broken.write_text("<rss version='2.0'><channel><title>x</title></channel></rss>")
    result = CliRunner().invoke(main, ["feed", "check", str(broken)])
    assert result.exit_code == 1
    assert result.output.count("\n- ") >= 3 and "problem(s) in" in result.output
