"""ipywidgets for live kernels (JupyterLab, Colab): a bone-length editor and a sequence explorer.

Both keep plain ``plotly.graph_objects.Figure`` objects in ``.figure`` / ``.figures`` and,
in a live kernel, re-render them into ``ipywidgets.Output`` areas whenever a control
moves (``figure_widget=True`` uses an in-place ``go.FigureWidget`` instead, which needs
``anywidget``). In the built book (:func:`~anatomy_lib.viz.book.book_build_active`) they
display as still figures with the note "interactive when the notebook runs", so no widget
JavaScript is needed there.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch

from .._validation import as_tensor, check_points
from ..bones import joints_to_bones, retarget_bone_lengths
from ..skeleton import H36M_17, Skeleton
from ._common import as_numpy, joint_colors
from .book import book_build_active, figure_html
from .figures import attention_figure, keypoints_2d_figure, skeleton_figure

__all__ = ["BoneLengthEditor", "ExplorerPrediction", "SequenceExplorer", "STATIC_NOTE"]

STATIC_NOTE = "Still image: interactive when the notebook runs (JupyterLab, Colab, Binder)."


def _static_bundle(figures: list[go.Figure], text: str) -> dict:
    note = f'<p style="font-style:italic;color:#555">{html.escape(STATIC_NOTE)}</p>'
    body = "".join(figure_html(f) for f in figures)
    return {"text/html": f"<div>{note}{body}</div>", "text/plain": text}


def _show(output: W.Output, figures: list[go.Figure]) -> None:
    """Re-render figures into an Output widget when a kernel with a frontend is running."""
    from IPython import get_ipython
    from IPython.display import clear_output, display

    if get_ipython() is None:
        return
    with output:
        clear_output(wait=True)
        for f in figures:
            display(f)


class BoneLengthEditor:
    """One slider per bone; moving one re-derives the pose from the root outward.

    The new pose is ``retarget_bone_lengths(pose, lengths)``: every bone keeps its
    direction and the root stays put, so changing bone ``b`` by ``d`` moves its child
    joint, and everything below it, by ``d`` along the bone's direction.

    Args:
        pose: ``(J, 3)`` joints (array or tensor), in metres.
        skeleton: the joint tree.
        up: the axis pointing up in the figure (``"-y"`` camera space, ``"z"`` world).
        scale_range: slider range as multiples of each initial bone length.
        figure_widget: show a ``go.FigureWidget`` updated in place (needs ``anywidget``)
            instead of re-rendering a figure into an ``Output``.

    Attributes:
        sliders: ``ipywidgets.FloatSlider`` per bone, in bone order (values in metres).
        figure: the figure, updated whenever a slider moves.
        widget: the ipywidgets container shown in a live kernel.
    """

    def __init__(
        self,
        pose,
        skeleton: Skeleton = H36M_17,
        up: str = "-y",
        scale_range: tuple[float, float] = (0.5, 1.5),
        figure_widget: bool = False,
    ) -> None:
        p = check_points(as_tensor(pose, "pose"), skeleton.num_joints, 3, "pose")
        if p.dim() != 2:
            raise ValueError(
                f"pose: expected one pose ({skeleton.num_joints}, 3), got {tuple(p.shape)}"
            )
        self.skeleton, self.up = skeleton, up
        self.pose = p.detach().to("cpu", torch.float64)
        self.initial_lengths = joints_to_bones(self.pose, skeleton).lengths
        lo, hi = scale_range
        self.sliders = [
            W.FloatSlider(
                value=float(length),
                min=float(length) * lo,
                max=max(float(length) * hi, 1e-3),
                step=0.001,
                description=name,
                readout_format=".3f",
                continuous_update=False,
                style={"description_width": "150px"},
                layout=W.Layout(width="380px"),
            )
            for name, length in zip(skeleton.bone_names, self.initial_lengths, strict=True)
        ]
        self.figure = self._build_figure()
        if figure_widget:
            self.figure = go.FigureWidget(self.figure)
            view = self.figure
        else:
            view = self._output = W.Output()
        self._figure_widget = figure_widget
        reset = W.Button(description="Reset lengths")
        reset.on_click(lambda _: self.reset())
        for s in self.sliders:
            s.observe(self._on_change, names="value")
        self.widget = W.HBox([W.VBox([*self.sliders, reset]), view])
        self._render()

    @property
    def lengths(self) -> torch.Tensor:
        """``(B,)`` current slider lengths in metres (float64)."""
        return torch.tensor([s.value for s in self.sliders], dtype=torch.float64)

    @property
    def joints(self) -> torch.Tensor:
        """``(J, 3)`` pose with the current bone lengths (root and directions unchanged)."""
        return retarget_bone_lengths(self.pose, self.lengths, self.skeleton)

    def reset(self) -> None:
        """Put every slider back to the initial bone length."""
        for s, length in zip(self.sliders, self.initial_lengths, strict=True):
            s.value = float(length)

    def _build_figure(self) -> go.Figure:
        return skeleton_figure(
            {"edited": self.joints, "original": self.pose},
            self.skeleton,
            up=self.up,
            title="Bone lengths: edited (solid) vs original (dashed)",
        )

    def _on_change(self, _change=None) -> None:
        new = self._build_figure()
        with self.figure.batch_update():
            for trace, fresh in zip(self.figure.data, new.data, strict=True):
                trace.x, trace.y, trace.z = fresh.x, fresh.y, fresh.z
                trace.customdata = fresh.customdata
            for ax in ("xaxis", "yaxis", "zaxis"):
                self.figure.layout.scene[ax].range = new.layout.scene[ax].range
        self._render()

    def _render(self) -> None:
        if not self._figure_widget:
            _show(self._output, [self.figure])

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        if book_build_active():
            return _static_bundle([self.figure], repr(self))
        return self.widget._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        return f"BoneLengthEditor({self.skeleton.name}, {self.skeleton.num_bones} bones)"


@dataclass
class ExplorerPrediction:
    """What :class:`SequenceExplorer` shows for one clip.

    Attributes:
        joints_3d: ``(T, J, 3)`` predicted joints (metres; compared root-relative).
        attention: optional ``(T, l, B)`` bone-length attention over ``l`` sampled frames.
        attention_frames: ``(T, l)`` video frame index of each sampled frame.
    """

    joints_3d: np.ndarray
    attention: np.ndarray | None = None
    attention_frames: np.ndarray | None = None


def _field(clip, name: str, required: bool):
    value = clip.get(name) if isinstance(clip, Mapping) else getattr(clip, name, None)
    if value is None and required:
        raise ValueError(f"clip: expected a field {name!r} (mapping key or attribute)")
    return value


def _as_prediction(out, t: int, skeleton: Skeleton, name: str) -> ExplorerPrediction:
    """Normalise a predictor's output (array, mapping or object) to an ExplorerPrediction."""
    if isinstance(out, ExplorerPrediction):
        raw = out.joints_3d, out.attention, out.attention_frames
    elif isinstance(out, (np.ndarray, torch.Tensor)):
        raw = out, None, None
    else:
        raw = tuple(
            _field(out, f, required=f == "joints_3d")
            for f in ("joints_3d", "attention", "attention_frames")
        )
    joints = as_numpy(check_points(as_tensor(raw[0]), skeleton.num_joints, 3, name), name)
    if joints.shape[0] != t or joints.ndim != 3:
        raise ValueError(f"{name}: expected ({t}, {skeleton.num_joints}, 3), got {joints.shape}")
    att = fr = None
    if raw[1] is not None:
        att = as_numpy(raw[1], f"{name} attention")
        if raw[2] is None:
            raise ValueError(f"{name}: attention given without attention_frames (T, l)")
        fr = as_numpy(raw[2], f"{name} attention_frames")
        if att.shape[0] != t or fr.shape != att.shape[:-1]:
            raise ValueError(
                f"{name}: expected attention (T={t}, l, B) and attention_frames (T, l), "
                f"got {att.shape} and {fr.shape}"
            )
    return ExplorerPrediction(joints, att, fr)


def _root_relative(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    return joints - joints[..., skeleton.root : skeleton.root + 1, :]


class SequenceExplorer:
    """Pick a clip, scrub its frames, compare the 3D prediction with the truth.

    Panels for the current frame: 3D prediction vs truth (root-relative), the 2D input
    with visibility, the per-joint error, and the bone-length attention (if given).

    Args:
        sequences: ``name -> clip``; a clip is a mapping or object with ``keypoints_2d``
            ``(T, J, 2)``, optional ``scores`` ``(T, J)`` and ``joints_3d`` ``(T, J, 3)``
            (ground truth, metres).
        predict: callable ``(keypoints_2d (T, J, 2) tensor, scores (T, J) tensor) ->``
            ``(T, J, 3)`` joints, or a mapping/object with ``joints_3d`` and optionally
            ``attention`` ``(T, l, B)`` and ``attention_frames`` ``(T, l)``. Called once
            per clip, lazily.
        predictions: precomputed outputs of the same form, ``name -> output``.
        skeleton: the joint tree.
        up: the axis pointing up in the 3D panel.

    Attributes:
        clip_picker, frame_slider: the controls.
        figures: ``{"pose_3d", "keypoints_2d", "joint_error"[, "attention"]}`` figures of
            the current frame, rebuilt on every change.
        widget: the ipywidgets container shown in a live kernel.
    """

    def __init__(
        self,
        sequences: Mapping,
        predict: Callable | None = None,
        predictions: Mapping | None = None,
        skeleton: Skeleton = H36M_17,
        up: str = "-y",
    ) -> None:
        if not sequences:
            raise ValueError("sequences: expected at least one clip, got none")
        if (predict is None) == (predictions is None):
            raise ValueError("give exactly one of predict (a callable) or predictions (a dict)")
        if predictions is not None and set(predictions) != set(sequences):
            raise ValueError(
                f"predictions: expected keys {sorted(sequences)}, got {sorted(predictions)}"
            )
        self.sequences, self.skeleton, self.up = dict(sequences), skeleton, up
        self._predict, self._given = predict, predictions
        self._cache: dict[str, ExplorerPrediction] = {}
        self.clip_picker = W.Dropdown(options=list(self.sequences), description="clip")
        self.frame_slider = W.IntSlider(value=0, min=0, description="frame")
        play = W.Play(interval=100)
        W.jslink((play, "value"), (self.frame_slider, "value"))
        self._outputs = {k: W.Output() for k in ("pose_3d", "keypoints_2d", "side")}
        self.figures: dict[str, go.Figure] = {}
        self._set_clip()
        self.clip_picker.observe(lambda _: self._set_clip(), names="value")
        self.frame_slider.observe(lambda _: self.update(), names="value")
        self.widget = W.VBox(
            [
                W.HBox([self.clip_picker, play, self.frame_slider]),
                W.HBox([self._outputs["pose_3d"], self._outputs["keypoints_2d"]]),
                self._outputs["side"],
            ]
        )

    def clip(self, name: str) -> dict:
        """Validated numpy fields and the prediction of clip ``name``."""
        c, sk = self.sequences[name], self.skeleton
        kp = as_numpy(check_points(as_tensor(_field(c, "keypoints_2d", True)), sk.num_joints, 2,
                                   f"{name} keypoints_2d"), "keypoints_2d")  # fmt: skip
        if kp.ndim != 3:
            raise ValueError(f"{name} keypoints_2d: expected (T, J, 2), got {kp.shape}")
        scores = _field(c, "scores", False)
        scores = np.ones(kp.shape[:2]) if scores is None else as_numpy(scores, "scores")
        if scores.shape != kp.shape[:2]:
            raise ValueError(f"{name} scores: expected {kp.shape[:2]}, got {scores.shape}")
        truth = _field(c, "joints_3d", False)
        if truth is not None:
            truth = as_numpy(truth, f"{name} joints_3d")
            if truth.shape != (*kp.shape[:2], 3):
                raise ValueError(
                    f"{name} joints_3d: expected {(*kp.shape[:2], 3)}, got {truth.shape}"
                )
        if name not in self._cache:
            out = (
                self._given[name]
                if self._given is not None
                else self._predict(torch.from_numpy(kp), torch.from_numpy(scores))
            )
            self._cache[name] = _as_prediction(
                out, kp.shape[0], self.skeleton, f"{name} prediction"
            )
        return {"keypoints_2d": kp, "scores": scores, "truth": truth, "pred": self._cache[name]}

    def _set_clip(self) -> None:
        self._clip = self.clip(self.clip_picker.value)
        t = self._clip["keypoints_2d"].shape[0]
        self.frame_slider.max = t - 1
        if self.frame_slider.value > t - 1:
            self.frame_slider.value = t - 1  # triggers update()
        else:
            self.update()

    @property
    def joint_errors(self) -> np.ndarray | None:
        """``(J,)`` root-relative position error of the current frame (metres), or None."""
        c, t = self._clip, self.frame_slider.value
        if c["truth"] is None:
            return None
        pred = _root_relative(c["pred"].joints_3d[t], self.skeleton)
        return np.linalg.norm(pred - _root_relative(c["truth"][t], self.skeleton), axis=-1)

    def update(self) -> None:
        """Rebuild the figures of the current clip and frame (and re-render them live)."""
        c, t, sk = self._clip, self.frame_slider.value, self.skeleton
        poses = {"prediction": _root_relative(c["pred"].joints_3d[t], sk)}
        if c["truth"] is not None:
            poses = {"truth": _root_relative(c["truth"][t], sk), **poses}
        figs = {
            "pose_3d": skeleton_figure(poses, sk, up=self.up, title=f"3D, frame {t}"),
            "keypoints_2d": keypoints_2d_figure(
                c["keypoints_2d"][t], c["scores"][t], sk, title="2D input (size = visibility)"
            ),
        }
        err = self.joint_errors
        if err is not None:
            figs["joint_error"] = _joint_error_figure(err, sk)
        if c["pred"].attention is not None:
            figs["attention"] = attention_figure(
                c["pred"].attention[t], c["pred"].attention_frames[t], sk, current_frame=t,
                title="bone-length attention",
            )  # fmt: skip
        for f in figs.values():
            f.update_layout(height=420, width=520)
        self.figures = figs
        _show(self._outputs["pose_3d"], [figs["pose_3d"]])
        _show(self._outputs["keypoints_2d"], [figs["keypoints_2d"]])
        _show(
            self._outputs["side"], [f for k, f in figs.items() if k in ("joint_error", "attention")]
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        if book_build_active():
            return _static_bundle(list(self.figures.values()), repr(self))
        return self.widget._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        return f"SequenceExplorer({len(self.sequences)} clips, skeleton {self.skeleton.name})"


def _joint_error_figure(errors: np.ndarray, skeleton: Skeleton) -> go.Figure:
    """Bar chart of per-joint errors in millimetres, coloured by side."""
    fig = go.Figure(
        go.Bar(x=list(skeleton.joint_names), y=np.round(errors * 1000, 1).tolist(),
               marker={"color": joint_colors(skeleton)}, name="error")
    )  # fmt: skip
    fig.update_layout(
        title=f"per-joint error, mean {errors.mean() * 1000:.1f} mm",
        yaxis_title="error (mm)",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
