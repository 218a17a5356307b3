"""``benchmarks/frame_rate.py``: its rows compare the ways of lifting on the same videos."""

from __future__ import annotations

import pytest
from conftest import load_benchmark

from anatomy_lib.training.engine_data import validation_videos
from anatomy_lib.wild import resolve_model


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("frame_rate")


def test_every_keeps_the_container(bench):
    videos = validation_videos(videos=2)
    half = bench.every(videos, 2)
    assert type(half) is type(videos) and half.name == videos.name
    assert [s.num_frames for s in half] == [-(-s.num_frames // 2) for s in videos]
    as_list = bench.every(list(videos), 2)
    assert isinstance(as_list, list)
    assert all(a.keypoints_2d.equal(b.keypoints_2d) for a, b in zip(as_list, half, strict=True))


def test_engine_rows_differ_only_where_the_rate_differs(bench):
    """At the engine's own 50 fps the two ways are one; at 25 fps they differ, and the
    paired difference is the difference of the videos' own errors."""
    model = resolve_model("anatomy_small")
    videos = validation_videos(videos=3)
    same = bench.engine_rows(model, videos)
    assert same["as_filmed"] == same["at_50hz"] and same["auto_lifts_at"] == 50.0
    assert same["at_50hz_minus_as_filmed"]["mean"] == 0.0
    half = bench.engine_rows(model, bench.every(videos, 2))
    assert half["fps"] == 25.0 and half["auto_lifts_at"] == 50.0
    assert half["as_filmed"] != half["at_50hz"]
    _, filmed = bench.split_errors(model, bench.every(videos, 2), 0.0, None, None)
    _, at_50 = bench.split_errors(model, bench.every(videos, 2), 0.0, None, 50.0)
    expected = sum(b - a for a, b in zip(filmed, at_50, strict=True)) / 3
    assert half["at_50hz_minus_as_filmed"]["mean"] == pytest.approx(expected, abs=0.006)
    # 50 Hz is 25 fps's seen multiple: the third way is the second, row for row
    assert half["at_multiple"] == half["at_50hz"]
    assert half["at_multiple_minus_at_50hz"]["mean"] == 0.0


def test_the_ways_of_lifting(bench):
    assert bench.lifting_ways(30.0) == {"as_filmed": None, "at_50hz": 50.0, "at_multiple": 60.0}
    assert bench.lifting_ways(60.0)["at_multiple"] == 60.0  # inside the seen rates: as filmed
    assert bench.lifting_ways(35.0)["at_multiple"] == 50.0  # no multiple inside: 50 Hz


def test_rendered_videos_move_as_far_per_frame_as_their_camera_rate_says(bench):
    """A camera at half the rate sees the motion move about twice as far per frame."""

    def step_per_frame(fps: float) -> float:
        videos = bench.rendered_at(fps, videos=4)
        assert all(s.fps == fps for s in videos)
        moves = [(s.joints_3d_relative[1:] - s.joints_3d_relative[:-1]).norm(dim=-1).mean()
                 for s in videos]  # fmt: skip
        return float(sum(moves) / len(moves))

    ratio = step_per_frame(25.0) / step_per_frame(50.0)
    assert 1.6 < ratio < 2.4
