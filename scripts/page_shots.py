"""Screenshots of every page type at 390 and 1280 px into docs/screenshots/, and the axe-core
results table into docs/accessibility.md. Run `python scripts/page_shots.py` after changing a page.

The site is the browser tests' (tests/browser/site.py): real audio, a comment at a moment, one
account per role. The episode page is shot with the player playing, so the shots show it."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.site import (AXE_TAGS, CHROMIUM_ARGS, WIDTHS, axe_violations, new_page,  # noqa: E402
                                page_types, running_site)

SHOTS = ROOT / "docs" / "screenshots"
REPORT = ROOT / "docs" / "accessibility.md"


def shoot(browser, site: dict) -> dict[tuple[str, int, str], int]:
    """Screenshot each page type at each width (light scheme); axe counts for light and dark."""
    counts = {}
    for width in WIDTHS:
        for scheme in ("light", "dark"):
            pages = {}
            for kind in page_types(site):
                page = pages.get(kind.role) or new_page(browser, site["base"], kind.role, width, scheme == "dark")
                pages[kind.role] = page
                page.goto(site["base"] + kind.path)
                if kind.name == "episode":
                    start_playing(page)
                counts[(kind.name, width, scheme)] = len(axe_violations(page))
                page.screenshot(path=str(SHOTS / f"{kind.name}-{width}{'-dark' if scheme == 'dark' else ''}.png"))
            for page in pages.values():
                page.context.close()
    return counts


def start_playing(page) -> None:
    page.click("#dock-play")
    page.wait_for_timeout(1500)
    page.click("#dock-play")


def write_report(counts: dict, names: list[str]) -> None:
    head = "| page type | " + " | ".join(f"{w} px {s}" for w in WIDTHS for s in ("light", "dark")) + " |"
    rows = [head, "|" + "---|" * (1 + 2 * len(WIDTHS))]
    for name in names:
        rows.append(f"| {name} | " + " | ".join(str(counts[(name, w, s)]) for w in WIDTHS for s in ("light", "dark")) + " |")
    REPORT.write_text(
        "# Accessibility: axe-core violations per page type\n\n"
        "Made by `scripts/page_shots.py` (axe-core from `package-lock.json`, run in Debian's Chromium under the\n"
        f"site's own CSP; rule tags {', '.join(AXE_TAGS)}). The same check is the browser test\n"
        "`tests/browser/test_accessibility.py`, which fails on any violation.\n\n" + "\n".join(rows) + "\n\n"
        "Screenshots of each page at each width are in `docs/screenshots/` (`NAME-WIDTH.png`, `-dark` for\n"
        "the dark colour scheme).\n")


def main() -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_site(Path(tmp)) as site, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        counts = shoot(browser, site)
        write_report(counts, [k.name for k in page_types(site)])
        browser.close()
    print(f"{len(counts)} page checks, {sum(counts.values())} axe violations; report in {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
