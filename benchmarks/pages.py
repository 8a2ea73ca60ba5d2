"""Page-time benchmark: the episode page of a two-hour talk (about 1500 transcript segments) and a
few other pages, rendered in-process through Flask's test client. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/pages.py [--segments 1500] [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_site(folder: Path, segments: int):
    from pipeline.migrate import upgrade_database
    from tests.webapp.factories import make_episode, make_user
    from webapp import create_app

    app = create_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench", "BASE_URL": "http://bench.test",
                      "BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    with ctx.sessions() as session:
        author = make_user(session, "summarizer")
        # 7200 s / 1500 segments = 4.8 s a segment, what Whisper produces on a lecture
        episode = make_episode(ctx, session, title="Two-hour masterclass", segments=segments,
                               seconds_per_segment=7200 / segments, author=author)
        return app, episode.slug


def time_get(client, path: str, runs: int) -> list[float]:
    client.get(path)  # warm the template cache and the connection pool
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinex-bench-") as tmp:
        app, slug = build_site(Path(tmp), args.segments)
        client = app.test_client()
        print(f"episode with {args.segments} transcript segments; {args.runs} runs each; target <= 300 ms")
        print(f"{'page':<44}{'min ms':>8}{'median ms':>10}{'p95 ms':>9}{'KB':>7}")
        for path in (f"/episodes/{slug}", f"/episodes/{slug}?q=melasma", "/", "/search?q=picosecond+melasma"):
            times = sorted(time_get(client, path, args.runs))
            size = len(client.get(path).data) / 1024
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{path[:43]:<44}{times[0]:>8.1f}{statistics.median(times):>10.1f}{p95:>9.1f}{size:>7.0f}")
        times = time_get(client, f"/episodes/{slug}", args.runs)
        # min is the page's own cost; the median also carries whatever else the machine is doing
        print(f"episode page vs 300 ms target: min {min(times) / 300:.2f}x, median {statistics.median(times) / 300:.2f}x")


if __name__ == "__main__":
    main()
