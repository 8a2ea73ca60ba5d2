"""The ``clinex`` command line: thin commands over plain functions in ``pipeline`` and ``webapp.ops``."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from pipeline.errors import ClinexError
from pipeline.private_feeds import revoke_feeds_of
from pipeline.settings import load_settings

from . import ops
from .passwords import issue_password_reset


def friendly(command):
    """Turn our errors into one line on stderr and exit status 1 (2 for usage), never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ClinexError as exc:
            raise click.ClickException(str(exc)) from None
        except FileNotFoundError as exc:
            raise click.ClickException(f"File not found: {exc.filename or exc}.") from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="clinical-exchange")
def main() -> None:
    """Clinical Exchange: recordings and notes in, a reviewed podcast out."""


@main.command()
@click.option("--sample/--no-sample", default=False, help="Ingest, transcribe and publish the bundled sample lecture if there are no episodes yet.")
@friendly
def init(sample: bool) -> None:
    """Create the instance folder, migrate the database and create an editor account if none exists."""
    report = ops.initialize(sample=sample, echo=click.echo)
    if report.editor_password:
        click.secho(f"Created editor {report.editor_email} with one-time password: {report.editor_password}", fg="yellow")
    click.echo(f"Instance ready in {report.instance_path} (database at revision {report.revision}).")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply every pending migration."""
    click.echo(f"Database at revision {ops.upgrade()}.")


@main.group()
def users() -> None:
    """Manage accounts and roles."""


@users.command("add")
@click.argument("email")
@click.option("--name", help="Display name (defaults to the part before @).")
@click.option("--role", default="listener", show_default=True, type=click.Choice(["listener", "summarizer", "editor", "admin"]))
@click.option("--password", help="Password; one is generated and printed when omitted.")
@friendly
def users_add(email: str, name: str | None, role: str, password: str | None) -> None:
    """Add an account."""
    generated = ops.add_user(email, name, role, password)
    click.echo(f"Added {email} as {role}." + (f" One-time password: {generated}" if password is None else ""))


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def users_list(as_json: bool) -> None:
    """List accounts."""
    rows = ops.list_users()
    if as_json:
        return echo_json(rows)
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['role']:<10}  {row['email']}  ({row['name']})")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["listener", "summarizer", "editor", "admin"]))
@friendly
def users_set_role(email: str, role: str) -> None:
    """Change an account's role."""
    ops.set_user_role(email, role)
    click.echo(f"{email} is now {role}.")


@users.command("reset-password")
@click.argument("email")
@friendly
def users_reset_password(email: str) -> None:
    """Print a single-use password reset link (valid 24 hours) for an account."""
    settings = load_settings()
    click.echo(issue_password_reset(email, settings))
    if settings.base_url_source != "setting":  # on stderr, so scripts still read just the link
        click.secho(f"CLINEX_BASE_URL is not set: the link is built on {settings.BASE_URL}, where `clinex serve` "
                    "on this instance serves (or its default); set CLINEX_BASE_URL for links that work elsewhere.",
                    fg="yellow", err=True)


@users.command("revoke-feeds")
@click.argument("email")
@friendly
def users_revoke_feeds(email: str) -> None:
    """Revoke every private feed address of an account; its podcast apps stop getting episodes at once."""
    with ops.context().session() as session:
        click.echo(f"Revoked {revoke_feeds_of(session, email)} private feed(s) of {email}.")


@main.command()
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--notes", type=click.Path(dir_okay=False, path_type=Path), help="Summary notes (Markdown, optional YAML front matter).")
@click.option("--notes-only", is_flag=True, help="No recording: AUDIO (or --notes) is the notes, voiced. Implied by a .md, .markdown or .txt file.")
@click.option("--title", help="Episode title (overrides the notes).")
@click.option("--event", help="Event or webinar series.")
@click.option("--speaker", "speakers", multiple=True, help="Speaker name; repeat for several.")
@click.option("--tag", "tags", multiple=True, help="Topic tag; repeat for several.")
@click.option("--date", "recorded_on", help="Recording date, YYYY-MM-DD.")
@click.option("--author", help="Email of the summarizer account to credit.")
@click.option("--wait", is_flag=True, help="Run the processing here, with progress bars, until the episode is in review.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly
def ingest(audio: Path, notes: Path | None, notes_only: bool, title, event, speakers, tags, recorded_on, author,
           wait: bool, as_json: bool) -> None:
    """Upload a recording (and notes), or notes alone to be voiced, and queue the processing; prints the episode id."""
    fields = dict(title=title, event=event, speakers=speakers, tags=tags, recorded_on=recorded_on, author_email=author,
                  wait=wait, quiet=as_json)
    if notes_only and notes is not None:
        raise click.UsageError("With --notes-only the one file argument is the notes; leave out --notes.")
    if notes_only or (notes is None and audio.suffix.lower() in ops.NOTES_SUFFIXES):
        result = ops.ingest_notes_file(audio, **fields)
    else:
        result = ops.ingest_file(audio, notes_path=notes, **fields)
    if as_json:
        return echo_json(result)
    click.echo(f"Episode {result['id']} ({result['slug']}) is {result['status'].replace('_', ' ')}.")
    if result.get("failure_reason"):
        raise click.ClickException(result["failure_reason"])


@main.command()
@click.option("--watch", is_flag=True, help="Refresh every second until interrupted.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=30, show_default=True, help="How many recent jobs.")
@friendly
def jobs(watch: bool, as_json: bool, limit: int) -> None:
    """Show recent jobs with their progress."""
    if as_json:
        return echo_json(ops.list_jobs(limit))
    ops.show_jobs(limit, watch=watch)


@main.group()
def glossary() -> None:
    """The clinical glossary: what people taught the recognizer."""


@glossary.command("suggest")
@click.option("--accept", "accept", multiple=True, type=int, metavar="N",
              help="Add suggestion N (as numbered in the list) to the glossary; repeatable.")
@click.option("--accept-all", is_flag=True, help="Add every suggestion listed.")
@click.option("--min-episodes", default=2, show_default=True, type=click.IntRange(1),
              help="Suggest a correction made in at least this many episodes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def glossary_suggest(accept: tuple[int, ...], accept_all: bool, min_episodes: int, as_json: bool) -> None:
    """List word corrections people made in several episodes; --accept adds them to the glossary."""
    rows, accepted = ops.glossary_suggest(accept, accept_all, min_episodes)
    if as_json:
        return echo_json({"suggestions": rows, "accepted": accepted})
    if not rows:
        click.echo(f"No correction was made in {min_episodes} or more episodes.")
    for row in rows:
        done = " (added)" if row in accepted else ""
        click.echo(f"{row['number']:>3}. “{row['heard']}” -> “{row['term']}”  in {len(row['episodes'])} episodes: "
                   f"{', '.join(row['episodes'])}{done}")
    if rows and not accepted:
        click.echo("Add one with: clinex glossary suggest --accept N (or --accept-all).")


@main.group()
def episodes() -> None:
    """Episodes."""


@episodes.command("list")
@click.option("--status", type=click.Choice(ops.STATUSES), help="Only episodes in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def episodes_list(status: str | None, as_json: bool) -> None:
    """List episodes, newest first."""
    rows = ops.list_episodes(status)
    if as_json:
        return echo_json(rows)
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['status']:<18}  {row['title']}")


@main.command()
@friendly
def review() -> None:
    """List episodes waiting for review, oldest first."""
    rows = ops.list_episodes("in_review", oldest_first=True)
    if not rows:
        click.echo("Nothing is waiting for review.")
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['title']}  ({row['url_review']})")


@main.command()
@click.argument("episode_id", type=int)
@click.option("--editor", help="Email of the approving editor (recorded in the audit log).")
@click.option("--note", help="Note for the audit log.")
@friendly
def approve(episode_id: int, editor: str | None, note: str | None) -> None:
    """Approve an episode in review: tag the audio and publish it."""
    url = ops.approve(episode_id, editor_email=editor, note=note)
    click.echo(f"Published episode {episode_id}: {url}")


@main.command()
@click.argument("episode_id", type=int)
@click.option("--note", required=True, help="What the summarizer should change.")
@click.option("--editor", help="Email of the editor (recorded in the audit log).")
@friendly
def reject(episode_id: int, note: str, editor: str | None) -> None:
    """Send an episode back to its summarizer with a note."""
    ops.reject(episode_id, note=note, editor_email=editor)
    click.echo(f"Episode {episode_id} sent back with your note.")


@main.command()
@click.argument("episode_id", type=int)
@click.option("--note", help="Why (recorded in the audit log).")
@friendly
def unpublish(episode_id: int, note: str | None) -> None:
    """Take a published episode out of every feed at once."""
    ops.unpublish(episode_id, note=note)
    click.echo(f"Episode {episode_id} unpublished.")


@main.command("spoken-extras")
@click.argument("episode_id", type=int)
@click.option("--intro/--no-intro", default=False, help="A short spoken introduction before the recording (title, speakers, event, chapters).")
@click.option("--summary/--no-summary", default=False, help="The summary notes read aloud as the last chapter.")
@click.option("--editor", help="Email of the editor (recorded in the audit log).")
@click.option("--wait", is_flag=True, help="Make the listening file here, with progress bars, until the episode is back in review.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly
def spoken_extras(episode_id: int, intro: bool, summary: bool, editor: str | None, wait: bool, as_json: bool) -> None:
    """Choose what the voice adds to a recording in review (neither option: none) and make it."""
    result = ops.spoken_extras(episode_id, intro=intro, summary=summary, editor_email=editor, wait=wait, quiet=as_json)
    if as_json:
        return echo_json(result)
    click.echo(f"Episode {episode_id} is {result['status'].replace('_', ' ')}.")
    if result.get("failure_reason"):
        raise click.ClickException(result["failure_reason"])


@main.command()
@click.argument("episode_id", type=int)
@friendly
def retry(episode_id: int) -> None:
    """Queue a failed episode's jobs again."""
    count = ops.retry(episode_id)
    click.echo(f"Queued {count} job(s) for episode {episode_id}.")


@main.group(invoke_without_command=True)
@click.option("--tag", help="Only episodes with this topic tag (slug or name).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.pass_context
@friendly
def feed(context: click.Context, tag: str | None, out: Path | None) -> None:
    """Render the podcast feed (RSS) of published episodes; `feed check` validates one."""
    if context.invoked_subcommand:
        return
    body = ops.render_feed_bytes(tag)
    if out:
        out.write_bytes(body)
        click.echo(f"Wrote {len(body)} bytes to {out}.")
    else:
        sys.stdout.buffer.write(body)


@feed.command("check")
@click.argument("source", required=False)
@friendly
def feed_check(source: str | None) -> None:
    """Check a feed (URL, file, or this site's main feed) and print every problem found."""
    problems, where = ops.check_feed_source(source)
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {where}.")
    click.echo(f"{where}: no problems found.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Web server threads.")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Start one background worker beside the web server.")
@click.option("--url-scheme", type=click.Choice(["http", "https"]), default="http", show_default=True,
              help="How people reach the server: https behind a TLS proxy (then CLINEX_BASE_URL is required).")
@friendly
def serve(host: str, port: int, threads: int, worker: bool, url_scheme: str) -> None:
    """Serve the site, feeds and media (waitress), with an embedded job worker.

    Without CLINEX_BASE_URL it warns and builds links on its own host and port; on a non-loopback
    host or behind https it refuses to start without it."""
    ops.serve(host, port, threads=threads, with_worker=worker, echo=click.echo, url_scheme=url_scheme,
              warn=lambda message: click.secho(message, fg="yellow", bold=True, err=True))


@main.command()
@click.option("--concurrency", default=1, show_default=True, type=int, help="Jobs run at once.")
@click.option("--loglevel", default="INFO", show_default=True)
@friendly
def worker(concurrency: int, loglevel: str) -> None:
    """Run a job worker (Celery) on the configured broker."""
    ops.run_worker(concurrency, loglevel)


@main.command("mail")
@click.option("--send", is_flag=True, help="Run a mail round now: reminders, instant mail, due digests, then the outbox.")
@click.option("--digest", type=click.Choice(["daily", "weekly"]), help="Make that digest now (and send it).")
@click.option("--retry-failed", "retry", is_flag=True, help="Queue mail that ran out of attempts again.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def mail_command(send: bool, digest: str | None, retry: bool, as_json: bool) -> None:
    """List the messages in the embedded mailbox (INSTANCE_PATH/mailbox), sending first if asked."""
    from .community_ops import mail

    _print_mail(mail(send=send, digest=digest, retry=retry), as_json)


def _print_mail(run, as_json: bool) -> None:
    if as_json:
        return echo_json([e.__dict__ for e in run.mailbox])
    if run.report is not None:
        r = run.report
        click.echo(f"Sent {len(r.sent)}, waiting to retry {len(r.retrying)}, failed {len(r.failed)}."
                   + (f" Digest for {run.digest_members} member(s)." if run.digest else ""))
    for e in run.mailbox:
        click.echo(f"{e.date}  {e.to}  {e.subject}")
    if not run.mailbox:
        click.echo("The mailbox is empty (with CLINEX_SMTP_HOST set, mail goes to that server instead).")


@main.command("settings")
@friendly
def settings_command() -> None:
    """List every setting with its current value."""
    for name, value, help_text in ops.describe_settings():
        click.echo(f"{name} = {value}\n    {help_text}")


@main.command()
@click.option("--fix", is_flag=True, help="Delete orphaned files and leftover uploads, requeue or fail stale jobs, "
              "unstick episodes.")
@click.option("--stale-minutes", default=15.0, show_default=True, help="A running job silent this long is stale.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def doctor(fix: bool, stale_minutes: float, as_json: bool) -> None:
    """Find orphaned storage files, missing media, stale jobs, stuck episodes and leftover uploads (exit 1 if any)."""
    report = ops.doctor(fix=fix, stale_minutes=stale_minutes)
    if as_json:
        echo_json(report.as_dict())
    else:
        _print_doctor(report)
    if not report.healthy and not fix:
        sys.exit(1)


def _print_doctor(report) -> None:
    for o in report.orphans:
        click.echo(f"orphan   {o.key}  ({o.reason})")
    for m in report.missing_media:
        click.echo(f"missing  {m.key}  (media {m.media_id} of episode {m.episode_id}; restore it from a backup)")
    for j in report.stale_jobs:
        click.echo(f"stale    job {j.job_id} {j.kind} of episode {j.episode_id}: {j.reason}")
    for e in report.stuck_episodes:
        click.echo(f"stuck    episode {e.episode_id} ({e.title}): {e.reason}")
    for u in report.leftover_uploads:
        click.echo(f"leftover {u.path}  ({u.size} bytes of an upload whose server was stopped mid-request)")
    for u in report.abandoned_uploads:
        click.echo(f"abandoned {u.path}  ({u.size} bytes of a resumable upload nobody added to for a day)")
    for u in report.unfinished_uploads:
        click.echo(f"parts    {u.key}  (an upload to the store begun {u.started} and never finished; --fix aborts it)")
    for action in report.actions:
        click.echo(f"fixed    {action}")
    if report.healthy:
        click.echo("No problems found.")


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@friendly
def backup(dest: Path) -> None:
    """Write the database (JSON per table) and every stored file, with hashes, to the folder DEST."""
    report = ops.backup_to(dest)
    click.echo(f"Backed up {sum(report.rows.values())} rows and {report.objects} files "
               f"({report.bytes / 1e6:.1f} MB) to {report.path}.")


@main.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly
def restore(src: Path) -> None:
    """Restore a backup folder into this instance's new, empty database and media store."""
    report = ops.restore_from(src)
    click.echo(f"Restored {sum(report.rows.values())} rows and {report.objects} files (hashes verified) from {report.path}.")


if __name__ == "__main__":
    main()
