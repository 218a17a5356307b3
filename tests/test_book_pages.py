"""Every page of the built book loads in headless Chromium and its figures are drawn.

Needs a built book (``make book`` writes ``_build/html``; ``ANATOMY3D_BOOK_HTML`` points
elsewhere). ``make test`` builds the book and then runs this file with
``ANATOMY3D_REQUIRE_BOOK=1``, so a missing build fails there instead of skipping.

For each page in the table of contents the test loads the page, lets its scripts run,
and checks the DOM after JavaScript: every plotly figure the page contains has been
turned into a drawn plot (plotly adds its ``plot-container`` with SVG layers, and a
WebGL canvas for 3D scenes), MathJax has typeset the math, and the console shows no
error raised by the book's own scripts (plotly, MathJax, our figure code).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("ANATOMY3D_BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1200,900",
    "--virtual-time-budget=15000",
]
# Console errors from third-party theme add-ons, not from the book's own code. sphinx-thebe
# declares its URL constant in two script tags; it only matters when thebe is launched.
THIRD_PARTY = ("THEBE_JS_URL", "thebe", "sphinx-thebe")
REQUIRED = os.environ.get("ANATOMY3D_REQUIRE_BOOK") == "1"


def _pages() -> list[Path]:
    if not (BOOK / "index.html").exists():
        return []
    return sorted((BOOK / "book").glob("*.html"))


def _figure_ids(html: str) -> list[str]:
    """Ids of the plotly figures a page embeds (``Plotly.newPlot("<id>", ...)``)."""
    return re.findall(r"Plotly\.newPlot\(\s*[\"']([^\"']+)[\"']", html)


def _render(page: Path, profile: Path) -> tuple[str, list[str]]:
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages() -> list[Path]:
    found = _pages()
    if not found:
        if REQUIRED:
            pytest.fail(f"no built book under {BOOK}: run `make book` first")
        pytest.skip(f"no built book under {BOOK} (run `make book`)")
    if not CHROMIUM.exists():
        if REQUIRED:
            pytest.fail("needs /usr/bin/chromium (make browser-deps installs it)")
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium)")
    return found


def test_every_toc_chapter_was_built(pages):
    toc = (ROOT / "_toc.yml").read_text()
    expected = re.findall(r"file:\s*book/(\S+)", toc)
    built = {p.stem for p in pages}
    missing = [name for name in expected if name not in built]
    assert not missing, f"chapters in _toc.yml without a built page: {missing}"


def test_pages_load_draw_their_figures_and_have_no_console_errors(pages, tmp_path):
    problems = []
    for page in pages:
        html = page.read_text(encoding="utf-8")
        dom, console = _render(page, tmp_path / f"profile-{page.stem}")
        if "</html>" not in dom:
            problems.append(f"{page.name}: the page did not load")
            continue
        errors = [
            line
            for line in console
            if ("Uncaught" in line or "Error" in line) and not any(t in line for t in THIRD_PARTY)
        ]
        problems += [f"{page.name}: console: {line}" for line in errors]
        for fig_id in _figure_ids(html):
            block = re.search(rf'<div[^>]*id="{re.escape(fig_id)}"[^>]*>(.*?)</svg>', dom, re.S)
            if block is None or "main-svg" not in block.group(1):
                problems.append(f"{page.name}: figure {fig_id} was not drawn")
        if "$$" in html or "\\(" in html:
            if "mjx-container" not in dom:
                problems.append(f"{page.name}: math was not typeset")
    assert not problems, "\n".join(problems)


def test_no_page_loads_scripts_from_a_cdn(pages):
    cdn = re.compile(
        r"<script[^>]+src=\"https?://(?!localhost)[^\"]*(plotly|mathjax|require)", re.I
    )
    offenders = [p.name for p in pages if cdn.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"pages loading plotly/MathJax/require.js from a CDN: {offenders}"
