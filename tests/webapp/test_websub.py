"""WebSub pings reach a real HTTP hub on loopback; an unreachable hub is reported, not fatal."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.conftest import free_port
from webapp.websub import ping_hub


@pytest.fixture
def hub():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append({k: v[0] for k, v in urllib.parse.parse_qs(body).items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", received
    server.shutdown()


def test_ping_posts_publish_for_every_topic(hub):
    url, received = hub
    topics = ["http://clinex.test/feed.xml", "http://clinex.test/tags/ipl/feed.xml"]
    assert ping_hub(url, topics) == []
    assert received == [{"hub.mode": "publish", "hub.url": t} for t in topics]


def test_unreachable_hub_is_reported():
    problems = ping_hub(f"http://127.0.0.1:{free_port()}/", ["http://clinex.test/feed.xml"], timeout=2)
    assert len(problems) == 1 and "unreachable" in problems[0]


def test_approving_on_the_review_page_publishes_as_a_job_and_pings_the_hub(hub, settings_dict, ctx, session, users):
    """The web approval runs the same ``publish`` job as the CLI (a worker finishes it if the web
    process dies part way), credits the editor, and tells the hub about every feed that changed."""
    import hashlib
    from pathlib import Path

    from pipeline.models import AuditEvent, Job
    from webapp import create_app

    from .conftest import csrf_from, sign_in
    from .factories import make_episode

    url, received = hub
    app = create_app({**settings_dict, "WEBSUB_HUB": url})
    app.config.update(TESTING=True)
    episode = make_episode(ctx, session, status="in_review")
    audio = episode.media_of("audio")
    body = (Path(__file__).parents[1] / "fixtures" / "audio" / "good" / "speech.mp3").read_bytes()
    ctx.storage.put_bytes(audio.storage_key, body, content_type="audio/mpeg")
    audio.size, audio.sha256 = len(body), hashlib.sha256(body).hexdigest()
    session.commit()

    editor = sign_in(app.test_client(), users["editor"])
    page = editor.get(f"/review/{episode.id}").get_data(as_text=True)
    response = editor.post(f"/review/{episode.id}/approve", data={"csrf_token": csrf_from(page), "note": "Good"})
    assert response.status_code == 302
    session.expire_all()
    assert episode.status == "published"
    job = session.query(Job).filter_by(episode_id=episode.id, kind="publish").one()
    assert job.state == "succeeded"
    event = session.query(AuditEvent).filter_by(episode_id=episode.id).order_by(AuditEvent.id.desc()).first()
    assert (event.to_state, event.actor_id, event.reason) == ("published", users["editor"], "Good")
    assert {"hub.mode": "publish", "hub.url": "http://clinex.test/feed.xml"} in received
    assert {"hub.mode": "publish", "hub.url": "http://clinex.test/tags/melasma/feed.xml"} in received
    again = editor.post(f"/review/{episode.id}/approve", data={"csrf_token": csrf_from(page), "note": ""})
    assert again.status_code == 409 and "published" in again.get_data(as_text=True)
