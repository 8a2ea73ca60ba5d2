"""Page-time benchmark: the episode page of a two-hour talk (about 1500 transcript segments) and a
few other pages, rendered in-process through Flask's test client; then the same episode page in
Chromium with 4x CPU throttling (largest contentful paint and cumulative layout shift from the
browser's performance timeline) and the compressed bytes a phone loads before the transcript.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/pages.py [--segments 1500] [--runs 20] [--browser-runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import threading
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


# Registered before any page script runs; the page's CSP does not apply to what the browser's
# debugger injects, so the measurement needs nothing inline in our pages.
OBSERVE = """
window.__perf = {lcp: 0, cls: 0};
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__perf.lcp = e.startTime; })
  .observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__perf.cls += e.value; })
  .observe({type: 'layout-shift', buffered: true});
"""


def before_transcript_bytes(client, path: str) -> dict[str, int]:
    """gzip sizes of what must arrive before the first transcript line: the HTML up to the
    transcript, and the CSS and scripts the page loads."""
    html = client.get(path).data
    head = html[:html.index(b'<ol id="transcript"')] if b'<ol id="transcript"' in html else html
    sizes = {"html before transcript": len(gzip.compress(head)), "whole html": len(gzip.compress(html))}
    for name in ("site.css", "player.js", "episode.js"):
        sizes[name] = len(gzip.compress(client.get(f"/static/{name}").data))
    return sizes


def browser_figures(app, slug: str, runs: int) -> list[tuple[float, float]]:
    """(LCP ms, CLS) per cold load of the episode page in Chromium at 390 px, CPU slowed 4x."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tests.browser.site import CHROMIUM_ARGS

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/episodes/{slug}"
    figures = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                page.add_init_script(OBSERVE)
                page.goto(url, wait_until="load")
                page.wait_for_timeout(1500)  # let late shifts (the player appearing) be counted
                perf = page.evaluate("window.__perf")
                figures.append((perf["lcp"], perf["cls"]))
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--browser-runs", type=int, default=5, help="cold loads in Chromium (0: skip)")
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
        sizes = before_transcript_bytes(client, f"/episodes/{slug}")
        first = sum(v for k, v in sizes.items() if k != "whole html")
        print("gzip KB: " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in sizes.items()))
        print(f"before the transcript: {first / 1024:.1f} KB compressed vs 100 KB target ({first / 102400:.2f}x)")
        if args.browser_runs:
            figures = browser_figures(app, slug, args.browser_runs)
            lcp = statistics.median(f[0] for f in figures)
            cls = max(f[1] for f in figures)
            print(f"Chromium, 390 px, 4x CPU throttling, {len(figures)} cold loads: LCP median {lcp:.0f} ms "
                  f"(min {min(f[0] for f in figures):.0f}, max {max(f[0] for f in figures):.0f}; target 1500 ms, "
                  f"{lcp / 1500:.2f}x), CLS worst {cls:.3f} (target 0.05)")


if __name__ == "__main__":
    main()
