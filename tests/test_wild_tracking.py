"""Main-person following and gap filling (anatomy_lib.wild.tracking)."""

import numpy as np
import pytest

from anatomy_lib.wild import Detections, FrameStatus, fill_gaps, follow_main_person
from anatomy_lib.wild.sports2d import load_sports2d_demo
from anatomy_lib.wild.tracking import rejoin_tracklets


def _walker(t_count: int, x0: float, speed: float, k: int = 17) -> np.ndarray:
    """(T, K, 2) pixels: a 100 px tall stick figure moving right."""
    base = np.stack([np.linspace(-20, 20, k), np.linspace(-50, 50, k)], -1)
    shift = np.stack([x0 + speed * np.arange(t_count), np.full(t_count, 300.0)], -1)
    return base[None] + shift[:, None]


def test_fill_gaps_interpolates_short_gaps_exactly_and_marks_long_ones():
    kp = _walker(40, 100, 3.0)
    truth = kp.copy()
    sc = np.full(kp.shape[:2], 0.9)
    kp[10:14] = np.nan  # short gap: 4 frames
    kp[20:35] = np.nan  # long gap: 15 frames
    kp[0:2, 3] = np.nan  # one keypoint missing at the start
    out = fill_gaps(kp, sc, max_gap=5)
    assert np.isfinite(out.keypoints).all()
    np.testing.assert_allclose(out.keypoints[10:14], truth[10:14], atol=1e-9)  # linear motion
    assert (out.status[10:14] == FrameStatus.INTERPOLATED).all()
    assert (out.status[20:35] == FrameStatus.MISSING).all()
    # one unseen keypoint never blanks a frame: it is filled with score 0, the frame detected
    assert (out.status[0:2] == FrameStatus.DETECTED).all() and (out.scores[0:2, 3] == 0).all()
    np.testing.assert_array_equal(out.keypoints[0:2, 3], truth[[2, 2], 3])
    assert (out.status[[2, 9, 14, 19, 35]] == FrameStatus.DETECTED).all()
    assert out.counts == {"detected": 21, "interpolated": 4, "missing": 15}
    np.testing.assert_array_equal(out.keypoints[20], truth[19])  # long gap holds
    np.testing.assert_array_equal(out.keypoints[34], truth[35])
    assert (out.scores[10:14] == 0).all() and (out.scores[15] == 0.9).all()


def test_causal_fill_only_uses_the_past():
    kp = _walker(30, 100, 3.0)
    kp[10:22] = np.nan
    sc = np.ones(kp.shape[:2])
    full = fill_gaps(kp, sc, max_gap=5, causal=True)
    for t in (12, 16, 21, 25):
        part = fill_gaps(kp[: t + 1], sc[: t + 1], max_gap=5, causal=True)
        np.testing.assert_array_equal(part.keypoints, full.keypoints[: t + 1])
        np.testing.assert_array_equal(part.status, full.status[: t + 1])
    np.testing.assert_array_equal(full.keypoints[15], kp[9])
    assert (full.status[10:15] == FrameStatus.INTERPOLATED).all()
    assert (full.status[15:22] == FrameStatus.MISSING).all()


def test_fill_gaps_bad_input():
    kp = _walker(5, 0, 1.0)
    sc = np.ones(kp.shape[:2])
    with pytest.raises(ValueError, match="nobody detected"):
        fill_gaps(np.full_like(kp, np.nan), sc, 3)
    kp2 = kp.copy()
    kp2[:, 4] = np.nan
    with pytest.raises(ValueError, match=r"keypoints \[4\] are never detected"):
        fill_gaps(kp2, sc, 3)
    with pytest.raises(ValueError, match="max_gap"):
        fill_gaps(kp, sc, -1)
    with pytest.raises(ValueError, match=r"scores \(T, K\)"):
        fill_gaps(kp, sc[:, :3], 3)


def test_follow_main_person_with_shuffled_slots():
    rng = np.random.default_rng(0)
    t_count = 50
    main = _walker(t_count, 100, 4.0)
    other = _walker(t_count, 900, -4.0)[:, :, :] + np.array([0.0, 150.0])
    kp = np.stack([main, other], 1)
    sc = np.stack([np.full((t_count, 17), 0.9), np.full((t_count, 17), 0.6)], 1)
    kp[30:40, 1] = np.nan  # the other person leaves for a while
    sc[30:40, 1] = 0
    swap = rng.random(t_count) < 0.5
    kp[swap] = kp[swap][:, ::-1]
    sc[swap] = sc[swap][:, ::-1]
    track = follow_main_person(Detections(kp, sc, "h36m", 1000, 600, 25.0))
    np.testing.assert_allclose(track.keypoints, main)
    assert (track.scores == 0.9).all()


def test_identity_switch_of_a_single_person_detector_is_cut():
    """A detector that jumps to a far-away person starts a new tracklet."""
    kp = _walker(60, 100, 2.0)
    kp[40:] = _walker(20, 800, 2.0)  # another person, 3.5 body sizes away
    sc = np.full(kp.shape[:2], 0.8)
    track = follow_main_person(Detections(kp, sc, "h36m", 1000, 600, 25.0))
    assert (track.person[:40] == 0).all() and (track.person[40:] == -1).all()
    assert np.isnan(track.keypoints[40:]).all()


def test_no_person_anywhere_raises():
    kp = np.full((5, 1, 17, 2), np.nan)
    with pytest.raises(ValueError, match="no person detected"):
        follow_main_person(Detections(kp, np.zeros((5, 1, 17)), "h36m", 100, 100, 25.0))


def test_sports2d_follows_the_man_not_the_woman():
    """Real MediaPipe detections: the man walks on the box (hips high in the image), the
    woman walks below it; the single-person detector jumps to her while he is in the air."""
    det = load_sports2d_demo().detections
    track = follow_main_person(det)
    hips = track.keypoints[:, [23, 24], 1].mean(1)  # (T,) y of mid-hips, NaN where not kept
    on_box = np.arange(10, 160)
    assert (track.person[on_box] >= 0).mean() > 0.95
    assert np.nanmax(hips[on_box]) < 450  # the box top is at y ~ 450 px
    # frames 172-182: the man somersaults; any frame kept must not be the woman (x < 500)
    x = track.keypoints[172:183, [23, 24], 0].mean(1)
    assert not (x[~np.isnan(x)] < 500).any()
    assert (track.person[210:225] >= 0).all()  # he is found again after landing


def test_frames_with_too_few_keypoints_are_gaps_and_the_limit_is_an_option():
    kp = _walker(30, 100, 3.0)
    sc = np.full(kp.shape[:2], 0.9)
    kp[10:13, :12] = np.nan  # 5 of 17 keypoints seen: below half
    out = fill_gaps(kp, sc, max_gap=5)
    assert (out.status[10:13] == FrameStatus.INTERPOLATED).all()
    np.testing.assert_allclose(out.keypoints[10:13], _walker(30, 100, 3.0)[10:13], atol=1e-9)
    assert (out.scores[10:13] == 0).all()  # the 5 seen ones are dropped too
    lenient = fill_gaps(kp, sc, max_gap=5, min_keypoints=0.25)
    assert (lenient.status == FrameStatus.DETECTED).all()
    assert (lenient.scores[10:13, 12:] == 0.9).all() and (lenient.scores[10:13, :12] == 0).all()
    with pytest.raises(ValueError, match="min_keypoints"):
        fill_gaps(kp, sc, 5, min_keypoints=0)


def test_causal_fill_of_a_keypoint_unseen_at_first_uses_no_future_frame():
    kp = _walker(20, 100, 3.0)
    kp[:6, 2] = np.nan  # keypoint 2 unseen in the first 6 (detected) frames
    sc = np.ones(kp.shape[:2])
    full = fill_gaps(kp, sc, max_gap=3, causal=True)
    for t in (2, 5, 9):
        part = fill_gaps(kp[: t + 1], sc[: t + 1], max_gap=3, causal=True)
        np.testing.assert_array_equal(part.keypoints, full.keypoints[: t + 1])
    assert (full.status == FrameStatus.DETECTED).all()


def _leaves_and_returns(t_count=300, away=(200, 240)):
    """One walker who leaves the view for frames ``away`` and comes back nearby."""
    kp = _walker(t_count, 100, 1.0)[:, None].copy()
    sc = np.full(kp.shape[:3], 0.9)
    kp[away[0] : away[1]], sc[away[0] : away[1]] = np.nan, 0.0
    return Detections(kp, sc, "h36m", 1000, 600, 30.0)


def test_a_person_who_returns_is_rejoined():
    det = _leaves_and_returns()
    track = follow_main_person(det)
    assert len(track.joined) == 2 and track.main in track.joined
    assert (track.person[240:] == 0).all() and (track.person[:200] == 0).all()
    alone = follow_main_person(det, rejoin=False)
    assert (alone.person[240:] == -1).all()  # without re-joining, the return was dropped
    # a gap at the end of the clip: the 10 frames after it belong to the same person
    end = follow_main_person(_leaves_and_returns(300, (250, 290)))
    assert (end.person[290:] == 0).all()


def test_rejoin_refuses_far_or_differently_sized_returns():
    det = _leaves_and_returns()
    far = det.keypoints.copy()
    far[240:] += np.array([600.0, 0.0])  # 6 body sizes away
    ids = np.where(np.isnan(far[..., 0, 0]), -1, 0)
    ids[240:] = np.where(ids[240:] >= 0, 1, -1)
    moved = Detections(far, det.scores, "h36m", 1000, 600, 30.0)
    assert rejoin_tracklets(ids, moved, 0) == [0]
    small = det.keypoints.copy()
    centre = small[240:].mean(axis=2, keepdims=True)
    small[240:] = centre + 0.4 * (small[240:] - centre)  # 2.5 x smaller: someone else
    shrunk = Detections(small, det.scores, "h36m", 1000, 600, 30.0)
    ids = np.where(np.isnan(small[..., 0, 0]), -1, np.where(np.arange(300) < 240, 0, 1)[:, None])
    assert rejoin_tracklets(ids, shrunk, 0) == [0]
    assert rejoin_tracklets(ids, shrunk, 0, max_size_ratio=3.0) == [0, 1]
    with pytest.raises(ValueError, match="max_size_ratio"):
        rejoin_tracklets(ids, det, 0, max_size_ratio=0.5)


def test_centres_and_sizes_match_a_pose_by_pose_computation():
    from anatomy_lib.wild.tracking import _centre_and_size

    g = np.random.default_rng(3)
    kp = g.uniform(0, 1000, (40, 3, 33, 2))
    sc = g.uniform(0, 1, (40, 3, 33))
    kp[g.uniform(size=(40, 3, 33)) < 0.3] = np.nan
    kp[5, 1] = np.nan  # an empty slot
    kp[7, 2, :31] = np.nan  # two keypoints left
    sc[8, 0] = 0.1  # nothing confident: every seen keypoint counts
    centre, size = _centre_and_size(kp, sc, 0.3)
    for t, p in np.ndindex(40, 3):
        seen = ~np.isnan(kp[t, p]).any(-1)
        use = seen & (sc[t, p] >= 0.3)
        use = seen if use.sum() < 2 else use
        if not use.any():
            assert np.isnan(centre[t, p]).all() and np.isnan(size[t, p])
            continue
        pts = kp[t, p][use]
        np.testing.assert_allclose(centre[t, p], pts.mean(0), rtol=1e-12)
        assert size[t, p] == pytest.approx(max((pts.max(0) - pts.min(0)).max(), 1.0))
