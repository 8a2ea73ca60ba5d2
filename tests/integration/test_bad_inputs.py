"""The bad input corpus, through `clinex ingest` (CliRunner, settings from the environment) and the
JSON API (`POST /api/episodes` with a bearer token).

Each case must be refused with a non-zero exit (or a 4xx) and one clear sentence, and leave the
database (episodes, media files, jobs, and what an ingest would attach to them) and the media
store exactly as they were: nothing half-stored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import FIXTURES

BAD = FIXTURES / "audio" / "bad"
GOOD = FIXTURES / "audio" / "good"
CORPUS = FIXTURES / "bad_inputs"
COUNTED = ("episodes", "media_files", "jobs", "events", "people", "tags", "summaries", "audit_events")

# (case id, audio file, extra CLI arguments, words the one-line message must contain)
AUDIO_CASES = [
    ("empty file", BAD / "empty.mp3", [], "empty"),
    ("text renamed .mp3", BAD / "notes_text.mp3", [], "text"),
    ("HTML renamed .m4a", BAD / "webpage_html.m4a", [], "web page"),
    ("PNG renamed .mp3", BAD / "image_png.mp3", [], "image"),
    ("JPEG renamed .mp3", BAD / "image_jpeg.mp3", [], "image"),
    ("PDF renamed .mp3", BAD / "document_pdf.mp3", [], "document"),
    ("random bytes", BAD / "random_bytes.mp3", [], ""),
    ("truncated MP3", BAD / "truncated.mp3", [], ""),
    ("truncated FLAC", BAD / "truncated.flac", [], ""),
    ("truncated M4A", BAD / "truncated.m4a", [], ""),
    ("corrupt MP4 header", BAD / "corrupt_header.m4a", [], ""),
    ("video without audio", BAD / "video_no_audio.mp4", [], "sound"),
    ("silent WAV", BAD / "silence.wav", [], "silent"),
    ("silent MP3", BAD / "silence.mp3", [], "silent"),
    ("hiss 70 dB down", BAD / "near_silence.flac", [], "silent"),
    ("WAV header only", BAD / "header_only.wav", [], ""),
    ("ID3 tag only", BAD / "zero_duration.mp3", [], ""),
    ("MP3 with zero frames", BAD / "zero_frames.mp3", [], ""),
    ("Opus with zero frames", BAD / "zero_frames.opus", [], ""),
    ("missing file", CORPUS / "does-not-exist.mp3", [], "no such file"),
    ("a folder, not a file", CORPUS, [], "directory"),
    ("unicode name, text inside", CORPUS / "лекция – ботокс 🎤.mp3", [], "text"),
    ("bad --date", GOOD / "speech.mp3", ["--date", "14/05/2026"], "2026-05-14"),
    ("impossible --date", GOOD / "speech.mp3", ["--date", "2026-02-30"], "2026-05-14"),
    ("unknown --author", GOOD / "speech.mp3", ["--author", "nobody@example.org"], "no account"),
    ("notes: front matter not YAML", GOOD / "speech.mp3", ["--notes", CORPUS / "bad_yaml.md"], "not valid yaml"),
    ("notes: front matter a list", GOOD / "speech.mp3", ["--notes", CORPUS / "list_front_matter.md"], "field: value"),
    ("notes: unknown fields", GOOD / "speech.mp3", ["--notes", CORPUS / "unknown_fields.md"], "unknown field"),
    ("notes: bad date", GOOD / "speech.mp3", ["--notes", CORPUS / "bad_date.md"], "date"),
    ("notes: speakers not names", GOOD / "speech.mp3", ["--notes", CORPUS / "bad_speakers.md"], "speaker"),
    ("notes: negative season", GOOD / "speech.mp3", ["--notes", CORPUS / "negative_season.md"], "whole number"),
    ("notes: explicit maybe", GOOD / "speech.mp3", ["--notes", CORPUS / "explicit_maybe.md"], "true or false"),
    ("notes: not UTF-8", GOOD / "speech.mp3", ["--notes", CORPUS / "latin1.md"], "utf-8"),
    ("notes: 10 MB", GOOD / "speech.mp3", ["--notes", "BIG_NOTES"], "at most"),
    ("notes: missing file", GOOD / "speech.mp3", ["--notes", CORPUS / "nope.md"], "no such notes file"),
    ("notes: 400-character title", GOOD / "speech.mp3", ["--notes", CORPUS / "long_title.md"], "longer than"),
]


@pytest.fixture(scope="module")
def big_notes(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("notes") / "huge.md"
    path.write_text("# Notes\n" + "- a bullet about fillers\n" * (10 * 1024 * 1024 // 24))
    return path


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """A migrated instance with one good recording already ingested (for the duplicate case)."""
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    base = tmp_path_factory.mktemp("bad-inputs")
    values = {"INSTANCE_PATH": str(base / "instance"), "BASE_URL": "http://clinex.test", "SECRET_KEY": "s"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    ops.ingest_file(GOOD / "speech.ogg", title="Already here", settings=settings)
    env = {f"CLINEX_{k}": str(v) for k, v in settings.values.items()}
    return {"settings": settings, "env": env, "ctx": ops.context(settings)}


def state_of(ctx) -> dict:
    """Row counts that an ingest touches, and every stored key."""
    from pipeline.db import Base

    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with ctx.sessions() as session:
        counts = {name: session.scalar(select(func.count()).select_from(tables[name])) for name in COUNTED}
    return {"rows": counts, "keys": sorted(ctx.storage.keys())}


def assert_one_sentence(message: str) -> str:
    message = message.strip()
    assert message and "\n" not in message, f"expected one line, got {message!r}"
    assert "Traceback" not in message and "Exception" not in message
    assert message.endswith((".", ")", "'", '"')), message
    return message


def cli_message(result) -> str:
    """The error line: the whole of stderr, or for click's usage errors (exit 2) its 'Error:' line."""
    text = result.stderr or result.output
    if result.exit_code == 2:
        return next(line for line in text.splitlines() if line.startswith("Error:"))
    return text


def run_cli(instance, args, env_extra=None):
    from webapp.cli import main

    runner = CliRunner(env={**instance["env"], **(env_extra or {})})
    return runner.invoke(main, ["ingest", *map(str, args)], catch_exceptions=False)


@pytest.mark.parametrize("case, audio, extra, words", AUDIO_CASES, ids=[c[0] for c in AUDIO_CASES])
def test_cli_refuses_bad_input(instance, big_notes, case, audio, extra, words):
    extra = [big_notes if a == "BIG_NOTES" else a for a in extra]
    before = state_of(instance["ctx"])
    result = run_cli(instance, [audio, *extra])
    assert result.exit_code != 0
    message = assert_one_sentence(cli_message(result))
    assert words.lower() in message.lower(), message
    assert state_of(instance["ctx"]) == before


LIMIT_CASES = [
    ("larger than the upload limit", {"CLINEX_MAX_UPLOAD_BYTES": "10000"}, "limited to 9.8 KB"),
    ("longer than the duration limit", {"CLINEX_MAX_DURATION_SECONDS": "3"}, "limited to 3 s"),
]


@pytest.mark.parametrize("case, env, words", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_cli_refuses_over_the_limits(instance, case, env, words):
    before = state_of(instance["ctx"])
    result = run_cli(instance, [GOOD / "speech.wav"], env)
    assert result.exit_code != 0
    assert words in assert_one_sentence(cli_message(result))
    assert state_of(instance["ctx"]) == before


def test_cli_refuses_a_duplicate_upload_under_another_name(instance, tmp_path):
    copy = tmp_path / "same talk, new name.ogg"
    shutil.copyfile(GOOD / "speech.ogg", copy)
    before = state_of(instance["ctx"])
    result = run_cli(instance, [copy, "--title", "Again"])
    assert result.exit_code == 1
    assert "already uploaded as episode" in assert_one_sentence(result.stderr)
    assert state_of(instance["ctx"]) == before


def test_hostile_file_names_are_stored_under_a_safe_key(instance, tmp_path):
    import re

    odd = tmp_path / "..%2F..%2Fetc ❤ <b>passwd<\\b>.mp3"
    shutil.copyfile(GOOD / "speech.mp3", odd)
    before = set(instance["ctx"].storage.keys())
    result = run_cli(instance, [odd, "--json"])
    assert result.exit_code == 0, result.output
    [new] = set(instance["ctx"].storage.keys()) - before
    assert re.fullmatch(r"originals/[0-9a-f-]{36}/[A-Za-z0-9][A-Za-z0-9._-]*\.mp3", new), new


# --- the HTTP API -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api(instance):
    """A test client for the app on the same instance, and a summarizer's bearer token."""
    from pipeline.accounts import create_user, issue_api_token
    from webapp import create_app

    app = create_app({k: v for k, v in instance["settings"].values.items()})
    app.config.update(TESTING=True)
    with instance["ctx"].sessions.begin() as session:
        user, _ = create_user(session, "uploader@example.org", "Uploader", "summarizer", "a long test password")
        token = issue_api_token(session, user)
    return {"client": app.test_client(), "headers": {"Authorization": f"Bearer {token}"},
            "uploads": instance["settings"].instance_path / "uploads"}


def _file(path: Path, name: str | None = None):
    return (open(path, "rb"), name or path.name)


API_CASES = [
    ("no audio field", lambda: {"title": "x"}, None, 422, "'audio'"),
    ("empty file", lambda: {"audio": _file(BAD / "empty.mp3")}, None, 422, "empty"),
    ("HTML as audio", lambda: {"audio": _file(BAD / "webpage_html.m4a")}, None, 422, "web page"),
    ("../ file name, PNG inside", lambda: {"audio": _file(BAD / "image_png.mp3", "../../etc/passwd.mp3")}, None, 422, "image"),
    ("unicode file name, truncated", lambda: {"audio": _file(BAD / "truncated.mp3", "лекция 🎤.mp3")}, None, 422, ""),
    ("silence", lambda: {"audio": _file(BAD / "silence.wav")}, None, 422, "silent"),
    ("duplicate upload", lambda: {"audio": _file(GOOD / "speech.ogg", "again.ogg")}, None, 422, "already uploaded"),
    ("markup in a field", lambda: {"audio": _file(GOOD / "speech.mp3"), "title": "<img src=x onerror=alert(1)>"}, None, 422, "plain text"),
    ("bad date field", lambda: {"audio": _file(GOOD / "speech.mp3"), "date": "yesterday"}, None, 422, ""),
    ("malformed notes", lambda: {"audio": _file(GOOD / "speech.mp3"), "notes": (open(CORPUS / "bad_yaml.md", "rb"), "n.md")}, None, 422, "yaml"),
    ("notes not UTF-8", lambda: {"audio": _file(GOOD / "speech.mp3"), "notes": (open(CORPUS / "latin1.md", "rb"), "n.md")}, None, 422, "utf-8"),
    ("JSON body instead of multipart", lambda: '{"audio": "x"}', "application/json", 422, "'audio'"),
    ("multipart without a boundary", lambda: "--x\r\n", "multipart/form-data", 422, ""),
]


@pytest.mark.parametrize("case, data, content_type, status, words", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_refuses_bad_input(instance, api, case, data, content_type, status, words):
    before = state_of(instance["ctx"])
    response = api["client"].post("/api/episodes", headers=api["headers"], data=data(),
                                  content_type=content_type or "multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert words.lower() in assert_one_sentence(body["message"]).lower()
    assert state_of(instance["ctx"]) == before
    assert not [p for p in api["uploads"].rglob("*") if p.is_file()], "a spooled upload was left behind"


def test_api_refuses_an_oversized_request_before_reading_it(instance, api):
    from webapp import create_app

    small = create_app({**instance["settings"].values, "MAX_UPLOAD_BYTES": 1000})  # requests over ~1 MB refused
    before = state_of(instance["ctx"])
    response = small.test_client().post("/api/episodes", headers=api["headers"], content_type="multipart/form-data",
                                        data={"audio": (BAD / "random_bytes.mp3", "big.mp3"), "notes": "x" * 1_100_000})
    assert response.status_code == 413
    assert_one_sentence(response.get_json()["message"])
    assert state_of(instance["ctx"]) == before
