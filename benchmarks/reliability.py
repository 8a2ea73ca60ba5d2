"""Reliability checks: runs the crash, bad-input, doctor and backup tests and writes the results as
a table to docs/reliability.md, so the page says what was last measured. Prints the table too.

    .venv/bin/python benchmarks/reliability.py [--out docs/reliability.md] [--skip-crash]

The figures (recovery time, segments kept) come from the tests' `record_property` values in the
JUnit XML that pytest writes; nothing here asserts a time. Sections other scripts keep on the page
between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers (benchmarks/load.py's figures) are
carried over unchanged.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = {  # file -> what the row is about
    "tests/integration/test_crash_recovery.py": "Worker SIGKILLed mid-job, new worker started",
    "tests/integration/test_bad_inputs.py": "Bad input corpus (CLI and HTTP API): refused, nothing stored",
    "tests/integration/test_hostile_input.py": "Hostile strings (XSS corpus) through the API and forms: every page, "
                                               "feed and JSON file inert",
    "tests/integration/test_server_kill.py": "`clinex serve` SIGKILLed mid form upload (body arriving; file going to S3): "
                                             "nothing half-stored, doctor removes the spool and aborts the S3 parts, "
                                             "restart takes the file whole; embedded worker stops with its server",
    "tests/integration/test_broker_outage.py": "Broker (Redis) stopped during an ingest, then started: jobs delayed, none lost",
    "tests/integration/test_storage_faults.py": "S3 server stopped mid-upload: clear error, no partial object, retry works",
    "tests/integration/test_two_workers.py": "Two workers on PostgreSQL + Redis + S3, four uploads: each job runs once",
    "tests/pipeline/test_doctor.py": "`clinex doctor`: orphans, missing media, stale jobs, stuck episodes, abandoned and "
                                     "unfinished uploads (local + S3)",
    "tests/pipeline/test_backup.py": "`clinex backup` / `clinex restore` round trips (SQLite, PostgreSQL, across)",
    "tests/webapp/test_sign_in_protection.py": "Sign-in attacked from elsewhere: the owner's browser (device cookie) signs "
                                               "in, failures slow an account down instead of locking it, a clinic NAT "
                                               "is not stopped by typos, every slow-down is in the sign-in log",
    "tests/webapp/test_base_url.py": "`clinex serve` without CLINEX_BASE_URL: warns and links follow its port; refuses "
                                     "a network bind or https",
}


def run_tests(files: list[str], xml: Path) -> None:
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "-o", "junit_family=legacy",
           f"--junitxml={xml}"]
    subprocess.run(cmd, cwd=ROOT, check=False)


def read_results(xml: Path) -> dict[str, list[dict]]:
    """Test cases grouped by file: name, outcome, seconds and recorded properties."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    for case in ET.parse(xml).iter("testcase"):
        outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else \
            "skipped" if case.find("skipped") is not None else "passed"
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        path = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        by_file[path].append({"name": case.get("name"), "outcome": outcome, "seconds": float(case.get("time", 0)),
                              "props": props})
    return by_file


def crash_rows(cases: list[dict]) -> list[str]:
    rows = []
    for case in cases:
        kind = case["name"].split("[", 1)[-1].rstrip("]") if "[" in case["name"] else "publishing"
        p = case["props"]
        kept = f"{p['segments']} segments, contiguous, none repeated; " if "segments" in p else ""
        figures = (f"killed at {float(p['progress_at_kill']):.1%} progress; recovered by {p['recovered_by']} "
                   f"in {p['recovery_seconds']} s; {kept}no orphaned keys") if p else "no figures recorded"
        rows.append(f"| Worker SIGKILLed during {kind} | {_mark(case)} | {figures} |")
    return rows


def summary_row(title: str, cases: list[dict]) -> str:
    passed = sum(c["outcome"] == "passed" for c in cases)
    skipped = sum(c["outcome"] == "skipped" for c in cases)
    note = f"{passed}/{len(cases)} cases passed" + (f", {skipped} skipped" if skipped else "")
    return f"| {title} | {'held' if passed == len(cases) else 'FAILED' if passed + skipped < len(cases) else 'partly skipped'} | {note} |"


def _mark(case: dict) -> str:
    return {"passed": "held", "failed": "FAILED", "skipped": "skipped"}[case["outcome"]]


def render(by_file: dict[str, list[dict]]) -> str:
    lines = ["# Reliability", "",
             f"Generated by `benchmarks/reliability.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
             f"rerun it to refresh this page. Load average while it ran: {_load()} on {os.cpu_count()} cores "
             "(recovery times grow with it: they include re-running the rest of the job on a busy machine).", "",
             "| check | result | figures |", "|---|---|---|"]
    for path, title in SUITES.items():
        cases = _cases_for(by_file, path)
        if not cases:
            continue
        lines += crash_rows(cases) if "crash" in path else [summary_row(title, cases)]
    lines += ["", "## How a killed job is recovered", "",
              "On the embedded broker (kombu's SQLAlchemy transport on SQLite) a worker hides a message when it",
              "takes it; only a clean shutdown puts it back, and the transport has no visibility timeout, so",
              "`acks_late` does not bring back a job whose worker was SIGKILLed. The next worker does, by itself:",
              "on start and every few minutes it finds Job rows still `running` under a worker process that no",
              "longer exists (or with no heartbeat for `CLINEX_STALE_JOB_SECONDS`), puts them back in the queue",
              "with a compare-and-set UPDATE and sends them again. The job resumes where it stopped",
              "(transcription keeps the segments it saved; publishing stores the same tagged file under the same",
              "key). After three such stops a job is failed with a reason an editor can act on (`clinex retry`).",
              "`clinex doctor --fix` does the same by hand, and also cleans orphaned files.", ""]
    return "\n".join(lines)


_KEPT = re.compile(r"<!-- (\w+):start -->.*?<!-- \1:end -->", re.S)


def keep_marked_sections(old_page: str, new_page: str) -> str:
    """``new_page`` with the marked sections of ``old_page`` that it lacks added at its end."""
    kept = [m.group(0) for m in _KEPT.finditer(old_page) if f"<!-- {m.group(1)}:start -->" not in new_page]
    return "\n".join([new_page.rstrip("\n"), *("\n" + block for block in kept)]) + "\n"


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _cases_for(by_file: dict[str, list[dict]], path: str) -> list[dict]:
    module = path.removesuffix(".py").replace("/", ".")
    return [c for key, cases in by_file.items() if key in (path, module, module.replace(".", "/") + ".py")
            for c in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--skip-crash", action="store_true", help="Leave out the slow crash tests.")
    args = parser.parse_args()
    files = [f for f in SUITES if not (args.skip_crash and "crash" in f)]
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "results.xml"
        run_tests(files, xml)
        page = render(read_results(xml))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    page = keep_marked_sections(args.out.read_text() if args.out.exists() else "", page)
    args.out.write_text(page)
    print(page)


if __name__ == "__main__":
    main()
