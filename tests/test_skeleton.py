"""Tests of the Skeleton type and the two human skeletons."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_TREE

from anatomy_lib.skeleton import (
    H36M_17,
    MPI_INF_3DHP_17,
    MPI_INF_3DHP_EVAL_JOINTS,
    Skeleton,
    get_skeleton,
)

SKELETONS = [H36M_17, MPI_INF_3DHP_17, TINY_TREE]


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_every_non_root_joint_is_child_of_exactly_one_bone(sk: Skeleton):
    children = sorted(sk.bone_children)
    assert children == [k for k in range(sk.num_joints) if k != sk.root]
    assert sk.num_bones == sk.num_joints - 1
    for c, p in sk.bones:
        assert sk.parents[c] == p


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_path_matrix_counts_bones_to_root(sk: Skeleton):
    path = sk.path_matrix(dtype=torch.float64)
    assert path.shape == (sk.num_joints, sk.num_bones)
    assert path[sk.root].sum() == 0
    # A joint's path is its parent's path plus its own bone.
    for c, p in sk.bones:
        expected = path[p].clone()
        expected[sk.bone_of_joint[c]] = 1
        assert torch.equal(path[c], expected)


@pytest.mark.parametrize("sk", SKELETONS, ids=lambda s: s.name)
def test_non_bone_pairs_are_all_pairs_minus_bones(sk: Skeleton):
    j = sk.num_joints
    pairs = sk.non_bone_pairs
    assert len(pairs) == j * (j - 1) // 2 - sk.num_bones
    assert all(a < b for a, b in pairs)
    bonded = {frozenset(b) for b in sk.bones}
    assert not any(frozenset(p) in bonded for p in pairs)


def test_h36m_pairs_match_the_paper_count():
    # 17 joints: 136 pairs, 16 of them bones -> 120 long-range pairs for Eq. 2.
    assert len(H36M_17.non_bone_pairs) == 120


@pytest.mark.parametrize("sk", [H36M_17, MPI_INF_3DHP_17], ids=lambda s: s.name)
def test_mirror_permutation_is_an_involution_and_a_tree_symmetry(sk: Skeleton):
    m = sk.mirror_permutation
    assert [m[m[k]] for k in range(sk.num_joints)] == list(range(sk.num_joints))
    bm = sk.bone_mirror_permutation
    assert sorted(bm) == list(range(sk.num_bones))
    for b, (c, p) in enumerate(sk.bones):
        assert sk.bones[bm[b]] == (m[c], m[p])


def test_left_and_right_names_match():
    for sk in (H36M_17, MPI_INF_3DHP_17):
        for left, right in zip(sk.joints_left, sk.joints_right, strict=True):
            assert sk.joint_names[left].replace("left", "right") == sk.joint_names[right]


def test_mpi_skeleton_root_and_eval_subset():
    assert MPI_INF_3DHP_17.root == 14
    assert MPI_INF_3DHP_17.joint_names[14] == "pelvis"
    assert len(MPI_INF_3DHP_EVAL_JOINTS) == 14
    assert 14 not in MPI_INF_3DHP_EVAL_JOINTS


def test_custom_bone_order_is_respected():
    sk = Skeleton("t", ("r", "a", "b"), (-1, 0, 1), bone_order=(2, 1))
    assert sk.bones == ((2, 1), (1, 0))
    assert sk.path_matrix_list[2] == (1, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(joint_names=("a", "b"), parents=(-1, 0, 0)), "joint names"),
        (dict(joint_names=("a", "b"), parents=(-1, -1)), "exactly one root"),
        (dict(joint_names=("a", "b", "c"), parents=(-1, 2, 1)), "cycle"),
        (dict(joint_names=("a", "b"), parents=(-1, 5)), "invalid parent"),
        (dict(joint_names=("a", "b"), parents=(-1, 0), joints_left=(1,)), "differ in length"),
        (dict(joint_names=("a", "b"), parents=(-1, 0), bone_order=(0,)), "bone_order"),
    ],
)
def test_invalid_skeletons_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Skeleton(name="bad", **kwargs)


def test_lookup_errors_name_what_exists():
    assert get_skeleton("h36m") is H36M_17
    with pytest.raises(KeyError, match="known"):
        get_skeleton("smpl")
    with pytest.raises(KeyError, match="no joint"):
        H36M_17.joint_index("tail")
    assert H36M_17.joint_index("left_wrist") == 13
