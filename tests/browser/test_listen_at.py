"""A #t= moment (a search hit, a listen-at link) highlights and scrolls to the transcript line
holding that time, in real Chromium (issue 14)."""

from __future__ import annotations

import threading

import pytest

from tests.browser.test_journeys import CHROMIUM_ARGS, browser  # noqa: F401  (the fixture)
from tests.conftest import free_port
from tests.webapp.factories import make_episode

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(tmp_path):
    from werkzeug.serving import make_server

    from pipeline.migrate import upgrade_database
    from webapp import create_app

    port = free_port()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
                      "SECRET_KEY": "browser-test", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    with ctx.sessions() as session:
        # 40 lines of 4.8 s: the page is long enough to need scrolling to a late line
        slug = make_episode(ctx, session, segments=40).slug
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/episodes/{slug}"
    server.shutdown()


CURRENT = "document.querySelector('#transcript li.current')"


def test_a_moment_in_the_address_shows_the_line_that_holds_it(site, browser):  # noqa: F811
    page = browser.new_context(viewport={"width": 1000, "height": 700}).new_page()
    # 33 x 4.8 = 158.4 s starts line 33; a link that dropped the decimal (#t=158) showed line 32
    page.goto(f"{site}#t=158.4")
    page.wait_for_function("document.readyState === 'complete'")
    assert page.evaluate(f"{CURRENT}.id") == "s33"
    box = page.evaluate(f"{CURRENT}.getBoundingClientRect().top")
    assert 0 <= box <= 700  # scrolled into view
    page.evaluate("location.hash = '#t=20.5'")  # inside line 4 (19.2-23.8 s)
    page.wait_for_timeout(300)
    assert page.evaluate(f"{CURRENT}.id") == "s4"
    assert page.evaluate("document.querySelectorAll('#transcript li.current').length") == 1
