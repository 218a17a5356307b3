"""Matplotlib skeletons for print, and animation export to GIF / MP4.

``up`` has the same meaning as in :mod:`anatomy_lib.viz.figures` (``"-y"`` camera space,
``"z"`` world space). Matplotlib's 3D axes always have z up, so the points are drawn in
the right-handed ``(right, forward, up)`` frame of ``up`` (for camera space: x, z, -y);
axis labels name the original coordinates.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..skeleton import H36M_17, Skeleton
from ._common import (
    SIDE_COLORS,
    axis_label,
    cube_bounds,
    joint_colors,
    named,
    side_of_bones,
    to_numpy_points,
    up_frame,
)

__all__ = ["skeleton_matplotlib", "save_animation", "ffmpeg_available"]


def _draw_pose(ax, joints: np.ndarray, skeleton: Skeleton, style: str, label: str) -> list:
    """Draw one pose already in the plotting frame; return the artists."""
    artists = []
    for (child, parent), side in zip(skeleton.bones, side_of_bones(skeleton), strict=True):
        seg = joints[[parent, child]]
        (line,) = ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], style, color=SIDE_COLORS[side], lw=2.5)
        artists.append(line)
    artists.append(
        ax.scatter(*joints.T, c=joint_colors(skeleton), s=10, depthshade=False, label=label)
    )
    return artists


def _setup_axes(ax, points: np.ndarray, frame: np.ndarray, title: str | None) -> None:
    centre, half = cube_bounds(points)
    for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre, strict=True):
        setter(c - half, c + half)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel(axis_label(frame[0]))
    ax.set_ylabel(axis_label(frame[1]))
    ax.set_zlabel(axis_label(frame[2]))
    ax.view_init(elev=15, azim=-110)
    if title:
        ax.set_title(title)


def skeleton_matplotlib(
    poses,
    skeleton: Skeleton = H36M_17,
    up: str = "-y",
    ax=None,
    title: str | None = None,
):
    """Matplotlib 3D figure of one or more overlaid poses, bones coloured by side.

    Args:
        poses: ``(J, 3)`` pose, a list of them or a mapping ``name -> (J, 3)``; the first
            is drawn solid, the others dashed.
        skeleton: the joint tree.
        up: the axis pointing up (``"-y"`` camera space, ``"z"`` world).
        ax: an existing 3D axes to draw into; a new figure otherwise.
        title: axes title.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt

    frame = up_frame(up)
    arrs = {
        n: to_numpy_points(p, skeleton, 3, f"poses[{n!r}]") for n, p in named(poses, "pose").items()
    }
    for n, a in arrs.items():
        if a.ndim != 2:
            raise ValueError(f"poses[{n!r}]: expected ({skeleton.num_joints}, 3), got {a.shape}")
    if ax is None:
        fig = plt.figure(figsize=(5, 5))
        ax = fig.add_subplot(projection="3d")
    for i, (n, a) in enumerate(arrs.items()):
        _draw_pose(ax, a @ frame.T, skeleton, "-" if i == 0 else "--", n)
    _setup_axes(ax, np.stack([a @ frame.T for a in arrs.values()]), frame, title)
    if len(arrs) > 1:
        ax.legend(loc="upper left")
    return ax.figure


def ffmpeg_available() -> bool:
    """True if matplotlib can find an ``ffmpeg`` executable for MP4 export."""
    import matplotlib as mpl

    return shutil.which(mpl.rcParams["animation.ffmpeg_path"]) is not None


def save_animation(
    sequences,
    path: str | Path,
    skeleton: Skeleton = H36M_17,
    up: str = "-y",
    fps: float = 25.0,
    step: int = 1,
    dpi: int = 80,
    title: str | None = None,
) -> Path:
    """Write a skeleton sequence animation to ``.gif`` (Pillow) or ``.mp4`` (ffmpeg).

    Args:
        sequences: ``(T, J, 3)`` poses or a mapping ``name -> (T, J, 3)`` (same ``T``).
        path: output file; the suffix picks the format (``.gif`` or ``.mp4``).
        skeleton: the joint tree.
        up: the axis pointing up.
        fps: frames per second of the written file.
        step: keep every ``step``-th frame; the file has ``ceil(T / step)`` frames.
        dpi: resolution of the 5 x 5 inch frames.
        title: axes title; the frame index is appended.

    Returns:
        The written path.

    Raises:
        RuntimeError: for ``.mp4`` when no ``ffmpeg`` executable is found.
        ValueError: for another suffix or bad sequences.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"path: expected a .gif or .mp4 file, got {path.name!r}")
    if suffix == ".mp4" and not ffmpeg_available():
        raise RuntimeError(
            "MP4 export needs the ffmpeg executable, which was not found on PATH "
            "(install ffmpeg, e.g. `apt-get install ffmpeg`, or save a .gif instead)"
        )
    if step < 1:
        raise ValueError(f"step: expected a positive integer, got {step}")
    frame = up_frame(up)
    raw = named(sequences, "sequence")
    arrs = {
        n: to_numpy_points(s, skeleton, 3, f"sequences[{n!r}]") @ frame.T for n, s in raw.items()
    }
    lengths = {a.shape[0] if a.ndim == 3 else None for a in arrs.values()}
    if any(a.ndim != 3 for a in arrs.values()) or len(lengths) != 1:
        raise ValueError(
            f"sequences: expected (T, J, 3) arrays with one common T, got "
            f"{ {n: a.shape for n, a in arrs.items()} }"
        )
    idx = list(range(0, lengths.pop(), step))
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    all_points = np.stack([a[idx] for a in arrs.values()])

    def draw(t: int) -> list:
        ax.cla()
        artists = []
        for i, (n, a) in enumerate(arrs.items()):
            artists += _draw_pose(ax, a[t], skeleton, "-" if i == 0 else "--", n)
        _setup_axes(ax, all_points, frame, f"{title + ', ' if title else ''}frame {t}")
        return artists

    anim = FuncAnimation(fig, draw, frames=idx, blit=False)
    writer = PillowWriter(fps=fps) if suffix == ".gif" else FFMpegWriter(fps=fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        anim.save(str(path), writer=writer, dpi=dpi)
    finally:
        plt.close(fig)
    return path
