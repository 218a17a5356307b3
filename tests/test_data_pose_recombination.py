"""Limb recombination: what is kept (root, bone lengths), what moves (limb motion), checks."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from conftest import standing_pose

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.data.amp_motion import load_amp_motion
from anatomy_lib.data.joint_limits import within_limits
from anatomy_lib.data.pose_recombination import (
    LIMB_GROUPS,
    RecombinationConfig,
    all_valid,
    limbs_clear_of_body,
    recombine_limbs,
    smooth_noise,
)
from anatomy_lib.skeleton import H36M_17

J = H36M_17.joint_index


def _random_rotations(n: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    q = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    w, x, y, z = (q / q.norm(dim=-1, keepdim=True)).unbind(-1)
    r = torch.stack(
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
         2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
         2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1,
    )  # fmt: skip
    return r.reshape(n, 3, 3).to(dtype)


def _windows(n: int = 32, t: int = 27, seed: int = 0, dtype=torch.float64, device="cpu"):
    """Real motion windows (the shipped AMP clips), each turned and moved at random."""
    g = torch.Generator().manual_seed(seed)
    clips = [c.to(torch.float64) for _, c in load_amp_motion()]
    out = []
    for _ in range(n):
        c = clips[int(torch.randint(len(clips), (1,), generator=g))]
        s = int(torch.randint(len(c) - t, (1,), generator=g))
        out.append(c[s : s + t])
    x = torch.stack(out)
    rot = _random_rotations(n, g)
    x = torch.einsum("nij,ntkj->ntki", rot, x) + torch.randn(n, 1, 1, 3, generator=g)
    return x.to(device=device, dtype=dtype)


def _angle(x: torch.Tensor, a: str, b: str, c: str) -> torch.Tensor:
    """Angle at joint ``b`` between ``b -> a`` and ``b -> c`` (radians)."""
    u, v = x[..., J(a), :] - x[..., J(b), :], x[..., J(c), :] - x[..., J(b), :]
    return torch.atan2(torch.linalg.cross(u, v, dim=-1).norm(dim=-1), (u * v).sum(-1))


def test_root_and_bone_lengths_kept_exactly(dtype, device):
    x = _windows(dtype=dtype, device=device)
    cfg = RecombinationConfig(crossover_probability=1.0, mutation_std_deg=10.0)
    res = recombine_limbs(x, cfg, torch.Generator(device=device).manual_seed(1), is_valid=None)
    assert res.joints.dtype == dtype and res.joints.device == x.device
    assert torch.equal(res.joints[..., H36M_17.root, :], x[..., H36M_17.root, :])
    lengths_in = joints_to_bones(x, H36M_17).lengths
    lengths_out = joints_to_bones(res.joints, H36M_17).lengths
    assert (lengths_out - lengths_in).abs().max() < (1e-6 if dtype == torch.float32 else 1e-12)
    assert (res.joints - x).abs().max() > 0.05  # and the motion did change
    assert res.accepted.all() and (res.donors >= 0).all()


def test_donor_equal_to_receiver_gives_the_input(dtype):
    x = _windows(n=8, dtype=dtype)
    own = torch.arange(8)[:, None].expand(8, len(LIMB_GROUPS))
    cfg = RecombinationConfig(crossover_probability=1.0, mutation_std_deg=0.0)
    res = recombine_limbs(x, cfg, torch.Generator().manual_seed(0), is_valid=None, donors=own)
    assert (res.joints - x).abs().max() < (1e-6 if dtype == torch.float32 else 1e-12)
    assert torch.equal(res.donors, own)


def test_transplanted_limb_keeps_the_donors_joint_angles_and_moves_with_the_receiver():
    x = _windows(n=6)
    donors = torch.full((6, len(LIMB_GROUPS)), -1)
    donors[:, LIMB_GROUPS.index("left_arm")] = torch.tensor([3, 4, 5, 0, 1, 2])
    donors[:, LIMB_GROUPS.index("right_leg")] = torch.tensor([1, 2, 3, 4, 5, 0])
    cfg = RecombinationConfig(mutation_std_deg=0.0)
    out = recombine_limbs(x, cfg, torch.Generator().manual_seed(0), None, donors=donors).joints
    arm = donors[:, LIMB_GROUPS.index("left_arm")]
    leg = donors[:, LIMB_GROUPS.index("right_leg")]
    elbow = ("left_shoulder", "left_elbow", "left_wrist")
    knee = ("right_hip", "right_knee", "right_ankle")
    torch.testing.assert_close(_angle(out, *elbow), _angle(x[arm], *elbow))
    torch.testing.assert_close(_angle(out, *knee), _angle(x[leg], *knee))
    # untouched groups keep the receiver's own motion exactly (up to rounding)
    for joint in ("right_wrist", "left_ankle", "head"):
        torch.testing.assert_close(out[..., J(joint), :], x[..., J(joint), :])
    # the transplanted arm hangs from the receiver's shoulder, not the donor's
    torch.testing.assert_close(out[..., J("left_shoulder"), :], x[..., J("left_shoulder"), :])
    upper = (out[..., J("left_elbow"), :] - out[..., J("left_shoulder"), :]).norm(dim=-1)
    torch.testing.assert_close(upper, joints_to_bones(x, H36M_17).lengths[..., 11])


def test_globally_rotated_inputs_give_rotated_outputs(dtype):
    x = _windows(n=16, dtype=dtype)
    g = torch.Generator().manual_seed(5)
    rot = _random_rotations(16, g, dtype)
    shift = torch.randn(16, 1, 1, 3, generator=g, dtype=torch.float64).to(dtype)
    moved = torch.einsum("nij,ntkj->ntki", rot, x) + shift
    cfg = RecombinationConfig(crossover_probability=0.7, mutation_std_deg=8.0)
    a = recombine_limbs(x, cfg, torch.Generator().manual_seed(9))
    b = recombine_limbs(moved, cfg, torch.Generator().manual_seed(9))
    assert torch.equal(a.accepted, b.accepted) and torch.equal(a.donors, b.donors)
    expected = torch.einsum("nij,ntkj->ntki", rot, a.joints) + shift
    tol = 2e-5 if dtype == torch.float32 else 1e-10
    assert (b.joints - expected).abs().max() < tol


def test_temporal_smoothness_against_the_inputs():
    x = _windows(n=64, t=27, seed=3)
    speed_in = (x[:, 1:] - x[:, :-1]).norm(dim=-1)  # metres per frame
    cfg = RecombinationConfig(crossover_probability=0.5, mutation_std_deg=5.0)
    out = recombine_limbs(x, cfg, torch.Generator().manual_seed(2)).joints
    speed_out = (out[:, 1:] - out[:, :-1]).norm(dim=-1)
    # limb motions add (a swinging arm on a turning torso), but nothing jumps
    assert speed_out.max() < 1.5 * speed_in.max()
    assert speed_out.mean() < 1.2 * speed_in.mean()
    # mutation alone on a still pose: it moves the limbs, slowly
    still = standing_pose().expand(4, 40, 17, 3).clone()
    mutated = recombine_limbs(
        still, RecombinationConfig(0.0, mutation_std_deg=5.0), torch.Generator().manual_seed(0)
    ).joints
    offset = (mutated - still).norm(dim=-1).mean()
    step = (mutated[:, 1:] - mutated[:, :-1]).norm(dim=-1)
    assert offset > 0.01  # centimetres of change...
    assert step.mean() < 0.15 * offset and step.max() < 0.02  # ...under 2 cm per frame


def test_smooth_noise_unit_std_and_smooth():
    z = smooth_noise((2000,), 50, 10.0, torch.Generator().manual_seed(0), dtype=torch.float64)
    assert z.shape == (2000, 50)
    assert abs(float(z.std()) - 1.0) < 0.03 and abs(float(z.mean())) < 0.05
    # lag-1 correlation ~ exp(-1 / (4 * 10^2)); white noise would give 0
    corr = float((z[:, 1:] * z[:, :-1]).mean() / z.var())
    assert abs(corr - math.exp(-1 / 400)) < 0.01
    with pytest.raises(ValueError, match="sigma_frames"):
        smooth_noise((2,), 5, 0.0)


def test_default_check_rejects_an_arm_through_the_torso():
    pose = standing_pose()
    assert bool(limbs_clear_of_body(pose))
    through = pose.clone()
    through[J("right_wrist")] = 0.5 * (pose[J("spine")] + pose[J("thorax")])
    assert not bool(limbs_clear_of_body(through))
    knee_in = pose.clone()
    knee_in[J("left_knee")] = pose[J("spine")] + torch.tensor([0.02, 0.0, 0.0], dtype=pose.dtype)
    assert not bool(limbs_clear_of_body(knee_in))
    crossed = pose.clone()  # forearms crossing in front of the chest, axes intersecting
    front = torch.tensor([0.0, 1.25, 0.30], dtype=pose.dtype)
    crossed[J("left_elbow")] = front + torch.tensor([0.15, -0.05, 0.0], dtype=pose.dtype)
    crossed[J("left_wrist")] = front + torch.tensor([-0.10, 0.05, 0.0], dtype=pose.dtype)
    crossed[J("right_elbow")] = front + torch.tensor([-0.15, -0.05, 0.0], dtype=pose.dtype)
    crossed[J("right_wrist")] = front + torch.tensor([0.10, 0.05, 0.0], dtype=pose.dtype)
    assert not bool(limbs_clear_of_body(crossed))
    crossed[J("right_elbow"), 2] += 0.08  # the same, one forearm 8 cm in front: touching
    crossed[J("right_wrist"), 2] += 0.08
    assert bool(limbs_clear_of_body(crossed))
    # batched, and real motion passes
    for name, clip in load_amp_motion():
        assert limbs_clear_of_body(clip).float().mean() > 0.999, name


def test_rejected_windows_keep_their_motion():
    pose = standing_pose()  # y up, z forward
    # a donor with the same bones whose left forearm ends 1 cm from the chest's axis
    shoulder, mid = pose[J("left_shoulder")], 0.5 * (pose[J("spine")] + pose[J("thorax")])
    upper, fore = joints_to_bones(pose, H36M_17).lengths[[11, 12]]
    d, target = (mid - shoulder).norm(), fore + 0.01
    cos_a = (d**2 + upper**2 - target**2) / (2 * d * upper)
    u = (mid - shoulder) / d
    forward = torch.tensor([0.0, 0.0, 1.0], dtype=pose.dtype)
    forward = (forward - (forward @ u) * u) / (forward - (forward @ u) * u).norm()
    bad = pose.clone()
    bad[J("left_elbow")] = shoulder + upper * (cos_a * u + (1 - cos_a**2).sqrt() * forward)
    bad[J("left_wrist")] = bad[J("left_elbow")] + fore * (mid - bad[J("left_elbow")]) / target
    assert (bad[J("left_wrist")] - mid).norm() < 0.011
    x = torch.stack([pose, bad]).unsqueeze(1).expand(2, 5, 17, 3).clone()
    donors = torch.tensor([[1, -1, -1, -1, -1], [-1, -1, -1, -1, -1]])
    cfg = RecombinationConfig(crossover_probability=0.0, mutation_std_deg=0.0, retries=0)
    res = recombine_limbs(x, cfg, torch.Generator().manual_seed(0), donors=donors)
    # window 0 would get the wrist-in-torso arm: rejected, unchanged; window 1 was already bad
    assert res.accepted.tolist() == [False, False] and res.acceptance_rate == 0.0
    assert torch.equal(res.joints, x) and (res.donors == -1).all()
    res = recombine_limbs(x[:1], cfg, torch.Generator().manual_seed(0))
    assert res.accepted.tolist() == [True]
    # a user predicate combined with the default; one rejecting everything keeps the input
    never = all_valid(limbs_clear_of_body, lambda j: torch.zeros(j.shape[:-2], dtype=torch.bool))
    res = recombine_limbs(x, RecombinationConfig(), torch.Generator().manual_seed(0), never)
    assert not res.accepted.any() and torch.equal(res.joints, x)


def test_retries_shrink_the_mutation_by_retry_mutation_scale():
    # one window repeated, no crossover: a candidate differs from the input by its mutation
    x = _windows(n=1, t=20).expand(8, -1, -1, -1).clone()

    def close_to_input(j: torch.Tensor) -> torch.Tensor:  # every joint within 5 cm
        return (j - x[0]).norm(dim=-1).amax(-1) < 0.05

    def run(scale: float):
        cfg = RecombinationConfig(
            crossover_probability=0.0, mutation_std_deg=60.0, retries=1, retry_mutation_scale=scale
        )
        return recombine_limbs(x, cfg, torch.Generator().manual_seed(0), is_valid=close_to_input)

    same = run(1.0)  # 60 degrees twice: every window moves a joint by more than 5 cm
    assert not same.accepted.any() and torch.equal(same.joints, x)
    shrunk = run(0.01)  # then 0.6 degrees: every window passes, and is mutated
    assert shrunk.accepted.all() and (shrunk.attempt == 1).all()  # at the retry
    moved = (shrunk.joints - x).norm(dim=-1).amax(dim=(1, 2))
    assert (moved > 1e-4).all() and (moved < 0.05).all()


def test_group_rejection_reverts_only_the_failing_group():
    x = _windows(n=12, t=16)
    legs = [J("left_knee"), J("left_ankle")]

    def left_leg_unchanged(j: torch.Tensor) -> torch.Tensor:  # the input's own left leg
        # each candidate's receiver: the input window with its root path (kept exactly)
        root = H36M_17.root
        gap = (j[:, None, :, root] - x[None, :, :, root]).norm(dim=-1).amax(-1)  # (M, N)
        own = x[gap.argmin(1)]
        return (j[..., legs, :] - own[..., legs, :]).norm(dim=-1).amax(-1) < 1e-6

    cfg = RecombinationConfig(crossover_probability=1.0, mutation_std_deg=0.0, retries=0)
    whole = recombine_limbs(x, cfg, torch.Generator().manual_seed(0), left_leg_unchanged)
    assert not whole.accepted.any() and torch.equal(whole.joints, x)
    grouped = recombine_limbs(
        x, replace(cfg, rejection="group"), torch.Generator().manual_seed(0), left_leg_unchanged
    )
    leg = LIMB_GROUPS.index("left_leg")
    others = [g for g in range(len(LIMB_GROUPS)) if g != leg]
    assert grouped.accepted.all() and (grouped.attempt == 0).all()
    assert (grouped.donors[:, leg] == -1).all() and (grouped.donors[:, others] >= 0).all()
    assert grouped.changed[:, others].all() and not grouped.changed[:, leg].any()
    assert left_leg_unchanged(grouped.joints).all()
    # the output is exactly the recombination with the donors it reports
    again = recombine_limbs(x, cfg, None, is_valid=None, donors=grouped.donors)
    torch.testing.assert_close(again.joints, grouped.joints, rtol=0, atol=1e-12)


def test_group_rejection_keeps_more_change_and_every_kept_frame_valid():
    x = _windows(n=48, t=40, dtype=torch.float32)
    valid = all_valid(limbs_clear_of_body, within_limits)
    big = RecombinationConfig(mutation_std_deg=15.0)
    whole = recombine_limbs(x, big, torch.Generator().manual_seed(1), is_valid=valid)
    grouped = recombine_limbs(
        x, replace(big, rejection="group"), torch.Generator().manual_seed(1), is_valid=valid
    )
    assert valid(grouped.joints[grouped.accepted]).all()
    assert grouped.changed.sum() > whole.changed.sum()
    assert grouped.acceptance_rate >= whole.acceptance_rate
    # rejected windows, in either mode, are the input and report no change
    for res in (whole, grouped):
        assert torch.equal(res.joints[~res.accepted], x[~res.accepted])
        assert not res.changed[~res.accepted].any()
        assert (res.changed[res.accepted].any(-1)).all()


def test_reproducible_with_the_same_generator():
    x = _windows(n=16)
    a = recombine_limbs(x, generator=torch.Generator().manual_seed(4))
    b = recombine_limbs(x, generator=torch.Generator().manual_seed(4))
    c = recombine_limbs(x, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.joints, b.joints) and torch.equal(a.donors, b.donors)
    assert not torch.equal(a.joints, c.joints)


def test_per_group_probabilities():
    x = _windows(n=64)
    cfg = RecombinationConfig(crossover_probability=(1.0, 0.0, 0.0, 0.0, 0.0))
    res = recombine_limbs(x, cfg, torch.Generator().manual_seed(0), is_valid=None)
    assert (res.donors[:, 0] >= 0).all() and (res.donors[:, 1:] == -1).all()
    assert (res.donors[:, 0] != torch.arange(64)).all()  # never the window itself


def test_bad_input():
    with pytest.raises(ValueError, match=r"expected \(N, T, 17, 3\)"):
        recombine_limbs(torch.zeros(5, 17, 3))
    with pytest.raises(ValueError, match="17 joints"):
        recombine_limbs(torch.zeros(2, 5, 16, 3))
    with pytest.raises(ValueError, match="crossover_probability"):
        RecombinationConfig(crossover_probability=1.5)
    with pytest.raises(ValueError, match="crossover_probability"):
        RecombinationConfig(crossover_probability=(0.5, 0.5))
    with pytest.raises(ValueError, match="smoothness_frames"):
        RecombinationConfig(smoothness_frames=0)
    with pytest.raises(ValueError, match=r"rejection: expected one of \('window', 'group'\)"):
        RecombinationConfig(rejection="frame")
    for scale in (0.0, 1.5):
        with pytest.raises(
            ValueError, match=r"retry_mutation_scale: expected a factor in \(0, 1\]"
        ):
            RecombinationConfig(retry_mutation_scale=scale)
    x = _windows(n=4, t=5)
    with pytest.raises(ValueError, match=r"donors: expected shape \(4, 5\)"):
        recombine_limbs(x, donors=torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="is_valid: expected a bool tensor of shape"):
        recombine_limbs(x, is_valid=lambda j: torch.ones(j.shape[0], dtype=torch.bool))
