"""Video or 2D detections -> 3D joints, saved as npz, CSV, BVH, TRC and an HTML figure.

Steps of :func:`lift_detections`:

1. follow the main person, re-joining them when they come back
   (:func:`~.tracking.follow_main_person`);
2. swap back the left and right labels where the detector exchanged them for a while
   (:func:`~.left_right.find_left_right_swaps`: the labelling that moves least from frame
   to frame);
3. fill gaps: frames with too few keypoints and short runs of them are interpolated,
   long runs held and marked ``missing``; a keypoint unseen in a detected frame gets score
   0 and is filled from its neighbours (:func:`~.tracking.fill_gaps`), so the model never
   sees NaN (keypoints that no Human3.6M joint is made of, such as eyes or feet, are
   ignored: they may never be seen);
4. convert the detector's layout to Human3.6M-17 (scores = visibility,
   :func:`anatomy_lib.data.keypoint_formats.to_h36m`) and normalise the screen
   coordinates (:func:`anatomy_lib.camera.normalize_screen`);
5. lift the whole video with a model (:func:`anatomy_lib.evaluation.predict_sequence`:
   test-time flip by default for one model, such as the default
   :data:`~anatomy_lib.checkpoints.DEFAULT_MODEL`; an ensemble averages its models
   instead), at another rate when the video's is one the models never saw (50 Hz; a
   causal model below them at a whole multiple of the video's rate;
   :mod:`anatomy_lib.frame_rate`: the 2D resampled in, the 3D back), and, when asked,
   smooth the 3D over time (a Gaussian; none by default,
   :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S`). A causal model
   (``ModelConfig.causal``) gives the 3D of frame ``t`` from frames ``0..t`` only: the
   streaming mode for live use (not smoothed: a centred filter would look ahead);
6. when the person's height is given, scale the 3D to it (:mod:`anatomy_lib.stature`):
   one camera cannot tell a person's size, and the model gives the size of a typical adult.

:func:`run_video` adds reading the video once and running the MediaPipe detector
(``wild`` extra), and writes everything to a folder beside the video; the files follow
the one schema of :mod:`.exports` whatever the input.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..camera import normalize_screen
from ..checkpoints import DEFAULT_MODEL
from ..data.keypoint_formats import KEYPOINT_FORMATS, to_h36m
from ..evaluation import is_causal, output_frame
from ..frame_rate import lifting_fps
from ..keypoint_fit import VIDEO_KEYPOINT_PULL, KeypointPull
from ..models.inference import ShortVideoWarning
from ..models.inference_plan import portable_kernel
from ..ray_frame import assumed_intrinsics
from ..skeleton import H36M_17
from ..smoothing import VIDEO_SMOOTHING_S
from ..stature import check_stature, scale_to_stature
from .detector import Detections
from .exports import EXPORT_FORMATS, parse_formats, write_bvh, write_csv, write_npz, write_trc
from .left_right import find_left_right_swaps, swap_back
from .tracking import FrameStatus, Track, fill_gaps, follow_main_person, frame_counts

__all__ = [
    "LiftResult",
    "WildResult",
    "VideoRun",
    "resolve_model",
    "lift_detections",
    "lift_keypoints",
    "video_smoothing",
    "video_keypoint_pull",
    "video_roll_views",
    "VIDEO_ROLL_DEG",
    "infer_video",
    "run_video",
    "default_out_dir",
    "save_figure",
]


@dataclass
class LiftResult:
    """3D of one person through a video (from a video, an OpenPose folder or a keypoint file).

    Attributes:
        joints_3d: ``(T, 17, 3)`` root-relative joints in camera axes (x right, y down,
            z forward), metres, Human3.6M-17 order; NaN on ``missing`` frames.
        keypoints_2d: ``(T, 17, 2)`` pixels fed to the model (gaps filled).
        scores: ``(T, 17)`` visibility fed to the model (0 on filled keypoints).
        status: ``(T,)`` :class:`~.tracking.FrameStatus` code per frame.
        track: the followed person's raw track (before filling); None for keypoint files.
        width, height, fps: the video's.
        model: name or description of the model.
        causal: whether frame ``t`` used frames ``0..t`` only.
        smoothing_s: the Gaussian's standard deviation that smoothed ``joints_3d`` over
            time, seconds (0: not smoothed).
        swapped: ``(T, 2)`` bool, the frames whose arms (column 0) and legs (column 1) had
            their left and right labels swapped back (:mod:`.left_right`); None when the
            detector's labels were used as they came.
        stature_m: the person's height, metres, that ``joints_3d`` was scaled to
            (:meth:`scaled_to_stature`); None: the size the model predicted.
        lift_fps: the frame rate the network saw (:mod:`anatomy_lib.frame_rate`): ``fps``
            unless the video was resampled for it; None: not recorded.
        pull_strength: how far the 3D was pulled towards the 2D keypoints' rays
            (:func:`video_keypoint_pull`; 0: not at all).
        roll_deg: the 3D is the mean of the plain view's and of two views of the camera
            turned by this many degrees either way about the root's ray
            (:func:`video_roll_views`; 0: the plain view alone).
    """

    joints_3d: np.ndarray
    keypoints_2d: np.ndarray
    scores: np.ndarray
    status: np.ndarray
    track: Track | None
    width: int
    height: int
    fps: float
    model: str
    causal: bool
    swapped: np.ndarray | None = None
    smoothing_s: float = 0.0
    stature_m: float | None = None
    lift_fps: float | None = None
    pull_strength: float = 0.0
    roll_deg: float = 0.0

    @property
    def valid(self) -> np.ndarray:
        """``(T,)`` bool: the frame's 3D comes from seen or interpolated keypoints."""
        return self.status != FrameStatus.MISSING

    def scaled_to_stature(self, stature_m: float) -> LiftResult:
        """This result with ``joints_3d`` scaled about the root so that the person is
        ``stature_m`` metres tall (:func:`anatomy_lib.stature.scale_to_stature`, from the
        valid frames; frame by frame for a causal result, so no frame depends on later
        ones); bone directions, the 2D and ``missing`` frames (NaN) unchanged.

        Raises:
            ValueError: ``stature_m`` outside :data:`~anatomy_lib.stature.STATURE_RANGE_M`, or
                no valid frame.
        """
        check_stature(stature_m)
        joints = torch.from_numpy(np.asarray(self.joints_3d, dtype=np.float64))
        scaled = scale_to_stature(
            joints[torch.from_numpy(self.valid)], stature_m, causal=self.causal
        )
        out = np.array(self.joints_3d, copy=True)
        out[self.valid] = scaled.numpy()
        return replace(self, joints_3d=out, stature_m=float(stature_m))

    @property
    def counts(self) -> dict[str, int]:
        """Frames per status: ``{"detected": n, "interpolated": n, "missing": n}``."""
        return frame_counts(self.status)

    def save(
        self,
        path: str | Path,
        csv_path: str | Path | None = None,
        formats: str | Sequence[str] = ("npz", "csv"),
    ) -> list[Path]:
        """Write the result in ``formats`` (any of ``npz, csv, bvh, trc``; the schema of
        :mod:`.exports`) as ``<path without suffix>.<format>``.

        Args:
            path: a file name; its suffix is replaced per format.
            csv_path: where the CSV goes instead (optional).
            formats: a list or a comma-separated string.

        Returns:
            The written files, in the order of ``formats``.
        """
        formats = parse_formats(formats, EXPORT_FORMATS)
        path = Path(path)
        out = []
        for fmt in formats:
            target = path.with_suffix(f".{fmt}")
            if fmt == "npz":
                out.append(write_npz(target, self._arrays(), self._meta()))
            elif fmt == "csv":
                target = target if csv_path is None else Path(csv_path)
                out.append(write_csv(target, self.joints_3d, self.status, self.fps, H36M_17))
            elif fmt == "bvh":
                out.append(write_bvh(target, self.joints_3d, self.fps, H36M_17))
            else:
                out.append(write_trc(target, self.joints_3d, self.fps, H36M_17))
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "joints_3d": self.joints_3d.astype(np.float32),
            "keypoints_2d": self.keypoints_2d.astype(np.float32),
            "scores": self.scores.astype(np.float32),
            "status": self.status.astype(np.int8),
            "joint_names": np.array(H36M_17.joint_names),
        }

    def _meta(self) -> dict:
        units = "metres, root-relative, camera axes (x right, y down, z forward)"
        return {"width": self.width, "height": self.height, "fps": self.fps,
                "model": self.model, "causal": self.causal, "smoothing_s": self.smoothing_s,
                "stature_m": self.stature_m, "lift_fps": self.lift_fps,
                "pull_strength": self.pull_strength, "roll_deg": self.roll_deg,
                "units": units}  # fmt: skip


#: Former name of :class:`LiftResult`.
WildResult = LiftResult


def resolve_model(
    model: str | Path | nn.Module,
    device: torch.device | str = "cpu",
    causal: bool | None = None,
    trusted: bool = False,
) -> nn.Module:
    """The one way a model is named: a module (returned as is), a shipped name
    (:data:`anatomy_lib.checkpoints.SHIPPED_NAMES`), a file written by
    :func:`anatomy_lib.models.checkpoints.save_model`, a training checkpoint, or a training
    run folder (its ``model.pt``, else its ``checkpoint.pt``); names joined by ``+`` give
    the mean of those models' predictions
    (:func:`~anatomy_lib.training.model_files.load_model_file`). Loaded models are in eval
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
    if isinstance(model, nn.Module):
        net = model
    else:
        from ..training.model_files import load_model_file

        net = load_model_file(model, device, trusted)
    net_causal = is_causal(net)
    if causal is not None and causal != net_causal:
        hint = (
            " (the shipped causal model is anatomy_medium_causal; or train one, e.g. "
            "`anatomy3d train small model.causal=true`, and give its model.pt)"
        ) if causal else ""  # fmt: skip
        raise ValueError(
            f"causal={causal} but the model is {'causal' if net_causal else 'non-causal'}; "
            f"give a {'causal' if causal else 'non-causal'} model{hint}"
        )
    return net


def video_smoothing(net: nn.Module, smoothing_s: float | None) -> float:
    """The smoothing, seconds, the pipeline applies with ``net``: ``smoothing_s``, or when it
    is None :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S` (0 for a causal model).

    Raises:
        ValueError: smoothing asked of a causal model (a centred filter looks ahead).
    """
    causal = is_causal(net)
    if smoothing_s is None:
        return 0.0 if causal else VIDEO_SMOOTHING_S
    if causal and smoothing_s > 0:
        raise ValueError(
            f"smoothing_s={smoothing_s}: a causal model's 3D is not smoothed (the centred "
            "filter would use later frames); give smoothing_s=0 or a non-causal model"
        )
    return smoothing_s


def video_keypoint_pull(net: nn.Module, strength: float | None) -> KeypointPull | None:
    """The pull towards the 2D keypoints' rays
    (:func:`~anatomy_lib.keypoint_fit.pull_to_keypoints`) the pipeline applies with ``net``:
    for ``strength`` None,
    :data:`~anatomy_lib.keypoint_fit.VIDEO_KEYPOINT_PULL` for a non-causal model and none for
    a causal one (not validated there); 0: none; a strength in ``(0, 1]``: that strength,
    smoothed over time and with the bone lengths as the default's for a non-causal model; for
    a causal one not smoothed and with each frame's lengths (the centred filter and the
    video's median would look ahead)."""
    causal = is_causal(net)
    if strength is None:
        return None if causal else VIDEO_KEYPOINT_PULL
    if strength == 0:
        return None
    if causal:
        return KeypointPull(strength, smoothing_s=0.0, bone_lengths="frame")
    return replace(VIDEO_KEYPOINT_PULL, strength=strength)


#: The video path's turned views (session 39, ``benchmarks/roll_views.py``): the 3D of a
#: non-causal model that predicts in the ray frame is the mean of the plain view's and of two
#: views of the camera turned by this many degrees either way about the root's ray
#: (:attr:`~anatomy_lib.evaluation.EvaluationConfig.roll_views_deg`).
VIDEO_ROLL_DEG = 6.0


def video_roll_views(net: nn.Module, roll_deg: float | None) -> tuple[float, ...]:
    """The turned views (``EvaluationConfig.roll_views_deg``) the pipeline lifts ``net``
    with: for ``roll_deg`` None, :data:`VIDEO_ROLL_DEG` either way for a non-causal model
    that predicts in the ray frame (trained on rolled cameras; validated on
    ``anatomy_medium``) and none for others (a causal model, the small models, an
    ensemble); 0: none; an angle in ``(0, 45)`` degrees: that angle either way."""
    if roll_deg is None:
        rolled = not is_causal(net) and output_frame(net) == "ray"
        roll_deg = VIDEO_ROLL_DEG if rolled else 0.0
    if isinstance(roll_deg, bool) or not isinstance(roll_deg, (int, float)):
        raise ValueError(f"roll_deg: expected degrees from 0 to below 45, got {roll_deg!r}")
    if not 0 <= roll_deg < 45:
        raise ValueError(f"roll_deg: expected degrees from 0 to below 45, got {roll_deg!r}")
    return () if roll_deg == 0 else (-float(roll_deg), float(roll_deg))


def _roll_deg(views: tuple[float, ...]) -> float:
    return max(views, default=0.0)


def _pull_strength(pull: KeypointPull | None) -> float:
    return 0.0 if pull is None else float(pull.strength)


def _lift(
    net: nn.Module, kp: torch.Tensor, sc: torch.Tensor, width: float, height: float,
    flip: bool | None, length_frames: int | str, smoothing_s: float, fps: float,
    lift_fps: float | str | None, pull: KeypointPull | None = None,
    roll_views: tuple[float, ...] = (),
) -> np.ndarray:  # fmt: skip
    """``(T, 17, 2)`` pixels and ``(T, 17)`` scores -> ``(T, 17, 3)`` float64 joints:
    :func:`anatomy_lib.evaluation.predict_sequence` (with test-time flip, the video and its
    mirror image go through the network in one pass; at ``lift_fps``), smoothed over
    ``smoothing_s`` seconds, pulled towards the keypoints' rays by ``pull``, with the turned
    views ``roll_views`` (:func:`video_roll_views`). A model that
    predicts in the ray frame is turned back with the rays of an uncalibrated camera
    (:func:`~anatomy_lib.ray_frame.assumed_intrinsics`), and the pull uses them too."""
    from ..evaluation import EvaluationConfig, predict_sequence

    param = next(net.parameters())
    norm = normalize_screen(kp, width, height).to(param.device, param.dtype)
    protocol = EvaluationConfig(
        flip=flip,
        length_frames=length_frames,
        smoothing_s=smoothing_s,
        lift_fps=lift_fps,
        keypoint_pull=pull,
        roll_views_deg=roll_views,
    )
    intrinsics = assumed_intrinsics(width, height, dtype=param.dtype)
    joints = predict_sequence(
        net, norm, sc.to(param.device, param.dtype), protocol, intrinsics, fps=fps
    )
    return joints.detach().cpu().double().numpy()


@contextlib.contextmanager
def _cpu_lifting(device: torch.device) -> Iterator[None]:
    """On a CPU, run torch on one thread and the portable matrix kernel inside (the thread
    count is process-wide while inside, restored after;
    :func:`~anatomy_lib.models.inference_plan.portable_kernel`).

    A video's lifting is a few dozen products of matrices of a few hundred rows: one thread
    does them about as fast as two on an idle machine, and when another process keeps a
    core busy, threads waiting for each other made the same lifting 10x slower (measured
    on a 2-core machine with a training running: 0.5 s instead of 0.04 s for 230 frames).
    The portable kernel needs no set-up per new matrix shape (oneDNN: ~1 ms a product,
    ~20 products, for each new video length).
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with portable_kernel():
            yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def _used_keypoints(layout: str) -> np.ndarray:
    """``(K,)`` bool, read-only: the keypoints of ``layout`` some Human3.6M joint is made of."""
    used = KEYPOINT_FORMATS[layout].weights().sum(0).numpy() > 0
    used.flags.writeable = False
    return used


def _still_person(
    layout: str, frames: int = 2, width: int = 640, height: int = 480, fps: float = 30.0
) -> Detections:
    """``frames`` identical frames at ``fps`` of one made-up person in ``layout`` (keypoints
    spread over the middle of a ``width x height`` image, every score 1): input for a
    rehearsal."""
    k = 17 if layout == "h36m" else KEYPOINT_FORMATS[layout].num_keypoints
    index = np.arange(k)
    x = width * (0.4 + 0.2 * index / max(k - 1, 1))
    y = height * (0.2 + 0.6 * ((7 * index) % k) / max(k - 1, 1))
    keypoints = np.broadcast_to(np.stack([x, y], -1), (frames, k, 2))
    return Detections(keypoints, np.ones((frames, k)), layout, width, height, fps, "rehearsal")


def _rehearse(
    net: nn.Module, flip: bool | None, length_frames: int | str, layout: str,
    smoothing_s: float | None, lift_fps: float | str | None, fps: float,
    pull_strength: float | None = None, roll_deg: float | None = None,
) -> None:  # fmt: skip
    """Lift a two-frame still of a made-up person in the detector's ``layout`` at the
    video's ``fps`` exactly as a video's detections will be lifted (tracking, gap filling,
    layout conversion, the lifting rate, folding the network into its inference plan): a
    model or an option that cannot lift fails before any frame is read, and the one-time
    costs of a process's first lifting (the matrix library's set-up, ~10 ms; NumPy's lazily
    imported modules that tracking needs, ~10 ms) are paid with the model loading (the
    ``start`` stage) rather than counted in the video's lifting."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortVideoWarning)  # two frames, on purpose
        lift_detections(
            _still_person(layout, fps=fps), net, flip=flip, length_frames=length_frames,
            smoothing_s=smoothing_s, lift_fps=lift_fps, pull_strength=pull_strength,
            roll_deg=roll_deg,
        )  # fmt: skip


def _model_name(model) -> str:
    return str(model) if isinstance(model, str | Path) else type(model).__name__


def lift_detections(
    detections: Detections,
    model: str | Path | nn.Module = DEFAULT_MODEL,
    causal: bool | None = None,
    max_gap: int | None = None,
    flip: bool | None = None,
    length_frames: int | str = "all",
    device: torch.device | str = "cpu",
    min_keypoints: float = 0.5,
    fix_left_right: bool = True,
    smoothing_s: float | None = None,
    stature_m: float | None = None,
    lift_fps: float | str | None = "auto",
    pull_strength: float | None = None,
    roll_deg: float | None = None,
    **track_options,
) -> LiftResult:
    """Lift one person of a video's 2D detections to 3D (see the module docstring).

    Args:
        detections: :class:`~.detector.Detections`, any supported layout.
        model: anything :func:`resolve_model` takes (default
            :data:`~anatomy_lib.checkpoints.DEFAULT_MODEL`).
        causal: None (the model's), or True / False to insist on a causal / non-causal model.
        max_gap: longest run of undetected frames interpolated, in frames (default: a
            quarter second); longer runs are ``missing``.
        flip: test-time flip augmentation (None: on for one model, off for an ensemble).
        length_frames: frames feeding the bone length network (``"all"`` or an int).
        device: where the model runs.
        min_keypoints: fraction of the used keypoints a frame must show to count as
            detected (:func:`~.tracking.fill_gaps`).
        fix_left_right: swap back the frames where the detector exchanged the left and
            right limbs (:mod:`.left_right`), before gaps are filled.
        smoothing_s: Gaussian smoothing of the 3D over time, seconds (:func:`video_smoothing`:
            None gives :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S`, 0 for a causal
            model).
        stature_m: the person's height in metres: the 3D is scaled to it
            (:meth:`LiftResult.scaled_to_stature`); None keeps the model's size.
        lift_fps: the frame rate the network sees (:func:`anatomy_lib.frame_rate.lifting_fps`):
            ``"auto"`` (default): 50 Hz, the models' training rate, when the video's rate is
            outside the rates they have seen (37-67 fps); a causal model only below them, at
            the smallest whole multiple of the video's rate inside them (30 fps at 60 Hz);
            None: the video's rate; a number: that rate.
        pull_strength: how far the 3D is pulled towards the 2D keypoints' rays
            (:func:`video_keypoint_pull`: None gives
            :data:`~anatomy_lib.keypoint_fit.VIDEO_KEYPOINT_PULL`, none for a causal model;
            0 turns it off).
        roll_deg: the 3D averaged with two views of the camera turned by this many degrees
            either way about the root's ray (:func:`video_roll_views`: None gives
            :data:`VIDEO_ROLL_DEG` for a non-causal model that predicts in the ray frame,
            none for others; 0 turns them off).
        track_options: passed to :func:`~.tracking.follow_main_person` (``rejoin``,
            ``rejoin_distance``, ``max_lost``, ...).

    Returns:
        :class:`LiftResult`.
    """
    if stature_m is not None:
        check_stature(stature_m)  # before any work
    net = resolve_model(model, device, causal)
    smoothing_s = video_smoothing(net, smoothing_s)
    pull = video_keypoint_pull(net, pull_strength)
    views = video_roll_views(net, roll_deg)
    rate = lifting_fps(detections.fps, lift_fps, is_causal(net))
    if max_gap is None:
        max_gap = max(1, round(detections.fps / 4))
    with _cpu_lifting(next(net.parameters()).device):
        track = follow_main_person(detections, **track_options)
        keypoints, scores = track.keypoints.copy(), track.scores.copy()
        used = np.ones(keypoints.shape[1], dtype=bool)
        if detections.layout != "h36m":  # keypoints no joint is made of (eyes, feet) may be unseen
            used = _used_keypoints(detections.layout)
            keypoints[:, ~used], scores[:, ~used] = 0.0, 0.0
        swapped = None
        if fix_left_right:
            swapped = find_left_right_swaps(
                keypoints, scores, detections.layout, causal=is_causal(net),
                max_gap=max_gap,
            )  # fmt: skip
            keypoints, scores = swap_back(keypoints, scores, swapped, detections.layout)
        filled = fill_gaps(
            keypoints[:, used], scores[:, used], max_gap, causal=is_causal(net),
            min_keypoints=min_keypoints,
        )  # fmt: skip
        keypoints[:, used], scores[:, used] = filled.keypoints, filled.scores
        kp = torch.as_tensor(keypoints, dtype=torch.float32)
        sc = torch.as_tensor(scores, dtype=torch.float32)
        if detections.layout != "h36m":
            kp, sc = to_h36m(kp, sc, detections.layout)
        joints = _lift(
            net, kp, sc, detections.width, detections.height, flip, length_frames, smoothing_s,
            detections.fps, rate, pull, views,
        )  # fmt: skip
        joints[filled.status == FrameStatus.MISSING] = np.nan
        result = LiftResult(
            joints, kp.double().numpy(), sc.double().numpy(), filled.status, track,
            detections.width, detections.height, detections.fps, _model_name(model),
            is_causal(net), swapped, smoothing_s, lift_fps=rate,
            pull_strength=_pull_strength(pull), roll_deg=_roll_deg(views),
        )  # fmt: skip
        return result if stature_m is None else result.scaled_to_stature(stature_m)


def lift_keypoints(
    keypoints: np.ndarray,
    scores: np.ndarray | None,
    width: float,
    height: float,
    layout: str = "h36m",
    model: str | Path | nn.Module = DEFAULT_MODEL,
    fps: float = 30.0,
    causal: bool | None = None,
    flip: bool | None = None,
    length_frames: int | str = "all",
    device: torch.device | str = "cpu",
    smoothing_s: float | None = None,
    stature_m: float | None = None,
    lift_fps: float | str | None = "auto",
    pull_strength: float | None = None,
    roll_deg: float | None = None,
) -> LiftResult:
    """Lift one person's keypoints as they are (no tracking, no filling): every frame is
    ``detected``.

    Args:
        keypoints: ``(T, K, 2)`` finite pixels of ``layout``.
        scores: ``(T, K)`` visibility in ``[0, 1]``, or None (all 1).
        width, height: image size in pixels; fps: frame rate (exports, timestamps, and
            the rate the network sees under ``lift_fps="auto"``).
        model, causal, flip, length_frames, device, smoothing_s, stature_m, lift_fps,
            pull_strength, roll_deg: as in :func:`lift_detections`.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    sc = np.ones(kp.shape[:2]) if scores is None else np.asarray(scores, dtype=np.float64)
    det = Detections(kp, sc, layout, int(round(width)), int(round(height)), fps)  # checks
    if np.isnan(det.keypoints).any():
        raise ValueError("keypoints: NaN found; give finite keypoints (score 0 if unseen)")
    if stature_m is not None:
        check_stature(stature_m)
    net = resolve_model(model, device, causal)
    smoothing_s = video_smoothing(net, smoothing_s)
    pull = video_keypoint_pull(net, pull_strength)
    views = video_roll_views(net, roll_deg)
    rate = lifting_fps(fps, lift_fps, is_causal(net))
    with _cpu_lifting(next(net.parameters()).device):
        kp_t = torch.as_tensor(det.keypoints[:, 0], dtype=torch.float32)
        sc_t = torch.as_tensor(det.scores[:, 0], dtype=torch.float32)
        if layout != "h36m":
            kp_t, sc_t = to_h36m(kp_t, sc_t, layout)
        joints = _lift(
            net, kp_t, sc_t, width, height, flip, length_frames, smoothing_s, fps, rate, pull,
            views,
        )  # fmt: skip
    status = np.full(len(joints), FrameStatus.DETECTED, dtype=np.int8)
    result = LiftResult(
        joints, kp_t.double().numpy(), sc_t.double().numpy(), status, None,
        det.width, det.height, float(fps), _model_name(model), is_causal(net),
        smoothing_s=smoothing_s, lift_fps=rate, pull_strength=_pull_strength(pull),
        roll_deg=_roll_deg(views),
    )  # fmt: skip
    return result if stature_m is None else result.scaled_to_stature(stature_m)


def default_out_dir(video: str | Path) -> Path:
    """Where results of ``video`` (a file or a folder) go by default: the folder
    ``<name without suffix>_anatomy3d`` beside it."""
    video = Path(video)
    return video.parent / f"{video.stem}_anatomy3d"


def figure_frame_indices(num_frames: int, figure_frames: int) -> np.ndarray:
    """At most ``figure_frames`` evenly spaced frame numbers of a ``num_frames`` video."""
    if figure_frames < 1:
        raise ValueError(f"figure_frames: expected an int >= 1, got {figure_frames!r}")
    return np.unique(np.linspace(0, num_frames - 1, min(figure_frames, num_frames)).round()).astype(
        int
    )


def save_figure(
    result: LiftResult,
    path: str | Path,
    video: str | Path | None = None,
    figure_frames: int = 100,
    title: str | None = None,
    frames: dict[int, np.ndarray] | None = None,
) -> Path:
    """Write the animated figure of up to ``figure_frames`` evenly spaced frames as one
    standalone HTML file (plotly.js inlined: opens offline; about 4.7 MB + 10-20 kB per
    frame).

    The frames come from ``frames`` (frame number -> image, e.g. kept while detecting),
    else are read from ``video``, else the 2D is drawn on a blank canvas.
    """
    from .figure import video_pose_spec, write_figure_html
    from .video import read_frames

    idx = figure_frame_indices(len(result.status), figure_frames)
    idx = idx[result.valid[idx]]
    if frames is not None:
        idx = np.array([t for t in idx if int(t) in frames], dtype=int)
    if len(idx) == 0:
        raise ValueError("no frame has a 3D pose (all 'missing'): nothing to draw")
    if frames is not None:
        images = [frames[int(t)] for t in idx]
    else:
        images = None if video is None else read_frames(video, idx)
    spec = video_pose_spec(images, idx, result, title=title)
    return write_figure_html(spec, path)


@dataclass
class VideoRun:
    """What :func:`run_video` made: the ``result``, the ``detections``, the written
    ``paths`` (format -> file) and ``timings`` (stage -> seconds)."""

    result: LiftResult
    detections: Detections
    paths: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def missing_with_someone_else(self) -> int:
        """Missing frames in which the detector saw somebody, but not the main person (one
        graph following someone else: ``max_people=None`` looks again at those frames)."""
        track = self.result.track
        if track is None:
            return 0
        other = (self.detections.num_found > 0) & (track.person < 0)
        return int((other & (self.result.status == FrameStatus.MISSING)).sum())


class _Timed:
    """Wraps a frame iterator: time spent decoding, and small copies of chosen frames."""

    def __init__(self, frames: Iterator[np.ndarray], keep: set[int], max_side: int) -> None:
        self.frames, self.keep, self.max_side = frames, keep, max_side
        self.kept: dict[int, np.ndarray] = {}
        self.seconds, self.count = 0.0, 0

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            start = time.perf_counter()
            try:
                frame = next(self.frames)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            if self.count in self.keep:
                self.kept[self.count] = _shrink(frame, self.max_side)
            self.seconds += time.perf_counter() - start
            self.count += 1
            yield frame


def _shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    """A copy of an ``(H, W, 3)`` frame reduced by an integer factor to at most about
    ``max_side`` pixels on its long side (OpenCV when installed: 5x faster than PIL)."""
    factor = max(1, int(np.ceil(max(frame.shape[:2]) / max_side)))
    if factor == 1:
        return frame.copy()
    try:
        import cv2
    except ImportError:
        from PIL import Image

        return np.asarray(Image.fromarray(frame).reduce(factor))
    size = (frame.shape[1] // factor, frame.shape[0] // factor)
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def run_video(
    video: str | Path,
    model: str | Path | nn.Module = DEFAULT_MODEL,
    out_dir: str | Path | None = None,
    causal: bool | None = None,
    max_people: int | None = 1,
    figure_frames: int = 100,
    progress: bool = True,
    device: torch.device | str = "cpu",
    flip: bool | None = None,
    length_frames: int | str = "all",
    model_name: str | None = None,
    formats: str | Sequence[str] = ("npz", "csv", "html"),
    max_gap: int | None = None,
    min_keypoints: float = 0.5,
    fix_left_right: bool = True,
    smoothing_s: float | None = None,
    pose_model: str = "full",
    stature_m: float | None = None,
    lift_fps: float | str | None = "auto",
    pull_strength: float | None = None,
    roll_deg: float | None = None,
) -> VideoRun:
    """Video -> MediaPipe 2D -> main person -> 3D, written to ``out_dir``; the video is
    decoded once (the figure's frames are kept, reduced, while detecting).

    Files (``<stem>`` = the video's name without suffix, in ``out_dir``, default
    :func:`default_out_dir`: ``<stem>_anatomy3d`` beside the video): ``<stem>_2d.npz``
    (:class:`~.detector.Detections`), then ``<stem>_3d.<format>`` for each of ``formats``
    (``npz, csv, bvh, trc``: :meth:`LiftResult.save`; ``html``: :func:`save_figure`).

    Args:
        video: a video file or a folder of images.
        model, causal, device, flip, length_frames, max_gap, min_keypoints,
            fix_left_right, smoothing_s, stature_m, lift_fps, pull_strength, roll_deg: as in
            :func:`lift_detections`;
            the model is loaded, checked and run on one still frame before any frame is read.
            A file that stores no frame rate (an image folder) is lifted as filmed under
            ``lift_fps="auto"`` (its rate is assumed, :attr:`.video.VideoInfo.fps_known`).
        max_people: people the detector looks for in every frame: 1 (default) runs one
            MediaPipe graph; 2 finds a second person, at twice the detection time. None:
            one graph, and a second look with a second graph only at the frames where the
            first one followed someone other than the main person
            (:func:`someone_else_frames`; the video is then read a second time, up to the
            last such frame).
        figure_frames: frames shown in the HTML figure.
        progress: show a progress bar while detecting.
        model_name: label saved with the result (default: ``model`` when it is a name).
        formats: a list or a comma-separated string of ``npz, csv, bvh, trc, html``.
        pose_model: MediaPipe's pose model, ``full`` (default, inside the mediapipe wheel),
            ``lite`` or ``heavy`` (their files placed first:
            :class:`~.detector.MediaPipePoseDetector`; a missing one raises
            :class:`FileNotFoundError` before any frame is read).

    Needs the ``wild`` extra (MediaPipe): without it, an :class:`ImportError` naming the
    extra is raised before any work.
    """
    from .detector import WILD_EXTRA_HINT, check_pose_model, detect_people, mediapipe_available
    from .video import iter_frames, video_info

    clock = time.perf_counter()
    formats = parse_formats(formats, (*EXPORT_FORMATS, "html"))
    complexity = check_pose_model(pose_model)  # the name first: it needs no MediaPipe
    if stature_m is not None:
        check_stature(stature_m)
    if not mediapipe_available():
        raise ImportError(WILD_EXTRA_HINT)
    video = Path(video)
    info = video_info(video)
    if not info.fps_known and lift_fps == "auto":
        lift_fps = None  # an assumed rate must not decide the resampling: lifted as filmed
    net = resolve_model(model, device, causal)
    video_smoothing(net, smoothing_s)  # a causal model asked to smooth fails before reading
    _rehearse(
        net, flip, length_frames, "mediapipe33", smoothing_s, lift_fps, info.fps, pull_strength,
        roll_deg,
    )  # fmt: skip
    out = default_out_dir(video) if out_dir is None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keep = set()
    if "html" in formats and info.num_frames:
        keep = set(figure_frame_indices(info.num_frames, figure_frames).tolist())
    frames = _Timed(iter(iter_frames(video)), keep, max_side=720)
    timings = {"start": time.perf_counter() - clock}
    clock = time.perf_counter()
    graphs = 1 if max_people is None else max_people
    detections = detect_people(
        frames, info.fps, graphs, f"MediaPipe ({pose_model} model) on {video.name}", progress,
        model_complexity=complexity,
    )  # fmt: skip
    timings["decode"] = frames.seconds
    timings["detect"] = time.perf_counter() - clock - frames.seconds
    if max_people is None:
        clock = time.perf_counter()
        detections = _second_look(video, detections, progress, model_complexity=complexity)
        timings["second_look"] = time.perf_counter() - clock
    clock = time.perf_counter()
    paths = {"detections": out / f"{video.stem}_2d.npz"}
    detections.save(paths["detections"])  # kept even if the lifting fails
    saved_2d = time.perf_counter() - clock
    clock = time.perf_counter()
    result = lift_detections(
        detections, net, flip=flip, length_frames=length_frames, max_gap=max_gap,
        min_keypoints=min_keypoints, fix_left_right=fix_left_right, smoothing_s=smoothing_s,
        stature_m=stature_m, lift_fps=lift_fps, pull_strength=pull_strength, roll_deg=roll_deg,
    )  # fmt: skip
    if model_name is not None or isinstance(model, str | Path):
        result.model = str(model if model_name is None else model_name)
    timings["lift"] = time.perf_counter() - clock
    paths.update(_write_outputs(result, out / f"{video.stem}_3d.npz", formats, frames.kept,
                                figure_frames, video.name, timings))  # fmt: skip
    timings["save"] += saved_2d  # the 2D file is an output too, not part of the lifting
    return VideoRun(result, detections, paths, timings)


def someone_else_frames(detections: Detections, **track_options) -> np.ndarray:
    """``(T,)`` bool: frames where somebody was detected but not the main person (a
    single-person detector following someone else)."""
    track = follow_main_person(detections, **track_options)
    return (detections.num_found > 0) & (track.person < 0)


def _second_look(
    video: Path, detections: Detections, progress: bool, **detector_options
) -> Detections:
    """With one graph: look again, with a second graph, at the frames where the detector
    followed someone else (at least a tenth of a second of them), else change nothing."""
    from .detector import detect_hidden_person
    from .video import iter_frames

    wanted = someone_else_frames(detections)
    if wanted.sum() < max(3, round(detections.fps / 10)):
        return detections
    return detect_hidden_person(
        iter_frames(video), detections, wanted, progress, **detector_options
    )


def _write_outputs(
    result: LiftResult, npz: Path, formats: list[str], frames: dict[int, np.ndarray],
    figure_frames: int, title: str, timings: dict[str, float],
) -> dict[str, Path]:  # fmt: skip
    """Write ``formats`` beside ``npz`` (its suffix replaced per format); add ``save`` and
    ``figure`` to ``timings``."""
    clock = time.perf_counter()
    data_formats = [f for f in formats if f != "html"]
    paths = {}
    if data_formats:
        written = result.save(npz, formats=data_formats)
        paths.update(zip(data_formats, written, strict=True))
    timings["save"] = time.perf_counter() - clock
    if "html" in formats:
        clock = time.perf_counter()
        paths["html"] = save_figure(result, npz.with_suffix(".html"), figure_frames=figure_frames,
                                    title=title, frames=frames)  # fmt: skip
        timings["figure"] = time.perf_counter() - clock
    return paths


def infer_video(video: str | Path, model: str | Path | nn.Module = DEFAULT_MODEL,
                out_dir: str | Path | None = None, **options) -> dict[str, Path]:  # fmt: skip
    """:func:`run_video`, returning only the written files (format -> path; the
    detections under ``"detections"``)."""
    return run_video(video, model, out_dir, **options).paths
