"""Left and right labels swapped back (anatomy_lib.wild.left_right)."""

import numpy as np
import pytest
import torch

from anatomy_lib.camera import project
from anatomy_lib.data import load_pose2sim_trial
from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS, to_h36m
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.wild import Detections, lift_detections
from anatomy_lib.wild.left_right import GROUPS, find_left_right_swaps, mirror_pairs, swap_back


@pytest.fixture(scope="module")
def trial():
    """The Pose2Sim trial's real OpenPose 2D (pixels, H36M-17) and scores, per camera."""
    return [
        (s.keypoints_pixels.double().numpy(), s.scores.double().numpy())
        for s in load_pose2sim_trial()
    ]


def test_the_trials_detections_are_labelled_as_their_3d(trial):
    """The premise of the tests below: no frame of the trial's OpenPose 2D has its left and
    right swapped (each limb group lies nearer the 3D's projection as labelled)."""
    for (kp, _), seq in zip(trial, load_pose2sim_trial(), strict=True):
        truth = project(seq.joints_3d.double(), seq.camera).numpy()
        for pairs in mirror_pairs("h36m"):
            plain = np.linalg.norm(kp[:, pairs] - truth[:, pairs], axis=-1).sum((1, 2))
            mirrored = np.linalg.norm(kp[:, pairs[:, ::-1]] - truth[:, pairs], axis=-1).sum((1, 2))
            assert (plain < mirrored).all()


def _inject(kp, sc, runs):
    """Swap the groups of ``runs`` ({group index: [(start, stop), ...]}) in h36m 2D."""
    mask = np.zeros((len(kp), len(GROUPS)), dtype=bool)
    for g, spans in runs.items():
        for start, stop in spans:
            mask[start:stop, g] = True
    return (*swap_back(kp, sc, mask), mask)


@pytest.mark.parametrize("layout", ["h36m", *KEYPOINT_FORMATS])
def test_mirror_pairs_swap_the_matching_h36m_joints(layout):
    """Swapping in a detector's layout then converting == converting then swapping."""
    g = np.random.default_rng(0)
    k = 17 if layout == "h36m" else KEYPOINT_FORMATS[layout].num_keypoints
    kp, sc = g.normal(size=(6, k, 2)), g.uniform(size=(6, k))
    mask = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [1, 0], [0, 0]], dtype=bool)

    def h36m(points, scores):
        if layout == "h36m":
            return points, scores
        conv = to_h36m(torch.tensor(points), torch.tensor(scores), layout)
        return conv.keypoints.numpy(), conv.scores.numpy()

    swapped_first = h36m(*swap_back(kp, sc, mask, layout))
    converted_first = swap_back(*h36m(kp, sc), mask, "h36m")
    for a, b in zip(swapped_first, converted_first, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    # Swapping the arms and the legs of every frame is the skeleton's mirror permutation.
    every = np.ones((6, 2), dtype=bool)
    np.testing.assert_array_equal(
        swap_back(*h36m(kp, sc), every)[0], h36m(kp, sc)[0][:, list(H36M_17.mirror_permutation)]
    )
    assert all(not p.flags.writeable for p in mirror_pairs(layout))


def test_real_detections_without_swaps_are_left_alone(trial):
    for kp, sc in trial:
        for causal in (False, True):
            assert not find_left_right_swaps(kp, sc, causal=causal).any()


@pytest.mark.parametrize("causal", [False, True])
def test_injected_swaps_are_found_frame_for_frame(trial, causal):
    for kp, sc in trial:
        swapped_kp, swapped_sc, truth = _inject(
            kp, sc, {0: [(30, 45), (80, 82)], 1: [(60, 65), (80, 82)]}
        )
        found = find_left_right_swaps(swapped_kp, swapped_sc, causal=causal)
        np.testing.assert_array_equal(found, truth)
        back, back_sc = swap_back(swapped_kp, swapped_sc, found)
        np.testing.assert_array_equal(back, kp)
        np.testing.assert_array_equal(back_sc, sc)


def test_a_stretch_keeps_the_labelling_most_of_its_frames_agree_with(trial):
    kp, sc = trial[0]
    swapped_kp, swapped_sc, truth = _inject(kp, sc, {0: [(0, 88)], 1: [(0, 88)]})
    # Only the relative labelling is seen: the 12 frames the detector got right are the
    # minority, so they are the ones swapped; decided causally, the first frame's labels
    # are kept, which gives the same here.
    np.testing.assert_array_equal(find_left_right_swaps(swapped_kp, swapped_sc), ~truth)
    causal = find_left_right_swaps(swapped_kp, swapped_sc, causal=True)
    np.testing.assert_array_equal(causal, ~truth)


def test_decisions_do_not_depend_on_units_or_position(trial):
    kp, sc = trial[1]
    swapped_kp, swapped_sc, truth = _inject(kp, sc, {0: [(20, 26)], 1: [(50, 70)]})
    moved = 0.004 * swapped_kp + np.array([-1.0, 0.3])  # pixels -> normalised-like units
    for causal in (False, True):
        np.testing.assert_array_equal(
            find_left_right_swaps(moved, swapped_sc, causal=causal),
            find_left_right_swaps(swapped_kp, swapped_sc, causal=causal),
        )


def test_causal_decisions_only_use_the_past(trial):
    kp, sc = trial[2]
    swapped_kp, swapped_sc, _ = _inject(kp, sc, {0: [(10, 30)], 1: [(40, 43)]})
    full = find_left_right_swaps(swapped_kp, swapped_sc, causal=True)
    for stop in (12, 31, 41, 70):
        np.testing.assert_array_equal(
            find_left_right_swaps(swapped_kp[:stop], swapped_sc[:stop], causal=True), full[:stop]
        )


def test_unseen_frames_and_long_gaps(trial):
    kp, sc = trial[3]
    swapped_kp, swapped_sc, truth = _inject(kp, sc, {0: [(30, 100)], 1: [(30, 100)]})
    # Frames 20-39 unseen: longer than max_gap, so frames 40-99 are judged afresh, and as a
    # stretch of their own their labels are kept (nothing links them to frames 0-19).
    swapped_kp[20:40], swapped_sc[20:40] = np.nan, 0.0
    assert not find_left_right_swaps(swapped_kp, swapped_sc, max_gap=15).any()
    # A shorter gap (frames 25-29) links them: the swap at frame 30 is found across it and
    # the unseen frames keep the labels of the last frame seen.
    swapped_kp, swapped_sc, truth = _inject(kp, sc, {0: [(30, 60)], 1: [(30, 60)]})
    swapped_kp[25:30], swapped_sc[25:30] = np.nan, 0.0
    np.testing.assert_array_equal(find_left_right_swaps(swapped_kp, swapped_sc, max_gap=15), truth)


def test_the_pipeline_lifts_swapped_detections_as_the_clean_ones(trial):
    kp, sc = trial[0]
    swapped_kp, swapped_sc, truth = _inject(kp, sc, {0: [(30, 50)], 1: [(30, 50)]})

    def detections(points, scores):
        return Detections(points[:, None], scores[:, None], "h36m", 1088, 1920, 60.0)

    clean = lift_detections(detections(kp, sc), "anatomy_small")
    fixed = lift_detections(detections(swapped_kp, swapped_sc), "anatomy_small")
    kept = lift_detections(
        detections(swapped_kp, swapped_sc), "anatomy_small", fix_left_right=False
    )
    np.testing.assert_array_equal(fixed.swapped, truth)
    assert clean.swapped is not None and not clean.swapped.any() and kept.swapped is None
    np.testing.assert_allclose(fixed.joints_3d, clean.joints_3d, atol=1e-6)
    assert np.abs(kept.joints_3d[35] - clean.joints_3d[35]).max() > 0.05  # faces the other way


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"keypoints: expected shape \(T, K, 2\)"):
        find_left_right_swaps(np.zeros((5, 17)), np.zeros((5, 17)))
    with pytest.raises(ValueError, match="scores: expected shape"):
        find_left_right_swaps(np.zeros((5, 17, 2)), np.zeros((5, 16)))
    with pytest.raises(ValueError, match="swap_cost"):
        find_left_right_swaps(np.zeros((5, 17, 2)), np.zeros((5, 17)), swap_cost=0)
    with pytest.raises(ValueError, match="too few for layout"):
        find_left_right_swaps(np.zeros((5, 12, 2)), np.zeros((5, 12)))
    with pytest.raises(KeyError, match="unknown keypoint layout"):
        mirror_pairs("body99")
    with pytest.raises(ValueError, match="swaps: expected shape"):
        swap_back(np.zeros((5, 17, 2)), np.zeros((5, 17)), np.zeros((5, 3), dtype=bool))
