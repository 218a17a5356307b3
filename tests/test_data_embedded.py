"""The shipped datasets, mocap conversion and simulated detections."""

import numpy as np
import pytest
import torch

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.camera import h36m_camera, project, world_to_camera
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial
from anatomy_lib.data.build.mocap import read_urdf_offsets, resample, y_up_to_z_up
from anatomy_lib.data.simulate import (
    DetectorNoiseConfig,
    body_volume,
    occlusion_visibility,
    simulate_detections,
)
from anatomy_lib.skeleton import H36M_17


def test_default_dataset_structure_and_geometry():
    ds = load_default_dataset()
    assert set(ds.train_subjects).isdisjoint(ds.test_subjects)
    assert set(ds.subjects) == set(ds.train_subjects) | set(ds.test_subjects)
    assert len(ds.cameras) == 4 and ds.num_frames > 30000
    for seq in ds.sequences[::7]:
        assert seq.fps == 50.0
        # 3D is the world seen by the camera; detections lie near its projection.
        torch.testing.assert_close(seq.joints_3d, world_to_camera(seq.joints_world, seq.camera))
        err = (seq.keypoints_pixels - project(seq.joints_3d, seq.camera)).norm(dim=-1)
        assert 2.0 < float(err.median()) < 15.0
        assert bool(((seq.scores >= 0) & (seq.scores <= 1)).all())
        # Bone lengths are nearly constant (rigid mocap bodies), in metres.
        lengths = joints_to_bones(seq.joints_world, H36M_17).lengths
        assert float(lengths.std(0).max()) < 0.03 and 0.05 < float(lengths.mean()) < 0.5
    # Visibility has real signal: some occlusion, and scores follow it.
    seq = ds.select(subjects=["CMU01"])[0]
    assert 0.02 < float((seq.visibility < 0.5).float().mean()) < 0.5
    corr = torch.corrcoef(torch.stack([seq.scores.flatten(), seq.visibility.flatten()]))[0, 1]
    assert float(corr) > 0.5


def test_pose2sim_trial_reprojects_within_pixels():
    ds = load_pose2sim_trial()
    assert len(ds) == 4
    for seq in ds:
        assert seq.num_frames == 100 and seq.fps == 60
        err = (seq.keypoints_pixels - project(seq.joints_3d, seq.camera)).norm(dim=-1)
        confident = seq.scores > 0.3
        assert 1.0 < float(err[confident].median()) < 25.0


def test_y_up_to_z_up_is_a_proper_rotation():
    assert np.isclose(np.linalg.det(np.stack([y_up_to_z_up(e) for e in np.eye(3)])), 1.0)
    np.testing.assert_array_equal(y_up_to_z_up(np.array([0.0, 1.0, 0.0])), [0.0, 0.0, 1.0])


_DEEPMIMIC_JOINTS = (
    "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
    "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow",
    "left_wrist",
)  # fmt: skip


def test_urdf_offsets_are_read_as_xml(tmp_path):
    """Joint origins come from the XML tree: comments, attribute order, self-closing tags
    and stray NUL bytes (as in pybullet's humanoid.urdf) do not matter."""
    joints = "".join(
        f'<joint type="spherical" name="{n}"><parent link="a"/><child link="b"/>'
        f'<origin rpy="0 0 0" xyz="{i} 0.5 -1"/></joint>\n'
        for i, n in enumerate(_DEEPMIMIC_JOINTS)
    )
    text = (
        '<?xml version="1.0"?>\n<robot name="humanoid">\n'
        '<!-- <joint name="chest"><origin xyz="9 9 9"/></joint> -->\n'
        f'{joints}<joint name="fixed_no_origin"/></robot>'
    )
    path = tmp_path / "humanoid.urdf"
    path.write_bytes(text.encode() + b"\x00\x00")
    offsets = read_urdf_offsets(path, scale=0.25)
    assert set(offsets) == set(_DEEPMIMIC_JOINTS)
    np.testing.assert_allclose(offsets["chest"], [0.0, 0.125, -0.25])
    np.testing.assert_allclose(offsets["left_wrist"], [13 * 0.25, 0.125, -0.25])
    path.write_text(text.replace('name="neck"', 'name="nape"'))
    with pytest.raises(ValueError, match=r"joints \['neck'\] missing"):
        read_urdf_offsets(path)
    path.write_text("<robot><joint></robot>")
    with pytest.raises(ValueError, match="not valid URDF XML"):
        read_urdf_offsets(path)


def test_runtime_never_imports_the_build_time_readers():
    """The library, CLI, training, evaluation and the shipped data load without
    ``anatomy_lib.data.build`` (the mocap readers are build-time only)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, anatomy_lib, anatomy_lib.cli, anatomy_lib.training, anatomy_lib.evaluation, "
        "anatomy_lib.models, anatomy_lib.data, anatomy_lib.checkpoints\n"
        "from anatomy_lib.data import load_default_dataset, load_pose2sim_trial\n"
        "load_default_dataset(); load_pose2sim_trial()\n"
        "print(sorted(m for m in sys.modules if m.startswith('anatomy_lib.data.build')))"
    )
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_resample_keeps_linear_motion():
    t = np.arange(13)[:, None, None] / 120.0
    x = np.broadcast_to(t * np.array([1.0, 2.0, 3.0]), (13, 2, 3))
    out = resample(x, 120.0, 50.0)
    assert out.shape == (6, 2, 3)  # 0.1 s at 50 Hz
    np.testing.assert_allclose(
        out[:, 0], (np.arange(6) / 50.0)[:, None] * [1.0, 2.0, 3.0], atol=1e-12
    )
    with pytest.raises(ValueError, match="T >= 2"):
        resample(x[:1], 120.0, 50.0)


def test_occlusion_geometry_hand_example():
    # A joint straight behind a torso capsule is hidden; moving it sideways reveals it.
    joints = torch.zeros(1, 17, 3, dtype=torch.float64)
    joints[..., 2] = 4.0
    joints[0, :, 0] = torch.linspace(-1, 1, 17, dtype=torch.float64)  # spread out sideways
    joints[0, 0] = torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64)  # pelvis close to the camera
    joints[0, 7] = torch.tensor([0.0, -0.4, 3.0], dtype=torch.float64)  # spine above it
    joints[0, 16] = torch.tensor(
        [0.0, -0.25, 5.0], dtype=torch.float64
    )  # right wrist behind the trunk
    vis = occlusion_visibility(joints, body_volume(H36M_17))
    assert float(vis[0, 16]) == 0.0
    joints[0, 16, 0] = 1.5
    assert float(occlusion_visibility(joints, body_volume(H36M_17))[0, 16]) == 1.0


def test_simulated_detections_seeded_and_clean_config():
    ds = load_default_dataset()
    seq = ds[0]
    cam = h36m_camera("S1", 0)
    x = seq.joints_3d[:30].double()
    a = simulate_detections(
        x, cam, body_volume(H36M_17), DetectorNoiseConfig(), torch.Generator().manual_seed(4)
    )
    b = simulate_detections(
        x, cam, body_volume(H36M_17), DetectorNoiseConfig(), torch.Generator().manual_seed(4)
    )
    assert torch.equal(a.pixels, b.pixels) and torch.equal(a.scores, b.scores)
    clean = simulate_detections(
        x, cam, body_volume(H36M_17), DetectorNoiseConfig.clean(), torch.Generator()
    )
    torch.testing.assert_close(clean.pixels, project(x, cam))


def test_select_clips_splits_the_dataset_by_clip():
    """``select_clips`` and its ``exclude`` twin partition the sequences: every camera of a
    chosen clip inside, none outside; a clip the dataset lacks is named in the error."""
    ds = load_default_dataset()
    clips = [("ClimberA", "Climb 3"), ("DeepMimic", "Spinkick")]
    inside = ds.select_clips(clips)
    outside = ds.select_clips(clips, exclude=True)
    assert len(inside) == 2 * len(ds.cameras)
    assert {(s.subject, s.action) for s in inside} == set(clips)
    assert not {(s.subject, s.action) for s in outside} & set(clips)
    assert {id(s) for s in inside} | {id(s) for s in outside} == {id(s) for s in ds}
    assert len(inside) + len(outside) == len(ds)
    assert outside.train_subjects == ds.train_subjects  # the splits are kept
    with pytest.raises(KeyError, match="Climb 9"):
        ds.select_clips([("ClimberA", "Climb 9")])
