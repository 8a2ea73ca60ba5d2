"""A small real site for browser checks: the app on a loopback port with a published episode
whose file is real audio (made by ffmpeg), a comment at a moment, and one account per role.

Used by the browser tests and by scripts/page_shots.py (screenshots and the accessibility table),
so both look at the same pages."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
SECONDS = 150  # long enough that skips and resumes are told apart from the start
WIDTHS = (390, 1280)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@dataclass(frozen=True)
class PageType:
    """One kind of page, the account that sees it (None: signed out) and how to find it."""

    name: str
    role: str | None
    path: str


def real_mp3(path: Path, seconds: int) -> bytes:
    """A real MP3 (a quiet tone) made by ffmpeg, so Chromium can decode and seek it."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
                    "-ac", "1", "-b:a", "32k", str(path)], check=True)
    return path.read_bytes()


@contextlib.contextmanager
def running_site(tmp_path: Path):
    """Yield a dict: base URL, the job context, the episode's slug, title and id, review ids."""
    from werkzeug.serving import make_server

    from pipeline.migrate import upgrade_database
    from pipeline.models import Comment
    from tests.webapp.factories import make_episode, make_user
    from webapp import create_app

    port = free_port()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
                      "SECRET_KEY": "browser-site", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    body = real_mp3(tmp_path / "tone.mp3", SECONDS)
    with ctx.sessions() as session:
        users = {role: make_user(session, role, trusted=True) for role in ("listener", "summarizer", "editor")}
        ep = make_episode(ctx, session, segments=40, seconds_per_segment=SECONDS / 40, author=users["summarizer"])
        media = ep.media_of("published")
        ctx.storage.put_bytes(media.storage_key, body, content_type="audio/mpeg")
        media.size, ep.duration = len(body), float(SECONDS)
        session.add(Comment(episode_id=ep.id, author_id=users["listener"].id, body="Dose here", timestamp=90.0,
                            state="visible"))
        waiting = make_episode(ctx, session, title="Rosacea and vascular lasers", status="in_review",
                               author=users["summarizer"])
        session.add(Comment(episode_id=ep.id, author_id=users["listener"].id, body="Waiting for an editor",
                            state="pending"))
        session.commit()
        info = {"slug": ep.slug, "title": ep.title, "id": ep.id, "review_id": waiting.id,
                "summarizer_id": users["summarizer"].id}
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {"base": f"http://127.0.0.1:{port}", "ctx": ctx, **info}
    finally:
        server.shutdown()


def page_types(site: dict) -> list[PageType]:
    slug = site["slug"]
    return [
        PageType("home", None, "/"),
        PageType("episode", None, f"/episodes/{slug}"),
        PageType("episode-signed-in", "listener", f"/episodes/{slug}"),
        PageType("embed", None, f"/episodes/{slug}/embed?t=30"),
        PageType("topic", None, "/tags/melasma"),
        PageType("event", None, "/events/aesthetic-lasers-summit"),
        PageType("speaker", None, "/speakers/ana-ribeiro"),
        PageType("summarizer", None, f"/summarizers/{site['summarizer_id']}"),
        PageType("search", None, "/search?q=melasma"),
        PageType("sign-in", None, "/login"),
        PageType("sign-up", None, "/signup"),
        PageType("error-404", None, "/episodes/no-such-episode"),
        PageType("account", "listener", "/account"),
        PageType("studio", "summarizer", "/studio/"),
        PageType("studio-upload", "summarizer", "/studio/upload"),
        PageType("review-queue", "editor", "/review/"),
        PageType("review-episode", "editor", f"/review/{site['review_id']}"),
        PageType("moderation", "editor", "/moderation/"),
        PageType("admin-users", "editor", "/admin/users"),
    ]


def new_page(browser, base: str, role: str | None, width: int, dark: bool = False):
    """A fresh browser context at ``width`` (a phone below 800 px), signed in as ``role``."""
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900}, is_mobile=phone,
                                  has_touch=phone, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.set_default_timeout(30_000)
    if role:
        page.goto(f"{base}/login")
        page.fill("#email", f"{role}@example.org")
        page.fill("#password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("a.who")
    return page


def axe_violations(page) -> list[dict]:
    """Run axe-core (from the npm package) in the page, under the site's own CSP; each violation
    as {id, impact, help, targets}."""
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run `npm ci` (make test does)")
    page.evaluate(AXE.read_text())  # evaluated by the browser's debugger, which the page's CSP does not govern
    result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})"
                           % AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
