"""Ship the default models for real video (``anatomy_medium`` and its causal twin).

They are trained with the ``medium`` presets on the training-data engine
(``data.dataset=engine``: new synthetic videos every epoch from the training-source clips,
ANSUR II bodies, recombined limbs, random cameras and detector errors), for example::

    anatomy3d train full@medium optim.epochs=12 optim.lr_decay=0.85 --out runs/medium
    anatomy3d train full@medium-causal optim.epochs=12 optim.lr_decay=0.85 --out runs/medium_causal

This script then takes each run's final checkpoint, writes the model file into
``anatomy_lib/checkpoints/`` and records how it was made (command, configuration, data,
seed, commit, wall time, the validation history on the engine's held-out clips and bodies)
in ``anatomy_lib/results/default_models.json``::

    python scripts/ship_default_models.py --run anatomy_medium=runs/medium \\
        --run anatomy_medium_causal=runs/medium_causal --commit <commit the runs trained at>

``--average NAME=SRC,SRC,...`` ships instead the uniform average of the weights of run
folders and shipped models that all continued from the same shipped weights (a model
soup, :func:`anatomy_lib.training.weight_average.average_models`); the record keeps every
source's record and the sha256 of each shipped model it averaged.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anatomy_lib.checkpoints import PRETRAINED, load_pretrained  # noqa: E402
from anatomy_lib.models.checkpoints import save_model, weights_fingerprint  # noqa: E402
from anatomy_lib.safe_io import load_torch_file  # noqa: E402
from anatomy_lib.training.config import ExperimentConfig  # noqa: E402
from anatomy_lib.training.engine_data import embedded_training_clips  # noqa: E402
from anatomy_lib.training.trainer import build_model  # noqa: E402
from anatomy_lib.training.weight_average import average_models  # noqa: E402

CHECKPOINTS = ROOT / "anatomy_lib" / "checkpoints"
RESULTS = ROOT / "anatomy_lib" / "results" / "default_models.json"

DATA = (
    "training-data engine (anatomy_lib.data.engine): training-source clips of the embedded "
    "dataset (ClimberA climbs 0-2, 12 DeepMimic clips) and the 3 AMP clips, time-warped and "
    "mirrored; ANSUR II training bodies; limbs recombined in {recombined} of the videos under "
    "joint limits; random virtual cameras; OpenPose-/MediaPipe-like detector errors. Validation: "
    "held-out clips (anatomy_lib.data.engine.VALIDATION_CLIPS) on held-out ANSUR bodies. "
    "Never used: the embedded test split (CMU01, ClimberB) and the Pose2Sim trial."
)

VARIED_JOINTS = (
    " Every training body also drew its own definition of the spine, neck/nose and head "
    "joints (data.engine_joint_definitions=varied, anatomy_lib.data.bodies.MarkerJointRanges)."
)
VARIED_THORAX = (
    " Its thorax, too, was lowered by a drawn fraction of the trunk "
    "(data.engine_joint_definitions=varied_thorax, anatomy_lib.data.bodies.vary_thorax)."
)

VARIED_THORAX_HALF = (
    " The thorax of half the bodies, too, was lowered by a drawn fraction of the trunk "
    "(data.engine_joint_definitions=varied_thorax_half, anatomy_lib.data.bodies.vary_thorax)."
)


def _definitions(joint_definitions: str) -> str:
    """The data record's sentence on the training bodies' joint definitions."""
    return {
        "fixed": "",
        "varied": VARIED_JOINTS,
        "varied_thorax": VARIED_JOINTS + VARIED_THORAX,
        "varied_thorax_half": VARIED_JOINTS + VARIED_THORAX_HALF,
    }[joint_definitions]


#: The data record's sentence for each setting of the simulated detectors (none: default).
DETECTOR_SENTENCES = {
    ("engine_detector_noise", "coco_spread"): (
        " Each joint's simulated detector jitter and drift were scaled by COCO's per-keypoint "
        "spread (data.engine_detector_noise=coco_spread, "
        "anatomy_lib.data.detector_errors.joint_noise_scale)."
    ),
    ("engine_detector_errors", "calibrated"): (
        " The simulated detectors' errors had the sizes measured on real MediaPipe "
        "(data.engine_detector_errors=calibrated, "
        "anatomy_lib.data.detector_errors.CALIBRATED_ERRORS)."
    ),
    ("engine_detector_errors", "validation_person"): (
        " The simulated detectors' errors had the sizes measured on real MediaPipe on the "
        "validation person (data.engine_detector_errors=validation_person, "
        "anatomy_lib.data.detector_errors.VALIDATION_PERSON_ERRORS)."
    ),
    ("engine_detector_errors", "validation_person_half"): (
        " Half the videos' simulated detectors had their own error sizes, half those measured "
        "on real MediaPipe on the validation person (data.engine_detector_errors="
        "validation_person_half, anatomy_lib.data.detector_errors.VALIDATION_PERSON_ERRORS)."
    ),
    ("engine_occluded_noise", "all"): (
        " An occluded joint's whole simulated error, drift included, was scaled by the "
        "families' occlusion factor (data.engine_occluded_noise=all, "
        "anatomy_lib.data.detector_errors.DetectorErrorConfig.occluded_noise)."
    ),
}


def _detector_sentences(data) -> str:
    """The data record's sentences on a run's simulated detectors (``DataConfig``)."""
    return "".join(
        DETECTOR_SENTENCES.get((field, getattr(data, field)), "")
        for field in ("engine_detector_noise", "engine_detector_errors", "engine_occluded_noise")
    )


#: The data record's sentence for ``data.engine_with_embedded`` (``frames``: theirs, counted).
EMBEDDED_IN_POOL = (
    " Every epoch's pool also held the embedded dataset's own training videos without the "
    "validation clips (data.engine_with_embedded=true, "
    "anatomy_lib.training.engine_data.embedded_training_clips: their bodies, the four Human3.6M "
    "cameras and the dataset's simulated detector; {frames:,} camera-frames)."
)


#: What ``data.engine_embedded_copies`` adds to that sentence, for more than one copy.
EMBEDDED_COPIES = (
    " Each of those videos entered the pool {copies} times (data.engine_embedded_copies="
    "{copies}, {copies} times their weight against the synthetic videos)."
)
EMBEDDED_DETECTED_ANEW = (
    " Their 2D was not the dataset's own: each copy was detected anew every epoch by one of the "
    "engine's detector families (data.engine_embedded_detections=engine, "
    "anatomy_lib.training.engine_data.detect_anew)."
)


@functools.cache
def _embedded_training_frames() -> int:
    """Camera-frames of :func:`embedded_training_clips` (loaded once for all the sources)."""
    return sum(len(s.keypoints_2d) for s in embedded_training_clips())


def _embedded_sentence(data) -> str:
    """The data record's sentence on the embedded videos in the pool (``DataConfig``)."""
    if not data.engine_with_embedded:
        return ""
    copies = data.engine_embedded_copies
    return (
        EMBEDDED_IN_POOL.format(frames=_embedded_training_frames())
        + (EMBEDDED_COPIES.format(copies=copies) if copies > 1 else "")
        + (EMBEDDED_DETECTED_ANEW if data.engine_embedded_detections == "engine" else "")
    )


def _fraction(p: float) -> str:
    return {0.5: "half", 1.0: "all"}.get(p, f"{p:.0%}")


def start_record(sha256: str | None, shipped: dict) -> dict | None:
    """The record of the weights whose fingerprint (:func:`weights_fingerprint`) is ``sha256``.

    A shipped name loads its newest model, so a run's ``init_weights`` name alone does not say
    which weights it started from. Looked up by fingerprint instead: a model shipped in this
    checkout (its record in ``shipped``), else a start or source recorded inside those records
    (``{"sha256": ..., "record": {...}}``); ``None`` when none matches."""
    if sha256 is None:
        return None
    for name, record in shipped.items():
        if name in PRETRAINED and weights_fingerprint(load_pretrained(name)) == sha256:
            return record
    pending = list(shipped.values())
    while pending:
        node = pending.pop(0)
        if isinstance(node, dict):
            if node.get("sha256") == sha256 and isinstance(node.get("record"), dict):
                return node["record"]
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return None


def run_record(run: Path, commit: str, command: str | None, shipped: dict) -> tuple:
    """``(model, record)`` of ``run``'s final checkpoint (its output weights, eval mode).

    ``shipped``: the records already in ``default_models.json``; a run that started from
    recorded weights (``init_weights``) keeps their record inside its own
    (:func:`start_record`)."""
    state = load_torch_file(run / "checkpoint.pt")
    experiment = ExperimentConfig.from_dict(state["experiment"])
    if state["epoch"] < experiment.optim.epochs:
        print(
            f"note: {run} stopped after epoch {state['epoch']} of {experiment.optim.epochs}",
            file=sys.stderr,
        )
    init = None
    if experiment.init_weights is not None:
        init = {"source": experiment.init_weights, "sha256": state.get("init_weights_sha256")}
        start = start_record(init["sha256"], shipped)
        if start is not None:
            init["record"] = start
        else:
            print(f"note: {run} started from weights with no record here", file=sys.stderr)
    model = build_model(experiment)
    model.load_state_dict(state["model"])
    model.eval()
    history = json.loads((run / "history.json").read_text())["records"]
    validation = [r for r in history if r.get("kind") == "val"]
    return model, {
        "command": command
        or " ".join(
            ["anatomy3d train", experiment.name, *experiment.overrides(), "--out", str(run)]
        ),
        "experiment": experiment.to_dict(),
        "data": DATA.format(recombined=_fraction(experiment.data.engine_recombination))
        + _definitions(experiment.data.engine_joint_definitions)
        + _detector_sentences(experiment.data)
        + _embedded_sentence(experiment.data),
        "seed": experiment.seed,
        "commit": commit,
        "epochs_done": state["epoch"],
        "steps": state["global_step"],
        "wall_time_s": round(float(state["wall_time"]), 1),
        "validation": validation,
        "weights": "the trained weights"
        if experiment.optim.ema_decay is None
        else f"their moving average (optim.ema_decay={experiment.optim.ema_decay}, "
        "anatomy_lib.training.weight_average), which the validation history scores",
        **({"init_weights": init} if init else {}),
    }


def write_model(name: str, model: torch.nn.Module, record: dict) -> dict:
    """Save ``model`` as the shipped file of ``name``; return ``record`` with the file's
    name, size and parameter count first."""
    out = CHECKPOINTS / PRETRAINED[name]
    save_model(model, out)
    return {
        "file": out.name,
        "bytes": out.stat().st_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        **record,
    }


def ship(name: str, run: Path, commit: str, command: str | None, shipped: dict) -> dict:
    """Write ``name``'s model file from ``run``'s final checkpoint; return its record."""
    return write_model(name, *run_record(run, commit, command, shipped))


def ship_average(
    name: str, sources: list[str], commit: str, commands: dict, shipped: dict,
    source_commits: dict | None = None,
) -> dict:  # fmt: skip
    """Write ``name``'s model file as the uniform average of ``sources`` (run folders, or
    shipped names as they are in this checkout); return its record with each source's.

    ``source_commits``: a run folder's own commit where it trained at another than
    ``commit``."""
    source_commits = source_commits or {}
    models, records, fingerprints = [], [], {}
    for i, source in enumerate(sources):
        if source in PRETRAINED:
            model = load_pretrained(source)
            fingerprint = weights_fingerprint(model)
            record = {"source": f"{source} as shipped before", "sha256": fingerprint}
            if fingerprint in fingerprints:  # named again: weighs again, its record kept once
                record["record"] = f"that of sources[{fingerprints[fingerprint]}]"
            elif source in shipped:
                record["record"] = shipped[source]
            fingerprints.setdefault(fingerprint, i)
        else:
            model, record = run_record(
                Path(source), source_commits.get(source, commit), commands.get(source), shipped
            )
            record = {"source": source, **record}
        models.append(model)
        records.append(record)
    first_init: dict[str, int] = {}  # the start's record once: a source, else the first run's
    for i, record in enumerate(records):
        init = record.get("init_weights")
        if not init or "record" not in init:
            continue
        if init.get("sha256") in fingerprints:
            init["record"] = f"that of sources[{fingerprints[init['sha256']]}]"
        elif init.get("sha256") in first_init:
            init["record"] = f"that of sources[{first_init[init['sha256']]}].init_weights"
        else:
            first_init[init.get("sha256")] = i
    average = average_models(models)
    return write_model(name, average, {
        "weights": f"the uniform average of the weights of {len(models)} sources, each the same "
        "shipped weights or a continuation of them (a source named twice weighs twice; "
        "anatomy_lib.training.weight_average.average_models)",
        "command": "python scripts/ship_default_models.py --average "
        f"{name}={','.join(sources)} --commit {commit}"
        + "".join(f" --source-commit {s}={c}" for s, c in source_commits.items()),
        "commit": commit,
        "sources": records,
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument(
        "--average",
        action="append",
        default=[],
        metavar="NAME=SRC,SRC",
        help="ship the uniform average of run folders and shipped models (same start)",
    )
    parser.add_argument("--commit", required=True, help="commit the runs were trained at")
    parser.add_argument(
        "--source-commit",
        action="append",
        default=[],
        metavar="DIR=COMMIT",
        help="an averaged run folder's own commit, where it differs from --commit",
    )
    parser.add_argument("--command", action="append", default=[], metavar="NAME=COMMAND")
    args = parser.parse_args()
    commands = dict(c.split("=", 1) for c in args.command)
    records = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.run and not args.average:
        parser.error("give --run NAME=DIR or --average NAME=SRC,SRC")
    averaged = {src for item in args.average for src in item.split("=", 1)[-1].split(",")}
    source_commits = {}
    for item in args.source_commit:
        source, _, commit = item.partition("=")
        if not commit or source not in averaged:
            parser.error(
                f"--source-commit: expected DIR=COMMIT for a run folder named in --average "
                f"({sorted(averaged)}), got {item!r}"
            )
        source_commits[source] = commit
    jobs = [("run", item) for item in args.run] + [("average", item) for item in args.average]
    for kind, item in jobs:
        name, value = item.split("=", 1)
        if name not in PRETRAINED:
            parser.error(f"unknown model name {name!r}; expected one of {sorted(PRETRAINED)}")
        if kind == "run":
            records[name] = ship(name, Path(value), args.commit, commands.get(name), records)
        else:
            records[name] = ship_average(
                name, value.split(","), args.commit, commands, records, source_commits
            )
        print(f"{name}: {records[name]['file']} ({records[name]['bytes'] / 1e6:.1f} MB)")
    records["_machine"] = {"python": platform.python_version(), "torch": torch.__version__}
    RESULTS.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
