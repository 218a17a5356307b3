"""Plotly renderer for the Jupyter Book build: HTML without plotly.js and without MathJax.

Plotly >= 6 only emits its own mime type, which myst-nb drops, so the built page would
show no figure. During the book build (environment variable :data:`BOOK_BUILD_ENV` set
to ``1``) :func:`use_book_renderer` makes plotly emit a ``text/html`` ``<div>`` plus the
``Plotly.newPlot`` call only; the page loads ``plotly.min.js`` once from the book's
vendored static folder (``scripts/vendor_book_assets.py``), so nothing comes from a CDN.
In JupyterLab and Colab the variable is unset and plotly's default renderer stays.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os

import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

__all__ = [
    "BOOK_BUILD_ENV",
    "BOOK_RENDERER",
    "BookHtmlRenderer",
    "book_build_active",
    "figure_html",
    "use_book_renderer",
]

#: Set to ``1`` by the Makefile while ``jupyter-book build`` executes the notebooks.
BOOK_BUILD_ENV = "ANATOMY3D_BOOK_BUILD"
#: Name under which the renderer is registered in ``plotly.io.renderers``.
BOOK_RENDERER = "anatomy3d_book"

_counter = itertools.count()
_PLOT_CONFIG = {"responsive": True, "displaylogo": False}


def book_build_active() -> bool:
    """True when the environment says a book build is executing this kernel."""
    return os.environ.get(BOOK_BUILD_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def figure_html(fig) -> str:
    """``<div>`` + ``<script>`` for a figure (or figure dict), without plotly.js or MathJax.

    The div id is derived from the figure content and a per-process counter, so re-running
    a notebook gives the same HTML (stable caches and diffs) and two figures never clash.
    """
    fig_dict = fig if isinstance(fig, dict) else fig.to_dict()
    digest = hashlib.sha1(
        json.dumps(fig_dict, sort_keys=True, default=str).encode(), usedforsecurity=False
    ).hexdigest()[:10]
    return pio.to_html(
        fig_dict,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        config=_PLOT_CONFIG,
        div_id=f"anatomy3d-fig-{next(_counter)}-{digest}",
        default_width="100%",
        default_height="480px",
        auto_play=False,
        validate=False,
    )


class BookHtmlRenderer(MimetypeRenderer):
    """Renderer emitting only ``text/html`` from :func:`figure_html` (plotly.js not embedded)."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        return {"text/html": figure_html(fig_dict)}


pio.renderers[BOOK_RENDERER] = BookHtmlRenderer()


def use_book_renderer(force: bool = False) -> bool:
    """Make :data:`BOOK_RENDERER` plotly's default if a book build is running (or ``force``).

    Returns:
        True if the book renderer is now the default; otherwise nothing is changed.
    """
    if force or book_build_active():
        pio.renderers.default = BOOK_RENDERER
        return True
    return False
