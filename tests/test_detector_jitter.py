"""``second_difference_jitter`` and ``benchmarks/detector_jitter.py``."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.data.detector_errors import second_difference_jitter
from anatomy_lib.wild.sports2d import load_sports2d_demo


def _noisy_tracks(sigma, frames=400, joints=6, dtype=torch.float64, device="cpu", seed=0):
    """``(len(sigma), T, J, 2)`` tracks moving at constant speed plus white noise."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(len(sigma), frames, joints, 2, generator=g, dtype=torch.float64)
    t = torch.arange(frames, dtype=torch.float64)[:, None, None]
    start = torch.rand(joints, 2, generator=g, dtype=torch.float64) * 300
    tracks = start + 1.7 * t + noise * torch.tensor(sigma, dtype=torch.float64)[:, None, None, None]
    return tracks.to(dtype=dtype, device=device)


def test_recovers_the_standard_deviation_of_white_noise(device, dtype):
    tracks = _noisy_tracks([0.5, 2.0, 6.0], dtype=dtype, device=device)
    scores = torch.ones(tracks.shape[:-1], dtype=dtype, device=device)
    est = second_difference_jitter(tracks, scores)
    assert est.jitter.shape == (3,) and est.jitter.device == tracks.device
    assert torch.allclose(
        est.jitter.double().cpu(), torch.tensor([0.5, 2.0, 6.0]).double(), rtol=0.05
    )
    assert est.samples.tolist() == [2 * 6 * 398] * 3


def test_constant_acceleration_and_a_change_of_unit_leave_it_unchanged():
    tracks = _noisy_tracks([1.5])
    scores = torch.ones(tracks.shape[:-1], dtype=tracks.dtype)
    base = second_difference_jitter(tracks, scores).jitter
    t = torch.arange(tracks.shape[1], dtype=tracks.dtype)[:, None, None]
    accelerated = tracks + 0.3 * t**2  # every second difference moves by 0.6
    assert torch.allclose(second_difference_jitter(accelerated, scores).jitter, base, rtol=1e-6)
    scaled = second_difference_jitter(tracks * 4.0, scores, unit=torch.tensor([4.0])).jitter
    assert torch.allclose(scaled, base, rtol=1e-9)


def test_frames_below_the_score_and_undetected_frames_are_left_out():
    tracks = _noisy_tracks([1.0], frames=300, seed=3)
    scores = torch.ones(tracks.shape[:-1], dtype=tracks.dtype)
    scores[0, 100:120, 2] = 0.2  # a joint hidden for 20 frames
    broken = tracks.clone()
    broken[0, 100:120, 2] += 500.0  # ... and far off while hidden
    broken[0, 200:203] = torch.nan  # three frames not detected at all
    kept = second_difference_jitter(broken, scores)
    clean = second_difference_jitter(tracks, scores)
    # A difference needs the score in all three of its frames: 22 are lost (centred 99-120).
    assert clean.samples.item() == 2 * (6 * 298 - 22)
    assert kept.samples.item() == clean.samples.item() - 2 * 6 * 5  # 5 triplets touch NaNs
    assert torch.isfinite(kept.jitter).all()
    assert kept.jitter.item() == pytest.approx(clean.jitter.item(), rel=0.05)
    # The same jump with full scores is seen: the estimate reads it (it is not the mean).
    loud = second_difference_jitter(broken.nan_to_num(0.0), torch.ones_like(scores))
    assert loud.samples.item() == 2 * 6 * 298


def test_a_few_gross_outliers_barely_move_it():
    tracks = _noisy_tracks([1.0], frames=500, seed=5)
    scores = torch.ones(tracks.shape[:-1], dtype=tracks.dtype)
    g = torch.Generator().manual_seed(1)
    hit = torch.rand(tracks.shape[:-1], generator=g, dtype=tracks.dtype) < 0.01
    spoiled = tracks + 100.0 * hit[..., None]
    assert second_difference_jitter(spoiled, scores).jitter.item() == pytest.approx(1.0, rel=0.1)
    rms = (spoiled[:, 2:] - 2 * spoiled[:, 1:-1] + spoiled[:, :-2]).square().mean().sqrt()
    assert rms.item() / math.sqrt(6) > 5.0  # the plain standard deviation would not survive


def test_batched_equals_one_track_at_a_time():
    tracks = _noisy_tracks([0.7, 3.0, 1.1], frames=80, seed=9)
    scores = torch.rand(tracks.shape[:-1], generator=torch.Generator().manual_seed(2))
    scores = scores.to(tracks.dtype)
    units = torch.tensor([1.0, 2.5, 0.4], dtype=tracks.dtype)
    both = second_difference_jitter(tracks, scores, units)
    for i in range(3):
        one = second_difference_jitter(tracks[i], scores[i], units[i])
        assert torch.allclose(both.jitter[i], one.jitter) and both.samples[i] == one.samples


def test_no_usable_difference_gives_nan_and_bad_shapes_are_refused():
    tracks = _noisy_tracks([1.0], frames=10)
    est = second_difference_jitter(tracks, torch.zeros(tracks.shape[:-1], dtype=tracks.dtype))
    assert torch.isnan(est.jitter).all() and est.samples.item() == 0
    with pytest.raises(ValueError, match=r"expected \(\.\.\., T, J, 2\)"):
        second_difference_jitter(tracks[..., :1], torch.ones(tracks.shape[:-1]))
    with pytest.raises(ValueError, match="scores: expected"):
        second_difference_jitter(tracks, torch.ones(1, 10, 5))
    with pytest.raises(ValueError, match="at least 3 frames"):
        second_difference_jitter(tracks[:, :2], torch.ones(1, 2, 6))


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("detector_jitter")


def test_person_unit_is_the_median_vertical_extent_over_500(bench):
    kp = torch.zeros(5, 17, 2, dtype=torch.float64)
    kp[:, 0, 1] = torch.tensor([0.0, 10.0, 0.0, torch.nan, 0.0])
    kp[:, 1, 1] = torch.tensor([300.0, 410.0, 250.0, torch.nan, 350.0])  # extents 300 400 250 350
    assert bench.person_unit(kp).item() == pytest.approx(300.0 / 500.0)  # lower median of 4


def test_group_jitter_reads_known_noise_in_the_person_unit(bench):
    sigma, unit = 1.5, 0.8  # units, pixels per unit
    tracks = _noisy_tracks([sigma * unit], frames=600, joints=17, seed=4)[0]
    scores = torch.ones(tracks.shape[:-1], dtype=tracks.dtype)
    for value in bench.group_jitter(tracks, scores, unit).values():
        assert value.item() == pytest.approx(sigma, rel=0.08)


def test_tracked_people_follow_one_tracklet_each(bench):
    detections = load_sports2d_demo().detections
    people = bench.tracked_people(detections)
    assert len(people) >= 1
    for person in people:
        seen = ~torch.isnan(person["keypoints"]).any(-1).any(-1)
        first, last, count = person["frames"]
        assert int(seen.sum()) == count >= bench.MIN_FRAMES
        assert seen[first] and seen[last] and not seen[:first].any() and not seen[last + 1 :].any()
        assert (person["scores"][~seen] == 0).all()
    # Two people seen in one frame come from different detections.
    for a in range(len(people)):
        for b in range(a + 1, len(people)):
            pa, pb = people[a]["keypoints"], people[b]["keypoints"]
            both = ~torch.isnan(pa[:, 0, 0]) & ~torch.isnan(pb[:, 0, 0])
            assert not (pa[both] == pb[both]).all((-2, -1)).any()


def test_score_quantiles_read_only_the_limbs_of_seen_frames(bench):
    scores = torch.zeros(4, 17, dtype=torch.float64)
    limbs = [bench.H36M_17.joint_names.index(n) for n in bench.LIMBS]
    scores[:, limbs] = torch.linspace(0.0, 1.0, 4 * len(limbs), dtype=torch.float64).reshape(4, -1)
    scores[3] = 5.0  # an unseen frame: ignored
    seen = torch.tensor([True, True, True, False])
    expected = scores[:3, limbs].flatten().quantile(torch.tensor(bench.SCORE_QUANTILES).double())
    assert bench.score_quantiles(scores, seen) == pytest.approx(expected.tolist(), abs=6e-4)
