"""Plain functions behind the CLI (and usable from tests): each opens what it needs and returns data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from feeds.check import check_feed
from pipeline import review
from pipeline.accounts import count_editors, create_user, find_user, set_role
from pipeline.backup import backup, restore
from pipeline.doctor import diagnose
from pipeline.errors import ClinexError, InvalidUpload, NotFound
from pipeline.ingest import ingest_notes_only, ingest_upload
from pipeline.jobs import InlineDispatcher, JobContext
from pipeline.migrate import current_revision, upgrade_database
from pipeline.models import Episode, EpisodeStatus, Job, Tag, User
from pipeline.notes import meta_from_fields
from pipeline.settings import Settings, load_settings, settings_as_rows
from pipeline.text import slugify

from . import create_app
from .base_url import settle_base_url
from .context import CeleryDispatcher, web_context
from .corrections import accept_recurring, recurring_corrections
from .feed_data import published_episodes, render_feed

STATUSES = [s.value for s in EpisodeStatus]
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "pipeline" / "sample"
DEFAULT_EDITOR = "editor@clinical-exchange.example"


def context(settings: Settings | None = None) -> JobContext:
    return web_context(settings)


def upgrade(settings: Settings | None = None) -> str:
    ctx = context(settings)
    upgrade_database(ctx.settings.DATABASE_URL)
    return current_revision(ctx.settings.DATABASE_URL) or "base"


@dataclass
class InitReport:
    instance_path: str
    revision: str
    editor_email: str | None = None
    editor_password: str | None = None
    sample_episode: int | None = None
    sample_summary: int | None = None  # the notes-only sample


def initialize(sample: bool = False, echo: Callable[[str], None] = print, settings: Settings | None = None,
               summary_sample: bool = True) -> InitReport:
    """Migrate, make sure an editor exists, and with ``sample`` publish the bundled lecture and
    the bundled article summary (a notes-only episode, unless ``summary_sample`` is False) once."""
    ctx = context(settings)
    report = InitReport(str(ctx.settings.instance_path), upgrade(ctx.settings))
    with ctx.session() as session:
        if count_editors(session) == 0:
            user, password = create_user(session, DEFAULT_EDITOR, "Editor", "editor")
            report.editor_email, report.editor_password = user.email, password
        has_episodes = session.scalar(select(func.count(Episode.id))) > 0
    if sample and not has_episodes:
        echo("Ingesting and transcribing the bundled sample lecture (once)...")
        result = ingest_file(SAMPLE_DIR / "lecture.mp3", notes_path=SAMPLE_DIR / "lecture.md", wait=True,
                             settings=ctx.settings)
        if result["status"] != EpisodeStatus.in_review.value:
            raise ClinexError(f"The sample lecture did not reach review: {result.get('failure_reason')}")
        approve(result["id"], editor_email=report.editor_email or DEFAULT_EDITOR, note="bundled sample",
                settings=ctx.settings)
        report.sample_episode = result["id"]
        if summary_sample:
            report.sample_summary = publish_sample_summary(report.editor_email or DEFAULT_EDITOR, echo, ctx.settings)
    return report


def publish_sample_summary(editor_email: str, echo: Callable[[str], None] = print,
                           settings: Settings | None = None) -> int:
    """The bundled notes-only sample (an article summary), voiced and published; its episode id."""
    echo("Voicing the bundled sample article summary (once)...")
    result = ingest_notes_file(SAMPLE_DIR / "article_summary.md", wait=True, quiet=True, settings=settings)
    if result["status"] != EpisodeStatus.in_review.value:
        raise ClinexError(f"The sample summary did not reach review: {result.get('failure_reason')}")
    approve(result["id"], editor_email=editor_email, note="bundled sample", settings=settings)
    return result["id"]


def add_user(email: str, name: str | None, role: str, password: str | None, settings: Settings | None = None) -> str:
    with context(settings).session() as session:
        _user, password = create_user(session, email, name or "", role, password)
    return password


def list_users(settings: Settings | None = None) -> list[dict]:
    with context(settings).session() as session:
        return [{"id": u.id, "email": u.email, "name": u.display_name, "role": u.role, "trusted": u.trusted}
                for u in session.scalars(select(User).order_by(User.id))]


def set_user_role(email: str, role: str, settings: Settings | None = None) -> None:
    with context(settings).session() as session:
        set_role(session, email, role)


def ingest_file(audio_path: Path, *, notes_path: Path | None = None, title=None, event=None, speakers=(), tags=(),
                recorded_on=None, author_email=None, wait=False, quiet=False, settings: Settings | None = None) -> dict:
    """Ingest a recording from disk; with ``wait`` run its jobs here until it is in review (or failed)."""
    ctx = context(settings)
    audio_path = Path(audio_path)
    if not audio_path.is_file():
        raise InvalidUpload(f"No such file: {audio_path}.")
    if notes_path is not None and not Path(notes_path).is_file():
        raise InvalidUpload(f"No such notes file: {notes_path}.")
    meta = meta_from_fields(title, event, list(speakers or ()), recorded_on, list(tags or ()), date_label="--date")
    with ctx.session() as session:
        author_id = _actor(session, author_email).id if author_email else None
    result = ingest_upload(ctx, audio_path, filename=audio_path.name, meta=meta, author_id=author_id,
                           notes_text=Path(notes_path).read_bytes() if notes_path is not None else None)
    if wait:
        _run_inline(ctx, result.job_ids, quiet)
    else:
        CeleryDispatcher(_celery(ctx.settings)).dispatch(result.job_ids)
    return episode_row(ctx, result.episode_id)


NOTES_SUFFIXES = (".md", ".markdown", ".txt")


def ingest_notes_file(notes_path: Path, *, title=None, event=None, speakers=(), tags=(), recorded_on=None,
                      author_email=None, wait=False, quiet=False, settings: Settings | None = None) -> dict:
    """Make an episode of summary notes alone (voiced); with ``wait`` run its jobs here."""
    ctx = context(settings)
    if not Path(notes_path).is_file():
        raise InvalidUpload(f"No such notes file: {notes_path}.")
    meta = meta_from_fields(title, event, list(speakers or ()), recorded_on, list(tags or ()), date_label="--date")
    with ctx.session() as session:
        author_id = _actor(session, author_email).id if author_email else None
    result = ingest_notes_only(ctx, meta=meta, notes_text=Path(notes_path).read_bytes(), author_id=author_id)
    if wait:
        _run_inline(ctx, result.job_ids, quiet)
    else:
        CeleryDispatcher(_celery(ctx.settings)).dispatch(result.job_ids)
    return episode_row(ctx, result.episode_id)


def _celery(settings: Settings):
    from .celery_app import create_celery

    return create_celery(settings)


def _run_inline(ctx: JobContext, job_ids: list[int], quiet: bool) -> None:
    if quiet:
        InlineDispatcher(ctx).dispatch(job_ids)
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<14}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn()) as bars:
        tasks: dict[int, int] = {}

        def on_progress(job_id: int, fraction: float) -> None:
            if job_id not in tasks:
                with ctx.session() as session:
                    kind = session.get(Job, job_id).kind
                tasks[job_id] = bars.add_task(kind.replace("_", " "), total=1.0)
            bars.update(tasks[job_id], completed=fraction)

        InlineDispatcher(ctx, on_progress).dispatch(job_ids)
        for task_id in tasks.values():
            bars.update(task_id, completed=1.0)


def episode_row(ctx: JobContext, episode_id: int) -> dict:
    with ctx.session() as session:
        ep = session.get(Episode, episode_id)
        if ep is None:
            raise NotFound(f"No episode {episode_id}.")
        return _row(ctx, ep)


def _row(ctx: JobContext, ep: Episode) -> dict:
    base = ctx.settings.BASE_URL
    return {"id": ep.id, "slug": ep.slug, "title": ep.title, "status": ep.status, "guid": ep.guid,
            "event": ep.event.name if ep.event else None, "duration": ep.duration,
            "published_at": ep.published_at.isoformat() if ep.published_at else None,
            "failure_reason": ep.failure_reason, "url": f"{base}/episodes/{ep.slug}",
            "url_review": f"{base}/review/{ep.id}"}


def list_episodes(status: str | None = None, oldest_first: bool = False, settings: Settings | None = None) -> list[dict]:
    ctx = context(settings)
    with ctx.session() as session:
        query = select(Episode)
        if status:
            query = query.where(Episode.status == status)
        order = Episode.updated_at if oldest_first else Episode.id.desc()
        return [_row(ctx, ep) for ep in session.scalars(query.order_by(order))]


def glossary_suggest(accept=(), accept_all: bool = False, min_episodes: int = 2,
                     settings: Settings | None = None) -> tuple[list[dict], list[dict]]:
    """Word swaps people made in ``min_episodes`` or more episodes (numbered from 1), and those
    accepted into the glossary now (``accept`` numbers, or all). Raises ClinexError for a
    number not on the list, adding nothing."""
    ctx = context(settings)
    with ctx.session() as session:
        found = recurring_corrections(session, min_episodes)
        numbers = range(1, len(found) + 1) if accept_all else list(accept)
        accepted = accept_recurring(session, found, numbers)
        rows = [{"number": n, "heard": r.heard, "term": r.corrected, "episodes": list(r.episodes)}
                for n, r in enumerate(found, start=1)]
        return rows, [row for row in rows if any(row["heard"] == a.heard and row["term"] == a.corrected
                                                 for a in accepted)]


def list_jobs(limit: int = 30, settings: Settings | None = None) -> list[dict]:
    with context(settings).session() as session:
        jobs = session.scalars(select(Job).order_by(Job.id.desc()).limit(limit))
        return [{"id": j.id, "episode_id": j.episode_id, "kind": j.kind, "state": j.state,
                 "progress": round(j.progress, 3), "attempts": j.attempts, "error": j.error,
                 "started_at": j.started_at, "finished_at": j.finished_at} for j in jobs]


def show_jobs(limit: int, watch: bool = False, settings: Settings | None = None) -> None:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    def table() -> Table:
        t = Table("job", "episode", "kind", "state", "progress", "attempts", "error")
        for j in list_jobs(limit, settings):
            t.add_row(str(j["id"]), str(j["episode_id"]), j["kind"], j["state"], f"{j['progress']:.0%}",
                      str(j["attempts"]), (j["error"] or "")[:60])
        return t

    if not watch:
        Console().print(table())
        return
    with Live(table(), refresh_per_second=2) as live:
        while True:
            time.sleep(1)
            live.update(table())


def _get_episode(session, episode_id: int) -> Episode:
    ep = session.get(Episode, episode_id)
    if ep is None:
        raise NotFound(f"No episode {episode_id}.")
    return ep


def _actor(session, email: str | None) -> User | None:
    if not email:
        return None
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"No account for {email}.")
    return user


def approve(episode_id: int, editor_email: str | None = None, note: str | None = None,
            settings: Settings | None = None) -> str:
    ctx = context(settings)
    with ctx.session() as session:
        slug = _get_episode(session, episode_id).slug
        actor = _actor(session, editor_email)
    review.approve(ctx, episode_id, actor.id if actor else None, note=note)
    return f"{ctx.settings.BASE_URL}/episodes/{slug}"


def reject(episode_id: int, note: str, editor_email: str | None = None, settings: Settings | None = None) -> None:
    ctx = context(settings)
    with ctx.session() as session:
        actor = _actor(session, editor_email)
    review.send_back(ctx, episode_id, actor.id if actor else None, note)


def unpublish(episode_id: int, note: str | None = None, settings: Settings | None = None) -> None:
    review.unpublish(context(settings), episode_id, None, note)


def retry(episode_id: int, settings: Settings | None = None) -> int:
    ctx = context(settings)
    job_ids = review.retry(ctx, episode_id)
    CeleryDispatcher(_celery(ctx.settings)).dispatch(job_ids)
    return len(job_ids)


def spoken_extras(episode_id: int, *, intro: bool, summary: bool, editor_email: str | None = None, wait: bool = False,
                  quiet: bool = False, settings: Settings | None = None) -> dict:
    """Choose a recording's spoken introduction and summary and make the listening file anew;
    with ``wait`` here (progress bars unless ``quiet``), else by the workers."""
    ctx = context(settings)
    with ctx.session() as session:
        actor = _actor(session, editor_email)
    job_ids = review.choose_extras(ctx, episode_id, actor.id if actor else None, intro=intro, summary=summary)
    if wait:
        _run_inline(ctx, job_ids, quiet)
    else:
        CeleryDispatcher(_celery(ctx.settings)).dispatch(job_ids)
    return episode_row(ctx, episode_id)


def render_feed_bytes(tag: str | None = None, settings: Settings | None = None) -> bytes:
    ctx = context(settings)
    with ctx.session() as session:
        if tag is None:
            return render_feed(session, ctx.settings, published_episodes(session), path="/feed.xml")
        found = session.scalars(select(Tag).where(Tag.slug == slugify(tag))).first()
        if found is None:
            raise NotFound(f"No topic tag {tag!r}.")
        return render_feed(session, ctx.settings, published_episodes(session, tag=found),
                           path=f"/tags/{found.slug}/feed.xml", title_suffix=found.name)


FORM_OVERHEAD_BYTES = 2 << 20  # above the app's own limit: the upload plus 1 MB of form


def _die_with_parent() -> None:
    """In the embedded worker before it starts: SIGTERM it if the server dies, even by SIGKILL,
    so no worker is left running jobs for a server that is gone (Linux; elsewhere a no-op)."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(host: str, port: int, *, threads: int = 8, with_worker: bool = True, echo=print,
          settings: Settings | None = None, url_scheme: str = "http", warn=print) -> None:
    """waitress in this process, and one worker process beside it (stopped with the server).

    Raises ConfigError, before anything starts, when CLINEX_BASE_URL is unset for a server others
    reach (non-loopback host, https); unset on loopback, ``warn`` says so and links use host:port."""
    from waitress import serve as waitress_serve

    warning = settle_base_url(settings or load_settings(), host, port, url_scheme)
    if warning:
        warn(warning)
    ctx = context(settings)
    upgrade_database(ctx.settings.DATABASE_URL)
    app = create_app()
    child = None
    if with_worker:
        # Two job slots: audio preparation and transcription of an upload run side by side.
        child = subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--concurrency", "2"], env={**os.environ},
                                 preexec_fn=_die_with_parent)
        echo(f"Worker started (pid {child.pid}).")
    echo(f"Serving on http://{host}:{port}  (feed: http://{host}:{port}/feed.xml)")
    try:
        # waitress refuses bodies over 1 GB by default; the app's own limit (a clear 413 page)
        # must be the one that applies, so waitress allows a little more than that.
        waitress_serve(app, host=host, port=port, threads=threads, ident="clinex", url_scheme=url_scheme,
                       max_request_body_size=ctx.settings.MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES)
    finally:
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def run_worker(concurrency: int = 1, loglevel: str = "INFO", settings: Settings | None = None) -> None:
    from .celery_app import start_worker

    ctx = context(settings)
    upgrade_database(ctx.settings.DATABASE_URL)
    start_worker(ctx.settings, concurrency, loglevel)


def describe_settings(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    current = load_settings() if settings is None else settings
    return [(name, str(current.values[name.removeprefix("CLINEX_")]) if "SECRET" not in name else "(hidden)", help_text)
            for name, _default, help_text in settings_as_rows()]


def _http_fetch(url: str) -> tuple[int, dict, bytes]:
    """HEAD for audio (the length is what matters), GET for everything else."""
    import urllib.error
    import urllib.request

    method = "HEAD" if url.split("?")[0].endswith((".mp3", ".m4a")) else "GET"
    request = urllib.request.Request(url, method=method, headers={"User-Agent": "clinex-feed-check"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return 0, {}, str(getattr(exc, "reason", exc)).encode()


def _app_fetch(settings: Settings):
    """Fetch this site's URLs in-process, through the real Flask app (no server needed)."""
    client = create_app().test_client()
    base = settings.BASE_URL

    def fetch(url: str) -> tuple[int, dict, bytes]:
        if not url.startswith(base):
            return _http_fetch(url)
        path = url[len(base):] or "/"
        response = client.head(path) if path.endswith((".mp3", ".m4a")) else client.get(path)
        return response.status_code, dict(response.headers), response.get_data()

    return fetch


def check_feed_source(source: str | None, settings: Settings | None = None) -> tuple[list[str], str]:
    """Problems of a feed given as a URL, a file, or (None) this site's main feed served in-process."""
    if source is None:
        ctx = context(settings)
        fetch = _app_fetch(ctx.settings)
        status, _headers, body = fetch(f"{ctx.settings.BASE_URL}/feed.xml")
        return check_feed(body, fetch=fetch), "this site's feed"
    if source.startswith(("http://", "https://")):
        status, _headers, body = _http_fetch(source)
        if status != 200:
            raise ClinexError(f"{source} answered {status or 'nothing'}; cannot check it.")
        return check_feed(body, fetch=_http_fetch), source
    path = Path(source)
    if not path.is_file():
        raise NotFound(f"No such feed file: {source}.")
    return check_feed(path.read_bytes()), source


def doctor(fix: bool = False, stale_minutes: float = 15.0, settings: Settings | None = None):
    """Check storage, jobs and episodes against each other; with ``fix`` repair them and queue
    the jobs that must run again (their broker messages may have died with a killed worker)."""
    ctx = context(settings)
    report = diagnose(ctx, fix=fix, stale_after=timedelta(minutes=stale_minutes))
    if report.dispatch:
        CeleryDispatcher(_celery(ctx.settings)).dispatch(report.dispatch)
        report.actions.append(f"sent job(s) {', '.join(map(str, report.dispatch))} to the queue")
    return report


def backup_to(dest: Path, settings: Settings | None = None):
    return backup(context(settings), dest)


def restore_from(src: Path, settings: Settings | None = None):
    return restore(context(settings), src)
