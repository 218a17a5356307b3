"""Exports (anatomy_lib.wild.exports): BVH and TRC round trips, a hand-checked BVH, and one
npz / CSV schema whatever the input."""

import json

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.bones import joints_to_bones, retarget_bone_lengths
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial
from anatomy_lib.data.pose2sim import read_trc
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.wild import Detections, lift_detections
from anatomy_lib.wild.exports import (
    BVH_FROM_CAMERA,
    TRC_FROM_CAMERA,
    parse_formats,
    read_bvh,
    write_bvh,
    write_trc,
)


def _clip(frames: int = 120) -> np.ndarray:
    """A real mocap clip (camera axes, metres) with every bone at its median length."""
    joints = load_default_dataset().sequences[0].joints_3d[:frames].double()
    lengths = joints_to_bones(joints, H36M_17).lengths.median(0).values
    return retarget_bone_lengths(joints, lengths, H36M_17).numpy()


def _bvh_joints(motion) -> np.ndarray:
    idx = [motion.names.index(n) for n in H36M_17.joint_names]
    return motion.positions[:, idx] @ BVH_FROM_CAMERA  # BVH axes -> camera axes


@pytest.mark.parametrize("with_root", [False, True])
def test_bvh_round_trip_recovers_the_joints(tmp_path, with_root):
    joints = _clip()
    root = joints[:, 0].copy() if with_root else None
    relative = joints - joints[:, :1] if not with_root else joints
    path = write_bvh(tmp_path / "clip.bvh", relative, 50.0, root=root)
    motion = read_bvh(path)
    assert motion.positions.shape[0] == len(joints) and motion.fps == pytest.approx(50.0)
    back = _bvh_joints(motion)
    assert np.abs(back - relative).max() < 1e-3  # within 1 mm
    # the rest pose carries the clip's bone lengths
    lengths = joints_to_bones(torch.from_numpy(joints), H36M_17).lengths[0].numpy()
    offsets = {n: np.linalg.norm(o) for n, o in zip(motion.names, motion.offsets, strict=True)}
    for (child, _), length in zip(H36M_17.bones, lengths, strict=True):
        assert offsets[H36M_17.joint_names[child]] == pytest.approx(length, abs=1e-5)


def test_bvh_of_a_lifted_video_round_trips(tmp_path):
    """The model's own output (constant bone lengths), missing frames held."""
    seq = load_pose2sim_trial()[0]
    kp, sc = seq.keypoints_pixels.double().numpy(), seq.scores.double().numpy()
    w, h = seq.image_size
    result = lift_detections(Detections(kp, sc, "h36m", w, h, 60.0), "anatomy_small")
    result.joints_3d[:5] = np.nan  # as if the first frames were missing
    bvh, trc = result.save(tmp_path / "trial_3d.npz", formats="bvh,trc")
    back = _bvh_joints(read_bvh(bvh))
    # bone directions exact, bone lengths the clip's medians (the model's vary a little)
    held = result.joints_3d.copy()
    held[:5] = held[5]
    joints = torch.from_numpy(held)
    lengths = joints_to_bones(joints, H36M_17).lengths.median(0).values
    expected = retarget_bone_lengths(joints, lengths, H36M_17).numpy()
    assert np.abs(back - expected).max() < 1e-3
    np.testing.assert_allclose(back[:5], back[[5] * 5], atol=1e-9)  # held, not invented
    markers, rate = read_trc(trc.read_text())
    assert rate == 60.0 and list(markers) == list(H36M_17.joint_names)


def test_bvh_hand_checked_bent_elbow(tmp_path):
    """Frame 0 is the T-pose (all rotations 0); in frame 1 the left forearm hangs down:
    only the left elbow turns, -90 degrees about Z (rest +X -> -Y)."""
    lengths = {1: 0.1, 2: 0.4, 3: 0.4, 4: 0.1, 5: 0.4, 6: 0.4, 7: 0.25, 8: 0.25, 9: 0.1,
               10: 0.12, 11: 0.15, 12: 0.3, 13: 0.25, 14: 0.15, 15: 0.3, 16: 0.25}  # fmt: skip
    rest_dir = {1: [-1, 0, 0], 2: [0, -1, 0], 3: [0, -1, 0], 4: [1, 0, 0], 5: [0, -1, 0],
                6: [0, -1, 0], 7: [0, 1, 0], 8: [0, 1, 0], 9: [0, 1, 0], 10: [0, 1, 0],
                11: [1, 0, 0], 12: [1, 0, 0], 13: [1, 0, 0], 14: [-1, 0, 0], 15: [-1, 0, 0],
                16: [-1, 0, 0]}  # fmt: skip
    pose = np.zeros((17, 3))  # BVH axes
    for j in range(1, 17):
        pose[j] = pose[H36M_17.parents[j]] + lengths[j] * np.array(rest_dir[j], float)
    bent = pose.copy()
    bent[13] = bent[12] + [0.0, -0.25, 0.0]
    joints = np.stack([pose, bent]) @ BVH_FROM_CAMERA  # to camera axes
    motion = read_bvh(write_bvh(tmp_path / "t.bvh", joints, 25.0))
    angles = motion.channels[:, 6:].reshape(2, -1, 3)  # (frame, node after root, z x y)
    np.testing.assert_allclose(motion.channels[:, :6], 0, atol=1e-6)
    np.testing.assert_allclose(angles[0], 0, atol=1e-4)
    elbow = motion.names.index("left_elbow") - 1
    np.testing.assert_allclose(angles[1, elbow], [-90, 0, 0], atol=1e-4)
    others = np.delete(angles[1], elbow, axis=0)
    np.testing.assert_allclose(others, 0, atol=1e-4)
    text = (tmp_path / "t.bvh").read_text()
    assert "Frame Time: 0.04000000" in text and "ROOT pelvis" in text


def test_trc_round_trip_and_opensim_axes(tmp_path):
    joints = _clip(30)
    joints[7] = np.nan  # a missing frame stays missing
    path = write_trc(tmp_path / "clip.trc", joints, 50.0)
    markers, rate = read_trc(path.read_text())
    assert rate == 50.0 and list(markers) == list(H36M_17.joint_names)
    back = np.stack([markers[n] for n in H36M_17.joint_names], 1) @ TRC_FROM_CAMERA
    np.testing.assert_allclose(back, joints, atol=1e-6)
    assert np.isnan(back[7]).all()
    # OpenSim: Y up (camera y points down), X toward the camera, Z to the person's right
    up = np.array([0.0, -1.0, 0.0]) @ TRC_FROM_CAMERA.T
    toward = np.array([0.0, 0.0, -1.0]) @ TRC_FROM_CAMERA.T
    image_left = np.array([-1.0, 0.0, 0.0]) @ TRC_FROM_CAMERA.T
    np.testing.assert_array_equal([up[1], toward[0], image_left[2]], [1, 1, 1])
    assert np.linalg.det(TRC_FROM_CAMERA) == pytest.approx(1.0)  # a rotation, no mirror


def test_bad_export_input(tmp_path):
    with pytest.raises(ValueError, match=r"expected \(T, 17, 3\)"):
        write_bvh(tmp_path / "x.bvh", np.zeros((4, 16, 3)), 25.0)
    with pytest.raises(ValueError, match="no frame has a finite 3D pose"):
        write_bvh(tmp_path / "x.bvh", np.full((4, 17, 3), np.nan), 25.0)
    with pytest.raises(ValueError, match="positive frame rate"):
        write_trc(tmp_path / "x.trc", np.zeros((4, 17, 3)), 0.0)
    with pytest.raises(ValueError, match="subset of"):
        parse_formats("npz,obj")
    with pytest.raises(ValueError, match="BVH file"):
        (tmp_path / "bad.bvh").write_text("MOTION\n")
        read_bvh(tmp_path / "bad.bvh")
    assert parse_formats(" CSV,npz,csv ") == ["csv", "npz"]


def _schema(npz_path, csv_path):
    with np.load(npz_path) as f:
        keys = sorted(f.files)
        meta = json.loads(str(f["meta_json"]))
    header = csv_path.read_text().splitlines()[0]
    return keys, sorted(meta), header


def test_keypoint_files_and_openpose_folders_write_one_schema(tmp_path, capsys):
    seq = load_pose2sim_trial()[0]
    kp, sc = seq.keypoints_pixels[10:40].numpy(), seq.scores[10:40].numpy().clip(0.05, 1)
    w, h = seq.image_size
    np.savez(tmp_path / "kp.npz", keypoints=kp, scores=sc, width=w, height=h)
    argv = ["infer", str(tmp_path / "kp.npz"), "--format", "npz,csv,bvh,trc", "--fps", "60"]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    files = [tmp_path / f"kp_3d.{ext}" for ext in ("npz", "csv", "bvh", "trc")]
    assert all(f.is_file() and str(f) in out for f in files)
    assert "lifted 30 frames: 30 detected, 0 interpolated, 0 missing" in out
    folder = tmp_path / "op"
    folder.mkdir()
    for t in range(30):
        body = np.concatenate([kp[t], sc[t, :, None]], -1).reshape(-1).tolist()
        (folder / f"op_{t:04d}.json").write_text(
            json.dumps({"people": [{"pose_keypoints_2d": body}]})
        )
    argv = ["infer", str(folder), "--layout", "h36m", "--width", str(w), "--height", str(h)]
    assert cli.main([*argv, "--fps", "60", "--no-figure", "--device", "cpu"]) == 0
    capsys.readouterr()
    op = tmp_path / "op_anatomy3d"
    assert _schema(files[0], files[1]) == _schema(op / "op_3d.npz", op / "op_3d.csv")
    with np.load(files[0]) as a, np.load(op / "op_3d.npz") as b:
        np.testing.assert_allclose(a["joints_3d"], b["joints_3d"], atol=1e-5)  # same lifting
        assert json.loads(str(a["meta_json"]))["schema"] == 2
    assert "Zrotation" in files[2].read_text()[:2000]
