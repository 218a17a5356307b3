"""The researcher's path on Human3.6M, end to end, on a fixture in the published format.

The fixture is real motion capture (the embedded dataset's world joints, metres) written
as ``data_3d_h36m.npz`` (32 joints per frame, the 15 dropped ones zero) and
``data_2d_h36m_cpn_ft_h36m_dbb.npz`` (each subject's four Human3.6M cameras, pixels, lens
distortion applied), for one training subject (S1) and one test subject (S9). Human3.6M
itself cannot be downloaded here.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.camera import h36m_camera, project, project_normalized, world_to_camera
from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.h36m import H36M_DROPPED_JOINTS, load_h36m
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset

FRAMES = 80
KEPT = [k for k in range(32) if k not in H36M_DROPPED_JOINTS]


@pytest.fixture(scope="module")
def h36m_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("h36m")
    emb = load_default_dataset()
    clips = {
        ("S1", "Walking"): emb.split("train")[0].joints_world[:FRAMES],
        ("S1", "Eating"): emb.split("train")[1].joints_world[100 : 100 + FRAMES],
        ("S9", "Walking 1"): emb.split("test")[0].joints_world[:FRAMES],
        ("S9", "Directions"): emb.split("test")[1].joints_world[50 : 50 + FRAMES],
    }
    pos3d: dict = {}
    pos2d: dict = {}
    for (subject, action), world17 in clips.items():
        world32 = np.zeros((FRAMES, 32, 3), dtype=np.float32)
        world32[:, KEPT] = world17.numpy()
        pos3d.setdefault(subject, {})[action] = world32
        pos2d.setdefault(subject, {})[action] = [
            project(world_to_camera(world17, cam), cam).numpy().astype(np.float32)
            for cam in (h36m_camera(subject, i) for i in range(4))
        ]
    meta = {"layout_name": "h36m", "num_joints": 17,
            "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}  # fmt: skip
    np.savez_compressed(root / "data_3d_h36m.npz", positions_3d=pos3d)
    np.savez_compressed(
        root / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=pos2d, metadata=meta
    )
    return root


def test_loaded_2d_is_the_projection_of_the_loaded_3d(h36m_root):
    """Loader, camera tables and screen normalisation agree: the 2D the model sees is the
    normalised projection of the camera-space 3D it is trained to predict."""
    with pytest.warns(UserWarning, match=r"\['S5', 'S6', 'S7', 'S8', 'S11'\] are not in"):
        ds = load_h36m(
            h36m_root / "data_3d_h36m.npz", h36m_root / "data_2d_h36m_cpn_ft_h36m_dbb.npz"
        )
    assert len(ds) == 4 * 4
    for seq in ds:
        torch.testing.assert_close(
            seq.keypoints_2d, project_normalized(seq.joints_3d, seq.camera), atol=1e-4, rtol=0
        )
        assert seq.joints_3d[..., 2].min() > 1.0  # in front of the camera, metres
    assert ds.split("train").subjects == ("S1",) and ds.split("test").subjects == ("S9",)
    with warnings.catch_warnings():  # subjects chosen explicitly: nothing to warn about
        warnings.simplefilter("error")
        chosen = load_h36m(
            h36m_root / "data_3d_h36m.npz",
            h36m_root / "data_2d_h36m_cpn_ft_h36m_dbb.npz",
            subjects=["S9"],
        )
    assert chosen.subjects == ("S9",) and chosen.split("test").num_frames == 4 * 2 * FRAMES


def test_train_and_evaluate_through_the_command_line(h36m_root, tmp_path, capsys):
    run = tmp_path / "run"
    data = ["data.dataset=h36m", f"data.root={h36m_root}"]
    argv = ["train", "tiny", *data, "optim.eval_every=0", "--out", str(run), "--device", "cpu"]
    with pytest.warns(UserWarning, match="the published protocol trains on"):
        assert cli.main([*argv, "--no-progress"]) == 0
    experiment = json.loads((run / "experiment.json").read_text())
    assert experiment["data"]["dataset"] == "h36m"
    capsys.readouterr()
    report = tmp_path / "eval.json"
    argv = ["evaluate", str(run), "--dataset", "h36m", "--root", str(h36m_root)]
    with pytest.warns(UserWarning, match="are not in"):
        assert cli.main([*argv, "--device", "cpu", "--json", str(report)]) == 0
    table = capsys.readouterr().out
    # Table 1 layout: the 15 action columns, values only for the fixture's two actions
    # (Directions, Walking 1 -> "Walk"), and their mean as Avg
    lines = table.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| Protocol 1"))
    header = [c.strip() for c in lines[at].strip("|").split("|")]
    values = dict(
        zip(header, (c.strip() for c in lines[at + 2].strip("|").split("|")), strict=True)
    )
    assert len(header) == 1 + 15 + 1
    filled = {k for k, v in values.items() if v != "-" and k != "Protocol 1"}
    assert filled == {"Dir.", "Walk", "Avg"}
    mean = (float(values["Dir."]) + float(values["Walk"])) / 2
    assert float(values["Avg"]) == pytest.approx(mean, abs=0.06)
    # the command line reports what the library computes on the same files
    model = cli.load_any_model(str(run / "model.pt"))
    with pytest.warns(UserWarning, match="are not in"):
        test = load_h36m(
            h36m_root / "data_3d_h36m.npz", h36m_root / "data_2d_h36m_cpn_ft_h36m_dbb.npz"
        ).split("test")
    want = evaluate_dataset(model, test, EvaluationConfig(), label="model.pt").to_dict()
    got = json.loads(report.read_text())
    assert got["averages"] == pytest.approx(want["averages"], rel=1e-6)
    assert 0 < got["averages"]["p1"] < 2000  # mm, finite
