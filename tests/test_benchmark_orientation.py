"""``benchmarks/orientation_errors.py`` measures what it says: the global turn of each
prediction and how it follows the angle of the root ray."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.camera import Camera, project_normalized
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.ray_frame import to_ray_frame
from anatomy_lib.skeleton import H36M_17


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("orientation_errors")


def test_rotation_vectors_of_known_turns(bench):
    angle = math.radians(20)
    c, s = math.cos(angle), math.sin(angle)
    about_y = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)
    about_x = torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64)
    # procrustes_align's rotations act on row vectors: pred @ R.
    got = bench._rotation_about_axes(torch.stack([about_y.T, about_x.T]))
    want = torch.tensor([[0.0, 20.0, 0.0], [20.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(got, want)


def _dataset(frames: int = 60) -> list[PoseSequence]:
    camera = Camera("c", 1000, 1000, (800.0, 800.0), (500.0, 500.0))
    g = torch.Generator().manual_seed(0)
    poses = random_poses(batch=(frames,), seed=4)
    poses = poses - poses[:, :1]
    roots = torch.stack(
        [
            2.0 * torch.rand(frames, generator=g, dtype=torch.float64) - 1.0,
            1.0 * torch.rand(frames, generator=g, dtype=torch.float64) - 0.5,
            torch.full((frames,), 4.0, dtype=torch.float64),
        ],
        -1,
    )
    joints = poses + roots[:, None]
    seq = PoseSequence("S", "a", project_normalized(joints, camera), torch.ones(frames, 17),
                       joints, H36M_17, 50.0, camera=camera)  # fmt: skip
    return [seq]


def test_a_model_blind_to_the_ray_has_slopes_near_one_and_the_truth_zero(bench, monkeypatch):
    data = _dataset()
    seq = data[0]
    truth = seq.joints_3d_relative
    blind = to_ray_frame(truth, seq.joints_3d[:, 0])  # the ray-frame pose, never turned back
    for prediction, slope, rotation in ((truth, 0.0, 0.0), (blind, 1.0, None)):
        result = SimpleNamespace(predictions=[prediction])
        monkeypatch.setattr(bench, "evaluate_dataset", lambda *a, r=result, **k: r)
        report = bench.orientation_errors(None, data)
        assert abs(abs(report["slope_yaw"]) - slope) < 0.05
        assert abs(abs(report["slope_pitch"]) - slope) < 0.05
        if rotation == 0.0:
            assert report["p1"] == 0.0 and report["rotation_deg"] == 0.0
        else:  # turned by the whole ray angle, which no rotation-free error hides
            assert report["rotation_deg"] > 5.0
            assert report["p1_after_rotation"] == pytest.approx(0.0, abs=0.1)
            assert report["p1"] > 10 * report["p1_after_rotation"]


def test_a_turn_made_on_every_frame_is_the_mean_rotation_with_no_spread(bench, monkeypatch):
    data = _dataset()
    truth = data[0].joints_3d_relative
    angle = math.radians(8)
    c, s = math.cos(angle), math.sin(angle)
    about_x = torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64)
    tilted = truth @ about_x.T  # every frame's body turned 8 degrees about the camera's x axis
    result = SimpleNamespace(predictions=[tilted])
    monkeypatch.setattr(bench, "evaluate_dataset", lambda *a, **k: result)
    report = bench.orientation_errors(None, data)
    mean, spread = report["mean_rotation_deg"], report["rotation_sd_deg"]
    assert abs(abs(mean["pitch_x"]) - 8.0) <= 0.1 and report["rotation_deg"] == pytest.approx(
        8.0, abs=0.1
    )
    assert abs(mean["yaw_y"]) <= 0.1 and abs(mean["roll_z"]) <= 0.1
    assert max(spread.values()) <= 0.1


def test_per_video_turns_tell_a_turn_of_one_video_from_one_of_all(bench, monkeypatch):
    first = _dataset(30)[0]
    second = dataclasses.replace(first, subject="T")
    angle = math.radians(6)
    c, s = math.cos(angle), math.sin(angle)
    about_y = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)
    truth = first.joints_3d_relative
    result = SimpleNamespace(predictions=[truth @ about_y.T, truth])  # only the first turned
    monkeypatch.setattr(bench, "evaluate_dataset", lambda *a, **k: result)
    report = bench.orientation_errors(None, [first, second], per_video=True)
    videos = report["mean_rotation_deg_per_video"]
    assert list(videos) == ["S/a/c", "T/a/c"]
    assert abs(abs(videos["S/a/c"]["yaw_y"]) - 6.0) <= 0.1 and abs(videos["T/a/c"]["yaw_y"]) <= 0.1
    assert abs(abs(report["mean_rotation_deg"]["yaw_y"]) - 3.0) <= 0.1  # the mean over both
    assert "mean_rotation_deg_per_video" not in bench.orientation_errors(None, [first, second])
