"""What lifting at the models' training frame rate is worth (``lift_fps``).

Every model learnt motion at 50 Hz (:mod:`anatomy_lib.frame_rate`). Prints one JSON object
with, per model, on validation data only, each video as filmed and at every ``step``-th
frame (``--steps``, default 1 and 2: the same motion as a camera at half the rate sees it,
:meth:`~anatomy_lib.data.sequences.PoseSequence.every`), lifted at the video's own rate
(``as_filmed``), at 50 Hz (``at_50hz``: the 2D resampled to 50 Hz, the 3D back) and at the
smallest whole multiple of its rate inside the seen rates (``at_multiple``, 30 fps at 60 Hz:
every frame is a lifted sample; 50 Hz where no multiple is inside,
:func:`~anatomy_lib.frame_rate.seen_multiple_fps`), with the library's mirror pass and no
smoothing:

* ``engine_fixed`` / ``engine_varied``: the engine's validation videos (50 fps; held-out
  clips, bodies and cameras, :func:`~anatomy_lib.training.engine_data.validation_videos`;
  ``varied``: the spine, neck/nose and head drawn per body): P1 and P2 (mm) and the rate
  lifted at, and each video's P1 paired (mean, 95 % interval, videos lower) between the
  ways (``at_50hz_minus_as_filmed``, ``at_multiple_minus_as_filmed``,
  ``at_multiple_minus_at_50hz``);
* ``person2``: the real validation person (Pose2Sim's two-person demo, 60 fps, MediaPipe's
  full, lite and heavy 2D, :func:`~anatomy_lib.data.load_pose2sim_multiperson`): P-MPJPE over
  15 joints (mm, the mean over the 9 sequences) and the paired difference per camera
  (:func:`real_validation.paired_comparison`);
* ``auto_lifts_at``: the rate ``lift_fps="auto"`` (``anatomy3d infer``'s default) picks for
  the model;
* ``engine_rendered`` (``--rates``, default 25 30 50 60 100 120 fps): the engine's
  validation videos rendered as a camera of each rate films them (every clip played
  ``50 / fps`` times as fast, the detector's errors drawn per frame: slow cameras and slow
  motion, which every-``step``-th frame cannot give), the same rows as ``engine_fixed``.

Neither the embedded test split nor the test trial is read.

    python benchmarks/frame_rate.py [--model NAME_OR_PATH ...] [--steps 1 2] [--rates 25 30]
        [--threads 2]
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from engine_validation import fixed_and_varied, paired_videos, split_errors  # noqa: E402
from real_validation import (  # noqa: E402
    lift_sequences,
    paired_comparison,
    score_sequences,
    validation_person,
)

from anatomy_lib.evaluation import is_causal  # noqa: E402
from anatomy_lib.frame_rate import TRAINING_FPS, lifting_fps, seen_multiple_fps  # noqa: E402
from anatomy_lib.training.engine_data import (  # noqa: E402
    VALIDATION_SEED,
    engine_for,
)


def lifting_ways(fps: float) -> dict[str, float | None]:
    """The ways of lifting a ``fps`` video compared: at its own rate, at the training rate,
    and at the smallest integer multiple of its rate the models have seen
    (:func:`~anatomy_lib.frame_rate.seen_multiple_fps`; 50 Hz where there is none)."""
    return {
        "as_filmed": None,
        "at_50hz": TRAINING_FPS,
        "at_multiple": seen_multiple_fps(fps) or TRAINING_FPS,
    }


def paired_rows(per_item: dict, pair) -> dict:
    """Every way of :func:`lifting_ways` against as filmed, and the multiple against 50 Hz,
    each paired by ``pair(first, other)`` over ``per_item``'s videos or sequences."""
    return {
        "at_50hz_minus_as_filmed": pair(per_item["as_filmed"], per_item["at_50hz"]),
        "at_multiple_minus_as_filmed": pair(per_item["as_filmed"], per_item["at_multiple"]),
        "at_multiple_minus_at_50hz": pair(per_item["at_50hz"], per_item["at_multiple"]),
    }


def every(dataset, step: int):
    """``dataset`` (a :class:`~anatomy_lib.data.sequences.PoseDataset` or a list of
    sequences) with every sequence at every ``step``-th frame."""
    sequences = [s.every(step) for s in dataset]
    if isinstance(dataset, list):
        return sequences
    return dataclasses.replace(dataset, sequences=tuple(sequences))


def rendered_at(fps: float, videos: int = 64):
    """The engine's validation videos (``fixed`` joints) as a camera filming at ``fps``
    sees them: every clip played ``TRAINING_FPS / fps`` times as fast (instead of
    ``EngineConfig.time_warp``'s random speed), the detector's errors drawn per frame, the
    sequences labelled ``fps``."""
    engine = copy.copy(engine_for("ansur", 0.0))  # the cached engine stays as it is
    speed = TRAINING_FPS / fps
    engine.config = dataclasses.replace(engine.config, time_warp=(speed, speed))
    data = engine.dataset(videos, torch.Generator().manual_seed(VALIDATION_SEED), "validation")
    labelled = tuple(dataclasses.replace(s, fps=fps) for s in data.sequences)
    return dataclasses.replace(data, sequences=labelled)


def engine_rows(model, dataset) -> dict:
    """P1 and P2 of ``model`` on ``dataset`` lifted each way of :func:`lifting_ways`, and the
    paired difference of each video's P1."""
    rows, per_video = {"fps": dataset.sequences[0].fps}, {}
    for name, lift_fps in lifting_ways(rows["fps"]).items():
        row, per_video[name] = split_errors(model, dataset, 0.0, None, lift_fps)
        rows[name] = {"p1": row["p1"], "p2": row["p2"], "lifted_at": lift_fps or rows["fps"]}
    rows.update(paired_rows(per_video, paired_videos))
    rows["auto_lifts_at"] = lifting_fps(rows["fps"], "auto", is_causal(model))
    return rows


def person_rows(model, trial: list) -> dict:
    """P-MPJPE 15 of ``model`` on the validation person lifted each way of :func:`lifting_ways`,
    and the paired difference (per camera, over its three detectors)."""
    rows, per_sequence = {"fps": trial[0].fps}, {}
    for name, lift_fps in lifting_ways(rows["fps"]).items():
        scores = score_sequences(lift_sequences(model, trial, 0.0, None, lift_fps), trial)
        rows[name] = scores["p_mpjpe_15"]["mean"]
        per_sequence[name] = scores["p_mpjpe_15"]["per_sequence"]
    rows.update(paired_rows(per_sequence, paired_comparison))
    rows["auto_lifts_at"] = lifting_fps(rows["fps"], "auto", is_causal(model))
    return rows


def main(argv: list[str] | None = None) -> dict:
    def add_arguments(parser) -> None:
        parser.add_argument("--steps", type=int, nargs="+", default=[1, 2],
                            help="keep every STEP-th frame of a video (default 1 2)")  # fmt: skip
        parser.add_argument("--rates", type=float, nargs="*", default=[25, 30, 50, 60, 100, 120],
                            help="frame rates the engine's videos are rendered at (default 25 "
                            "30 50 60 100 120; none: skip)")  # fmt: skip

    def score(model, args) -> dict:
        report = {}
        for step in args.steps:
            splits = fixed_and_varied().items()
            rows = {f"engine_{n}": engine_rows(model, every(d, step)) for n, d in splits}
            rows["person2"] = person_rows(model, every(validation_person(), step))
            report[f"every_{step}"] = rows
        if args.rates:
            report["engine_rendered"] = {
                f"{fps:g}": engine_rows(model, rendered_at(fps)) for fps in args.rates
            }
        return report

    return model_report(
        "benchmarks/frame_rate.py", __doc__.split("\n\n")[0], score, argv,
        add_arguments=add_arguments,
    )  # fmt: skip


if __name__ == "__main__":
    main()
