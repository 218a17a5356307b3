"""Regression check on real detections: lift each Pose2Sim camera with the shipped model and
compare with the triangulated 3D (anatomy_lib.wild.checks)."""

import pytest
import torch

from anatomy_lib.checkpoints import load_pretrained
from anatomy_lib.wild.checks import pose2sim_camera_errors

# Thresholds, millimetres, for the shipped ``anatomy_small`` with test-time flip. Measured on
# 2026-12-01 on the trial as converted since issue #12 (the performer in every frame, gaps
# interpolated) (cam_01..cam_04): P-MPJPE 97.7, 77.8, 100.2, 105.4 (mean 95.3); MPJPE after
# root alignment (metric: the triangulation is in metres) 155.4, 94.1, 168.9, 136.6. (The
# file converted before, with the background person in 42 cam_02 frames: mean P-MPJPE 110.9.)
# Thresholds are about 25 % above the worst camera (and the mean), so a retrained checkpoint
# passes while a broken layout, screen normalisation or checkpoint fails: a random
# permutation of the 17 joints gives P-MPJPE 358-388 mm.
P_MPJPE_MAX_MM = 135.0
P_MPJPE_MEAN_MAX_MM = 120.0
MPJPE_MAX_MM = 215.0


@pytest.fixture(scope="module")
def model():
    return load_pretrained("anatomy_small")  # part of the package: missing = failure


@pytest.fixture(scope="module")
def errors(model):
    return pose2sim_camera_errors(model)


def test_every_camera_is_lifted_within_the_regression_thresholds(errors):
    assert [e.camera for e in errors] == ["cam_01", "cam_02", "cam_03", "cam_04"]
    assert all(e.frames == 100 for e in errors)
    for e in errors:
        assert e.p_mpjpe_mm < P_MPJPE_MAX_MM, e
        assert e.mpjpe_mm < MPJPE_MAX_MM, e
        assert e.p_mpjpe_mm <= e.mpjpe_mm  # alignment can only lower the error
    assert sum(e.p_mpjpe_mm for e in errors) / len(errors) < P_MPJPE_MEAN_MAX_MM


def test_shuffled_joints_break_the_threshold(model):
    """The check is sensitive: feeding the joints in a wrong order fails it."""
    perm = torch.randperm(17, generator=torch.Generator().manual_seed(0))
    shuffled = pose2sim_camera_errors(model, flip=False, joint_order=perm)
    assert min(e.p_mpjpe_mm for e in shuffled) > P_MPJPE_MAX_MM
