"""The defects found reading the site on a phone (issue 15, item 6), each pinned by a test."""

from __future__ import annotations

import re

import pytest

from pipeline.models import Comment, Episode, Summary

from .conftest import csrf_from


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_card_excerpt_is_the_first_paragraph_without_headings(as_role, episode, session):
    session.add(Summary(episode_id=episode["id"], version=2, markdown=(
        "# Complications\nVascular occlusion is rare but serious.\n\n# Patient selection\nPhotograph under "
        "standard light.\n")))
    session.commit()
    html = _page(as_role(None), "/")
    excerpt = re.search(r'<p class="oneline">(.*?)</p>', html, re.S).group(1)
    assert excerpt == "Vascular occlusion is rare but serious."


def test_card_excerpt_of_notes_that_are_a_list_is_the_first_bullet(as_role, episode):
    html = _page(as_role(None), "/")  # the factory's notes: a heading, then bullets
    assert '<p class="oneline">Fewer sessions than nanosecond devices</p>' in html


def test_a_leading_heading_equal_to_the_title_is_not_repeated(as_role, episode, session):
    title = session.get(Episode, episode["id"]).title
    session.add(Summary(episode_id=episode["id"], version=2, markdown=f"# {title.upper()}\nIntro.\n\n# Melasma\nGently.\n"))
    session.commit()
    html = _page(as_role(None), f"/episodes/{episode['slug']}")
    summary = html[html.index('id="summary"'):html.index("</section>", html.index('id="summary"'))]
    assert "<h1>" not in summary.split("<h1>Melasma")[0], "the title is shown twice"
    assert "<h1>Melasma" in summary and "Intro." in summary


def test_a_heading_that_differs_from_the_title_stays(as_role, episode):
    html = _page(as_role(None), f"/episodes/{episode['slug']}")
    assert "<h1>Picosecond lasers" in html  # the notes' first heading is not the episode's title


@pytest.mark.parametrize("stamp, message", [
    ("99:99", "go up to 59"), ("1:75:00", "go up to 59"), ("12:00", "only 1 minutes long"),
])
def test_a_bad_timestamp_is_shown_beside_the_field_with_the_text_kept(as_role, episode, session, stamp, message):
    client = as_role("editor")
    token = csrf_from(client.get(f"/episodes/{episode['slug']}").get_data(as_text=True))
    response = client.post(f"/episodes/{episode['slug']}/comments",
                           data={"csrf_token": token, "body": "The dose at this point matters", "timestamp": stamp})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<section class="discussion"' in html, "the episode page comes back, not an error page"
    field = re.search(r'<input id="ts"[^>]*>\s*<button[^>]*>[^<]*</button></span>\s*<p class="field-error" id="ts-error">([^<]*)</p>', html)
    assert field and message in field.group(1)
    assert 'aria-describedby="ts-error"' in html and f'value="{stamp}"' in html
    assert ">The dose at this point matters</textarea>" in html
    assert session.query(Comment).count() == 0


def test_moderation_names_the_episode_and_uses_plain_verbs(as_role, episode, users, session):
    session.add(Comment(episode_id=episode["id"], author_id=users["listener"], body="Waiting", state="pending"))
    session.commit()
    html = _page(as_role("editor"), "/moderation/")
    title = session.get(Episode, episode["id"]).title
    assert f"<bdi>{title}</bdi></a>" in html and f"episode {episode['id']}<" not in html
    assert re.search(r'<button type="submit" class="primary">Approve</button>', html)
    assert re.search(r'<button type="submit" class="secondary">Hide</button>', html)
    assert ">Show<" not in html


def test_approve_looks_primary_and_request_changes_does_not(as_role, ctx, session, users):
    from pipeline.models import User

    from .factories import make_episode

    ep = make_episode(ctx, session, status="in_review", author=session.get(User, users["summarizer"]))
    html = _page(as_role("editor"), f"/review/{ep.id}")
    assert re.search(r'class="primary">Approve and publish</button>', html)
    assert re.search(r'class="secondary">Request changes</button>', html)


def test_favicon_and_app_icons_are_served(as_role):
    client = as_role(None)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    html = _page(client, "/")
    for href in re.findall(r'<link rel="(?:icon|apple-touch-icon|manifest)" href="([^"]+)"', html):
        assert client.get(href).status_code == 200, href
    assert 'rel="apple-touch-icon"' in html


def test_dates_are_labelled(as_role, episode):
    card = _page(as_role(None), "/")
    assert 'recorded <time datetime="2026-05-14">14 May 2026</time>' in card
    page = _page(as_role(None), f"/episodes/{episode['slug']}")
    assert 'recorded <time datetime="2026-05-14">14 May 2026</time>' in page
    assert re.search(r'published <time datetime="\d{4}-\d\d-\d\d">\d{1,2} \w+ \d{4}</time>', page)


def test_an_episode_page_carries_open_graph_and_twitter_player_tags(as_role, episode):
    html = _page(as_role(None), f"/episodes/{episode['slug']}?t=90")
    base = f"http://clinex.test/episodes/{episode['slug']}"
    assert f'<meta property="og:url" content="{base}?t=90">' in html
    assert f'<meta property="og:image" content="{base}/cover.jpg">' in html
    assert '<meta property="og:title" content="Picosecond lasers for melasma">' in html
    assert '<meta property="og:description" content="Fewer sessions than nanosecond devices">' in html
    assert '<meta name="twitter:card" content="player">' in html
    assert f'<meta name="twitter:player" content="{base}/embed?t=90">' in html
    assert 'src="http://clinex.test/media/' in html and '.mp3#t=90"' in html  # the player starts there


def test_the_embed_page_may_be_framed_by_other_sites_and_starts_at_the_moment(as_role, episode):
    response = as_role(None).get(f"/episodes/{episode['slug']}/embed?t=45")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert '.mp3#t=45"' in html and "from 0:45" in html
    # every other page still refuses frames
    assert as_role(None).get(f"/episodes/{episode['slug']}").headers["X-Frame-Options"] == "DENY"


def test_a_members_only_episode_has_no_embed(as_role, episode, session):
    session.get(Episode, episode["id"]).members_only = True
    session.commit()
    assert as_role("listener").get(f"/episodes/{episode['slug']}/embed").status_code == 404


def test_a_summarizer_page_lists_the_episodes_whose_notes_they_wrote(as_role, episode, users, session):
    client = as_role(None)
    page = _page(client, f"/episodes/{episode['slug']}")
    link = f'/summarizers/{users["summarizer"]}'
    assert f'Notes by <a class="member" href="/members/{users["summarizer"]}">' in page  # the profile
    listing = _page(client, link)
    assert "<h1>Summarizer</h1>" in listing and f"/episodes/{episode['slug']}" in listing
    session.add(Summary(episode_id=episode["id"], version=2, markdown="Rewritten by an editor.",
                        author_id=users["editor"]))
    session.commit()
    assert f"/episodes/{episode['slug']}" not in _page(client, link)  # only current notes count
    assert client.get(f'/summarizers/{users["listener"]}').status_code == 404
