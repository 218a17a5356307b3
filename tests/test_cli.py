"""The ``anatomy3d`` command: help, bad input rejected before any work, and a tiny round trip."""

from __future__ import annotations

import argparse
import csv

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.data import load_pose2sim_trial
from anatomy_lib.evaluation import EvaluationConfig, predict_sequence
from anatomy_lib.training import trainer as trainer_module


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
        (["evaluate", "m.pt", "--dataset", "h36m"], "needs --root"),
        (["evaluate", "m.pt", "--length-frames", "some"], "length_frames"),
        (["infer", "m.pt", "/nonexistent/kp.npz"], "no such file"),
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
    want = predict_sequence(model, seq.keypoints_2d, seq.scores, EvaluationConfig())
    np.testing.assert_allclose(out["joints_3d"], want.numpy(), atol=1e-5)
    rows = list(csv.reader((tmp_path / "kp_3d.csv").open()))
    assert len(rows) == seq.num_frames + 1 and len(rows[0]) == 1 + 17 * 3
    np.testing.assert_allclose(
        np.array(rows[1][1:], dtype=float), out["joints_3d"][0].reshape(-1), atol=1e-6
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
