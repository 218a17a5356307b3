"""Train one experiment within a wall-clock budget (made for a lent GPU machine).

Everything is ``anatomy3d train`` except the length of the run: the first epoch is timed
(and one validation after it), then ``optim.epochs`` is set to as many epochs as fit in
``--budget-s`` seconds from this script's start, and ``optim.lr_decay`` so that the last
epoch's learning rate is ``--final-lr-fraction`` of the first. Epoch 0 runs as the final
configuration would have run it (its learning rate is ``optim.learning_rate`` and its
BatchNorm momentum ``optim.bn_momentum_start`` whatever the number of epochs), and the run
folder records the final configuration. Validation runs about ten times over the run.
If the machine slows down so much that the next epoch would end past the budget, the run
stops before it, validates, says so in its summary, and keeps what it has::

    python scripts/train_on_budget.py full@medium model.channels=320 optim.batch_size=1024 \\
        --budget-s 450 --final-lr-fraction 0.03 --device cuda --out runs/gpu_a \\
        --transfer out/gpu_a.pt

``--transfer FILE`` also writes the final checkpoint without the optimiser state and the
trained (un-averaged) weights: small enough to bring back from a lent machine, and not
resumable. ``--unpack FILE --out DIR`` turns such a file back into a run folder
(``checkpoint.pt``, the history files, ``experiment.json``, ``model.pt``) that
``scripts/ship_default_models.py`` and ``benchmarks/engine_validation.py`` read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

START = time.monotonic()

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anatomy_lib._atomic import atomic_torch_save, atomic_write_bytes  # noqa: E402
from anatomy_lib.models.checkpoints import save_model  # noqa: E402
from anatomy_lib.training.checkpointing import load_training_checkpoint  # noqa: E402
from anatomy_lib.training.config import ExperimentConfig  # noqa: E402
from anatomy_lib.training.history import History  # noqa: E402
from anatomy_lib.training.run_folder import check_run_folder  # noqa: E402
from anatomy_lib.training.trainer import Trainer, build_model  # noqa: E402

#: Validations over a run (about).
VALIDATIONS = 10
#: Later epochs are planned this much longer than the timed first one: on the H200 with
#: four runs side by side they took 1.1 to 1.2 times as long (session 15's sweep).
EPOCH_MARGIN = 1.25


def planned_epochs(seconds_left: float, epoch_s: float, validation_s: float) -> tuple[int, int]:
    """``(epochs, eval_every)``: the first epoch (done) and the most that fit in
    ``seconds_left`` after it, with a validation every ``eval_every`` epochs (about
    :data:`VALIDATIONS` in all) counted in."""
    if epoch_s <= 0:
        raise ValueError(f"epoch_s: expected a positive time, got {epoch_s}")
    epoch_s *= EPOCH_MARGIN
    rough = 1 + max(0, math.floor(seconds_left / epoch_s))
    every = max(1, rough // VALIDATIONS)
    per_epoch = epoch_s + validation_s / every
    return 1 + max(0, math.floor(seconds_left / per_epoch)), every


def decay_for(epochs: int, final_fraction: float) -> float:
    """Per-epoch learning-rate factor whose last epoch (``epochs - 1``) runs at
    ``final_fraction`` of the first."""
    if not 0 < final_fraction <= 1:
        raise ValueError(f"final_fraction: expected a value in (0, 1], got {final_fraction}")
    return 1.0 if epochs < 2 else final_fraction ** (1 / (epochs - 1))


def transfer_copy(trainer: Trainer) -> dict:
    """The trainer's checkpoint less the optimiser state and the trained weights (its
    ``"model"`` is the run's output: the weight average with ``optim.ema_decay``)."""
    state = trainer.state_dict()
    state.pop("trained_model", None)
    state.pop("weight_average_updates", None)
    state["optimizer"] = None  # not resumable: Trainer.load_state_dict refuses it
    state["scaler"] = None
    state["transfer_copy"] = True
    return state


def unpack(file: Path, out: Path) -> None:
    """Write a run folder from a :func:`transfer_copy` file."""
    state = load_training_checkpoint(file)
    if not state.get("transfer_copy"):
        raise SystemExit(f"{file}: not a transfer copy (written by --transfer)")
    check_run_folder(out, "new")
    out.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(state, out / "checkpoint.pt")
    experiment = ExperimentConfig.from_dict(state["experiment"])
    atomic_write_bytes(out / "experiment.json", experiment.to_json().encode())
    history = History.from_state_dict(state["history"])
    history.save(out / "history.csv")
    history.save(out / "history.json")
    model = build_model(experiment)
    model.load_state_dict(state["model"])
    save_model(model.eval(), out / "model.pt")
    print(json.dumps({"run": str(out), "epoch": state["epoch"], "steps": state["global_step"]}))


def train(args) -> None:
    experiment = ExperimentConfig.preset(args.preset).override(args.overrides)
    experiment = dataclasses.replace(
        experiment, optim=dataclasses.replace(experiment.optim, eval_every=0)
    )
    check_run_folder(args.out, "new")
    trainer = Trainer(experiment, args.out, device=args.device, progress=False)
    atomic_write_bytes(args.out / "experiment.json", experiment.to_json().encode())
    started = time.monotonic()
    trainer.run_epoch()
    epoch_s = time.monotonic() - started
    started = time.monotonic()
    trainer.validate()
    validation_s = time.monotonic() - started
    reserve = 2 * validation_s + args.reserve_s
    left = args.budget_s - (time.monotonic() - START) - reserve
    epochs, every = planned_epochs(left, epoch_s, validation_s)
    optim = dataclasses.replace(
        experiment.optim,
        epochs=epochs,
        lr_decay=decay_for(epochs, args.final_lr_fraction),
        eval_every=every,
    )
    trainer.experiment = dataclasses.replace(experiment, optim=optim)
    atomic_write_bytes(args.out / "experiment.json", trainer.experiment.to_json().encode())
    trainer.save_checkpoint()  # the run folder holds the final configuration from here on
    print(json.dumps({"first_epoch_s": round(epoch_s, 2), "validation_s": round(validation_s, 2),
                      "epochs": epochs, "lr_decay": optim.lr_decay, "eval_every": every}),
          flush=True)  # fmt: skip
    stopped_early = False
    while trainer.epoch < epochs:
        begun = time.monotonic()
        trainer.run_epoch()
        took = time.monotonic() - begun
        if trainer.epoch < epochs and time.monotonic() - START + took + reserve > args.budget_s:
            stopped_early = True
            break
    if stopped_early:
        trainer.validate()  # the output model's score, whatever the schedule did
        trainer.save_checkpoint()
    save_model(trainer.output_model, args.out / "model.pt")
    if args.transfer is not None:
        args.transfer.parent.mkdir(parents=True, exist_ok=True)
        atomic_torch_save(transfer_copy(trainer), args.transfer)
    val = trainer.history.of("val")
    print(json.dumps({"run": str(args.out), "epochs_done": trainer.epoch, "epochs": epochs,
                      "stopped_early": stopped_early, "steps": trainer.global_step,
                      "wall_time_s": round(trainer.wall_time, 1),
                      "script_s": round(time.monotonic() - START, 1),
                      "validation": val[-1] if val else None}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preset", nargs="?", help="experiment preset (as anatomy3d train)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--budget-s", type=float, help="seconds from start to the end")
    parser.add_argument("--final-lr-fraction", type=float, default=0.1)
    parser.add_argument("--reserve-s", type=float, default=10.0,
                        help="seconds kept for saving at the end")  # fmt: skip
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--transfer", type=Path, help="also write a transfer copy here")
    parser.add_argument("--unpack", type=Path, help="turn a transfer copy into --out")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.unpack is not None:
            unpack(args.unpack, args.out)
            return
        if args.preset is None or args.budget_s is None:
            parser.error("give a preset and --budget-s (or --unpack FILE)")
        if not args.budget_s > 0:
            parser.error(f"--budget-s: expected a positive number of seconds, got {args.budget_s}")
        decay_for(2, args.final_lr_fraction)  # checked before any training work
        train(args)
    except (KeyError, ValueError, FileNotFoundError) as exc:  # RunFolderError is a ValueError
        parser.error(str(exc.args[0] if exc.args else exc))


if __name__ == "__main__":
    main()
