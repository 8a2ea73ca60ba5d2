"""axe-core (the npm package, injected by Playwright) finds no WCAG 2.2 A/AA or best-practice
violations on any page type, at phone and desktop widths, in light and dark colour schemes."""

from __future__ import annotations

import pytest

from .site import WIDTHS, axe_violations, new_page, page_types

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_type_has_no_axe_violations(site, chromium, width, dark):
    found = {}
    pages = {}
    for kind in page_types(site):
        page = pages.get(kind.role) or new_page(chromium, site["base"], kind.role, width, dark)
        pages[kind.role] = page
        page.goto(site["base"] + kind.path)
        violations = axe_violations(page)
        if violations:
            found[kind.name] = violations
    assert found == {}


def test_axe_can_fail(site, chromium):
    """The check sees a real problem: an image without a text alternative."""
    page = new_page(chromium, site["base"], None, 1280)
    page.goto(site["base"] + "/")
    page.evaluate("document.querySelector('main').appendChild(document.createElement('img')).src = '/favicon.ico'")
    assert "image-alt" in {v["id"] for v in axe_violations(page)}


def test_the_skip_link_comes_first_and_focus_is_clearly_visible(site, chromium):
    page = new_page(chromium, site["base"], None, 390)
    page.goto(f"{site['base']}/episodes/{site['slug']}")
    page.keyboard.press("Tab")
    page.wait_for_timeout(400)  # it slides in
    focused = page.evaluate("""(() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
        return {text: e.textContent, top: r.top, outline: parseFloat(s.outlineWidth), style: s.outlineStyle}; })()""")
    assert focused["text"] == "Skip to content" and focused["top"] >= 0, "the skip link shows when focused"
    assert focused["outline"] >= 2 and focused["style"] != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, and its ring shows too
    ring = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert ring >= 2


def test_reduced_motion_turns_off_transitions(site, chromium):
    context = chromium.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{site['base']}/")
    assert page.evaluate("getComputedStyle(document.querySelector('.skip')).transitionDuration") in ("0s", "0s, 0s")
