"""Helpers for the tests that run real `clinex worker` processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT


def wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


class Worker:
    """`clinex worker` in its own process, its log in a file (read while it runs)."""

    def __init__(self, env: dict, log: Path, concurrency: int = 1):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--loglevel", "INFO",
                                          "--concurrency", str(concurrency)],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def name_suffix(self) -> str:
        return f":{self.proc.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            assert self.proc.poll() is None, f"the worker exited:\n{self.output()[-3000:]}"
            return " ready." in self.output()

        wait_for(ready, timeout, "the worker to be ready")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.output()


def visible_broker_messages(settings) -> int:
    """Messages waiting on the embedded SQLite broker (kombu's SQLAlchemy transport)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.BROKER_URL.removeprefix("sqla+"))
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT COUNT(*) FROM kombu_message WHERE visible = 1"))
    engine.dispose()
    return count
