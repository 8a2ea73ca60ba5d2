import pytest

from pipeline.errors import WorkflowError
from pipeline.models import AuditEvent, Episode, EpisodeStatus
from pipeline.review import request_changes
from pipeline.workflow import transition


def _episode(session, status=EpisodeStatus.draft):
    ep = Episode(title="T", slug=f"t-{status.value}", status=status.value)
    session.add(ep)
    session.flush()
    return ep


def test_transitions_are_recorded(ctx):
    with ctx.sessions.begin() as session:
        ep = _episode(session)
        transition(session, ep, EpisodeStatus.processing, reason="uploaded")
        transition(session, ep, EpisodeStatus.in_review)
        transition(session, ep, EpisodeStatus.published)
        assert ep.published_at is not None
        events = [(e.from_state, e.to_state) for e in session.query(AuditEvent).filter_by(episode_id=ep.id)]
        assert events == [("draft", "processing"), ("processing", "in_review"), ("in_review", "published")]


@pytest.mark.parametrize("start, target", [(EpisodeStatus.draft, EpisodeStatus.published), (EpisodeStatus.processing, EpisodeStatus.published),
                                           (EpisodeStatus.published, EpisodeStatus.in_review), (EpisodeStatus.failed, EpisodeStatus.published)])
def test_forbidden_transitions_raise_a_clear_error(ctx, start, target):
    with ctx.sessions.begin() as session:
        ep = _episode(session, start)
        with pytest.raises(WorkflowError, match=f"is {start.value.replace('_', ' ')}"):
            transition(session, ep, target)
        assert ep.status == start.value


def test_request_changes_needs_a_note(ctx):
    with ctx.sessions.begin() as session:
        ep = _episode(session, EpisodeStatus.in_review)
        with pytest.raises(WorkflowError, match="note"):
            request_changes(session, ep, None, "  ")
        request_changes(session, ep, None, "Please fix the speaker's name")
        assert ep.status == "changes_requested" and ep.review_note == "Please fix the speaker's name"
