"""An editor's decisions on an episode, written once for every face (the review pages, the API,
the ``clinex`` commands): approve (publish), send back, unpublish, retry, name the voices.

Each takes the context and IDs, opens its own transaction and raises a ClinexError the faces
translate (WorkflowError when the episode's state does not allow it, NotFound for an unknown
episode or editor). The summarizer (and, on approval, the followers) are notified in the same
transaction as the decision. After a decision that changes what the feeds show, the context's
``feeds_changed`` hooks run (the web package adds the WebSub ping there); a hook that fails
never undoes the decision.
"""

from __future__ import annotations

from typing import Mapping

from sqlalchemy.orm import Session

from .community import notify_review_outcome
from .errors import ClinexError, NotFound, WorkflowError
from .extras import describe_extras
from .jobs import JobContext, TransientJobError, fail_job, requeue_failed, run_claimed_job, worker_name
from .models import Episode, EpisodeStatus, Job, JobKind, JobState, User, utcnow
from .publish import bump_site_version
from .speakers import rename_segments
from .steps import heard_segments, write_transcript_files
from .timeline import audio_notes_row
from .workflow import ALLOWED, transition


def approve(ctx: JobContext, episode_id: int, actor_id: int | None = None, note: str | None = None) -> int:
    """Publish now, in this process, as a ``publish`` job (so a worker finishes it if this process
    dies part way), then announce the changed feeds; returns the job's ID. Raises WorkflowError if
    the episode cannot be published (from its state, or with the reason the job failed),
    StorageError when the store fails; the job is then failed and the episode left as it was."""
    job_id = _start_publish_job(ctx, episode_id, note)
    me = worker_name()
    try:
        run_claimed_job(ctx, job_id, me, actor_id=actor_id, note=note)
    except TransientJobError as exc:
        fail_job(ctx, job_id, str(exc))  # not retried later: the editor sees the error and may approve again
        raise exc.__cause__ from None
    except BaseException as exc:
        fail_job(ctx, job_id, f"publishing stopped: {type(exc).__name__}", worker=me)
        raise
    with ctx.session() as session:
        job = session.get(Job, job_id)
        if job.state != JobState.succeeded.value:
            raise WorkflowError(f"Episode {episode_id} was not published: {job.error or job.state}.")
        notify_review_outcome(session, session.get(Episode, episode_id), "approved", note)
    ctx.announce_feeds_changed(episode_id)
    return job_id


def _start_publish_job(ctx: JobContext, episode_id: int, note: str | None) -> int:
    """The publish job, committed as running under this process before anything is stored."""
    with ctx.sessions.begin() as session:
        episode = _episode(session, episode_id)
        if EpisodeStatus.published not in ALLOWED[EpisodeStatus(episode.status)]:
            transition(session, episode, EpisodeStatus.published, reason=note)  # raises the clear error
        now = utcnow()
        job = Job(episode_id=episode_id, kind=JobKind.publish.value, state=JobState.running.value, attempts=1,
                  worker=worker_name(), started_at=now, heartbeat_at=now)
        session.add(job)
        session.flush()
        return job.id


def send_back(ctx: JobContext, episode_id: int, actor_id: int | None, note: str | None) -> None:
    """Return the episode to its summarizer with the editor's note (required)."""
    with ctx.session() as session:
        episode = _episode(session, episode_id)
        request_changes(session, episode, _user(session, actor_id), note)
        notify_review_outcome(session, episode, "changes_requested", note)


def request_changes(session: Session, episode: Episode, actor: User | None, note: str | None) -> None:
    if not note or not note.strip():
        raise WorkflowError("Say what needs to change: a note for the summarizer is required.")
    transition(session, episode, EpisodeStatus.changes_requested, actor=actor, reason=note.strip())


def unpublish(ctx: JobContext, episode_id: int, actor_id: int | None, note: str | None = None) -> None:
    """Take a published episode out of the feeds and pages, then announce the changed feeds (apps
    that follow the hub drop the item at once)."""
    with ctx.session() as session:
        episode = _episode(session, episode_id)
        transition(session, episode, EpisodeStatus.unpublished, actor=_user(session, actor_id), reason=note)
        bump_site_version(session)
    ctx.announce_feeds_changed(episode_id)


def retry(ctx: JobContext, episode_id: int, actor_id: int | None = None) -> list[int]:
    """Process a failed episode again; returns the job IDs to dispatch. WorkflowError unless failed."""
    with ctx.session() as session:
        if _episode(session, episode_id).status != EpisodeStatus.failed.value:
            raise WorkflowError("Only a failed episode can be retried.")
        actor = _user(session, actor_id)
    return requeue_failed(ctx, episode_id, actor=actor)


def choose_extras(ctx: JobContext, episode_id: int, actor_id: int | None, *, intro: bool, summary: bool) -> list[int]:
    """The editor's choice of what the voice adds to a recording in review: a spoken introduction
    before it, the summary read aloud after it. The episode is processed again (the
    ``spoken_extras`` step alone) and comes back to review; returns the job IDs to dispatch.

    Raises WorkflowError unless the episode is a recording in review, or when the summary is
    asked for and there are no notes to read; nothing is changed then."""
    with ctx.sessions.begin() as session:
        episode = _episode(session, episode_id)
        if episode.audio_notes is not None and episode.audio_notes.notes_only:
            raise WorkflowError("This episode is the summary spoken already; spoken extras are for recordings.")
        if episode.status != EpisodeStatus.in_review.value:
            raise WorkflowError(f"Spoken extras are chosen while the episode is in review; it is "
                                f"{episode.status.replace('_', ' ')}.")
        if summary and not (episode.summary and episode.summary.markdown.strip()):
            raise WorkflowError("This episode has no summary notes to read aloud.")
        notes = audio_notes_row(session, episode)
        notes.spoken_intro, notes.spoken_summary = bool(intro), bool(summary)
        said = describe_extras(intro, summary) or "no spoken extras"
        transition(session, episode, EpisodeStatus.processing, actor=_user(session, actor_id), reason=f"with {said}")
        job = Job(episode_id=episode.id, kind=JobKind.spoken_extras.value)
        session.add(job)
        session.flush()
        return [job.id]


NAME_LIMIT = 200


def name_voices(ctx: JobContext, episode_id: int, names: Mapping[int, str]) -> list[str]:
    """Give the transcript's voices (by number) names; an empty name goes back to "Speaker N".
    The segments and every transcript file take the names. Returns the voices' labels in order.

    Raises NotFound for an unknown episode, WorkflowError when it has no diarized transcript or
    a number is not one of its voices, ClinexError for a name over 200 characters; nothing is
    changed then."""
    with ctx.session() as session:
        episode = _episode(session, episode_id)
        transcript = episode.transcript
        if transcript is None or not transcript.voices:
            raise WorkflowError("This episode has no voices to name: its transcript was not diarized.")
        voices = {v.number: v for v in transcript.voices}
        for number, name in names.items():
            if number not in voices:
                raise WorkflowError(f"The transcript has no voice {number + 1}.")
            clean = " ".join(str(name).split())
            if len(clean) > NAME_LIMIT:
                raise ClinexError(f"A voice's name may be at most {NAME_LIMIT} characters.")
            voices[number].name, voices[number].named = clean or None, True
        rename_segments(transcript)
        session.flush()
        write_transcript_files(ctx, episode, transcript.id, heard_segments(transcript.segments))
        if episode.status == EpisodeStatus.published.value:
            bump_site_version(session)
        return [v.label for v in transcript.voices]


def _episode(session: Session, episode_id: int) -> Episode:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id}.")
    return episode


def _user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None
