"""Video or 2D detections -> 3D joints, saved as npz, CSV and an HTML figure.

Steps of :func:`lift_detections`:

1. follow the main person (:func:`~.tracking.follow_main_person`);
2. fill gaps: short ones interpolated, long ones held and marked ``missing``
   (:func:`~.tracking.fill_gaps`), so the model never sees NaN;
3. convert the detector's layout to Human3.6M-17 (scores = visibility,
   :func:`anatomy_lib.data.keypoint_formats.to_h36m`) and normalise the screen
   coordinates (:func:`anatomy_lib.camera.normalize_screen`);
4. lift the whole video with a model (:func:`anatomy_lib.evaluation.predict_sequence`,
   test-time flip by default). A causal model (``ModelConfig.causal``) gives the 3D of
   frame ``t`` from frames ``0..t`` only: the streaming mode for live use.

:func:`infer_video` adds reading the video and running the MediaPipe detector
(``wild`` extra), and writes everything next to the video.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..camera import normalize_screen
from ..data.keypoint_formats import to_h36m
from ..skeleton import H36M_17
from .detector import Detections
from .tracking import FrameStatus, Track, fill_gaps, follow_main_person

__all__ = ["WildResult", "resolve_model", "lift_detections", "infer_video"]


@dataclass
class WildResult:
    """3D of one person through a video.

    Attributes:
        joints_3d: ``(T, 17, 3)`` root-relative joints in camera axes (x right, y down,
            z forward), metres, Human3.6M-17 order; NaN on ``missing`` frames.
        keypoints_2d: ``(T, 17, 2)`` pixels fed to the model (gaps filled).
        scores: ``(T, 17)`` visibility fed to the model (0 on filled keypoints).
        status: ``(T,)`` :class:`~.tracking.FrameStatus` code per frame.
        track: the followed person's raw track (before filling).
        width, height, fps: the video's.
        model: name or description of the model.
        causal: whether frame ``t`` used frames ``0..t`` only.
    """

    joints_3d: np.ndarray
    keypoints_2d: np.ndarray
    scores: np.ndarray
    status: np.ndarray
    track: Track
    width: int
    height: int
    fps: float
    model: str
    causal: bool

    @property
    def valid(self) -> np.ndarray:
        """``(T,)`` bool: the frame's 3D comes from seen or interpolated keypoints."""
        return self.status != FrameStatus.MISSING

    def save(self, npz_path: str | Path, csv_path: str | Path | None = None) -> list[Path]:
        """Write the result as npz (all fields) and CSV (one row per frame: ``frame``,
        ``time_s``, ``status``, then ``<joint>_<x|y|z>`` in metres, empty when missing).

        Returns:
            The written files.
        """
        npz_path = Path(npz_path)
        csv_path = npz_path.with_suffix(".csv") if csv_path is None else Path(csv_path)
        meta = {"width": self.width, "height": self.height, "fps": self.fps,
                "model": self.model, "causal": self.causal,
                "units": "metres, root-relative, camera axes (x right, y down, z forward)",
                "status_codes": list(FrameStatus.NAMES)}  # fmt: skip
        np.savez_compressed(
            npz_path,
            joints_3d=self.joints_3d.astype(np.float32),
            keypoints_2d=self.keypoints_2d.astype(np.float32),
            scores=self.scores.astype(np.float32),
            status=self.status,
            joint_names=np.array(H36M_17.joint_names),
            meta_json=np.array(json.dumps(meta)),
        )
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            ["frame", "time_s", "status"] + [f"{n}_{a}" for n in H36M_17.joint_names for a in "xyz"]
        )
        for t, frame in enumerate(self.joints_3d):
            values = ["" if np.isnan(v) else f"{v:.5f}" for v in frame.reshape(-1)]
            writer.writerow([t, f"{t / self.fps:.4f}", FrameStatus.NAMES[self.status[t]], *values])
        csv_path.write_text(buf.getvalue())
        return [npz_path, csv_path]


def resolve_model(model: str | Path | nn.Module, device: torch.device | str = "cpu") -> nn.Module:
    """A model from a shipped name (:data:`anatomy_lib.checkpoints.PRETRAINED`), a file
    written by :func:`anatomy_lib.models.checkpoints.save_model`, or a module (returned as is)."""
    if isinstance(model, nn.Module):
        return model
    from ..checkpoints import PRETRAINED, load_pretrained
    from ..models.checkpoints import load_model

    if str(model) in PRETRAINED:
        return load_pretrained(str(model)).to(device)
    if not Path(model).is_file():
        raise FileNotFoundError(
            f"model {str(model)!r}: neither a shipped model {sorted(PRETRAINED)} nor a file"
        )
    return load_model(model, map_location=device)


def lift_detections(
    detections: Detections,
    model: str | Path | nn.Module = "anatomy_small",
    causal: bool | None = None,
    max_gap: int | None = None,
    flip: bool = True,
    length_frames: int | str = "all",
    device: torch.device | str = "cpu",
    **link_options,
) -> WildResult:
    """Lift one person of a video's 2D detections to 3D (see the module docstring).

    Args:
        detections: :class:`~.detector.Detections`, any supported layout.
        model: shipped model name, model file, or an ``AnatomyModel`` / ``TemporalConvNet``.
        causal: None (the model's), or True / False to insist on a causal / non-causal model.
        max_gap: longest gap interpolated, in frames (default: a quarter second).
        flip: test-time flip augmentation.
        length_frames: frames feeding the bone length network (``"all"`` or an int).
        device: where the model runs.
        link_options: passed to :func:`~.tracking.link_tracklets`.

    Returns:
        :class:`WildResult`.
    """
    from ..evaluation import EvaluationConfig, predict_sequence

    net = resolve_model(model, device)
    cfg = net.config
    if causal is not None and causal != cfg.causal:
        kind = "causal" if causal else "non-causal"
        raise ValueError(
            f"causal={causal} but the model is {'causal' if cfg.causal else 'non-causal'}; "
            f"give a {kind} model (trained with model.causal={causal})"
        )
    if max_gap is None:
        max_gap = max(1, round(detections.fps / 4))
    track = follow_main_person(detections, **link_options)
    filled = fill_gaps(track.keypoints, track.scores, max_gap, causal=bool(cfg.causal))
    kp = torch.as_tensor(filled.keypoints, dtype=torch.float32)
    sc = torch.as_tensor(filled.scores, dtype=torch.float32)
    if detections.layout != "h36m":
        kp, sc = to_h36m(kp, sc, detections.layout)
    param = next(net.parameters())
    norm = normalize_screen(kp, detections.width, detections.height)
    protocol = EvaluationConfig(flip=flip, length_frames=length_frames)
    joints = predict_sequence(
        net, norm.to(param.device, param.dtype), sc.to(param.device, param.dtype), protocol
    )
    joints = joints.detach().cpu().double().numpy()
    joints[filled.status == FrameStatus.MISSING] = np.nan
    name = model if isinstance(model, str | Path) else type(model).__name__
    return WildResult(
        joints, kp.double().numpy(), sc.double().numpy(), filled.status, track,
        detections.width, detections.height, detections.fps, str(name), bool(cfg.causal),
    )  # fmt: skip


def infer_video(
    video: str | Path,
    model: str | Path | nn.Module = "anatomy_small",
    out_dir: str | Path | None = None,
    causal: bool | None = None,
    max_people: int = 2,
    figure_frames: int = 40,
    progress: bool = True,
    device: torch.device | str = "cpu",
) -> dict[str, Path]:
    """Video -> MediaPipe 2D -> main person -> 3D, written next to the video.

    Files (``<stem>`` = the video's name without suffix, in ``out_dir``, default the video's
    folder): ``<stem>_2d.npz`` (:class:`~.detector.Detections`), ``<stem>_3d.npz`` and
    ``<stem>_3d.csv`` (:meth:`WildResult.save`), ``<stem>_3d.html`` (frames beside the 3D,
    ``figure_frames`` frames).

    Needs the ``wild`` extra (MediaPipe, OpenCV). Returns ``{"detections", "npz", "csv",
    "html"}`` -> path.
    """
    from .detector import detect_people
    from .figure import video_pose_figure
    from .video import iter_frames, read_frames, video_info

    video = Path(video)
    info = video_info(video)
    out = video.parent if out_dir is None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = resolve_model(model, device)
    frames = iter_frames(video)
    detections = detect_people(frames, info.fps, max_people, f"MediaPipe on {video.name}", progress)
    paths = {"detections": out / f"{video.stem}_2d.npz"}
    detections.save(paths["detections"])
    result = lift_detections(detections, net, causal=causal, device=device)
    result.model = str(model) if isinstance(model, str | Path) else result.model
    paths["npz"], paths["csv"] = result.save(out / f"{video.stem}_3d.npz")
    idx = np.linspace(0, detections.num_frames - 1, min(figure_frames, detections.num_frames))
    idx = np.unique(idx.round().astype(int))
    fig = video_pose_figure(read_frames(video, idx), idx, result, title=video.name)
    paths["html"] = out / f"{video.stem}_3d.html"
    fig.write_html(paths["html"], include_plotlyjs=True)
    return paths
