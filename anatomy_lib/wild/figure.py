"""The video's frames with their 2D detections beside the lifted 3D, as one animated figure.

Built as a plain plotly dict (:func:`video_pose_spec`, no plotly import: fast, and the
command line writes it with :func:`write_figure_html` without loading plotly's Python
package); :func:`video_pose_figure` wraps it in a ``plotly.graph_objects.Figure`` for
notebooks.

Legibility: every frame is **cropped to the person** (a window of one size for the whole
clip, centred on the person in each frame, so the video neither jumps in scale nor
loses them) and scaled to ``crop_height`` pixels; limbs are thin lines whose opacity is
the keypoints' visibility; the 3D takes the larger part of the figure, with equal axes,
fixed ranges over the clip and a fixed camera looking from the video camera's side, so
frames can be compared. Both panels change together from one slider and *Play* button
(plain plotly frames: they work in a static page).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._plotly_spec import player_layout
from ..skeleton import H36M_17, Skeleton

__all__ = [
    "video_pose_spec",
    "video_pose_figure",
    "write_figure_html",
    "crop_windows",
    "person_crop",
]

_SIDE_RGB = {"left": (31, 119, 180), "right": (214, 39, 40), "centre": (68, 68, 68)}
#: Camera axes (x right, y down, z forward) -> plotly's (right, forward, up).
_DISPLAY = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])


def _sides(skeleton: Skeleton) -> list[str]:
    left, right = set(skeleton.joints_left), set(skeleton.joints_right)
    return ["left" if c in left else "right" if c in right else "centre" for c, _ in skeleton.bones]


def _jpeg_data_uri(image: np.ndarray, quality: int = 75) -> str:
    """JPEG data URI of an ``(H, W, 3)`` uint8 frame (photos: ~10x smaller than PNG)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def crop_windows(
    keypoints: np.ndarray, scores: np.ndarray, width: int, height: int, margin: float = 0.25,
    aspect: float = 0.75,
) -> tuple[np.ndarray, float, float]:  # fmt: skip
    """One crop size for the whole clip, centred on the person in each frame.

    Args:
        keypoints: ``(N, J, 2)`` pixels; scores: ``(N, J)`` (keypoints above 0.2 count).
        width, height: image size in pixels.
        margin: added around the body box (90th percentile of the frames' sizes), as a
            fraction of its size.
        aspect: width / height of the window (shrunk to fit the image).

    Returns:
        ``(N, 2)`` top-left corners (pixels), window width and height (pixels).
    """
    ok = scores > 0.2
    ok[ok.sum(1) < 3] = True
    pts = np.where(ok[..., None], keypoints, np.nan)
    lo, hi = np.nanmin(pts, 1), np.nanmax(pts, 1)  # (N, 2)
    # a few outlying frames (a jump, a bad detection) must not shrink everyone else
    box_w, box_h = (float(np.percentile(hi[:, i] - lo[:, i], 90)) for i in (0, 1))
    crop_h = max(box_h, box_w / aspect, 16.0) * (1 + 2 * margin)
    crop_w = min(crop_h * aspect, width)
    crop_h = min(crop_h, height)
    centre = (lo + hi) / 2
    x0 = np.clip(centre[:, 0] - crop_w / 2, 0, width - crop_w)
    y0 = np.clip(centre[:, 1] - crop_h / 2, 0, height - crop_h)
    return np.stack([x0, y0], -1), crop_w, crop_h


def person_crop(
    frame: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, width: int, height: int,
    out_height: int = 360,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One frame cropped to the person and scaled to ``out_height`` pixels.

    Args:
        frame: ``(h, w, 3)`` uint8, the video frame at full or reduced size.
        keypoints: ``(J, 2)`` pixels of the full-size ``width`` x ``height`` video.
        scores: ``(J,)`` visibility.

    Returns:
        The cropped image and the keypoints in its pixels.
    """
    corners, crop_w, crop_h = crop_windows(keypoints[None], scores[None], width, height)
    out_w = max(1, int(round(out_height * crop_w / crop_h)))
    scale = np.asarray(frame).shape[1] / width
    image = _crop_image(frame, scale, corners[0], crop_w, crop_h, out_w, out_height)
    return image, (keypoints - corners[0]) * (out_height / crop_h)


def _crop_image(frame: np.ndarray, scale: float, corner, crop_w, crop_h, out_w, out_h):
    """Crop a (reduced) frame at full-resolution window ``corner``/size and resize it."""
    from PIL import Image

    x0, y0 = corner * scale
    box = (int(round(x0)), int(round(y0)), int(round(x0 + crop_w * scale)),
           int(round(y0 + crop_h * scale)))  # fmt: skip
    img = Image.fromarray(np.ascontiguousarray(frame)).crop(box)
    return np.asarray(img.resize((out_w, out_h), Image.BILINEAR))


def _round(a: np.ndarray, decimals: int) -> list:
    return [None if np.isnan(v) else float(v) for v in np.round(np.asarray(a, float), decimals)]


def _traces_2d(kp: np.ndarray, sc: np.ndarray, skeleton: Skeleton) -> list[dict]:
    """One thin line per bone (opacity = the lower visibility of its ends) and the joints."""
    out = []
    for (c, p), side in zip(skeleton.bones, _sides(skeleton), strict=True):
        alpha = 0.2 + 0.8 * float(min(sc[c], sc[p]))
        r, g, b = _SIDE_RGB[side]
        out.append({
            "type": "scatter", "mode": "lines", "x": _round(kp[[p, c], 0], 1),
            "y": _round(kp[[p, c], 1], 1), "line": {"color": f"rgba({r},{g},{b},{alpha:.2f})",
            "width": 2.5}, "hoverinfo": "skip", "showlegend": False, "xaxis": "x", "yaxis": "y",
        })  # fmt: skip
    out.append({
        "type": "scatter", "mode": "markers", "x": _round(kp[:, 0], 1), "y": _round(kp[:, 1], 1),
        "marker": {"size": 4, "color": "white", "opacity": _round(0.2 + 0.8 * sc, 2)},
        "text": [f"{n} {s:.2f}" for n, s in zip(skeleton.joint_names, sc, strict=True)],
        "hovertemplate": "%{text}<extra>visibility</extra>", "showlegend": False,
        "xaxis": "x", "yaxis": "y",
    })  # fmt: skip
    return out


def _traces_3d(joints: np.ndarray, skeleton: Skeleton) -> list[dict]:
    pts = joints @ _DISPLAY.T
    sides = _sides(skeleton)
    out = []
    for side in ("right", "left", "centre"):
        seg = np.full((3 * sides.count(side), 3), np.nan)
        for i, (c, p) in enumerate(
            b for b, s in zip(skeleton.bones, sides, strict=True) if s == side
        ):
            seg[3 * i], seg[3 * i + 1] = pts[p], pts[c]
        out.append({
            "type": "scatter3d", "mode": "lines", "x": _round(seg[:, 0], 3),
            "y": _round(seg[:, 1], 3), "z": _round(seg[:, 2], 3), "scene": "scene",
            "line": {"color": "rgb({},{},{})".format(*_SIDE_RGB[side]), "width": 6},
            "name": side, "hoverinfo": "skip", "showlegend": False,
        })  # fmt: skip
    out.append({
        "type": "scatter3d", "mode": "markers", "x": _round(pts[:, 0], 3),
        "y": _round(pts[:, 1], 3), "z": _round(pts[:, 2], 3), "scene": "scene",
        "marker": {"size": 2.5, "color": "#222"}, "text": list(skeleton.joint_names),
        "hovertemplate": "%{text}<extra></extra>", "showlegend": False,
    })  # fmt: skip
    return out


def _scene(joints: np.ndarray, domain_x: list[float]) -> tuple[dict, dict]:
    """Scene layout (equal axes, ranges over the clip, fixed camera) and a floor trace."""
    pts = (joints @ _DISPLAY.T).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(1)]
    lo, hi = pts.min(0), pts.max(0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2 * 1.1, 0.5)
    axis = {"showbackground": False, "showticklabels": False, "title": {"text": ""},
            "gridcolor": "#e5e5e5", "zeroline": False}  # fmt: skip
    scene = {f"{a}axis": {**axis, "range": [float(c - half), float(c + half)]}
             for a, c in zip("xyz", centre, strict=True)}  # fmt: skip
    scene.update(aspectmode="cube", dragmode="turntable", domain={"x": domain_x, "y": [0.08, 1]},
                 camera={"up": {"x": 0, "y": 0, "z": 1}, "eye": {"x": 0.9, "y": -1.5, "z": 0.5},
                         "center": {"x": 0, "y": 0, "z": -0.05}})  # fmt: skip
    ticks = np.linspace(-half, half, 7)
    rows = []
    for t in ticks:
        rows += [[centre[0] + t, centre[1] - half], [centre[0] + t, centre[1] + half], [np.nan] * 2]
        rows += [[centre[0] - half, centre[1] + t], [centre[0] + half, centre[1] + t], [np.nan] * 2]
    grid = np.array(rows)
    floor = {"type": "scatter3d", "mode": "lines", "x": _round(grid[:, 0], 3),
             "y": _round(grid[:, 1], 3), "z": [None if np.isnan(g) else float(lo[2])
             for g in grid[:, 0]], "line": {"color": "#cccccc", "width": 1},
             "hoverinfo": "skip", "showlegend": False, "scene": "scene"}  # fmt: skip
    return scene, floor


def _changing(trace: dict) -> dict:
    """What an animation frame must carry of a trace: what changes from frame to frame
    (frames update the traces they name; the rest stays)."""
    return {
        k: v for k, v in trace.items() if k in ("type", "x", "y", "z", "line", "marker", "text")
    }


def _panel_images(frames, idx, result, crop_height: int):
    """Corners, crop size, output size and the cropped JPEG data URIs (None: blank)."""
    corners, crop_w, crop_h = crop_windows(
        result.keypoints_2d[idx], result.scores[idx], result.width, result.height
    )
    out_h = int(crop_height)
    out_w = max(1, int(round(out_h * crop_w / crop_h)))
    if frames is None:
        return corners, crop_w, crop_h, out_w, out_h, [None] * len(idx)
    uris = []
    for frame, corner in zip(frames, corners, strict=True):
        scale = np.asarray(frame).shape[1] / result.width
        uris.append(_jpeg_data_uri(_crop_image(frame, scale, corner, crop_w, crop_h, out_w, out_h)))
    return corners, crop_w, crop_h, out_w, out_h, uris


def video_pose_spec(
    frames: Sequence[np.ndarray] | None,
    frame_indices: Sequence[int],
    result,
    crop_height: int = 360,
    title: str | None = None,
    skeleton: Skeleton = H36M_17,
) -> dict:
    """Plotly figure dict: each frame cropped to the person with the 2D fed to the model
    (left) beside the 3D (right, larger), animated (module docstring).

    Args:
        frames: ``N`` video frames ``(H, W, 3)`` uint8 RGB at full or reduced size (same
            aspect as the video), or None to draw the 2D on a blank canvas.
        frame_indices: their ``N`` frame numbers in the video; frames whose 3D is missing
            (:attr:`~.pipeline.LiftResult.valid` False) are left out.
        result: a :class:`~.pipeline.LiftResult`.
        crop_height: height in pixels of the embedded (cropped) frames.
        title: figure title.
    """
    idx = np.asarray(frame_indices, dtype=int).reshape(-1)
    if frames is not None and len(frames) != len(idx):
        raise ValueError(f"{len(frames)} frames for {len(idx)} frame indices")
    if len(idx) == 0 or idx.min() < 0 or idx.max() >= len(result.status):
        raise IndexError(f"frame indices must lie in [0, {len(result.status)}), got {idx}")
    keep = result.valid[idx]
    if keep.sum() < 1:
        raise ValueError("none of the given frames has a 3D pose (all 'missing')")
    idx = idx[keep]
    frames = None if frames is None else [f for f, k in zip(frames, keep, strict=True) if k]
    corners, crop_w, crop_h, out_w, out_h, uris = _panel_images(frames, idx, result, crop_height)
    split = min(0.45, 0.9 * out_w / out_h * 0.5)
    scene, floor = _scene(result.joints_3d[idx], [split + 0.02, 1.0])
    px = out_h / crop_h

    def frame_data(n: int) -> list[dict]:
        kp = (result.keypoints_2d[idx[n]] - corners[n]) * px
        return _traces_2d(kp, result.scores[idx[n]], skeleton) + _traces_3d(
            result.joints_3d[idx[n]], skeleton
        )

    def image(n: int) -> list[dict]:
        if uris[n] is None:
            return []
        return [{"source": uris[n], "xref": "x", "yref": "y", "x": 0, "y": 0, "sizex": out_w,
                 "sizey": out_h, "xanchor": "left", "yanchor": "top", "sizing": "stretch",
                 "layer": "below"}]  # fmt: skip

    names = [str(int(t)) for t in idx]
    layout = {
        "title": {"text": title or ""}, "height": 600, "showlegend": False,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 60},
        "xaxis": {"domain": [0, split], "range": [0, out_w], "visible": False},
        "yaxis": {"domain": [0.08, 1], "range": [out_h, 0], "visible": False,
                  "scaleanchor": "x", "scaleratio": 1},
        "scene": scene, "images": image(0), "plot_bgcolor": "#f4f4f4",
    }  # fmt: skip
    first = frame_data(0)
    moving = list(range(1, 1 + len(first)))
    frames_out = [
        {"name": name, "data": [_changing(tr) for tr in frame_data(n)], "traces": moving,
         "layout": {"images": image(n)}}
        for n, name in enumerate(names)
    ]  # fmt: skip
    if len(names) > 1:
        layout.update(player_layout(names, min(result.fps, 10.0), True, "frame "))
    return {"data": [floor, *first], "layout": layout, "frames": frames_out}


def video_pose_figure(
    frames: Sequence[np.ndarray] | None,
    frame_indices: Sequence[int],
    result,
    crop_height: int = 360,
    title: str | None = None,
):
    """:func:`video_pose_spec` as a ``plotly.graph_objects.Figure`` (for notebooks)."""
    import plotly.graph_objects as go

    spec = video_pose_spec(frames, frame_indices, result, crop_height, title)
    fig = go.Figure(data=spec["data"], layout=spec["layout"], _validate=False)
    fig.frames = spec["frames"]
    return fig


def _plotly_js() -> str:
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("writing the HTML figure needs plotly: pip install 'anatomy3d[viz]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path.read_text(encoding="utf-8")


def write_figure_html(spec: dict, path: str | Path) -> Path:
    """Write a figure dict as one standalone HTML page, plotly.js inlined (opens offline)."""
    path = Path(path)
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(((spec.get("layout") or {}).get("title") or {}).get("text") or "anatomy3d")
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title>\n<script>{_plotly_js()}</script></head>\n"
        '<body style="margin:0"><div id="figure" style="width:100%;height:600px"></div>\n'
        f"<script>const spec = {payload};\n"
        "Plotly.newPlot('figure', spec.data, spec.layout, {responsive: true, displaylogo: false})"
        ".then(gd => Plotly.addFrames(gd, spec.frames));\n</script></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path
