"""Sign-in protection figures: how many passwords a guesser gets per account per day under the
slow-down (from the real DelayPolicy), against the old lock, and what the protection costs a
request (the sign-in form through Flask's test client on SQLite with a busy audit log). Prints the
figures and writes them between the `sign-in` markers of docs/reliability.md; asserts nothing.

    .venv/bin/python benchmarks/sign_in.py [--events 50000] [--runs 40] [--no-docs]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "reliability.md"
MARK_START, MARK_END = "<!-- sign-in:start -->", "<!-- sign-in:end -->"


def guesses_per_day(policy) -> int:
    """Tries a guesser without the owner's device cookie gets in 24 h, trying the moment each wait ends."""
    t, failures = 0.0, 0
    while t < policy.window_seconds:
        failures += 1
        t += max(1, policy.delay_after(failures))
    return failures


def old_lock_guesses_per_day() -> int:
    return 10 * (24 * 3600 // 300)  # before: 10 per 5 minutes per email, then a 5-minute lock for everyone


def build_app(folder: Path, events: int):
    from pipeline.migrate import upgrade_database
    from pipeline.models import SignInEvent
    from pipeline.sign_in import DelayPolicy
    from tests.webapp.factories import make_user
    from webapp import create_app

    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench", "BASE_URL": "http://bench.test",
                      "BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}",
                      "RATE_LIMITS": "login=100000000/900"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    # never slowed down here, so every timed POST checks its password: the full cost is measured
    app.config["SIGNIN_DELAY"] = DelayPolicy(free_failures=10**9)
    now = datetime.now(timezone.utc)
    with ctx.sessions() as session:
        make_user(session, "editor")
        session.add_all(SignInEvent(email=f"user{i % 2000}@clinic.example", kind="failed", address=f"10.0.{i % 250}.1",
                                    created_at=now - timedelta(seconds=i)) for i in range(events))
        session.commit()
    return app


def time_posts(app, email: str, password: str, runs: int) -> list[float]:
    from tests.webapp.conftest import token_for

    times = []
    for i in range(runs):
        client = app.test_client()
        token = token_for(client)
        started = time.perf_counter()
        client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                    environ_base={"REMOTE_ADDR": f"192.0.2.{i % 200}"})
        times.append((time.perf_counter() - started) * 1000)
    return times


def time_guard(app, runs: int) -> list[float]:
    """The protection alone: the wait check and a failure's record (no password hashing)."""
    from pipeline.sign_in import Attempt, record_failure, wait_seconds

    ctx, policy, times = app.extensions["clinex"], app.config["SIGNIN_DELAY"], []
    for i in range(runs):
        attempt = Attempt(f"user{i % 2000}@clinic.example", "192.0.2.1")
        started = time.perf_counter()
        with ctx.sessions.begin() as session:
            wait_seconds(session, attempt, policy)
            record_failure(session, attempt, None, policy)
        times.append((time.perf_counter() - started) * 1000)
    return times


def write_docs(body: str) -> None:
    block = f"{MARK_START}\n## Sign-in protection\n\n{body}\n{MARK_END}"
    page = DOC.read_text()
    pattern = re.compile(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), re.S)
    page = pattern.sub(lambda _m: block, page) if pattern.search(page) else page.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="sign-in events already in the audit log")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/reliability.md alone")
    args = parser.parse_args()
    from pipeline.sign_in import DelayPolicy

    policy = DelayPolicy()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp), args.events)
        guard = time_guard(app, args.runs)
        failed = time_posts(app, "editor@example.org", "wrong password", args.runs)
        unknown = time_posts(app, "nobody@clinic.example", "wrong password", args.runs)
    figures = {
        "guesses a day per account (default 5/30/900, no device cookie)": guesses_per_day(policy),
        "guesses a day per account before (10 per 5 min, then a lock)": old_lock_guesses_per_day(),
        "longest wait the owner meets in a new browser (s)": policy.longest_delay,
        "wait check + failure record, median ms": round(statistics.median(guard), 1),
        "failed sign-in POST, existing account, median ms": round(statistics.median(failed), 1),
        "failed sign-in POST, unknown email, median ms": round(statistics.median(unknown), 1),
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(f"| {name} | {value} |" for name, value in figures.items())
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (f"`benchmarks/sign_in.py` on {when}, SQLite, {args.events} events already in the sign-in log, "
            f"{args.runs} runs each; load average {load} on {os.cpu_count()} cores shared with other work "
            f"(the POST times are mostly argon2 and grow with the load).\n\n| figure | value |\n|---|---|\n{rows}\n")
    if not args.no_docs:
        write_docs(body + "\n" + EXPLANATION)


EXPLANATION = """\
What protects sign-in, and what it was tested against (`tests/webapp/test_sign_in_protection.py`,
`tests/webapp/test_accounts.py`, `tests/pipeline/test_sign_in.py`; run against the real sign-in form with argon2 hashes, SQLite, and
clients at different addresses):

- **No lock, a growing wait.** After `CLINEX_SIGNIN_DELAY`'s free failures (5) in a day since the
  last success, the account waits 30 s before the next try, doubling with each further wrong
  password up to 15 minutes; while it waits, the password is not checked and the answer is 429
  with `Retry-After` and a sentence saying how long. The right password works the moment the wait
  is over. Tested: waits of 30, 60, 120 s and the cap (with a 3/30/120 policy); the right password
  after the wait signs in; the counting alone on SQLite and PostgreSQL (`tests/pipeline/test_sign_in.py`).
- **The owner's browser is not held back.** A successful sign-in leaves a signed device cookie
  (`clinex_device`, 180 days) naming the account. A browser showing it has a count of its own:
  twelve failures from an attacker's address leave it signing in at once, even from that address,
  while a new browser waits. A cookie for another account, or a tampered one, counts as none; a
  known browser that keeps failing waits on its own (a stolen cookie buys no unlimited guesses).
- **A clinic behind one NAT address.** The per-address limit counts failed sign-ins only, 100 per
  15 minutes by default (`CLINEX_RATE_LIMITS` `login=`): 99 typos by 33 colleagues from one
  address stop nobody; the 100th fills the window, then that address waits (429, `Retry-After`).
- **Everything is in the sign-in log.** Every failure, sign-in, slow-down (with its wait) and
  address limit is a row of `sign_in_events` (kept 90 days), shown to editors at
  `/admin/sign-ins`; the accounts page shows, per account, the failed sign-ins of the last 24 h,
  the last address and the wait new browsers meet.
- **Sessions follow the password.** A session carries a keyed digest of the password hash: a
  reset (or a change, which keeps the changing browser signed in) ends every other session.

Tries refused during a wait are not logged one by one (a guesser could fill the log with them);
the slow-down that refused them is. Not covered: requests racing in parallel can each pass the wait check before the first failure is
written (the address limit bounds them); an unknown email answers faster than an existing one (no
hash to check), as before.
"""

if __name__ == "__main__":
    main()
