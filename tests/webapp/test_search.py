"""Full-text search on SQLite (FTS5 kept current by triggers) and on PostgreSQL (to_tsvector)."""

from __future__ import annotations

from pipeline.models import Episode, Segment

from .factories import make_episode


def test_results_link_into_the_moment(client, episode):
    html = client.get("/search?q=hyaluronidase").get_data(as_text=True)
    # the line starts at 9.6 s; without stored word times its 8 words share its 4.6 s, and the
    # link opens on the eighth, the word that matched
    assert f'href="/episodes/{episode["slug"]}#t=13.6">' in html and "<mark>hyaluronidase</mark>" in html


def test_results_open_on_the_stored_time_of_the_matching_word(client, session, episode):
    seg = session.get(Episode, episode["id"]).transcript.segments[2]
    seg.words = [{"start": seg.start + 0.4 * k, "end": seg.start + 0.4 * k + 0.3, "word": " " + w, "probability": 1.0}
                 for k, w in enumerate(seg.text.split())]
    session.commit()
    html = client.get("/search?q=dissolved").get_data(as_text=True)
    assert f'href="/episodes/{episode["slug"]}#t=11.6">' in html  # 9.6 + 5 words x 0.4 s


def test_prefix_and_stemming(client, episode):
    assert "#t=" in client.get("/search?q=hyaluro").get_data(as_text=True)
    assert "#t=" in client.get("/search?q=treated+melasma").get_data(as_text=True)  # porter: treat/treated


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
        session.query(Segment).delete()
        ep = make_episode(ctx, session, title="Fillers and hyaluronidase")
        hits = search(session, "dissolved hyaluron")
        kinds = {h.kind for h in hits}
        assert "segment" in kinds and all(h.episode_id == ep.id for h in hits)
        assert any("\x02" in h.snippet for h in hits if h.kind == "segment")
        assert session.query(Episode).count() >= 1
    html = app.test_client().get("/search?q=hyaluronidase").get_data(as_text=True)
    assert "#t=" in html
