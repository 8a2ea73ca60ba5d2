"""`clinex feed check URL` against the site served on loopback: every podcast: tag of the main,
a topic and a private feed is checked, and every URL they name is fetched over real HTTP."""

from __future__ import annotations

import http.server
import threading

import pytest
from click.testing import CliRunner
from lxml import etree

from feeds.check import NS
from tests.conftest import free_port
from webapp.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(published_sample):
    """The published sample behind a real HTTP server whose BASE_URL is its own address."""
    from werkzeug.serving import make_server

    from pipeline.models import User
    from pipeline.private_feeds import issue_feed_token
    from webapp import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app({**published_sample["values"], "BASE_URL": base})
    with app.extensions["clinex"].sessions() as session:
        editor = session.query(User).filter_by(email=published_sample["editor_email"]).one()
        token = issue_feed_token(session, editor)
        session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": base, "token": token}
    server.shutdown()
    server.server_close()


def check(source: str):
    return CliRunner().invoke(main, ["feed", "check", source])


@pytest.mark.parametrize("path", ["/feed.xml", "/tags/melasma/feed.xml", "/speakers/{speaker}/feed.xml",
                                  "/feeds/private/{token}.xml"])
def test_site_feeds_have_no_problems(served, path):
    import urllib.request

    from lxml import html

    with urllib.request.urlopen(served["base"] + "/tags/melasma", timeout=10) as page:
        speaker = html.fromstring(page.read()).xpath("//a[starts-with(@href, '/speakers/')]/@href")
    url = served["base"] + path.format(token=served["token"],
                                       speaker=speaker[0].removeprefix("/speakers/") if speaker else "none")
    result = check(url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{url}: no problems found."


class _OneFeed(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_a_broken_feed_is_caught(served, tmp_path):
    """The topic feed, damaged: a transcript the site does not have, a role outside the taxonomy,
    a relative chapters URL. Checked as a file (tags only) and served (tags and URLs)."""
    import urllib.request

    with urllib.request.urlopen(served["base"] + "/tags/melasma/feed.xml", timeout=10) as response:
        root = etree.fromstring(response.read())
    item = root.find("channel/item")
    vtt = item.xpath("podcast:transcript[@type='text/vtt']", namespaces=NS)[0]
    vtt.set("url", vtt.get("url").replace("transcript.vtt", "transcript.html"))
    item.xpath("podcast:person", namespaces=NS)[0].set("role", "surgeon")
    item.xpath("podcast:chapters", namespaces=NS)[0].set("url", "chapters.json")
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    (tmp_path / "broken.xml").write_bytes(body)

    as_file = check(str(tmp_path / "broken.xml"))
    assert as_file.exit_code == 1
    assert "has role 'surgeon', not one of the 'cast' group's." in as_file.output
    assert "has podcast:chapters url 'chapters.json', not an http(s) URL." in as_file.output
    assert "2 problem(s) in" in as_file.output

    _OneFeed.body = body
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OneFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        served_result = check(f"http://127.0.0.1:{server.server_address[1]}/broken.xml")
    finally:
        server.shutdown()
        server.server_close()
    assert served_result.exit_code == 1
    assert f"transcript {vtt.get('url')} answered 404, not 200." in served_result.output
    assert "3 problem(s) in" in served_result.output  # the chapters URL is not fetched: not a URL
