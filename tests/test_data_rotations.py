"""NumPy rotations: against SciPy's Rotation, the torch camera helper, and each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from anatomy_lib.camera import quaternion_to_matrix as torch_quaternion_to_matrix
from anatomy_lib.data.rotations import (
    axis_angle_to_matrix,
    euler_xyz_to_matrix,
    matrix_to_quaternion,
    quaternion_to_matrix,
)

RNG = np.random.default_rng(0)


def _wxyz_to_xyzw(q):
    return np.roll(q, -1, axis=-1)


def test_quaternion_to_matrix_matches_scipy_and_torch():
    q = RNG.normal(size=(50, 4)) * 3
    m = quaternion_to_matrix(q)
    np.testing.assert_allclose(m, Rotation.from_quat(_wxyz_to_xyzw(q)).as_matrix(), atol=1e-14)
    torch_m = torch_quaternion_to_matrix(torch.from_numpy(q)).numpy()
    np.testing.assert_allclose(m, torch_m, atol=1e-15)
    assert quaternion_to_matrix(q.reshape(5, 10, 4)).shape == (5, 10, 3, 3)


def test_axis_angle_matches_scipy_including_zero():
    r = RNG.normal(size=(50, 3))
    r[0] = 0.0
    r[1] = [1e-14, 0, 0]
    r[2] = [np.pi, 0, 0]
    expected = Rotation.from_rotvec(r).as_matrix()
    np.testing.assert_allclose(axis_angle_to_matrix(r), expected, atol=1e-14)
    np.testing.assert_array_equal(axis_angle_to_matrix(np.zeros(3)), np.eye(3))


def test_euler_is_extrinsic_xyz_in_degrees():
    a = RNG.uniform(-180, 180, size=(50, 3))
    expected = Rotation.from_euler("xyz", a, degrees=True).as_matrix()
    np.testing.assert_allclose(euler_xyz_to_matrix(a), expected, atol=1e-14)
    np.testing.assert_allclose(euler_xyz_to_matrix([90.0, 0, 0]) @ [0, 1, 0], [0, 0, 1], atol=1e-15)


def test_matrix_to_quaternion_inverts_including_half_turns():
    q = RNG.normal(size=(200, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    q[q[:, 0] < 0] *= -1
    q[0] = [0, 1 / np.sqrt(2), -1 / np.sqrt(2), 0]  # 180 degrees about (1, -1, 0)
    q[1] = [0, 0, 0, 1]
    q[2] = [1, 0, 0, 0]
    back = matrix_to_quaternion(quaternion_to_matrix(q))
    # q and -q are one rotation; at w == 0 either sign is right
    sign = np.where(np.sum(back * q, axis=-1, keepdims=True) < 0, -1.0, 1.0)
    np.testing.assert_allclose(back * sign, q, atol=1e-14)
    np.testing.assert_allclose(quaternion_to_matrix(back), quaternion_to_matrix(q), atol=1e-14)
    scipy_q = Rotation.from_matrix(quaternion_to_matrix(q[3:])).as_quat(canonical=True)
    np.testing.assert_allclose(back[3:], np.roll(scipy_q, 1, axis=-1), atol=1e-14)


def test_bad_input_raises_like_the_torch_helper():
    with pytest.raises(ValueError, match="zero quaternion"):
        quaternion_to_matrix(np.zeros(4))
    with pytest.raises(ValueError, match="zero quaternion"):
        torch_quaternion_to_matrix(torch.zeros(4))
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 4\)"):
        quaternion_to_matrix(np.zeros(3))
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 3\)"):
        axis_angle_to_matrix(np.zeros(4))
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 3, 3\)"):
        matrix_to_quaternion(np.eye(4))
