"""Anatomical joint-angle limits for the Human3.6M-17 skeleton, from the Rajagopal model.

The ranges of motion come from the coordinate ``<range>`` elements of the OpenSim model
``Rajagopal2015.osim`` (Rajagopal A., Dembia C. L., DeMers M. S., Delp D. D., Hicks J. L.,
Delp S. L., "Full-body musculoskeletal model for muscle-driven simulation of human gait",
IEEE Transactions on Biomedical Engineering 63(10):2068-2079, 2016), as shipped in the
nimblephysics 0.10.52.1 wheel (``nimblephysics/models/rajagopal_data/``); provenance in
``files/DATA.md``. :data:`RAJAGOPAL_RANGES_DEG` records the numbers (degrees, rounded
from the radians of the file) and :data:`JOINT_LIMITS` says how each is used.

Angles are defined geometrically from the 17 joint positions (see :func:`joint_angles`),
in two body frames (x forward, y to the left, z up):

* **pelvis frame**: y from the right to the left hip, z from the pelvis towards the spine
  joint (made orthogonal to y), x = y x z;
* **thorax frame**: y from the right to the left shoulder, z from the spine to the thorax
  joint (made orthogonal to y), x = y x z.

What 17 joints cannot give, and is left out: axial rotations of the limbs (hip and arm
rotation, forearm pronation/supination: a segment's spin about its own axis does not move
its end points), the ankle, subtalar, toe and wrist angles (no foot or hand points), and
the pelvis's own tilt (the Human3.6M "spine" joint moves with the lumbar spine, so hip
flexion here is measured from the lower trunk, not the bony pelvis). Human3.6M's
"neck/nose" and "head" joints are marker-defined and are not used. The shoulder is not
checked either: Rajagopal's ``arm_flex`` x ``arm_add`` box allows every humerus direction
below the horizontal and above it only near the side (abduction up to 120 deg): even with
the 10 deg margin it rejects 31-45 % of the frames of the DeepMimic cartwheel, crawl, roll,
spin-kick and dance A clips and of the ClimberB clip (raised arms), while adding nothing
below the horizontal.

Where a Rajagopal range is narrower than real motion capture (its upper-body ranges were
set for gait simulation), :data:`JOINT_LIMITS` keeps the Rajagopal value and records the
widened limit used and the measured reason.

Validation on real motion capture (:func:`pass_rates`, the embedded dataset's 21 clips,
8,222 frames, including DeepMimic's cartwheel, backflip, roll and get-ups): with the
default 10 deg margin 99.94 % of the frames pass, every clip at least 98.5 %; with no margin
96.1 %. A knee bent 40 deg backwards, a hyper-extended elbow (arm low) and a thigh pointing
up into the trunk fail (``tests/test_data_joint_limits.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._validation import as_tensor, check_points
from ..skeleton import H36M_17, Skeleton

__all__ = [
    "RAJAGOPAL_RANGES_DEG",
    "JointLimit",
    "JOINT_LIMITS",
    "ANGLE_NAMES",
    "joint_angles",
    "within_limits",
    "limit_violations",
    "broken_limits",
    "pass_rates",
]

# Coordinate ranges of Rajagopal2015.osim (nimblephysics 0.10.52.1), radians in the file,
# here in degrees. Only the coordinates used below and, for the record, those that cannot
# be computed from 17 joints.
RAJAGOPAL_RANGES_DEG: dict[str, tuple[float, float]] = {
    "hip_flexion": (-30.0, 120.0),  # -0.52359878 .. 2.0943951
    "hip_adduction": (-50.0, 30.0),  # -0.87266463 .. 0.52359878 (negative = abduction)
    "hip_rotation": (-40.0, 40.0),  # axial: not computable from joint centres
    "knee_angle": (0.0, 120.0),  # 0 .. 2.0944
    "ankle_angle": (-40.0, 30.0),  # no foot points in Human3.6M-17
    "subtalar_angle": (-20.0, 20.0),  # idem
    "mtp_angle": (-30.0, 30.0),  # idem
    "lumbar_extension": (-90.0, 90.0),  # +-1.57079633
    "lumbar_bending": (-90.0, 90.0),
    "lumbar_rotation": (-90.0, 90.0),
    "arm_flex": (-90.0, 90.0),  # +-1.57079633
    "arm_add": (-120.0, 90.0),  # -2.0943951 .. 1.57079633 (negative = abduction)
    "arm_rot": (-90.0, 90.0),  # axial: not computable from joint centres
    "elbow_flex": (0.0, 150.0),  # 0 .. 2.618
    "pro_sup": (0.0, 90.0),  # axial: not computable
    "wrist_flex": (-70.0, 70.0),  # no hand points
    "wrist_dev": (-25.0, 35.0),  # idem
}


@dataclass(frozen=True)
class JointLimit:
    """One checked angle: its range in degrees and where the range comes from.

    Attributes:
        name: key in the dict returned by :func:`joint_angles`.
        low, high: allowed range in degrees (before the margin of :func:`within_limits`).
        source: the Rajagopal coordinate it corresponds to.
        note: how the geometric angle relates to the coordinate, and any widening.
    """

    name: str
    low: float
    high: float
    source: str
    note: str


def _sided(name: str, low: float, high: float, source: str, note: str) -> tuple[JointLimit, ...]:
    return tuple(
        JointLimit(f"{name}_{side}", low, high, source, note) for side in ("left", "right")
    )


JOINT_LIMITS: tuple[JointLimit, ...] = (
    *_sided(
        "hip_flexion",
        -30.0,
        155.0,
        "hip_flexion",
        "thigh direction in the pelvis frame, angle in the sagittal plane from straight down, "
        "positive forward. WIDENED from 120: the 'pelvis' frame leans with the lumbar spine, "
        "so this angle adds pelvic tilt and lumbar flexion to the hip's; high steps of the "
        "climbing capture reach 160-166",
    ),
    *_sided(
        "hip_abduction",
        -30.0,
        50.0,
        "-hip_adduction",
        "asin of the thigh's outward component in the pelvis frame (abduction positive)",
    ),
    *_sided(
        "knee_flexion",
        0.0,
        155.0,
        "knee_angle",
        "WIDENED from 120 (a gait-simulation bound; deep squats and get-ups of the capture "
        "reach 160 between joint centres). Angle between thigh and shank; negative when the "
        "shank bends forward "
        "(hyper-extension), the side judged with the knee axis = the pelvis's left-right "
        "axis carried along with the thigh by the smallest rotation (no hip rotation)",
    ),
    *_sided(
        "elbow_flexion",
        0.0,
        150.0,
        "elbow_flex",
        "angle between upper arm and forearm; negative when the forearm bends backwards: "
        "judged only with the upper arm below 60 deg of elevation, against the thorax's "
        "forward axis carried along with the upper arm by the smallest rotation, with 20 deg "
        "of slack for the unseen humeral spin (elsewhere counted as flexion)",
    ),
    JointLimit(
        "trunk_flexion",
        -90.0,
        90.0,
        "lumbar_extension (sign flipped)",
        "tilt of the thorax frame's up axis forward in the pelvis frame",
    ),
    JointLimit(
        "trunk_bending",
        -90.0,
        90.0,
        "lumbar_bending",
        "tilt of the thorax frame's up axis to the left in the pelvis frame",
    ),
    JointLimit(
        "trunk_twist",
        -90.0,
        90.0,
        "lumbar_rotation",
        "rotation of the shoulder line about the pelvis's up axis (to the left positive)",
    ),
)
"""The checked angles and their ranges, degrees."""

ANGLE_NAMES: tuple[str, ...] = tuple(lim.name for lim in JOINT_LIMITS)
"""Keys of :func:`joint_angles`, in the order of :data:`JOINT_LIMITS`."""

_EPS = 1e-9
_ELBOW_MAX_ELEVATION_DEG = 60.0
_ELBOW_SLACK_DEG = 20.0


def _check_skeleton(skeleton: Skeleton) -> None:
    if skeleton != H36M_17:
        raise ValueError(
            f"joint limits are defined for the Human3.6M-17 skeleton, got {skeleton!r}"
        )


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(_EPS)


def _frame(left: torch.Tensor, right: torch.Tensor, low: torch.Tensor, up: torch.Tensor):
    """Rows x (forward), y (left), z (up) of a body frame, ``(..., 3, 3)``."""
    y = _unit(left - right)
    z = up - low
    z = _unit(z - (z * y).sum(-1, keepdim=True) * y)
    x = torch.linalg.cross(y, z, dim=-1)
    return torch.stack((x, y, z), dim=-2)


def _local(frame: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``v (..., 3)`` in the frame's coordinates."""
    return (frame * v.unsqueeze(-2)).sum(-1)


def _carry(b: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate ``v`` by the smallest rotation taking (0, 0, -1) to the unit vector ``b``."""
    a = torch.zeros_like(b)
    a[..., 2] = -1.0
    c = (a * b).sum(-1, keepdim=True)
    w = torch.linalg.cross(a, b, dim=-1)
    wv = torch.linalg.cross(w, v.expand_as(w), dim=-1)
    return c * v + wv + w * (w * v).sum(-1, keepdim=True) / (1.0 + c).clamp_min(1e-6)


def _signed_hinge(
    proximal: torch.Tensor,
    distal: torch.Tensor,
    bend: torch.Tensor,
    slack: float,
    valid: torch.Tensor | None,
) -> torch.Tensor:
    """Angle between two unit segments, negative when ``distal`` bends against ``bend``.

    "Against" means the part of ``distal`` across ``proximal`` points away from the unit
    ``bend`` by more than ``90 deg + asin(slack)``; ``valid`` masks where that is judged.
    """
    cos = (proximal * distal).sum(-1)
    across = torch.linalg.cross(proximal, distal, dim=-1).norm(dim=-1)
    mag = torch.atan2(across, cos)
    backwards = (distal * bend).sum(-1) < -slack * across
    if valid is not None:
        backwards = backwards & valid
    return torch.where(backwards, -mag, mag)


def joint_angles(joints: torch.Tensor, skeleton: Skeleton = H36M_17) -> dict[str, torch.Tensor]:
    """Anatomical joint angles of Human3.6M-17 poses, radians.

    Args:
        joints: ``(..., 17, 3)`` joint positions in metres (any frame, any units of length:
            the angles are invariant to rotation, translation and scale).
        skeleton: must be :data:`~anatomy_lib.skeleton.H36M_17`.

    Returns:
        ``{name: (...)}`` for every name of :data:`ANGLE_NAMES` (see :data:`JOINT_LIMITS`
        for each definition), same device and dtype as ``joints``.
    """
    _check_skeleton(skeleton)
    joints = check_points(as_tensor(joints, "joints"), 17, 3, name="joints")
    j = joints.unbind(-2)
    pelvis = _frame(j[4], j[1], j[0], j[7])
    thorax = _frame(j[11], j[14], j[7], j[8])
    out: dict[str, torch.Tensor] = {}
    ex = torch.zeros_like(j[0])
    ex[..., 0] = 1.0
    ey = torch.zeros_like(j[0])
    ey[..., 1] = 1.0
    sides = {"left": (4, 5, 6, 11, 12, 13, 1.0), "right": (1, 2, 3, 14, 15, 16, -1.0)}
    for side, (hip, knee, ankle, sho, elb, wri, sign) in sides.items():
        thigh = _unit(_local(pelvis, j[knee] - j[hip]))
        shank = _unit(_local(pelvis, j[ankle] - j[knee]))
        out[f"hip_flexion_{side}"] = torch.atan2(thigh[..., 0], -thigh[..., 2])
        out[f"hip_abduction_{side}"] = torch.asin((sign * thigh[..., 1]).clamp(-1.0, 1.0))
        # Knee axis with no hip rotation (flexion, then abduction): the pelvis's left axis
        # made orthogonal to the thigh. Flexion sends the shank backwards: axis x thigh.
        axis = _unit(ey - (ey * thigh).sum(-1, keepdim=True) * thigh)
        bend = torch.linalg.cross(axis, thigh, dim=-1)
        out[f"knee_flexion_{side}"] = _signed_hinge(thigh, shank, bend, 0.0, None)
        upper = _unit(_local(thorax, j[elb] - j[sho]))
        fore = _unit(_local(thorax, j[wri] - j[elb]))
        forward = _carry(upper, ex)
        # The humerus spins up to ~90 deg either way and its spin is unseen, so the side of
        # the bend is judged only with the upper arm low (elevation < 60 deg, where the
        # carried axis is reliable) and only when the forearm points clearly backwards.
        decidable = -upper[..., 2] > math.cos(math.radians(_ELBOW_MAX_ELEVATION_DEG))
        out[f"elbow_flexion_{side}"] = _signed_hinge(
            upper, fore, forward, math.sin(math.radians(_ELBOW_SLACK_DEG)), decidable
        )
    upper_axis = thorax[..., 2, :]
    up = _local(pelvis, upper_axis)
    out["trunk_flexion"] = torch.atan2(up[..., 0], up[..., 2])
    out["trunk_bending"] = torch.asin(up[..., 1].clamp(-1.0, 1.0))
    lat = _local(pelvis, thorax[..., 1, :])
    out["trunk_twist"] = torch.atan2(-lat[..., 0], lat[..., 1])
    return {name: out[name] for name in ANGLE_NAMES}


def limit_violations(
    joints: torch.Tensor, margin_deg: float = 10.0, skeleton: Skeleton = H36M_17
) -> dict[str, torch.Tensor]:
    """By how much each angle leaves its range, degrees (0 inside).

    Args:
        joints: ``(..., 17, 3)`` joints.
        margin_deg: tolerance added on both sides of every range.

    Returns:
        ``{name: (...)}``, positive where the angle is outside ``[low - margin, high + margin]``.
    """
    if not math.isfinite(margin_deg) or margin_deg < 0:
        raise ValueError(f"margin_deg: expected a finite number >= 0, got {margin_deg!r}")
    angles = joint_angles(joints, skeleton)
    out = {}
    for lim in JOINT_LIMITS:
        deg = torch.rad2deg(angles[lim.name])
        below = (lim.low - margin_deg) - deg
        above = deg - (lim.high + margin_deg)
        out[lim.name] = torch.clamp(torch.maximum(below, above), min=0.0)
    return out


def within_limits(
    joints: torch.Tensor, margin_deg: float = 10.0, skeleton: Skeleton = H36M_17
) -> torch.Tensor:
    """Whether every checked angle lies inside its range widened by ``margin_deg``.

    Args:
        joints: ``(..., 17, 3)`` joints in metres.
        margin_deg: tolerance in degrees on both sides of every range.

    Returns:
        ``(...)`` bool tensor, True for anatomically plausible poses.
    """
    viol = limit_violations(joints, margin_deg, skeleton)
    return torch.stack(list(viol.values()), dim=-1).le(0).all(dim=-1)


def broken_limits(
    joints: torch.Tensor, margin_deg: float = 10.0, skeleton: Skeleton = H36M_17
) -> list[list[str]] | list[str]:
    """Names of the limits each pose breaks, for debugging and figures.

    Args:
        joints: ``(17, 3)`` one pose, or ``(N, 17, 3)`` a batch.

    Returns:
        For one pose a list of ``"name (angle deg, range [low, high])"`` strings; for a batch
        one such list per pose (empty for poses within limits).
    """
    joints = as_tensor(joints, "joints")
    single = joints.dim() == 2
    batch = joints.unsqueeze(0) if single else joints
    if batch.dim() != 3:
        raise ValueError(f"joints: expected (17, 3) or (N, 17, 3), got {tuple(joints.shape)}")
    viol = limit_violations(batch, margin_deg, skeleton)
    angles = joint_angles(batch, skeleton)
    result: list[list[str]] = []
    for i in range(batch.shape[0]):
        row = []
        for lim in JOINT_LIMITS:
            if viol[lim.name][i].item() > 0:
                deg = math.degrees(angles[lim.name][i].item())
                row.append(f"{lim.name} ({deg:.0f} deg, range [{lim.low:g}, {lim.high:g}])")
        result.append(row)
    return result[0] if single else result


def pass_rates(dataset=None, margin_deg: float = 10.0) -> dict[str, float]:
    """Fraction of frames within limits for each clip (subject/action) of a dataset.

    Args:
        dataset: a :class:`~anatomy_lib.data.sequences.PoseDataset` (the embedded one by
            default); each clip is counted once, whatever the number of cameras.
        margin_deg: as in :func:`within_limits`.

    Returns:
        ``{"subject/action": fraction}`` plus ``"all"`` over every frame.
    """
    if dataset is None:
        from .embedded import load_default_dataset

        dataset = load_default_dataset()
    out: dict[str, float] = {}
    total = passed = 0
    for seq in dataset.sequences:
        key = f"{seq.subject}/{seq.action}"
        joints = seq.joints_world if seq.joints_world is not None else seq.joints_3d
        if key in out or joints is None:
            continue
        ok = within_limits(joints, margin_deg, seq.skeleton)
        out[key] = round(ok.double().mean().item(), 4)
        total += ok.numel()
        passed += int(ok.sum())
    out["all"] = round(passed / max(total, 1), 4)
    return out
