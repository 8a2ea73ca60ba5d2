"""Published media over HTTP: HEAD, byte ranges the way Apple probes, 416, never 200 to a range."""

from __future__ import annotations

import pytest

from tests.webapp.helpers import published_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(published_sample):
    return published_client(published_sample)


def test_head_gives_exact_length(site):
    client, media = site["client"], site["media"]
    response = client.head(site["path"])
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == media.size
    assert response.headers["Accept-Ranges"] == "bytes"


def test_full_get_is_the_stored_file(site):
    body = site["client"].get(site["path"]).get_data()
    assert len(body) == site["media"].size
    import hashlib

    assert hashlib.sha256(body).hexdigest() == site["media"].sha256


@pytest.mark.parametrize("header, start, end", [
    ("bytes=0-1", 0, 1), ("bytes=100-", 100, None), ("bytes=-500", -500, None), ("bytes=10-19", 10, 19),
    ("bytes=0-99999999999", 0, None),
])
def test_ranges_answer_206_with_content_range(site, header, start, end):
    size = site["media"].size
    first = start if start >= 0 else size + start
    last = size - 1 if end is None else end
    response = site["client"].get(site["path"], headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert len(response.get_data()) == last - first + 1 == int(response.headers["Content-Length"])
    assert response.get_data() == site["bytes"][first:last + 1]


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=5-2", "bytes=-0", "bytes=abc"])
def test_impossible_ranges_answer_416(site, header):
    response = site["client"].get(site["path"], headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{site['media'].size}"


def test_unknown_media_is_404(site):
    assert site["client"].get("/media/not-a-uuid/none.mp3").status_code == 404


def test_with_a_cdn_downloads_are_counted_then_redirected(published_sample):
    """CLINEX_MEDIA_BASE_URL: GET answers 302 to the same key under the CDN address (after the
    download is counted); HEAD is still answered here with the exact length."""
    from pipeline.models import Download
    from webapp import create_app

    app = create_app({**published_sample["values"], "MEDIA_BASE_URL": "https://cdn.example.org/podcast/"})
    app.config.update(TESTING=True)
    site = published_client(published_sample)
    client, key = app.test_client(), site["media"].storage_key
    ctx = app.extensions["clinex"]
    with ctx.sessions() as session:
        before = session.query(Download).filter_by(episode_id=site["episode"].id).count()
    response = client.get(site["path"], headers={"User-Agent": "Overcast/3.0 (cdn test)"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"https://cdn.example.org/podcast/{key}"
    with ctx.sessions() as session:
        assert session.query(Download).filter_by(episode_id=site["episode"].id).count() == before + 1
    head = client.head(site["path"])
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == site["media"].size
