"""The video's frames with their 2D detections beside the lifted 3D, as one animated figure."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..viz import animated_sequence_figure, keypoints_2d_figure

__all__ = ["video_pose_figure"]


def _jpeg_data_uri(image: np.ndarray, quality: int = 70) -> str:
    """JPEG data URI of an ``(H, W, 3)`` uint8 frame (photos: ~10x smaller than PNG)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _downscale(frame: np.ndarray, max_width: int) -> tuple[np.ndarray, float]:
    from PIL import Image

    h, w = frame.shape[:2]
    if w <= max_width:
        return frame, 1.0
    scale = max_width / w
    small = Image.fromarray(frame).resize((max_width, round(h * scale)), Image.BILINEAR)
    return np.asarray(small), scale


def video_pose_figure(
    frames: Sequence[np.ndarray] | None,
    frame_indices: Sequence[int],
    result,
    max_width: int = 320,
    title: str | None = None,
) -> go.Figure:
    """Frames with the 2D skeleton fed to the model (left) and the 3D (right), animated.

    Args:
        frames: ``N`` video frames ``(H, W, 3)`` uint8 RGB, or None to draw the 2D on a
            blank canvas of the video's size (e.g. for a detector's files without video).
        frame_indices: their ``N`` frame numbers in the video; frames whose 3D is missing
            (:attr:`~.pipeline.WildResult.valid` False) are left out.
        result: a :class:`~.pipeline.WildResult`.
        max_width: frames are downscaled to this width (pixels) and embedded as JPEG.
        title: figure title.
    """
    idx = np.asarray(frame_indices, dtype=int)
    if frames is not None and len(frames) != len(idx):
        raise ValueError(f"{len(frames)} frames for {len(idx)} frame indices")
    if idx.min() < 0 or idx.max() >= len(result.status):
        raise IndexError(f"frame indices must lie in [0, {len(result.status)}), got {idx}")
    keep = result.valid[idx]
    if keep.sum() < 1:
        raise ValueError("none of the given frames has a 3D pose (all 'missing')")
    idx = idx[keep]
    if frames is None:
        scale = min(1.0, max_width / result.width)
        images = [None] * len(idx)
        h, w = round(result.height * scale), round(result.width * scale)
    else:
        kept = [np.asarray(f) for f, k in zip(frames, keep, strict=True) if k]
        images, scales = zip(*(_downscale(f, max_width) for f in kept), strict=True)
        scale, (h, w) = scales[0], images[0].shape[:2]
    kp = result.keypoints_2d[idx] * scale
    f2 = keypoints_2d_figure(kp, result.scores[idx], decimals=1)
    f3 = animated_sequence_figure(result.joints_3d[idx], max_frames=None, decimals=3)
    fig = make_subplots(
        rows=1, cols=2, specs=[[{"type": "xy"}, {"type": "scene"}]], horizontal_spacing=0.02
    )
    fig.add_traces(list(f2.data), rows=1, cols=1)
    n2 = len(f2.data)
    fig.add_traces(list(f3.data))
    fig.layout.scene = f3.layout.scene
    fig.update_xaxes(range=[0, w], visible=False, row=1, col=1)
    fig.update_yaxes(range=[h, 0], visible=False, scaleanchor="x", row=1, col=1)

    def background(image: np.ndarray | None) -> list[dict]:
        if image is None:
            return []
        return [{
            "source": _jpeg_data_uri(image), "xref": "x", "yref": "y", "x": 0, "y": 0,
            "sizex": w, "sizey": h, "xanchor": "left", "yanchor": "top", "sizing": "stretch",
            "layer": "below",
        }]  # fmt: skip

    fig.update_layout(images=background(images[0]))
    labels = [str(int(t)) for t in idx]
    if len(idx) > 1:
        moving3 = [i for i, d in enumerate(f3.data) if i >= len(f3.data) - len(f3.frames[0].data)]
        fig.frames = [
            go.Frame(
                data=list(a.data) + list(b.data),
                traces=list(range(n2)) + [n2 + i for i in moving3],
                layout={"images": background(img)},
                name=label,
            )
            for a, b, img, label in zip(f2.frames, f3.frames, images, labels, strict=True)
        ]
        sliders = f3.layout.sliders[0].to_plotly_json()
        for step, label in zip(sliders["steps"], labels, strict=True):
            step["label"], step["args"][0] = label, [label]
        fig.update_layout(updatemenus=f3.layout.updatemenus, sliders=[sliders])
    fig.update_layout(
        title=title, height=420, margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 70},
        legend={"itemsizing": "constant"},
    )  # fmt: skip
    return fig
