"""Hostile but fair input, through the command line and the API (issue 14).

Every case states the input, the exit status (2 for the command line) or the exception
(API), and words of the message. Positive cases check that what is accepted is read
correctly: a COCO-17 file is lifted as COCO-17, OpenPose frames keep their order, a run
folder keeps its model, a malicious pickle runs nothing.
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.camera import h36m_camera, project, world_to_camera
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial
from anatomy_lib.data.h36m import H36M_DROPPED_JOINTS, load_h36m, load_h36m_3d, load_h36m_scores
from anatomy_lib.data.keypoint_checks import check_pixel_keypoints, guess_17_layout
from anatomy_lib.data.keypoint_formats import openpose_files, read_openpose_folder
from anatomy_lib.data.sequences import PoseDataset
from anatomy_lib.evaluation import predict_sequence
from anatomy_lib.models.checkpoints import load_model, load_released_checkpoint, save_model
from anatomy_lib.safe_io import UnsafeFileError, atomic_write, load_torch_file, normal_file_mode
from anatomy_lib.training import trainer as trainer_module
from anatomy_lib.training.checkpointing import load_training_checkpoint
from anatomy_lib.training.config import ExperimentConfig, OptimConfig
from anatomy_lib.training.run_folder import (
    RunFolderError,
    check_run_folder,
    lock_run_folder,
    run_model_file,
)
from anatomy_lib.wild.detector import Detections
from anatomy_lib.wild.pipeline import resolve_model

# ------------------------------------------------------------------ fixtures


class _Payload:
    """A pickle that would create a marker file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _coco_from_h36m(kp: np.ndarray) -> np.ndarray:
    """A COCO-17 person made from Human3.6M-17 keypoints: limbs are the same joints, the
    face (nose, eyes, ears) a small cluster between the nose and the head."""
    nose, head = kp[:, 9], kp[:, 10]
    lat = (kp[:, 11] - kp[:, 14]) * 0.15
    up = (head - nose) * 0.5
    face = [nose, nose + up + lat / 2, nose + up - lat / 2, nose + 0.6 * up + lat,
            nose + 0.6 * up - lat]  # fmt: skip
    limbs = [kp[:, j] for j in (11, 14, 12, 15, 13, 16, 4, 1, 5, 2, 6, 3)]
    return np.stack(face + limbs, axis=1)


def _write_openpose(folder: Path, frames: list[np.ndarray | None], pad: bool = True) -> None:
    folder.mkdir(parents=True)
    for t, pose in enumerate(frames):
        people = [] if pose is None else [{"pose_keypoints_2d": pose.reshape(-1).tolist()}]
        name = f"clip_{t:012d}_keypoints.json" if pad else f"clip_{t}_keypoints.json"
        (folder / name).write_text(json.dumps({"version": 1.3, "people": people}))


def _h36m_root(root: Path, clips: dict, meta: bool = True, scale: float = 1.0) -> Path:
    """Human3.6M files in the published layout, from the embedded motion capture."""
    kept = [k for k in range(32) if k not in H36M_DROPPED_JOINTS]
    pos3d: dict = {}
    pos2d: dict = {}
    for (subject, action), world17 in clips.items():
        world32 = np.zeros((len(world17), 32, 3), dtype=np.float32)
        world32[:, kept] = world17.numpy() * scale
        pos3d.setdefault(subject, {})[action] = world32
        pos2d.setdefault(subject, {})[action] = [
            project(world_to_camera(world17, cam), cam).numpy().astype(np.float32)
            for cam in (h36m_camera(subject, i) for i in range(4))
        ]
    root.mkdir(parents=True)
    np.savez_compressed(root / "data_3d_h36m.npz", positions_3d=pos3d)
    extra = {"metadata": {"num_joints": 17}} if meta else {}
    np.savez_compressed(root / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=pos2d, **extra)
    return root


@pytest.fixture(scope="module")
def f(tmp_path_factory):
    """Every file the cases read, built once."""
    d = tmp_path_factory.mktemp("bad_inputs")
    seq = load_pose2sim_trial()[0]
    kp, sc = seq.keypoints_pixels.double().numpy(), seq.scores.double().numpy()
    w, h = seq.image_size
    paths: dict[str, Path] = {"dir": d, "marker": d / "PAYLOAD_RAN"}

    def npz(name: str, **arrays) -> None:
        arrays = {"keypoints": kp, "scores": sc, "width": w, "height": h} | arrays
        paths[name] = d / f"{name}.npz"
        np.savez(paths[name], **{k: v for k, v in arrays.items() if v is not None})

    npz("good")
    npz("coco", keypoints=_coco_from_h36m(kp))
    npz("nan", keypoints=np.where(np.arange(100)[:, None, None] == 5, np.nan, kp))
    npz("inf", keypoints=np.where(np.arange(100)[:, None, None] == 5, np.inf, kp))
    npz("empty", keypoints=np.zeros((0, 17, 2)), scores=np.zeros((0, 17)))
    for name, value in (("w0", 0), ("wneg", -5.0), ("wnan", np.nan), ("wstr", "abc")):
        npz(name, width=value)
    npz("scores_shape", scores=sc[:, :16])
    npz("scores_percent", scores=sc * 100)
    npz("scores_nan", scores=np.where(np.arange(17) == 3, np.nan, sc))
    npz("normalised", keypoints=seq.keypoints_2d.double().numpy())
    npz("unit_square", keypoints=kp / np.array([w, h]))
    npz("zeros", keypoints=np.zeros_like(kp))
    npz("zero_frames", keypoints=np.where(np.arange(100)[:, None, None] < 3, 0.0, kp))
    npz("k35", keypoints=np.random.default_rng(0).uniform(0, 500, (10, 35, 2)), scores=None)
    squeezed = kp.copy()  # keypoints 0-4 neither a face nor a leg
    squeezed[:, 1:5] = kp[:, :1] + 0.6 * (kp[:, 1:5] - kp[:, :1])
    npz("ambiguous", keypoints=squeezed, scores=None)
    npz("no_key", keypoints=None)
    npz("strings", keypoints=np.array([["a", "b"]]))
    npz("width_pair", width=np.array([1088, 1920]))
    npz("one_keypoint", keypoints=kp[:, :1], scores=None)
    paths["object.npy"] = d / "object.npy"
    np.save(paths["object.npy"], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    good = paths["good"].read_bytes()
    (d / "truncated.npz").write_bytes(good[: len(good) // 2])
    (d / "random.npz").write_bytes(np.random.default_rng(2).bytes(4000))
    (d / "random.npy").write_bytes(np.random.default_rng(3).bytes(4000))
    (d / "notes.txt").write_text("hello")
    (d / "a_folder").mkdir()
    # models: malicious, truncated, and a run folder without files
    torch.save({"format": "anatomy3d-model", "payload": _Payload(paths["marker"])}, d / "evil.pt")
    shipped = Path(cli.__file__).parent / "checkpoints" / "anatomy_small.pt"
    (d / "trunc.pt").write_bytes(shipped.read_bytes()[:3000])
    (d / "evil_run").mkdir()
    torch.save({"format": "anatomy3d-training-checkpoint", "x": _Payload(paths["marker"])},
               d / "evil_run" / "checkpoint.pt")  # fmt: skip
    (d / "trunc_run").mkdir()
    (d / "trunc_run" / "checkpoint.pt").write_bytes(shipped.read_bytes()[:3000])
    (d / "used_run").mkdir()
    (d / "used_run" / "history.csv").write_text("step\n")
    (d / "a_file").write_text("x")
    # OpenPose folders (BODY_25B-sized people from the trial's first 25 values)
    person = np.concatenate([np.tile(kp[0], (2, 1))[:25], np.ones((25, 1))], axis=1)
    _write_openpose(d / "op_nobody", [None, None, None])
    _write_openpose(d / "op_bad", [person])
    (d / "op_bad" / "clip_000000000001_keypoints.json").write_text("{not json")
    _write_openpose(d / "op_ok", [person] * 4)
    _write_openpose(d / "op_strings", [person])
    (d / "op_strings" / "clip_000000000001_keypoints.json").write_text(
        json.dumps({"people": [{"pose_keypoints_2d": ["a"] * 75}]})
    )
    _write_openpose(d / "op_sizes", [person, np.ones((26, 3))])
    paths.update({n: d / n for n in ("op_strings", "op_sizes")})
    # Human3.6M folders
    emb = load_default_dataset()
    train0, test0 = emb.split("train")[0].joints_world[:60], emb.split("test")[0].joints_world[:60]
    paths["h36m_no_test"] = _h36m_root(d / "h36m_no_test", {("S1", "Walking"): train0})
    paths["h36m_mm"] = _h36m_root(
        d / "h36m_mm", {("S1", "Walking"): train0, ("S9", "Walking"): test0}, scale=1000.0
    )
    paths["h36m_no_meta"] = _h36m_root(
        d / "h36m_no_meta", {("S1", "Walking"): train0, ("S9", "Walking"): test0}, meta=False
    )
    diff = _h36m_root(d / "h36m_actions", {("S1", "Walking"): train0, ("S9", "Walking"): test0})
    with np.load(diff / "data_2d_h36m_cpn_ft_h36m_dbb.npz", allow_pickle=True) as z:
        pos2d, meta = z["positions_2d"].item(), z["metadata"].item()
    pos2d["S9"]["Walking 1"] = pos2d["S9"].pop("Walking")
    np.savez_compressed(diff / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=pos2d,
                        metadata=meta)  # fmt: skip
    paths["h36m_actions"] = diff
    evil = _h36m_root(d / "h36m_evil", {("S1", "Walking"): train0, ("S9", "Walking"): test0})
    with (evil / "score.pkl").open("wb") as fh:
        pickle.dump({"S1_Walking.0": _Payload(paths["marker"])}, fh)
    paths["h36m_evil"] = evil
    paths["evil_3d.npz"] = d / "evil_3d.npz"
    np.savez(paths["evil_3d.npz"], positions_3d=np.array({"S1": _Payload(paths["marker"])}))
    paths.update({n: d / n for n in ("truncated.npz", "random.npz", "random.npy", "notes.txt")})
    paths.update({n: d / n for n in ("a_folder", "evil.pt", "trunc.pt", "evil_run", "trunc_run")})
    paths.update({n: d / n for n in ("used_run", "a_file", "op_nobody", "op_bad", "op_ok")})
    return paths


def _cli_error(argv: list[str], capsys) -> str:
    """Run the command; it must exit with status 2 and one line on stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err and err.startswith("anatomy3d: error: ")
    assert err.count("\n") == 1, err
    return err


# ------------------------------------------------------------------ command line

CPU = ["--device", "cpu"]
WH = ["--width", "1088", "--height", "1920"]
TRAIN_FAST = ["optim.epochs=1", "optim.steps_per_epoch=1", "optim.eval_every=0"]


def _h36m_eval(f, name: str) -> list:
    return ["evaluate", "anatomy_small", "--dataset", "h36m", "--root", f[name], *CPU]


CLI_CASES = [
    # keypoint files: values
    ("nan", lambda f: ["infer", f["nan"]], "NaN or infinite (first: frame 5"),
    ("inf", lambda f: ["infer", f["inf"]], "NaN or infinite"),
    ("empty", lambda f: ["infer", f["empty"]], "keypoints are empty"),
    ("width 0", lambda f: ["infer", f["w0"]], "width: expected a positive number of pixels"),
    ("width<0", lambda f: ["infer", f["wneg"]], "width: expected a positive number"),
    ("width NaN", lambda f: ["infer", f["wnan"]], "width: expected a positive number"),
    ("width str", lambda f: ["infer", f["wstr"]], "width: expected a positive number"),
    ("--width 0", lambda f: ["infer", f["good"], "--width", "0"], "width: expected a positive"),
    ("scores shape", lambda f: ["infer", f["scores_shape"]], "scores must have shape (T, K)"),
    ("scores %", lambda f: ["infer", f["scores_percent"]], "scores must be confidences in [0, 1]"),
    ("scores NaN", lambda f: ["infer", f["scores_nan"]], "scores hold 100 NaN"),
    ("normalised", lambda f: ["infer", f["normalised"]], "look like normalised coordinates"),
    ("[0, 1]", lambda f: ["infer", f["unit_square"]], "look like normalised coordinates"),
    ("zeros", lambda f: ["infer", f["zeros"]], "every keypoint is at (0, 0)"),
    (
        "zero frames",
        lambda f: ["infer", f["zero_frames"]],
        "3 of 100 frames have every keypoint at one",
    ),
    # keypoint files: files and layouts
    ("truncated npz", lambda f: ["infer", f["truncated.npz"]], "not a readable .npz file"),
    ("random npz", lambda f: ["infer", f["random.npz"]], "not a readable .npz file"),
    ("random npy", lambda f: ["infer", f["random.npy"]], "not a readable .npy file"),
    ("no key", lambda f: ["infer", f["no_key"]], "expected a key 'keypoints'"),
    ("strings", lambda f: ["infer", f["strings"]], "keypoints must be numbers"),
    ("object npy", lambda f: ["infer", f["object.npy"]], "not a readable .npy file"),
    ("width pair", lambda f: ["infer", f["width_pair"]], "width: expected a positive number"),
    ("--width inf", lambda f: ["infer", f["good"], "--width", "inf"], "got inf"),
    ("1 keypoint", lambda f: ["infer", f["one_keypoint"], *WH], "layout of 1 keypoints"),
    ("--device", lambda f: ["infer", f["good"], "--device", "nonsense"], "--device nonsense: "),
    ("txt", lambda f: ["infer", f["notes.txt"]], "expected a video"),
    ("missing", lambda f: ["infer", f["dir"] / "nope.npz"], "no such file or folder"),
    (
        "35 as body25",
        lambda f: ["infer", f["k35"], *WH, "--layout", "body25"],
        "--layout body25 has 25 keypoints per person, the input has 35",
    ),
    ("35", lambda f: ["infer", f["k35"], *WH], "cannot tell the layout of 35 keypoints"),
    ("17 ambiguous", lambda f: ["infer", f["ambiguous"], *WH], "may be Human3.6M-17 or COCO-17"),
    ("layout?", lambda f: ["infer", f["good"], "--layout", "body99"], "known:"),
    # keypoint files: outputs, checked before any work
    (
        "--out missing dir",
        lambda f: ["infer", f["good"], "--out", f["dir"] / "no" / "x.npz"],
        "does not exist",
    ),
    ("--out a folder", lambda f: ["infer", f["good"], "--out", f["a_folder"]], "is a folder"),
    (
        "--out under a file",
        lambda f: ["infer", f["good"], "--out", f["a_file"] / "x.npz"],
        "is a file, not a folder",
    ),
    (
        "--csv missing dir",
        lambda f: ["infer", f["good"], "--csv", f["dir"] / "no" / "x.csv"],
        "does not exist",
    ),
    # models
    (
        "malicious model",
        lambda f: ["infer", f["evil.pt"], f["good"], *CPU],
        "refused: the file holds Python objects",
    ),
    ("trust flag named", lambda f: ["evaluate", f["evil.pt"], *CPU], "--trust-checkpoint"),
    ("malicious run", lambda f: ["evaluate", f["evil_run"], *CPU], "can run any code"),
    ("no model", lambda f: ["infer", f["dir"] / "nope.pt", f["good"]], "neither a shipped model"),
    (
        "truncated model",
        lambda f: ["infer", f["trunc.pt"], f["good"]],
        "not a readable torch checkpoint",
    ),
    ("empty run folder", lambda f: ["infer", f["a_folder"], f["good"]], "holds no model.pt"),
    # OpenPose folders
    ("nobody", lambda f: ["infer", f["op_nobody"], *WH], "no person in any OpenPose file"),
    ("bad json", lambda f: ["infer", f["op_bad"], *WH], "expected OpenPose JSON"),
    ("json strings", lambda f: ["infer", f["op_strings"], *WH], "must hold numbers"),
    ("json sizes", lambda f: ["infer", f["op_sizes"], *WH], "has 78 values, expected 75"),
    (
        "op width NaN",
        lambda f: ["infer", f["op_ok"], "--width", "nan", "--height", "9"],
        "--width: expected a positive number",
    ),
    ("op fps NaN", lambda f: ["infer", f["op_ok"], *WH, "--fps", "nan"], "--fps"),
    (
        "--out-dir a file",
        lambda f: ["infer", f["op_ok"], *WH, "--out-dir", f["a_file"]],
        "is a file",
    ),
    # evaluate
    (
        "--json missing dir",
        lambda f: ["evaluate", "anatomy_small", "--json", f["dir"] / "no" / "r.json"],
        "does not exist",
    ),
    (
        "--json a folder",
        lambda f: ["evaluate", "anatomy_small", "--json", f["a_folder"]],
        "is a folder",
    ),  # fmt: skip
    ("h36m actions differ", lambda f: _h36m_eval(f, "h36m_actions"), "has no action"),
    ("h36m millimetres", lambda f: _h36m_eval(f, "h36m_mm"), "looks like millimetres"),
    ("h36m malicious score.pkl", lambda f: _h36m_eval(f, "h36m_evil"), "refused"),
    # train
    ("--out a file", lambda f: ["train", "tiny", "--out", f["a_file"]], "is a file"),
    (
        "used folder",
        lambda f: ["train", "tiny", "--out", f["used_run"]],
        "folder is not empty (history.csv); continue that run with --resume",
    ),
    (
        "resume truncated",
        lambda f: ["train", "--resume", f["trunc_run"], *CPU],
        "not a readable torch checkpoint",
    ),
    ("resume malicious", lambda f: ["train", "--resume", f["evil_run"], *CPU], "refused"),
    (
        "resume+overwrite",
        lambda f: ["train", "--resume", f["used_run"], "--overwrite"],
        "drop --out / --overwrite",
    ),
    (
        "lr inf",
        lambda f: ["train", "tiny", "optim.learning_rate=Infinity"],
        "expected a finite number > 0",
    ),
    ("lr nan", lambda f: ["train", "tiny", "optim.learning_rate=nan"], "learning_rate"),
    (
        "no test subject",
        lambda f: [
            "train",
            "tiny",
            "data.dataset=h36m",
            f"data.root={f['h36m_no_test']}",
            "--out",
            f["dir"] / "run_no_test",
            *CPU,
        ],
        "has no test subject to validate on",
    ),
]


@pytest.mark.filterwarnings("ignore:Human3.6M subjects")
@pytest.mark.parametrize(("case", "argv", "message"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_with_one_line(case, argv, message, f, capsys):
    err = _cli_error(argv(f), capsys)
    assert message in err
    assert not f["marker"].exists(), "code from a pickle ran"


def test_cli_refusals_happen_before_work(f, capsys, monkeypatch):
    """Output paths and folders are checked before the model runs or training starts."""

    def boom(*args, **kwargs):
        raise AssertionError("work started before the input was checked")

    monkeypatch.setattr(trainer_module.Trainer, "fit", boom)
    monkeypatch.setattr("anatomy_lib.evaluation.evaluate_dataset", boom)
    monkeypatch.setattr("anatomy_lib.evaluation.predict_sequence", boom)
    for case, argv, _ in CLI_CASES:
        if case in ("--out missing dir", "--json missing dir", "used folder", "--out a file"):
            _cli_error(argv(f), capsys)
    assert not (f["dir"] / "run_no_test").exists()  # refused before the folder was used


# ------------------------------------------------------------------ API

API_CASES = [
    (
        "malicious resolve_model",
        lambda f: resolve_model(f["evil.pt"]),
        UnsafeFileError,
        "trusted=True",
    ),
    (
        "malicious training checkpoint",
        lambda f: load_training_checkpoint(f["evil_run"] / "checkpoint.pt"),
        UnsafeFileError,
        "can run any code",
    ),
    (
        "malicious released",
        lambda f: load_released_checkpoint(f["evil.pt"]),
        UnsafeFileError,
        "trusted=True",
    ),
    (
        "released missing",
        lambda f: load_released_checkpoint(f["dir"] / "nope.pt"),
        FileNotFoundError,
        "no such checkpoint file",
    ),
    (
        "load_model truncated",
        lambda f: load_model(f["trunc.pt"]),
        ValueError,
        "not a readable torch checkpoint",
    ),
    (
        "load_torch_file folder",
        lambda f: load_torch_file(f["a_folder"]),
        FileNotFoundError,
        "a folder",
    ),
    (
        "save_model onto a folder",
        lambda f: save_model(resolve_model("anatomy_small"), f["dir"]),
        IsADirectoryError,
        "is a folder",
    ),
    ("keypoints NaN", lambda f: _check(f, "nan"), ValueError, "NaN or infinite"),
    ("keypoints empty", lambda f: _check(f, "empty"), ValueError, "empty"),
    ("width str", lambda f: _check(f, "wstr"), ValueError, "width: expected a positive"),
    ("scores shape", lambda f: _check(f, "scores_shape"), ValueError, "scores must have shape"),
    ("scores %", lambda f: _check(f, "scores_percent"), ValueError, r"in [0, 1]"),
    ("normalised", lambda f: _check(f, "normalised"), ValueError, "normalised coordinates"),
    ("zeros", lambda f: _check(f, "zeros"), ValueError, "every keypoint is at (0, 0)"),
    (
        "Detections normalised",
        lambda f: _detections(f, "unit_square"),
        ValueError,
        "normalised coordinates",
    ),
    ("joints in mm", lambda f: _sequence(joints=1000), ValueError, "looks like millimetres"),
    ("joints in cm", lambda f: _sequence(joints=100), ValueError, "looks like centimetres"),
    ("scores x100", lambda f: _sequence(scores=100), ValueError, "confidences in [0, 1]"),
    ("scores NaN", lambda f: _sequence(scores=float("nan")), ValueError, "NaN"),
    (
        "pixels to predict_sequence",
        lambda f: _predict(keypoints=1000.0),
        ValueError,
        "these look like pixels",
    ),
    ("scores x100 to predict", lambda f: _predict(scores=100.0), ValueError, "in [0, 1]"),
    ("lr inf", lambda f: OptimConfig(learning_rate=float("inf")), ValueError, "finite number"),
    ("lr NaN", lambda f: OptimConfig(learning_rate=float("nan")), ValueError, "finite number"),
    (
        "no test subject",
        lambda f: _trainer_without_test_subject(),
        ValueError,
        "no test subject",
    ),
    ("h36m millimetres", lambda f: _h36m(f, "h36m_mm"), ValueError, "looks like millimetres"),
    ("h36m actions", lambda f: _h36m(f, "h36m_actions"), KeyError, "has no action 'Walking'"),
    (
        "malicious score.pkl",
        lambda f: load_h36m_scores(f["h36m_evil"] / "score.pkl"),
        UnsafeFileError,
        "pathlib",
    ),
    (
        "malicious data_3d npz",
        lambda f: load_h36m_3d(f["evil_3d.npz"]),
        UnsafeFileError,
        "could run code",
    ),
    (
        "run folder used",
        lambda f: check_run_folder(f["used_run"]),
        RunFolderError,
        "--overwrite",
    ),
    (
        "run folder a file",
        lambda f: check_run_folder(f["a_file"], "overwrite"),
        RunFolderError,
        "is a file",
    ),
    (
        "resume nothing",
        lambda f: check_run_folder(f["a_folder"], "resume"),
        RunFolderError,
        "no checkpoint.pt",
    ),
    (
        "openpose nobody",
        lambda f: read_openpose_folder(f["op_nobody"]),
        ValueError,
        "no person in any OpenPose file",
    ),
]


def _check(f, name: str):
    with np.load(f[name]) as z:
        return check_pixel_keypoints(z["keypoints"], z["scores"], z["width"], z["height"], name)


def _detections(f, name: str) -> Detections:
    with np.load(f[name]) as z:
        return Detections(z["keypoints"], z["scores"], "h36m", 1088, 1920, 60.0)


def _sequence(joints: float = 1.0, scores: float = 1.0):
    seq = load_pose2sim_trial()[0]
    return replace(seq, joints_3d=seq.joints_3d * joints, scores=seq.scores * scores)


def _predict(keypoints: float = 1.0, scores: float = 1.0):
    seq = load_pose2sim_trial()[0]
    model = resolve_model("anatomy_small")
    return predict_sequence(model, seq.keypoints_2d * keypoints, seq.scores * scores)


def _trainer_without_test_subject():
    emb = load_default_dataset()
    data = PoseDataset(emb.name, emb.skeleton, emb.sequences, emb.train_subjects, ())
    exp = ExperimentConfig.preset("tiny")
    return trainer_module.Trainer(exp, None, device="cpu", dataset=data, progress=False)


def _h36m(f, name: str):
    root = f[name]
    return load_h36m(root / "data_3d_h36m.npz", root / "data_2d_h36m_cpn_ft_h36m_dbb.npz")


@pytest.mark.filterwarnings("ignore:Human3.6M subjects")
@pytest.mark.parametrize(
    ("case", "call", "error", "message"), API_CASES, ids=[c[0] for c in API_CASES]
)
def test_api_refuses_with_a_clear_error(case, call, error, message, f):
    with pytest.raises(error) as exc:
        call(f)
    assert message in str(exc.value)
    assert not f["marker"].exists(), "code from a pickle ran"


# ------------------------------------------------------------------ what is accepted


def test_a_malicious_pickle_runs_only_when_trusted(f, tmp_path):
    """The payload proves the file is really malicious: it runs with trusted=True only."""
    marker = tmp_path / "ran"
    torch.save({"payload": _Payload(marker)}, tmp_path / "evil.pt")
    for load in (
        lambda: load_torch_file(tmp_path / "evil.pt"),
        lambda: resolve_model(tmp_path / "evil.pt"),
        lambda: load_training_checkpoint(tmp_path / "evil.pt"),
        lambda: load_released_checkpoint(tmp_path / "evil.pt"),
    ):
        with pytest.raises(UnsafeFileError):
            load()
    legacy = tmp_path / "legacy.pt"  # the pre-1.6 (non-zip) torch format
    torch.save({"payload": _Payload(marker)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeFileError, match="--trust-checkpoint"):
        load_torch_file(legacy)
    assert not marker.exists()
    payload = load_torch_file(tmp_path / "evil.pt", trusted=True)
    assert marker.exists() and set(payload) == {"payload"}


def test_model_and_training_files_load_weights_only(tmp_path):
    """What the library writes (models, training checkpoints with NumPy random state) loads
    without a full unpickle."""
    save_model(resolve_model("anatomy_small"), tmp_path / "m.pt")
    assert type(load_model(tmp_path / "m.pt")).__name__ == "AnatomyModel"
    exp = ExperimentConfig.preset("tiny").override(["optim.eval_every=0"])
    trainer = trainer_module.Trainer(exp, tmp_path / "run", device="cpu", progress=False)
    trainer.fit(max_steps=1)
    state = load_training_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert isinstance(state["rng"]["numpy"][1], np.ndarray)
    for name in ("m.pt", "run/checkpoint.pt", "run/history.csv", "run/experiment.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == normal_file_mode()


def test_coco17_is_detected_and_lifted_as_coco17(f, tmp_path, capsys):
    coco_out, explicit_out = tmp_path / "auto.npz", tmp_path / "explicit.npz"
    assert cli.main(["infer", str(f["coco"]), "--out", str(coco_out), *CPU]) == 0
    assert "read as coco17" in capsys.readouterr().out
    args = ["infer", str(f["coco"]), "--out", str(explicit_out), "--layout", "coco17", *CPU]
    assert cli.main(args) == 0
    with np.load(coco_out) as a, np.load(explicit_out) as b:
        np.testing.assert_array_equal(a["joints_3d"], b["joints_3d"])
    with np.load(f["good"]) as z:
        assert guess_17_layout(z["keypoints"]) == "h36m"
    assert cli.main(["infer", str(f["good"]), "--out", str(tmp_path / "h.npz"), *CPU]) == 0
    assert "read as h36m" in capsys.readouterr().out


def test_guess_17_layout_on_every_embedded_view():
    for seq in load_default_dataset().sequences[::7]:
        kp = seq.keypoints_pixels.double().numpy()
        assert guess_17_layout(kp) == "h36m"
        assert guess_17_layout(_coco_from_h36m(kp)) == "coco17"


def test_openpose_frames_in_number_order_and_layout_from_first_person(tmp_path):
    """Unpadded names (0, 1, 10, 11, 2, ...) are read in frame order; an empty first file
    does not hide the layout."""
    poses = [None] + [np.column_stack([np.full(25, 100.0 + t), np.arange(25.0), np.ones(25)])
                      for t in range(1, 12)]  # fmt: skip
    _write_openpose(tmp_path / "op", poses, pad=False)
    names = [p.name for p in openpose_files(tmp_path / "op")]
    assert names[:4] == [f"clip_{t}_keypoints.json" for t in range(4)]
    arr = read_openpose_folder(tmp_path / "op")
    assert arr.shape == (12, 25, 3)
    np.testing.assert_array_equal(arr[1:, 0, 0], 100.0 + np.arange(1, 12))
    det = Detections.from_openpose_folder(tmp_path / "op", "body25", 1088, 1920, 30.0)
    np.testing.assert_array_equal(det.keypoints[1:, 0, 0, 0], 100.0 + np.arange(1, 12))
    assert np.isnan(det.keypoints[0]).all()


def test_cli_warnings_are_one_line(f, tmp_path):
    """A library warning (a clip shorter than the receptive field) is one line, no source."""
    with np.load(f["good"]) as z:
        np.savez(tmp_path / "short.npz", keypoints=z["keypoints"][:5], width=1088, height=1920)
    root = Path(cli.__file__).parent.parent
    proc = subprocess.run(  # a real process: pytest would record the warning itself
        [sys.executable, "-m", "anatomy_lib.cli", "infer", str(tmp_path / "short.npz"), *CPU],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert err.startswith("anatomy3d: warning: ") and "receptive field" in err
    assert err.count("\n") == 1


def test_h36m_metadata_is_optional(f):
    with pytest.warns(UserWarning, match="subjects"):
        ds = _h36m(f, "h36m_no_meta")
    assert ds.split("test").subjects == ("S9",)


# ------------------------------------------------------------------ run folders


def test_train_refuses_overwrites_and_ties_the_model_to_its_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "tiny", *TRAIN_FAST, "--out", str(run), "--no-progress", *CPU]) == 0
    first = (run / "model.pt").read_bytes()
    err = _cli_error(["train", "tiny", *TRAIN_FAST, "--out", run, *CPU], capsys)
    assert "folder is not empty" in err and (run / "model.pt").read_bytes() == first
    # a stale temporary file from a killed write, and a model.pt older than the checkpoint
    (run / ".checkpoint.pt.abc123.tmp").write_bytes(b"partial")
    os.utime(run / "model.pt", ns=(1, 1))
    assert run_model_file(run) == run / "checkpoint.pt"
    argv = ["train", "tiny", *TRAIN_FAST, "optim.learning_rate=0.002", "--out", str(run), *CPU]
    assert cli.main([*argv, "--overwrite", "--no-progress"]) == 0
    assert not (run / ".checkpoint.pt.abc123.tmp").exists()
    assert run_model_file(run) == run / "model.pt"
    assert json.loads((run / "experiment.json").read_text())["optim"]["learning_rate"] == 0.002
    assert (run / "model.pt").read_bytes() != first
    mode = stat.S_IMODE((run / "model.pt").stat().st_mode)
    assert mode == normal_file_mode() and mode & stat.S_IRGRP == stat.S_IRGRP & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_a_second_run_in_a_locked_folder_is_refused(tmp_path, capsys):
    with lock_run_folder(tmp_path / "run"):
        with pytest.raises(RunFolderError, match=f"process {os.getpid()}"):
            with lock_run_folder(tmp_path / "run"):
                pass
        err = _cli_error(["train", "tiny", "--out", tmp_path / "run", "--overwrite"], capsys)
        assert "another run" in err and "is writing to this folder" in err
    with lock_run_folder(tmp_path / "run"):  # released: usable again
        pass


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")

    def fail(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail)
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target]


def test_every_unpickle_goes_through_safe_io():
    """Guard: outside safe_io, no module of the package calls torch.load, pickle.load(s)
    or np.load with allow_pickle=True."""
    root = Path(cli.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "safe_io.py":
            continue
        text = path.read_text()
        for call in ("torch.load(", "pickle.load(", "pickle.loads(", "allow_pickle=True"):
            assert call not in text, f"{path}: {call}"
