"""Plotly figures of skeletons, sequences, 2D keypoints, bone lengths and attention.

Every function returns a ``plotly.graph_objects.Figure``; nothing needs a kernel, so the
figures (animations included: play/pause buttons and a frame slider live in the layout)
work in the static book page.

Coordinates are in the input's unit (metres in the library). 3D figures take an ``up``
argument naming the axis that points up, because the two spaces of the library differ:

* camera space (model targets, the default): x right, **y down**, z forward -> ``up="-y"``;
* world space (Human3.6M mocap): **z up** -> ``up="z"``.

Plotly's 3D view keeps its z axis up, so points are drawn in the right-handed
``(right, forward, up)`` frame of ``up`` (:data:`anatomy_lib.viz._common.UP_FRAMES`; for
camera space that is ``(x, z, -y)``); axis titles name the input coordinates and hovering
a joint shows its input coordinates (``customdata``). A floor grid lies under the lowest
joint.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .._plotly_spec import player_layout
from ..skeleton import H36M_17, Skeleton
from ._common import (
    SIDE_COLORS,
    as_numpy,
    axis_label,
    bone_lengths_np,
    cube_bounds,
    joint_colors,
    named,
    per_bone_values,
    segments,
    side_of_bones,
    to_numpy_points,
    up_frame,
)

__all__ = [
    "skeleton_figure",
    "animated_sequence_figure",
    "keypoints_2d_figure",
    "bone_lengths_figure",
    "attention_figure",
    "image_data_uri",
]

COLOR_MODES = ("side", "error", "length")
_DASHES = ("solid", "dash", "dot", "longdash")
_NEUTRAL = "#9a9a9a"


# ----------------------------------------------------------------------------- helpers
def _round(a: np.ndarray, decimals: int | None) -> list:
    """Rounded values as a plain list (NaN -> None, i.e. a gap in plotly lines)."""
    if decimals is not None:
        a = np.round(a, decimals)
    return [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype=float).ravel()]


class _DictFramesFigure(go.Figure):
    """A figure whose animation frames stay plain dicts until ``.frames`` is read.

    Plotly validates every property of every frame when frames are assigned, which was
    most of the time of a 150-frame figure; rendering (``to_dict``) passes the dicts on
    as they are, and reading ``.frames`` validates them then, once.
    """

    def __init__(self, fig: go.Figure, frames: list[dict]) -> None:
        super().__init__(data=fig.data, layout=fig.layout)
        self._raw_frames = frames

    @property
    def frames(self):  # noqa: D102 - plotly's
        if self._raw_frames:
            raw, self._raw_frames = self._raw_frames, []
            go.Figure.frames.fset(self, raw)
        return go.Figure.frames.fget(self)

    @frames.setter
    def frames(self, value) -> None:
        self._raw_frames = []
        go.Figure.frames.fset(self, value)

    def to_dict(self) -> dict:  # noqa: D102 - plotly's
        out = super().to_dict()
        if self._raw_frames:
            out["frames"] = list(self._raw_frames)
        return out

    def to_plotly_json(self) -> dict:  # noqa: D102 - plotly's
        return self.to_dict()


def _animate(
    fig: go.Figure, frames: list[dict], fps: float, redraw: bool, prefix: str, height: int
) -> go.Figure:
    """``fig`` with its ``frames`` (plain dicts), play/pause buttons and a slider below."""
    fig.update_layout(**player_layout([fr["name"] for fr in frames], fps, redraw, prefix))
    fig.update_layout(margin={"b": 80}, height=height)
    return _DictFramesFigure(fig, frames)


def _frame_indices(num_frames: int, step: int, max_frames: int | None) -> np.ndarray:
    if step < 1:
        raise ValueError(f"step: expected a positive integer, got {step}")
    idx = np.arange(0, num_frames, step)
    if max_frames is not None and len(idx) > max_frames:
        idx = np.linspace(0, num_frames - 1, max_frames).round().astype(int)
    return idx


def _check_color_by(color_by: str) -> None:
    if color_by not in COLOR_MODES:
        raise ValueError(f"color_by: expected one of {COLOR_MODES}, got {color_by!r}")


# ------------------------------------------------------------------------- 3D figures
@dataclass(frozen=True)
class _SceneOptions:
    """What :func:`skeleton_figure` and :func:`animated_sequence_figure` share."""

    skeleton: Skeleton = H36M_17
    color_by: str = "side"
    errors: object = None
    up: str = "-y"
    layout: str = "overlay"
    show_floor: bool = True
    show_axes: bool = True
    decimals: int | None = 4
    fps: float = 25.0
    title: str | None = None

    def check(self) -> None:
        _check_color_by(self.color_by)
        if self.layout not in ("overlay", "side_by_side"):
            raise ValueError(f"layout: expected 'overlay' or 'side_by_side', got {self.layout!r}")


def _xyz(points: np.ndarray, decimals: int | None) -> dict:
    return {a: _round(points[:, i], decimals) for i, a in enumerate("xyz")}


def _bone_traces(joints: np.ndarray, name: str, values, style: int, scene: str,
                 opts: _SceneOptions) -> list[dict]:  # fmt: skip
    """Line traces of one pose's bones (display coordinates ``(J, 3)``), as dicts."""
    skeleton, dash = opts.skeleton, _DASHES[style % len(_DASHES)]
    common = {"type": "scatter3d", "mode": "lines", "legendgroup": name, "hoverinfo": "skip",
              "scene": scene}  # fmt: skip
    if opts.color_by != "side" and values is not None:
        seg = segments(joints, skeleton.bones)
        per_vertex = np.repeat(values, 3).astype(float)  # gap rows draw nothing
        line = {"color": _round(per_vertex, 4), "coloraxis": "coloraxis", "width": 8, "dash": dash}
        return [{**common, **_xyz(seg, opts.decimals), "name": f"{name} ({opts.color_by})",
                 "line": line}]  # fmt: skip
    traces, sides = [], side_of_bones(skeleton)
    for side in ("right", "left", "centre"):
        bones = [b for b, s in zip(skeleton.bones, sides, strict=True) if s == side]
        if bones:
            color = SIDE_COLORS[side] if opts.color_by == "side" else _NEUTRAL
            traces.append({**common, **_xyz(segments(joints, bones), opts.decimals),
                           "name": f"{name} ({side})",
                           "line": {"color": color, "width": 7, "dash": dash}})  # fmt: skip
    return traces


def _pose_traces(joints: np.ndarray, original: np.ndarray, name: str, values, style: int,
                 scene: str, opts: _SceneOptions) -> list[dict]:  # fmt: skip
    """Bone traces then one joint-marker trace for one pose, as dicts.

    ``joints`` are display coordinates ``(J, 3)``, ``original`` the input ones (hover).
    """
    decimals = opts.decimals
    markers = {
        "type": "scatter3d", **_xyz(joints, decimals), "mode": "markers",
        "name": f"{name} joints", "legendgroup": name, "showlegend": False,
        "marker": {"size": 3, "color": joint_colors(opts.skeleton)},
        "text": list(opts.skeleton.joint_names),
        "customdata": np.round(original, 4 if decimals is None else decimals).tolist(),
        "hovertemplate": "%{text}<br>(%{customdata[0]}, %{customdata[1]}, %{customdata[2]})"
        "<extra>" + name + "</extra>",
        "scene": scene,
    }  # fmt: skip
    return [*_bone_traces(joints, name, values, style, scene, opts), markers]


def _floor_trace(
    points: np.ndarray, centre: np.ndarray, half: float, scene: str, lines: int = 9
) -> dict:
    """A ``lines`` x ``lines`` grid in the display frame's horizontal plane, under the feet."""
    height = float(points.reshape(-1, 3)[:, 2].min())
    ticks = np.linspace(-half, half, lines)
    rows = []
    for t in ticks:
        for a, b in ((0, 1), (1, 0)):
            for end in (-half, half, np.nan):
                row = np.array([0.0, 0.0, height])
                row[a], row[b] = centre[a] + t, centre[b] + end
                rows.append(row if not np.isnan(end) else np.full(3, np.nan))
    return {
        "type": "scatter3d", **_xyz(np.array(rows), 4), "mode": "lines", "name": "floor",
        "line": {"color": "#cccccc", "width": 1}, "hoverinfo": "skip", "showlegend": False,
        "scene": scene,
    }  # fmt: skip


def _scene_layout(up: str, centre: np.ndarray, half: float, show_axes: bool) -> dict:
    titles = [axis_label(row) for row in up_frame(up)]
    axis = {"showbackground": False, "visible": show_axes}
    return {
        **{
            f"{ax}axis": {**axis, "range": [float(c - half), float(c + half)], "title": t}
            for ax, c, t in zip("xyz", centre, titles, strict=True)
        },
        "aspectmode": "manual",
        "aspectratio": {"x": 1, "y": 1, "z": 1},
        "camera": {"up": {"x": 0, "y": 0, "z": 1}, "eye": {"x": 0.7, "y": -1.7, "z": 0.6}},
        "dragmode": "turntable",
    }


def _bone_values(
    poses: dict[str, np.ndarray], skeleton: Skeleton, color_by: str, errors
) -> dict[str, np.ndarray | None]:
    """Per-pose ``(T, B)`` colour values (None -> neutral grey) for ``color_by``."""
    if color_by == "side":
        return dict.fromkeys(poses)
    if color_by == "length":
        return {n: bone_lengths_np(p, skeleton) for n, p in poses.items()}
    if errors is None:
        raise ValueError("color_by='error' needs errors: per-bone values (B,) or (T, B)")
    by_name = errors if isinstance(errors, Mapping) else dict.fromkeys(poses, errors)
    unknown = set(by_name) - set(poses)
    if unknown:
        raise ValueError(f"errors: names {sorted(unknown)} are not among poses {list(poses)}")
    out = {}
    for n, p in poses.items():
        if by_name.get(n) is None:
            out[n] = None
            continue
        e = np.asarray(by_name[n], dtype=float)
        if e.ndim == 1:
            e = np.tile(per_bone_values(e, skeleton, "errors"), (len(p), 1))
        out[n] = per_bone_values(e, skeleton, "errors", length=len(p))
    return out


def _scenes(display: dict[str, np.ndarray], frame_idx: np.ndarray, opts: _SceneOptions):
    """Empty figure with one scene per group of poses (and floors); ``(name, style, scene)``
    of every pose, in drawing order."""
    names = list(display)
    groups = [names] if opts.layout == "overlay" else [[n] for n in names]
    fig = make_subplots(
        rows=1, cols=len(groups), specs=[[{"type": "scene"}] * len(groups)],
        subplot_titles=None if opts.layout == "overlay" else names, horizontal_spacing=0.02,
    )  # fmt: skip
    _, half = cube_bounds(np.concatenate([display[n][frame_idx] for n in names], axis=0))
    dynamic: list[tuple[str, int, str]] = []
    for g, group in enumerate(groups):
        scene = "scene" if g == 0 else f"scene{g + 1}"
        points = np.concatenate([display[n][frame_idx] for n in group], axis=0)
        centre, _ = cube_bounds(points)
        if opts.show_floor:
            fig.add_trace(_floor_trace(points, centre, half, scene))
        dynamic += [(n, style, scene) for style, n in enumerate(group)]
        fig.layout[scene] = _scene_layout(opts.up, centre, half, opts.show_axes)
    return fig, dynamic


def _color_axis(values: dict, frame_idx: np.ndarray, color_by: str) -> dict:
    finite = [v[frame_idx] for v in values.values() if v is not None]
    lo = min(float(v.min()) for v in finite) if finite else 0.0
    hi = max(float(v.max()) for v in finite) if finite else 1.0
    return {
        "colorscale": "Viridis" if color_by == "length" else "YlOrRd",
        "cmin": lo, "cmax": hi if hi > lo else lo + 1e-6,
        "colorbar": {"title": color_by, "len": 0.6},
    }  # fmt: skip


def _skeleton_scenes(poses: dict[str, np.ndarray], frame_idx: np.ndarray,
                     opts: _SceneOptions) -> go.Figure:  # fmt: skip
    """Shared builder: ``poses`` maps names to ``(T, J, 3)``; frames when ``len(frame_idx) > 1``."""
    opts.check()
    values = _bone_values(poses, opts.skeleton, opts.color_by, opts.errors)
    frame = up_frame(opts.up)
    display = {n: p @ frame.T for n, p in poses.items()}
    fig, dynamic = _scenes(display, frame_idx, opts)

    def pose_traces(t: int) -> list[dict]:
        out = []
        for n, style, scene in dynamic:
            v = None if values[n] is None else values[n][t]
            out += _pose_traces(display[n][t], poses[n][t], n, v, style, scene, opts)
        return out

    first = len(fig.data)
    fig.add_traces(pose_traces(int(frame_idx[0])))
    if opts.color_by != "side":
        fig.update_layout(coloraxis=_color_axis(values, frame_idx, opts.color_by))
    top = 40 if opts.title or opts.layout != "overlay" else 10
    fig.update_layout(title=opts.title, margin={"l": 0, "r": 0, "t": top, "b": 10},
                      legend={"itemsizing": "constant", "y": 0.9}, height=480)  # fmt: skip
    if len(frame_idx) < 2:
        return fig
    moving = list(range(first, len(fig.data)))
    frames = [{"data": pose_traces(int(t)), "traces": moving, "name": str(int(t))}
              for t in frame_idx]  # fmt: skip
    return _animate(fig, frames, opts.fps, redraw=True, prefix="frame ", height=560)


def skeleton_figure(
    poses,
    skeleton: Skeleton = H36M_17,
    color_by: str = "side",
    errors=None,
    up: str = "-y",
    layout: str = "overlay",
    show_floor: bool = True,
    show_axes: bool = True,
    decimals: int | None = 4,
    title: str | None = None,
) -> go.Figure:
    """3D skeleton(s) with bones coloured by body side, per-bone error or bone length.

    Args:
        poses: one ``(J, 3)`` pose (array or tensor), a list of them, or a mapping
            ``name -> (J, 3)`` (e.g. ``{"truth": gt, "prediction": pred}``). The first pose
            is drawn solid, the next ones dashed/dotted.
        skeleton: the joint tree (bones, left/right joints).
        color_by: ``"side"`` (left blue, right red, centre grey), ``"error"`` (``errors``
            on a colour scale) or ``"length"`` (each bone's length, same unit as ``poses``).
        errors: for ``"error"``: per-bone values ``(B,)`` for every pose, or a mapping
            ``name -> (B,)``; poses missing from the mapping are drawn grey.
        up: the axis pointing up: ``"-y"`` for camera space (y down, z forward),
            ``"z"`` for world space; any of ``x, y, z, -x, -y, -z``.
        layout: ``"overlay"`` (one scene) or ``"side_by_side"`` (one scene per pose).
        show_floor: draw a grid perpendicular to ``up`` under the lowest joint.
        show_axes: show axis lines, ticks and titles.
        decimals: coordinates are rounded to this many decimals (4 = 0.1 mm for metres).
        title: figure title.

    Returns:
        A figure whose axes share one scale (equal aspect, cube ranges).
    """
    raw = named(poses, "pose")
    arrs = {n: to_numpy_points(p, skeleton, 3, f"poses[{n!r}]") for n, p in raw.items()}
    for n, a in arrs.items():
        if a.ndim != 2:
            raise ValueError(
                f"poses[{n!r}]: expected one pose of shape ({skeleton.num_joints}, 3), got "
                f"{a.shape}; use animated_sequence_figure for sequences"
            )
    opts = _SceneOptions(skeleton, color_by, errors, up, layout, show_floor, show_axes,
                         decimals, 1.0, title)  # fmt: skip
    return _skeleton_scenes({n: a[None] for n, a in arrs.items()}, np.array([0]), opts)


def animated_sequence_figure(
    sequences,
    skeleton: Skeleton = H36M_17,
    color_by: str = "side",
    errors=None,
    up: str = "-y",
    layout: str = "overlay",
    step: int = 1,
    max_frames: int | None = 150,
    fps: float = 25.0,
    show_floor: bool = True,
    show_axes: bool = True,
    decimals: int | None = 3,
    title: str | None = None,
) -> go.Figure:
    """Animated 3D skeleton sequence(s) with play/pause buttons and a frame slider.

    The animation is plain plotly frames, so it plays in a static HTML page without a
    kernel. Keep the JSON small with ``step``/``max_frames`` and ``decimals``.

    Args:
        sequences: ``(T, J, 3)`` poses, or a mapping ``name -> (T, J, 3)`` (same ``T``),
            e.g. truth and prediction overlaid.
        skeleton: the joint tree.
        color_by: ``"side"``, ``"error"`` (``errors`` ``(T, B)`` or ``(B,)``, or a mapping
            of them) or ``"length"``.
        errors: see ``color_by``.
        up: the axis pointing up (``"-y"`` camera space, ``"z"`` world space).
        layout: ``"overlay"`` or ``"side_by_side"``.
        step: keep every ``step``-th frame.
        max_frames: at most this many frames (evenly spaced) after ``step``; None = all.
        fps: playback speed in frames per second of the kept frames.
        show_floor: draw a floor grid under the lowest joint of the whole sequence.
        show_axes: show axis lines, ticks and titles.
        decimals: coordinates rounded to this many decimals (3 = millimetres for metres).
        title: figure title.

    Returns:
        A figure with one animation frame per kept frame, named by the original frame
        index (frames stay plain dicts until ``.frames`` is read).
    """
    raw = named(sequences, "sequence")
    arrs = {n: to_numpy_points(s, skeleton, 3, f"sequences[{n!r}]") for n, s in raw.items()}
    lengths = {a.shape[0] if a.ndim == 3 else None for a in arrs.values()}
    if any(a.ndim != 3 for a in arrs.values()) or len(lengths) != 1:
        shapes = {n: a.shape for n, a in arrs.items()}
        raise ValueError(f"sequences: expected (T, J, 3) arrays with one common T, got {shapes}")
    idx = _frame_indices(lengths.pop(), step, max_frames)
    opts = _SceneOptions(skeleton, color_by, errors, up, layout, show_floor, show_axes,
                         decimals, fps, title)  # fmt: skip
    return _skeleton_scenes(arrs, idx, opts)


# ------------------------------------------------------------------------- 2D figures
def image_data_uri(image: np.ndarray) -> str:
    """PNG data URI of an ``(H, W)`` or ``(H, W, 3|4)`` image (uint8, or float in [0, 1])."""
    from PIL import Image

    img = np.asarray(image)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"image: expected shape (H, W), (H, W, 3) or (H, W, 4), got {img.shape}")
    if img.dtype != np.uint8:
        if not np.isfinite(img).all():
            raise ValueError("image: contains NaN or infinite values")
        img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _keypoint_traces(
    kp: np.ndarray, score: np.ndarray, skeleton: Skeleton, decimals: int | None
) -> list[dict]:
    sides = side_of_bones(skeleton)
    traces = []
    for side in ("right", "left", "centre"):
        bones = [b for b, s in zip(skeleton.bones, sides, strict=True) if s == side]
        if bones:
            seg = segments(kp, bones)
            traces.append({
                "type": "scatter", "x": _round(seg[:, 0], decimals),
                "y": _round(seg[:, 1], decimals), "mode": "lines", "name": side,
                "line": {"color": SIDE_COLORS[side], "width": 3}, "hoverinfo": "skip",
            })  # fmt: skip
    names = [f"{n}<br>visibility {s:.2f}" for n, s in zip(skeleton.joint_names, score, strict=True)]
    traces.append({
        "type": "scatter", "x": _round(kp[:, 0], decimals), "y": _round(kp[:, 1], decimals),
        "mode": "markers", "name": "joints (size, opacity = visibility)",
        "marker": {"size": _round(4 + 10 * score, 2), "opacity": _round(0.2 + 0.8 * score, 3),
                   "color": joint_colors(skeleton), "line": {"width": 1, "color": "white"}},
        "text": names, "hovertemplate": "%{text}<br>(%{x}, %{y})<extra></extra>",
    })  # fmt: skip
    return traces


def _visibility(scores, shape: tuple[int, int], given: tuple[int, ...]) -> np.ndarray:
    """``(T, J)`` visibility in [0, 1] (all 1 when ``scores`` is None)."""
    if scores is None:
        return np.ones(shape)
    sc = as_numpy(scores, "scores")
    if sc.shape[-1:] != (shape[1],) or sc.size != shape[0] * shape[1]:
        raise ValueError(f"scores: expected visibility of shape {given}, got {sc.shape}")
    if not np.isfinite(sc).all():
        raise ValueError("scores: contains NaN or infinite values")
    return np.clip(sc.reshape(shape), 0.0, 1.0)


def keypoints_2d_figure(
    keypoints,
    scores=None,
    skeleton: Skeleton = H36M_17,
    image: np.ndarray | None = None,
    step: int = 1,
    max_frames: int | None = 150,
    fps: float = 25.0,
    decimals: int | None = 4,
    title: str | None = None,
) -> go.Figure:
    """2D skeleton in the camera view (image y axis pointing down), visibility as marker size.

    Args:
        keypoints: ``(J, 2)`` or ``(T, J, 2)`` keypoints, in pixels (with ``image``) or
            normalised screen coordinates. ``(T, J, 2)`` gives an animation with a slider.
        scores: visibility ``(J,)`` / ``(T, J)`` in [0, 1]: marker size and opacity grow
            with it. None = all visible.
        skeleton: the joint tree.
        image: optional ``(H, W)`` or ``(H, W, 3)`` video frame drawn under the keypoints
            (pixel coordinates, origin top-left), embedded as a PNG.
        step, max_frames, fps: frame subsampling and playback for sequences.
        decimals: keypoints rounded to this many decimals.
        title: figure title.
    """
    kp = to_numpy_points(keypoints, skeleton, 2, "keypoints")
    if kp.ndim not in (2, 3):
        raise ValueError(f"keypoints: expected (J, 2) or (T, J, 2), got {kp.shape}")
    seq = kp if kp.ndim == 3 else kp[None]
    sc = _visibility(scores, seq.shape[:2], kp.shape[:-1])
    fig = go.Figure()
    if image is not None:
        h, w = np.asarray(image).shape[:2]
        fig.add_layout_image(
            source=image_data_uri(image), xref="x", yref="y", x=0, y=0, sizex=w, sizey=h,
            xanchor="left", yanchor="top", sizing="stretch", layer="below",
        )  # fmt: skip
        fig.update_xaxes(range=[0, w])
        fig.update_yaxes(range=[h, 0])
    else:
        fig.update_yaxes(autorange="reversed")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    fig.add_traces(_keypoint_traces(seq[0], sc[0], skeleton, decimals))
    fig.update_layout(
        title=title, height=480, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10}
    )
    if len(seq) > 1:
        idx = _frame_indices(len(seq), step, max_frames)
        frames = [
            {"data": _keypoint_traces(seq[t], sc[t], skeleton, decimals),
             "traces": list(range(len(fig.data))), "name": str(int(t))}
            for t in idx
        ]  # fmt: skip
        return _animate(fig, frames, fps, redraw=False, prefix="frame ", height=560)
    return fig


# ---------------------------------------------------------------- lengths, attention
def bone_lengths_figure(
    lengths,
    skeleton: Skeleton = H36M_17,
    frame_indices=None,
    unit: str = "m",
    title: str | None = None,
) -> go.Figure:
    """Bone lengths over time, one line per bone (one colour per bone, dash per series).

    Args:
        lengths: ``(T, B)`` bone lengths, or a mapping ``name -> (T, B)`` (e.g. truth and
            prediction; same ``T``).
        skeleton: the joint tree (bone names).
        frame_indices: ``(T,)`` frame numbers for the x axis; ``0..T-1`` by default.
        unit: unit of ``lengths`` for the y-axis title.
        title: figure title.
    """
    series = named(lengths, "lengths")
    arrs = {}
    for n, v in series.items():
        a = as_numpy(v, f"lengths[{n!r}]")
        if a.ndim != 2:
            raise ValueError(
                f"lengths[{n!r}]: expected shape (T, {skeleton.num_bones}), got {a.shape}"
            )
        arrs[n] = per_bone_values(a, skeleton, f"lengths[{n!r}]", length=a.shape[0])
    t = next(iter(arrs.values())).shape[0]
    x = np.arange(t) if frame_indices is None else np.asarray(frame_indices)
    if x.shape != (t,) or any(a.shape[0] != t for a in arrs.values()):
        raise ValueError(f"frame_indices and all lengths must share T = {t} frames")
    palette = qualitative.Dark24
    fig = go.Figure()
    for s, (n, a) in enumerate(arrs.items()):
        for b, bone in enumerate(skeleton.bone_names):
            fig.add_trace(
                go.Scatter(
                    x=x.tolist(),
                    y=_round(a[:, b], 5),
                    mode="lines",
                    name=f"{n}: {bone}" if len(arrs) > 1 else bone,
                    legendgroup=bone,
                    line={"color": palette[b % len(palette)], "dash": _DASHES[s % 4]},
                )
            )
    fig.update_layout(
        title=title,
        xaxis_title="frame",
        yaxis_title=f"bone length ({unit})",
        height=420,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
    )
    return fig


def _attention_traces(att: np.ndarray, frames: np.ndarray, skeleton: Skeleton) -> list[dict]:
    order = np.argsort(frames, kind="stable")
    return [
        {"type": "heatmap", "z": np.round(att[order], 4).tolist(), "x": list(skeleton.bone_names),
         "y": [f"frame {int(f)}" for f in frames[order]], "coloraxis": "coloraxis",
         "hovertemplate": "%{y}<br>%{x}<br>weight %{z}<extra></extra>"},
        {"type": "bar", "x": frames[order].tolist(), "y": _round(att[order].mean(axis=1), 4),
         "marker": {"color": "#2a9d8f"}, "name": "mean weight over bones",
         "hovertemplate": "frame %{x}<br>mean weight %{y}<extra></extra>"},
    ]  # fmt: skip


def attention_figure(
    attention,
    frame_indices,
    skeleton: Skeleton = H36M_17,
    current_frame: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Which sampled frames the bone-length attention trusts, per bone and on average.

    Top: heatmap of weights (sampled frames x bones). Bottom: mean weight of each sampled
    frame over bones, placed on the video's timeline, with the current frame marked.

    Args:
        attention: ``(l, B)`` weights over ``l`` sampled frames for each bone (each column
            usually sums to 1), or ``(T, l, B)`` for every output frame (animated).
        frame_indices: ``(l,)`` or ``(T, l)`` video frame index of each sampled frame.
        skeleton: the joint tree (bone names).
        current_frame: frame to mark on the timeline (``(T, ...)`` input: frame ``t``).
        title: figure title.
    """
    att = as_numpy(attention, "attention")
    fr = as_numpy(frame_indices, "frame_indices").round().astype(int)
    if att.ndim not in (2, 3) or att.shape[-1] != skeleton.num_bones:
        raise ValueError(
            f"attention: expected (l, {skeleton.num_bones}) or (T, l, {skeleton.num_bones}), "
            f"got {att.shape}"
        )
    if fr.shape != att.shape[:-1]:
        raise ValueError(f"frame_indices: expected shape {att.shape[:-1]}, got {fr.shape}")
    if not np.isfinite(att).all():
        raise ValueError("attention: contains NaN or infinite values")
    att3, fr2 = (att, fr) if att.ndim == 3 else (att[None], fr[None])
    fig = make_subplots(rows=2, cols=1, row_heights=[0.65, 0.35], vertical_spacing=0.12)
    first = _attention_traces(att3[0], fr2[0], skeleton)
    fig.add_trace(first[0], row=1, col=1)
    fig.add_trace(first[1], row=2, col=1)
    marker: Callable[[int], dict] = lambda f: {  # noqa: E731
        "type": "line", "xref": "x2", "yref": "y2 domain", "x0": f, "x1": f, "y0": 0, "y1": 1,
        "line": {"color": "#e76f51", "dash": "dot"},
    }  # fmt: skip
    if current_frame is not None:
        fig.add_shape(marker(int(current_frame)))
    fig.update_layout(
        coloraxis={"colorscale": "Blues", "cmin": 0.0, "cmax": float(att3.max()) or 1.0},
        xaxis={"tickangle": -45},
        xaxis2={"title": "video frame"},
        yaxis2={"title": "mean weight"},
        showlegend=False,
        title=title,
        height=560,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
    )
    if att3.shape[0] > 1:
        frames = [
            {"data": _attention_traces(att3[t], fr2[t], skeleton), "traces": [0, 1],
             "name": str(t), "layout": {"shapes": [marker(t)]}}
            for t in range(att3.shape[0])
        ]  # fmt: skip
        return _animate(fig, frames, 10.0, redraw=True, prefix="output frame ", height=640)
    return fig
