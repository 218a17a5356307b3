"""Visualisation: plotly figures, ipywidgets, matplotlib export and the book renderer.

Importing this package calls :func:`use_book_renderer`, which switches plotly to the
book's HTML renderer only while a book build runs (``ANATOMY3D_BOOK_BUILD=1``); in
JupyterLab and Colab plotly's default renderer stays. Notebooks may also call
:func:`setup_notebook` explicitly.
"""

from .book import BOOK_BUILD_ENV, book_build_active, figure_html, use_book_renderer
from .figures import (
    animated_sequence_figure,
    attention_figure,
    bone_lengths_figure,
    keypoints_2d_figure,
    skeleton_figure,
)
from .static import ffmpeg_available, save_animation, skeleton_matplotlib
from .widgets import BoneLengthEditor, ExplorerPrediction, SequenceExplorer

__all__ = [
    "BOOK_BUILD_ENV",
    "BoneLengthEditor",
    "ExplorerPrediction",
    "SequenceExplorer",
    "animated_sequence_figure",
    "attention_figure",
    "bone_lengths_figure",
    "book_build_active",
    "ffmpeg_available",
    "figure_html",
    "keypoints_2d_figure",
    "save_animation",
    "setup_notebook",
    "skeleton_figure",
    "skeleton_matplotlib",
    "use_book_renderer",
]


def setup_notebook() -> bool:
    """Prepare plotly for this notebook: the book renderer during a book build, else unchanged.

    Returns:
        True if the book renderer is active.
    """
    return use_book_renderer()


setup_notebook()
