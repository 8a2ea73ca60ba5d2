"""Full-text search on SQLite (FTS5 kept current by triggers) and on PostgreSQL (to_tsvector)."""

from __future__ import annotations

from pipeline.models import Episode, TranscriptSegment

from .factories import make_episode


def test_results_link_into_the_moment(client, episode):
    html = client.get("/search?q=hyaluronidase").get_data(as_text=True)
    # the line starts at 9.6 s; without stored word times its 8 words share its 4.6 s, and the
    # link opens on the eighth, the word that matched
    assert f'href="/episodes/{episode["slug"]}?t=13.6">Play from 0:13</a>' in html
    assert "<mark>hyaluronidase</mark>" in html


def test_results_open_on_the_stored_time_of_the_matching_word(client, session, episode):
    seg = session.get(Episode, episode["id"]).transcript.segments[2]
    seg.words = [{"start": seg.start + 0.4 * k, "end": seg.start + 0.4 * k + 0.3, "word": " " + w, "probability": 1.0}
                 for k, w in enumerate(seg.text.split())]
    session.commit()
    html = client.get("/search?q=dissolved").get_data(as_text=True)
    assert f'href="/episodes/{episode["slug"]}?t=11.6">' in html  # 9.6 + 5 words x 0.4 s


def test_prefix_and_stemming(client, episode):
    assert "?t=" in client.get("/search?q=hyaluro").get_data(as_text=True)
    assert "?t=" in client.get("/search?q=treated+melasma").get_data(as_text=True)  # porter: treat/treated


def test_index_follows_edits_and_hides_unpublished(client, session, episode):
    seg = session.get(Episode, episode["id"]).transcript.segments[0]
    seg.text = "Botulinum toxin for masseter hypertrophy."
    session.commit()
    assert "masseter" in client.get("/search?q=masseter").get_data(as_text=True).lower()
    session.get(Episode, episode["id"]).status = "unpublished"
    session.commit()
    assert "Nothing matched" in client.get("/search?q=masseter").get_data(as_text=True)


def test_episode_page_marks_matching_lines(client, episode):
    html = client.get(f"/episodes/{episode['slug']}?q=rosacea").get_data(as_text=True)
    assert html.count('class="match"') == 3  # lines 3, 7 and 11 of the 12


def test_postgresql_search(pg_url, tmp_path):
    from pipeline.migrate import upgrade_database
    from webapp import create_app
    from webapp.search import search

    upgrade_database(pg_url)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "pg"), "DATABASE_URL": pg_url, "SECRET_KEY": "s",
                      "BASE_URL": "http://clinex.test"})
    ctx = app.extensions["clinex"]
    with ctx.sessions() as session:
        session.query(TranscriptSegment).delete()
        ep = make_episode(ctx, session, title="Fillers and hyaluronidase")
        hits = search(session, "dissolved hyaluron")
        kinds = {h.kind for h in hits}
        assert "segment" in kinds and all(h.episode_id == ep.id for h in hits)
        assert any("\x02" in h.snippet for h in hits if h.kind == "segment")
        assert session.query(Episode).count() >= 1
    html = app.test_client().get("/search?q=hyaluronidase").get_data(as_text=True)
    assert "?t=" in html and "Play from" in html


def test_results_are_grouped_per_episode_with_lines_in_context(client, episode):
    import re

    html = client.get("/search?q=hyaluronidase").get_data(as_text=True)
    assert html.count('<li class="result">') == 1  # one episode, though three lines match
    moments = re.findall(r'<li class="moment">(.*?)</li>', html, re.S)
    assert len(moments) == 3
    first = moments[0]
    assert '<span class="around">We treat melasma conservatively' in first  # the line before
    assert '<span class="around">Intense pulsed light' in first  # and the one after
    assert "Play from" in first


def test_filters_narrow_the_episodes(client, ctx, session, episode):
    from pipeline.models import Event

    other = make_episode(ctx, session, title="Hyaluronidase emergencies")
    other.event = Event(name="Injectables Forum", slug="injectables-forum")
    other.recorded_on = other.recorded_on.replace(year=2025)
    session.commit()
    both = client.get("/search?q=hyaluronidase").get_data(as_text=True)
    assert both.count('<li class="result">') == 2
    only = client.get("/search?q=hyaluronidase&event=injectables-forum").get_data(as_text=True)
    assert only.count('<li class="result">') == 1 and "Hyaluronidase emergencies" in only
    dated = client.get("/search?q=hyaluronidase&from=2026-01-01").get_data(as_text=True)
    assert dated.count('<li class="result">') == 1 and "Hyaluronidase emergencies" not in dated
    topic = client.get("/search?q=hyaluronidase&topic=melasma&speaker=ana-ribeiro").get_data(as_text=True)
    assert topic.count('<li class="result">') == 2


def test_a_bad_filter_is_a_400_beside_the_form_with_the_query_kept(client, episode):
    response = client.get("/search?q=melasma&event=nowhere")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is no event called &#39;nowhere&#39;" in html and 'value="melasma"' in html
    response = client.get("/search?q=melasma&from=14/05/2026")
    assert response.status_code == 400 and "must be written 2026-05-14" in response.get_data(as_text=True)
