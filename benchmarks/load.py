"""Load: podcast apps polling feeds, listeners streaming, colleagues commenting and summarizers
uploading, all at once against `clinex serve` (waitress and its worker) on a fresh instance.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--scale 1] [--pollers 200] [--listeners 50]
        [--commenters 20] [--uploaders 2] [--threads 8] [--database-url URL] [--no-docs]

Locust runs in this process (headless, as a library) with four user classes:

* FeedPoller: GETs the main, a topic and an event feed with If-None-Match from its last answer
  (so mostly 304), gzip accepted, every 1-5 s.
* MediaListener: Range requests on the published MP3 (bytes=0-1 probes, open ranges, 256 KB
  slices) every 0.5-2 s, each with its own User-Agent, as players do.
* Commenter: signs in once, then opens the episode page for its CSRF token and posts a comment
  carrying a unique marker, every 1-3 s.
* Uploader: POSTs a small recording (made unique per upload) to the JSON API with its token,
  every 1-3 s; each accepted upload is queued for the worker.

The instance is made like `clinex init --sample` (the bundled lecture, transcribed and published),
with trusted listener accounts for the commenters (so nothing waits for moderation; held comments
are counted anyway) and summarizers with API tokens for the uploaders. The rate limits are raised
for the run with CLINEX_RATE_LIMITS, so the run measures throughput, not the limits; the output
says so. Afterwards the database is checked: every comment answered 2xx/3xx must be stored
exactly once. Prints requests, req/s, p50/p99 latency, failures and 5xx per class, and writes the
figures between the `load` markers in docs/reliability.md. Asserts nothing; exits 1 when a 5xx
was answered or a comment was lost or doubled. The server and its worker are stopped on every
way out (their whole process group).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports socket or ssl: locust's users are greenlets

import argparse
import itertools
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import gevent
from locust import HttpUser, between, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.stats import StatsEntry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "reliability.md"
MARK_START, MARK_END = "<!-- load:start -->", "<!-- load:end -->"
RECORDING = ROOT / "tests" / "fixtures" / "audio" / "good" / "speech.mp3"
PASSWORD = "load test password"
# High enough that no limit is met in a run; the figures are throughput, not the limits.
RAISED_LIMITS = "login=1000000/300,comment=1000000/60,upload=1000000/3600"
CLASSES = ("FeedPoller", "MediaListener", "Commenter", "Uploader")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Target:
    """What the users hit, and what they record for the checks afterwards."""

    feeds: list[str] = field(default_factory=list)
    episode_path: str = ""
    media_path: str = ""
    media_size: int = 0
    commenters: list[str] = field(default_factory=list)  # emails, one per Commenter
    tokens: list[str] = field(default_factory=list)  # API tokens, one per Uploader
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    comments: dict[str, int] = field(default_factory=dict)  # marker -> status answered (0: no answer)
    uploads: Counter = field(default_factory=Counter)  # status -> count
    statuses: Counter = field(default_factory=Counter)  # (class, status) -> count


TARGET = Target()
_serial = itertools.count(1)


class FeedPoller(FastHttpUser):
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.etags: dict[str, str] = {}

    @task
    def poll(self) -> None:
        path = random.choice(TARGET.feeds)
        headers = {"Accept-Encoding": "gzip", "User-Agent": "LoadPodcastApp/1.0"}
        if path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        with self.client.get(path, headers=headers, name=f"FeedPoller {_label(path)}", catch_response=True) as r:
            if r.status_code == 200 and r.headers.get("ETag"):
                self.etags[path] = r.headers["ETag"]
            elif r.status_code != 304:
                r.failure(f"status {r.status_code}")


class MediaListener(FastHttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.agent = f"LoadPlayer/{next(_serial)}"

    def _range(self, label: str, value: str, expected: int) -> None:
        headers = {"Range": value, "User-Agent": self.agent}
        with self.client.get(TARGET.media_path, headers=headers, name=f"MediaListener {label}",
                             catch_response=True) as r:
            if r.status_code != 206 or len(r.content or b"") != expected:
                r.failure(f"status {r.status_code}, {len(r.content or b'')} bytes, wanted 206 with {expected}")

    @task(1)
    def probe(self) -> None:
        self._range("bytes=0-1", "bytes=0-1", 2)

    @task(2)
    def open_range(self) -> None:
        start = random.randrange(TARGET.media_size)
        self._range("bytes=N-", f"bytes={start}-", TARGET.media_size - start)

    @task(3)
    def slice(self) -> None:
        start = random.randrange(max(1, TARGET.media_size - 256 * 1024))
        end = min(start + 256 * 1024, TARGET.media_size) - 1
        self._range("bytes=N-M", f"bytes={start}-{end}", end - start + 1)


class Commenter(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.email = TARGET.commenters.pop()
        self.sent = 0
        page = self.client.get("/login", name="Commenter GET /login")
        form = {"email": self.email, "password": PASSWORD, "csrf_token": _token(page.text)}
        with self.client.post("/login", data=form, allow_redirects=False, name="Commenter POST /login",
                              catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"sign-in answered {r.status_code}")

    @task
    def comment(self) -> None:
        page = self.client.get(TARGET.episode_path, name="Commenter GET episode page")
        if page.status_code != 200:
            return
        self.sent += 1
        marker = f"load {TARGET.run} {self.email.split('@')[0]} #{self.sent}"
        TARGET.comments[marker] = 0
        response = self.client.post(f"{TARGET.episode_path}/comments", allow_redirects=False,
                                    name="Commenter POST comment",
                                    data={"body": marker, "timestamp": "", "parent_id": "", "website": "",
                                          "csrf_token": _token(page.text)})
        TARGET.comments[marker] = response.status_code or 0


class Uploader(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.token = TARGET.tokens.pop()
        self.audio = RECORDING.read_bytes()

    @task
    def upload(self) -> None:
        marker = f"load {TARGET.run} upload {next(_serial)}"
        unique = self.audio + b"TAG" + marker.encode().ljust(125, b"\0")[:125]  # an ID3v1 tag: a new file each time
        response = self.client.post("/api/episodes", headers={"Authorization": f"Bearer {self.token}"},
                                    files={"audio": (marker.replace(" ", "-") + ".mp3", unique, "audio/mpeg")},
                                    data={"title": marker}, name="Uploader POST /api/episodes")
        TARGET.uploads[response.status_code or 0] += 1


def _token(html: str) -> str:
    match = _CSRF.search(html or "")
    return match.group(1) if match else ""


def _label(path: str) -> str:
    return "GET /feed.xml" if path == "/feed.xml" else f"GET {path.split('/')[1]} feed"


# --- the instance and the server ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instance_env(work: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "CLINEX_INSTANCE_PATH": str(work / "instance"), "CLINEX_BASE_URL": f"http://127.0.0.1:{port}",
           "CLINEX_RATE_LIMITS": RAISED_LIMITS}
    if database_url:
        env["CLINEX_DATABASE_URL"] = database_url
    return env


def make_instance(env: dict[str, str], args) -> None:
    """`clinex init --sample`, then accounts for the commenters and uploaders."""
    print("setting up: clinex init --sample (transcribes the bundled lecture once)...", flush=True)
    subprocess.run([sys.executable, "-m", "webapp", "init", "--sample"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    from pipeline.accounts import hash_password, issue_api_token
    from pipeline.models import User

    digest = hash_password(PASSWORD)
    with _sessions(env)() as session:
        for n in range(args.commenters):
            session.add(User(email=f"listener{n}@load.test", display_name=f"Listener {n}", role="listener",
                             password_hash=digest, trusted=True, active=True))
            TARGET.commenters.append(f"listener{n}@load.test")
        for n in range(args.uploaders):
            user = User(email=f"summarizer{n}@load.test", display_name=f"Summarizer {n}", role="summarizer",
                        password_hash=digest, trusted=True, active=True)
            session.add(user)
            session.flush()
            TARGET.tokens.append(issue_api_token(session, user))
        session.commit()
        _find_targets(session)


def _sessions(env: dict[str, str]):
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.jobs import job_context

    return job_context(ensure_instance(load_settings(environ=env))).sessions


def _find_targets(session) -> None:
    from sqlalchemy import select

    from pipeline.models import Episode

    episode = session.scalars(select(Episode).where(Episode.status == "published")).first()
    media = episode.media_of("published")
    TARGET.episode_path = f"/episodes/{episode.slug}"
    TARGET.media_path = "/media/" + media.storage_key.removeprefix("published/")
    TARGET.media_size = media.size
    TARGET.feeds = ["/feed.xml", "/feed.xml"]  # the main feed is what most apps poll
    if episode.accepted_tags:
        TARGET.feeds.append(f"/tags/{episode.accepted_tags[0].slug}/feed.xml")
    if episode.event:
        TARGET.feeds.append(f"/events/{episode.event.slug}/feed.xml")


def start_server(env: dict[str, str], port: int, threads: int, log: Path) -> subprocess.Popen:
    """`clinex serve` in a session of its own, so it and its worker stop as one group."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", str(threads)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path) -> None:
    """Until the main feed answers 200; raises RuntimeError with the log's end if it never does."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"clinex serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"clinex serve did not answer within 90 s:\n{log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen | None) -> None:
    """SIGTERM to the server's process group (waitress, the worker, its pool), SIGKILL after 20 s."""
    if proc is None:
        return
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# --- the run and the figures ----------------------------------------------------------------


def run_load(base_url: str, counts: dict[str, int], seconds: float) -> tuple[Environment, float]:
    classes = {"FeedPoller": FeedPoller, "MediaListener": MediaListener, "Commenter": Commenter, "Uploader": Uploader}
    used = []
    for name, cls in classes.items():
        cls.fixed_count = counts[name]
        if counts[name]:
            used.append(cls)
    env = Environment(user_classes=used, host=base_url, stop_timeout=30)
    env.events.request.add_listener(_count_status)
    runner = env.create_local_runner()
    total = sum(counts.values())
    started = time.monotonic()
    runner.start(total, spawn_rate=total)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    return env, time.monotonic() - started


def _count_status(request_type, name, response_time, response_length, response=None, exception=None, **_kw):
    TARGET.statuses[(name.split(" ", 1)[0], getattr(response, "status_code", 0) or 0)] += 1


def class_rows(env: Environment, elapsed: float) -> list[dict]:
    rows = []
    for name in [*CLASSES, "all"]:
        merged = StatsEntry(env.stats, name, "")
        for entry in env.stats.entries.values():
            if name == "all" or entry.name.startswith(name + " "):
                merged.extend(entry)
        combined = Counter()
        for (cls, status), n in TARGET.statuses.items():
            if name in (cls, "all"):
                combined[status] += n
        rows.append({"class": name, "requests": merged.num_requests, "rps": merged.num_requests / elapsed,
                     "p50": merged.get_response_time_percentile(0.5) if merged.num_requests else 0,
                     "p99": merged.get_response_time_percentile(0.99) if merged.num_requests else 0,
                     "failures": merged.num_failures, "5xx": sum(n for s, n in combined.items() if s >= 500),
                     "answers": ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(combined.items()))})
    return rows


def check_comments(env_vars: dict[str, str]) -> dict[str, int]:
    """Every marker answered 2xx/3xx must be stored exactly once."""
    from sqlalchemy import func, select

    from pipeline.models import Comment

    with _sessions(env_vars)() as session:
        stored = dict(session.execute(select(Comment.body, func.count(Comment.id))
                                      .where(Comment.body.like(f"load {TARGET.run} %")).group_by(Comment.body)).all())
        held = session.scalar(select(func.count(Comment.id)).where(Comment.body.like(f"load {TARGET.run} %"),
                                                                  Comment.state == "pending"))
    ok = [m for m, status in TARGET.comments.items() if 200 <= status < 400]
    return {"answered_ok": len(ok), "stored_once": sum(stored.get(m) == 1 for m in ok),
            "missing": sum(m not in stored for m in ok), "doubled": sum(n > 1 for n in stored.values()),
            "stored_after_error": sum(1 for m, s in TARGET.comments.items() if not 200 <= s < 400 and m in stored),
            "unanswered": sum(1 for s in TARGET.comments.values() if s == 0), "held": held or 0}


def count_uploads(env_vars: dict[str, str]) -> int:
    from sqlalchemy import func, select

    from pipeline.models import Episode

    with _sessions(env_vars)() as session:
        return session.scalar(select(func.count(Episode.id)).where(Episode.title.like(f"load {TARGET.run} upload %")))


def report(rows: list[dict], comments: dict[str, int], uploads_stored: int, setup: str) -> str:
    lines = [setup, "", "| user class | requests | req/s | p50 ms | p99 ms | failures | 5xx | answers |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['class']} | {r['requests']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} | {r['failures']} "
              f"| {r['5xx']} | {r['answers']} |" for r in rows]
    accepted = TARGET.uploads.get(202, 0)
    lines += ["", f"Comments: {comments['answered_ok']} answered 2xx/3xx, {comments['stored_once']} of them stored "
              f"exactly once ({comments['missing']} missing, {comments['doubled']} stored twice or more, "
              f"{comments['stored_after_error']} stored after an error answer, {comments['unanswered']} without an "
              f"answer, {comments['held']} held for moderation). Uploads: {accepted} accepted (202), "
              f"{uploads_stored} episodes stored; other answers: "
              f"{', '.join(f'{s}: {n}' for s, n in sorted(TARGET.uploads.items()) if s != 202) or 'none'}."]
    return "\n".join(lines)


def server_errors(log: Path, limit: int = 3) -> list[str]:
    """The last line of each distinct traceback the server logged (the first ``limit``)."""
    found: dict[str, int] = {}
    last = None
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            last = ""
        elif last is not None and line and not line.startswith((" ", "\t")):
            found[line] = found.get(line, 0) + 1
            last = None
    return [f"{n}x {error}" for error, n in list(found.items())[:limit]]


def write_docs(body: str) -> None:
    """Replace the marked Load section of docs/reliability.md (or add it at the end)."""
    block = f"{MARK_START}\n## Load\n\n{body}\n{MARK_END}"
    page = DOC.read_text() if DOC.exists() else "# Reliability\n"
    pattern = re.compile(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), re.S)
    page = pattern.sub(lambda _m: block, page) if pattern.search(page) else page.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(page)


def scaled_counts(args) -> dict[str, int]:
    wanted = {"FeedPoller": args.pollers, "MediaListener": args.listeners, "Commenter": args.commenters,
              "Uploader": args.uploaders}
    return {name: max(1, round(n * args.scale)) if n else 0 for name, n in wanted.items()}


def _stop_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)  # so the finally blocks stop the server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every user count (0.1: a quick try)")
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--commenters", type=int, default=20)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (clinex serve --threads)")
    parser.add_argument("--database-url", help="a fresh, empty database (default: the instance's SQLite file)")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/reliability.md alone")
    args = parser.parse_args()
    counts = scaled_counts(args)
    args.commenters, args.uploaders = counts["Commenter"], counts["Uploader"]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    port, server = free_port(), None
    with tempfile.TemporaryDirectory(prefix="clinex-load-") as tmp:
        env = instance_env(Path(tmp), port, args.database_url)
        try:
            make_instance(env, args)
            load_before = os.getloadavg()[0]
            server = start_server(env, port, args.threads, Path(tmp) / "server.log")
            wait_until_serving(server, port, Path(tmp) / "server.log")
            print(f"load: {args.seconds:.0f} s, users {counts}, server pid {server.pid} on port {port}", flush=True)
            locust_env, elapsed = run_load(f"http://127.0.0.1:{port}", counts, args.seconds)
        finally:
            stop_server(server)
        rows = class_rows(locust_env, elapsed)
        comments, uploads_stored = check_comments(env), count_uploads(env)
        errors = server_errors(Path(tmp) / "server.log")
    database = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    setup = (f"`benchmarks/load.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {elapsed:.0f} s with "
             f"{counts['FeedPoller']} feed pollers, {counts['MediaListener']} media listeners, {counts['Commenter']} "
             f"commenters and {counts['Uploader']} uploaders (Locust in one process) against `clinex serve` "
             f"(waitress, {args.threads} threads, with its worker) on {database}, {os.cpu_count()} cores, load average "
             f"{load_before:.1f} before the run. Rate limits raised for the run "
             f"(`CLINEX_RATE_LIMITS={RAISED_LIMITS}`), so this measures throughput, not the limits.")
    text = report(rows, comments, uploads_stored, setup)
    if errors:
        text += "\n\nErrors the server logged: " + "; ".join(f"`{e}`" for e in errors) + "."
    print(text)
    if not args.no_docs:
        write_docs(text)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    sound = rows[-1]["5xx"] == 0 and comments["stored_once"] == comments["answered_ok"] and not comments["doubled"]
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
