"""The ``anatomy3d`` command: help, bad input rejected before any work, and a tiny round trip."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.data import load_pose2sim_trial
from anatomy_lib.evaluation import EvaluationConfig, predict_sequence
from anatomy_lib.keypoint_fit import VIDEO_KEYPOINT_PULL, KeypointPull
from anatomy_lib.ray_frame import assumed_intrinsics
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.smoothing import VIDEO_SMOOTHING_S
from anatomy_lib.training import trainer as trainer_module
from anatomy_lib.wild import FrameStatus


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from _subparsers(sub)


def test_every_option_is_explained(capsys):
    parser = cli.build_parser()
    subs = dict(_subparsers(parser))
    assert {"train", "evaluate", "infer", "presets", "data", "build"} <= set(subs)
    for name, sub in subs.items():
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{name}: option {action.dest} has no help text"
    for name in ("train", "evaluate", "infer"):
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        assert exc.value.code == 0
        assert "--device" in capsys.readouterr().out


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts loading data or training."""

    def boom(*args, **kwargs):
        raise AssertionError("work started before the input was checked")

    monkeypatch.setattr(trainer_module, "load_experiment_dataset", boom)
    monkeypatch.setattr(trainer_module.Trainer, "fit", boom)
    monkeypatch.setattr(cli, "load_any_model", boom)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "full@huge"], "unknown size"),
        (["train", "nothing"], "unknown experiment variant"),
        (["train", "small", "optim.epochs=0"], "positive int"),
        (["train", "small", "optim.epoch=3"], "no field 'epoch'"),
        (["train", "small", "epochs"], "KEY=VALUE"),
        (["train"], "give a preset name"),
        (["train", "small", "--checkpoint-every", "0"], "checkpoint-every"),
        (["train", "--resume", "/nonexistent/run"], "no checkpoint.pt"),
        (["train", "tiny", "init_weights=/nonexistent/m.pt"], "neither a shipped model"),
        (["train", "tiny", "init_weights=anatomy_medium"], "differs from the experiment"),
        (["evaluate", "m.pt", "--dataset", "h36m"], "needs --root"),
        (["evaluate", "m.pt", "--length-frames", "some"], "length_frames"),
        (["evaluate", "m.pt", "--smooth", "-0.1"], "smoothing_s: expected a finite number"),
        (["infer", "m.pt", "kp.npz", "--smooth", "nan"], "smoothing_s: expected a finite number"),
        (["infer", "m.pt", "/nonexistent/kp.npz"], "no such file"),
        (["infer", "m.pt", "kp.npz", "--stature", "172"], "centimetres? give metres"),
        (["infer", "m.pt", "kp.npz", "--stature", "nan"], "height in metres, 0.5 to 2.5"),
        (["infer", "clip.mp4", "--pose-model", "huge"], "invalid choice: 'huge'"),
        (["presets", "--size", "huge"], "unknown size"),
    ],
)
def test_bad_input_fails_before_work(argv, message, capsys, no_work):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cuda_request_without_cuda(capsys, no_work):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "tiny", "--device", "cuda"])
    assert exc.value.code == 2 and "CUDA is not available" in capsys.readouterr().err


def test_infer_needs_the_image_size(tmp_path, capsys):
    np.savez(tmp_path / "kp.npz", keypoints=np.zeros((5, 17, 2)))
    with pytest.raises(SystemExit):
        cli.main(["infer", "whatever", str(tmp_path / "kp.npz")])
    assert "--width and --height" in capsys.readouterr().err


def test_train_evaluate_infer_round_trip(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "tiny", "optim.eval_every=0", "--out", str(run), "--device", "cpu"]
    assert cli.main([*argv, "--no-progress"]) == 0
    assert {"model.pt", "checkpoint.pt", "history.csv", "history.json", "experiment.json"} <= {
        p.name for p in run.iterdir()
    }
    capsys.readouterr()
    assert cli.main(["evaluate", str(run), "--dataset", "pose2sim", "--device", "cpu"]) == 0
    assert "| Protocol 1 |" in capsys.readouterr().out
    # infer on the real-detection trial's first camera, saved in pixels
    seq = load_pose2sim_trial()[0]
    w, h = seq.image_size
    np.savez(tmp_path / "kp.npz", keypoints=seq.keypoints_pixels.numpy(), scores=seq.scores.numpy(),
             width=w, height=h)  # fmt: skip
    assert (
        cli.main(["infer", str(run / "model.pt"), str(tmp_path / "kp.npz"), "--device", "cpu"]) == 0
    )
    out = np.load(tmp_path / "kp_3d.npz")
    assert out["joints_3d"].shape == (seq.num_frames, 17, 3)
    model = cli.load_any_model(str(run / "model.pt"))
    # infer lifts as the library does with the video defaults (VIDEO_SMOOTHING_S: none;
    # VIDEO_KEYPOINT_PULL with an uncalibrated camera's rays; a keypoint file's rate is
    # unknown without --fps: lifted as filmed, at the assumed 30 fps)
    video = EvaluationConfig(smoothing_s=VIDEO_SMOOTHING_S, keypoint_pull=VIDEO_KEYPOINT_PULL)
    rays = assumed_intrinsics(w, h)
    want = predict_sequence(model, seq.keypoints_2d, seq.scores, video, rays, fps=30.0)
    np.testing.assert_allclose(out["joints_3d"], want.numpy(), atol=1e-5)
    rows = list(csv.reader((tmp_path / "kp_3d.csv").open()))  # the schema of every input
    assert len(rows) == seq.num_frames + 1 and rows[0][:4] == [
        "frame",
        "time_s",
        "status",
        "pelvis_x",
    ]
    assert len(rows[0]) == 3 + 17 * 3 and rows[1][2] == "detected"
    np.testing.assert_allclose(
        np.array(rows[1][3:], dtype=float), out["joints_3d"][0].reshape(-1), atol=6e-6
    )


def test_presets_lists_names(capsys):
    assert cli.main(["presets", "--size", "small"]) == 0
    names = capsys.readouterr().out.split()
    assert "full@small" in names and "af+ml+boneatt+aug+jsl+lsc+fusion@small" in names


@pytest.mark.parametrize("name", ["anatomy_small", "baseline_small"])
def test_shipped_checkpoints_lift_poses_without_training(name):
    from anatomy_lib.checkpoints import load_pretrained
    from anatomy_lib.data import load_default_dataset
    from anatomy_lib.metrics import mpjpe

    model = load_pretrained(name)
    assert not model.training and model.receptive_field == 27
    seq = load_default_dataset().split("test")[0]
    pred = predict_sequence(model, seq.keypoints_2d[:300], seq.scores[:300], EvaluationConfig())
    error_mm = 1000 * float(mpjpe(pred, seq.joints_3d_relative[:300]))
    assert error_mm < 200  # an untrained network is off by about 450 mm here
    with pytest.raises(KeyError, match="shipped"):
        load_pretrained("nonexistent")


def test_shipped_table4_results_are_labelled_and_complete():
    from anatomy_lib.results import load_result
    from anatomy_lib.training.config import TABLE4_EXTRAS, TABLE4_ROWS, ExperimentConfig

    report = load_result("table4_small")
    assert "NOT Human3.6M" in report["warning"]
    assert len(report["git_commit"]) == 40 and report["total_run_wall_time_s"] > 0
    assert set(TABLE4_ROWS) <= set(report["runs"]) <= set(TABLE4_ROWS) | set(TABLE4_EXTRAS)
    for variant, run in report["runs"].items():
        exp = ExperimentConfig.from_dict(run["experiment"])
        assert exp.name == f"{variant}@small" and run["seed"] == exp.seed
        p1 = run["results"]["per_column"]["p1"]
        assert set(p1) == {"Playground", "Climb", "Avg"}
        assert p1["Avg"] == pytest.approx((p1["Playground"] + p1["Climb"]) / 2)
    with pytest.raises(FileNotFoundError, match="available"):
        load_result("nonexistent")


def test_diagnostic_runs_modify_rows_of_the_small_sweep():
    from anatomy_lib.results import load_result

    rows = load_result("table4_small")["runs"]
    for name, run in load_result("diagnostics_small")["runs"].items():
        base = rows[name.split("[")[0]]["experiment"]
        changed = {k for k in run["experiment"] if run["experiment"][k] != base[k]}
        assert not run["git_dirty"] and changed <= {"model", "losses"}, name


# ---------------------------------------------------------------- infer: videos and OpenPose
@pytest.mark.parametrize("video", ["clip.mp4", "clip.GIF", "frames"])
def test_video_without_mediapipe_names_the_extra(video, tmp_path, monkeypatch, capsys, no_work):
    import anatomy_lib.wild as wild

    path = tmp_path / video
    if video == "frames":
        path.mkdir()
        (path / "0001.png").write_bytes(b"")
    else:
        path.write_bytes(b"")
    monkeypatch.setattr(wild, "mediapipe_available", lambda: False)
    with pytest.raises(SystemExit) as exc:
        cli.main(["infer", str(path)])
    assert exc.value.code == 2
    assert "pip install 'anatomy3d[wild]'" in capsys.readouterr().err


def test_pose_model_not_in_place_fails_before_work(tmp_path, monkeypatch, capsys, no_work):
    import sys
    import types

    import anatomy_lib.wild as wild

    package = types.ModuleType("mediapipe")
    package.__file__ = str(tmp_path / "mediapipe" / "__init__.py")
    monkeypatch.setitem(sys.modules, "mediapipe", package)
    monkeypatch.setattr(wild, "mediapipe_available", lambda: True)
    (tmp_path / "clip.mp4").write_bytes(b"")
    with pytest.raises(SystemExit) as exc:
        cli.main(["infer", str(tmp_path / "clip.mp4"), "--pose-model", "heavy"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "heavy pose model (model_complexity=2) is not installed" in err
    assert "Traceback" not in err


def _openpose_trial_folder(folder, frames=40, empty=(10, 11, 12), swapped=()):
    """The Pose2Sim trial's first camera as BODY_25B OpenPose JSON files, with a fainter
    decoy person 400 px to the right, no one in the ``empty`` frames and the person's left
    and right labels exchanged in the ``swapped`` frames."""
    import json

    from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS

    seq = load_pose2sim_trial()[0]
    clean = seq.keypoints_pixels[:frames].numpy(), seq.scores[:frames].numpy()
    kp, sc = clean
    labels = np.tile(np.arange(17), (frames, 1))  # the H36M joint written for each joint
    labels[list(swapped)] = H36M_17.mirror_permutation
    kp, sc = np.take_along_axis(kp, labels[..., None], 1), np.take_along_axis(sc, labels, 1)
    body = np.zeros((frames, 25, 3))
    own = {}  # H36M joint -> its own BODY_25B keypoint (joints not averaged from several)
    for j, sources in enumerate(KEYPOINT_FORMATS["body25b"].h36m_sources):
        if len(sources) == 1:
            own[j] = sources[0][0]
            body[:, own[j], :2], body[:, own[j], 2] = kp[:, j], sc[:, j]
    decoy = body + np.array([400.0, 0.0, 0.0])
    decoy[..., 2] *= 0.3
    folder.mkdir()
    for t in range(frames):
        people = [] if t in empty else [body[t], decoy[t]]
        data = {"people": [{"pose_keypoints_2d": p.reshape(-1).tolist()} for p in people]}
        (folder / f"trial_{t:012d}_keypoints.json").write_text(json.dumps(data))
    return seq, *clean, own


def test_openpose_folder_gives_npz_csv_and_html(tmp_path, capsys):
    folder = tmp_path / "trial_json"
    seq, kp, sc, own = _openpose_trial_folder(folder)
    w, h = seq.image_size
    argv = ["infer", str(folder), "--layout", "body25b", "--width", str(w), "--height", str(h),
            "--fps", "60", "--device", "cpu"]  # fmt: skip
    assert cli.main(argv) == 0
    out_dir = tmp_path / "trial_json_anatomy3d"
    printed = capsys.readouterr().out
    files = [out_dir / f"trial_json_3d.{ext}" for ext in ("npz", "csv", "html")]
    assert all(f.is_file() and str(f) in printed for f in files)
    with np.load(files[0]) as f:
        joints, kp_fed, status = f["joints_3d"], f["keypoints_2d"], f["status"]
    assert joints.shape == (40, 17, 3)
    assert np.isfinite(joints).all()  # frames 10-12 were empty: interpolated, not NaN
    assert (status[10:13] == FrameStatus.INTERPOLATED).all()
    assert (status != FrameStatus.MISSING).all()
    # on detected frames the main person (not the fainter decoy) was fed, keypoint by keypoint
    detected = status == FrameStatus.DETECTED
    assert detected.sum() >= 30
    # frame 6: OpenPose's person there is someone else, and the decoy 400 px from them lies
    # where the trial's person was: the tracker takes it (a whole detection: "detected")
    detected[6] = False
    for j in own:
        seen = detected & (sc[:, j] > 0)
        np.testing.assert_allclose(kp_fed[seen, j], kp[seen, j], atol=1e-3)
    rows = list(csv.reader(files[1].open()))
    assert len(rows) == 41 and rows[11][2] == "interpolated"
    assert "plotly" in files[2].read_text()[:5000].lower()


def test_openpose_folder_left_and_right_swapped_back_unless_kept(tmp_path, capsys):
    folder = tmp_path / "trial_json"
    seq, kp, sc, own = _openpose_trial_folder(folder, empty=(), swapped=range(15, 27))
    argv = ["infer", str(folder), "--layout", "body25b", "--width", "1088", "--height", "1920",
            "--fps", "60", "--no-figure"]  # fmt: skip
    fed, printed = {}, {}
    for flags in ((), ("--keep-left-right",)):
        out = tmp_path / f"out{len(flags)}"
        assert cli.main([*argv, *flags, "--out-dir", str(out)]) == 0
        printed[flags] = capsys.readouterr().out
        with np.load(out / "trial_json_3d.npz") as f:
            fed[flags] = f["keypoints_2d"]
    assert (
        "swapped back where the detector had exchanged them: arms in 12 frames, legs in 12"
        in (printed[()])
    )
    assert "swapped back" not in printed[("--keep-left-right",)]
    joints = sorted(own)
    mirrored = np.array(H36M_17.mirror_permutation)
    for t in range(15, 27):
        np.testing.assert_allclose(fed[()][t, joints], kp[t, joints], atol=1e-3)
        np.testing.assert_allclose(
            fed[("--keep-left-right",)][t, joints], kp[t, mirrored][joints], atol=1e-3
        )


def test_infer_rejects_a_causal_request_for_a_non_causal_model(tmp_path, capsys):
    folder = tmp_path / "trial_json"
    _openpose_trial_folder(folder, frames=5, empty=())
    argv = ["infer", "anatomy_small", str(folder), "--width", "1088", "--height", "1920"]
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--causal"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "model is non-causal" in err and cli.DEFAULT_CAUSAL_MODEL in err
    assert not (tmp_path / "trial_json_anatomy3d").exists()


def test_infer_causal_uses_the_shipped_causal_model_and_never_looks_ahead(tmp_path, capsys):
    """Frame t's 3D from the streaming model must not change when later frames arrive."""
    outputs = {}
    for frames in (8, 14):
        folder = tmp_path / f"first_{frames}"
        _openpose_trial_folder(folder, frames=frames, empty=())
        argv = ["infer", str(folder), "--width", "1088", "--height", "1920", "--causal"]
        argv += ["--layout", "body25b"]
        assert cli.main([*argv, "--no-progress"]) == 0
        (npz,) = (tmp_path / f"first_{frames}_anatomy3d").glob("*_3d.npz")
        with np.load(npz) as f:
            outputs[frames] = f["joints_3d"]
    assert outputs[8].shape == (8, 17, 3) and np.isfinite(outputs[8]).all()
    np.testing.assert_allclose(outputs[14][:8], outputs[8], atol=1e-5)
    # Not trivially causal: the lifted poses move over time.
    assert np.ptp(outputs[14], axis=0).max() > 1e-2


def _trial_keypoint_file(folder, frames: int):
    """A keypoint file of the Pose2Sim trial's first camera's first ``frames`` frames, and
    that camera's sequence."""
    seq = load_pose2sim_trial()[0]
    w, h = seq.image_size
    path = folder / "kp.npz"
    np.savez(path, keypoints=seq.keypoints_pixels[:frames].numpy(),
             scores=seq.scores[:frames].numpy(), width=w, height=h)  # fmt: skip
    return path, seq


def test_infer_flip_and_smoothing_options(tmp_path, capsys):
    """--no-flip / --flip and --smooth reach the lifting; a causal model refuses smoothing."""
    kp, seq = _trial_keypoint_file(tmp_path, 40)
    model = cli.load_any_model("anatomy_small")
    lifted = {}
    for name, flags in (("plain", ["--no-flip", "--smooth", "0"]), ("both", ["--smooth", "0.1"])):
        out = tmp_path / f"{name}.npz"
        argv = ["infer", "anatomy_small", str(kp), "--out", str(out), "--fps", "20", "--pull", "0"]
        assert cli.main([*argv, *flags, "--device", "cpu"]) == 0
        said = "3D not smoothed"
        if name == "both":
            said = "3D smoothed: Gaussian sigma 0.1 s = 2 frames at 20 fps (--smooth 0: none)"
        assert f"  model anatomy_small; {said}" in capsys.readouterr().out
        with np.load(out) as f:
            lifted[name] = f["joints_3d"]
            assert json.loads(str(f["meta_json"]))["smoothing_s"] == float(flags[-1])
    kp_2d, scores = seq.keypoints_2d[:40], seq.scores[:40]
    # 20 fps is outside the rates the models have seen: infer lifts at 50 Hz ("auto")
    plain_config = EvaluationConfig(flip=False, lift_fps="auto")
    plain = predict_sequence(model, kp_2d, scores, plain_config, fps=20.0)
    both_config = EvaluationConfig(smoothing_s=0.1, lift_fps="auto")
    both = predict_sequence(model, kp_2d, scores, both_config, fps=20.0)
    np.testing.assert_allclose(lifted["plain"], plain.numpy(), atol=1e-5)
    np.testing.assert_allclose(lifted["both"], both.numpy(), atol=1e-5)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["infer", str(kp), "--causal", "--smooth", "0.1", "--device", "cpu"])
    assert exc.value.code == 2 and "causal model's 3D is not smoothed" in capsys.readouterr().err


def test_infer_pull_option(tmp_path, capsys):
    """--pull reaches the lifting (smoothed over the default's seconds for a non-causal
    model, not for a causal one), says so, is saved with the result, and is refused outside
    [0, 1]; by default a causal model is not pulled."""
    kp, seq = _trial_keypoint_file(tmp_path, 40)
    w, h = seq.image_size
    kp_2d, scores, rays = seq.keypoints_2d[:40], seq.scores[:40], assumed_intrinsics(w, h)
    cases = (
        ("anatomy_small", ["--pull", "0.3"], replace(VIDEO_KEYPOINT_PULL, strength=0.3)),
        (
            "anatomy_small_causal",
            ["--causal", "--pull", "0.3"],
            KeypointPull(0.3, 0.0, bone_lengths="frame"),
        ),
        ("anatomy_small_causal", ["--causal"], None),
    )
    for i, (name, flags, pull) in enumerate(cases):
        out = tmp_path / f"pulled{i}.npz"
        argv = ["infer", name, str(kp), "--out", str(out), "--fps", "50", "--device", "cpu"]
        assert cli.main([*argv, *flags]) == 0
        said = capsys.readouterr().out
        assert ("pulled 0.3 of the way towards its 2D keypoints' rays" in said) == (
            pull is not None
        )
        model = cli.load_any_model(name)
        config = EvaluationConfig(keypoint_pull=pull, lift_fps="auto")
        want = predict_sequence(model, kp_2d, scores, config, rays, fps=50.0)
        with np.load(out) as f:
            np.testing.assert_allclose(f["joints_3d"], want.numpy(), atol=1e-5)
            saved = json.loads(str(f["meta_json"]))["pull_strength"]
            assert saved == (0.0 if pull is None else 0.3)
    for bad in ("1.5", "-0.1", "nan"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["infer", str(kp), "--pull", bad, "--device", "cpu"])
        assert exc.value.code == 2 and "--pull: expected a strength from 0 to 1" in (
            capsys.readouterr().err
        )


def test_infer_roll_option(tmp_path, capsys):
    """--roll reaches the lifting, says so, is saved with the result and is refused outside
    [0, 45); by default the small (camera-frame) models are lifted without turned views."""
    kp, seq = _trial_keypoint_file(tmp_path, 40)
    w, h = seq.image_size
    kp_2d, scores, rays = seq.keypoints_2d[:40], seq.scores[:40], assumed_intrinsics(w, h)
    model = cli.load_any_model("anatomy_small")
    for flags, views in (([], ()), (["--roll", "4"], (-4.0, 4.0))):
        out = tmp_path / f"roll{len(flags)}.npz"
        argv = ["infer", "anatomy_small", str(kp), "--out", str(out), "--fps", "50"]
        assert cli.main([*argv, *flags, "--device", "cpu"]) == 0
        said = "3D averaged with views turned 4 degrees either way" in capsys.readouterr().out
        assert said == bool(views)
        config = EvaluationConfig(
            keypoint_pull=VIDEO_KEYPOINT_PULL, lift_fps="auto", roll_views_deg=views
        )
        want = predict_sequence(model, kp_2d, scores, config, rays, fps=50.0)
        with np.load(out) as f:
            np.testing.assert_allclose(f["joints_3d"], want.numpy(), atol=1e-5)
            assert json.loads(str(f["meta_json"]))["roll_deg"] == max(views, default=0.0)
    for bad in ("45", "-1", "nan"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["infer", str(kp), "--roll", bad, "--device", "cpu"])
        assert exc.value.code == 2 and "--roll: expected degrees from 0 to below 45" in (
            capsys.readouterr().err
        )


def test_infer_averages_models_joined_by_plus(tmp_path, capsys):
    kp, seq = _trial_keypoint_file(tmp_path, 30)
    out = tmp_path / "pair.npz"
    argv = ["infer", "anatomy_small+baseline_small", str(kp), "--out", str(out), "--smooth", "0"]
    argv += ["--pull", "0"]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    assert "model anatomy_small+baseline_small" in capsys.readouterr().out
    members = [cli.load_any_model(name) for name in ("anatomy_small", "baseline_small")]
    kp_2d, scores = seq.keypoints_2d[:30], seq.scores[:30]
    config = EvaluationConfig(flip=False)  # no --fps: the rate is unknown, lifted as filmed
    alone = [predict_sequence(m, kp_2d, scores, config) for m in members]
    with np.load(out) as f:  # an ensemble is lifted without the mirror pass
        np.testing.assert_allclose(f["joints_3d"], (sum(alone) / 2).numpy(), atol=1e-5)
    for bad, message in (("anatomy_small+", "empty name"), ("anatomy_small+nope", "'nope'")):
        with pytest.raises(SystemExit) as exc:
            cli.main(["infer", bad, str(kp), "--device", "cpu"])
        assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--width and --height"),
        (["--width", "9", "--height", "9", "--layout", "body99"], "known:"),
        (["--width", "9", "--height", "9", "--out", "x.npz"], "use --out-dir"),
        (["--width", "9", "--height", "9", "--fps", "0"], "--fps"),
    ],
)
def test_openpose_folder_bad_options(extra, message, tmp_path, capsys, no_work):
    folder = tmp_path / "trial_json"
    _openpose_trial_folder(folder, frames=3, empty=())
    with pytest.raises(SystemExit) as exc:
        cli.main(["infer", str(folder), *extra])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_infer_input_kinds(tmp_path, capsys, no_work):
    (tmp_path / "empty").mkdir()
    np.savez(tmp_path / "kp.npz", keypoints=np.zeros((5, 17, 2)), width=9, height=9)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    for argv, message in [
        (["infer", str(tmp_path / "empty")], "no OpenPose *.json files and no images"),
        (["infer", str(tmp_path / "kp.npz"), "--out-dir", "x"], "use --out / --csv"),
        (["infer", str(tmp_path / "missing.mp4")], "no such file"),
        (
            ["infer", str(video), "--max-people", "0"],
            "--max-people: expected N >= 1 or auto, got '0'",
        ),
        (["infer", str(video), "--max-people", "two"], "expected N >= 1 or auto, got 'two'"),
    ]:
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "graphs", "second_look", "complexity"),
    [
        ([], 1, False, 1),
        (["--max-people", "2"], 2, False, 1),
        (["--max-people", "auto"], 1, True, 1),
        (["--max-people", "auto", "--pose-model", "lite"], 1, True, 0),
    ],
)
def test_video_goes_through_infer_video(
    flags, graphs, second_look, complexity, tmp_path, monkeypatch, capsys
):
    """A GIF of the shipped Sports2D frames, with MediaPipe replaced by the shipped
    detections: one detector graph of the full model by default, two or a second look on
    request, another pose model's graphs when asked (and when its file is in place)."""
    import sys
    import types

    import imageio.v3 as iio

    import anatomy_lib.wild as wild
    from anatomy_lib.wild import Detections, detector, pipeline
    from anatomy_lib.wild.sports2d import load_sports2d_demo

    package = types.ModuleType("mediapipe")  # where the pose models would be
    package.__file__ = str(tmp_path / "mediapipe" / "__init__.py")
    monkeypatch.setitem(sys.modules, "mediapipe", package)
    if complexity != 1:
        model = detector.pose_model_file(complexity)
        model.parent.mkdir(parents=True)
        model.write_bytes(b"model")

    demo = load_sports2d_demo()
    frames, idx = np.stack(demo.frames[:6]), demo.frame_indices[:6]
    iio.imwrite(tmp_path / "clip.gif", frames, duration=100, loop=0)
    det = demo.detections

    def fake_detect(frames_iter, fps, max_people, source, progress, model_complexity):
        assert len(list(frames_iter)) == 6 and max_people == graphs and not progress
        assert model_complexity == complexity
        return Detections(det.keypoints[idx] * demo.scale, det.scores[idx], det.layout,
                          frames.shape[2], frames.shape[1], fps, source)  # fmt: skip

    monkeypatch.setattr(wild, "mediapipe_available", lambda: True)
    monkeypatch.setattr(detector, "mediapipe_available", lambda: True)
    monkeypatch.setattr(detector, "detect_people", fake_detect)
    looks = []
    monkeypatch.setattr(
        pipeline,
        "_second_look",
        lambda v, d, p, model_complexity: looks.append(model_complexity) or d,
    )
    argv = ["infer", str(tmp_path / "clip.gif"), *flags, "--no-progress"]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    assert looks == [complexity] * int(second_look)
    out = tmp_path / "clip_anatomy3d"
    names = {"clip_2d.npz", "clip_3d.npz", "clip_3d.csv", "clip_3d.html"}
    assert {p.name for p in out.iterdir()} == names
    printed = capsys.readouterr().out
    assert all(str(out / n) in printed for n in names)
    with np.load(out / "clip_3d.npz") as f:
        assert f["joints_3d"].shape == (6, 17, 3)
        assert cli.DEFAULT_MODEL in str(f["meta_json"])
    assert "data:image/jpeg;base64," in (out / "clip_3d.html").read_text()  # frames embedded


def test_train_from_init_weights_records_them(tmp_path, capsys):
    import json

    from anatomy_lib.models.checkpoints import load_model, weights_fingerprint

    first, second = tmp_path / "first", tmp_path / "second"
    preset = ["tiny", "optim.eval_every=0", "optim.epochs=1"]
    options = ["--device", "cpu", "--no-progress", "--out"]
    assert cli.main(["train", *preset, *options, str(first)]) == 0
    capsys.readouterr()
    assert cli.main(["train", *preset, f"init_weights={first}", *options, str(second)]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["init_weights"] == {
        "source": str(first),
        "sha256": weights_fingerprint(load_model(first / "model.pt")),
    }
    saved = json.loads((second / "experiment.json").read_text())
    assert saved["init_weights"] == str(first)


def test_train_with_a_weight_average_saves_the_average(tmp_path):
    from anatomy_lib.models.checkpoints import load_model
    from anatomy_lib.training.checkpointing import load_training_checkpoint

    out = tmp_path / "run"
    args = ["train", "tiny", "optim.eval_every=0", "optim.epochs=1", "optim.ema_decay=0.5",
            "--device", "cpu", "--no-progress", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    state = load_training_checkpoint(out / "checkpoint.pt")
    saved = load_model(out / "model.pt").state_dict()
    for key, value in state["model"].items():
        assert torch.equal(saved[key], value), key
    differs = [k for k, v in state["trained_model"].items() if not torch.equal(saved[k], v)]
    assert differs  # model.pt is the average, not the last trained weights


def test_a_closed_output_pipe_ends_quietly():
    """`anatomy3d presets | head -1`: the reader may close the pipe before the output ends."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails (EPIPE)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "anatomy_lib.cli", "presets"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
