"""Video or 2D detections -> 3D joints, saved as npz, CSV and an HTML figure.

Steps of :func:`lift_detections`:

1. follow the main person (:func:`~.tracking.follow_main_person`);
2. fill gaps: short ones interpolated, long ones held and marked ``missing``
   (:func:`~.tracking.fill_gaps`), so the model never sees NaN (keypoints that no
   Human3.6M joint is made of, such as eyes or feet, are ignored: they may never be seen);
3. convert the detector's layout to Human3.6M-17 (scores = visibility,
   :func:`anatomy_lib.data.keypoint_formats.to_h36m`) and normalise the screen
   coordinates (:func:`anatomy_lib.camera.normalize_screen`);
4. lift the whole video with a model (:func:`anatomy_lib.evaluation.predict_sequence`,
   test-time flip by default). A causal model (``ModelConfig.causal``) gives the 3D of
   frame ``t`` from frames ``0..t`` only: the streaming mode for live use.

:func:`infer_video` adds reading the video and running the MediaPipe detector
(``wild`` extra), and writes everything to a folder beside the video.
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
from ..data.keypoint_formats import KEYPOINT_FORMATS, to_h36m
from ..skeleton import H36M_17
from .detector import Detections
from .tracking import FrameStatus, Track, fill_gaps, follow_main_person

__all__ = [
    "WildResult",
    "resolve_model",
    "lift_detections",
    "infer_video",
    "default_out_dir",
    "save_figure",
]


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


def resolve_model(
    model: str | Path | nn.Module,
    device: torch.device | str = "cpu",
    causal: bool | None = None,
    trusted: bool = False,
) -> nn.Module:
    """The one way a model is named: a module (returned as is), a shipped name
    (:data:`anatomy_lib.checkpoints.PRETRAINED`), a file written by
    :func:`anatomy_lib.models.checkpoints.save_model`, a training checkpoint, or a training
    run folder (its ``model.pt``, else its ``checkpoint.pt``). Loaded models are in eval
    mode, on ``device``.

    Args:
        causal: None (any model), or True / False to insist on a causal / non-causal model.
        trusted: files are read without running code from them
            (:func:`anatomy_lib.safe_io.load_torch_file`); True unpickles them fully, only
            for files you trust.

    Raises:
        FileNotFoundError: nothing usable at ``model``.
        ValueError: an unreadable file, a file refused as unsafe
            (:class:`~anatomy_lib.safe_io.UnsafeFileError`), or the model is not as causal
            as asked.
    """
    net = model if isinstance(model, nn.Module) else _load_model(model, device, trusted)
    is_causal = bool(getattr(getattr(net, "config", None), "causal", False))
    if causal is not None and causal != is_causal:
        hint = (
            " (the shipped causal model is anatomy_small_causal; or train one, e.g. "
            "`anatomy3d train small model.causal=true`, and give its model.pt)"
        ) if causal else ""  # fmt: skip
        raise ValueError(
            f"causal={causal} but the model is {'causal' if is_causal else 'non-causal'}; "
            f"give a {'causal' if causal else 'non-causal'} model{hint}"
        )
    return net


def _load_model(spec: str | Path, device: torch.device | str, trusted: bool) -> nn.Module:
    from ..checkpoints import PRETRAINED, load_pretrained
    from ..models.checkpoints import load_model
    from ..safe_io import load_torch_file
    from ..training.checkpointing import CHECKPOINT_FORMAT, load_training_checkpoint
    from ..training.config import ExperimentConfig
    from ..training.run_folder import run_model_file
    from ..training.trainer import build_model

    if str(spec) in PRETRAINED:
        return load_pretrained(str(spec)).to(device)
    path = Path(spec)
    if path.is_dir():
        path = run_model_file(path) or path  # model.pt only if written after checkpoint.pt
        if path.is_dir():
            raise FileNotFoundError(f"{spec}: folder holds no model.pt or checkpoint.pt")
    if not path.is_file():
        raise FileNotFoundError(
            f"model {str(spec)!r}: neither a shipped model {sorted(PRETRAINED)} nor a file "
            "or training run folder"
        )
    head = load_torch_file(path, "cpu", trusted=trusted)  # never runs code unless trusted
    if isinstance(head, dict) and head.get("format") == CHECKPOINT_FORMAT:
        state = load_training_checkpoint(path, trusted=trusted)
        net = build_model(ExperimentConfig.from_dict(state["experiment"]))
        net.load_state_dict(state["model"])
        return net.eval().to(device)
    return load_model(path, map_location=device)


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
        model: anything :func:`resolve_model` takes (default: the shipped ``anatomy_small``).
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

    net = resolve_model(model, device, causal)
    cfg = net.config
    if max_gap is None:
        max_gap = max(1, round(detections.fps / 4))
    track = follow_main_person(detections, **link_options)
    keypoints, scores = track.keypoints, track.scores
    if detections.layout != "h36m":  # keypoints no joint is made of (eyes, feet) may be unseen
        unused = KEYPOINT_FORMATS[detections.layout].weights().sum(0).numpy() == 0
        keypoints, scores = keypoints.copy(), scores.copy()
        keypoints[:, unused], scores[:, unused] = 0.0, 0.0
    filled = fill_gaps(keypoints, scores, max_gap, causal=bool(cfg.causal))
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


def default_out_dir(video: str | Path) -> Path:
    """Where results of ``video`` (a file or a folder) go by default: the folder
    ``<name without suffix>_anatomy3d`` beside it."""
    video = Path(video)
    return video.parent / f"{video.stem}_anatomy3d"


def save_figure(
    result: WildResult,
    path: str | Path,
    video: str | Path | None = None,
    figure_frames: int = 40,
    title: str | None = None,
) -> Path:
    """Write the animated figure of ``figure_frames`` evenly spaced frames as a standalone
    HTML file (plotly.js inlined, works offline); the frames are read from ``video`` when
    given, else the 2D is drawn on a blank canvas of the video's size."""
    from .figure import video_pose_figure
    from .video import read_frames

    n = len(result.status)
    idx = np.unique(np.linspace(0, n - 1, min(figure_frames, n)).round().astype(int))
    idx = idx[result.valid[idx]]
    if len(idx) == 0:
        raise ValueError("no frame has a 3D pose (all 'missing'): nothing to draw")
    frames = None if video is None else read_frames(video, idx)
    fig = video_pose_figure(frames, idx, result, title=title)
    path = Path(path)
    fig.write_html(path, include_plotlyjs=True)
    return path


def infer_video(
    video: str | Path,
    model: str | Path | nn.Module = "anatomy_small",
    out_dir: str | Path | None = None,
    causal: bool | None = None,
    max_people: int = 2,
    figure_frames: int = 40,
    progress: bool = True,
    device: torch.device | str = "cpu",
    flip: bool = True,
    length_frames: int | str = "all",
    model_name: str | None = None,
) -> dict[str, Path]:
    """Video -> MediaPipe 2D -> main person -> 3D, written to ``out_dir``.

    Files (``<stem>`` = the video's name without suffix, in ``out_dir``, default
    :func:`default_out_dir`: ``<stem>_anatomy3d`` beside the video): ``<stem>_2d.npz``
    (:class:`~.detector.Detections`), ``<stem>_3d.npz`` and ``<stem>_3d.csv``
    (:meth:`WildResult.save`), ``<stem>_3d.html`` (frames beside the 3D, ``figure_frames``
    frames, :func:`save_figure`).

    Args:
        video: a video file or a folder of images.
        model, causal, device, flip, length_frames: as in :func:`lift_detections`; the
            model is loaded and checked before any frame is read.
        max_people: people the detector looks for per frame.
        progress: show a progress bar while detecting.
        model_name: label saved with the result (default: ``model`` when it is a name).

    Needs the ``wild`` extra (MediaPipe): without it, an :class:`ImportError` naming the
    extra is raised before any work. Returns ``{"detections", "npz", "csv", "html"}`` -> path.
    """
    from .detector import WILD_EXTRA_HINT, detect_people, mediapipe_available
    from .video import iter_frames, video_info

    if not mediapipe_available():
        raise ImportError(WILD_EXTRA_HINT)
    video = Path(video)
    info = video_info(video)
    net = resolve_model(model, device, causal)
    out = default_out_dir(video) if out_dir is None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = iter_frames(video)
    detections = detect_people(frames, info.fps, max_people, f"MediaPipe on {video.name}", progress)
    paths = {"detections": out / f"{video.stem}_2d.npz"}
    detections.save(paths["detections"])
    result = lift_detections(detections, net, flip=flip, length_frames=length_frames)
    if model_name is not None or isinstance(model, str | Path):
        result.model = str(model if model_name is None else model_name)
    paths["npz"], paths["csv"] = result.save(out / f"{video.stem}_3d.npz")
    paths["html"] = save_figure(
        result, out / f"{video.stem}_3d.html", video, figure_frames, title=video.name
    )
    return paths
