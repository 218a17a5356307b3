"""The Pose2Sim converter: person choice, undetected keypoints, gap filling, and the shipped file.

The shipped file is checked for properties (the kept person lies on the 3D's projection in
every frame, no keypoint at pixel (0, 0), filled keypoints interpolated between their
neighbours). When the pose2sim 0.4.15 wheel is in the registry cache (the folder of
``python -m anatomy_lib.data.build_embedded``, or ``$ANATOMY3D_REGISTRY_CACHE``), the file
is rebuilt and compared, and the old rule's faults reported in issue #12 are counted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from anatomy_lib.camera import project
from anatomy_lib.data import load_pose2sim_trial
from anatomy_lib.data.embedded import POSE2SIM_FILE
from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS, read_openpose_json, to_h36m
from anatomy_lib.data.pose2sim import closest_person, convert_pose2sim_camera

#: Human3.6M joints made of one BODY_25B keypoint each (all but pelvis and spine).
SINGLE = [j for j, s in enumerate(KEYPOINT_FORMATS["body25b"].h36m_sources) if len(s) == 1]


@pytest.fixture(scope="module")
def trial():
    return load_pose2sim_trial()


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


# --------------------------------------------------------------------------- the shipped file


def test_kept_person_lies_on_the_projected_3d_in_every_frame(trial):
    # The background person stands 250-630 px from the projection; the performer's
    # detections lie 7-22 px (median per camera) from it.
    for seq in trial:
        err = (seq.keypoints_pixels - project(seq.joints_3d, seq.camera)).norm(dim=-1)
        seen = seq.scores > 0
        per_frame = torch.stack([e[m].median() for e, m in zip(err, seen, strict=True)])
        assert bool(seen.any(-1).all())
        assert float(per_frame.max()) < 50.0, (seq.camera.id, per_frame.argmax())


def test_no_keypoint_left_at_the_origin_and_filled_ones_have_score_zero(trial):
    for seq in trial:
        px = seq.keypoints_pixels
        assert bool(torch.isfinite(px).all())
        at_origin = (px.abs() < 1.0).all(-1)
        assert not bool(at_origin.any()), seq.camera.id
        assert bool(((seq.scores >= 0) & (seq.scores <= 1)).all())
    filled = sum(int((seq.scores[:, SINGLE] == 0).sum()) for seq in trial)
    assert filled > 0  # the trial has undetected keypoints: the checks below are not vacuous


def test_undetected_keypoints_are_interpolated_between_their_neighbours(trial):
    inner = 0
    for seq in trial:
        px, sc = seq.keypoints_pixels.double().numpy(), seq.scores.numpy()
        t_count = len(px)
        for j in SINGLE:
            for start, end in _runs(sc[:, j] == 0):
                if start == 0 or end == t_count:  # ends hold the nearest detection
                    edge = end if start == 0 else start - 1
                    held = np.repeat(px[edge, j][None], end - start, 0)
                    np.testing.assert_allclose(px[start:end, j], held, atol=1e-3)
                    continue
                inner += 1
                a, b = px[start - 1, j], px[end, j]
                w = (np.arange(start, end) - (start - 1)) / (end - (start - 1))
                np.testing.assert_allclose(px[start:end, j], a + w[:, None] * (b - a), atol=1e-3)
                lo, hi = np.minimum(a, b) - 1e-3, np.maximum(a, b) + 1e-3
                assert ((px[start:end, j] >= lo) & (px[start:end, j] <= hi)).all()
    assert inner >= 3


def test_derived_joints_follow_their_sources(trial):
    # pelvis = mid-hips, spine = mid pelvis-thorax; a derived joint's score is its sources' min.
    for seq in trial:
        px, sc = seq.keypoints_pixels.double(), seq.scores
        torch.testing.assert_close(px[:, 0], (px[:, 1] + px[:, 4]) / 2, atol=1e-3, rtol=0)
        torch.testing.assert_close(px[:, 7], (px[:, 0] + px[:, 8]) / 2, atol=1e-3, rtol=0)
        torch.testing.assert_close(sc[:, 0], torch.minimum(sc[:, 1], sc[:, 4]))


# --------------------------------------------------------------------------- person choice


def _person(offset: float, seen: list[int], k: int = 25, score: float = 0.8) -> np.ndarray:
    p = np.zeros((k, 3))
    p[seen, 0] = 100.0 + offset + np.arange(len(seen))
    p[seen, 1] = 200.0 + 3 * np.arange(len(seen))
    p[seen, 2] = score
    return p


def test_closest_person_ignores_keypoints_the_reference_lacks():
    ref = np.full((25, 2), np.nan)
    ref[:5] = _person(0.0, list(range(5)))[:5, :2] + 2.0
    # The performer also shows keypoints the 3D does not project (feet): they must not
    # count against them. The background person shows only projected keypoints.
    near = _person(0.0, list(range(5)) + list(range(19, 25)))
    far = _person(290.0, list(range(5)))
    assert closest_person(np.stack([far, near]), ref) == 1
    assert closest_person(np.stack([near, far]), ref) == 0


def test_closest_person_is_robust_to_one_wild_keypoint_and_skips_undetected():
    ref = np.zeros((25, 2))
    ref[:] = np.nan
    ref[:9] = _person(0.0, list(range(9)))[:9, :2]
    near = _person(0.0, list(range(9)))
    near[3, :2] = [5000.0, 5000.0]  # one outlier: a mean would prefer the far person
    far = _person(120.0, list(range(9)))
    assert closest_person(np.stack([far, near]), ref) == 1
    # Keypoints at (0, 0) are undetected even with a score (counted, they would put this
    # person ~230 px away, behind the far one); confidence 0 likewise.
    partial = _person(0.0, list(range(9)))
    partial[2:9, :2] = 0.0  # "detected" at pixel (0, 0) with score 0.8
    partial[0, 2] = 0.0
    partial[0, :2] += 400.0  # a wrong place, but confidence 0
    assert closest_person(np.stack([far, partial]), ref) == 1
    lone = np.zeros((1, 25, 3))
    lone[0, 2:9, 2] = 0.9  # every keypoint at (0, 0): nothing to compare
    assert closest_person(lone, ref) is None
    assert closest_person(np.zeros((0, 25, 3)), ref) is None


def test_closest_person_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"expected people \(P, K, 3\) and reference \(K, 2\)"):
        closest_person(np.zeros((2, 25, 2)), np.zeros((25, 2)))
    with pytest.raises(ValueError, match="reference"):
        closest_person(np.zeros((2, 25, 3)), np.zeros((17, 2)))


def test_convert_fills_undetected_keypoints_and_empty_frames_over_time():
    t_count = 6
    ref = np.zeros((t_count, 17, 2))
    frames = []
    truth = np.zeros((t_count, 25, 2))
    for t in range(t_count):
        pose = np.zeros((25, 3))
        used = [0, *range(5, 19)]
        pose[used, 0] = 300.0 + 10 * np.arange(len(used)) + 4.0 * t
        pose[used, 1] = 500.0 + 7 * np.arange(len(used)) - 2.0 * t
        pose[used, 2] = 0.9
        truth[t] = pose[:, :2]
        frames.append(pose)
    conv = to_h36m(torch.tensor(truth), torch.ones(t_count, 25), "body25b").keypoints.numpy()
    ref[:] = conv
    frames[2] = frames[2].copy()
    frames[2][9] = 0.0  # left wrist undetected: (0, 0), score 0
    frames[3] = frames[3].copy()
    frames[3][17, 2] = 0.0  # neck: confidence 0 at a real-looking place
    frames[4] = np.zeros((0, 25, 3))  # nobody in this frame
    frames = [f if f.ndim == 3 else f[None] for f in frames]
    kp, sc = convert_pose2sim_camera(frames, ref)
    assert kp.shape == (t_count, 17, 2) and sc.shape == (t_count, 17)
    # Motion is linear in time, so interpolation recovers it exactly.
    np.testing.assert_allclose(kp, conv, atol=1e-9)
    assert sc[2, 13] == 0 and sc[3, 8] == 0 and (sc[4] == 0).all()
    assert (sc[[0, 1, 5]] > 0).all() and sc[2, 12] > 0


# --------------------------------------------------------------------------- rebuild from the wheel


def _wheel() -> Path | None:
    cache = os.environ.get("ANATOMY3D_REGISTRY_CACHE")
    folders = [Path(cache)] if cache else []
    folders.append(Path.home() / ".cache" / "anatomy3d" / "registry")
    for folder in folders:
        found = sorted(folder.glob("pose2sim-0.4.15-*.whl"))
        if found:
            return found[0]
    return None


needs_wheel = pytest.mark.skipif(
    _wheel() is None,
    reason="pose2sim 0.4.15 wheel not in the registry cache (set ANATOMY3D_REGISTRY_CACHE)",
)


@needs_wheel
def test_rebuilding_from_the_wheel_gives_the_shipped_file(tmp_path):
    from anatomy_lib.data.build_embedded import _Archive
    from anatomy_lib.data.pose2sim import build_pose2sim_file

    out = tmp_path / "pose2sim_trial.npz"
    build_pose2sim_file(_Archive(_wheel()), out)
    with np.load(out) as new, np.load(POSE2SIM_FILE) as shipped:
        assert set(new.files) == set(shipped.files)
        for key in ("joints_world", "keypoints_2d", "scores"):
            np.testing.assert_array_equal(new[key], shipped[key], err_msg=key)


@needs_wheel
def test_the_old_rule_kept_the_background_person_and_zero_keypoints(trial):
    """Issue #12's counts: the old rule (mean distance with unprojected keypoints filled with
    1e9) kept the background person in 42 of 100 cam2 frames, and left 103 joints at (0, 0)."""
    from anatomy_lib.data.build_embedded import _Archive
    from anatomy_lib.data.keypoint_formats import read_openpose_people

    arc = _Archive(_wheel())
    old_wrong, old_zero = {}, 0
    for i, seq in enumerate(trial):
        ref = project(seq.joints_3d, seq.camera).double().numpy()
        names = sorted(
            n for n in arc.names if re.match(rf"Pose2Sim/Demo/pose/cam{i + 1}_json/.*\.json$", n)
        )
        coco = [12, 14, 16, 11, 13, 15, 0, 5, 7, 9, 6, 8, 10]
        h36m = [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16]
        wrong, picks = 0, []
        for t, name in enumerate(names):
            people = read_openpose_people(arc.read(name), 25)
            old_ref = np.full((25, 2), 1e9)
            old_ref[coco] = ref[t][h36m]
            old = read_openpose_json(arc.read(name), 25, reference=old_ref)
            new_ref = np.full((25, 2), np.nan)
            new_ref[coco] = ref[t][h36m]
            new = people[closest_person(people, new_ref)]
            wrong += not np.array_equal(old, new)
            picks.append(old)
        old_wrong[seq.camera.id] = wrong
        arr = torch.tensor(np.stack(picks))
        old_h36m = to_h36m(arr[..., :2], arr[..., 2], "body25b").keypoints
        old_zero += int((old_h36m == 0).all(-1).sum())
    assert old_wrong["cam_02"] == 42 and old_wrong["cam_01"] >= 1
    assert old_wrong["cam_03"] == old_wrong["cam_04"] == 0  # one person in those views
    assert old_zero == 103
    assert not bool(torch.stack([(s.keypoints_pixels == 0).all(-1) for s in trial]).any())
