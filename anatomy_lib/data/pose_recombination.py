"""New motions by recombining limbs across motion windows, with smooth mutation and rejection.

In the spirit of Li et al., CVPR 2020 ("Cascaded deep monocular 3D human pose estimation
with evolutionary training data"): bone-level crossover between poses and random
mutation of bone directions, keeping only anatomically valid results. Here it acts on
whole motion windows, so the result stays a motion:

* **Crossover**: for each window (the *receiver*) and each limb group (left arm, right arm,
  left leg, right leg, torso + head), with probability ``crossover_probability`` the
  group's *motion* is taken from another window of the batch (the *donor*), frame by
  frame. Bone directions are moved in a local body frame: the pelvis frame (hips +
  pelvis -> spine) for the legs and the torso, the thorax frame (shoulders + spine ->
  thorax, after the torso's own crossover) for the arms. The transplanted limb therefore
  moves with the receiving body, whatever the global orientation of either window.
* **Mutation**: every group bone's local direction is turned by a small rotation whose
  rotation vector is Gaussian-smoothed white noise over time (std ``mutation_std_deg`` per
  component, smoothing ``smoothness_frames``), so no jump is introduced.
* Every bone keeps the receiver's length (frame by frame) and the root keeps the
  receiver's trajectory, so a body's proportions and path are unchanged.
* **Rejection**: a window with any invalid frame (``is_valid``; by default
  :func:`limbs_clear_of_body`) is drawn again up to ``retries`` times, each retry with
  the mutation scaled by ``retry_mutation_scale``, then keeps its original motion. With
  ``rejection="group"`` a failed draw first keeps the limb groups whose change passes the
  checks on its own (and together), reverting only the others.

All functions are batched torch, device and dtype agnostic, seeded by a ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple, get_args

import torch

from .._validation import check_points
from ..bones import bone_vectors_to_joints
from ..skeleton import H36M_17, Skeleton
from .simulate import body_volume

__all__ = [
    "LIMB_GROUPS",
    "RecombinationConfig",
    "RecombinationResult",
    "limbs_clear_of_body",
    "all_valid",
    "smooth_noise",
    "recombine_limbs",
]

LIMB_GROUPS: tuple[str, ...] = ("left_arm", "right_arm", "left_leg", "right_leg", "torso")
"""The limb groups, in the column order of :attr:`RecombinationResult.donors`."""

#: Child joints of each group's bones (the other bones always keep the receiver's motion).
_GROUP_CHILDREN = {
    "left_arm": ("left_elbow", "left_wrist"),
    "right_arm": ("right_elbow", "right_wrist"),
    "left_leg": ("left_knee", "left_ankle"),
    "right_leg": ("right_knee", "right_ankle"),
    "torso": ("thorax", "neck_nose", "head", "left_shoulder", "right_shoulder"),
}
_THORAX_FRAME_GROUPS = ("left_arm", "right_arm")
_NAMED = ("left_hip", "right_hip", "spine", "thorax", "left_shoulder", "right_shoulder")

Predicate = Callable[[torch.Tensor], torch.Tensor]
Rejection = Literal["window", "group"]


@dataclass(frozen=True)
class RecombinationConfig:
    """Parameters of :func:`recombine_limbs`.

    Attributes:
        crossover_probability: chance per window and limb group that the group's motion
            comes from another window: one value for all groups or one per group in
            :data:`LIMB_GROUPS` order (default 0.5: on average 2.5 of 5 groups swapped).
        mutation_std_deg: std of each component of the smooth per-bone rotation vector, in
            degrees (default 5; 0 disables mutation). The angle itself then has a mean of
            about 1.6 times this value.
        smoothness_frames: std, in frames, of the Gaussian kernel that smooths the
            mutation over time (default 10 frames = 0.2 s at 50 Hz).
        retries: how many times a rejected window is drawn again before it keeps its
            original motion (default 2).
        retry_mutation_scale: factor on ``mutation_std_deg`` at each retry, in (0, 1]
            (default 1: every attempt the same size). Below 1 a large mutation is tried
            first and smaller ones after a rejection: a whole window must pass the checks,
            and large mutations rarely do (``benchmarks/recombination_acceptance.py``).
        rejection: what a failed check rejects. ``"window"`` (default): the whole draw,
            which is tried again or, after the last retry, left as the input.
            ``"group"``: first each limb group's change on its own (the others kept as
            they were); the groups that pass alone are then checked together and kept if
            they pass, so one limb driven out of its range no longer discards the others.
            Costs up to six more candidates for each window that fails.
    """

    crossover_probability: float | tuple[float, ...] = 0.5
    mutation_std_deg: float = 5.0
    smoothness_frames: float = 10.0
    retries: int = 2
    retry_mutation_scale: float = 1.0
    rejection: Rejection = "window"

    def __post_init__(self) -> None:
        probs = self.probabilities
        if len(probs) != len(LIMB_GROUPS) or not all(0.0 <= q <= 1.0 for q in probs):
            raise ValueError(
                f"crossover_probability: expected one value in [0, 1] or {len(LIMB_GROUPS)} "
                f"(one per group {LIMB_GROUPS}), got {self.crossover_probability!r}"
            )
        if not self.mutation_std_deg >= 0.0:
            raise ValueError(f"mutation_std_deg: expected >= 0, got {self.mutation_std_deg}")
        if not self.smoothness_frames > 0.0:
            raise ValueError(f"smoothness_frames: expected > 0, got {self.smoothness_frames}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries: expected an integer >= 0, got {self.retries!r}")
        if not 0.0 < self.retry_mutation_scale <= 1.0:
            raise ValueError(
                "retry_mutation_scale: expected a factor in (0, 1], "
                f"got {self.retry_mutation_scale}"
            )
        if self.rejection not in get_args(Rejection):
            raise ValueError(
                f"rejection: expected one of {get_args(Rejection)}, got {self.rejection!r}"
            )

    @property
    def probabilities(self) -> tuple[float, ...]:
        """Crossover probability of each group, in :data:`LIMB_GROUPS` order."""
        q = self.crossover_probability
        return tuple(float(v) for v in q) if isinstance(q, tuple | list) else (float(q),) * 5


class RecombinationResult(NamedTuple):
    """Output of :func:`recombine_limbs`.

    Attributes:
        joints: ``(N, T, J, 3)`` recombined windows (the input where rejected).
        attempt: ``(N,)`` long, the attempt (0 = the first, then the retries) whose draw
            passed the checks; ``-1`` where every attempt was rejected.
        donors: ``(N, 5)`` long, per :data:`LIMB_GROUPS` the window the group's motion came
            from; ``-1`` where the group kept its own motion or the window was rejected.
        changed: ``(N, 5)`` bool, per :data:`LIMB_GROUPS` True where the output's group
            motion is not the input's own (taken from a donor, mutated, or both); all False
            where the window was rejected.
    """

    joints: torch.Tensor
    attempt: torch.Tensor
    donors: torch.Tensor
    changed: torch.Tensor

    @property
    def accepted(self) -> torch.Tensor:
        """``(N,)`` bool, True where the window was recombined and passed the checks."""
        return self.attempt >= 0

    @property
    def acceptance_rate(self) -> float:
        """Fraction of windows recombined and accepted."""
        return float(self.accepted.float().mean())


# ----------------------------------------------------------------------------- checks
def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Dot product over the last dimension (3), component by component (faster on CPU)."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _norm(a: torch.Tensor) -> torch.Tensor:
    return _dot(a, a).sqrt()


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a0, a1, a2 = a.unbind(-1)
    b0, b1, b2 = b.unbind(-1)
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)


def _point_segment_distance(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance from points ``p`` to segments ``a-b`` (broadcast over ``(..., 3)``)."""
    e, pa = b - a, p - a
    s = (_dot(pa, e) / _dot(e, e).clamp_min(1e-12)).clamp(0, 1)
    return _norm(pa - s.unsqueeze(-1) * e)


def _segment_segment_distance(
    p1: torch.Tensor, q1: torch.Tensor, p2: torch.Tensor, q2: torch.Tensor
) -> torch.Tensor:
    """Closest distance between segments ``p1-q1`` and ``p2-q2`` (``(..., 3)`` each)."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = _dot(d1, d1), _dot(d2, d2)
    b, c, f = _dot(d1, d2), _dot(d1, r), _dot(d2, r)
    denom = (a * e - b * b).clamp_min(1e-12)
    s = ((b * f - c * e) / denom).clamp(0, 1)
    t = ((b * s + f) / e.clamp_min(1e-12)).clamp(0, 1)
    s = ((b * t - c) / a.clamp_min(1e-12)).clamp(0, 1)
    return _norm(p1 + s.unsqueeze(-1) * d1 - p2 - t.unsqueeze(-1) * d2)


def limbs_clear_of_body(
    joints: torch.Tensor,
    skeleton: Skeleton = H36M_17,
    depth: float = 0.5,
    forearm_gap: float = 0.03,
) -> torch.Tensor:
    """True where no limb passes through the body: a per-frame collision check.

    Uses the capsules of :func:`anatomy_lib.data.simulate.body_volume` that fill the torso
    (pelvis -> spine -> thorax, radius 0.11 m, and the two hip-to-opposite-shoulder
    diagonals, 0.088 m). A frame is invalid when an elbow, wrist, knee or ankle lies
    deeper than ``depth`` times a torso capsule's radius inside it (its centre within
    ``(1 - depth) * radius`` of the axis), or when the two forearms' axes (elbow -> wrist)
    come closer than ``forearm_gap`` metres (one through the other). The same-side
    hip-shoulder capsules are left out: their axes run along the body's flank, where an
    arm hanging at the side legitimately is.

    Calibration: of the 9,167 frames of real motion shipped with the package (the embedded
    clips and the AMP clips, 50 Hz), one fails at the defaults (a DeepMimic spin); at
    ``depth=0.4`` 8 fail, at 0.3 27 (in a climb and the spin: limbs close against the trunk).
    Real forearm axes never come closer than 5 cm.

    Args:
        joints: ``(..., J, 3)`` joints in metres (any frame, any orientation).
        skeleton: needs the Human3.6M joint names.
        depth: penetration, as a fraction of a torso capsule's radius, that is rejected.
        forearm_gap: smallest allowed distance between the forearm axes, metres.

    Returns:
        ``(...)`` bool.
    """
    check_points(joints, skeleton.num_joints, coords=3)
    idx = skeleton.joint_index
    volume = body_volume(skeleton)
    spine_line = {idx("pelvis"), idx("spine"), idx("thorax")}
    diagonals = {(idx("left_hip"), idx("right_shoulder")), (idx("right_hip"), idx("left_shoulder"))}
    torso = [
        (a, b, r)
        for (a, b), r in zip(volume.segments, volume.radii, strict=True)
        if {a, b} <= spine_line or (a, b) in diagonals
    ]
    seg = torch.tensor([(a, b) for a, b, _ in torso], device=joints.device)
    limit = torch.tensor(
        [(1.0 - depth) * r for *_, r in torso], device=joints.device, dtype=joints.dtype
    )
    ends = torch.tensor(
        [idx(n) for n in ("left_elbow", "left_wrist", "right_elbow", "right_wrist",
                          "left_knee", "left_ankle", "right_knee", "right_ankle")],
        device=joints.device,
    )  # fmt: skip
    p = joints[..., ends, :].unsqueeze(-2)  # (..., E, 1, 3)
    a = joints[..., seg[:, 0], :].unsqueeze(-3)  # (..., 1, S, 3)
    b = joints[..., seg[:, 1], :].unsqueeze(-3)
    inside = (_point_segment_distance(p, a, b) < limit).any(-1).any(-1)
    forearms = _segment_segment_distance(
        joints[..., idx("left_elbow"), :], joints[..., idx("left_wrist"), :],
        joints[..., idx("right_elbow"), :], joints[..., idx("right_wrist"), :],
    )  # fmt: skip
    return ~inside & (forearms >= forearm_gap)


def all_valid(*predicates: Predicate) -> Predicate:
    """A predicate that is True where every one of ``predicates`` is True.

    E.g. ``all_valid(limbs_clear_of_body, joint_limits.within_limits)``.
    """
    if not predicates:
        raise ValueError("all_valid: expected at least one predicate")

    def check(joints: torch.Tensor) -> torch.Tensor:
        out = predicates[0](joints)
        for pred in predicates[1:]:
            out = out & pred(joints)
        return out

    return check


# ----------------------------------------------------------------------------- pieces
def smooth_noise(
    shape: tuple[int, ...],
    num_frames: int,
    sigma_frames: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Gaussian noise, smooth over time, with unit std at every frame.

    Independent N(0, 1) weights on knots every ``sigma_frames / 2`` frames (from
    ``-3 sigma`` to ``T - 1 + 3 sigma``) are blended by a Gaussian kernel of std
    ``sigma_frames``: a band-limited, infinitely smooth signal whose correlation over a lag
    of ``d`` frames is close to ``exp(-d^2 / (4 sigma^2))``. Each frame is divided by its
    exact std, so every value is N(0, 1). Cost: one small matrix product.

    Returns:
        ``(*shape, num_frames)``.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames: expected >= 1, got {num_frames}")
    if not sigma_frames > 0:
        raise ValueError(f"sigma_frames: expected > 0, got {sigma_frames}")
    step = 0.5 * sigma_frames
    reach = 3.0 * sigma_frames
    knots = torch.arange(-reach, num_frames - 1 + reach + step, step, device=device, dtype=dtype)
    frames = torch.arange(num_frames, device=device, dtype=dtype)
    blend = torch.exp(-0.5 * ((frames[None, :] - knots[:, None]) / sigma_frames) ** 2)
    blend = blend / blend.square().sum(0, keepdim=True).sqrt()  # (K, T), unit std per frame
    weights = torch.randn(
        math.prod(shape), knots.numel(), generator=generator, device=device, dtype=dtype
    )
    return (weights @ blend).reshape(*shape, num_frames)


def _rotate(v: torch.Tensor, rotvec: torch.Tensor) -> torch.Tensor:
    """Rotate vectors ``v`` by rotation vectors ``rotvec`` (both ``(..., 3)``), Rodrigues."""
    angle = _norm(rotvec).unsqueeze(-1)
    axis = rotvec / angle.clamp_min(1e-12)
    cos, sin = torch.cos(angle), torch.sin(angle)
    return v * cos + _cross(axis, v) * sin + axis * _dot(axis, v).unsqueeze(-1) * (1 - cos)


def _frame(lateral: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """Right-handed orthonormal frame ``(..., 3, 3)`` (columns x, y, z): x along
    ``lateral``, z along ``up`` made orthogonal to x."""
    x = lateral / _norm(lateral).unsqueeze(-1).clamp_min(1e-9)
    z = up - _dot(up, x).unsqueeze(-1) * x
    z = z / _norm(z).unsqueeze(-1).clamp_min(1e-9)
    return torch.stack([x, _cross(z, x), z], -1)


def _to_local(frame: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``frame^T v`` for frames ``(..., 3, 3)`` and vectors ``(..., B, 3)``."""
    return v @ frame


def _to_world(frame: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``frame v`` for frames ``(..., 3, 3)`` and vectors ``(..., B, 3)``."""
    return v @ frame.transpose(-1, -2)


class _Layout(NamedTuple):
    group_bones: tuple[tuple[int, ...], ...]  # bone indices per group, LIMB_GROUPS order
    bone: dict[str, int]  # child joint name -> bone index
    bone_group: dict[int, str]  # bone index -> its group


def _layout(skeleton: Skeleton) -> _Layout:
    names = set(skeleton.joint_names)
    need = set(_NAMED) | {c for cs in _GROUP_CHILDREN.values() for c in cs}
    missing = sorted(need - names)
    if missing:
        raise ValueError(
            f"skeleton {skeleton.name!r}: joints {missing} missing; limb recombination "
            "needs the Human3.6M joint names"
        )
    bone = {skeleton.joint_names[c]: k for k, c in enumerate(skeleton.bone_children)}
    groups = tuple(tuple(bone[c] for c in _GROUP_CHILDREN[g]) for g in LIMB_GROUPS)
    return _Layout(
        groups, bone, {k: g for g, ks in zip(LIMB_GROUPS, groups, strict=True) for k in ks}
    )


class _Draw(NamedTuple):
    """The random part of one attempt: a donor per receiver and group (``(M, 5)``, ``-1`` =
    own motion) and the mutation's rotation vectors (``(M, T, G, 3)`` radians, one per
    group bone in :attr:`_Layout.group_bones` order; None without mutation)."""

    donors: torch.Tensor
    rotvec: torch.Tensor | None


def _draw(
    n_all: int,
    receivers: torch.Tensor,
    num_frames: int,
    layout: _Layout,
    config: RecombinationConfig,
    generator: torch.Generator | None,
    dtype: torch.dtype,
    donors: torch.Tensor | None = None,
) -> _Draw:
    """Donors (unless given) and mutation of windows ``receivers`` of a batch of ``n_all``."""
    dev = receivers.device
    m = receivers.numel()
    if donors is None:  # never the receiver itself when N > 1
        shape = (m, len(LIMB_GROUPS))
        probs = torch.tensor(config.probabilities, device=dev)
        swap = torch.rand(shape, generator=generator, device=dev) < probs
        offset = torch.randint(1, max(n_all, 2), shape, generator=generator, device=dev)
        donors = torch.where(swap & (n_all > 1), (receivers[:, None] + offset) % n_all, -1)
    rotvec = None
    if config.mutation_std_deg > 0:
        bones = sum(len(b) for b in layout.group_bones)
        noise = smooth_noise(
            (m, bones, 3), num_frames, config.smoothness_frames, generator, dev, dtype
        )
        rotvec = noise.permute(0, 3, 1, 2) * math.radians(config.mutation_std_deg)
    return _Draw(donors, rotvec)


class _Bones(NamedTuple):
    """Windows ``(N, T, J, 3)`` taken apart once: bone lengths ``(N, T, B)``, unit bone
    directions ``(N, T, B, 3)``, the pelvis and thorax frames ``(N, T, 3, 3)`` and the root
    path ``(N, T, 3)``."""

    length: torch.Tensor
    unit: torch.Tensor
    pelvis: torch.Tensor
    thorax: torch.Tensor
    root: torch.Tensor


def _bones(x: torch.Tensor, skeleton: Skeleton, layout: _Layout) -> _Bones:
    children = torch.tensor(skeleton.bone_children, device=x.device)
    parents = torch.tensor(skeleton.bone_parents, device=x.device)
    vec = x.index_select(-2, children) - x.index_select(-2, parents)  # (N, T, B, 3)
    length = _norm(vec)
    b = layout.bone
    pelvis = _frame(
        vec[..., b["left_hip"], :] - vec[..., b["right_hip"], :], vec[..., b["spine"], :]
    )
    thorax = _frame(
        vec[..., b["left_shoulder"], :] - vec[..., b["right_shoulder"], :],
        vec[..., b["thorax"], :],
    )
    unit = vec / length.unsqueeze(-1).clamp_min(1e-12)
    return _Bones(length, unit, pelvis, thorax, x[..., skeleton.root, :])


def _build(
    bones: _Bones,
    receivers: torch.Tensor,
    skeleton: Skeleton,
    layout: _Layout,
    draw: _Draw,
    active: torch.Tensor | None = None,
) -> torch.Tensor:
    """The candidate motion ``(M, T, J, 3)`` of windows ``receivers`` under ``draw``; only
    the groups where ``active`` (``(M, 5)`` bool; all if None) take their donor's motion
    and their mutation, the others keep the receiver's own."""
    dev = receivers.device
    unit, pelvis, thorax, b = bones.unit, bones.pelvis, bones.thorax, layout.bone
    donors = draw.donors if active is None else torch.where(active, draw.donors, -1)
    source = torch.where(donors >= 0, donors, receivers[:, None])
    # each group's bone directions in its source window's local frame, concatenated
    parts, bone_ids, bone_group = [], [], []
    for g, name in enumerate(LIMB_GROUPS):
        idx = torch.tensor(layout.group_bones[g], device=dev)
        frame = thorax if name in _THORAX_FRAME_GROUPS else pelvis
        src = source[:, g]
        parts.append(_to_local(frame.index_select(0, src), unit.index_select(0, src)[..., idx, :]))
        bone_ids.extend(layout.group_bones[g])
        bone_group.extend([g] * len(layout.group_bones[g]))
    local = torch.cat(parts, -2)  # (M, T, G, 3)

    # mutation: smooth per-bone rotation of the group bones' local directions
    if draw.rotvec is not None:
        rotvec = draw.rotvec
        if active is not None:
            on = active[:, torch.tensor(bone_group, device=dev)]  # (M, G)
            rotvec = rotvec * on[:, None, :, None].to(rotvec.dtype)
        local = _rotate(local, rotvec)

    # back to the receiver's world: pelvis-frame bones first, then the new thorax frame
    in_thorax = torch.tensor(
        [layout.bone_group[k] in _THORAX_FRAME_GROUPS for k in bone_ids], device=dev
    )
    length_r = bones.length.index_select(0, receivers)
    world = _to_world(pelvis.index_select(0, receivers), local)
    pos = {k: i for i, k in enumerate(bone_ids)}
    new_vec = world * length_r[..., bone_ids].unsqueeze(-1)
    new_thorax = _frame(
        new_vec[..., pos[b["left_shoulder"]], :] - new_vec[..., pos[b["right_shoulder"]], :],
        new_vec[..., pos[b["thorax"]], :],
    )
    world = torch.where(in_thorax[:, None], _to_world(new_thorax, local), world)
    new_unit = unit.index_select(0, receivers).clone()
    new_unit.index_copy_(-2, torch.tensor(bone_ids, device=dev), world)
    root = bones.root.index_select(0, receivers)
    out = bone_vectors_to_joints(new_unit * length_r.unsqueeze(-1), skeleton) + root.unsqueeze(-2)
    out[..., skeleton.root, :] = root  # exactly, whatever the rounding
    return out


def recombine_limbs(
    windows: torch.Tensor,
    config: RecombinationConfig = RecombinationConfig(),
    generator: torch.Generator | None = None,
    is_valid: Predicate | None = limbs_clear_of_body,
    skeleton: Skeleton = H36M_17,
    donors: torch.Tensor | None = None,
) -> RecombinationResult:
    """Recombine limb motions across a batch of motion windows (see the module docstring).

    Args:
        windows: ``(N, T, J, 3)`` joints in metres, world or camera frame, any global
            orientation per window (Human3.6M joint names needed).
        config: probabilities, mutation size and smoothness, retries.
        generator: seeds every draw (donors, mutation); same generator state, same output.
        is_valid: ``joints (..., J, 3) -> bool (...)`` per-frame check; a window with any
            invalid frame is redrawn, then kept unchanged. ``None`` accepts everything.
            Combine checks with :func:`all_valid`.
        skeleton: the joint tree of ``windows``.
        donors: optional ``(N, 5)`` long, the donor window of each group (``-1`` = keep
            its own motion), replacing the random crossover of the first attempt
            (mutation and rejection still apply; retries draw at random).

    Returns:
        :class:`RecombinationResult` (joints, accepting attempt, donors per group).
    """
    check_points(windows, skeleton.num_joints, coords=3, name="windows")
    if windows.dim() != 4:
        raise ValueError(
            f"windows: expected (N, T, {skeleton.num_joints}, 3) motion windows, "
            f"got shape {tuple(windows.shape)}"
        )
    layout = _layout(skeleton)
    n = windows.shape[0]
    dev = windows.device
    if donors is not None:
        if donors.shape != (n, len(LIMB_GROUPS)):
            raise ValueError(
                f"donors: expected shape ({n}, {len(LIMB_GROUPS)}), got {tuple(donors.shape)}"
            )
        if (donors >= n).any() or (donors < -1).any():
            raise ValueError(f"donors: expected window indices in [-1, {n - 1}]")
        donors = donors.to(device=dev, dtype=torch.long)
    out = windows.clone()
    accepted_at = torch.full((n,), -1, dtype=torch.long, device=dev)
    chosen = torch.full((n, len(LIMB_GROUPS)), -1, dtype=torch.long, device=dev)
    changed = torch.zeros(n, len(LIMB_GROUPS), dtype=torch.bool, device=dev)

    def passes(cand: torch.Tensor) -> torch.Tensor:  # (M,) bool: every frame valid
        if is_valid is None:
            return torch.ones(cand.shape[0], dtype=torch.bool, device=dev)
        valid = is_valid(cand)
        if valid.shape != cand.shape[:2]:
            raise ValueError(
                f"is_valid: expected a bool tensor of shape {tuple(cand.shape[:2])} "
                f"(one per frame), got {tuple(valid.shape)}"
            )
        return valid.all(-1)

    parts = _bones(windows, skeleton, layout)
    num_groups = len(LIMB_GROUPS)
    pending = torch.arange(n, device=dev)
    for attempt in range(config.retries + 1):
        if pending.numel() == 0:
            break
        scale = config.retry_mutation_scale**attempt
        this_try = replace(config, mutation_std_deg=config.mutation_std_deg * scale)
        given = donors if attempt == 0 else None
        draw = _draw(
            n, pending, windows.shape[1], layout, this_try, generator, windows.dtype, given
        )
        active = (draw.donors >= 0) | (draw.rotvec is not None)  # groups this draw changes
        cand = _build(parts, pending, skeleton, layout, draw)
        ok = passes(cand)
        if config.rejection == "group" and not bool(ok.all()):
            # each failed window's groups one at a time (one batch, group-major), then the
            # groups that passed alone together
            bad = (~ok).nonzero().squeeze(-1)
            m = bad.numel()
            rotvec = None if draw.rotvec is None else draw.rotvec[bad]
            alone = _Draw(
                draw.donors[bad].repeat(num_groups, 1),
                None if rotvec is None else rotvec.repeat(num_groups, 1, 1, 1),
            )
            one_group = torch.eye(num_groups, dtype=torch.bool, device=dev).repeat_interleave(m, 0)
            solo = _build(
                parts, pending[bad].repeat(num_groups), skeleton, layout, alone, one_group
            )
            keep = passes(solo).reshape(num_groups, m).T & active[bad]
            merged = _build(
                parts, pending[bad], skeleton, layout, _Draw(draw.donors[bad], rotvec), keep
            )
            rescued = passes(merged) & keep.any(-1)
            cand[bad[rescued]] = merged[rescued]
            active[bad] = keep
            ok[bad[rescued]] = True
        take = pending[ok]
        out[take] = cand[ok]
        accepted_at[take] = attempt
        chosen[take] = torch.where(active[ok], draw.donors[ok], -1)
        changed[take] = active[ok]
        pending = pending[~ok]
    return RecombinationResult(out, accepted_at, chosen, changed)
