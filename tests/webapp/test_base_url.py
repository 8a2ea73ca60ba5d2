"""CLINEX_BASE_URL unset: `clinex serve` says so loudly and builds every outward link (feeds,
media, password-reset links printed by another command, the CSP's media-src) on the host and
port it serves on; on a non-loopback host or behind https it refuses to start without it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port
from tests.integration.workers import wait_for


def _env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINEX_")}
    return {**env, "CLINEX_INSTANCE_PATH": str(tmp_path / "instance"), "CLINEX_SECRET_KEY": "base-url-test",
            "CLINEX_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}", **extra}


def _clinex(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webapp", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except OSError:
        return None


@pytest.fixture
def served(tmp_path):
    """`clinex serve --no-worker` on a free loopback port, with no CLINEX_BASE_URL."""
    env, port = _env(tmp_path), free_port()
    assert _clinex(env, "db", "upgrade").returncode == 0
    assert _clinex(env, "users", "add", "nurse@example.org", "--role", "listener").returncode == 0
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(port), "--no-worker"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/feed.xml") or proc.poll() is not None, 90, "clinex serve")
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        yield {"env": env, "port": port, "log": tmp_path / "serve.log"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_an_unset_base_url_is_announced_and_links_follow_the_serving_port(served):
    base = f"http://127.0.0.1:{served['port']}"
    output = served["log"].read_text()
    assert "WARNING: CLINEX_BASE_URL is not set" in output and base in output
    status, headers, feed = _get(f"{base}/feed.xml")
    assert status == 200 and f"<link>{base}/</link>" in feed and "127.0.0.1:5000" not in feed
    _status, headers, _home = _get(f"{base}/")
    media_src = next(part for part in headers["Content-Security-Policy"].split(";") if "media-src" in part)
    assert base in media_src and "5000" not in media_src
    link = _clinex(served["env"], "users", "reset-password", "nurse@example.org")
    assert link.returncode == 0 and link.stdout.startswith(f"{base}/reset-password/"), link.stdout + link.stderr
    assert "CLINEX_BASE_URL is not set" in link.stderr and len(link.stdout.strip().splitlines()) == 1
    page = _get(link.stdout.strip())
    assert page and page[0] == 200 and "nurse@example.org" in page[2]  # the printed link works


@pytest.mark.parametrize("args, words", [
    (["--host", "0.0.0.0"], "on 0.0.0.0, which others reach over the network"),
    (["--host", "192.0.2.1"], "on 192.0.2.1"),
    (["--host", "podcast.example.org"], "on podcast.example.org"),
    (["--url-scheme", "https"], "behind https"),
])
def test_a_server_for_a_network_refuses_to_start_without_a_base_url(tmp_path, args, words):
    started = time.monotonic()
    result = _clinex(_env(tmp_path), "serve", "--no-worker", "--port", str(free_port()), *args, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "CLINEX_BASE_URL is not set" in lines[0] and words in lines[0] and "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # refused at once, not after starting anything
    assert not (tmp_path / "instance" / "serving_url").exists()


def test_a_set_base_url_is_used_as_given(tmp_path):
    from pipeline.settings import load_settings
    from webapp.base_url import settle_base_url

    settings = load_settings({"INSTANCE_PATH": str(tmp_path / "i"), "BASE_URL": "https://podcast.example.org/"})
    assert settings.BASE_URL == "https://podcast.example.org"
    assert settle_base_url(settings, "0.0.0.0", 8000, "https") is None  # production with the setting: fine


def test_the_noted_serving_address_is_the_local_default_for_every_command(tmp_path):
    from pipeline.settings import load_settings
    from webapp import create_app
    from webapp.base_url import settle_base_url
    from webapp.security import content_security_policy

    values = {"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "k"}
    before = load_settings(values, environ={})
    assert before.BASE_URL == "http://127.0.0.1:5000" and before.base_url_source == "local"
    assert "WARNING" in settle_base_url(before, "::1", 5077)  # the instance folder is made if need be
    after = load_settings(values, environ={})
    assert after.BASE_URL == "http://[::1]:5077"
    assert "http://[::1]:5077" in content_security_policy(after)
    assert create_app(values).config["CLINEX"].BASE_URL == "http://[::1]:5077"
