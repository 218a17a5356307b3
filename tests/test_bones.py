"""Tests of the bone decomposition (Eq. 1), joint shifts, re-targeting and mirroring."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_TREE, random_poses, standing_pose, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

from anatomy_lib.bones import (
    bone_vectors,
    bone_vectors_to_joints,
    bones_to_joints,
    joint_shifts,
    joint_shifts_from_bones,
    joints_to_bones,
    mirror_joints,
    retarget_bone_lengths,
    swap_left_right,
)
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17

SKELETONS = [H36M_17, MPI_INF_3DHP_17, TINY_TREE]


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_round_trip_random_poses(sk, device, dtype):
    joints = random_poses(sk, batch=(3, 7)).to(device=device, dtype=dtype)
    bones = joints_to_bones(joints, sk)
    assert bones.lengths.shape == (3, 7, sk.num_bones)
    assert bones.directions.shape == (3, 7, sk.num_bones, 3)
    back = bones_to_joints(bones.lengths, bones.directions, sk, root=joints[..., sk.root, :])
    assert back.dtype == dtype and back.device == joints.device
    assert (back - joints).abs().max().item() < tolerance(dtype)


def test_round_trip_real_looking_pose(device, dtype):
    pose = standing_pose(dtype, device)
    bones = joints_to_bones(pose, H36M_17)
    back = bones_to_joints(bones.lengths, bones.directions, H36M_17, root=pose[0])
    assert (back - pose).abs().max().item() < tolerance(dtype)
    # Hand-computed: right thigh from (-0.13, .95, 0) to (-0.14, .52, .02).
    thigh = H36M_17.bone_of_joint[2]
    expected = torch.tensor([-0.01, -0.43, 0.02], dtype=torch.float64).norm().item()
    assert bones.lengths[thigh].item() == pytest.approx(expected, abs=1e-6)


def test_directions_are_unit_and_root_defaults_to_origin(dtype):
    joints = random_poses(batch=(5,), dtype=dtype)
    bones = joints_to_bones(joints, H36M_17)
    assert torch.allclose(bones.directions.norm(dim=-1), torch.ones(5, 16, dtype=dtype))
    rebuilt = bones_to_joints(bones.lengths, bones.directions, H36M_17)
    assert rebuilt[:, H36M_17.root].abs().max() == 0
    rel = joints - joints[:, H36M_17.root : H36M_17.root + 1]
    assert (rebuilt - rel).abs().max() < tolerance(dtype)


def test_eq1_matches_an_explicit_walk_to_the_root():
    sk = H36M_17
    joints = random_poses(sk, batch=(2,))
    bones = joints_to_bones(joints, sk)
    eq1 = bones_to_joints(bones.lengths, bones.directions, sk)
    for k in range(sk.num_joints):
        total = torch.zeros(2, 3, dtype=joints.dtype)
        q = k
        while sk.parents[q] != -1:
            b = sk.bone_of_joint[q]
            total = total + bones.directions[:, b] * bones.lengths[:, b, None]
            q = sk.parents[q]
        assert torch.allclose(eq1[:, k], total, atol=1e-12)


def test_zero_length_bone_gives_finite_values():
    joints = standing_pose().clone()
    joints[3] = joints[2]  # collapse the right shank
    bones = joints_to_bones(joints, H36M_17)
    assert torch.isfinite(bones.directions).all()
    b = H36M_17.bone_of_joint[3]
    assert bones.lengths[b] == 0
    back = bones_to_joints(bones.lengths, bones.directions, H36M_17, root=joints[0])
    assert torch.allclose(back, joints, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.5, 2.0),
    sk=st.sampled_from(SKELETONS),
)
def test_bone_lengths_scale_and_directions_are_scale_invariant(seed, scale, sk):
    joints = random_poses(sk, batch=(2,), seed=seed)
    a = joints_to_bones(joints, sk)
    b = joints_to_bones(joints * scale, sk)
    assert torch.allclose(b.lengths, a.lengths * scale, atol=1e-12)
    assert torch.allclose(b.directions, a.directions, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_bones_are_translation_invariant(seed):
    joints = random_poses(batch=(3,), seed=seed)
    shift = torch.randn(3, 1, 3, dtype=joints.dtype, generator=torch.Generator().manual_seed(seed))
    a, b = joints_to_bones(joints, H36M_17), joints_to_bones(joints + shift, H36M_17)
    assert torch.allclose(a.lengths, b.lengths, atol=1e-12)
    assert torch.allclose(a.directions, b.directions, atol=1e-12)


def test_bone_vectors_work_in_2d():
    pose2d = standing_pose()[:, :2]
    vec = bone_vectors(pose2d, H36M_17)
    assert vec.shape == (16, 2)
    back = bone_vectors_to_joints(vec, H36M_17, root=pose2d[0])
    assert torch.allclose(back, pose2d, atol=1e-12)


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_joint_shifts_from_bones_equal_shifts_of_joints(sk, dtype):
    joints = random_poses(sk, batch=(4,)).to(dtype)
    bones = joints_to_bones(joints, sk)
    from_bones = joint_shifts_from_bones(bones.lengths, bones.directions, sk)
    direct = joint_shifts(joints, sk.non_bone_pairs)
    assert from_bones.shape == (4, len(sk.non_bone_pairs), 3)
    assert (from_bones - direct).abs().max() < 10 * tolerance(dtype)


def test_joint_shift_hand_computed():
    joints = standing_pose()
    shifts = joint_shifts(joints, ((13, 3),))  # left wrist -> right ankle
    assert torch.allclose(shifts[0], joints[3] - joints[13])


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_retarget_sets_lengths_keeps_directions_and_root(sk, dtype):
    joints = random_poses(sk, batch=(6, 5)).to(dtype)
    new = 0.2 + torch.rand(sk.num_bones, dtype=dtype, generator=torch.Generator().manual_seed(1))
    out = retarget_bone_lengths(joints, new, sk)
    before, after = joints_to_bones(joints, sk), joints_to_bones(out, sk)
    tol = 10 * tolerance(dtype)
    assert (after.lengths - new).abs().max() < tol
    assert (after.directions - before.directions).abs().max() < 1e-5
    assert (out[..., sk.root, :] - joints[..., sk.root, :]).abs().max() < tol


def test_retarget_to_own_lengths_is_identity():
    joints = random_poses(batch=(4,))
    out = retarget_bone_lengths(joints, joints_to_bones(joints, H36M_17).lengths, H36M_17)
    assert torch.allclose(out, joints, atol=1e-12)


@pytest.mark.parametrize("sk", [H36M_17, MPI_INF_3DHP_17], ids=lambda s: s.name)
def test_mirroring_twice_is_identity_and_swaps_sides(sk, device, dtype):
    joints = random_poses(sk, batch=(3,)).to(device=device, dtype=dtype)
    once = mirror_joints(joints, sk)
    assert torch.equal(mirror_joints(once, sk), joints)
    left, right = sk.joints_left[0], sk.joints_right[0]
    assert torch.equal(once[:, left, 0], -joints[:, right, 0])
    assert torch.equal(once[:, left, 1:], joints[:, right, 1:])


def test_mirroring_preserves_bone_lengths_up_to_the_bone_permutation():
    joints = random_poses(batch=(3,))
    a = joints_to_bones(joints, H36M_17).lengths
    b = joints_to_bones(mirror_joints(joints, H36M_17), H36M_17).lengths
    perm = torch.tensor(H36M_17.bone_mirror_permutation)
    assert torch.allclose(b, a[:, perm], atol=1e-12)


def test_swap_left_right_on_scores():
    scores = torch.arange(17.0).expand(2, 17)
    swapped = swap_left_right(scores, H36M_17, dim=-1)
    assert swapped[0, 4] == 1 and swapped[0, 1] == 4 and swapped[0, 0] == 0
    assert torch.equal(swap_left_right(swapped, H36M_17, dim=-1), scores)


def test_gradcheck_decomposition_and_reassembly():
    joints = random_poses(batch=(2,)).requires_grad_(True)

    def through_bones(x):
        b = joints_to_bones(x, H36M_17)
        return b.lengths, b.directions

    assert torch.autograd.gradcheck(through_bones, (joints,))
    lengths = (0.1 + torch.rand(2, 16, dtype=torch.float64)).requires_grad_(True)
    dirs = torch.randn(2, 16, 3, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda l, d: bones_to_joints(l, d, H36M_17), (lengths, dirs))
    assert torch.autograd.gradcheck(
        lambda l, d: joint_shifts_from_bones(l, d, H36M_17), (lengths, dirs)
    )
    new = (0.2 + torch.rand(16, dtype=torch.float64)).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x, n: retarget_bone_lengths(x, n, H36M_17), (joints, new)
    )


# ---------------------------------------------------------------- bad input
def test_wrong_joint_count_is_reported():
    with pytest.raises(ValueError, match="expected 17 joints.*got 16"):
        joints_to_bones(torch.zeros(16, 3), H36M_17)


def test_wrong_coordinate_count_is_reported():
    with pytest.raises(ValueError, match="coordinates"):
        joints_to_bones(torch.zeros(17, 4), H36M_17)


def test_nan_is_reported_with_its_index():
    joints = standing_pose()
    joints[5, 1] = float("nan")
    with pytest.raises(ValueError, match=r"NaN.*\(5, 1\)"):
        joints_to_bones(joints, H36M_17)


def test_empty_input_is_reported():
    with pytest.raises(ValueError, match="empty"):
        joints_to_bones(torch.zeros(0, 17, 3), H36M_17)


def test_mismatched_lengths_and_directions_are_reported():
    with pytest.raises(ValueError, match="lengths: expected shape"):
        bones_to_joints(torch.ones(2, 15), torch.ones(2, 16, 3), H36M_17)
    with pytest.raises(ValueError, match="root: expected shape"):
        bones_to_joints(torch.ones(2, 16), torch.ones(2, 16, 3), H36M_17, root=torch.zeros(3))


def test_non_tensor_and_bad_lengths_are_reported():
    with pytest.raises(TypeError, match="torch.Tensor"):
        joints_to_bones([[0.0, 0.0, 0.0]] * 17, H36M_17)
    with pytest.raises(ValueError, match="16 bone lengths"):
        retarget_bone_lengths(standing_pose(), torch.ones(15, dtype=torch.float64), H36M_17)
    with pytest.raises(ValueError, match="non-negative"):
        retarget_bone_lengths(standing_pose(), -torch.ones(16, dtype=torch.float64), H36M_17)
    with pytest.raises(ValueError, match="out of range"):
        joint_shifts(standing_pose(), ((0, 17),))
