"""Trainer: bit-for-bit resume, schedules, deterministic batches, checkpoints and history."""

from __future__ import annotations

import pytest
import torch

from anatomy_lib.models import TemporalConvNet
from anatomy_lib.models.checkpoints import save_model, weights_fingerprint
from anatomy_lib.training import trainer as trainer_module
from anatomy_lib.training.checkpointing import load_training_checkpoint
from anatomy_lib.training.config import ExperimentConfig
from anatomy_lib.training.history import History, plot_history
from anatomy_lib.training.model_files import load_model_file
from anatomy_lib.training.trainer import Trainer


def _experiment(name: str = "full@tiny", *extra: str) -> ExperimentConfig:
    # dropout on, so that the per-step dropout seeds matter for resume
    return ExperimentConfig.preset(name).override(
        ["optim.eval_every=0", "model.dropout=0.2", *extra]
    )


def _same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _same_optimizer(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    for k in a["state"]:
        for name, v in a["state"][k].items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(b["state"][k][name])), (k, name)


@pytest.mark.parametrize("ema", [(), ("optim.ema_decay=0.9",)])
@pytest.mark.parametrize("stop_after", [2, 4])  # mid-epoch, and after an epoch boundary
def test_resume_is_bit_for_bit(tmp_path, stop_after, ema):
    exp = _experiment("full@tiny", *ema)
    straight = Trainer(exp, tmp_path / "straight", progress=False)
    straight.fit()
    stopped = Trainer(exp, tmp_path / "stopped", progress=False)
    stopped.fit(max_steps=stop_after)
    assert stopped.global_step == stop_after
    del stopped  # the "killed" process
    resumed = Trainer.resume(tmp_path / "stopped", progress=False)
    assert resumed.global_step == stop_after
    resumed.fit()
    assert resumed.global_step == straight.global_step == 6
    _same_state(straight.model.state_dict(), resumed.model.state_dict())
    _same_state(straight.output_model.state_dict(), resumed.output_model.state_dict())
    _same_optimizer(straight.optimizer.state_dict(), resumed.optimizer.state_dict())
    assert straight.history.records == resumed.history.records


def test_seed_changes_the_run(tmp_path):
    a = Trainer(_experiment(), progress=False)
    a.fit(max_steps=2)
    b = Trainer(_experiment("full@tiny", "seed=1"), progress=False)
    b.fit(max_steps=2)
    assert not torch.equal(
        a.model.direction.stages[0].head.weight, b.model.direction.stages[0].head.weight
    )


def test_schedule_learning_rate_and_bn_momentum():
    exp = _experiment(
        "full@tiny", "optim.lr_decay=0.5", "optim.epochs=3", "optim.steps_per_epoch=1"
    )
    tr = Trainer(exp, progress=False)
    tr.fit()
    lrs = [r["lr"] for r in tr.history.of("train")]
    assert lrs == pytest.approx([1e-3, 5e-4, 2.5e-4])
    momenta = {m.momentum for m in tr.model.modules() if isinstance(m, torch.nn.BatchNorm1d)}
    assert len(momenta) == 1 and momenta.pop() == pytest.approx(exp.optim.bn_momentum_end)


def test_batches_are_deterministic_and_flip_consistent():
    tr = Trainer(_experiment(), progress=False)
    a, b = tr.make_batch(1, 2), tr.make_batch(1, 2)
    for x, y in zip(a.windows, b.windows, strict=True):
        assert torch.equal(x, y)
    assert torch.equal(a.augmented.keypoints_2d, b.augmented.keypoints_2d)
    c = tr.make_batch(1, 3)
    assert not torch.equal(a.windows.target_3d, c.windows.target_3d)
    # targets are root-relative and match the bone lengths carried along (flipped or not)
    from anatomy_lib.bones import joints_to_bones

    w = a.windows
    torch.testing.assert_close(
        joints_to_bones(w.target_3d, tr.sampler.skeleton).lengths, w.bone_lengths
    )
    assert float(w.target_3d[:, 0].abs().max()) == 0.0


def test_consecutive_length_frames_in_af_conse():
    tr = Trainer(_experiment("af-conse+ml+boneatt+aug+jsl@tiny"), progress=False)
    w = tr.make_batch(0, 0).windows
    l = tr.experiment.model.sampled_frames
    n = tr.sampler.packed.lengths[w.sequence_index].unsqueeze(-1)
    want = (w.frame_index.unsqueeze(-1) + torch.arange(l) - l // 2).clamp(min=0)
    assert torch.equal(w.length_frame_index, torch.minimum(want, n - 1))


@pytest.mark.parametrize(("name", "terms"), [
    ("baseline@tiny", {"loss", "final_joints"}),
    ("baseline+jsl@tiny", {"loss", "final_joints", "joint_shift/1"}),
])  # fmt: skip
def test_baseline_rows_train_a_temporal_conv_net(name, terms):
    tr = Trainer(_experiment(name), progress=False)
    assert isinstance(tr.model, TemporalConvNet)
    values = tr.train_step(0, 0)
    assert set(values) == terms


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_training_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        load_training_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="expected a training checkpoint"):
        load_training_checkpoint(tmp_path / "other.pt")
    tr = Trainer(_experiment(), tmp_path / "run", progress=False)
    tr.fit(max_steps=1)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())  # no temp files left
    assert files == ["checkpoint.pt", "experiment.json", "history.csv", "history.json"]
    assert History.load(tmp_path / "run" / "history.csv").records == tr.history.records
    other = Trainer(_experiment("full@tiny", "seed=3"), progress=False)
    with pytest.raises(ValueError, match="different experiment"):
        other.load_state_dict(load_training_checkpoint(tmp_path / "run" / "checkpoint.pt"))


def test_bad_settings_fail_before_work():
    with pytest.raises(ValueError, match="CUDA is not available"):
        if torch.cuda.is_available():
            pytest.skip("CUDA present")
        Trainer(_experiment(), device="cuda", progress=False)
    with pytest.raises(ValueError, match="checkpoint_every"):
        Trainer(_experiment(), checkpoint_every=0, progress=False)
    with pytest.raises(ValueError, match="set data.root"):
        Trainer(ExperimentConfig.preset("full@paper-27"), progress=False)


def test_history_files_round_trip_and_plot(tmp_path):
    h = History()
    h.log("train", 0, 1, loss=2.0, lr=1e-3)
    h.log("train", 0, 2, loss=1.0, lr=1e-3, joints=0.5)
    h.log("val", 0, 2, val_p1=80.0)
    for name in ("h.csv", "h.json"):
        h.save(tmp_path / name)
        assert History.load(tmp_path / name).records == h.records
    assert h.epoch_means() == {0: 1.5}
    fig = plot_history(tmp_path / "h.csv")
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert [list(line.get_ydata()) for line in lines] == [[2.0, 1.0], [80.0]]
    with pytest.raises(ValueError, match="finite number"):
        h.log("train", 0, 3, loss=float("nan"))
    with pytest.raises(ValueError, match="kind"):
        h.log("test", 0, 3, loss=1.0)
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        h.save(tmp_path / "h.txt")


def test_dropout_masks_ignore_other_random_draws(monkeypatch):
    """An extra draw from the global generator inside every step changes nothing (dropout
    has its own generator), and training leaves the global random state alone."""
    from anatomy_lib.training import trainer as trainer_module

    plain = Trainer(_experiment(), progress=False)
    before = torch.get_rng_state()
    plain.fit(max_steps=3)
    assert torch.equal(torch.get_rng_state(), before)

    forward = trainer_module._StepLoss.forward

    def noisy(self, batch, generator):
        torch.rand(17)  # e.g. a debugging print of a random sample
        return forward(self, batch, generator)

    monkeypatch.setattr(trainer_module._StepLoss, "forward", noisy)
    disturbed = Trainer(_experiment(), progress=False)
    disturbed.fit(max_steps=3)
    _same_state(plain.model.state_dict(), disturbed.model.state_dict())


def test_dropout_generator_sets_the_cpu_masks():
    from anatomy_lib.models.dropout import dropout, dropout_generator

    x = torch.ones(1000)
    with dropout_generator(torch.Generator().manual_seed(3)):
        a = dropout(x, 0.5)
        torch.rand(5)
    with dropout_generator(torch.Generator().manual_seed(3)):
        b = dropout(x, 0.5)
    with dropout_generator(torch.Generator().manual_seed(4)):
        c = dropout(x, 0.5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert 400 < int((a == 0).sum()) < 600


def test_amp_dtype_setting():
    from anatomy_lib.training.trainer import resolve_amp_dtype

    cpu = torch.device("cpu")
    assert resolve_amp_dtype("bfloat16", cpu) == torch.bfloat16
    assert resolve_amp_dtype("float16", cpu) == torch.float16
    assert resolve_amp_dtype("auto", cpu) == torch.float16  # no CUDA: AMP is off anyway
    t = Trainer(
        _experiment("full@tiny", "optim.amp=true", "optim.amp_dtype=bfloat16"), progress=False
    )
    assert not t.use_amp and not t.scaler.is_enabled()  # CPU: AMP ignored, as documented
    assert t.amp_dtype == torch.bfloat16


def test_run_epoch_advances_one_epoch(tmp_path):
    """``run_epoch`` runs the rest of the epoch; ``fit`` then continues identically."""
    a = Trainer(_experiment(), progress=False)
    assert a.run_epoch() is None
    assert (a.epoch, a.step_in_epoch, a.global_step) == (1, 0, a.steps_per_epoch)
    a.fit()
    b = Trainer(_experiment(), progress=False)
    b.fit()
    _same_state(a.model.state_dict(), b.model.state_dict())
    c = Trainer(_experiment(), tmp_path / "c", progress=False)
    assert c.run_epoch(max_steps=1) == 0 and (c.epoch, c.step_in_epoch) == (0, 1)
    assert (tmp_path / "c" / "checkpoint.pt").is_file()


def test_resume_accepts_a_checkpoint_written_before_amp_dtype(tmp_path):
    """Old checkpoints (experiment dict without optim.amp_dtype) still resume."""
    t = Trainer(_experiment(), tmp_path, progress=False)
    t.fit(max_steps=1)
    state = load_training_checkpoint(tmp_path / "checkpoint.pt")
    del state["experiment"]["optim"]["amp_dtype"]
    t2 = Trainer(_experiment(), progress=False)
    t2.load_state_dict(state)
    assert t2.global_step == 1


def test_init_weights_starts_from_the_given_model_and_then_trains(tmp_path):
    source = Trainer(_experiment(), progress=False)
    source.fit(max_steps=2)
    save_model(source.model, tmp_path / "source.pt")
    exp = _experiment("full@tiny", "seed=1", f"init_weights={tmp_path / 'source.pt'}")
    tuned = Trainer(exp, tmp_path / "tuned", progress=False)
    _same_state(tuned.model.state_dict(), source.model.state_dict())
    assert tuned.init_weights_sha256 == weights_fingerprint(source.model)
    fresh = Trainer(exp.replace(init_weights=None), progress=False)  # seed 1's random weights
    assert weights_fingerprint(fresh.model) != tuned.init_weights_sha256
    tuned.fit(max_steps=1)
    assert weights_fingerprint(tuned.model) != tuned.init_weights_sha256  # it trains on
    # a resumed run keeps its own weights and record, even once the source file is gone
    (tmp_path / "source.pt").unlink()
    resumed = Trainer.resume(tmp_path / "tuned", progress=False)
    _same_state(resumed.model.state_dict(), tuned.model.state_dict())
    assert resumed.init_weights_sha256 == weights_fingerprint(source.model)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("model.channels=24",), "['channels']"),
        (("model.causal=true",), "['causal']"),
    ],
)
def test_init_weights_must_be_the_same_network(tmp_path, extra, message):
    source = Trainer(_experiment(), progress=False)
    save_model(source.model, tmp_path / "source.pt")
    exp = _experiment("full@tiny", *extra, f"init_weights={tmp_path / 'source.pt'}")
    with pytest.raises(ValueError, match="differs from the experiment") as err:
        Trainer(exp, progress=False)
    assert message in str(err.value)


def test_init_weights_of_another_architecture_is_refused(tmp_path):
    source = Trainer(_experiment(), progress=False)
    save_model(source.model, tmp_path / "source.pt")
    exp = _experiment("baseline@tiny", f"init_weights={tmp_path / 'source.pt'}")
    with pytest.raises(ValueError, match="AnatomyModel differs from the experiment's "
                       "TemporalConvNet in its architecture"):  # fmt: skip
        Trainer(exp, progress=False)


def test_init_weights_setting_round_trips():
    exp = ExperimentConfig.preset("tiny").override(["init_weights=anatomy_small"])
    assert exp.init_weights == "anatomy_small"
    assert ExperimentConfig.from_dict(exp.to_dict()) == exp
    assert exp.override(["init_weights=null"]).init_weights is None
    with pytest.raises(ValueError, match="init_weights"):
        exp.replace(init_weights="  ")


def test_weight_average_is_the_run_model(tmp_path, monkeypatch):
    """With optim.ema_decay the average follows every step, validation scores it, and the
    checkpoint's model (what every loader reads) is the average, not the trained weights."""
    decay = 0.5
    trainer = Trainer(_experiment("full@tiny", f"optim.ema_decay={decay}"), tmp_path,
                      progress=False)  # fmt: skip
    expected = None
    for _ in range(3):
        trainer.fit(max_steps=1)
        now = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        expected = now if expected is None else {
            k: decay * expected[k] + (1 - decay) * v if v.is_floating_point() else v
            for k, v in now.items()
        }  # fmt: skip
    averaged = trainer.output_model.state_dict()
    assert trainer.output_model is trainer.weight_average.module
    for k, v in expected.items():
        torch.testing.assert_close(averaged[k], v, msg=k)
    head = "direction.stages.0.head.weight"
    assert not torch.equal(averaged[head], trainer.model.state_dict()[head])
    state = load_training_checkpoint(tmp_path / "checkpoint.pt")
    _same_state(state["model"], averaged)
    _same_state(state["trained_model"], trainer.model.state_dict())
    assert state["weight_average_updates"] == 3
    _same_state(load_model_file(str(tmp_path / "checkpoint.pt")).state_dict(), averaged)
    scored = []
    monkeypatch.setattr(trainer_module, "evaluate_dataset",
                        lambda model, *a, **k: scored.append(model) or _NoScores())  # fmt: skip
    trainer.validate()
    assert scored == [trainer.output_model]


def test_without_weight_average_the_trained_model_is_the_run_model():
    trainer = Trainer(_experiment(), progress=False)
    assert trainer.weight_average is None and trainer.output_model is trainer.model
    assert "trained_model" not in trainer.state_dict()


def test_checkpoint_of_a_weight_average_run_needs_the_trained_weights(tmp_path):
    exp = _experiment("full@tiny", "optim.ema_decay=0.9")
    Trainer(exp, tmp_path, progress=False).fit(max_steps=1)
    state = load_training_checkpoint(tmp_path / "checkpoint.pt")
    del state["trained_model"]
    with pytest.raises(ValueError, match="holds no trained_model"):
        Trainer(exp, progress=False).load_state_dict(state)


class _NoScores:
    averages: dict = {}


@pytest.mark.parametrize("stop_after", [None, 3])  # straight through, and killed then resumed
def test_prefetched_engine_pools_train_exactly_as_pools_drawn_in_turn(tmp_path, stop_after):
    exp = _experiment(
        "full@tiny",
        "data.dataset=engine",
        "data.engine_videos=2",
        "data.engine_validation_videos=2",
        "optim.epochs=3",
        "optim.steps_per_epoch=2",
    )
    in_turn = Trainer(exp, progress=False, prefetch_pools=False)
    in_turn.fit()
    ahead = Trainer(exp, tmp_path / "ahead", progress=False, prefetch_pools=True)
    assert ahead.prefetch_pools and not in_turn.prefetch_pools
    if stop_after is not None:
        ahead.fit(max_steps=stop_after)
        ahead = Trainer.resume(tmp_path / "ahead", progress=False, prefetch_pools=True)
    ahead.fit()
    assert ahead._pool_epoch == in_turn._pool_epoch == 2 and ahead._pending_pool is None
    assert ahead.global_step == in_turn.global_step == 6
    _same_state(in_turn.model.state_dict(), ahead.model.state_dict())
    # the pools differ from epoch to epoch, so the check above saw three different pools
    last = in_turn.make_batch(2, 0).windows.keypoints_2d
    first = Trainer(exp, progress=False).make_batch(0, 0).windows.keypoints_2d
    assert not torch.equal(last, first)
