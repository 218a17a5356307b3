"""Evaluation under the published protocols, on any :class:`~anatomy_lib.data.PoseDataset`.

* Human3.6M-style (also the embedded dataset and the real-detection trial):
  Protocol 1 (MPJPE), Protocol 2 (P-MPJPE), Protocol 3 (N-MPJPE) and MPJVE per action
  (or per subject) and their average over the columns, in the layout of the paper's
  Table 1 (:func:`evaluate_dataset`).
* MPI-INF-3DHP: PCK at 150 mm, AUC and MPJPE on the frames marked valid
  (:func:`evaluate_pck`).

Every sequence is lifted whole (:func:`~anatomy_lib.models.inference.lift_video`), with
optional test-time flip augmentation: the prediction is the mean of the prediction on
the input and the mirrored prediction on the mirrored input, which makes the lifted
poses of a mirrored video exactly the mirrored poses (:func:`predict_sequence`). A
:class:`~anatomy_lib.models.ensemble.PredictionEnsemble` averages its members'
predictions; ``EvaluationConfig.smoothing_s`` smooths the result over time (the video
pipeline's default, not the paper's protocol).
Errors are in millimetres, PCK and AUC in percent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from ._validation import (
    check_choice_field,
    check_int_field,
    check_scores,
    check_screen_keypoints,
)
from .bones import mirror_joints, swap_left_right
from .data.augment import normalized_intrinsics
from .frame_rate import lifting_fps, resample
from .keypoint_fit import KeypointPull, pull_to_keypoints
from .length_frames import consecutive_length_frames
from .metrics import ActionTable, SequenceErrors, auc, mpjpe, mpjve, n_mpjpe, p_mpjpe, pck
from .models.anatomy import AnatomyModel
from .models.ensemble import PredictionEnsemble, map_members
from .models.inference import (
    lift_video,
    lift_video_baseline,
    lift_videos,
    pad_edges,
    warn_if_short,
)
from .models.temporal import TemporalConvNet
from .ray_frame import from_ray_frame, pixel_rays, roll_view
from .skeleton import MPI_INF_3DHP_EVAL_JOINTS, Skeleton
from .smoothing import smooth_over_time

__all__ = [
    "EvaluationConfig",
    "EvaluationResult",
    "PCKResult",
    "predict_sequence",
    "uses_flip",
    "evaluate_dataset",
    "evaluate_pck",
    "score_predictions",
    "score_pck",
]

PROTOCOLS = ("p1", "p2", "p3", "mpjve")
_TITLES = {"p1": "Protocol 1", "p2": "Protocol 2", "p3": "Protocol 3", "mpjve": "MPJVE"}


@dataclass(frozen=True)
class EvaluationConfig:
    """How sequences are lifted and grouped.

    Attributes:
        flip: test-time flip augmentation; ``None`` (the default): on for one model, off for
            a :class:`~anatomy_lib.models.ensemble.PredictionEnsemble` (already an average;
            the mirror pass would double its cost).
        length_frames: frames feeding the bone length network per output frame:
            ``"all"`` (every frame of the video, the released code's protocol), an int
            ``l`` (``l`` random frames, the paper's, seeded by ``seed``) or
            ``"consecutive"`` (the ``sampled_frames`` frames around the target, AF(conse)).
        seed: seed of the random length frames.
        by: ``"action"`` (Table 1 columns) or ``"subject"``.
        chunk_size: frames lifted at once (memory only; results do not depend on it).
        smoothing_s: standard deviation, seconds, of the Gaussian that smooths the lifted
            3D over time (:func:`~anatomy_lib.smoothing.smooth_over_time`); 0 (the paper's
            protocol) does not smooth. The video pipeline's default is
            :data:`~anatomy_lib.smoothing.VIDEO_SMOOTHING_S`.
        lift_fps: the frame rate the network sees (:func:`~anatomy_lib.frame_rate.lifting_fps`):
            None (the paper's protocol: as filmed), ``"auto"`` (the video pipeline's default)
            or a rate in Hz; :func:`predict_sequence` then needs the video's ``fps``.
        keypoint_pull: the lifted 3D pulled part of the way towards the keypoints' rays
            (:func:`~anatomy_lib.keypoint_fit.pull_to_keypoints`, at the lifting rate,
            before ``smoothing_s``): a :class:`~anatomy_lib.keypoint_fit.KeypointPull`, or
            None (the paper's protocol) for none. Needs the camera's intrinsics, and the
            video's ``fps`` when its ``smoothing_s > 0``. The video pipeline's default is
            :data:`~anatomy_lib.keypoint_fit.VIDEO_KEYPOINT_PULL`.
        roll_views_deg: more views of every frame, averaged with the plain one: the camera
            turned by each of these angles (degrees, each in ``(-45, 45)``) about the
            root's ray (:func:`~anatomy_lib.ray_frame.roll_view`), the view lifted (with
            the mirror pass as ``flip`` says) and turned back. ``()`` (the paper's protocol):
            none. Needs the camera's intrinsics. The video pipeline's default for a
            non-causal ray-frame model is :data:`~anatomy_lib.wild.pipeline.VIDEO_ROLL_DEG`
            either way (session 39, ``benchmarks/roll_views.py``).
    """

    flip: bool | None = None
    length_frames: int | str = "all"
    seed: int = 0
    by: Literal["action", "subject"] = "action"
    chunk_size: int = 256
    smoothing_s: float = 0.0
    lift_fps: float | str | None = None
    keypoint_pull: KeypointPull | None = None
    roll_views_deg: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        views = self.roll_views_deg
        if not isinstance(views, tuple) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and -45 < v < 45 for v in views
        ):
            raise ValueError(
                "EvaluationConfig.roll_views_deg: expected a tuple of angles in degrees, each "
                f"in (-45, 45), got {views!r}"
            )
        if self.keypoint_pull is not None and not isinstance(self.keypoint_pull, KeypointPull):
            raise ValueError(
                "EvaluationConfig.keypoint_pull: expected None or a "
                f"anatomy_lib.keypoint_fit.KeypointPull, got {self.keypoint_pull!r}"
            )
        if self.flip is not None and not isinstance(self.flip, bool):
            raise ValueError(
                f"EvaluationConfig.flip: expected True, False or None, got {self.flip!r}"
            )
        sm = self.smoothing_s
        if isinstance(sm, bool) or not isinstance(sm, (int, float)) or not 0 <= sm < math.inf:
            raise ValueError(
                f"EvaluationConfig.smoothing_s: expected a finite number of seconds >= 0, "
                f"got {sm!r}"
            )
        lf = self.length_frames
        if not (
            lf in ("all", "consecutive")
            or (isinstance(lf, int) and not isinstance(lf, bool) and lf >= 1)
        ):
            raise ValueError(
                "EvaluationConfig.length_frames: expected 'all', 'consecutive' or an int >= 1, "
                f"got {lf!r}"
            )
        check_choice_field(self, "by", ("action", "subject"))
        check_int_field(self, "chunk_size")
        if self.lift_fps is not None:
            try:
                lifting_fps(1.0, self.lift_fps)
            except ValueError as err:
                raise ValueError(f"EvaluationConfig.{err}") from None

    @classmethod
    def from_experiment(cls, experiment, **overrides) -> EvaluationConfig:
        """The protocol matching a training run (its flip and length-frame settings)."""
        lf = "consecutive" if experiment.data.length_frames == "consecutive" else "all"
        return cls(**{"flip": experiment.data.test_flip, "length_frames": lf, **overrides})


def _skeleton(model: nn.Module) -> Skeleton:
    if not isinstance(model, (AnatomyModel, TemporalConvNet, PredictionEnsemble)):
        raise TypeError(
            "model: expected an AnatomyModel, a TemporalConvNet or a PredictionEnsemble, "
            f"got {type(model).__name__}"
        )
    return model.skeleton


def uses_flip(model: nn.Module, config: EvaluationConfig) -> bool:
    """Whether ``model`` is lifted with the mirror-image pass under ``config``
    (``config.flip``, or when it is None: True except for a
    :class:`~anatomy_lib.models.ensemble.PredictionEnsemble`)."""
    if config.flip is not None:
        return config.flip
    return not isinstance(model, PredictionEnsemble)


def _lift_consecutive(
    model: AnatomyModel, kp: torch.Tensor, sc: torch.Tensor | None, chunk: int
) -> torch.Tensor:
    """Window form on every frame, length network on consecutive frames (AF(conse))."""
    cfg = model.config
    t, rf = kp.shape[0], cfg.receptive_field
    warn_if_short(t, rf)
    windows = pad_edges(kp, rf, cfg.causal).unfold(0, rf, 1).permute(0, 3, 1, 2)  # (T, rf, J, 2)
    win_scores = None
    if sc is not None:
        win_scores = pad_edges(sc, rf, cfg.causal).unfold(0, rf, 1).permute(0, 2, 1)  # (T, rf, J)
    lf = consecutive_length_frames(
        torch.arange(t, device=kp.device), t, cfg.sampled_frames, cfg.causal
    )
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, t, chunk):
            e = min(s + chunk, t)
            ws = None if win_scores is None else win_scores[s:e]
            out.append(model(windows[s:e], ws, kp[lf[s:e]]).joints)
    model.train(was_training)
    return torch.cat(out)


def _lift(
    model: nn.Module, kp: torch.Tensor, sc: torch.Tensor | None, config: EvaluationConfig
) -> torch.Tensor:
    if isinstance(model, TemporalConvNet):
        fusion = model.config.visibility == "fusion"
        return lift_video_baseline(model, kp, sc if fusion else None, chunk_size=config.chunk_size)
    needs_scores = model.config.visibility != "none"
    sc = sc if needs_scores else None
    if config.length_frames == "consecutive":
        param = next(model.parameters())
        kp = kp.to(param.device, param.dtype)
        sc = None if sc is None else sc.to(param.device, param.dtype)
        return _lift_consecutive(model, kp, sc, config.chunk_size)
    result = lift_video(
        model,
        kp,
        sc,
        length_frames=config.length_frames,
        seed=config.seed,
        chunk_size=config.chunk_size,
    )
    return result.joints


def is_causal(model: nn.Module) -> bool:
    """Whether ``model`` uses past frames only (``model.config.causal``: a network's
    ``ModelConfig``, or an ensemble's, causal when all its members are; False for a module
    without one)."""
    return bool(getattr(getattr(model, "config", None), "causal", False))


def output_frame(model: nn.Module) -> str:
    """``"camera"`` or ``"ray"``: the frame of ``model``'s 3D output
    (``ModelConfig.output_frame``; ``"camera"`` for models without that setting)."""
    return getattr(getattr(model, "config", None), "output_frame", "camera")


def predict_sequence(
    model: AnatomyModel | TemporalConvNet | PredictionEnsemble,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None = None,
    config: EvaluationConfig = EvaluationConfig(),
    intrinsics: torch.Tensor | None = None,
    fps: float | None = None,
) -> torch.Tensor:
    """Lift a whole video: with test-time flip augmentation when :func:`uses_flip`, an
    ensemble's members averaged, at ``config.lift_fps`` (:mod:`anatomy_lib.frame_rate`),
    smoothed over time when ``config.smoothing_s > 0``.

    Args:
        model: a trained network or a
            :class:`~anatomy_lib.models.ensemble.PredictionEnsemble` of them (evaluated in
            eval mode, its mode restored).
        keypoints_2d: ``(T, J, 2)`` normalised screen coordinates.
        scores: ``(T, J)`` visibility scores (required by models that read them).
        config: protocol settings.
        intrinsics: ``(9,)`` normalised intrinsics of the camera
            (:func:`~anatomy_lib.data.augment.normalized_intrinsics`, or
            :func:`~anatomy_lib.ray_frame.assumed_intrinsics` without calibration); needed
            by models whose output is in the ray frame (:mod:`anatomy_lib.ray_frame`),
            ignored by the others.
        fps: the video's frame rate; needed when ``config.smoothing_s > 0`` or
            ``config.lift_fps`` is set.

    Returns:
        ``(T, J, 3)`` root-relative camera-space joints (metres), on the model's device.
    """
    check_screen_keypoints(keypoints_2d)  # pixels given where normalised are expected
    if scores is not None:
        check_scores(scores)  # NaN or outside [0, 1] would change the output silently
    needs_fps = None
    if config.smoothing_s > 0:
        needs_fps = f"smoothing over {config.smoothing_s} s"
    elif config.lift_fps is not None:
        needs_fps = f"lift_fps={config.lift_fps!r}"
    pull = config.keypoint_pull
    if pull is not None and not pull.moves:
        pull = None  # strength 0 moves nothing
    if pull is not None:
        if intrinsics is None or tuple(intrinsics.shape) != (9,):
            got = None if intrinsics is None else tuple(intrinsics.shape)
            raise ValueError(
                "keypoint_pull needs the camera's normalised intrinsics, shape (9,) "
                "(anatomy_lib.data.augment.normalized_intrinsics(camera), or "
                f"anatomy_lib.ray_frame.assumed_intrinsics(width, height)); got {got}"
            )
        if pull.smoothing_s > 0 and not needs_fps:
            needs_fps = f"keypoint_pull smoothed over {pull.smoothing_s} s"
    if needs_fps and not (fps is not None and 0 < fps < math.inf):
        raise ValueError(f"{needs_fps} needs the video's frame rate: expected fps > 0, got {fps!r}")
    causal = is_causal(model)
    if causal and pull is not None and pull.smoothing_s > 0:
        raise ValueError(
            f"keypoint_pull smoothed over {pull.smoothing_s} s: a causal model's pull is not "
            "smoothed (the centred filter would use later frames); give "
            "KeypointPull(strength, smoothing_s=0, bone_lengths='frame') or a non-causal model"
        )
    if causal and pull is not None and pull.bone_lengths == "video":
        raise ValueError(
            "keypoint_pull with bone_lengths='video': a causal model's pull keeps each "
            "frame's lengths (the median over the video would use later frames); give "
            "KeypointPull(strength, smoothing_s=0, bone_lengths='frame') or a non-causal model"
        )
    lift_fps = fps if config.lift_fps is None else lifting_fps(fps, config.lift_fps, causal)
    frames = keypoints_2d.shape[0]
    if lift_fps != fps:  # the network sees the video at lift_fps (anatomy_lib.frame_rate)
        keypoints_2d = resample(keypoints_2d, fps, lift_fps)
        scores = None if scores is None else resample(scores, fps, lift_fps)
    flip = uses_flip(model, config)
    members = list(model.members) if isinstance(model, PredictionEnsemble) else [model]

    def one(member: nn.Module) -> torch.Tensor:
        return _predict_one(member, keypoints_2d, scores, config, intrinsics, flip)

    joints = torch.stack(map_members(one, members)).mean(0)
    if pull is not None:
        joints = pull_to_keypoints(
            joints, keypoints_2d.to(joints), None if scores is None else scores.to(joints),
            intrinsics.to(joints), pull.strength,
            pull.smoothing_s * lift_fps if pull.smoothing_s > 0 else 0.0, _skeleton(model),
            pull.bone_lengths,
        )  # fmt: skip
    if lift_fps != fps:  # back to the video's frames; a causal model's without looking ahead
        joints = resample(joints, lift_fps, fps, frames=frames, hold=causal)
    sigma_frames = config.smoothing_s * fps if config.smoothing_s > 0 else 0.0
    return smooth_over_time(joints, sigma_frames)


def _predict_one(
    model: AnatomyModel | TemporalConvNet,
    keypoints_2d: torch.Tensor,
    scores: torch.Tensor | None,
    config: EvaluationConfig,
    intrinsics: torch.Tensor | None,
    flip: bool,
) -> torch.Tensor:
    """One network's whole-video prediction in the camera frame (:func:`predict_sequence`)."""
    ray = output_frame(model) == "ray"
    if ray and (intrinsics is None or tuple(intrinsics.shape) != (9,)):
        got = None if intrinsics is None else tuple(intrinsics.shape)
        raise ValueError(
            "this model predicts poses in the ray frame and needs the camera's normalised "
            "intrinsics, shape (9,) (anatomy_lib.data.augment.normalized_intrinsics(camera), "
            f"or anatomy_lib.ray_frame.assumed_intrinsics(width, height)); got {got}"
        )
    if config.roll_views_deg and (intrinsics is None or tuple(intrinsics.shape) != (9,)):
        got = None if intrinsics is None else tuple(intrinsics.shape)
        raise ValueError(
            f"roll_views_deg needs the camera's normalised intrinsics, shape (9,); got {got}"
        )
    root = _skeleton(model).root
    views, rotations = [keypoints_2d], [None]
    if config.roll_views_deg:
        k = intrinsics.to(keypoints_2d)
        root_rays = pixel_rays(keypoints_2d[:, root], k)
        for angle in config.roll_views_deg:
            turned, rotation = roll_view(keypoints_2d, k, root_rays, math.radians(angle))
            views.append(turned)
            rotations.append(rotation)
    lifted = _predict_in_model_frame(model, views, scores, config, flip)
    if ray:  # a turn about the root's ray leaves that ray in place: one ray frame for all views
        rays = pixel_rays(keypoints_2d[:, root].to(lifted[0]), intrinsics.to(lifted[0]))
        lifted = [from_ray_frame(joints, rays) for joints in lifted]
    lifted = [  # R^T X' for each frame of a turned view
        joints if rotation is None else joints @ rotation.to(joints)
        for joints, rotation in zip(lifted, rotations, strict=True)
    ]
    return lifted[0] if len(lifted) == 1 else torch.stack(lifted).mean(0)


def _predict_in_model_frame(
    model: AnatomyModel | TemporalConvNet,
    views: list[torch.Tensor],
    scores: torch.Tensor | None,
    config: EvaluationConfig,
    flip: bool,
) -> list[torch.Tensor]:
    """:func:`predict_sequence` of each view ``(T, J, 2)`` (the video, or the video seen by
    turned cameras; one set of ``scores``) in the frame of the model's output, flip averaged
    there (mirroring commutes with the ray frame). An anatomy model lifts every view and its
    mirror image in one pass."""
    sk = _skeleton(model)
    mirrored_scores = None if scores is None else swap_left_right(scores, sk, dim=-1)
    one_pass = isinstance(model, AnatomyModel) and config.length_frames != "consecutive"
    if one_pass and (flip or len(views) > 1):
        # One matrix product per layer for every view and its mirror image.
        reads_scores = model.config.visibility != "none"
        videos = []
        for view in views:
            videos.append((view, scores if reads_scores else None))
            if flip:
                videos.append((mirror_joints(view, sk), mirrored_scores if reads_scores else None))
        lifted = [
            r.joints
            for r in lift_videos(
                model,
                videos,
                length_frames=config.length_frames,
                seed=config.seed,
                chunk_size=config.chunk_size,
            )
        ]
        if not flip:
            return lifted
        return [
            (a + mirror_joints(b, sk)) / 2 for a, b in zip(lifted[::2], lifted[1::2], strict=True)
        ]
    out = []
    for view in views:
        pred = _lift(model, view, scores, config)
        if flip:
            flipped = _lift(model, mirror_joints(view, sk), mirrored_scores, config)
            pred = (pred + mirror_joints(flipped, sk)) / 2
        out.append(pred)
    return out


@dataclass
class EvaluationResult:
    """Errors of one model on one dataset, in millimetres.

    Attributes:
        dataset: dataset name.
        tables: ``{"p1" | "p2" | "p3" | "mpjve": ActionTable}``, one row each, columns =
            actions (Table 1 order for Human3.6M) or subjects.
        averages: ``{protocol: Avg}``, the mean over the columns (as Table 1's Avg).
        frames: number of evaluated frames.
        predictions: ``(T, J, 3)`` predictions per sequence, when kept.
    """

    dataset: str
    tables: dict[str, ActionTable]
    averages: dict[str, float]
    frames: int
    predictions: list[torch.Tensor] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        """JSON-friendly: averages and ``{protocol: {column: mm}}``."""
        return {
            "dataset": self.dataset,
            "frames": self.frames,
            "unit": "mm",
            "averages": dict(self.averages),
            "per_column": {p: next(iter(t.to_dict().values())) for p, t in self.tables.items()},
        }

    def to_markdown(self, precision: int = 1) -> str:
        """The four tables in Markdown, one after the other."""
        return "\n\n".join(t.to_markdown(precision) for t in self.tables.values())


def _targets(seq) -> torch.Tensor:
    return seq.joints_3d_relative


def _predict_all(model, seqs: list, config: EvaluationConfig, progress: bool, desc: str) -> list:
    sk = _skeleton(model)
    out = []
    for seq in tqdm(seqs, desc=desc, disable=not progress, leave=False):
        if seq.skeleton != sk:
            raise ValueError(f"{seq}: skeleton {seq.skeleton.name!r}, the model's is {sk.name!r}")
        intrinsics = None if seq.camera is None else normalized_intrinsics(seq.camera)
        pred = predict_sequence(
            model, seq.keypoints_2d, seq.scores, config, intrinsics, fps=seq.fps
        )
        out.append(pred.detach())
    return out


def _with_3d(dataset: Iterable, what: str) -> list:
    seqs = [s for s in dataset if s.joints_3d is not None]
    if not seqs:
        raise ValueError(f"{what}: no sequence with 3D ground truth to evaluate")
    return seqs


def _check_predictions(seqs: list, predictions: list) -> None:
    if len(predictions) != len(seqs):
        raise ValueError(
            f"expected one prediction per sequence ({len(seqs)}), got {len(predictions)}"
        )
    for seq, pred in zip(seqs, predictions, strict=True):
        want = (seq.num_frames, seq.skeleton.num_joints, 3)
        if tuple(pred.shape) != want:
            raise ValueError(
                f"{seq}: expected a prediction of shape {want}, got {tuple(pred.shape)}"
            )


def score_predictions(
    dataset: Iterable,
    predictions: list[torch.Tensor],
    by: Literal["action", "subject"] = "action",
    label: str = "model",
) -> EvaluationResult:
    """Protocols 1-3 and MPJVE of given predictions, per action (or subject).

    Frames flagged invalid (``sequence.valid``) are left out of P1-P3; MPJVE uses pairs
    of consecutive valid frames.

    Args:
        dataset: sequences with 3D ground truth (others are skipped).
        predictions: one ``(T, J, 3)`` root-relative prediction (metres) per such sequence.
        by: table columns: ``"action"`` or ``"subject"``.
        label: row label of the tables.
    """
    seqs = _with_3d(dataset, "score_predictions")
    _check_predictions(seqs, predictions)
    errors: dict[str, list[SequenceErrors]] = {p: [] for p in PROTOCOLS}
    frames = 0
    for seq, pred in zip(seqs, predictions, strict=True):
        target = _targets(seq).to(pred.device, pred.dtype)
        valid = seq.valid.to(pred.device)
        if not bool(valid.any()):
            continue
        frames += int(valid.sum())
        p, t = pred[valid], target[valid]
        group = {"action": seq.action, "subject": seq.subject}
        errors["p1"].append(SequenceErrors(errors=mpjpe(p, t, reduction="none"), **group))
        errors["p2"].append(SequenceErrors(errors=p_mpjpe(p, t, reduction="none"), **group))
        errors["p3"].append(SequenceErrors(errors=n_mpjpe(p, t, reduction="none"), **group))
        pairs = valid[1:] & valid[:-1]
        if bool(pairs.any()):
            v = mpjve(pred, target, reduction="none")[pairs]
            errors["mpjve"].append(SequenceErrors(errors=v, **group))
    if frames == 0:
        raise ValueError("score_predictions: no valid frame to evaluate")
    tables = {
        p: ActionTable.from_sequences(label, e, by=by, title=_TITLES[p])
        for p, e in errors.items()
        if e
    }
    averages = {p: float(t.rows[0].average) for p, t in tables.items()}
    return EvaluationResult(getattr(dataset, "name", "sequences"), tables, averages, frames)


def evaluate_dataset(
    model: AnatomyModel | TemporalConvNet,
    dataset: Iterable,
    config: EvaluationConfig = EvaluationConfig(),
    label: str = "model",
    progress: bool = True,
    keep_predictions: bool = False,
) -> EvaluationResult:
    """Lift every sequence with 3D ground truth and score it (:func:`score_predictions`).

    Args:
        model: the network.
        dataset: a :class:`~anatomy_lib.data.PoseDataset` (or any iterable of sequences).
        config: protocol settings (flip, length frames, grouping).
        label: row label of the tables.
        progress: show a progress bar over the sequences.
        keep_predictions: keep each sequence's ``(T, J, 3)`` prediction in the result.

    Raises:
        ValueError: no sequence with 3D ground truth, or a skeleton mismatch.
    """
    seqs = _with_3d(dataset, "evaluate_dataset")
    predictions = _predict_all(model, seqs, config, progress, f"evaluating {label}")
    result = score_predictions(seqs, predictions, by=config.by, label=label)
    result.dataset = getattr(dataset, "name", "sequences")
    if keep_predictions:
        result.predictions = [p.cpu() for p in predictions]
    return result


@dataclass
class PCKResult:
    """MPI-INF-3DHP protocol results over all valid frames.

    Attributes:
        pck: percent of joints within 150 mm.
        auc: area under the PCK curve over 0-150 mm, percent.
        mpjpe: millimetres.
        frames: valid frames evaluated.
        per_sequence: ``{"subject/action": {"pck", "auc", "mpjpe"}}``.
    """

    pck: float
    auc: float
    mpjpe: float
    frames: int
    per_sequence: dict[str, dict[str, float]]

    def to_dict(self) -> dict:
        return {"pck": self.pck, "auc": self.auc, "mpjpe": self.mpjpe, "frames": self.frames,
                "per_sequence": self.per_sequence}  # fmt: skip


def score_pck(
    dataset: Iterable, predictions: list[torch.Tensor], joints: tuple[int, ...] | None = None
) -> PCKResult:
    """PCK (150 mm), AUC and MPJPE of given predictions on the valid frames, pooled.

    Args:
        dataset: sequences with 3D ground truth and ``valid`` flags.
        predictions: one ``(T, J, 3)`` prediction (metres) per sequence with 3D.
        joints: joints scored; None: the 14 MPI-INF-3DHP evaluation joints for the
            ``"mpi_inf_3dhp"`` skeleton, all joints otherwise.
    """
    seqs = _with_3d(dataset, "score_pck")
    _check_predictions(seqs, predictions)
    if joints is None and seqs[0].skeleton.name == "mpi_inf_3dhp":
        joints = MPI_INF_3DHP_EVAL_JOINTS
    sums = {"pck": 0.0, "auc": 0.0, "mpjpe": 0.0}
    frames, per_sequence = 0, {}
    for seq, pred in zip(seqs, predictions, strict=True):
        target = _targets(seq).to(pred.device, pred.dtype)
        valid = seq.valid.to(pred.device)
        n = int(valid.sum())
        if n == 0:
            continue
        p, t = pred[valid], target[valid]
        values = {
            "pck": pck(p, t, joints=joints, reduction="none"),
            "auc": auc(p, t, joints=joints, reduction="none"),
            "mpjpe": 1000.0 * mpjpe(p, t, joints=joints, reduction="none"),
        }
        per_sequence[f"{seq.subject}/{seq.action}"] = {
            k: float(v.mean()) for k, v in values.items()
        }
        for k, v in values.items():
            sums[k] += float(v.detach().cpu().double().sum())
        frames += n
    if frames == 0:
        raise ValueError("score_pck: no valid frame with 3D ground truth")
    return PCKResult(
        sums["pck"] / frames, sums["auc"] / frames, sums["mpjpe"] / frames, frames, per_sequence
    )


def evaluate_pck(
    model: AnatomyModel | TemporalConvNet,
    dataset: Iterable,
    config: EvaluationConfig = EvaluationConfig(),
    joints: tuple[int, ...] | None = None,
    progress: bool = True,
) -> PCKResult:
    """Lift every sequence and score it with :func:`score_pck` (MPI-INF-3DHP protocol)."""
    seqs = _with_3d(dataset, "evaluate_pck")
    return score_pck(seqs, _predict_all(model, seqs, config, progress, "evaluating PCK"), joints)
