"""The learning record pages: one's own only, reflections that stay inert text, private-feed
downloads that land in the record, and exports a spreadsheet and a PDF reader open."""

from __future__ import annotations

import csv
import io

import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from pipeline.models import Download, Episode, FeedDownload, Listen, Reflection, utcnow
from tests.integration.test_hostile_input import CORPUS, live_markup, shown

from .conftest import csrf_from
from .factories import make_episode, make_user
from .test_private_feeds import items, local, make_private_feed

APP = {"User-Agent": "AppleCoreMedia/1.0.0 (iPhone; U; CPU OS 17_1 like Mac OS X)"}


def heard(session, user_id: int, episode_id: int, seconds: float) -> None:
    session.add(Listen(user_id=user_id, episode_id=episode_id, position_seconds=seconds, heard_seconds=seconds,
                       updated_at=utcnow()))
    session.commit()


def reflect(client, slug: str, text: str, token: str | None = None):
    token = token or csrf_from(client.get("/account/learning").get_data(as_text=True))
    return client.post(f"/account/learning/{slug}/reflection", data={"csrf_token": token, "reflection": text})


@pytest.fixture
def listener(as_role):
    return as_role("listener")


def test_signed_out_visitors_are_sent_to_sign_in(as_role):
    for path in ("/account/learning", "/account/learning.csv", "/account/learning.pdf"):
        response = as_role(None).get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_account_page_links_to_the_record(listener):
    assert 'href="/account/learning"' in listener.get("/account").get_data(as_text=True)


def test_the_page_lists_heard_episodes_with_minutes_and_completion(listener, users, episode, session):
    assert session.get(Episode, episode["id"]).duration == 60
    heard(session, users["listener"], episode["id"], 54)  # 90 %: completed
    page = lxml_html.document_fromstring(listener.get("/account/learning").get_data(as_text=True))
    entry = page.get_element_by_id(f"ep-{episode['slug']}")
    assert entry.findtext(".//h2/a") == "Picosecond lasers for melasma"
    assert entry.find_class("minutes")[0].text == "0.9 min"
    assert entry.find_class("completed") and entry.find_class("how")[0].text == "site player"
    assert "Dr. Ana Ribeiro" in entry.text_content() and "Aesthetic Lasers Summit" in entry.text_content()
    assert "not accredited" in page.get_element_by_id("self-reported").text


def test_an_empty_record_says_how_to_fill_it(listener):
    body = listener.get("/account/learning").get_data(as_text=True)
    assert "Nothing yet." in body and "Download PDF" not in body


def test_a_private_feed_download_lands_in_the_record_marked(as_role, listener, users, episode, ctx, session):
    members = make_episode(ctx, session, title="Thread lifts, members edition")
    members.members_only = True
    session.commit()
    app_client = as_role(None)  # a podcast app: no cookies, only the URLs of the private feed
    feed = items(app_client.get(make_private_feed(listener)).get_data())
    url = local(feed[members.title].find("enclosure").get("url"))
    assert "?token=cxf_" in url
    app_client.head(url, headers=APP)
    app_client.get(url, headers={**APP, "Range": "bytes=0-1"})  # Apple's probe is not a listen
    assert session.query(FeedDownload).count() == 0
    assert app_client.get(url.split("?")[0], headers=APP).status_code == 404  # no token: no file, no record
    assert app_client.get(url, headers=APP).status_code == 200
    assert app_client.get(url, headers={**APP, "Range": "bytes=100-"}).status_code == 206
    row = session.query(FeedDownload).one()
    assert (row.user_id, row.episode_id) == (users["listener"], members.id)
    assert session.query(Download).count() == 1  # the count stays per client, as before
    page = lxml_html.document_fromstring(listener.get("/account/learning").get_data(as_text=True))
    entry = page.get_element_by_id(f"ep-{members.slug}")
    assert entry.find_class("completed") and "private feed download" in entry.find_class("how")[0].text
    assert "(episode length)" in entry.text_content()


def test_a_reflection_is_saved_shown_and_exported(listener, users, episode, session):
    heard(session, users["listener"], episode["id"], 30)
    response = reflect(listener, episode["slug"], "Start lower with \u202etranexamic\u202c acid.")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#ep-{episode['slug']}")
    assert session.query(Reflection).one().text == "Start lower with tranexamic acid."
    assert "Start lower with tranexamic acid.</textarea>" in listener.get("/account/learning").get_data(as_text=True)
    assert reflect(listener, episode["slug"], "").status_code == 302
    session.expire_all()
    assert session.query(Reflection).count() == 0


@pytest.mark.parametrize("text, message", [
    ("x" * 2001, "at most 2000 characters"),
    ("<script>alert(1)</script>", "HTML tags are not allowed"),
])
def test_a_bad_reflection_is_a_400_with_the_reason_and_nothing_stored(listener, users, episode, session, text, message):
    heard(session, users["listener"], episode["id"], 30)
    response = reflect(listener, episode["slug"], text)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert session.query(Reflection).count() == 0


def test_a_reflection_without_the_csrf_token_is_refused(listener, users, episode, session):
    heard(session, users["listener"], episode["id"], 30)
    response = listener.post(f"/account/learning/{episode['slug']}/reflection", data={"reflection": "x"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert session.query(Reflection).count() == 0


def test_hostile_reflections_stay_text_on_the_page_and_in_the_exports(listener, users, ctx, session):
    """Every string of the hostile corpus that the form takes is shown as the text it is."""
    token = csrf_from(listener.get("/account/learning").get_data(as_text=True))
    kept = {}
    for i, text in enumerate(CORPUS):
        ep = make_episode(ctx, session, title=f"Hostile {i}")
        heard(session, users["listener"], ep.id, 10)
        status = reflect(listener, ep.slug, text, token).status_code
        assert status in (302, 400), text
        if status == 302:
            kept[ep.slug] = text
    assert len(kept) > 10
    assert session.query(Reflection).count() == len(kept)
    page = lxml_html.document_fromstring(listener.get("/account/learning").get_data(as_text=True))
    assert live_markup(page) == []
    for slug, text in kept.items():
        box = page.get_element_by_id(f"ep-{slug}").find(".//textarea")
        assert shown(box.text) == shown(text.replace("\u202e", "").replace("\u202c", "").replace("\u2066", "")
                                        .replace("\u2069", "")), text
        assert "\u202e" not in box.text
    rows = list(csv.reader(io.StringIO(listener.get("/account/learning.csv").get_data(as_text=True).lstrip("\ufeff"))))
    for row in rows[1:-1]:
        assert not row[7].startswith(("=", "+", "-", "@")), row[7]


def test_nobody_sees_or_changes_another_accounts_record(as_role, users, episode, session):
    other = make_user(session, "listener", name="other")
    session.commit()
    heard(session, users["listener"], episode["id"], 50)
    owner = as_role("listener")
    assert reflect(owner, episode["slug"], "Mine alone").status_code == 302
    from .conftest import sign_in

    stranger = sign_in(owner.application.test_client(), other.id)
    assert reflect(stranger, episode["slug"], "Overwritten").status_code == 404
    assert session.query(Reflection).one().text == "Mine alone"
    assert "Mine alone" not in stranger.get("/account/learning").get_data(as_text=True)
    assert "Mine alone" not in stranger.get("/account/learning.csv").get_data(as_text=True)
    pdf = PdfReader(io.BytesIO(stranger.get("/account/learning.pdf").get_data()))
    assert "Picosecond" not in pdf.pages[0].extract_text()
    # the owner's id in the address changes nothing: every route reads the signed-in account only
    assert "Mine alone" not in stranger.get(f"/account/learning.csv?user_id={users['listener']}").get_data(as_text=True)
    assert stranger.get(f"/account/learning/{users['listener']}").status_code == 404


def test_exports_are_attachments_kept_out_of_caches(listener, users, episode, session):
    heard(session, users["listener"], episode["id"], 60)
    response = listener.get("/account/learning.csv")
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="learning-record.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][1:5] == ["Picosecond lasers for melasma", "Aesthetic Lasers Summit", "Dr. Ana Ribeiro", "1.0"]
    response = listener.get("/account/learning.pdf")
    assert response.content_type == "application/pdf" and response.headers["Cache-Control"] == "private, no-store"
    text = " ".join(PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text().split())
    assert "Listener <listener@example.org>" in text and "Picosecond lasers for melasma" in text
    assert "self-reported" in text and "not accredited" in text
