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
