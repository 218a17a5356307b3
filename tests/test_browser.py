"""The book renderer + vendored plotly.js draw a 3D figure offline in headless Chromium.

Builds a page the way the book does (figure HTML from ``anatomy_lib.viz.book`` and
``plotly.min.js`` copied by ``scripts/vendor_book_assets.py``), or uses a prebuilt page
given by ``ANATOMY3D_BROWSER_PAGE``. Skipped only when ``/usr/bin/chromium`` is absent.
"""

import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anatomy_lib.viz import skeleton_figure
from anatomy_lib.viz._common import SIDE_COLORS
from anatomy_lib.viz.book import figure_html

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
    "--window-size=900,700", "--virtual-time-budget=6000",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
    ),
]

POSE = np.array(
    [[0, 0, 0], [-.13, 0, 0], [-.13, .45, 0], [-.13, .88, .05], [.13, 0, 0], [.13, .45, 0],
     [.13, .88, .05], [0, -.23, 0], [0, -.48, 0], [0, -.58, -.05], [0, -.68, 0], [.16, -.45, 0],
     [.35, -.3, 0], [.45, -.1, 0], [-.16, -.45, 0], [-.35, -.3, 0], [-.45, -.1, 0]]
)  # fmt: skip


def _build_page(folder: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "vendor", ROOT / "scripts" / "vendor_book_assets.py"
    )
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    vendor.vendor_plotly(folder)
    fig = skeleton_figure(POSE, show_axes=False)
    fig.update_layout(showlegend=False, width=800, height=600)  # colours only from WebGL
    page = folder / "page.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><script src="plotly.min.js"></script>'
        f'</head><body style="margin:0;background:#fff">{figure_html(fig)}</body></html>'
    )
    return page


def _near(pixels: np.ndarray, hex_color: str, tol: int = 40) -> int:
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=-1) < tol).sum())


def test_3d_figure_is_drawn_offline_without_console_errors(tmp_path):
    prebuilt = os.environ.get("ANATOMY3D_BROWSER_PAGE")
    page = Path(prebuilt) if prebuilt else _build_page(tmp_path)
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert shot.exists(), f"no screenshot; chromium said:\n{proc.stderr[-3000:]}"
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    errors = [line for line in console if "Uncaught" in line or "Error" in line]
    if prebuilt is None:
        assert not errors, "console errors:\n" + "\n".join(errors)
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "page looks blank"
    if prebuilt is None:
        # bones drawn by WebGL in the side colours (legend hidden, axes hidden)
        assert _near(pixels, SIDE_COLORS["left"]) > 100
        assert _near(pixels, SIDE_COLORS["right"]) > 100
