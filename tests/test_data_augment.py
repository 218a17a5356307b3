"""Augmentation: bone lengths set exactly, directions kept, projection consistent, flip."""

import pytest
import torch

from anatomy_lib.bones import joints_to_bones, mirror_joints
from anatomy_lib.camera import h36m_camera, project_normalized, project_with_intrinsics
from anatomy_lib.data.augment import (
    BoneLengthAugmentConfig,
    augment_bone_lengths,
    mirror_intrinsics,
    normalized_intrinsics,
)
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17

DTYPES = [torch.float32, torch.float64]


def _poses(skeleton, b, l, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, l, skeleton.num_joints, 3, generator=g, dtype=torch.float64) * 0.3
    x = x - x[..., skeleton.root : skeleton.root + 1, :]
    return x.to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("skeleton", [H36M_17, MPI_INF_3DHP_17])
def test_bone_length_augmentation_properties(skeleton, dtype):
    joints = _poses(skeleton, 6, 5, dtype)
    cams = [h36m_camera("S1", i % 4) for i in range(6)]
    intr = torch.stack([normalized_intrinsics(c, dtype=dtype) for c in cams])
    out = augment_bone_lengths(joints, intr, skeleton, torch.Generator().manual_seed(1))
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-10}
    new = joints_to_bones(out.target_3d, skeleton)
    old = joints_to_bones(joints, skeleton)
    torch.testing.assert_close(
        new.lengths, out.bone_lengths.unsqueeze(1).expand_as(new.lengths), **tol
    )
    torch.testing.assert_close(new.directions, old.directions, **tol)
    # Lengths moved by at most degree/2 * batch mean, and not all unchanged.
    ref = old.lengths.mean(1)
    bound = 0.5 * 0.6 * old.lengths.mean((0, 1)) + 1e-5
    assert bool(((out.bone_lengths - ref).abs() <= bound).all())
    assert not torch.allclose(out.bone_lengths, ref)
    # 2D is the projection of the augmented 3D through each sample's camera.
    for i, cam in enumerate(cams):
        torch.testing.assert_close(
            out.keypoints_2d[i], project_normalized(out.joints_3d[i], cam), **tol
        )
    assert bool((out.joints_3d[..., 2] >= BoneLengthAugmentConfig().min_depth - 1e-6).all())


def test_bone_length_augmentation_is_seeded():
    joints = _poses(H36M_17, 4, 3, torch.float64)
    intr = normalized_intrinsics(h36m_camera("S1", 0), dtype=torch.float64).expand(4, 9)
    a = augment_bone_lengths(joints, intr, H36M_17, torch.Generator().manual_seed(3))
    b = augment_bone_lengths(joints, intr, H36M_17, torch.Generator().manual_seed(3))
    assert torch.equal(a.keypoints_2d, b.keypoints_2d)


def test_mirrored_intrinsics_match_camera_mirrored():
    cam = h36m_camera("S11", 2)
    torch.testing.assert_close(
        mirror_intrinsics(normalized_intrinsics(cam, dtype=torch.float64)),
        normalized_intrinsics(cam.mirrored(), dtype=torch.float64),
    )
    x = _poses(H36M_17, 1, 4, torch.float64)[0] + torch.tensor([0.2, 0.1, 4.0], dtype=torch.float64)
    k = normalized_intrinsics(cam, dtype=torch.float64)
    flipped_2d = mirror_joints(project_with_intrinsics(x, k), H36M_17)
    torch.testing.assert_close(
        project_with_intrinsics(mirror_joints(x, H36M_17), mirror_intrinsics(k)), flipped_2d
    )


def test_augmentation_bad_input():
    joints = _poses(H36M_17, 2, 3, torch.float32)
    with pytest.raises(ValueError, match="intrinsics: expected shape"):
        augment_bone_lengths(joints, torch.zeros(3, 9), H36M_17, torch.Generator())
    with pytest.raises(ValueError, match="expected 17 joints"):
        augment_bone_lengths(joints[..., :5, :], torch.zeros(2, 9), H36M_17, torch.Generator())
