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


def test_media_has_validators_and_answers_304(site):
    client, path = site["client"], site["path"]
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag == f'"{site["media"].sha256[:32]}"' and modified.endswith(" GMT")
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f"W/{etag}"}, {"If-Modified-Since": modified},
                    {"If-None-Match": etag, "Range": "bytes=0-1"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 304, headers
        # RFC 9110 15.4.5: ETag and Cache-Control again; Last-Modified is not needed beside an ETag.
        assert response.get_data() == b"" and response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert client.head(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"older"'}).status_code == 200


def test_a_304_is_not_a_download(site):
    from pipeline.models import Download

    client, path = site["client"], site["path"]
    agent = {"User-Agent": "AntennaPod/3.4 (304 test)"}
    etag = client.get(path, headers={"User-Agent": "AntennaPod/3.4 (probe)"}).headers["ETag"]
    sessions = site["app"].extensions["clinex"].sessions
    with sessions() as session:
        before = session.query(Download).count()
    assert client.get(path, headers={**agent, "If-None-Match": etag}).status_code == 304
    with sessions() as session:
        assert session.query(Download).count() == before


def test_if_range_gives_206_when_current_and_200_when_stale(site):
    client, path, size = site["client"], site["path"], site["media"].size
    first = client.head(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for current in (etag, modified):
        response = client.get(path, headers={"Range": "bytes=10-19", "If-Range": current})
        assert response.status_code == 206 and response.get_data() == site["bytes"][10:20]
    # Another version's tag, a weak tag (If-Range needs a strong match) or another date: whole file.
    for stale in ('"0123456789abcdef"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT", "not a date"):
        response = client.get(path, headers={"Range": "bytes=10-19", "If-Range": stale})
        assert response.status_code == 200, stale
        assert "Content-Range" not in response.headers
        assert int(response.headers["Content-Length"]) == size and response.get_data() == site["bytes"]


def test_416_is_empty_plain_text_with_the_size(site):
    response = site["client"].get(site["path"], headers={"Range": "bytes=999999999-"})
    assert response.status_code == 416
    assert response.get_data() == b"" and response.headers["Content-Length"] == "0"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Content-Range"] == f"bytes */{site['media'].size}"


def test_published_file_lists_its_chapters_in_time_order(site, tmp_path):
    """What ffmpeg-based players show: the published MP3's CHAP frames, in file order."""
    import json
    import subprocess

    from mutagen.id3 import ID3

    path = tmp_path / "published.mp3"
    path.write_bytes(site["bytes"])
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True)
    starts = [float(c["start_time"]) for c in json.loads(probe.stdout)["chapters"]]
    assert len(starts) >= 2 and starts == sorted(starts)
    frames = [key for key in ID3(path) if key.startswith(("CHAP", "CTOC"))]
    assert frames == ["CTOC:toc"] + [f"CHAP:chp{n}" for n in range(len(starts))]
