"""Test-time views turned about the root's ray, averaged with the plain view, on validation.

Prints one JSON object. For each model and each ``--angles`` angle ``a`` (degrees), the
lifting of ``anatomy3d infer`` (the mirror pass, and the pull towards the 2D that
:func:`~anatomy_lib.wild.pipeline.video_keypoint_pull` gives the model) with two more views
of every frame, the camera turned by ``-a`` and ``+a`` about the root's ray
(:func:`~anatomy_lib.ray_frame.roll_view`, ``EvaluationConfig.roll_views_deg``), against the
same lifting without them (``--roll 0``). Since session 39, whose rule took the views at 6
degrees, ``anatomy3d infer`` lifts ``anatomy_medium`` with them
(:data:`~anatomy_lib.wild.pipeline.VIDEO_ROLL_DEG`):

* ``validation_person``: her P-MPJPE (15 joints, her nine sequences, as
  ``benchmarks/real_validation.py --detectors full lite heavy --smooth 0`` prints it), with
  the per-camera paired comparison;
* ``engine``: P1 and P2 of every engine validation split that the default model was not
  trained on (:func:`engine_validation.validation_splits` without ``embedded_train``), with
  the per-video paired comparison;
* ``versus_plain``: her change, the mean change of the splits' P1 and the worst split's, and
  whether :data:`SESSION_39_RULE` takes the views (it was written before any of these
  numbers, for the angles 3 and 6; other angles are reported, not judged).

Validation data only: neither the embedded test split nor the Pose2Sim test trial is read.
A network trained with random camera rolls should predict a turned view's pose turned; the
average over views is then the plain prediction with less of the network's own variance,
at ``1 + 2 * len(angles)`` times its cost.

    python benchmarks/roll_views.py [--model NAME_OR_PATH] [--threads 2] [--angles 3 6 10 15]
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from engine_validation import paired_videos, split_errors, validation_splits  # noqa: E402
from real_validation import (  # noqa: E402
    DETECTORS,
    model_rows,
    paired_comparison,
    validation_person,
)

from anatomy_lib.wild.pipeline import video_keypoint_pull  # noqa: E402

#: The angles measured by default, degrees (each adds a view turned by -a and one by +a).
ANGLES = (3.0, 6.0, 10.0, 15.0)


@dataclasses.dataclass(frozen=True)
class ViewRule:
    """When the views would join the default lifting: her P-MPJPE lower by at least
    ``min_person_gain_mm``, the mean P1 over the engine splits lower by at least
    ``min_engine_gain_mm``, and no split's P1 higher by more than ``max_split_loss_mm``;
    judged only for ``angles`` (the candidates named before the measurement)."""

    min_person_gain_mm: float
    min_engine_gain_mm: float
    max_split_loss_mm: float
    angles: tuple[float, ...]


#: The rule written in session 39 before any number of the views was measured.
SESSION_39_RULE = ViewRule(0.10, 0.10, 0.20, angles=(3.0, 6.0))


def versus_plain(
    her_plain: float, her_views: float, plain: dict[str, float], views: dict[str, float]
) -> dict:
    """Her change and the engine splits' P1 changes (mm, views minus plain; ``plain`` and
    ``views``: split -> P1), their mean and the worst split's."""
    changes = {name: views[name] - plain[name] for name in plain}
    worst = max(changes, key=changes.get)
    return {
        "validation_person_mm": round(her_views - her_plain, 3),
        "engine_mean_p1_mm": round(statistics.fmean(changes.values()), 3),
        "engine_worst_split": worst,
        "engine_worst_p1_mm": round(changes[worst], 3),
    }


def rule_verdict(change: dict, angle: float, rule: ViewRule = SESSION_39_RULE) -> str:
    """``"passes"``, ``"fails"`` or ``"not a candidate"`` for one angle's :func:`versus_plain`."""
    if angle not in rule.angles:
        return "not a candidate"
    passes = (
        -change["validation_person_mm"] >= rule.min_person_gain_mm
        and -change["engine_mean_p1_mm"] >= rule.min_engine_gain_mm
        and change["engine_worst_p1_mm"] <= rule.max_split_loss_mm
    )
    return "passes" if passes else "fails"


def main(argv: list[str] | None = None) -> dict:
    def add_arguments(parser) -> None:
        parser.add_argument("--angles", nargs="+", type=float, default=list(ANGLES),
                            help="turns about the root's ray, degrees, each in (0, 45) "
                            f"(default: {' '.join(f'{a:g}' for a in ANGLES)})")  # fmt: skip

    def score(model, args) -> dict:
        pull = video_keypoint_pull(model, None)
        trial = validation_person()
        splits = {k: v for k, v in validation_splits().items() if k != "embedded_train"}

        def lifted(views: tuple[float, ...]) -> tuple[dict, dict, dict]:
            her = model_rows(model, trial, 0.0, None, pull, max(views, default=0.0))
            engine = {
                name: split_errors(model, data, 0.0, None, keypoint_pull=pull, roll_views_deg=views)
                for name, data in splits.items()
            }
            rows = {name: {k: row[k] for k in ("p1", "p2")} for name, (row, _) in engine.items()}
            per_video = {name: videos for name, (_, videos) in engine.items()}
            return her, rows, per_video

        her0, rows0, videos0 = lifted(())
        report = {
            "keypoint_pull": None if pull is None else dataclasses.asdict(pull),
            "rule": dataclasses.asdict(SESSION_39_RULE),
            "plain": {"validation_person": her0["headline"], "engine": rows0},
            "views": {},
        }
        for angle in args.angles:
            if not 0 < angle < 45:
                raise SystemExit(f"--angles: expected degrees in (0, 45), got {angle:g}")
            her, rows, videos = lifted((-angle, angle))
            change = versus_plain(
                her0["headline"], her["headline"],
                {n: r["p1"] for n, r in rows0.items()}, {n: r["p1"] for n, r in rows.items()},
            )  # fmt: skip
            report["views"][f"{angle:g}"] = {
                "roll_views_deg": [-angle, angle],
                "validation_person": {
                    "detectors": list(DETECTORS),
                    "headline": her["headline"],
                    "versus_plain": paired_comparison(
                        her0["p_mpjpe_15"]["per_sequence"], her["p_mpjpe_15"]["per_sequence"]
                    ),
                },
                "engine": {
                    name: {**rows[name], "versus_plain": paired_videos(videos0[name], videos[name])}
                    for name in rows
                },
                "versus_plain": {**change, "rule": rule_verdict(change, angle)},
            }
        return report

    return model_report(
        "benchmarks/roll_views.py", __doc__.split("\n\n")[0], score, argv,
        add_arguments=add_arguments,
    )  # fmt: skip


if __name__ == "__main__":
    main()
