"""scripts/train_on_budget.py (a run sized to a time budget, its transfer copy) and
scripts/ship_default_models.py --average (a shipped model soup)."""

from __future__ import annotations

import copy
import json
import math
import sys
from argparse import Namespace

import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.models.checkpoints import load_model
from anatomy_lib.training.checkpointing import load_training_checkpoint
from anatomy_lib.training.config import ExperimentConfig
from anatomy_lib.training.trainer import Trainer

budget = load_benchmark("train_on_budget", "scripts")
TINY = ["optim.eval_every=0", "optim.ema_decay=0.9"]


@pytest.mark.parametrize("epoch_s, validation_s", [(0.5, 0.0), (2.0, 3.0), (9.0, 40.0)])
@pytest.mark.parametrize("seconds", [0.0, 7.0, 100.0, 3600.0])
def test_planned_epochs_fit_the_time_left_and_are_the_most_that_do(epoch_s, validation_s, seconds):
    epochs, every = budget.planned_epochs(seconds, epoch_s, validation_s)
    assert epochs >= 1 and every >= 1
    cost = lambda n: (n - 1) * budget.EPOCH_MARGIN * epoch_s + (n - 1) // every * validation_s  # noqa: E731
    assert cost(epochs) <= seconds + 1e-9
    assert cost(epochs + 1) > seconds - budget.EPOCH_MARGIN * epoch_s  # one more may not fit
    assert epochs // every < 2 * budget.VALIDATIONS  # about VALIDATIONS, never many more
    with pytest.raises(ValueError, match="positive time"):
        budget.planned_epochs(seconds, 0.0, validation_s)


@pytest.mark.parametrize("epochs", [1, 2, 45, 200])
@pytest.mark.parametrize("fraction", [0.03, 0.3, 1.0])
def test_decay_brings_the_last_epoch_to_the_final_fraction(epochs, fraction):
    decay = budget.decay_for(epochs, fraction)
    last = decay ** (epochs - 1)
    assert math.isclose(last, fraction if epochs > 1 else 1.0, rel_tol=1e-9)
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        budget.decay_for(epochs, 0.0)


def test_budgeted_run_follows_its_final_schedule_and_its_transfer_copy_unpacks(tmp_path):
    args = Namespace(
        preset="full@tiny", overrides=[*TINY, "optim.learning_rate=0.002"], out=tmp_path / "run",
        device="cpu", budget_s=budget.time.monotonic() - budget.START + 6.0, reserve_s=1.0,
        final_lr_fraction=0.05, transfer=tmp_path / "back" / "run.pt",
    )  # fmt: skip
    budget.train(args)
    state = load_training_checkpoint(args.out / "checkpoint.pt")
    optim = ExperimentConfig.from_dict(state["experiment"]).optim
    saved = ExperimentConfig.from_dict(json.loads((args.out / "experiment.json").read_text()))
    assert saved.optim == optim and 1 <= optim.eval_every
    last = 0.05 if optim.epochs > 1 else 1.0  # a slow machine may plan one epoch only
    assert math.isclose(optim.lr_decay ** (optim.epochs - 1), last, rel_tol=1e-9)
    train = [r for r in state["history"]["records"] if r["kind"] == "train"]
    for r in train:  # every step ran at the final schedule's rate, epoch 0 included
        assert math.isclose(r["lr"], 0.002 * optim.lr_decay ** r["epoch"], rel_tol=1e-9)
    assert state["epoch"] <= optim.epochs and train[-1]["epoch"] == state["epoch"] - 1

    copy = load_training_checkpoint(args.transfer)
    assert copy["optimizer"] is None and "trained_model" not in copy
    for key, value in state["model"].items():  # the run's output: the weight average
        assert torch.equal(copy["model"][key], value)
    with pytest.raises(ValueError, match="transfer copy without optimiser state"):
        Trainer.resume(args.transfer, progress=False)
    budget.unpack(args.transfer, tmp_path / "unpacked")
    unpacked = load_model(tmp_path / "unpacked" / "model.pt")
    for key, value in load_model(args.out / "model.pt").state_dict().items():
        assert torch.equal(unpacked.state_dict()[key], value)
    assert (tmp_path / "unpacked" / "history.json").read_text() == (
        args.out / "history.json"
    ).read_text()
    with pytest.raises(SystemExit, match="not a transfer copy"):
        budget.unpack(args.out / "checkpoint.pt", tmp_path / "again")


def test_shipped_average_is_the_mean_of_its_sources_and_records_each(tmp_path, monkeypatch):
    ship = load_benchmark("ship_default_models", "scripts")
    monkeypatch.setattr(ship, "CHECKPOINTS", tmp_path)
    runs = []
    for seed in (1, 2):
        exp = ExperimentConfig.preset("full@tiny").override([*TINY, f"seed={seed}"])
        Trainer(exp, tmp_path / f"run{seed}", progress=False).fit()
        runs.append(str(tmp_path / f"run{seed}"))
    record = ship.ship_average("anatomy_small", runs, "abc1234", {}, {})
    averaged = load_model(tmp_path / record["file"]).state_dict()
    sources = [load_training_checkpoint(f"{r}/checkpoint.pt")["model"] for r in runs]
    for key, value in averaged.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (sources[0][key] + sources[1][key]) / 2)
    assert [s["source"] for s in record["sources"]] == runs
    assert [s["seed"] for s in record["sources"]] == [1, 2]
    assert record["bytes"] == (tmp_path / record["file"]).stat().st_size
    assert "--average anatomy_small=" in record["command"]


def test_shipped_average_keeps_a_shipped_sources_record_once(tmp_path, monkeypatch):
    ship = load_benchmark("ship_default_models", "scripts")
    monkeypatch.setattr(ship, "CHECKPOINTS", tmp_path)
    exp = ExperimentConfig.preset("full@tiny").override(TINY)
    trainer = Trainer(exp, progress=False)
    trainer.fit()
    start = trainer.output_model  # stands in for the shipped model
    monkeypatch.setattr(ship, "load_pretrained", lambda name: copy.deepcopy(start))
    previous = {"seed": 0, "validation": [{"val_p1": 1.0}]}
    init = {
        "source": "anatomy_small",
        "record": previous,
        "sha256": ship.weights_fingerprint(start),
    }
    continued = {"seed": 7, "init_weights": init}
    monkeypatch.setattr(ship, "run_record", lambda *a: (copy.deepcopy(start), continued))
    record = ship.ship_average("anatomy_small", ["anatomy_small", "runs/continued"], "abc", {},
                               {"anatomy_small": previous})  # fmt: skip
    shipped_source, run_source = record["sources"]
    assert shipped_source["record"] == previous
    assert shipped_source["sha256"] == run_source["init_weights"]["sha256"]
    assert run_source["init_weights"]["record"] == "that of sources[0]"
    # Named twice (half the start, as sessions 24, 31 and 34 shipped), it weighs twice but its
    # record is kept once: before session 34 every such ship doubled default_models.json.
    record = ship.ship_average("anatomy_small", ["anatomy_small", "anatomy_small", "runs/c"],
                               "abc", {}, {"anatomy_small": previous})  # fmt: skip
    first, second, _ = record["sources"]
    assert first["record"] == previous and second["record"] == "that of sources[0]"
    assert first["sha256"] == second["sha256"]
    assert json.dumps(record).count('"val_p1"') == 1


def test_shipped_average_weighs_a_source_named_twice_twice(tmp_path, monkeypatch):
    # Session 24 shipped 0.5 shipped + 0.25 each run as --average NAME=start,start,run1,run2.
    ship = load_benchmark("ship_default_models", "scripts")
    monkeypatch.setattr(ship, "CHECKPOINTS", tmp_path)
    models = {}
    for name, seed in (("start", 1), ("run", 2)):
        exp = ExperimentConfig.preset("full@tiny").override([*TINY, f"seed={seed}"])
        torch.manual_seed(seed)
        models[name] = Trainer(exp, progress=False).output_model.eval()
    monkeypatch.setattr(ship, "load_pretrained", lambda name: copy.deepcopy(models["start"]))
    monkeypatch.setattr(ship, "run_record", lambda *a: (copy.deepcopy(models["run"]), {"seed": 2}))
    record = ship.ship_average("anatomy_small", ["anatomy_small", "anatomy_small", "runs/r"],
                               "abc", {}, {})  # fmt: skip
    averaged = load_model(tmp_path / record["file"]).state_dict()
    start, run = models["start"].state_dict(), models["run"].state_dict()
    differing = 0
    for key, value in averaged.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (2 * start[key] + run[key]) / 3)
            differing += not torch.equal(start[key], run[key])
    assert differing > 0  # the two models differ, so the weighting is seen
    assert len(record["sources"]) == 3 and "3 sources" in record["weights"]


def test_shipped_average_records_each_runs_own_commit(tmp_path, monkeypatch):
    ship = load_benchmark("ship_default_models", "scripts")
    monkeypatch.setattr(ship, "CHECKPOINTS", tmp_path)
    model = Trainer(ExperimentConfig.preset("full@tiny").override(TINY), progress=False)
    model = model.output_model

    def run_record(run, commit, *args):
        return copy.deepcopy(model), {"commit": commit}

    monkeypatch.setattr(ship, "run_record", run_record)
    record = ship.ship_average("anatomy_small", ["runs/a", "runs/b"], "abc", {}, {},
                               {"runs/b": "def"})  # fmt: skip
    assert [s["commit"] for s in record["sources"]] == ["abc", "def"]
    assert record["command"].endswith("--commit abc --source-commit runs/b=def")
    monkeypatch.setattr(ship, "RESULTS", tmp_path / "default_models.json")
    for wrong in ("runs/c=def", "runs/b"):  # not an averaged run; no commit
        argv = ["ship", "--average", "anatomy_small=runs/a,runs/b", "--commit", "abc",
                "--source-commit", wrong]  # fmt: skip
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exit_:
            ship.main()
        assert exit_.value.code == 2


def test_shipped_average_of_runs_from_one_start_keeps_the_starts_record_once(monkeypatch, tmp_path):
    ship = load_benchmark("ship_default_models", "scripts")
    monkeypatch.setattr(ship, "CHECKPOINTS", tmp_path)
    exp = ExperimentConfig.preset("full@tiny").override(TINY)
    model = Trainer(exp, progress=False).output_model
    previous = {"seed": 0, "validation": [{"val_p1": 1.0}]}
    init = {"source": "anatomy_small", "record": previous, "sha256": "f" * 64}

    def run_record(run, *args):
        return copy.deepcopy(model), {"seed": int(run.name[-1]), "init_weights": dict(init)}

    monkeypatch.setattr(ship, "run_record", run_record)
    record = ship.ship_average("anatomy_small", ["runs/c1", "runs/c2", "runs/c3"], "abc", {},
                               {"anatomy_small": previous})  # fmt: skip
    inits = [s["init_weights"] for s in record["sources"]]
    assert [s["seed"] for s in record["sources"]] == [1, 2, 3]
    assert inits[0]["record"] == previous  # the first run keeps the start's record
    assert [i["record"] for i in inits[1:]] == ["that of sources[0].init_weights"] * 2
    assert {i["sha256"] for i in inits} == {"f" * 64}


def test_shipped_records_describe_every_joint_definition_setting():
    from typing import get_args

    from anatomy_lib.training.config import JointDefinitions

    ship = load_benchmark("ship_default_models", "scripts")
    sentences = {d: ship._definitions(d) for d in get_args(JointDefinitions)}
    assert sentences["fixed"] == ""
    assert "engine_joint_definitions=varied," in sentences["varied"]
    assert "thorax" not in sentences["varied"] and "varied_thorax" in sentences["varied_thorax"]
    assert "half the bodies" in sentences["varied_thorax_half"]
    assert "varied_thorax_half" not in sentences["varied_thorax"]


def test_shipped_records_describe_every_detector_setting():
    from anatomy_lib.data.detector_errors import DETECTOR_ERRORS, JOINT_NOISE
    from anatomy_lib.training.config import DataConfig

    ship = load_benchmark("ship_default_models", "scripts")
    for noise in JOINT_NOISE:
        for errors in DETECTOR_ERRORS:
            data = DataConfig(engine_detector_noise=noise, engine_detector_errors=errors)
            sentence = ship._detector_sentences(data)
            assert ("engine_detector_noise=coco_spread" in sentence) == (noise == "coco_spread")
            assert ("engine_detector_errors=calibrated" in sentence) == (errors == "calibrated")
            named = f"engine_detector_errors={errors}" in sentence
            assert named == (errors != "assumed")


def test_a_runs_start_record_is_found_by_its_weights_not_its_name(monkeypatch):
    ship = load_benchmark("ship_default_models", "scripts")
    current = Trainer(ExperimentConfig.preset("full@tiny").override(TINY), progress=False)
    current = current.output_model  # stands in for the model shipped under the name today
    monkeypatch.setattr(ship, "load_pretrained", lambda name: copy.deepcopy(current))
    older = {"seed": 1, "validation": []}  # the model shipped under that name before
    shipped = {
        "anatomy_small": {
            "seed": 2,
            "sources": [
                {"source": "runs/a", "init_weights": {"sha256": "0" * 64, "record": older}},
                {"source": "runs/b", "init_weights": {"sha256": "1" * 64, "record": "that of"}},
            ],
        },
        "_machine": {"python": "3"},
    }
    today = ship.weights_fingerprint(current)
    assert ship.start_record(today, shipped) is shipped["anatomy_small"]
    assert ship.start_record("0" * 64, shipped) is older  # a run started before a re-ship
    assert ship.start_record("1" * 64, shipped) is None  # a pointer, not a record
    assert ship.start_record("2" * 64, shipped) is None
    assert ship.start_record(None, shipped) is None


def test_a_run_from_a_model_file_keeps_that_models_record(tmp_path, monkeypatch):
    from anatomy_lib.models.checkpoints import save_model

    ship = load_benchmark("ship_default_models", "scripts")
    first = Trainer(ExperimentConfig.preset("full@tiny").override(TINY), progress=False)
    first.fit()
    save_model(first.output_model, tmp_path / "start.pt")
    continued = ExperimentConfig.preset("full@tiny").override([*TINY, "seed=3"])
    continued = continued.override([f"init_weights={tmp_path / 'start.pt'}"])
    Trainer(continued, tmp_path / "continued", progress=False).fit()
    other = Trainer(ExperimentConfig.preset("full@tiny").override([*TINY, "seed=5"]))
    monkeypatch.setattr(ship, "load_pretrained", lambda name: other.output_model)  # shipped now
    start = {"seed": 0, "validation": []}
    fingerprint = ship.weights_fingerprint(first.output_model)
    shipped = {
        "anatomy_small": {"sources": [{"init_weights": {"sha256": fingerprint, "record": start}}]}
    }
    _, record = ship.run_record(tmp_path / "continued", "abc", None, shipped)
    assert record["seed"] == 3
    assert record["init_weights"]["sha256"] == fingerprint
    assert record["init_weights"]["record"] is start


def test_shipped_records_say_when_the_embedded_videos_were_in_the_pool():
    from anatomy_lib.training.config import DataConfig

    ship = load_benchmark("ship_default_models", "scripts")
    assert ship._embedded_sentence(DataConfig(dataset="engine")) == ""
    sentence = ship._embedded_sentence(DataConfig(dataset="engine", engine_with_embedded=True))
    assert "data.engine_with_embedded=true" in sentence
    assert "engine_embedded_copies" not in sentence
    doubled = ship._embedded_sentence(
        DataConfig(dataset="engine", engine_with_embedded=True, engine_embedded_copies=2)
    )
    assert doubled.startswith(sentence) and "data.engine_embedded_copies=2" in doubled
    assert "engine_embedded_detections" not in doubled
    anew = ship._embedded_sentence(
        DataConfig(
            dataset="engine",
            engine_with_embedded=True,
            engine_embedded_copies=2,
            engine_embedded_detections="engine",
        )
    )
    assert anew.startswith(doubled) and "data.engine_embedded_detections=engine" in anew
