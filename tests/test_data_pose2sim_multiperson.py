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
    MAX_REPROJECTION_PX,
    MIN_FRAMES,
    build_multiperson_file,
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
    trial = load_multiperson_file(out)
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


def test_shipped_trial_reference_reprojects_onto_its_detections():
    trial = load_pose2sim_multiperson()
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
