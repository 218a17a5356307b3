"""Widgets driven headless: moving a control changes the figures as Eq. 1 predicts."""

import numpy as np
import pytest
import torch

from anatomy_lib import H36M_17, joints_to_bones
from anatomy_lib.viz import BoneLengthEditor, ExplorerPrediction, SequenceExplorer
from anatomy_lib.viz._common import UP_FRAMES
from anatomy_lib.viz.book import BOOK_BUILD_ENV

RNG = np.random.default_rng(1)
POSE = RNG.normal(scale=0.3, size=(17, 3))


def _shown_joints(fig, name):
    tr = next(t for t in fig.data if t.name == f"{name} joints")
    return np.array(tr.customdata, dtype=float)


@pytest.mark.parametrize("bone", [1, 9, 12])
def test_slider_moves_subtree_by_length_difference_along_bone(bone):
    editor = BoneLengthEditor(torch.tensor(POSE))
    before = _shown_joints(editor.figure, "edited")
    child, parent = H36M_17.bones[bone]
    direction = joints_to_bones(torch.tensor(POSE), H36M_17).directions[bone].numpy()
    editor.sliders[bone].value = editor.sliders[bone].value + 0.05
    after = _shown_joints(editor.figure, "edited")
    moved = np.array([H36M_17.path_matrix_list[k][bone] == 1 for k in range(17)])
    assert moved[child] and not moved[parent]
    np.testing.assert_allclose(
        after[moved] - before[moved], np.tile(0.05 * direction, (moved.sum(), 1)), atol=2e-4
    )
    np.testing.assert_allclose(after[~moved], before[~moved], atol=1e-12)
    np.testing.assert_allclose(_shown_joints(editor.figure, "original"), POSE, atol=1e-4)
    # the displayed x/y/z (display frame) follow too
    tr = next(t for t in editor.figure.data if t.name == "edited joints")
    np.testing.assert_allclose(
        np.stack([tr.x, tr.y, tr.z], 1), after @ UP_FRAMES["-y"].T, atol=2e-4
    )
    editor.reset()
    np.testing.assert_allclose(_shown_joints(editor.figure, "edited"), before, atol=1e-12)


def test_editor_lengths_and_bad_pose():
    editor = BoneLengthEditor(POSE)
    np.testing.assert_allclose(
        joints_to_bones(editor.joints, H36M_17).lengths, editor.lengths, atol=1e-9
    )
    with pytest.raises(ValueError, match="expected 17 joints"):
        BoneLengthEditor(np.zeros((16, 3)))


def test_book_build_shows_still_figure_with_note(monkeypatch):
    editor = BoneLengthEditor(POSE)
    live = editor._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in live
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    still = editor._repr_mimebundle_()
    assert "interactive when the notebook runs" in still["text/html"]
    assert "Plotly.newPlot" in still["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in still


def _clips(t=8):
    truth = RNG.normal(scale=0.3, size=(t, 17, 3))
    walk = {
        "keypoints_2d": RNG.normal(size=(t, 17, 2)),
        "scores": RNG.uniform(size=(t, 17)),
        "joints_3d": truth,
    }
    sit = {"keypoints_2d": RNG.normal(size=(t + 2, 17, 2)), "joints_3d": truth[:1].repeat(t + 2, 0)}
    return {"walk": walk, "sit": sit}


def test_explorer_with_callable_follows_frame_and_clip():
    clips = _clips()
    calls = []

    def predict(kp, scores):
        calls.append(kp.shape)
        t = kp.shape[0]
        return {
            "joints_3d": torch.zeros(t, 17, 3, dtype=kp.dtype) + kp[..., :1].mean(),
            "attention": torch.softmax(torch.ones(t, 4, 16), dim=1),
            "attention_frames": torch.arange(4).repeat(t, 1),
        }

    ex = SequenceExplorer(clips, predict=predict)
    ex.frame_slider.value = 5
    truth = clips["walk"]["joints_3d"][5]
    np.testing.assert_allclose(
        _shown_joints(ex.figures["pose_3d"], "truth"), truth - truth[0], atol=1e-4
    )
    pred = np.zeros((17, 3))  # root-relative constant pose
    np.testing.assert_allclose(_shown_joints(ex.figures["pose_3d"], "prediction"), pred, atol=1e-4)
    err_mm = np.linalg.norm(truth - truth[0], axis=-1) * 1000
    np.testing.assert_allclose(ex.figures["joint_error"].data[0].y, err_mm, atol=0.06)
    kp = ex.figures["keypoints_2d"].data[-1]
    np.testing.assert_allclose(kp.x, clips["walk"]["keypoints_2d"][5, :, 0], atol=1e-4)
    assert ex.figures["attention"].layout.shapes[0].x0 == 5
    ex.clip_picker.value = "sit"
    assert ex.frame_slider.max == 9 and len(calls) == 2
    ex.clip_picker.value = "walk"
    assert len(calls) == 2  # predictions are cached per clip


def test_explorer_precomputed_and_errors():
    clips = _clips()
    preds = {
        "walk": clips["walk"]["joints_3d"],
        "sit": ExplorerPrediction(clips["sit"]["joints_3d"]),
    }
    ex = SequenceExplorer(clips, predictions=preds)
    assert set(ex.figures) == {"pose_3d", "keypoints_2d", "joint_error"}
    np.testing.assert_allclose(ex.joint_errors, 0, atol=1e-12)
    with pytest.raises(ValueError, match="exactly one of"):
        SequenceExplorer(clips)
    with pytest.raises(ValueError, match="expected keys"):
        SequenceExplorer(clips, predictions={"walk": preds["walk"]})
    with pytest.raises(ValueError, match=r"expected \(8, 17, 3\)"):
        SequenceExplorer(clips, predict=lambda kp, s: torch.zeros(3, 17, 3))
