"""Learning-record benchmark: one listener who heard N episodes (every one with a reflection, a
third fetched through a private feed), timed for the record query, the CSV and the PDF log,
in-process on SQLite. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/learning.py [--episodes 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(folder: Path, count: int):
    from pipeline.db import session_factory
    from pipeline.learning import note_feed_download
    from pipeline.migrate import upgrade_database
    from pipeline.models import Episode, EpisodePerson, Event, Listen, Person, Reflection, User, utcnow

    url = f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade_database(url)
    sessions = session_factory(url)
    with sessions.begin() as session:
        user = User(email="ana@example.org", display_name="Dr. Ana", password_hash="x", role="listener")
        event, person = Event(name="Aesthetic Lasers Summit", slug="als"), Person(name="Dr. Li Wei", slug="li")
        session.add_all([user, event, person])
        session.flush()
        now = utcnow()
        for i in range(count):
            ep = Episode(title=f"Session {i}: picosecond lasers and melasma", slug=f"s-{i}", status="published",
                         duration=2700.0, event=event)
            ep.people.append(EpisodePerson(person=person, position=0))
            session.add(ep)
            session.flush()
            session.add(Listen(user_id=user.id, episode_id=ep.id, position_seconds=600, heard_seconds=600 + i,
                               updated_at=now - timedelta(hours=i)))
            session.add(Reflection(user_id=user.id, episode_id=ep.id, text="Offer test patches first. " * 8))
            if i % 3 == 0:
                note_feed_download(session, user.id, ep.id, None, now=now - timedelta(hours=i))
        return sessions, user.id


def timed(fn, runs: int) -> tuple[float, object]:
    result, times = None, []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from pipeline.learning import learning_record
    from pipeline.learning_export import LogHeading, record_csv, record_pdf
    from pipeline.models import utcnow

    with tempfile.TemporaryDirectory() as tmp:
        sessions, user_id = build(Path(tmp), args.episodes)

        def query():
            with sessions() as session:
                return learning_record(session, user_id)

        query_s, record = timed(query, args.runs)
        heading = LogHeading(name="Dr. Ana", email="ana@example.org", site="http://bench.test", made_at=utcnow())
        csv_s, text = timed(lambda: record_csv(record), args.runs)
        pdf_s, body = timed(lambda: record_pdf(record, heading), args.runs)
    print(f"{args.episodes} episodes, median of {args.runs} runs")
    print(f"record query  {query_s * 1000:8.1f} ms")
    print(f"CSV           {csv_s * 1000:8.1f} ms  {len(text.encode()) / 1024:7.1f} KiB")
    print(f"PDF log       {pdf_s * 1000:8.1f} ms  {len(body) / 1024:7.1f} KiB  "
          f"({pdf_s / args.episodes * 1000:.2f} ms per episode)")


if __name__ == "__main__":
    main()
