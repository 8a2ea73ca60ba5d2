"""What every job (and every face of the app) works with: settings, database sessions, storage."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from sqlalchemy.orm import Session, sessionmaker

from ..db import session_factory
from ..settings import Settings, ensure_instance, load_settings
from ..storage import Storage, storage_from_settings

# Called with (ctx, episode_id) after a change to what the feeds show (a publication, an
# unpublication); the web package adds its WebSub ping here. A hook's failure is its own problem:
# it must not undo the change, so hooks report instead of raising.
FeedsChanged = Callable[["JobContext", int], object]


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    storage: Storage
    feeds_changed: list[FeedsChanged] = field(default_factory=list)
    # The public page of an episode by slug, for the MP3's tags; set by the web package (the core
    # knows no routes). None: the tags carry no page address.
    page_url: Callable[[str], str] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def on_feeds_changed(self, hook: FeedsChanged) -> None:
        """Run ``hook`` after every change to the feeds (once, however often it is added)."""
        if hook not in self.feeds_changed:
            self.feeds_changed.append(hook)

    def announce_feeds_changed(self, episode_id: int) -> None:
        for hook in self.feeds_changed:
            hook(self, episode_id)


_contexts: dict[tuple, JobContext] = {}


def job_context(settings: Settings | None = None) -> JobContext:
    """One context per distinct configuration, reused for the life of the process."""
    settings = ensure_instance(settings or load_settings())
    key = tuple(sorted((k, str(v)) for k, v in settings.values.items()))
    if key not in _contexts:
        _contexts[key] = JobContext(settings=settings, sessions=session_factory(settings.DATABASE_URL),
                                    storage=storage_from_settings(settings))
    return _contexts[key]
