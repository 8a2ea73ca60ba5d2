"""The flow of an episode, declared in one place: its steps, their order, what runs side by side.

    upload ──> prepare_audio ──┐
          └──> transcribe ─────┴──> analyze ──> spoken_extras ──> in review ──(an editor approves)──> publish

    notes only ──> voice ──> prepare_audio ──> analyze ──> in review ──> publish

Every step is a job (``pipeline.jobs`` claims, runs, retries and recovers them) whose handler is
named here; what a step does lives in ``pipeline.steps`` (processing) and ``pipeline.publish``.
A step starts once every step it comes ``after`` has succeeded (since it last ran), so
``prepare_audio`` and ``transcribe`` run side by side on two workers and ``analyze`` waits for
both. When the last step of the processing flow succeeds the episode goes to review. Publishing
is not part of the processing flow: an editor's approval queues it (``pipeline.review``).
``spoken_extras`` adds a recording's spoken introduction and summary when they are chosen (and
does nothing otherwise); an editor changing the choice in review runs it alone
(``pipeline.review.choose_extras``).

To add a step: write its handler in ``pipeline/steps.py``, add its kind to ``models.JobKind``
and a ``Step`` to the flow below; nothing else dispatches on job kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

from .models import Episode, EpisodeStatus, JobKind, JobState
from .publish import publish_step
from .steps import analyze_step, prepare_audio_step, transcribe_step
from .extras import extras_step
from .voicing import voice_step

Handler = Callable[..., None]  # (ctx, session, episode, report, **options)


class JobLike(Protocol):
    id: int
    kind: str
    state: str


@dataclass(frozen=True)
class Step:
    kind: JobKind
    handler: Handler
    after: tuple[JobKind, ...] = ()


@dataclass(frozen=True)
class Flow:
    """The processing steps of one kind of episode, and the status it reaches when they are done."""

    steps: tuple[Step, ...]
    done: EpisodeStatus = EpisodeStatus.in_review

    @property
    def kinds(self) -> tuple[JobKind, ...]:
        return tuple(step.kind for step in self.steps)

    def first_steps(self) -> list[JobKind]:
        """What starts as soon as the episode is stored."""
        return [step.kind for step in self.steps if not step.after]

    def ready_after(self, finished: str, latest: Mapping[str, JobLike]) -> list[JobKind]:
        """Steps that can start now that ``finished`` succeeded: every step they follow has
        succeeded, later than the step itself last ran. ``latest`` is each kind's newest job."""
        ready = []
        for step in self.steps:
            if finished not in step.after:
                continue
            before = [latest.get(kind.value) for kind in step.after]
            if not all(job is not None and job.state == JobState.succeeded.value for job in before):
                continue
            own = latest.get(step.kind.value)
            if own is None or own.id < max(job.id for job in before):
                ready.append(step.kind)
        return ready

    def is_last(self, kind: str) -> bool:
        """True for a step no other step follows: once it succeeds, processing is done."""
        return kind in self.kinds and not any(kind in step.after for step in self.steps)

    def is_finished(self, latest: Mapping[str, JobLike]) -> bool:
        """Every step's newest job succeeded (what a replayed follow-up needs to see)."""
        return all(latest.get(kind.value) is not None and latest[kind.value].state == JobState.succeeded.value
                   for kind in self.kinds)

    def last_steps(self) -> list[JobKind]:
        return [kind for kind in self.kinds if self.is_last(kind)]


RECORDING = Flow(steps=(
    Step(JobKind.prepare_audio, prepare_audio_step),
    Step(JobKind.transcribe, transcribe_step),
    Step(JobKind.analyze, analyze_step, after=(JobKind.prepare_audio, JobKind.transcribe)),
    Step(JobKind.spoken_extras, extras_step, after=(JobKind.analyze,)),
))

# A notes-only episode: the summary is spoken, then levelled and encoded like a recording; its
# transcript comes from the synthesis, so there is no transcribe step.
NOTES_ONLY = Flow(steps=(
    Step(JobKind.voice, voice_step),
    Step(JobKind.prepare_audio, prepare_audio_step, after=(JobKind.voice,)),
    Step(JobKind.analyze, analyze_step, after=(JobKind.prepare_audio,)),
))

# Run when an editor approves (or by a worker finishing an approval that was cut short).
PUBLISH = Step(JobKind.publish, publish_step)

HANDLERS: dict[str, Handler] = {step.kind.value: step.handler
                                for step in (*RECORDING.steps, *NOTES_ONLY.steps, PUBLISH)}


def flow_for(episode: Episode) -> Flow:
    """The processing flow an episode goes through: NOTES_ONLY for a summary with no recording."""
    notes = getattr(episode, "audio_notes", None)
    return NOTES_ONLY if notes is not None and notes.notes_only else RECORDING


def handler_for(kind: str) -> Handler:
    return HANDLERS[kind]
