"""Matplotlib figures, GIF/MP4 export and the book renderer switch."""

import importlib

import matplotlib
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image

matplotlib.use("Agg")

from anatomy_lib.viz import book, save_animation, skeleton_figure, skeleton_matplotlib  # noqa: E402
from anatomy_lib.viz import static as static_mod  # noqa: E402

RNG = np.random.default_rng(2)
SEQ = RNG.normal(scale=0.3, size=(7, 17, 3))


def test_matplotlib_skeleton_draws_every_bone_in_display_frame():
    fig = skeleton_matplotlib({"truth": SEQ[0], "pred": SEQ[1]}, up="-y")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * 16
    x, y, z = ax.lines[0].get_data_3d()
    child = 1  # first H36M bone: pelvis -> right hip
    np.testing.assert_allclose(
        [x[1], y[1], z[1]], [SEQ[0, child, 0], SEQ[0, child, 2], -SEQ[0, child, 1]]
    )
    assert [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == ["x", "z", "-y"]


@pytest.mark.parametrize("step", [1, 3])
def test_gif_has_one_frame_per_kept_pose(tmp_path, step):
    path = save_animation({"a": SEQ, "b": SEQ + 0.01}, tmp_path / "seq.gif", step=step, dpi=30)
    with Image.open(path) as im:
        assert im.n_frames == len(range(0, 7, step))


def test_mp4_without_ffmpeg_names_ffmpeg(tmp_path, monkeypatch):
    monkeypatch.setattr(static_mod.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="ffmpeg"):
        save_animation(SEQ, tmp_path / "seq.mp4")
    assert not (tmp_path / "seq.mp4").exists()
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        save_animation(SEQ, tmp_path / "seq.avi")


def test_book_renderer_switch(monkeypatch):
    fig = skeleton_figure(SEQ[0])
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")
    monkeypatch.delenv(book.BOOK_BUILD_ENV, raising=False)
    assert book.use_book_renderer() is False
    assert "application/vnd.plotly.v1+json" in fig._repr_mimebundle_()
    monkeypatch.setenv(book.BOOK_BUILD_ENV, "1")
    assert book.use_book_renderer() is True
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"text/html"}
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html and "<script src" not in html
    assert "MathJax" not in html and "cdn" not in html.lower()
    assert len(html) < 200_000  # plotly.js (4.8 MB) is not embedded


def test_import_enables_renderer_only_in_book_build(monkeypatch):
    import anatomy_lib.viz as viz

    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")
    monkeypatch.delenv(book.BOOK_BUILD_ENV, raising=False)
    importlib.reload(viz)
    assert pio.renderers.default == "plotly_mimetype"
    monkeypatch.setenv(book.BOOK_BUILD_ENV, "1")
    importlib.reload(viz)
    assert pio.renderers.default == book.BOOK_RENDERER


def test_figure_html_ids_are_unique_and_deterministic_in_content():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    a, b = book.figure_html(fig), book.figure_html(fig)
    assert a != b  # counter keeps two identical figures apart on one page
    assert (
        a.split("anatomy3d-fig-")[1].split("-")[1][:10]
        == b.split("anatomy3d-fig-")[1].split("-")[1][:10]
    )
