"""Detections, MediaPipe-33 -> Human3.6M-17 conversion, and the (optional) MediaPipe wrapper."""

import builtins
import json
import sys
import types

import numpy as np
import pytest
import torch

from anatomy_lib.skeleton import H36M_17
from anatomy_lib.wild import (
    MEDIAPIPE_33_NAMES,
    Detections,
    MediaPipePoseDetector,
    landmarks_to_pixels,
    mediapipe_available,
    mediapipe_to_h36m,
)
from anatomy_lib.wild import detector as detector_module
from anatomy_lib.wild.detector import POSE_MODELS_PACKAGE, check_pose_model, pose_model_file
from anatomy_lib.wild.sports2d import ASSETS, load_sports2d_demo

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
MP = {n: i for i, n in enumerate(MEDIAPIPE_33_NAMES)}
H = {n: i for i, n in enumerate(H36M_17.joint_names)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("device", DEVICES)
def test_mediapipe_to_h36m_hand_computed(dtype, device):
    gen = torch.Generator().manual_seed(0)
    lm = torch.rand(4, 33, 2, generator=gen, dtype=dtype).to(device)
    vis = torch.rand(4, 33, generator=gen, dtype=dtype).to(device)
    kp, sc = mediapipe_to_h36m(lm, vis)
    assert kp.shape == (4, 17, 2) and sc.shape == (4, 17) and kp.dtype == dtype
    same = {n: n for n in ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
                           "left_ankle", "left_shoulder", "left_elbow", "left_wrist",
                           "right_shoulder", "right_elbow", "right_wrist")}  # fmt: skip
    same["neck_nose"] = "nose"
    for h, m in same.items():
        torch.testing.assert_close(kp[:, H[h]], lm[:, MP[m]])
        torch.testing.assert_close(sc[:, H[h]], vis[:, MP[m]])
    pelvis = (lm[:, MP["left_hip"]] + lm[:, MP["right_hip"]]) / 2
    thorax = (lm[:, MP["left_shoulder"]] + lm[:, MP["right_shoulder"]]) / 2
    torch.testing.assert_close(kp[:, H["pelvis"]], pelvis)
    torch.testing.assert_close(kp[:, H["thorax"]], thorax)
    torch.testing.assert_close(kp[:, H["spine"]], (pelvis + thorax) / 2)
    torch.testing.assert_close(
        kp[:, H["head"]], (lm[:, MP["left_ear"]] + lm[:, MP["right_ear"]]) / 2
    )
    torch.testing.assert_close(
        sc[:, H["spine"]],
        vis[:, [MP["left_hip"], MP["right_hip"], MP["left_shoulder"], MP["right_shoulder"]]].amin(
            -1
        ),
    )


def test_mediapipe_to_h36m_rejects_wrong_count_and_nan():
    with pytest.raises(ValueError, match="33 joints"):
        mediapipe_to_h36m(torch.zeros(2, 17, 2), torch.zeros(2, 17))
    lm = torch.zeros(2, 33, 2)
    lm[1, 5, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        mediapipe_to_h36m(lm, torch.zeros(2, 33))


def test_landmarks_to_pixels():
    lm = np.array([[0.0, 0.0, 5.0], [1.0, 1.0, 0.0], [0.25, 0.5, 0.0]])
    np.testing.assert_allclose(landmarks_to_pixels(lm, 640, 480), [[0, 0], [640, 480], [160, 240]])
    with pytest.raises(ValueError, match=r"\(\.\.\., 2 or more\)"):
        landmarks_to_pixels(np.zeros((3, 1)), 10, 10)


def test_detections_round_trip_and_single_person_input(tmp_path):
    rng = np.random.default_rng(1)
    kp = rng.random((6, 33, 2)) * 100
    kp[2] = np.nan
    sc = rng.random((6, 33))
    sc[2] = 0
    det = Detections(kp, sc, "mediapipe33", 1280, 720, 30.0, "test")
    assert det.keypoints.shape == (6, 1, 33, 2)
    np.testing.assert_array_equal(det.num_found, [1, 1, 0, 1, 1, 1])
    det.save(tmp_path / "d.npz")
    back = Detections.load(tmp_path / "d.npz")
    np.testing.assert_allclose(back.keypoints, det.keypoints.astype(np.float32), equal_nan=True)
    np.testing.assert_allclose(back.scores, det.scores.astype(np.float32))
    assert (back.layout, back.width, back.height, back.fps, back.source) == (
        "mediapipe33", 1280, 720, 30.0, "test",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"keypoints": np.zeros((3, 17, 2))}, r"expected \(T, P, 33, 2\)"),
        ({"scores": np.full((3, 33), 1.5)}, r"\[0, 1\]"),
        ({"scores": np.zeros((3, 32))}, "scores: expected shape"),
        ({"layout": "openpose"}, "layout: expected one of"),
        ({"keypoints": np.full((3, 33, 2), np.inf)}, "infinite"),
        ({"fps": 0.0}, "positive"),
    ],
)
def test_detections_bad_input(kwargs, match):
    args = {"keypoints": np.zeros((3, 33, 2)), "scores": np.zeros((3, 33)),
            "layout": "mediapipe33", "width": 10, "height": 10, "fps": 30.0} | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=match):
        Detections(**args)


def test_detections_load_rejects_other_npz(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(KeyError, match="expected a Detections npz"):
        Detections.load(tmp_path / "x.npz")


def test_openpose_folder_keeps_every_person(tmp_path):
    def person(x):
        return {"pose_keypoints_2d": [v for k in range(25) for v in (x + k, 2.0 * k, 0.5)]}

    frames = [[person(10), person(500)], [], [person(12)]]
    for t, people in enumerate(frames):
        (tmp_path / f"f_{t:03d}.json").write_text(json.dumps({"people": people}))
    det = Detections.from_openpose_folder(tmp_path, "body25", 640, 480, 25.0)
    assert det.keypoints.shape == (3, 2, 25, 2)
    np.testing.assert_array_equal(det.num_found, [2, 0, 1])
    assert det.keypoints[0, 1, 3, 0] == 503 and det.scores[2, 0, 7] == 0.5
    assert np.isnan(det.keypoints[1]).all() and (det.scores[1] == 0).all()
    (tmp_path / "f_003.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2]}]}))
    with pytest.raises(ValueError, match="expected 75"):
        Detections.from_openpose_folder(tmp_path, "body25", 640, 480, 25.0)


def test_missing_mediapipe_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_mediapipe(name, *args, **kwargs):
        if name.startswith("mediapipe"):
            raise ImportError("No module named 'mediapipe'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mediapipe)
    assert not mediapipe_available()
    with pytest.raises(ImportError, match=r"anatomy3d\[wild\]"):
        MediaPipePoseDetector()


@pytest.fixture
def fake_mediapipe(monkeypatch, tmp_path):
    """A stand-in ``mediapipe`` package in ``tmp_path`` whose ``Pose`` records its options."""
    package = types.ModuleType("mediapipe")
    package.__file__ = str(tmp_path / "mediapipe" / "__init__.py")
    made = []

    class Pose:
        def __init__(self, **options):
            made.append(options)

        def close(self):
            pass

    monkeypatch.setitem(sys.modules, "mediapipe", package)
    monkeypatch.setattr(
        detector_module, "_import_pose_solution", lambda: types.SimpleNamespace(Pose=Pose)
    )
    return tmp_path / "mediapipe" / "modules" / "pose_landmark", made


def test_pose_model_choice(fake_mediapipe):
    folder, made = fake_mediapipe
    assert pose_model_file(0) == folder / "pose_landmark_lite.tflite"
    assert pose_model_file(2) == folder / "pose_landmark_heavy.tflite"
    for bad in (3, -1, "heavy", 1.0, True):
        with pytest.raises(ValueError, match=r"model_complexity: expected one of \[0, 1, 2\]"):
            MediaPipePoseDetector(model_complexity=bad)
    # A model that is not installed fails here, naming where it goes and where it comes from
    # (MediaPipe itself would try to download it).
    with pytest.raises(FileNotFoundError, match=rf"heavy pose model.*{POSE_MODELS_PACKAGE}"):
        MediaPipePoseDetector(model_complexity=2)
    assert made == []
    assert check_pose_model("full") == 1  # inside the wheel: not looked for
    with pytest.raises(FileNotFoundError, match="lite pose model"):
        check_pose_model("lite")
    with pytest.raises(ValueError, match="pose_model: expected one of lite, full, heavy"):
        check_pose_model("medium")
    folder.mkdir(parents=True)
    (folder / "pose_landmark_heavy.tflite").write_bytes(b"model")
    assert check_pose_model("heavy") == 2
    with MediaPipePoseDetector(model_complexity=2) as det:
        assert det.model_complexity == 2
    assert [m["model_complexity"] for m in made] == [2]


def test_shipped_sports2d_detections():
    demo = load_sports2d_demo()
    det = demo.detections
    assert (det.num_frames, det.layout, det.width, det.height, det.fps) == (
        230, "mediapipe33", 1768, 994, 30.0,
    )  # fmt: skip
    assert (det.num_found >= 1).mean() > 0.9
    assert len(demo.frames) == len(demo.frame_indices) >= 10
    assert demo.frames[0].shape == (202, 360, 3)
    assert (ASSETS / "LICENSE-sports2d.txt").read_text().startswith("BSD 3-Clause License")


@pytest.mark.skipif(not mediapipe_available(), reason="MediaPipe not installed (wild extra)")
def test_real_mediapipe_finds_the_man_on_the_box():
    demo = load_sports2d_demo()
    t = int(np.flatnonzero(demo.frame_indices == 80)[0])
    frame = np.repeat(np.repeat(demo.frames[t], 3, 0), 3, 1)  # 1080 x 606, upscaled
    with MediaPipePoseDetector(static_image_mode=True) as det:
        found = det.detect(frame)
    assert found is not None
    kp, vis = found
    hips = kp[[MP["left_hip"], MP["right_hip"]]].mean(0) / 3 / demo.scale
    shipped = np.nanmean(demo.detections.keypoints[80, :, [MP["left_hip"], MP["right_hip"]]], 0)
    assert np.linalg.norm(hips - shipped.reshape(-1, 2), axis=-1).min() < 60
    assert vis.shape == (33,) and ((vis >= 0) & (vis <= 1)).all()
