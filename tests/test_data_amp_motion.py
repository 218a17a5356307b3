"""The shipped AMP motion clips and the functions that build them."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.amp_motion import AMP_MOTION_FILE, load_amp_motion
from anatomy_lib.data.build_motion import (
    AMP_BODY_NAMES,
    AMP_WHEEL,
    amp_to_h36m,
    build,
    convert_amp_clip,
    drop_repeated_frames,
    write_npz_reproducible,
)
from anatomy_lib.data.rotations import euler_xyz_to_matrix as rotation_xyz
from anatomy_lib.skeleton import H36M_17


def _rot_to_wxyz(r: np.ndarray) -> np.ndarray:
    """Quaternion of a rotation matrix (angles below 180 degrees), for building test input."""
    w = 0.5 * np.sqrt(1.0 + np.trace(r))
    return np.array([w, (r[2, 1] - r[1, 2]) / (4 * w), (r[0, 2] - r[2, 0]) / (4 * w),
                     (r[1, 0] - r[0, 1]) / (4 * w)])  # fmt: skip


def test_shipped_clips_shape_rate_floor_and_rigid_deepmimic_body():
    clips = load_amp_motion(dtype=torch.float64)
    assert [name for name, _ in clips] == ["dance", "run", "walk"]
    deepmimic = [s for s in load_default_dataset(torch.float64).sequences]
    deepmimic = [s.joints_world for s in deepmimic if s.subject == "DeepMimic"]
    # the pybullet clips are interpolated (bones slightly shortened): the rigid length is the max
    rigid = torch.cat([joints_to_bones(j, H36M_17).lengths for j in deepmimic]).max(0).values
    for name, joints in clips:
        assert joints.shape[1:] == (17, 3) and joints.shape[0] > 50, name
        lengths = joints_to_bones(joints, H36M_17).lengths
        assert (lengths.max(0).values - lengths.min(0).values).max() < 1e-6, name
        assert (lengths - rigid).abs().max() < 1e-6, name  # the same body, to 1 micrometre
        assert abs(float(joints[..., 2].min()) - 0.05) < 1e-6, name  # lowest joint 5 cm up
        assert 1.4 < float(joints[:, H36M_17.joint_index("head"), 2].median()) < 1.8, name
        speed = (joints[1:] - joints[:-1]).norm(dim=-1) * 50.0  # m/s at 50 Hz
        assert float(speed.max()) < 10.0, name  # no jumps: no joint faster than 10 m/s
    root = dict(clips)["walk"][:, H36M_17.root]
    travelled = (root[-1, :2] - root[0, :2]).norm()
    assert 2.5 < float(travelled) < 5.0  # 2.5 s of walking at 1-2 m/s


def test_loader_dtype_and_bad_files(tmp_path):
    (name, joints), *_ = load_amp_motion(dtype=torch.float32)
    assert joints.dtype == torch.float32 and name == "dance"
    with pytest.raises(FileNotFoundError, match="build_motion"):
        load_amp_motion(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    write_npz_reproducible(bad, {"meta_json": np.array(json.dumps({"format": "other"}))})
    with pytest.raises(ValueError, match="anatomy3d-motion-1"):
        load_amp_motion(bad)


def test_amp_to_h36m_hand_computed_and_rotation_equivariant():
    rng = np.random.default_rng(0)
    t = 3
    pos = rng.normal(size=(t, 15, 3))
    rot = np.tile([1.0, 0.0, 0.0, 0.0], (t, 15, 1))
    out = amp_to_h36m(pos, rot)
    idx = {b: i for i, b in enumerate(AMP_BODY_NAMES)}
    np.testing.assert_allclose(
        out[:, 0], 0.5 * (pos[:, idx["left_thigh"]] + pos[:, idx["right_thigh"]])
    )
    np.testing.assert_allclose(out[:, H36M_17.joint_index("left_wrist")], pos[:, idx["left_hand"]])
    np.testing.assert_allclose(out[:, H36M_17.joint_index("thorax")], pos[:, idx["head"]])
    np.testing.assert_allclose(
        out[:, H36M_17.joint_index("head")], pos[:, idx["head"]] + np.array([0.02, 0.0, 0.23])
    )
    # rotating the whole body (positions and orientations) rotates the output
    r = rotation_xyz(np.array([10.0, -20.0, 35.0]))
    rot_r = np.tile(_rot_to_wxyz(r), (t, 15, 1))  # R times the identity orientations
    out_r = amp_to_h36m(pos @ r.T, rot_r)
    np.testing.assert_allclose(out_r, out @ r.T, atol=1e-12)
    # body order is read from the names, not assumed
    perm = rng.permutation(15)
    names = tuple(AMP_BODY_NAMES[i] for i in perm)
    np.testing.assert_allclose(amp_to_h36m(pos[:, perm], rot[:, perm], names), out)


def test_amp_to_h36m_bad_input():
    with pytest.raises(ValueError, match=r"expected \(T, 15, 3\)"):
        amp_to_h36m(np.zeros((4, 14, 3)), np.zeros((4, 14, 4)))
    with pytest.raises(ValueError, match="wxyz quaternions"):
        amp_to_h36m(np.zeros((4, 15, 3)), np.zeros((4, 15, 3)))
    names = ("root",) + AMP_BODY_NAMES[1:]
    with pytest.raises(ValueError, match="pelvis"):
        amp_to_h36m(np.zeros((4, 15, 3)), np.ones((4, 15, 4)), names)


def test_drop_repeated_frames():
    x = np.arange(10.0).reshape(5, 2)
    doubled = np.repeat(x, 2, axis=0)
    np.testing.assert_array_equal(drop_repeated_frames(doubled), x)
    np.testing.assert_array_equal(drop_repeated_frames(doubled[:-1]), x)  # odd length
    doubled[3] += 1e-6
    with pytest.raises(ValueError, match="repeat"):
        drop_repeated_frames(doubled, "walk")


def test_convert_amp_clip_checks_keys_and_rate():
    with pytest.raises(KeyError, match="body_rotations"):
        convert_amp_clip({"body_names": 0, "body_positions": 0, "fps": 60}, "x")
    data = {"body_names": np.array(AMP_BODY_NAMES), "body_positions": np.zeros((4, 15, 3)),
            "body_rotations": np.zeros((4, 15, 4)), "fps": np.array(30)}  # fmt: skip
    with pytest.raises(ValueError, match="expected fps 60"):
        convert_amp_clip(data, "x")


def test_write_npz_reproducible_round_trip(tmp_path):
    arrays = {"meta_json": np.array('{"a": 1}'), "x": np.arange(12, dtype=np.float32).reshape(3, 4)}
    write_npz_reproducible(tmp_path / "a.npz", arrays)
    os.utime(tmp_path / "a.npz", (0, 0))
    write_npz_reproducible(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as f:
        assert json.loads(str(f["meta_json"])) == {"a": 1}
        np.testing.assert_array_equal(f["x"], arrays["x"])


def _wheel_cache() -> Path | None:
    for folder in (os.environ.get("ANATOMY3D_REGISTRY_CACHE"),
                   Path.home() / ".cache" / "anatomy3d" / "registry"):  # fmt: skip
        if folder and (Path(folder) / AMP_WHEEL).exists():
            return Path(folder)
    return None


@pytest.mark.skipif(_wheel_cache() is None, reason=f"{AMP_WHEEL} not in the registry cache")
def test_rebuild_matches_shipped_file_byte_for_byte(tmp_path):
    meta = build(_wheel_cache(), tmp_path / "amp.npz")
    assert (tmp_path / "amp.npz").read_bytes() == AMP_MOTION_FILE.read_bytes()
    with np.load(io.BytesIO(AMP_MOTION_FILE.read_bytes())) as f:
        assert json.loads(str(f["meta_json"])) == meta
