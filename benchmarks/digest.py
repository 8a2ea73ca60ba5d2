"""Benchmark: a daily digest run for 10,000 members and 100 new episodes.

    .venv/bin/python benchmarks/digest.py                       # SQLite (the README figures)
    .venv/bin/python benchmarks/digest.py --database-url postgresql+psycopg://postgres@127.0.0.1/test_digest
    .venv/bin/python benchmarks/digest.py --members 2000 --episodes 20 --no-deliver

Each member follows 3 of 20 topics (seeded random), each episode has 2 topics, so a member hears
of ~28 episodes. Times, each on its own: announcing the 100 episodes to their followers (one
notification row per follower per episode), building and queueing the digests (one outbox
message per member), and delivering them to the embedded Maildir. Target on the 2-core machine:
the digest run (build + queue) under 60 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from pipeline.community.delivery import queue_digests  # noqa: E402
from pipeline.community.mail import drain_outbox  # noqa: E402
from pipeline.community.models import Follow, Notification, OutboxMessage  # noqa: E402
from pipeline.community.notifications import notify_new_episode  # noqa: E402
from pipeline.db import session_factory  # noqa: E402
from pipeline.migrate import upgrade_database  # noqa: E402
from pipeline.models import Episode, EpisodeTag, Tag, User, utcnow  # noqa: E402
from pipeline.settings import ensure_instance, load_settings  # noqa: E402

TOPICS, FOLLOWED, PER_EPISODE = 20, 3, 2


def populate(sessions, members: int, episodes: int, rng: random.Random) -> list[int]:
    with sessions.begin() as s:
        s.execute(insert(Tag), [{"name": f"Topic {t}", "slug": f"topic-{t}", "category": "topic"} for t in range(TOPICS)])
        tags = list(s.scalars(select(Tag.id)))
        s.execute(insert(User), [{"email": f"m{n}@example.org", "display_name": f"Dr. Member {n}", "password_hash": "x",
                                  "role": "listener", "trusted": False, "active": True, "must_change_password": False,
                                  "created_at": utcnow()} for n in range(members)])
        users = list(s.scalars(select(User.id)))
        s.execute(insert(Follow), [{"user_id": u, "target_kind": "tag", "target_id": t, "created_at": utcnow()}
                                   for u in users for t in rng.sample(tags, FOLLOWED)])
        ids = []
        for n in range(episodes):
            ep = Episode(title=f"Episode {n}: lasers and fillers", slug=f"episode-{n}", status="published",
                         published_at=utcnow())
            s.add(ep)
            s.flush()
            s.add_all([EpisodeTag(episode_id=ep.id, tag_id=t, accepted=True) for t in rng.sample(tags, PER_EPISODE)])
            ids.append(ep.id)
    return ids


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.2f} s")
    return result, seconds


def announce(sessions, episode_ids: list[int]) -> int:
    with sessions.begin() as s:
        return sum(notify_new_episode(s, s.get(Episode, i)) for i in episode_ids)


def digest(sessions, settings):
    with sessions.begin() as s:
        return queue_digests(s, settings, "daily")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-deliver", action="store_true", help="skip writing the messages to the Maildir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = ensure_instance(load_settings({"INSTANCE_PATH": tmp, "DATABASE_URL": args.database_url,
                                                  "BASE_URL": "https://clinex.example"}))
        upgrade_database(settings.DATABASE_URL)
        sessions = session_factory(settings.DATABASE_URL)
        print(f"{args.members} members, {args.episodes} new episodes, database "
              f"{settings.DATABASE_URL.split(':', 1)[0]}")
        episode_ids, _ = timed("populate (members, follows, episodes)",
                               lambda: populate(sessions, args.members, args.episodes, random.Random(16)))
        rows, fan_out = timed("announce episodes to followers", lambda: announce(sessions, episode_ids))
        report, run = timed("digest run: build + queue (target < 60 s)", lambda: digest(sessions, settings))
        print(f"  notifications {rows}, digests {report.members}, items {report.items} "
              f"({report.items / max(1, report.members):.1f} per member), {report.members / run:.0f} digests/s")
        if not args.no_deliver:
            sent, _ = timed("deliver to the embedded Maildir", lambda: drain_outbox(sessions, settings, limit=10**6))
            print(f"  sent {len(sent.sent)}, retrying {len(sent.retrying)}")
        with sessions() as s:
            left = s.scalar(select(func.count(Notification.id)).where(Notification.email == "daily"))
            queued = s.scalar(select(func.count(OutboxMessage.id)))
        print(f"  waiting for a digest afterwards: {left}; outbox rows: {queued}")


if __name__ == "__main__":
    main()
