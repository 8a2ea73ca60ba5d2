"""Cover art over HTTP: editors upload it, pages, feeds and the player use it."""

from __future__ import annotations

import io
import re

from lxml import etree
from PIL import Image

from .conftest import csrf_from

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def image_bytes(size=(1400, 1400), colour=(10, 200, 10), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def upload(client, episode_id, data: bytes, name="cover.png"):
    token = csrf_from(client.get(f"/review/{episode_id}").get_data(as_text=True))
    return client.post(f"/review/{episode_id}/cover", data={"csrf_token": token, "cover": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_editor_uploads_a_cover_and_the_episode_shows_it(as_role, episode):
    editor = as_role("editor")
    response = upload(editor, episode["id"], image_bytes())
    assert response.status_code == 302 and response.headers["Location"].endswith("#cover")
    served = as_role(None).get(f"/episodes/{episode['slug']}/cover.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (1400, 1400) and image.getpixel((3, 3))[1] > 180
    small = as_role(None).get(f"/episodes/{episode['slug']}/cover.jpg?size=160")
    assert Image.open(io.BytesIO(small.data)).size == (160, 160)


def test_a_bad_cover_is_refused_with_the_reason_and_nothing_changes(as_role, episode):
    editor = as_role("editor")
    before = as_role(None).get(f"/episodes/{episode['slug']}/cover.jpg").data
    response = upload(editor, episode["id"], image_bytes(size=(1400, 1000)))
    assert response.status_code == 422
    assert "must be square; this one is 1400×1000 px" in response.get_data(as_text=True)
    assert as_role(None).get(f"/episodes/{episode['slug']}/cover.jpg").data == before


def test_listeners_cannot_upload_covers(as_role, episode):
    listener = as_role("listener")
    token = csrf_from(listener.get(f"/episodes/{episode['slug']}").get_data(as_text=True))
    response = listener.post(f"/review/{episode['id']}/cover", data={"csrf_token": token})
    assert response.status_code == 403


def test_cards_episode_page_player_and_feed_use_the_episode_cover(as_role, episode):
    client = as_role(None)
    cover = f"/episodes/{episode['slug']}/cover.jpg"
    home = client.get("/").get_data(as_text=True)
    assert re.search(rf'<img class="card-art" src="{re.escape(cover)}\?size=160" width="80" height="80"', home)
    page = client.get(f"/episodes/{episode['slug']}").get_data(as_text=True)
    assert f'src="{cover}?size=320"' in page and f'data-art="{cover}?size=640"' in page
    feed = etree.fromstring(client.get("/feed.xml").data)
    items = feed.findall("channel/item")
    assert [i.find(f"{{{ITUNES}}}image").get("href") for i in items] == [f"http://clinex.test{cover}"]
    size = Image.open(io.BytesIO(client.get(cover).data)).size
    assert size[0] == size[1] and 1400 <= size[0] <= 3000


def test_a_cover_for_an_unknown_episode_is_404(as_role):
    assert as_role(None).get("/episodes/nope/cover.jpg").status_code == 404
