"""Plotly figures: trace/frame structure and coordinates against the input."""

import numpy as np
import pytest
import torch

from anatomy_lib import H36M_17, MPI_INF_3DHP_17, joints_to_bones
from anatomy_lib.viz import (
    animated_sequence_figure,
    attention_figure,
    bone_lengths_figure,
    keypoints_2d_figure,
    skeleton_figure,
)
from anatomy_lib.viz._common import UP_FRAMES

RNG = np.random.default_rng(0)
POSE = RNG.normal(scale=0.3, size=(17, 3))
SEQ = RNG.normal(scale=0.3, size=(12, 17, 3))


def _joint_trace(fig, name):
    return next(t for t in fig.data if t.name == f"{name} joints")


@pytest.mark.parametrize("up", sorted(UP_FRAMES))
def test_skeleton_figure_joints_are_input_in_display_frame(up):
    fig = skeleton_figure({"truth": POSE, "pred": torch.tensor(POSE) + 0.01}, up=up)
    tr = _joint_trace(fig, "truth")
    shown = np.stack([tr.x, tr.y, tr.z], axis=1)
    np.testing.assert_allclose(shown, POSE @ UP_FRAMES[up].T, atol=5e-5)
    np.testing.assert_allclose(np.array(tr.customdata), POSE, atol=5e-5)
    np.testing.assert_allclose(
        np.array(_joint_trace(fig, "pred").customdata), POSE + 0.01, atol=5e-5
    )
    # floor + (right, left, centre, joints) per pose; floor lies at the lowest joint
    assert [t.name for t in fig.data][0] == "floor" and len(fig.data) == 1 + 2 * 4
    lowest = (np.concatenate([POSE, POSE + 0.01]) @ UP_FRAMES[up].T)[:, 2].min()
    assert np.nanmin(np.array(fig.data[0].z, dtype=float)) == pytest.approx(lowest, abs=1e-4)
    # equal aspect: the three ranges have the same width
    widths = [np.diff(fig.layout.scene[a].range)[0] for a in ("xaxis", "yaxis", "zaxis")]
    np.testing.assert_allclose(widths, widths[0])


def test_side_colouring_puts_each_bone_in_its_side_trace():
    fig = skeleton_figure(POSE, show_floor=False)
    right = fig.data[0]
    # right trace has the bones whose child is a right joint: 3 points per bone
    n_right = sum(c in H36M_17.joints_right for c in H36M_17.bone_children)
    assert right.name.endswith("(right)") and len(right.x) == 3 * n_right
    assert right.line.color != fig.data[1].line.color


def test_length_colouring_uses_bone_lengths():
    fig = skeleton_figure(POSE, color_by="length", show_floor=False)
    lengths = joints_to_bones(torch.tensor(POSE), H36M_17).lengths.numpy()
    np.testing.assert_allclose(np.array(fig.data[0].line.color)[::3], lengths, atol=1e-4)
    assert fig.layout.coloraxis.cmax == pytest.approx(lengths.max(), abs=1e-4)


def test_error_colouring_and_grey_for_missing_names():
    err = np.linspace(0, 0.1, 16)
    fig = skeleton_figure({"truth": POSE, "pred": POSE}, color_by="error", errors={"pred": err})
    pred_bones = next(t for t in fig.data if t.name == "pred (error)")
    np.testing.assert_allclose(np.array(pred_bones.line.color)[1::3], err, atol=1e-4)
    assert all(t.line.color == "#9a9a9a" for t in fig.data if t.name.startswith("truth ("))
    with pytest.raises(ValueError, match="needs errors"):
        skeleton_figure(POSE, color_by="error")
    with pytest.raises(ValueError, match=r"expected shape \(16,\)"):
        skeleton_figure(POSE, color_by="error", errors=np.zeros(17))


def test_side_by_side_uses_one_scene_per_pose():
    fig = skeleton_figure({"a": POSE, "b": POSE}, layout="side_by_side")
    assert {t.scene for t in fig.data} == {"scene", "scene2"}


def test_other_skeleton_and_bad_input():
    pose = RNG.normal(size=(17, 3))
    fig = skeleton_figure(pose, MPI_INF_3DHP_17)
    assert len(_joint_trace(fig, "pose").x) == 17
    with pytest.raises(ValueError, match="expected 17 joints"):
        skeleton_figure(np.zeros((16, 3)))
    with pytest.raises(ValueError, match="NaN"):
        skeleton_figure(np.full((17, 3), np.nan))
    with pytest.raises(ValueError, match="up: expected one of"):
        skeleton_figure(POSE, up="w")
    with pytest.raises(ValueError, match="color_by"):
        skeleton_figure(POSE, color_by="depth")
    with pytest.raises(ValueError, match="animated_sequence_figure"):
        skeleton_figure(SEQ)


def test_animation_frames_slider_and_rounding():
    fig = animated_sequence_figure({"truth": SEQ, "pred": SEQ + 0.001}, step=3)
    kept = list(range(0, 12, 3))
    assert [f.name for f in fig.frames] == [str(t) for t in kept]
    assert [s.label for s in fig.layout.sliders[0].steps] == [str(t) for t in kept]
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    for f, t in zip(fig.frames, kept, strict=True):
        joints = next(d for d in f.data if d.name == "truth joints")
        np.testing.assert_allclose(joints.customdata, SEQ[t], atol=5e-4 + 1e-9)
        assert all(round(v, 3) == v for v in joints.x)  # millimetres
    assert fig.frames[0].traces == tuple(range(1, len(fig.data)))  # floor stays static
    assert len(animated_sequence_figure(SEQ, max_frames=5).frames) == 5


def test_animation_bad_input():
    with pytest.raises(ValueError, match="one common T"):
        animated_sequence_figure({"a": SEQ, "b": SEQ[:5]})
    with pytest.raises(ValueError, match="step"):
        animated_sequence_figure(SEQ, step=0)


def test_keypoints_2d_visibility_and_image():
    kp = RNG.uniform(0, 50, size=(17, 2))
    scores = np.linspace(0, 1, 17)
    img = np.zeros((40, 60, 3), np.uint8)
    fig = keypoints_2d_figure(kp, scores, image=img)
    joints = fig.data[-1]
    np.testing.assert_allclose(np.stack([joints.x, joints.y], 1), kp, atol=1e-4)
    assert np.all(np.diff(joints.marker.opacity) > 0) and np.all(np.diff(joints.marker.size) > 0)
    assert fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert list(fig.layout.yaxis.range) == [40, 0]  # image y axis points down
    seq = keypoints_2d_figure(RNG.normal(size=(6, 17, 2)), RNG.uniform(size=(6, 17)))
    assert len(seq.frames) == 6 and seq.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="scores"):
        keypoints_2d_figure(kp, np.ones(16))


def test_bone_lengths_and_attention_figures():
    lengths = RNG.uniform(0.1, 0.5, size=(20, 16))
    fig = bone_lengths_figure({"truth": lengths, "pred": lengths * 1.1})
    assert len(fig.data) == 32
    np.testing.assert_allclose(fig.data[16 + 3].y, lengths[:, 3] * 1.1, atol=1e-5)
    att = RNG.uniform(size=(4, 16))
    frames = np.array([30, 5, 80, 12])
    fig = attention_figure(att, frames, current_frame=7)
    heat, bar = fig.data
    assert list(heat.y) == ["frame 5", "frame 12", "frame 30", "frame 80"]
    np.testing.assert_allclose(bar.y, att[np.argsort(frames)].mean(1), atol=1e-4)
    assert fig.layout.shapes[0].x0 == 7
    anim = attention_figure(RNG.uniform(size=(3, 4, 16)), RNG.integers(0, 99, size=(3, 4)))
    assert len(anim.frames) == 3
    with pytest.raises(ValueError, match="frame_indices"):
        attention_figure(att, frames[:3])
    with pytest.raises(ValueError, match="attention"):
        attention_figure(np.ones((4, 15)), frames)
