"""Helpers for tests that read the session's published sample over HTTP."""

from __future__ import annotations


def published_client(published_sample) -> dict:
    from pipeline.models import Episode
    from webapp import create_app

    app = create_app(dict(published_sample["values"]))
    app.config.update(TESTING=True)
    ctx = app.extensions["clinex"]
    with ctx.sessions() as session:
        episode = session.get(Episode, published_sample["episode_id"])
        media = episode.media_of("published")
        session.expunge_all()
    path = "/media/" + media.storage_key.removeprefix("published/")
    return {"app": app, "client": app.test_client(), "episode": episode, "media": media, "path": path,
            "bytes": ctx.storage.get_bytes(media.storage_key)}
