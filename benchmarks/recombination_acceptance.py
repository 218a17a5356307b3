"""How often recombined limb motion passes the engine's checks, by mutation size.

The engine recombines limbs across whole 128-frame windows and keeps a window only if every
frame keeps the limbs out of the body and within the joint limits
(:func:`~anatomy_lib.data.pose_recombination.recombine_limbs` with
:func:`~anatomy_lib.data.pose_recombination.limbs_clear_of_body` and
:func:`~anatomy_lib.data.joint_limits.within_limits`). This prints, for windows drawn as
the engine draws its training videos (training clips, time warp and mirroring, ANSUR
training bodies), the fraction of windows accepted for each mutation size
(``mutation_std_deg``):

* ``one_attempt``: no retry;
* ``three_attempts``: the default two retries at the same size;
* ``three_attempts_halving``: two retries, each at half the previous size
  (``retry_mutation_scale=0.5``), with the fraction accepted at each attempt;
* ``three_attempts_group``: two retries, rejecting only the limb groups that fail
  (``rejection="group"``);
* ``groups_changed``: limb groups (of 5) whose motion differs from the window's own
  (crossover, mutation or both), per window, mean over all windows, with whole-window
  rejection (``window``) and per-group rejection (``group``), both with two retries: the
  variety that reaches training.

    python benchmarks/recombination_acceptance.py [--windows 64] [--seed 0]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_data import commit  # noqa: E402

from anatomy_lib.data.joint_limits import within_limits  # noqa: E402
from anatomy_lib.data.pose_recombination import (  # noqa: E402
    RecombinationConfig,
    RecombinationResult,
    all_valid,
    limbs_clear_of_body,
    recombine_limbs,
)
from anatomy_lib.training.engine_data import engine_for  # noqa: E402

MUTATION_DEG = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0)


def training_windows(windows: int, seed: int) -> torch.Tensor:
    """``(N, 128, 17, 3)`` motion windows on training bodies, as the engine makes them
    before recombining."""
    engine = engine_for("ansur", 0.0)
    g = torch.Generator().manual_seed(seed)
    motion, _ = engine.sample_motion(windows, g, "train")
    return engine.retarget(motion, engine.sample_bodies(motion, g, "train"))


def recombine_checked(
    windows: torch.Tensor, config: RecombinationConfig, seed: int
) -> RecombinationResult:
    """:func:`recombine_limbs` with the engine's checks (out of the body, within limits)."""
    valid = all_valid(limbs_clear_of_body, within_limits)
    return recombine_limbs(windows, config, torch.Generator().manual_seed(seed), is_valid=valid)


def accepted_by_attempt(result: RecombinationResult, attempts: int) -> list[float]:
    """Fraction of the windows accepted at each of ``attempts`` attempts (the config's
    ``retries + 1``; their sum is the fraction accepted at all)."""
    counts = torch.bincount(result.attempt[result.accepted], minlength=attempts)
    return (counts / result.attempt.numel()).tolist()


def groups_changed(result: RecombinationResult) -> float:
    """Mean number of limb groups per window whose motion was changed and kept."""
    return float(result.changed.sum(-1).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    windows = training_windows(args.windows, args.seed)
    rows = {}
    for deg in MUTATION_DEG:
        whole = RecombinationConfig(mutation_std_deg=deg)
        attempts = whole.retries + 1
        same = recombine_checked(windows, whole, 1)
        grouped = recombine_checked(windows, replace(whole, rejection="group"), 1)
        halving = accepted_by_attempt(
            recombine_checked(windows, replace(whole, retry_mutation_scale=0.5), 1), attempts
        )
        same_by_attempt = accepted_by_attempt(same, attempts)
        rows[f"{deg:g}"] = {
            "one_attempt": round(same_by_attempt[0], 3),
            "three_attempts": round(sum(same_by_attempt), 3),
            "three_attempts_halving": round(sum(halving), 3),
            "halving_by_attempt": [round(f, 3) for f in halving],
            "three_attempts_group": round(grouped.acceptance_rate, 3),
            "groups_changed": {
                "window": round(groups_changed(same), 2),
                "group": round(groups_changed(grouped), 2),
            },
        }
    report = {
        "benchmark": "recombination_acceptance",
        "command": shlex.join(["python", "benchmarks/recombination_acceptance.py", *sys.argv[1:]]),
        "commit": commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "windows": args.windows,
        "frames": int(windows.shape[1]),
        "data": "engine training clips on ANSUR training bodies (before recombination)",
        "accepted_by_mutation_deg": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
