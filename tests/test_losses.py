"""Tests of the loss terms (Eqs. 2-5) and Eq. 7."""

from __future__ import annotations

import pytest
import torch
from conftest import random_poses

from anatomy_lib.bones import joint_shifts, joint_shifts_from_bones, joints_to_bones
from anatomy_lib.losses import (
    LossWeights,
    bone_direction_loss,
    bone_length_loss,
    joint_shift_loss,
    mpjpe_loss,
    per_frame_joint_loss,
    weighted_sum,
)
from anatomy_lib.skeleton import H36M_17


def test_direction_loss_hand_computed(dtype):
    target = torch.zeros(2, 16, 3, dtype=dtype)
    target[..., 0] = 1
    pred = target.clone()
    pred[0, 3] = torch.tensor([0.0, 1.0, 0.0], dtype=dtype)  # one bone off by 90 degrees
    # Sample 0: |(-1, 1, 0)|^2 = 2; sample 1: 0; batch mean 1.
    assert bone_direction_loss(pred, target).item() == pytest.approx(1.0)
    assert bone_direction_loss(target, target).item() == 0


def test_length_loss_hand_computed():
    target = torch.full((3, 16), 0.3)
    pred = target + 0.1
    assert bone_length_loss(pred, target).item() == pytest.approx(16 * 0.01, rel=1e-5)


def test_mpjpe_loss_of_a_constant_shift_is_its_norm(dtype):
    joints = random_poses(batch=(5,)).to(dtype)
    shift = torch.tensor([0.03, 0.04, 0.0], dtype=dtype)
    assert mpjpe_loss(joints + shift, joints).item() == pytest.approx(0.05, rel=1e-5)


def test_per_frame_loss_picks_one_frame_per_sample():
    target = torch.zeros(4, 10, 17, 3)
    pred = target.clone()
    # Frame f of every sample is off by f centimetres along x.
    pred[..., 0] = torch.arange(10.0).view(1, 10, 1) * 0.01
    g = torch.Generator().manual_seed(3)
    loss = per_frame_joint_loss(pred, target, generator=g)
    pick = torch.randint(10, (4,), generator=torch.Generator().manual_seed(3))
    assert loss.item() == pytest.approx((pick.float() * 0.01).mean().item(), rel=1e-5)
    # Seeded: the same generator state gives the same loss.
    again = per_frame_joint_loss(pred, target, generator=torch.Generator().manual_seed(3))
    assert again.item() == loss.item()


def test_joint_shift_loss_is_zero_for_exact_bones_and_sums_over_pairs():
    joints = random_poses(batch=(3,))
    bones = joints_to_bones(joints, H36M_17)
    target = joint_shifts(joints, H36M_17.non_bone_pairs)
    pred = joint_shifts_from_bones(bones.lengths, bones.directions, H36M_17)
    assert joint_shift_loss(pred, target).item() < 1e-10
    shifted = target + torch.tensor([0.0, 0.0, 0.01], dtype=target.dtype)
    assert joint_shift_loss(shifted, target).item() == pytest.approx(120 * 0.01)


def test_joint_shift_loss_gradient_reaches_only_what_is_not_detached():
    joints = random_poses(batch=(2,)).float()
    bones = joints_to_bones(joints, H36M_17)
    lengths = bones.lengths.clone().requires_grad_(True)
    dirs = (bones.directions + 0.05).requires_grad_(True)
    pred = joint_shifts_from_bones(lengths.detach(), dirs, H36M_17)
    joint_shift_loss(pred, joint_shifts(joints, H36M_17.non_bone_pairs)).backward()
    assert lengths.grad is None
    assert dirs.grad is not None and dirs.grad.abs().sum() > 0


def test_gradcheck_losses():
    a = torch.randn(2, 16, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 16, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: bone_direction_loss(x, b), (a,))
    assert torch.autograd.gradcheck(lambda x: joint_shift_loss(x, b), (a,))
    c = torch.randn(2, 16, dtype=torch.float64, requires_grad=True)
    d = torch.randn(2, 16, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: bone_length_loss(x, d), (c,))


def test_weights_presets_and_weighted_sum():
    paper = LossWeights.preset("paper")
    assert (paper.direction, paper.length, paper.joints, paper.joint_shift) == (
        0.015,
        0.05,
        1.0,
        0.1,
    )
    released = LossWeights.preset("released")
    assert released.first_stage_decay == 0.5 and released.length == 100.0
    terms = {"direction": torch.tensor(2.0), "length": torch.tensor(4.0)}
    total = weighted_sum(terms, paper.to_dict())
    assert total.item() == pytest.approx(0.015 * 2 + 0.05 * 4)
    with pytest.raises(KeyError, match="unknown loss preset"):
        LossWeights.preset("mine")
    with pytest.raises(KeyError, match="no weight"):
        weighted_sum({"extra": torch.tensor(1.0)}, paper.to_dict())


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="same shape"):
        bone_direction_loss(torch.zeros(2, 16, 3), torch.zeros(2, 15, 3))
    with pytest.raises(ValueError, match=r"\(N, l, J, 3\)"):
        per_frame_joint_loss(torch.zeros(10, 17, 3), torch.zeros(10, 17, 3))
    with pytest.raises(ValueError, match="NaN"):
        bone_length_loss(torch.full((2, 16), float("nan")), torch.zeros(2, 16))
