"""Train the small models: the paper's ablation (Table 4) once per row on the embedded dataset.

This sweep made the shipped ``anatomy_small`` and ``baseline_small`` (``--ship``) and
records how (``anatomy_lib/results/table4_small.json``). One seed per row on two training
bodies cannot resolve the paper's steps; the ablation itself, with several seeds on the
training-data engine, is ``scripts/reproduce_table4.py`` (chapter 10).

Trains every Table 4 row, the baseline and the four extra comparisons of Sec. 4.4 with
the ``small`` size (27-frame windows, 128 channels, 20 epochs of batch 128 on every
second frame of the embedded training split; see ``ExperimentConfig.preset``), then
evaluates each on the embedded test split (Protocols 1-3 and MPJVE per action, test-time
flip, bone lengths from all frames). Results go to
``anatomy_lib/results/table4_small.json`` with each run's configuration, seed, git
commit and wall time; the JSON is rewritten after every run, so a partial sweep is
usable. The best anatomy model and the baseline are copied into
``anatomy_lib/checkpoints/`` (``--ship``).

These are **embedded-dataset, small-scale** numbers (real motion capture with simulated
detections), not Human3.6M results: compare rows with each other, not with the paper.

Time: the 12 runs take 1,900 steps each. The shipped sweep ran single-threaded in two
processes side by side (``--only`` with half of the rows each, then ``--only --merge a.json
b.json --ship``) on a 2-core CPU with little else running: 32 s for the baseline to 172 s for the
largest anatomy model, 1,265 s summed (``total_run_wall_time_s`` in the JSON), about
11 minutes of wall time. Each run's own wall time is in the JSON.

    python scripts/train_small_models.py                 # everything
    python scripts/train_small_models.py --only baseline af   # some rows
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _provenance import git  # noqa: E402

from anatomy_lib.data import load_default_dataset  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.models.checkpoints import save_model  # noqa: E402
from anatomy_lib.results.ablation import PAPER_TABLE4_P1_MM as PAPER_MPJPE  # noqa: E402
from anatomy_lib.training.checkpointing import atomic_write_bytes  # noqa: E402
from anatomy_lib.training.config import TABLE4_EXTRAS, TABLE4_ROWS, ExperimentConfig  # noqa: E402
from anatomy_lib.training.trainer import Trainer  # noqa: E402

VARIANTS = (*TABLE4_ROWS, *TABLE4_EXTRAS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="*",
        choices=VARIANTS,
        help="variants to run (default: all; none: only merge)",
    )
    parser.add_argument(
        "--merge", nargs="*", type=Path, default=[], help="add the runs of these result JSON files"
    )
    parser.add_argument("--size", default="small", help="preset size (default: small)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "anatomy_lib/results/table4_small.json")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs/table4_small")
    parser.add_argument(
        "--ship", action="store_true", help="copy the shipped checkpoints into the package"
    )
    parser.add_argument(
        "--override", nargs="*", default=[], help="KEY=VALUE overrides for every run"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on a shared 2-core machine, 2 OpenMP threads "
        "competing with other processes made training 10x slower)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = VARIANTS if args.only is None else tuple(args.only)
    configs = {
        v: ExperimentConfig.preset(f"{v}@{args.size}").override(
            [f"seed={args.seed}", *args.override]
        )
        for v in variants
    }  # every configuration is checked before any training starts
    dataset = load_default_dataset()
    test = dataset.split("test")
    commit = git("rev-parse", "HEAD").strip()
    report = {
        "title": "Table 4 ablation, small-scale reproduction on the embedded dataset",
        "warning": (
            "Embedded-dataset small-scale results (real motion capture with simulated 2D "
            "detections, 27-frame models with 128 channels trained for minutes on a CPU). "
            "These are NOT Human3.6M results; compare rows with each other, not with the paper."
        ),
        "dataset": {
            "name": dataset.name,
            "train_subjects": list(dataset.train_subjects),
            "test_subjects": list(dataset.test_subjects),
            "test_frames": test.num_frames,
        },  # fmt: skip
        "evaluation": "Protocols 1-3 and MPJVE in mm per action of the test split; Avg = mean "
        "over actions; test-time flip on; bone lengths from all frames of each video",
        "git_commit": commit,
        "git_dirty": bool(git("status", "--porcelain").strip()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "torch_threads": torch.get_num_threads(),
        "seed": args.seed,
        "size": args.size,
        "paper_protocol1_h36m_mm": PAPER_MPJPE,
        "runs": {},
    }
    for earlier in [args.out, *args.merge]:  # keep rows of earlier or parallel partial sweeps
        if earlier.exists():
            runs = json.loads(earlier.read_text()).get("runs", {})
            report["runs"].update({k: v for k, v in runs.items() if k not in variants})
    sweep_start = time.perf_counter()
    for variant, exp in configs.items():
        print(f"== {variant}", flush=True)
        start = time.perf_counter()
        trainer = Trainer(
            exp, args.runs_dir / variant, dataset=dataset, progress=sys.stderr.isatty()
        )
        trainer.fit()
        train_time = time.perf_counter() - start
        protocol = EvaluationConfig.from_experiment(exp)
        model = trainer.output_model
        result = evaluate_dataset(model, test, protocol, label=variant, progress=False)
        save_model(model, args.runs_dir / variant / "model.pt")
        report["runs"][variant] = {
            "experiment": exp.to_dict(),
            "seed": exp.seed,
            "train_wall_time_s": round(train_time, 1),
            "wall_time_s": round(time.perf_counter() - start, 1),
            "steps": trainer.global_step,
            "parameters": sum(p.numel() for p in trainer.model.parameters()),
            "final_train_loss": trainer.history.of("train")[-1]["loss"],
            "validation_history": trainer.history.of("val"),
            "results": result.to_dict(),
            "paper_protocol1_h36m_mm": PAPER_MPJPE[variant],
        }
        report["sweep_wall_time_s"] = round(time.perf_counter() - sweep_start, 1)
        _write(report, args.out)
        print(f"   P1 {result.averages['p1']:.1f} mm  P2 {result.averages['p2']:.1f} mm  "
              f"({report['runs'][variant]['wall_time_s']:.0f} s)", flush=True)  # fmt: skip
    if args.ship:
        _ship(report, args.runs_dir)
    _write(report, args.out)
    return 0


def _write(report: dict, path: Path) -> None:
    """Write the report, with the summed wall time of its runs (the sequential sweep time)."""
    report["runs"] = {v: report["runs"][v] for v in VARIANTS if v in report["runs"]}
    times = [r["wall_time_s"] for r in report["runs"].values()]
    report["total_run_wall_time_s"] = round(sum(times), 1)
    atomic_write_bytes(path, json.dumps(report, indent=1).encode())


def _ship(report: dict, runs_dir: Path) -> None:
    """Copy the anatomy run with the lowest Protocol 1 error and the baseline into the package."""
    runs = report["runs"]
    anatomy = [v for v, r in runs.items() if r["experiment"]["architecture"] == "anatomy"]
    chosen = {}
    if anatomy:
        chosen["anatomy_small.pt"] = min(
            anatomy, key=lambda v: runs[v]["results"]["averages"]["p1"]
        )
    if "baseline" in runs:
        chosen["baseline_small.pt"] = "baseline"
    for file, variant in chosen.items():
        shutil.copyfile(runs_dir / variant / "model.pt", ROOT / "anatomy_lib/checkpoints" / file)
        print(f"shipped {variant} as anatomy_lib/checkpoints/{file}")
    report["shipped_checkpoints"] = chosen


if __name__ == "__main__":
    raise SystemExit(main())
