"""Real body proportions: ANSUR II adults as Human3.6M-17 bone lengths.

The shipped table ``files/ansur_bone_lengths.npz`` holds the 16 bone lengths of 6,068
measured US Army adults (ANSUR II, 2012, public release; 4,082 men and 1,986 women),
derived from their anthropometric measurements by :data:`BONE_FORMULAS` and written by
:mod:`anatomy_lib.data.build_bodies` (provenance and licence in ``files/DATA.md``).

Each bone length is ``hypot(vertical, lateral)`` where both components are linear
combinations of ANSUR measurements (millimetres) plus a constant offset for the joint
centre. Limb bones follow bony landmarks directly (trochanterion, femoral epicondyle,
malleolus, acromion, radiale, stylion). The trunk, neck and head bones end at joints that
Human3.6M defines by its markers, not by anatomy: their lengths are the ANSUR segment
(hip-joint centre to sternal notch, sternal notch to vertex) split in typical Human3.6M
proportions, so they scale with each body but keep the dataset's definitions.

Check against the real motion capture of the embedded dataset (median length per subject;
the percentile of each within the ANSUR distribution, both sexes; printed by
``python -m anatomy_lib.data.build_bodies --compare``) in ``files/DATA.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import torch

from ..skeleton import H36M_17, Skeleton

__all__ = [
    "BoneFormula",
    "BONE_FORMULAS",
    "BodyTable",
    "BODY_TABLE_FILE",
    "load_body_table",
    "sample_bone_lengths",
    "MarkerJointRanges",
    "MarkerJointDefinitions",
    "marker_joint_definitions",
    "vary_marker_joints",
    "lower_thorax",
    "vary_thorax",
    "shoulders_above_thorax",
]

BODY_TABLE_FILE = "ansur_bone_lengths.npz"


@dataclass(frozen=True)
class BoneFormula:
    """How one bone's length follows from ANSUR II measurements (all in millimetres).

    ``length = hypot(sum(c * m for m, c in vertical) + vertical_offset_mm,
                     sum(c * m for m, c in lateral) + lateral_offset_mm) / 1000`` metres.

    Attributes:
        bone: ``"parent->child"`` as in :attr:`Skeleton.bone_names`.
        vertical, lateral: ``(measurement, coefficient)`` pairs; measurement names are the
            lower-case column names of the ANSUR II CSV files.
        vertical_offset_mm, lateral_offset_mm: constant joint-centre offsets.
        reasoning: the anatomy behind the formula.
    """

    bone: str
    vertical: tuple[tuple[str, float], ...] = ()
    lateral: tuple[tuple[str, float], ...] = ()
    vertical_offset_mm: float = 0.0
    lateral_offset_mm: float = 0.0
    reasoning: str = ""

    @property
    def measurements(self) -> tuple[str, ...]:
        """Every ANSUR column the formula reads."""
        return tuple(dict.fromkeys(m for m, _ in self.vertical + self.lateral))


def _limbs(side: str) -> tuple[BoneFormula, ...]:
    return (
        BoneFormula(
            f"pelvis->{side}_hip",
            lateral=(("bicristalbreadth", 0.324),),
            reasoning="Half the distance between the hip-joint centres: Bell et al. (1990) "
            "place each centre 36 % of the inter-ASIS width lateral of the pelvis mid-point; "
            "the inter-ASIS width is taken as 0.9 x the bony iliac-crest (bicristal) breadth "
            "(0.36 x 0.9 = 0.324). Human3.6M's pelvis joint is the mid-point of the hips.",
        ),
        BoneFormula(
            f"{side}_hip->{side}_knee",
            vertical=(("trochanterionheight", 1.0), ("lateralfemoralepicondyleheight", -1.0)),
            reasoning="Hip-joint centre at the height of the greater trochanter's tip (the "
            "femoral head centre lies level with it); knee centre on the transepicondylar "
            "axis, at the lateral femoral epicondyle's height.",
        ),
        BoneFormula(
            f"{side}_knee->{side}_ankle",
            vertical=(("lateralfemoralepicondyleheight", 1.0), ("lateralmalleolusheight", -1.0)),
            vertical_offset_mm=-5.0,
            reasoning="Knee centre at the femoral epicondyle; ankle centre at the mid-point of "
            "the malleoli, about 5 mm above the lateral malleolus (the medial one sits ~1 cm "
            "higher).",
        ),
        BoneFormula(
            f"thorax->{side}_shoulder",
            vertical=(("suprasternaleheight", 1.0), ("acromialheight", -1.0)),
            vertical_offset_mm=40.0,
            lateral=(("biacromialbreadth", 0.5),),
            lateral_offset_mm=-30.0,
            reasoning="Thorax joint at the sternal notch (suprasternale); glenohumeral centre "
            "about 30 mm medial of and 40 mm below the acromion's tip.",
        ),
        BoneFormula(
            f"{side}_shoulder->{side}_elbow",
            vertical=(("acromionradialelength", 1.0),),
            vertical_offset_mm=-25.0,
            reasoning="Acromion-radiale spans the acromion's tip to the radial head (the "
            "elbow's joint line); the glenohumeral centre lies about one humeral-head radius "
            "(25 mm) below the acromion.",
        ),
        BoneFormula(
            f"{side}_elbow->{side}_wrist",
            vertical=(("radialestylionlength", 1.0),),
            vertical_offset_mm=-10.0,
            reasoning="Radiale-stylion spans the radial head to the radial styloid's tip; the "
            "wrist centre (mid-carpus line) is about 10 mm proximal of the styloid tip.",
        ),
    )


# Typical Human3.6M proportions of the marker-defined trunk, neck and head bones: the mean
# lengths of the training subjects are about pelvis->spine 233, spine->thorax 257,
# thorax->neck/nose 121 and neck/nose->head 115 mm (issue #12 quotes the 121). The trunk
# (hip-joint centre to sternal notch) is split 233 : 257 = 0.475 : 0.525; the neck-and-head
# height above the sternal notch (318 mm for the median ANSUR man) gives 121 / 318 = 0.38
# and 115 / 318 = 0.36.
_TRUNK = (
    BoneFormula(
        "pelvis->spine",
        vertical=(("suprasternaleheight", 0.475), ("trochanterionheight", -0.475)),
        reasoning="Human3.6M's spine joint (mid-back, marker-defined): 47.5 % of the trunk "
        "from the hip-joint centres (trochanterion height) to the sternal notch.",
    ),
    BoneFormula(
        "spine->thorax",
        vertical=(("suprasternaleheight", 0.525), ("trochanterionheight", -0.525)),
        reasoning="The rest (52.5 %) of the same trunk height, up to the thorax joint at the "
        "sternal notch, level with the shoulders.",
    ),
    BoneFormula(
        "thorax->neck_nose",
        vertical=(("stature", 0.38), ("suprasternaleheight", -0.38)),
        reasoning="Marker-defined in Human3.6M (not the nose tip): 38 % of the head-and-neck "
        "height above the sternal notch, the typical Human3.6M proportion.",
    ),
    BoneFormula(
        "neck_nose->head",
        vertical=(("stature", 0.36), ("suprasternaleheight", -0.36)),
        reasoning="Marker-defined in Human3.6M (head centre, below the vertex): 36 % of the "
        "same head-and-neck height.",
    ),
)

_BY_NAME = {f.bone: f for f in (*_limbs("left"), *_limbs("right"), *_TRUNK)}
BONE_FORMULAS: tuple[BoneFormula, ...] = tuple(_BY_NAME[name] for name in H36M_17.bone_names)
"""One formula per bone of :data:`~anatomy_lib.skeleton.H36M_17`, in bone order."""


def bone_lengths_from_measurements(measurements: dict[str, np.ndarray]) -> np.ndarray:
    """Apply :data:`BONE_FORMULAS` to ANSUR columns.

    Args:
        measurements: ``{column: (N,) array in millimetres}``.

    Returns:
        ``(N, 16)`` float64 bone lengths in metres, H36M-17 bone order.
    """
    out = []
    for f in BONE_FORMULAS:
        missing = [m for m in f.measurements if m not in measurements]
        if missing:
            raise KeyError(f"bone {f.bone!r} needs ANSUR columns {missing}")
        v = sum(c * np.asarray(measurements[m], np.float64) for m, c in f.vertical)
        lat = sum(c * np.asarray(measurements[m], np.float64) for m, c in f.lateral)
        out.append(np.hypot(v + f.vertical_offset_mm, lat + f.lateral_offset_mm) / 1000.0)
    return np.stack(out, axis=-1)


@dataclass(frozen=True)
class BodyTable:
    """Measured bodies as bone lengths.

    Attributes:
        bone_lengths: ``(N, 16)`` float32, metres, :data:`H36M_17` bone order.
        stature: ``(N,)`` float32, metres.
        sex: ``(N,)`` int64, 0 = female, 1 = male.
        is_validation: ``(N,)`` bool, the held-out bodies (about 15 %, chosen by a hash of
            the subject id, so the split never changes).
        subject_id: ``(N,)`` int64, ANSUR II subject ids.
        bone_names: names of the 16 bones.
    """

    bone_lengths: torch.Tensor
    stature: torch.Tensor
    sex: torch.Tensor
    is_validation: torch.Tensor
    subject_id: torch.Tensor
    bone_names: tuple[str, ...]

    @property
    def split(self) -> np.ndarray:
        """``(N,)`` strings ``"train"`` / ``"validation"``."""
        return np.where(self.is_validation.numpy(), "validation", "train")

    def __len__(self) -> int:
        return int(self.bone_lengths.shape[0])

    def rows(self, split: str = "train") -> torch.Tensor:
        """Indices of the rows of ``split`` (``"train"``, ``"validation"`` or ``"all"``)."""
        if split == "all":
            return torch.arange(len(self))
        if split == "train":
            return torch.nonzero(~self.is_validation).squeeze(-1)
        if split == "validation":
            return torch.nonzero(self.is_validation).squeeze(-1)
        raise ValueError(f"split: expected 'train', 'validation' or 'all', got {split!r}")


@lru_cache(maxsize=1)
def load_body_table() -> BodyTable:
    """The shipped ANSUR II bone-length table (see the module docstring)."""
    ref = resources.files("anatomy_lib.data") / "files" / BODY_TABLE_FILE
    with resources.as_file(ref) as path, np.load(path) as f:
        names = tuple(str(n) for n in f["bone_names"])
        if names != H36M_17.bone_names:
            raise ValueError(f"{BODY_TABLE_FILE}: bone order {names} is not H36M-17's")
        table = BodyTable(
            bone_lengths=torch.from_numpy(f["bone_lengths"].astype(np.float32)),
            stature=torch.from_numpy(f["stature"].astype(np.float32)),
            sex=torch.from_numpy(f["sex"].astype(np.int64)),
            is_validation=torch.from_numpy(f["is_validation"].astype(bool)),
            subject_id=torch.from_numpy(f["subject_id"].astype(np.int64)),
            bone_names=names,
        )
    for t in (table.bone_lengths, table.stature, table.sex, table.is_validation):
        t.requires_grad_(False)
    return table


def sample_bone_lengths(
    n: int,
    generator: torch.Generator,
    split: str = "train",
    skeleton: Skeleton = H36M_17,
    scale_jitter: float = 0.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Bone lengths of ``n`` bodies drawn with replacement from the measured table.

    Args:
        n: number of bodies.
        generator: the random generator (its device is where the draws happen).
        split: ``"train"`` (default), ``"validation"`` (held-out bodies) or ``"all"``.
        skeleton: must be :data:`H36M_17` (the table is for that skeleton).
        scale_jitter: optional per-bone multiplicative jitter: each length is multiplied by
            ``1 + scale_jitter * u``, ``u ~ U(-1, 1)``; must lie in ``[0, 0.5]``.
        device, dtype: of the result (the generator's device by default).

    Returns:
        ``(n, 16)`` bone lengths in metres, in ``skeleton.bone_names`` order.
    """
    if skeleton != H36M_17:
        raise ValueError(f"the ANSUR body table is for the Human3.6M-17 skeleton, got {skeleton!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n: expected an int >= 0, got {n!r}")
    if not (isinstance(scale_jitter, int | float) and 0.0 <= scale_jitter <= 0.5):
        raise ValueError(f"scale_jitter: expected a number in [0, 0.5], got {scale_jitter!r}")
    if not math.isfinite(scale_jitter):
        raise ValueError(f"scale_jitter: expected a finite number, got {scale_jitter!r}")
    table = load_body_table()
    rows = table.rows(split)
    gen_device = generator.device
    pick = torch.randint(len(rows), (n,), generator=generator, device=gen_device)
    lengths = table.bone_lengths.to(gen_device)[rows.to(gen_device)[pick]].to(torch.float64)
    if scale_jitter > 0:
        u = torch.rand(
            n, skeleton.num_bones, generator=generator, device=gen_device, dtype=torch.float64
        )
        lengths = lengths * (1.0 + scale_jitter * (2.0 * u - 1.0))
    return lengths.to(device=device if device is not None else gen_device, dtype=dtype)


@dataclass(frozen=True)
class MarkerJointRanges:
    """How far the marker-defined joints (spine, neck/nose, head) move between datasets.

    The limbs end at bony landmarks that every dataset agrees on; the spine, neck/nose and
    head joints do not (module docstring). Their definitions in the sources this library
    reads, as measured in ``files/DATA.md`` (median lengths of the motion capture) and set by
    its converters, as *spine fraction* / *neck + head scale* / *neck fraction* (defined
    under Attributes):

    * this table (Human3.6M-like proportions): 0.475 / 1.00 / 0.51;
    * DeepMimic (training): 0.51 / 1.09 / 0.50;
    * the Mixamo climbers (ClimberA, training): 0.56 / 1.17 / 0.56;
    * the keypoint conversions and the Pose2Sim trial: spine at the midpoint, 0.50;
    * the end of CMU's ASF ``upperback`` segment (CMU01): 0.74 / 1.29 / 0.67.

    (CMU01 is an embedded *test* subject; its converter's definition, not any model error
    on it, set the upper ends.) A lifter trained on one definition puts the joints
    where that definition would, whatever the 2D shows; drawing the definition per body
    teaches it to place them where the 2D keypoints say.

    The thorax too is a marker joint. Measured as the height of the shoulders' midpoint
    above the thorax, along the pelvis-thorax line, over the trunk's length
    (:func:`shoulders_above_thorax`, median per source): ClimberA -0.09, the keypoint
    conversions and the Pose2Sim trial -0.08, DeepMimic and the AMP clips +0.04 (the engine
    keeps each clip's bone directions, so its bodies span the same range); the end of CMU's
    ASF ``thorax`` segment (the base of the neck, between the clavicles) +0.17 (CMU01). A
    *thorax drop* ``d`` moves the thorax and the spine joint toward the pelvis by the
    fraction ``d`` of their distance from it (:func:`lower_thorax`), turning a value ``r``
    into ``(r + d) / (1 - d)``; ``d = 0.22`` takes the lowest source (-0.09) to CMU's +0.17.
    It is applied to joint positions (the shoulders, neck/nose and head stay where they
    are), so it is drawn by :func:`vary_thorax`, not :func:`vary_marker_joints`; off by
    default, :meth:`including_thorax` turns it on.

    Attributes:
        spine_fraction: ``pelvis->spine / (pelvis->spine + spine->thorax)``, uniform; the sum
            (the trunk) is kept.
        head_and_neck_scale: factor on ``thorax->neck_nose + neck_nose->head``, uniform.
        neck_fraction: ``thorax->neck_nose`` over that sum, uniform.
        thorax_drop: the thorax drop ``d``, uniform; ``(0, 0)`` (the default) draws nothing.
        thorax_probability: the chance that a body's thorax is lowered at all (the others
            keep ``d = 0``); below 1 it draws one more number per video.
    """

    spine_fraction: tuple[float, float] = (0.42, 0.78)
    head_and_neck_scale: tuple[float, float] = (0.9, 1.35)
    neck_fraction: tuple[float, float] = (0.45, 0.70)
    thorax_drop: tuple[float, float] = (0.0, 0.0)
    thorax_probability: float = 1.0

    @classmethod
    def including_thorax(cls, probability: float = 1.0) -> MarkerJointRanges:
        """The default ranges plus a thorax drop from none to past CMU's ASF thorax (0-0.25),
        for a fraction ``probability`` of the bodies."""
        return cls(thorax_drop=(0.0, 0.25), thorax_probability=probability)

    def __post_init__(self) -> None:
        for name in ("spine_fraction", "neck_fraction"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo <= hi < 1.0:
                raise ValueError(f"{name}: expected 0 < lo <= hi < 1, got {(lo, hi)}")
        lo, hi = self.head_and_neck_scale
        if not 0.0 < lo <= hi:
            raise ValueError(f"head_and_neck_scale: expected 0 < lo <= hi, got {(lo, hi)}")
        lo, hi = self.thorax_drop
        if not 0.0 <= lo <= hi < 0.5:
            raise ValueError(f"thorax_drop: expected 0 <= lo <= hi < 0.5, got {(lo, hi)}")
        if not 0.0 < self.thorax_probability <= 1.0:
            raise ValueError(
                f"thorax_probability: expected a chance in (0, 1], got {self.thorax_probability}"
            )


class MarkerJointDefinitions(NamedTuple):
    """Where a body's marker-defined joints sit (:func:`marker_joint_definitions`); each
    ``(...)``, one value per body."""

    spine_fraction: torch.Tensor  # pelvis->spine / (pelvis->spine + spine->thorax)
    head_and_neck: torch.Tensor  # thorax->neck_nose + neck_nose->head, metres
    neck_fraction: torch.Tensor  # thorax->neck_nose / head_and_neck


def _marker_bones(skeleton: Skeleton) -> tuple[int, int, int, int]:
    """Indices of pelvis->spine, spine->thorax, thorax->neck_nose, neck_nose->head."""
    if skeleton != H36M_17:
        raise ValueError(f"marker joints are defined for Human3.6M-17, got {skeleton!r}")
    names = ("pelvis->spine", "spine->thorax", "thorax->neck_nose", "neck_nose->head")
    lower, upper, neck, head = (skeleton.bone_names.index(n) for n in names)
    return lower, upper, neck, head


def marker_joint_definitions(
    lengths: torch.Tensor, skeleton: Skeleton = H36M_17
) -> MarkerJointDefinitions:
    """The definitions of the spine, neck/nose and head joints that bone lengths imply.

    Args:
        lengths: ``(..., 16)`` bone lengths in ``skeleton.bone_names`` order.
        skeleton: must be :data:`H36M_17`.

    Returns:
        :class:`MarkerJointDefinitions`, each ``(...)``: the quantities that
        :class:`MarkerJointRanges` draws (the head-and-neck length in metres).
    """
    lower, upper, neck, head = _marker_bones(skeleton)
    head_and_neck = lengths[..., neck] + lengths[..., head]
    return MarkerJointDefinitions(
        lengths[..., lower] / (lengths[..., lower] + lengths[..., upper]),
        head_and_neck,
        lengths[..., neck] / head_and_neck,
    )


def _uniform_like(
    bounds: tuple[float, float], like: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    lo, hi = bounds
    u = torch.rand(like.shape, generator=generator, device=generator.device, dtype=torch.float64)
    return (lo + (hi - lo) * u).to(like)


def vary_marker_joints(
    lengths: torch.Tensor,
    generator: torch.Generator,
    ranges: MarkerJointRanges = MarkerJointRanges(),
    skeleton: Skeleton = H36M_17,
) -> torch.Tensor:
    """Bone lengths with a new definition of the spine, neck/nose and head joints per body.

    The trunk's length (pelvis to thorax) is kept and split anew at the spine joint; the
    neck-and-head length is scaled and split anew at the neck/nose joint; every other bone
    is unchanged (:class:`MarkerJointRanges`).

    Args:
        lengths: ``(..., 16)`` bone lengths in ``skeleton.bone_names`` order (any float
            dtype, on the generator's device).
        generator: the random generator (one draw of each range per body).
        ranges: the ranges of the three definitions.
        skeleton: must be :data:`H36M_17`.

    Returns:
        ``(..., 16)`` new lengths, same dtype and device.
    """
    lower, upper, neck, head = _marker_bones(skeleton)
    if lengths.shape[-1:] != (skeleton.num_bones,):
        raise ValueError(
            f"lengths: expected shape (..., {skeleton.num_bones}), got {tuple(lengths.shape)}"
        )
    per_body = lengths[..., 0]
    trunk = lengths[..., lower] + lengths[..., upper]
    spine = _uniform_like(ranges.spine_fraction, per_body, generator)
    head_and_neck = (lengths[..., neck] + lengths[..., head]) * _uniform_like(
        ranges.head_and_neck_scale, per_body, generator
    )
    neck_share = _uniform_like(ranges.neck_fraction, per_body, generator)
    out = lengths.clone()
    out[..., lower] = trunk * spine
    out[..., upper] = trunk * (1 - spine)
    out[..., neck] = head_and_neck * neck_share
    out[..., head] = head_and_neck * (1 - neck_share)
    return out


def lower_thorax(
    joints: torch.Tensor, drop: torch.Tensor | float, skeleton: Skeleton = H36M_17
) -> torch.Tensor:
    """Move the thorax and spine joints toward the pelvis: ``j + drop * (pelvis - j)``.

    Every other joint stays where it is, so the trunk shortens by the factor ``1 - drop``,
    the spine keeps its fraction of it, and the thorax's bones to the shoulders and the
    neck/nose lengthen (:class:`MarkerJointRanges`, thorax drop).

    Args:
        joints: ``(..., J, 3)`` positions (any frame; root-relative or not).
        drop: ``(...)`` (broadcast against ``joints.shape[:-2]``) or a number in ``[0, 1)``.
        skeleton: must be :data:`H36M_17`.

    Returns:
        ``(..., J, 3)`` new positions, same dtype and device.
    """
    if skeleton != H36M_17:
        raise ValueError(f"marker joints are defined for Human3.6M-17, got {skeleton!r}")
    if joints.shape[-2:] != (skeleton.num_joints, 3):
        raise ValueError(
            f"joints: expected shape (..., {skeleton.num_joints}, 3), got {tuple(joints.shape)}"
        )
    drop = torch.as_tensor(drop, dtype=joints.dtype, device=joints.device)[..., None, None]
    trunk = [skeleton.joint_index("spine"), skeleton.joint_index("thorax")]
    pelvis = joints[..., skeleton.root : skeleton.root + 1, :]
    out = joints.clone()
    out[..., trunk, :] = joints[..., trunk, :] + drop * (pelvis - joints[..., trunk, :])
    return out


def vary_thorax(
    joints: torch.Tensor,
    generator: torch.Generator,
    ranges: MarkerJointRanges,
    skeleton: Skeleton = H36M_17,
) -> torch.Tensor:
    """:func:`lower_thorax` with one drop per video drawn from ``ranges.thorax_drop`` (zero
    for the videos left out by ``ranges.thorax_probability``).

    Args:
        joints: ``(N, T, J, 3)`` videos (on the generator's device).
        generator: the random generator; nothing is drawn when the range is ``(0, 0)``.
        ranges: the thorax drop's range (e.g. :meth:`MarkerJointRanges.including_thorax`).
        skeleton: must be :data:`H36M_17`.

    Returns:
        ``(N, T, J, 3)``, the input itself when the range is ``(0, 0)``.
    """
    if ranges.thorax_drop == (0.0, 0.0):
        return joints
    if joints.dim() != 4:
        raise ValueError(f"joints: expected shape (N, T, J, 3), got {tuple(joints.shape)}")
    drop = _uniform_like(ranges.thorax_drop, joints[:, 0, 0, 0], generator)
    if ranges.thorax_probability < 1.0:
        chosen = _uniform_like((0.0, 1.0), drop, generator) < ranges.thorax_probability
        drop = torch.where(chosen, drop, torch.zeros_like(drop))
    return lower_thorax(joints, drop[:, None], skeleton)


def shoulders_above_thorax(joints: torch.Tensor, skeleton: Skeleton = H36M_17) -> torch.Tensor:
    """Where a pose's thorax sits below its shoulders (:class:`MarkerJointRanges`).

    Args:
        joints: ``(..., J, 3)`` positions.
        skeleton: must be :data:`H36M_17`.

    Returns:
        ``(...)``: the shoulders' midpoint minus the thorax, projected on the unit vector
        from the pelvis to the thorax, over the pelvis-thorax distance.
    """
    if skeleton != H36M_17:
        raise ValueError(f"marker joints are defined for Human3.6M-17, got {skeleton!r}")
    index = skeleton.joint_index
    pelvis, thorax = joints[..., skeleton.root, :], joints[..., index("thorax"), :]
    shoulders = (
        joints[..., index("left_shoulder"), :] + joints[..., index("right_shoulder"), :]
    ) / 2
    trunk = thorax - pelvis
    return ((shoulders - thorax) * trunk).sum(-1) / trunk.square().sum(-1)
