"""The multi-person validation trial: Qualisys calibration, matching people across views,
the build's round trip on synthetic detections, and properties of the shipped file."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from anatomy_lib.camera import project, world_to_camera
from anatomy_lib.data import load_pose2sim_multiperson, load_pose2sim_trial
from anatomy_lib.data.embedded import POSE2SIM_MULTIPERSON_FILE
from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS
from anatomy_lib.data.pose2sim import read_qualisys_calibration
from anatomy_lib.data.pose2sim_multiperson import (
    MAX_ASSIGN_PX,
    MAX_REPROJECTION_PX,
    MIN_FRAMES,
    TEST_PERFORMER,
    VALIDATION_PEOPLE,
    assign_to_people,
    build_multiperson_file,
    detector_of,
    load_multiperson_file,
    match_people,
)


@pytest.fixture(scope="module")
def qca_text() -> str:
    with np.load(io.BytesIO(POSE2SIM_MULTIPERSON_FILE.read_bytes())) as f:
        return json.loads(str(f["meta_json"]))["calibration_qca"]


@pytest.fixture(scope="module")
def cameras(qca_text):
    return read_qualisys_calibration(qca_text)


def _fields(cam):
    return np.array(
        [cam.width, cam.height, *cam.focal_length, *cam.center, *cam.radial, *cam.tangential,
         *cam.translation]
    )  # fmt: skip


def test_qualisys_calibration_is_the_test_trials_toml(cameras):
    """Two files of one calibration: the Qualisys XML of pose2sim 0.10.49 and the OpenCV TOML
    of pose2sim 0.4.15 (stored with the test trial) give the same cameras."""
    toml_cams = [s.camera for s in load_pose2sim_trial()]
    assert len(cameras) == len(toml_cams) == 4
    for xml_cam, toml_cam in zip(cameras, toml_cams, strict=True):
        assert np.abs(_fields(xml_cam) - _fields(toml_cam)).max() < 1e-9
        q1, q2 = np.array(xml_cam.orientation), np.array(toml_cam.orientation)
        assert min(np.abs(q1 - q2).max(), np.abs(q1 + q2).max()) < 1e-9


def test_qualisys_calibration_errors_say_what_is_wrong(qca_text):
    with pytest.raises(ValueError, match="not XML"):
        read_qualisys_calibration("camera: 1")
    with pytest.raises(ValueError, match="no <camera>"):
        read_qualisys_calibration("<calibration><cameras/></calibration>")
    broken = qca_text.replace("<intrinsic ", "<intrinsics ", 1)
    with pytest.raises(ValueError, match="camera 'cam01': missing"):
        read_qualisys_calibration(broken)


def _two_people(frames: int = 30, seed: int = 0) -> np.ndarray:
    """``(2, T, 33, 3)`` world keypoints of two walking 'people' 1.5 m apart, metres."""
    g = np.random.default_rng(seed)
    shape = g.uniform(-0.25, 0.25, size=(33, 3)) + np.array([0.0, 0.0, 1.0])
    shape[:, 2] += np.linspace(0.6, -0.9, 33)  # head high, feet low
    t = np.arange(frames)[:, None, None] / 60.0
    a = shape + np.array([-1.0, 0.0, 0.0]) + t * np.array([0.6, 0.1, 0.0])
    b = shape[::-1] * np.array([1.0, 1.0, 1.0]) + np.array([0.6, -0.4, 0.0]) - t * 0.2
    b[..., 2] = shape[..., 2]
    return np.stack([a, b])


def _detections(people: np.ndarray, cameras, seed: int = 1):
    """Slots shuffled per camera and frame; camera 3 misses person 1 in frames 10-19 and
    sees a wrong, shifted copy of person 0 in frames 20-24."""
    g = np.random.default_rng(seed)
    n_people, frames = people.shape[:2]
    kp = np.full((len(cameras), frames, 2, 33, 2), np.nan)
    sc = np.zeros((len(cameras), frames, 2, 33))
    truth = np.zeros((len(cameras), frames, 2), dtype=int)  # person in each slot
    for v, cam in enumerate(cameras):
        px = project(world_to_camera(torch.tensor(people), cam), cam).numpy()
        for t in range(frames):
            order = g.permutation(2)
            for slot, person in enumerate(order):
                kp[v, t, slot], sc[v, t, slot] = px[person, t], 0.9
                truth[v, t, slot] = person
            if v == 3 and 10 <= t < 20:
                gone = int(np.flatnonzero(order == 1)[0])
                kp[v, t, gone], sc[v, t, gone], truth[v, t, gone] = np.nan, 0.0, -1
            if v == 3 and 20 <= t < 25:
                wrong = int(np.flatnonzero(order == 0)[0])
                kp[v, t, wrong] += 400.0
                truth[v, t, wrong] = -1
    return kp, sc, truth


def test_match_people_finds_who_is_who_and_leaves_bad_views_out(cameras):
    people = _two_people()
    kp, sc, truth = _detections(people, cameras)
    slots, view_px = match_people(kp, sc, cameras)
    frames = people.shape[1]
    # one labelling for the whole clip: label 0 is the same true person in every frame
    first = truth[0, 0, slots[0, 0, 0]]
    for t in range(frames):
        for label in range(2):
            person = first if label == 0 else 1 - first
            for v in range(4):
                s = slots[t, label, v]
                if truth[v, t, :].tolist().count(person) == 0:
                    assert s == -1, (t, label, v)  # that camera does not show them correctly
                else:
                    assert s >= 0 and truth[v, t, s] == person, (t, label, v)
    seen = np.isfinite(view_px)
    assert (seen == (slots >= 0)).all()
    assert np.nanmax(view_px) < 1e-3  # exact projections triangulate exactly


def test_build_round_trip(tmp_path, qca_text, cameras):
    people = _two_people(frames=60)
    kp, sc, truth = _detections(people, cameras)
    # camera 2 loses person 1 for good after frame 5: fewer than MIN_FRAMES detections
    for t in range(5, 60):
        gone = np.flatnonzero(truth[2, t] == 1)
        kp[2, t, gone], sc[2, t, gone] = np.nan, 0.0
    out = tmp_path / "trial.npz"
    summary = build_multiperson_file(kp, sc, qca_text, out, 60.0, "synthetic")
    trial = load_multiperson_file(out, people="all")
    weights = KEYPOINT_FORMATS["mediapipe33"].weights(dtype=torch.float64)
    by_person, true_person = {}, {}
    world = torch.einsum("jk,ptkc->ptjc", weights, torch.tensor(people))  # (2, T, 17, 3)
    for seq in trial:
        by_person.setdefault(seq.subject, []).append(seq.camera.id)
        # the reference is one true person's joints (whichever the label is)
        errs = [
            float((seq.joints_3d[seq.valid].double() - world_to_camera(w, seq.camera)[seq.valid])
                  .abs().max())
            for w in world
        ]  # fmt: skip
        assert min(errs) < 1e-4 and max(errs) > 0.5, (seq.subject, errs)
        assert seq.keypoints_2d.isfinite().all()
        true_person[(seq.subject, seq.camera.id)] = int(np.argmin(errs))
    counts = {tag: s["frames_detected_per_camera"] for tag, s in summary.items()}
    for tag, cams in by_person.items():
        assert cams == [c for c, n in counts[tag].items() if n >= MIN_FRAMES]
    assert sum(len(c) for c in by_person.values()) == 7  # camera 3 lost person 1 for good
    for seq in trial:
        if true_person[(seq.subject, seq.camera.id)] == 1:
            # frames 10-19: only cameras 1 and 2 show person 1, fewer than MIN_VIEWS
            assert not seq.valid[10:20].any() and seq.valid[20:].all()
        elif seq.camera.id == "cam04":  # its wrong copy of person 0 was left out
            assert not seq.valid[20:25].any() and seq.valid[:20].all()
        else:
            assert seq.valid.all()


def _projected(people: np.ndarray, cameras) -> np.ndarray:
    """``(N, V, T, 33, 2)`` each person's keypoints projected into each camera."""
    return np.stack(
        [[project(world_to_camera(torch.tensor(p), c), c).numpy() for c in cameras] for p in people]
    )


def test_assign_to_people_by_the_projected_reference(cameras):
    people = _two_people()
    kp, _, truth = _detections(people, cameras, seed=3)
    g = np.random.default_rng(4)
    noisy = kp + g.normal(0.0, 4.0, kp.shape)  # another detector: a few pixels off
    reference = _projected(people, cameras)
    slots = assign_to_people(noisy, reference)  # (T, N, V)
    assert slots.shape == (people.shape[1], 2, len(cameras))
    for v in range(len(cameras)):
        for t in range(people.shape[1]):
            for person in range(2):
                s = slots[t, person, v]
                if person in truth[v, t].tolist():
                    assert truth[v, t, s] == person, (v, t, person)
                else:  # missing, or only the copy shifted by 400 px (farther than allowed)
                    assert s == -1, (v, t, person)
    # no reference (NaN) -> nobody assigned; a detection just past the limit is not taken
    reference[:, 0, 5] = np.nan
    assert (assign_to_people(noisy, reference)[5, :, 0] == -1).all()
    shifted = kp.copy()
    shifted[1, 7] += MAX_ASSIGN_PX * 1.01
    assert (assign_to_people(shifted, _projected(people, cameras))[7, :, 1] == -1).all()
    # the slot order of the detections does not matter
    swapped = kp[:, :, ::-1]
    flipped = assign_to_people(swapped, _projected(people, cameras))
    plain = assign_to_people(kp, _projected(people, cameras))
    assert (np.where(flipped >= 0, 1 - flipped, -1) == plain).all()


def test_build_with_other_detectors(tmp_path, qca_text, cameras):
    people = _two_people(frames=60)
    kp, sc, truth = _detections(people, cameras)
    g = np.random.default_rng(7)
    other_kp = kp[:, :, ::-1] + g.normal(0.0, 3.0, kp.shape)  # other slot order, other errors
    other_sc = sc[:, :, ::-1] * 0.8
    other_kp[0, :, :, :, :] = np.nan  # this detector never finds anyone in camera 1
    other_sc[0] = 0.0
    alone, both = tmp_path / "full.npz", tmp_path / "both.npz"
    build_multiperson_file(kp, sc, qca_text, alone, 60.0, "synthetic")
    blind = (np.full_like(kp, np.nan), np.zeros_like(sc))  # finds nobody anywhere
    summary = build_multiperson_file(
        kp, sc, qca_text, both, 60.0, "synthetic",
        other_detectors={"lite": (other_kp, other_sc), "heavy": blind},
    )  # fmt: skip
    assert all(s["lite_frames_detected_per_camera"]["cam01"] == 0 for s in summary.values())
    # the reference and the full detector's sequences do not depend on the other detector
    with np.load(alone) as a, np.load(both) as b:
        for key in a.files:
            if key != "meta_json":
                np.testing.assert_array_equal(a[key], b[key])
    full = load_multiperson_file(both, people="all")
    assert [s.action for s in full] == [
        s.action for s in load_multiperson_file(alone, people="all")
    ]
    lite = load_multiperson_file(both, detectors="lite", people="all")
    assert {s.action.split()[-1] for s in lite} == {"lite"}
    assert "cam01" not in {s.camera.id for s in lite}
    assert len(load_multiperson_file(both, detectors="all", people="all")) == len(full) + len(lite)
    assert len(load_multiperson_file(both, detectors="heavy", people="all")) == 0
    with np.load(both) as f:
        assert f["person1_heavy_keypoints_2d"].shape == (0, 60, 17, 2)
        assert f["person1_heavy_scores"].shape == (0, 60, 17)
        assert f["person1_heavy_detected"].shape == (0, 60)
    by_key = {(s.subject, s.camera.id): s for s in full}
    for seq in lite:
        ref = by_key[(seq.subject, seq.camera.id)]
        torch.testing.assert_close(seq.joints_3d, ref.joints_3d)  # one reference
        seen = seq.valid & ref.valid
        assert seen.sum() > 20
        gap = (seq.keypoints_pixels - ref.keypoints_pixels)[seen].norm(dim=-1)
        assert 0.5 < float(gap.median()) < 10.0  # the other detector's own 2D, same person
    with pytest.raises(
        ValueError, match=r"detectors: expected some of \['full', 'lite', 'heavy'\]"
    ):
        load_multiperson_file(both, detectors=("medium",))
    with pytest.raises(ValueError, match="detectors: expected"):
        load_multiperson_file(alone, detectors="lite")
    with pytest.raises(ValueError, match="'full' is the reference"):
        build_multiperson_file(
            kp, sc, qca_text, both, 60.0, "x", other_detectors={"full": (kp, sc)}
        )
    with pytest.raises(ValueError, match=r"other_detectors: expected some of .* \['medium'\]"):
        build_multiperson_file(kp, sc, qca_text, both, 60.0, "x", other_detectors={"medium": blind})
    assert {detector_of(s) for s in full} == {"full"} and {detector_of(s) for s in lite} == {"lite"}


def test_shipped_trial_reference_reprojects_onto_its_detections():
    trial = load_pose2sim_multiperson(people="all")
    assert {s.subject for s in trial} == {"person1", "person2"}
    assert len(trial.sequences) == 7
    with np.load(io.BytesIO(POSE2SIM_MULTIPERSON_FILE.read_bytes())) as f:
        for tag in ("person1", "person2"):
            valid, view_px = f[f"{tag}_valid"], f[f"{tag}_view_px"]
            assert valid.sum() >= 50
            assert np.nanmax(view_px[valid]) <= MAX_REPROJECTION_PX
            assert (np.isfinite(view_px[valid]).sum(-1) >= 3).all()
            assert (f[f"{tag}_detected"].sum(-1) >= MIN_FRAMES).all()
    for seq in trial:
        cam = seq.camera
        reference = project(seq.joints_3d.double(), cam)[seq.valid]
        detected = seq.keypoints_pixels.double()[seq.valid]
        assert float((reference - detected).norm(dim=-1).median()) < MAX_REPROJECTION_PX
        # the 3D is one body seen by every camera: camera axes differ, world points do not
        world = seq.joints_world.double()
        assert torch.allclose(world_to_camera(world, cam), seq.joints_3d.double(), atol=1e-5)


def _world_gap_mm(seq, test_world: np.ndarray, offset: int) -> float:
    """Median over ``seq``'s scored frames of the mean distance (15 joints without the nose
    and head, whose definitions differ) between its world 3D at frame t and the test
    trial's at t + offset, mm."""
    body = [j for j in range(17) if j not in (9, 10)]
    world = seq.joints_world.double().numpy()[:, body]
    frames = np.flatnonzero(seq.valid.numpy())
    frames = frames[(frames + offset >= 0) & (frames + offset < len(test_world))]
    gaps = np.linalg.norm(world[frames] - test_world[frames + offset][:, body], axis=-1).mean(-1)
    return 1000 * float(np.median(gaps))


def test_only_the_person_who_is_not_the_test_performer_validates():
    """The trial's video is the test trial's recording with a second person added: person 1
    is the test performer in the test frames (a few frames apart, same world axes) and is
    left out unless asked for; person 2 is nowhere near him at any offset."""
    test_world = load_pose2sim_trial().sequences[0].joints_world.double().numpy()
    everyone = {s.subject: s for s in load_pose2sim_multiperson(people="all")}
    offsets = range(-10, 11)
    performer = min(_world_gap_mm(everyone[TEST_PERFORMER], test_world, o) for o in offsets)
    assert performer < 100.0
    for person in VALIDATION_PEOPLE:
        assert min(_world_gap_mm(everyone[person], test_world, o) for o in offsets) > 500.0
    default = load_pose2sim_multiperson(detectors="all")
    assert {s.subject for s in default} == set(VALIDATION_PEOPLE) == {"person2"}
    assert len(default.sequences) == 9  # cameras 1, 2, 4 x full, lite, heavy
    only = load_multiperson_file(POSE2SIM_MULTIPERSON_FILE, people=TEST_PERFORMER)
    assert {s.subject for s in only} == {TEST_PERFORMER}
    with pytest.raises(ValueError, match=r"people: expected some of \['person1', 'person2'\]"):
        load_multiperson_file(POSE2SIM_MULTIPERSON_FILE, people=("person3",))
