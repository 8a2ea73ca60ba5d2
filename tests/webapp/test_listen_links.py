""""Listen at 12:34" links in the episode page's summary: where they go, which anchors get one,
and that the summary stays inert HTML."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.models import Anchor, Episode, Summary

LISTEN = "//section[@id='summary']//a[contains(concat(' ', @class, ' '), ' listen-at ')]"


def _page(client, slug: str, query: str = ""):
    response = client.get(f"/episodes/{slug}{query}")
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def _listen_links(doc) -> dict[str, tuple[str, str, str]]:
    """Text of the element holding each link -> (link text, data-t, href)."""
    out = {}
    for link in doc.xpath(LISTEN):
        holder = link.getparent()
        own = (holder.text or "").strip()
        out[own] = (link.text_content(), link.get("data-t"), link.get("href"))
    return out


def _anchor(episode_id: int, kind: str, position: int, start: float | None, confidence: float, version: int = 1):
    return Anchor(episode_id=episode_id, summary_version=version, kind=kind, position=position, text="",
                  start=start, confidence=confidence)


@pytest.fixture
def anchored(session, episode):
    """The factory's notes ("# Picosecond lasers / - Fewer sessions... / # Melasma"), anchored."""
    session.add_all([_anchor(episode["id"], "section", 0, 4.8, 0.9),
                     _anchor(episode["id"], "bullet", 0, 3725.4, 0.6),
                     _anchor(episode["id"], "section", 1, 754.2, 0.8)])
    session.commit()
    return episode


def test_links_sit_at_their_heading_and_bullet_with_the_time(client, anchored):
    doc = _page(client, anchored["slug"])
    links = _listen_links(doc)
    slug = anchored["slug"]
    assert links == {
        "Picosecond lasers": ("listen at 0:04", "4.80", f"/episodes/{slug}?t=4#player"),
        "Fewer sessions than nanosecond devices": ("listen at 1:02:05", "3725.40", f"/episodes/{slug}?t=3725#player"),
        "Melasma": ("listen at 12:34", "754.20", f"/episodes/{slug}?t=754#player"),
    }
    assert [a.getparent().tag for a in doc.xpath(LISTEN)] == ["h1", "li", "h1"]
    # The links seek through the page's own player code, as chapters and transcript lines do.
    assert all("seek" in a.get("class").split() for a in doc.xpath(LISTEN))


def test_without_javascript_the_link_starts_the_player_there(client, anchored):
    doc = _page(client, anchored["slug"], "?t=754")
    assert doc.get_element_by_id("player").get("src").endswith("#t=754")
    assert "#t=" not in _page(client, anchored["slug"]).get_element_by_id("player").get("src")
    assert "#t=" not in _page(client, anchored["slug"], "?t=-5").get_element_by_id("player").get("src")


def test_unsure_unplaced_and_outdated_anchors_give_no_link(client, session, episode):
    from pipeline.pairing import MIN_CONFIDENCE

    session.add_all([_anchor(episode["id"], "section", 0, 4.8, MIN_CONFIDENCE - 0.01),
                     _anchor(episode["id"], "bullet", 0, None, 0.0),
                     _anchor(episode["id"], "section", 1, 30.0, 0.9, version=0),  # an older summary's
                     _anchor(episode["id"], "bullet", 7, 30.0, 0.9)])  # no such bullet
    session.commit()
    doc = _page(client, episode["slug"])
    assert doc.xpath(LISTEN) == []
    assert doc.xpath("//section[@id='summary']//h1")[0].text_content() == "Picosecond lasers"


def test_links_follow_the_current_summary_version(client, session, anchored):
    notes = "## Patient selection\nIntro.\n\n## Settings\n- Low fluence\n- Two passes\n"
    session.add(Summary(episode_id=anchored["id"], version=2, markdown=notes))
    session.add_all([_anchor(anchored["id"], "section", 1, 90.0, 0.7, version=2),
                     _anchor(anchored["id"], "bullet", 1, 125.0, 0.5, version=2)])
    session.commit()
    links = _listen_links(_page(client, anchored["slug"]))
    assert {k: v[0] for k, v in links.items()} == {"Settings": "listen at 1:30", "Two passes": "listen at 2:05"}


def test_a_summary_with_html_stays_inert(client, session, episode):
    notes = ('## Risks <script>alert("h")</script>\n'
             '- <img src=x onerror="alert(1)"> burns [click](javascript:alert(2))\n'
             '- <a class="seek listen-at" data-t="1" href="https://evil.example">listen at 0:01</a>\n')
    ep = session.get(Episode, episode["id"])
    session.add(Summary(episode_id=ep.id, version=2, markdown=notes))
    session.add_all([_anchor(ep.id, "section", 0, 61.0, 0.9, version=2),
                     _anchor(ep.id, "bullet", 0, 62.0, 0.9, version=2)])
    session.commit()
    response = client.get(f"/episodes/{ep.slug}")
    html = response.get_data(as_text=True)
    summary = lxml.html.fromstring(html).get_element_by_id("summary")
    assert summary.xpath(".//script | .//img") == []
    assert not [a for a in summary.iter("a") if "javascript" in (a.get("href") or "")]
    assert not [e for e in summary.iter() if any(k.startswith("on") for k in e.attrib)]
    assert "evil.example" not in {a.get("href") for a in summary.iter("a")}
    assert '&lt;script&gt;alert("h")&lt;/script&gt;' in html or "&lt;script&gt;alert(&quot;h&quot;)" in html
    links = summary.xpath("." + LISTEN.removeprefix("//section[@id='summary']"))
    assert [(a.text_content(), a.getparent().tag) for a in links] == [("listen at 1:01", "h2"), ("listen at 1:02", "li")]
