"""Rotations in NumPy (float64), for the data readers: one implementation, tested.

Everything goes through :func:`quaternion_to_matrix` (the same formula and the same
zero-quaternion error as the torch :func:`anatomy_lib.camera.quaternion_to_matrix`):
an axis-angle vector ``theta * k`` is the quaternion ``(cos(theta/2), sin(theta/2) k)``
and Euler angles are products of single-axis rotations. :func:`matrix_to_quaternion`
inverts it. ``tests/test_data_rotations.py`` checks all four against SciPy's ``Rotation``
and against each other.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "axis_angle_to_matrix",
    "euler_xyz_to_matrix",
    "matrix_to_quaternion",
    "quaternion_to_matrix",
]


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from quaternions ``(..., 4)`` as ``(w, x, y, z)``,
    normalised first.

    Raises:
        ValueError: a quaternion of the wrong shape, or a zero quaternion (no rotation).
    """
    q = np.asarray(q, dtype=np.float64)
    if q.ndim < 1 or q.shape[-1] != 4:
        raise ValueError(f"quaternion: expected shape (..., 4) as (w, x, y, z), got {q.shape}")
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError("quaternion: got a zero quaternion, which is no rotation")
    w, x, y, z = np.moveaxis(q / norm, -1, 0)
    m = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return np.stack(m, -1).reshape(q.shape[:-1] + (3, 3))


def axis_angle_to_matrix(r: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from axis-angle vectors ``(..., 3)`` (radians;
    direction = axis, norm = angle; OpenCV's Rodrigues vectors)."""
    r = np.asarray(r, dtype=np.float64)
    if r.ndim < 1 or r.shape[-1] != 3:
        raise ValueError(f"axis-angle: expected shape (..., 3), got {r.shape}")
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    # sin(theta / 2) / theta, which tends to 1/2 as theta -> 0
    half = np.where(theta < 1e-12, 0.5, np.sin(theta / 2) / np.where(theta == 0, 1.0, theta))
    return quaternion_to_matrix(np.concatenate([np.cos(theta / 2), half * r], axis=-1))


def euler_xyz_to_matrix(angles_deg: np.ndarray) -> np.ndarray:
    """Rotation matrices ``Rz @ Ry @ Rx`` ``(..., 3, 3)`` from angles ``(..., 3)`` in degrees
    about x, y, z (x applied first; SciPy's extrinsic ``"xyz"``)."""
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    if a.ndim < 1 or a.shape[-1] != 3:
        raise ValueError(f"Euler angles: expected shape (..., 3), got {a.shape}")
    axes = np.eye(3)
    rx, ry, rz = (axis_angle_to_matrix(a[..., i, None] * axes[i]) for i in range(3))
    return rz @ ry @ rx


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` as ``(w, x, y, z)``, ``w >= 0``, of rotation matrices
    ``(..., 3, 3)``: the inverse of :func:`quaternion_to_matrix` (``q`` and ``-q`` are the
    same rotation; the one with ``w >= 0`` is returned).

    Shepperd's method: the largest of ``4w^2 = 1 + tr``, ``4x^2 = 1 + 2 m00 - tr``, ... is
    taken from the diagonal and the other three from off-diagonal sums / differences, so
    no component comes from a square root near zero (exact also at 180 degrees).
    """
    m = np.asarray(m, dtype=np.float64)
    if m.ndim < 2 or m.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrix: expected shape (..., 3, 3), got {m.shape}")
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    diag = np.stack([tr, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], -1)
    sq = 1 + 2 * diag - tr[..., None]  # 4 w^2, 4 x^2, 4 y^2, 4 z^2
    sq[..., 0] = 1 + tr
    a, b, c = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    d, e, f = m[..., 1, 0] + m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] + m[..., 1, 2]
    # row i: 4 * q_i * (w, x, y, z), from which q follows by dividing by 2 sqrt(sq_i)
    candidates = np.stack(
        [
            np.stack([sq[..., 0], a, b, c], -1),
            np.stack([a, sq[..., 1], d, e], -1),
            np.stack([b, d, sq[..., 2], f], -1),
            np.stack([c, e, f, sq[..., 3]], -1),
        ],
        -2,
    )
    best = np.argmax(sq, axis=-1)
    q = np.take_along_axis(candidates, best[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)
