"""``anatomy_lib.smoothing``: Gaussian smoothing of poses over time."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import random_poses
from scipy.ndimage import gaussian_filter1d

from anatomy_lib.smoothing import gaussian_weights, smooth_over_time


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.3, 7.0])
@pytest.mark.parametrize("dim", [0, 1, -3])
def test_equals_scipy_gaussian_filter_with_nearest_edges(sigma, dim):
    """Two implementations: SciPy's ``gaussian_filter1d`` (mode "nearest", 4 sigma)."""
    x = torch.randn(30, 25, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    got = smooth_over_time(x, sigma, dim=dim).numpy()
    want = gaussian_filter1d(x.numpy(), sigma, axis=dim, mode="nearest", truncate=4.0)
    np.testing.assert_allclose(got, want, atol=1e-13, rtol=0)


def test_weights_are_a_normalised_symmetric_gaussian():
    w = gaussian_weights(2.0)
    assert len(w) == 2 * 8 + 1
    torch.testing.assert_close(w, w.flip(0))
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-15)
    k = torch.arange(-8, 9, dtype=torch.float64)
    ratio = w / w[8]
    torch.testing.assert_close(ratio, torch.exp(-(k**2) / 8.0))
    assert gaussian_weights(0.0).tolist() == [1.0]
    assert gaussian_weights(0.1).tolist() == [1.0]  # 4 sigma rounds to 0 frames


def test_zero_sigma_and_one_frame_leave_poses_unchanged(dtype, device):
    x = random_poses(batch=(6,), dtype=dtype).to(device)
    assert torch.equal(smooth_over_time(x, 0.0), x)
    one = x[:1]
    torch.testing.assert_close(smooth_over_time(one, 3.0), one)


def test_still_pose_stays_still_and_linear_motion_passes_inside(dtype, device):
    pose = random_poses(batch=(1,), dtype=dtype).to(device)
    still = pose.expand(20, -1, -1)
    torch.testing.assert_close(smooth_over_time(still, 2.0), still)
    t = torch.arange(40, dtype=dtype, device=device)[:, None, None]
    moving = pose + 0.01 * t * torch.tensor([1.0, -0.5, 0.2], dtype=dtype, device=device)
    out = smooth_over_time(moving, 2.0)
    r = 8  # frames closer than the kernel's radius to an edge see repeated edge frames
    torch.testing.assert_close(out[r:-r], moving[r:-r])
    assert not torch.allclose(out[:r], moving[:r])


def test_white_noise_shrinks_as_predicted():
    """A sum of independent frames weighted by w keeps sqrt(sum w^2) of the noise:
    about 1 / sqrt(2 sqrt(pi) sigma) for a Gaussian."""
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(20000, 4, 3, generator=g, dtype=torch.float64)
    for sigma in (1.0, 3.0):
        kept = smooth_over_time(noise, sigma)[50:-50].std() / noise.std()
        exact = float(gaussian_weights(sigma).square().sum().sqrt())
        assert float(kept) == pytest.approx(exact, rel=0.03)
        assert exact == pytest.approx(1.0 / math.sqrt(2.0 * math.sqrt(math.pi) * sigma), rel=0.02)


def test_commutes_with_a_rotation_and_is_linear():
    x = random_poses(batch=(15,), seed=2)
    y = random_poses(batch=(15,), seed=3)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(4)).double())
    torch.testing.assert_close(smooth_over_time(x @ q.T, 1.5), smooth_over_time(x, 1.5) @ q.T)
    combined = 2.0 * smooth_over_time(x, 1.5) - smooth_over_time(y, 1.5)
    torch.testing.assert_close(smooth_over_time(2.0 * x - y, 1.5), combined)


def test_batched_equals_one_at_a_time():
    x = random_poses(batch=(3, 12), seed=5)  # (videos, T, J, 3)
    batched = smooth_over_time(x, 1.2)
    for i in range(3):
        torch.testing.assert_close(batched[i], smooth_over_time(x[i], 1.2))


def test_gradcheck():
    x = torch.randn(9, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: smooth_over_time(v, 1.3), (x,))


@pytest.mark.parametrize(
    ("x", "sigma", "match"),
    [
        (torch.zeros(5, 17, 3), -1.0, "sigma"),
        (torch.zeros(5, 17, 3), float("nan"), "sigma"),
        (torch.zeros(5, 17, 3), float("inf"), "sigma"),
        (torch.zeros(5, 17, 3, dtype=torch.int64), 1.0, "floating"),
        (torch.zeros(0, 17, 3), 1.0, "at least one frame"),
        (torch.tensor([[[0.0, float("nan"), 0.0]]]).expand(4, 17, 3), 1.0, "NaN"),
    ],
)
def test_bad_input_is_refused(x, sigma, match):
    with pytest.raises(ValueError, match=match):
        smooth_over_time(x, sigma)
