"""Browser fixtures: a running site with real audio, and Debian's Chromium through Playwright."""

from __future__ import annotations

import pytest

from .site import CHROMIUM_ARGS, running_site


@pytest.fixture
def site(tmp_path):
    with running_site(tmp_path) as running:
        yield running


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
