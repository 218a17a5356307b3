"""Reproduce the paper's ablation (Table 4) on the training-data engine, several seeds per row.

Trains every Table 4 row, the four extra comparisons of Sec. 4.4 and a joint shift loss
study (the JSL step with the released loss weights and with the exact Eq. 1 head), each
with every seed of ``--seeds``, at the ``small-engine`` size (27-frame windows, 128
channels, person-normalised input, a new pool of synthetic videos every epoch; see
``ExperimentConfig.preset``). Every run is evaluated on

* ``validation``: the engine's held-out clips and bodies (the only split used for choices);
* ``embedded_test``: the embedded dataset's test split (CMU01 and ClimberB, never trained on);
* ``pose2sim``: the Pose2Sim trial's real OpenPose detections, P-MPJPE over 15 and 17
  joints, mean of the 4 cameras (scored as ``benchmarks/real_data.py`` scores it);

the last two are reported, never used to choose anything. Evaluation: test-time flip,
bone lengths from all frames of each video; ``bones`` adds the angular error of the
predicted bones' directions and the error of their lengths on the validation split.

Results go to ``anatomy_lib/results/table4_engine.json`` (each run's configuration,
seed, git commit, wall time); the JSON is rewritten after every run and runs already in
it are skipped, so a stopped sweep resumes, and ``--shard K/N`` splits it across
processes (merge their files with ``--merge``). Chapter 10 reads the JSON.

    python scripts/reproduce_table4.py                          # everything, 3 seeds
    python scripts/reproduce_table4.py --shard 1/2 --out a.json  # half of it
    python scripts/reproduce_table4.py --only af af+ml --seeds 0 1 2 3 4
    python scripts/reproduce_table4.py --merge a.json b.json    # into --out

Time (each run's in the JSON, their sum as ``total_run_wall_time_s``): the shipped sweep,
48 runs of 2,048 steps, took 8,637 s of single-threaded run time in all (67 s to 339 s per
run, 180 s on average), two or three runs side by side on a shared 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _provenance import git  # noqa: E402
from real_data import JOINTS_15, lift, score_cameras  # noqa: E402

from anatomy_lib.data import load_default_dataset, load_pose2sim_trial  # noqa: E402
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset  # noqa: E402
from anatomy_lib.results.ablation import PAPER_TABLE4_P1_MM as PAPER_MPJPE  # noqa: E402
from anatomy_lib.training.checkpointing import atomic_write_bytes  # noqa: E402
from anatomy_lib.training.config import TABLE4_EXTRAS, TABLE4_ROWS, ExperimentConfig  # noqa: E402
from anatomy_lib.training.engine_data import validation_videos  # noqa: E402
from anatomy_lib.training.trainer import Trainer  # noqa: E402

#: The joint shift loss study: name -> (Table 4 variant, overrides). Each pair with and
#: without JSL differs only in the joint shift weight.
JSL_STUDY: dict[str, tuple[str, tuple[str, ...]]] = {
    "af+ml+boneatt+aug [released losses]": (
        "af+ml+boneatt+aug+jsl",
        ("losses=released", "losses.joint_shift=0"),
    ),
    "af+ml+boneatt+aug+jsl [released losses]": ("af+ml+boneatt+aug+jsl", ("losses=released",)),
    "af+ml+boneatt+aug [Eq. 1 head]": ("af+ml+boneatt+aug", ("model.joint_head=exact",)),
    "af+ml+boneatt+aug+jsl [Eq. 1 head]": ("af+ml+boneatt+aug+jsl", ("model.joint_head=exact",)),
}
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{v: (v, ()) for v in (*TABLE4_ROWS, *TABLE4_EXTRAS)},
    **JSL_STUDY,
}


def run_key(variant: str, seed: int) -> str:
    """The key of one run in the JSON: ``"<variant> | seed <k>"``."""
    return f"{variant} | seed {seed}"


def experiment_of(variant: str, size: str, seed: int, extra: list[str]) -> ExperimentConfig:
    """The configuration of ``variant`` at ``size`` with ``seed`` and ``extra`` overrides."""
    base, overrides = VARIANTS[variant]
    exp = ExperimentConfig.preset(f"{base}@{size}")
    return exp.override([*overrides, f"seed={seed}", *extra]).replace(name=variant)


def bone_errors(pred: torch.Tensor, target: torch.Tensor, parents: list[int]) -> dict:
    """Mean angular error (deg) of the bone directions and mean absolute error (mm) of the
    bone lengths of ``pred (T, J, 3)`` against ``target`` (metres)."""
    child = [j for j, p in enumerate(parents) if p >= 0]
    parent = [parents[j] for j in child]
    bp, bt = pred[:, child] - pred[:, parent], target[:, child] - target[:, parent]
    cos = torch.nn.functional.cosine_similarity(bp, bt, dim=-1).clamp(-1, 1)
    return {
        "direction_deg": float(torch.rad2deg(torch.arccos(cos)).mean()),
        "length_mm": float(1000 * (bp.norm(dim=-1) - bt.norm(dim=-1)).abs().mean()),
    }


def evaluate_run(model, splits: dict, protocol: EvaluationConfig, label: str) -> dict:
    """Protocols 1 and 2 on the validation and embedded test splits, P-MPJPE on Pose2Sim,
    and the bone errors on the validation split."""
    out, predictions = {}, {}
    for name in ("validation", "embedded_test"):
        result = evaluate_dataset(model, splits[name], protocol, label=label, progress=False,
                                  keep_predictions=True)  # fmt: skip
        out[name] = {k: round(float(v), 2) for k, v in result.averages.items()}
        predictions[name] = result.predictions
    errors = []  # bone errors of the validation predictions above (every sequence has 3D)
    for seq, pred in zip(splits["validation"], predictions["validation"], strict=True):
        parents = list(seq.skeleton.parents)
        errors.append(bone_errors(pred.double(), seq.joints_3d_relative.double(), parents))
    out["bones"] = {k: round(float(np.mean([e[k] for e in errors])), 2) for k in errors[0]}
    targets = {s.camera.id: s.joints_3d.double().numpy() for s in splits["pose2sim"]}
    preds = {
        s.camera.id: lift(
            model, s.keypoints_pixels, s.scores, s.camera.width, s.camera.height, s.camera
        )
        for s in splits["pose2sim"]
    }
    scored = score_cameras(preds, targets)
    out["pose2sim"] = {k: scored[k]["mean"] for k in ("p_mpjpe_15", "p_mpjpe_17")}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="variants (default all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--size", default="small-engine", help="preset size (small-engine)")
    parser.add_argument("--shard", default="1/1", help="K/N: run every N-th run from the K-th")
    parser.add_argument("--override", nargs="*", default=[], help="KEY=VALUE for every run")
    parser.add_argument("--merge", nargs="*", type=Path, default=[], help="add these JSONs' runs")
    parser.add_argument("--out", type=Path, default=ROOT / "anatomy_lib/results/table4_engine.json")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs/table4_engine")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    k, _, n = args.shard.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        parser.error(f"--shard: expected K/N with 1 <= K <= N, got {args.shard!r}")
    variants = list(VARIANTS) if args.only is None else args.only
    todo = [(v, s) for v in variants for s in args.seeds][int(k) - 1 :: int(n)]
    configs = {(v, s): experiment_of(v, args.size, s, args.override) for v, s in todo}

    report = _load(args.out) or _header(args)
    for other in args.merge:
        report["runs"].update(_load(other)["runs"])
    splits = {
        "validation": validation_videos().split("test"),
        "embedded_test": load_default_dataset().split("test"),
        "pose2sim": load_pose2sim_trial(),
    }
    report["evaluation"]["validation_frames"] = sum(s.num_frames for s in splits["validation"])
    start_sweep = time.perf_counter()
    for (variant, seed), exp in configs.items():
        key = run_key(variant, seed)
        if key in report["runs"]:
            if report["runs"][key]["experiment"] != exp.to_dict():
                raise SystemExit(f"{args.out}: run {key!r} has another configuration; "
                                 "use another --out")  # fmt: skip
            continue
        print(f"== {key}", flush=True)
        folder = args.runs_dir / variant.replace(" ", "_").replace("[", "").replace("]", "")
        folder = folder / f"seed{seed}"
        start = time.perf_counter()
        if (folder / "checkpoint.pt").is_file():
            trainer = Trainer.resume(folder, progress=False)
        else:
            trainer = Trainer(exp, folder, progress=False)
        trainer.fit()
        train_time = time.perf_counter() - start
        results = evaluate_run(
            trainer.output_model, splits, EvaluationConfig.from_experiment(exp), variant
        )
        report["runs"][key] = {
            "variant": variant,
            "seed": seed,
            "experiment": exp.to_dict(),
            "git_commit": git("rev-parse", "HEAD").strip(),
            "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no").strip()),
            "train_wall_time_s": round(train_time, 1),
            "wall_time_s": round(time.perf_counter() - start, 1),
            "steps": trainer.global_step,
            "parameters": sum(p.numel() for p in trainer.model.parameters()),
            "results": results,
            "paper_protocol1_h36m_mm": PAPER_MPJPE.get(variant),
        }
        _write(report, args.out)
        print(f"   validation P1 {results['validation']['p1']:.1f}  "
              f"pose2sim P-MPJPE-15 {results['pose2sim']['p_mpjpe_15']:.1f}  "
              f"({report['runs'][key]['wall_time_s']:.0f} s)", flush=True)  # fmt: skip
    report["last_invocation_wall_time_s"] = round(time.perf_counter() - start_sweep, 1)
    _write(report, args.out)
    return 0


def _header(args) -> dict:
    return {
        "title": "Table 4 ablation on the training-data engine, several seeds per row",
        "warning": (
            "Small-scale results (27-frame models with 128 channels trained for minutes on "
            "a CPU, on synthetic videos of real motion capture). NOT Human3.6M results: "
            "compare rows with each other, not with the paper's numbers."
        ),
        "size": args.size,
        "evaluation": {
            "protocols": "P1 / P2 (mm), mean over the videos' actions; test-time flip on; "
            "bone lengths from all frames of each video",
            "validation": "the engine's held-out clips and ANSUR bodies (fixed seed); the only "
            "split used for choices",
            "embedded_test": "CMU01 and ClimberB of the embedded dataset (reported only)",
            "pose2sim": "P-MPJPE of the real OpenPose detections, 15 joints "
            f"{list(JOINTS_15)} and 17, mean over the 4 cameras (reported only)",
        },
        "device": "cpu",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "torch_threads": args.threads,
        "paper_protocol1_h36m_mm": PAPER_MPJPE,
        "runs": {},
    }


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _write(report: dict, path: Path) -> None:
    """Write the report with the runs in a stable order and their summed wall time."""
    order = {v: i for i, v in enumerate(VARIANTS)}
    runs = sorted(report["runs"].items(), key=lambda kv: (order[kv[1]["variant"]], kv[1]["seed"]))
    report["runs"] = dict(runs)
    report["total_run_wall_time_s"] = round(sum(r["wall_time_s"] for _, r in runs), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(report, indent=1).encode())


if __name__ == "__main__":
    raise SystemExit(main())
