"""Batched 2D detector error models for the training-data engine.

:func:`simulate_detector` turns the exact projections of ``N`` synthetic videos into what a
2D keypoint detector would report, with the failure modes seen in practice:

* **jitter**: white noise per frame, larger on occluded joints;
* **drift**: slow, temporally correlated error (an AR(1) process per joint);
* **outliers**: a gross error on single joint-frames, with a lowered score;
* **left/right swaps**: for a few frames the detector labels a left limb as the right one
  and vice versa (a classic failure of bottom-up detectors on side views);
* **missing keypoints**: not reported at all (score 0); their position is filled by linear
  interpolation over time, as the video pipeline does before lifting;
* **scores**: a confidence that follows the geometric visibility (self-occlusion from
  the capsule body model of :mod:`anatomy_lib.data.simulate`, and leaving the frame).

Errors scale with the person's height in the image, in units of ``person_px / 500``
(a detector's error grows with the person's size in pixels, not with the image size).

By default an occluded joint's *jitter* is larger (``occluded_factor`` at visibility 0).
``occluded_noise="all"`` scales its whole error, drift included, by that factor: with the
error sizes measured on real MediaPipe, whose drift dwarfs its jitter, only then does a low
score still mean a less accurate keypoint, as it does for the real detector (session 30).

By default every joint is equally noisy. ``joint_noise="coco_spread"`` scales each joint's
jitter and drift by how widely people place that keypoint (:data:`KEYPOINT_SPREAD`, the
per-keypoint constants of COCO's keypoint evaluation): a hip is about four times as uncertain
as the nose. The factors have root-mean-square 1 over the skeleton's joints, so the total
noise is the same (:func:`joint_noise_scale`).

:func:`second_difference_jitter` measures the frame-to-frame noise of any detections, real or
simulated, in the same unit, so the families' ``jitter`` can be checked against a real
detector on a video that is not a test set (``benchmarks/detector_jitter.py``).

Two families, :meth:`DetectorErrorConfig.openpose_like` and
:meth:`DetectorErrorConfig.mediapipe_like`, differ in how noisy, how often swapped and how
their scores are spread. Every number is an assumption stated in its field's docstring,
with ranges drawn per video (domain randomisation); none was fitted to a test set
(the Pose2Sim trial and the embedded test split are only ever reported).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

import torch

from .._validation import check_points
from ..camera import project_with_intrinsics
from ..skeleton import Skeleton
from ._random import uniform
from .simulate import BodyVolume, in_frame_visibility, occlusion_visibility

__all__ = [
    "DetectorErrorConfig",
    "DetectorOutput",
    "JitterEstimate",
    "JOINT_NOISE",
    "DETECTOR_ERRORS",
    "CALIBRATED_ERRORS",
    "VALIDATION_PERSON_ERRORS",
    "ERROR_SIZES",
    "FAMILY_COPIES",
    "JointNoise",
    "OCCLUDED_NOISE",
    "OccludedNoise",
    "KEYPOINT_SPREAD",
    "joint_noise_scale",
    "projected_height",
    "simulate_detector",
    "interpolate_missing",
    "second_difference_jitter",
]

Range = tuple[float, float]

#: How each joint's jitter and drift are scaled (:func:`joint_noise_scale`).
JointNoise = Literal["uniform", "coco_spread"]
JOINT_NOISE: tuple[str, ...] = get_args(JointNoise)
#: What an occluded joint's ``occluded_factor`` multiplies: ``"jitter"`` (the white noise
#: only) or ``"all"`` (drift and jitter).
OccludedNoise = Literal["jitter", "all"]
OCCLUDED_NOISE: tuple[str, ...] = get_args(OccludedNoise)
#: ``"assumed"``: the families' own error sizes; ``"calibrated"``: :data:`CALIBRATED_ERRORS`;
#: ``"validation_person"``: :data:`VALIDATION_PERSON_ERRORS`; ``"validation_person_half"``:
#: half the videos each (every family twice, with its own sizes and with the validation
#: person's).
DetectorErrors = Literal["assumed", "calibrated", "validation_person", "validation_person_half"]
DETECTOR_ERRORS: tuple[str, ...] = get_args(DetectorErrors)

#: Error sizes fitted (session 19) to real MediaPipe on both people of Pose2Sim's two-person
#: demo (:mod:`anatomy_lib.data.pose2sim_multiperson`; ``benchmarks/detector_calibration.py
#: --people all``), before its person 1 was found to be the test trial's performer: so they
#: are partly fitted on test frames, and no shipped model uses them. On the validation person
#: alone the real error is median 7.3 / mean 9.8 / 90th percentile 19.9, smaller than these
#: sizes give. The detections' distance to the projection of the trial's triangulated
#: reference, limb joints, ``person_px / 500``, was median 9.0 / mean 15.8 / 90th percentile
#: 31.3 with both people, against 5.8 / 7.1 / 13.3 for ``mediapipe_like`` on
#: the engine's validation videos, while the real detector is *less* jittery (1.2-1.8 on the
#: Sports2D video against 2.4): its error is mostly slow, per-view bias. So: less white
#: noise, a much larger and slower drift (0.99-0.998 per 50 Hz frame, 2-10 s), more gross
#: errors. With these the engine gives 9.6 / 13.4 / 28.9 and a jitter of 1.6.
CALIBRATED_ERRORS: dict[str, tuple[float, float]] = {
    "jitter": (0.4, 1.5),
    "drift": (1.0, 20.0),
    "drift_correlation": (0.99, 0.998),
    "outlier_probability": (0.0, 0.01),
}

#: Error sizes refitted (session 23) on the validation person alone (person 2 of the same
#: demo; ``benchmarks/detector_calibration.py``): her real MediaPipe limb errors are median
#: 7.3 / mean 9.8 / 90th percentile 19.9 units; :data:`CALIBRATED_ERRORS` with a drift of
#: 2-13 instead of 1-20 units gives the engine's MediaPipe-like family 7.5 / 9.8 / 19.5
#: (``anatomy_lib/results/default_model_session23.json``, the drifts tried).
VALIDATION_PERSON_ERRORS: dict[str, tuple[float, float]] = {
    **CALIBRATED_ERRORS,
    "drift": (2.0, 13.0),
}

#: The error sizes of each single-size :data:`DETECTOR_ERRORS` setting but ``"assumed"``.
ERROR_SIZES: dict[str, dict[str, tuple[float, float]]] = {
    "calibrated": CALIBRATED_ERRORS,
    "validation_person": VALIDATION_PERSON_ERRORS,
}

#: The copies of every detector family that each :data:`DETECTOR_ERRORS` setting trains on,
#: by their :data:`ERROR_SIZES` key (``None``: the family's own sizes); a video draws one copy
#: of one family uniformly, so ``"validation_person_half"`` gives half the videos each.
FAMILY_COPIES: dict[str, tuple[str | None, ...]] = {
    "assumed": (None,),
    "calibrated": ("calibrated",),
    "validation_person": ("validation_person",),
    "validation_person_half": (None, "validation_person"),
}

#: Per-keypoint spread of where people place a keypoint, relative to the person's scale:
#: the constants sigma_i of COCO's keypoint evaluation (object keypoint similarity; Lin et
#: al. 2014, the COCO keypoint evaluation page and ``cocoapi``'s ``COCOeval``: nose 0.026,
#: eyes 0.025, ears 0.035, shoulders 0.079, elbows 0.072, wrists 0.062, hips 0.107, knees
#: 0.087, ankles 0.089), keyed by this library's joint names. Joints without a COCO keypoint
#: take their nearest: the pelvis the hips, the thorax the shoulders (both midpoints of a
#: COCO pair), the spine the mean of hip and shoulder, the head the ears.
KEYPOINT_SPREAD: dict[str, float] = {
    "pelvis": 0.107,
    "right_hip": 0.107,
    "left_hip": 0.107,
    "right_knee": 0.087,
    "left_knee": 0.087,
    "right_ankle": 0.089,
    "left_ankle": 0.089,
    "spine": 0.093,
    "thorax": 0.079,
    "neck_nose": 0.026,
    "head": 0.035,
    "right_shoulder": 0.079,
    "left_shoulder": 0.079,
    "right_elbow": 0.072,
    "left_elbow": 0.072,
    "right_wrist": 0.062,
    "left_wrist": 0.062,
}


def joint_noise_scale(skeleton: Skeleton, joint_noise: str = "uniform") -> torch.Tensor:
    """``(J,)`` factors on each joint's detector noise.

    ``"uniform"``: all ones. ``"coco_spread"``: :data:`KEYPOINT_SPREAD` of each joint,
    divided by their root-mean-square over the skeleton's joints (so the factors' mean
    square is 1 and the total noise is that of ``"uniform"``).
    """
    if joint_noise not in JOINT_NOISE:
        raise ValueError(f"joint_noise: expected one of {JOINT_NOISE}, got {joint_noise!r}")
    if joint_noise == "uniform":
        return torch.ones(skeleton.num_joints, dtype=torch.float64)
    unknown = [n for n in skeleton.joint_names if n not in KEYPOINT_SPREAD]
    if unknown:
        raise ValueError(
            f"joint_noise='coco_spread': expected joints named as in KEYPOINT_SPREAD, "
            f"got joints without a spread: {unknown}"
        )
    spread = torch.tensor([KEYPOINT_SPREAD[n] for n in skeleton.joint_names], dtype=torch.float64)
    return spread / spread.square().mean().sqrt()


@dataclass(frozen=True)
class DetectorErrorConfig:
    """Error model of one detector family; each range is drawn uniformly per video.

    Pixel amounts are in units of ``person_px / 500`` (the person's standing height in
    the image over 500 pixels).

    Attributes:
        name: family name.
        jitter: white-noise std of a visible joint (~1-2 % of a limb at 500 px).
        drift: stationary std of the slow AR(1) error.
        drift_correlation: AR(1) coefficient per frame at 50 Hz (0.9 ~ 0.2 s, 0.98 ~ 1 s).
        occluded_factor: noise multiplier at visibility 0 (linear in between).
        occluded_noise: what it multiplies: ``"jitter"`` (the white noise only) or ``"all"``
            (the drift too, so that an occluded joint is less accurate however the error
            is split between drift and jitter).
        outlier_probability: chance of a gross error per joint and frame.
        outlier_std: std of a gross error.
        swap_probability: chance that a video has a run of left/right swapped limbs.
        swap_frames: length range of such a run, frames.
        missing_probability: chance that a joint is not reported in a frame, at any
            visibility; below ``missing_below_visibility`` it rises to ``missing_occluded``.
        missing_below_visibility, missing_occluded: see above.
        score_visible, score_occluded: mean confidence at visibility 1 and 0.
        score_noise: std of the per-frame score noise.
        joint_noise: ``"uniform"`` (every joint as noisy) or ``"coco_spread"`` (jitter
            and drift scaled per joint by :func:`joint_noise_scale`).
    """

    name: str = "openpose"
    jitter: Range = (1.5, 5.0)
    drift: Range = (1.0, 6.0)
    drift_correlation: Range = (0.85, 0.98)
    occluded_factor: float = 3.0
    outlier_probability: Range = (0.0, 0.02)
    outlier_std: float = 60.0
    swap_probability: float = 0.15
    swap_frames: tuple[int, int] = (2, 15)
    missing_probability: Range = (0.0, 0.02)
    missing_below_visibility: float = 0.25
    missing_occluded: float = 0.4
    score_visible: Range = (0.75, 0.92)
    score_occluded: Range = (0.2, 0.45)
    score_noise: float = 0.07
    joint_noise: JointNoise = "uniform"
    occluded_noise: OccludedNoise = "jitter"

    def __post_init__(self) -> None:
        if self.joint_noise not in JOINT_NOISE:
            raise ValueError(
                f"DetectorErrorConfig.joint_noise: expected one of {JOINT_NOISE}, "
                f"got {self.joint_noise!r}"
            )
        if self.occluded_noise not in OCCLUDED_NOISE:
            raise ValueError(
                f"DetectorErrorConfig.occluded_noise: expected one of {OCCLUDED_NOISE}, "
                f"got {self.occluded_noise!r}"
            )

    def with_error_sizes(self, sizes: str) -> DetectorErrorConfig:
        """This family with the error sizes ``ERROR_SIZES[sizes]`` (its swaps, missing
        keypoints and scores kept). Measured on MediaPipe; applied to the OpenPose-like family
        too as an assumption (no real OpenPose outside the test trial).

        Raises:
            ValueError: ``sizes`` not a key of :data:`ERROR_SIZES`.
        """
        if sizes not in ERROR_SIZES:
            raise ValueError(f"sizes: expected one of {tuple(ERROR_SIZES)}, got {sizes!r}")
        return dataclasses.replace(self, **ERROR_SIZES[sizes])

    @classmethod
    def openpose_like(cls) -> DetectorErrorConfig:
        """Bottom-up detector (OpenPose BODY_25-style): noisier, swaps, spread-out scores."""
        return cls()

    @classmethod
    def mediapipe_like(cls) -> DetectorErrorConfig:
        """Top-down tracker (MediaPipe Pose-style): smoother, rarer swaps, scores near 1
        for visible joints (its ``visibility`` output), more temporal drift.

        Frame to frame it is noisier than the real MediaPipe on the Sports2D video (hips and
        shoulders: median 2.4 units over the validation clips against 1.2-1.8 measured;
        ``benchmarks/detector_jitter.py``): it errs on the noisy side. Its scores are lower
        too (median 0.90 on the limb joints against the real visibility's 0.97-0.99)."""
        return cls(
            name="mediapipe",
            jitter=(0.8, 3.0),
            drift=(1.5, 8.0),
            drift_correlation=(0.9, 0.99),
            outlier_probability=(0.0, 0.005),
            swap_probability=0.05,
            missing_probability=(0.0, 0.005),
            missing_occluded=0.1,
            score_visible=(0.85, 0.99),
            score_occluded=(0.05, 0.5),
            score_noise=0.05,
        )

    @classmethod
    def clean(cls) -> DetectorErrorConfig:
        """Exact projections, no failures; scores still follow visibility."""
        return cls(
            name="clean",
            jitter=(0.0, 0.0),
            drift=(0.0, 0.0),
            outlier_probability=(0.0, 0.0),
            swap_probability=0.0,
            missing_probability=(0.0, 0.0),
            missing_occluded=0.0,
            score_noise=0.0,
        )


class DetectorOutput(NamedTuple):
    """Simulated detections of ``N`` videos of ``T`` frames, ``J`` joints."""

    pixels: torch.Tensor  # (N, T, J, 2) reported positions (missing ones interpolated)
    scores: torch.Tensor  # (N, T, J) confidence in [0, 1], 0 where missing
    visibility: torch.Tensor  # (N, T, J) geometric visibility (occlusion x in-frame)
    missing: torch.Tensor  # (N, T, J) bool, keypoints the detector did not report
    swapped: torch.Tensor  # (N, T) bool, frames with left/right swapped limbs


def interpolate_missing(values: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
    """Fill missing entries linearly over time from the nearest reported ones.

    Before the first and after the last reported frame the nearest one is held; an
    entry with no reported frame at all keeps its value.

    Args:
        values: ``(..., T, C)``.
        missing: ``(..., T)`` bool.

    Returns:
        ``(..., T, C)`` with missing entries replaced.
    """
    t = values.shape[-2]
    frame = torch.arange(t, device=values.device).expand(missing.shape)
    seen = ~missing
    prev = torch.where(seen, frame, -1).cummax(-1).values
    nxt = torch.where(seen, frame, t).flip(-1).cummin(-1).values.flip(-1)
    has_prev, has_next = prev >= 0, nxt < t
    prev_i = torch.where(has_prev, prev, nxt).clamp(0, t - 1)
    next_i = torch.where(has_next, nxt, prev_i).clamp(0, t - 1)
    span = (next_i - prev_i).clamp_min(1).to(values.dtype)
    w = ((frame - prev_i).to(values.dtype) / span).clamp(0, 1).unsqueeze(-1)
    a = values.gather(-2, prev_i.unsqueeze(-1).expand(values.shape))
    b = values.gather(-2, next_i.unsqueeze(-1).expand(values.shape))
    filled = a + w * (b - a)
    return torch.where(missing.unsqueeze(-1), filled, values)


def _swap_runs(
    n: int, t: int, cfg: DetectorErrorConfig, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, T)`` bool mask of swapped frames and ``(N,)`` which limbs: 0 legs, 1 arms, 2 all."""
    has = torch.rand(n, generator=g) < cfg.swap_probability
    lo, hi = cfg.swap_frames
    length = torch.randint(lo, hi + 1, (n,), generator=g)
    start = (torch.rand(n, generator=g) * (t - length).clamp_min(0)).long()
    frame = torch.arange(t)
    mask = (frame >= start[:, None]) & (frame < (start + length)[:, None]) & has[:, None]
    return mask, torch.randint(3, (n,), generator=g)


def _swap_permutations(skeleton: Skeleton) -> torch.Tensor:
    """``(3, J)`` joint permutations that swap the legs, the arms, or every left/right pair."""
    j = skeleton.num_joints
    perms = torch.arange(j).repeat(3, 1)
    names = skeleton.joint_names
    for left, right in zip(skeleton.joints_left, skeleton.joints_right, strict=True):
        is_leg = any(k in names[left] for k in ("hip", "knee", "ankle", "foot"))
        for row in (0 if is_leg else 1, 2):
            perms[row, left], perms[row, right] = right, left
    return perms


def projected_height(keypoints: torch.Tensor) -> torch.Tensor:
    """``(...)`` a person's height in the image: the median over frames of the vertical
    extent of ``(..., T, J, 2)`` keypoints, pixels (frames with a NaN left out). ``/ 500`` it
    is the unit of :class:`DetectorErrorConfig`'s amounts."""
    extent = keypoints[..., 1].amax(-1) - keypoints[..., 1].amin(-1)
    return extent.nanmedian(-1).values


def simulate_detector(
    joints_cam: torch.Tensor,
    intrinsics: torch.Tensor,
    width: torch.Tensor,
    height: torch.Tensor,
    skeleton: Skeleton,
    volume: BodyVolume,
    config: DetectorErrorConfig,
    generator: torch.Generator,
    person_px: torch.Tensor | None = None,
) -> DetectorOutput:
    """Detections of ``N`` videos seen by their own cameras.

    Args:
        joints_cam: ``(N, T, J, 3)`` camera-space joints, metres, ``Z > 0``.
        intrinsics: ``(N, 9)`` pixel intrinsics (``fx fy cx cy k1 k2 k3 p1 p2``).
        width, height: ``(N,)`` image sizes in pixels.
        skeleton: the joint tree (for the left/right swaps).
        volume: body capsules for the self-occlusion.
        config: the detector family.
        generator: seeded CPU generator.
        person_px: ``(N,)`` the person's height in the image (sets the error unit);
            default :func:`projected_height` of the exact projections.

    Returns:
        :class:`DetectorOutput`.
    """
    check_points(joints_cam, skeleton.num_joints, coords=3, name="camera-space joints")
    if joints_cam.dim() != 4:
        raise ValueError(
            f"camera-space joints: expected (N, T, J, 3), got {tuple(joints_cam.shape)}"
        )
    n, t, j, _ = joints_cam.shape
    g, dtype = generator, joints_cam.dtype

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=torch.float64).to(dtype)

    clean = project_with_intrinsics(joints_cam, intrinsics[:, None])
    w = width.to(dtype)[:, None, None]
    h = height.to(dtype)[:, None, None]
    vis = occlusion_visibility(joints_cam, volume) * in_frame_visibility(clean, w, h)
    if person_px is None:
        person_px = projected_height(clean).clamp_min(20.0)
    unit = (person_px / 500.0).reshape(n, 1, 1, 1)

    jitter = uniform(config.jitter, n, g, dtype).reshape(n, 1, 1, 1)
    drift_std = uniform(config.drift, n, g, dtype).reshape(n, 1, 1)
    rho = uniform(config.drift_correlation, n, g, dtype).reshape(n, 1, 1)
    innovation = randn(n, t, j, 2) * (drift_std * (1 - rho**2).sqrt()).unsqueeze(1)
    drift = torch.empty(n, t, j, 2, dtype=dtype)
    drift[:, 0] = randn(n, j, 2) * drift_std
    for k in range(1, t):
        drift[:, k] = rho * drift[:, k - 1] + innovation[:, k]
    occluded = 1 + (config.occluded_factor - 1) * (1 - vis)
    white = randn(n, t, j, 2) * jitter
    if config.occluded_noise == "all":
        noise = (drift + white) * occluded.unsqueeze(-1)
    else:
        noise = drift + white * occluded.unsqueeze(-1)
    noise = noise * joint_noise_scale(skeleton, config.joint_noise).to(dtype)[:, None]  # ones
    outlier_p = uniform(config.outlier_probability, n, g, dtype).reshape(n, 1, 1)
    outliers = rand(n, t, j) < outlier_p
    noise = noise + randn(n, t, j, 2) * config.outlier_std * outliers.unsqueeze(-1)
    pixels = clean + unit * noise

    swapped, which = _swap_runs(n, t, config, g)
    perm = _swap_permutations(skeleton)[which]  # (N, J)
    swapped_pixels = pixels.gather(2, perm[:, None, :, None].expand(n, t, j, 2))
    pixels = torch.where(swapped[..., None, None], swapped_pixels, pixels)

    s_vis = uniform(config.score_visible, n, g, dtype).reshape(n, 1, 1)
    s_occ = uniform(config.score_occluded, n, g, dtype).reshape(n, 1, 1)
    scores = s_occ + (s_vis - s_occ) * vis + randn(n, t, j) * config.score_noise
    scores = torch.where(outliers, scores * (0.2 + 0.4 * rand(n, t, j)), scores)
    scores = torch.where(swapped[..., None], scores * (0.5 + 0.4 * rand(n, t, 1)), scores)

    miss_p = uniform(config.missing_probability, n, g, dtype).reshape(n, 1, 1)
    miss_p = torch.where(
        vis < config.missing_below_visibility, miss_p.clamp_min(config.missing_occluded), miss_p
    )
    missing = rand(n, t, j) < miss_p
    all_missing = missing.all(1, keepdim=True)  # never drop a joint for the whole video
    missing = missing & ~all_missing
    pixels = interpolate_missing(pixels.transpose(1, 2), missing.transpose(1, 2)).transpose(1, 2)
    scores = torch.where(missing, torch.zeros_like(scores), scores.clamp(0, 1))
    return DetectorOutput(pixels, scores, vis, missing, swapped)


class JitterEstimate(NamedTuple):
    """Frame-to-frame detector noise of ``...`` tracks (:func:`second_difference_jitter`)."""

    jitter: torch.Tensor  # (...,) in the caller's unit; NaN where no sample was usable
    samples: torch.Tensor  # (...,) int64, second differences used (x and y counted apart)


def second_difference_jitter(
    keypoints: torch.Tensor,
    scores: torch.Tensor,
    unit: torch.Tensor | float = 1.0,
    min_score: float = 0.5,
) -> JitterEstimate:
    """Robust standard deviation of a track's white noise, from its second differences.

    For keypoints ``x_t = m_t + e_t`` with ``e_t`` white noise of standard deviation sigma,
    the second difference ``x_{t+1} - 2 x_t + x_{t-1}`` has standard deviation
    ``sqrt(6) sigma`` plus the motion's own acceleration (small for a slow joint at video
    frame rates) and a slow drift's (``2 (1 - rho)(3 - rho)`` of its variance, ~0.1-0.4 for
    an AR(1) with rho 0.9-0.98). The estimate is ``1.4826 MAD / sqrt(6)`` over every usable
    difference and coordinate (the median absolute deviation, so outliers and swaps barely
    move it): the white-noise sigma of a still joint, an upper bound on it otherwise.

    Args:
        keypoints: ``(..., T, J, 2)`` pixels; NaN where not detected.
        scores: ``(..., T, J)`` confidences; a difference is used when the joint's score is
            at least ``min_score`` in all three frames and all three positions are finite.
        unit: ``(...)`` or a number: pixels per unit (e.g. ``person_px / 500`` as in
            :class:`DetectorErrorConfig`).
        min_score: see ``scores``.

    Returns:
        :class:`JitterEstimate` with ``(...)`` entries.
    """
    if keypoints.dim() < 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"keypoints: expected (..., T, J, 2), got {tuple(keypoints.shape)}")
    if scores.shape != keypoints.shape[:-1]:
        raise ValueError(
            f"scores: expected {tuple(keypoints.shape[:-1])} to match the keypoints, "
            f"got {tuple(scores.shape)}"
        )
    if keypoints.shape[-3] < 3:
        raise ValueError(
            f"keypoints: expected at least 3 frames for a second difference, "
            f"got {keypoints.shape[-3]}"
        )
    unit = torch.as_tensor(unit, dtype=keypoints.dtype, device=keypoints.device)
    diff = keypoints[..., 2:, :, :] - 2 * keypoints[..., 1:-1, :, :] + keypoints[..., :-2, :, :]
    low = scores.unfold(-2, 3, 1).amin(-1)  # (..., T - 2, J): the lowest of the 3 frames
    usable = (low >= min_score) & diff.isfinite().all(-1)
    diff = torch.where(usable[..., None], diff, torch.nan) / unit[..., None, None, None]
    flat = diff.flatten(-3)
    centre = flat.nanmedian(-1, keepdim=True).values
    mad = (flat - centre).abs().nanmedian(-1).values
    return JitterEstimate(1.4826 * mad / math.sqrt(6.0), usable.sum((-2, -1)) * 2)
