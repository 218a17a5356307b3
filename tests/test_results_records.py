"""The CPU-run records of ``anatomy_lib/results`` agree with themselves and with what ships.

Each ``cpu_runs_session*.json`` that judges candidates by a rule keeps each candidate's
checks, whether it passed, and which one was chosen; the newest record that chose a default
must describe the weights that are shipped now, so a record cannot drift from the files.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from anatomy_lib.checkpoints import load_pretrained
from anatomy_lib.keypoint_fit import VIDEO_KEYPOINT_PULL, KeypointPull
from anatomy_lib.models.checkpoints import weights_fingerprint

RESULTS = Path(__file__).resolve().parents[1] / "anatomy_lib" / "results"


def _session(path: Path) -> tuple[int, str]:
    number = re.match(r"cpu_runs_session(\d+)", path.stem)
    return int(number.group(1)), path.stem


RECORDS = sorted(RESULTS.glob("cpu_runs_session*.json"), key=_session)


def _record(path: Path) -> dict:
    return json.loads(path.read_text())


def _judged(record: dict) -> dict[str, dict]:
    """Candidates with rule checks and a verdict."""
    soups = record.get("soups") or {}
    return {k: v for k, v in soups.items() if "rule_checks" in v and v.get("passes") is not None}


def _steps(record: dict) -> list[dict]:
    """The record and each later step inside it (a dict of its own with candidates)."""
    return [record] + [v for v in record.values() if isinstance(v, dict) and "soups" in v]


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_a_candidate_passes_exactly_when_every_check_holds(path):
    for step in _steps(_record(path)):
        for label, soup in _judged(step).items():
            assert soup["passes"] == all(soup["rule_checks"].values()), label
        chosen = step.get("chosen")
        if chosen and chosen != "none":
            assert step["soups"][chosen]["passes"] is True


def test_a_later_step_starts_from_the_model_its_record_chose():
    """A step judged against the model chosen earlier in the same record compares with
    exactly those weights."""
    later = [
        (path.stem, record, step)
        for path in RECORDS
        for record in [_record(path)]
        for step in _steps(record)[1:]
    ]
    assert later
    for stem, record, step in later:
        chosen = record["soups"][record["chosen"]]["weights_sha256"]
        assert step["controls"]["anatomy_medium"]["weights_sha256"] == chosen, stem


def _newest_choice(name: str) -> tuple[str, dict]:
    """The newest record whose chosen candidate was shipped as ``name``."""
    for path in reversed(RECORDS):
        record = _record(path)
        chosen = record.get("chosen")
        shipped = record.get("shipped")
        command = shipped.get("command", "") if isinstance(shipped, dict) else str(shipped or "")
        if chosen and chosen != "none" and f"--average {name}=" in command:
            return path.stem, record["soups"][chosen]
    raise AssertionError(f"no record chose {name}")


@pytest.mark.parametrize("name", ["anatomy_medium", "anatomy_medium_causal"])
def test_the_newest_chosen_candidate_is_the_shipped_model(name):
    stem, soup = _newest_choice(name)
    assert weights_fingerprint(load_pretrained(name)) == soup["weights_sha256"], stem


def test_the_keypoint_pull_record_agrees_with_its_numbers_and_the_default():
    """Session 37's two rules' checks follow from the numbers kept beside them, the pull the
    second chose is the pipeline's default, and the shipped real-data report is the run it
    read."""
    record = _record(RESULTS / "keypoint_pull.json")
    measured, checks = record["measured"], record["rule_checks"]
    her = measured["her"]
    lower = sum(d < 0 for d in her["per_sequence_difference"].values())
    assert checks["a_her_at_least_0.5_lower_and_lower_on_6_of_9"] == (
        her["pull_0.5"] <= her["pull_0"] - 0.5 and lower >= 6
    )
    base, pulled = measured["engine"]["pull_0"], measured["engine"]["pull_0.5"]
    plain = ("fixed", "varied", "varied_thorax", "coco_spread")
    assert checks["b_plain_splits_p1_and_p2_not_worse"] == all(
        pulled[s][k] <= base[s][k] for s in plain for k in ("p1", "p2")
    )
    others = [s for s in base if s not in plain]
    assert len(others) == 5
    assert checks["c_other_splits_p2_not_worse_p1_at_most_1mm_worse"] == all(
        pulled[s]["p2"] <= base[s]["p2"] and pulled[s]["p1"] <= base[s]["p1"] + 1.0 for s in others
    )
    focal = measured["her_focal_scaled"].values()
    assert checks["d_uncalibrated_focal_x0.75_and_x1.33_her_at_least_0.5_lower"] == all(
        f["pull_0.5"] <= her["pull_0"] - 0.5 for f in focal
    )
    assert record["passes"] == all(checks.values())
    second = record["second_step"]
    checks, measured = second["rule_checks"], second["measured"]
    engine = measured["engine"]
    assert checks["b_every_split_within_0.3_of_the_per_frame_pull_and_rule_1_b_c"] == (
        all(
            engine["pull_0.5_video_lengths"][s][k] <= engine["per_frame_pull"][s][k] + 0.3
            for s in base
            for k in ("p1", "p2")
        )
        and all(
            engine["pull_0.5_video_lengths"][s][k] <= base[s][k]
            for s in plain
            for k in ("p1", "p2")
        )
    )
    stds = measured["largest_bone_length_std_over_frames_m_fixed_split"]
    assert checks["c_bone_lengths_constant_within_every_fixed_video"] == (stds["video"] < 1e-5)
    assert second["passes"] == all(checks.values())
    assert record["chosen"] == "second_step" and second["passes"]
    chosen = KeypointPull(**second["candidate"])
    assert chosen == VIDEO_KEYPOINT_PULL
    shipped = _record(RESULTS / "real_data_anatomy_medium.json")
    assert shipped["keypoint_pull"] == dataclasses.asdict(chosen)
    # Session 39 re-read the rows lifted as session 37 lifted them (without turned views).
    again = _record(RESULTS / "roll_views.json")["test_once"]["without_views"]
    read = second["after_the_decision"]["default_pulled"]
    for row in ("openpose_2d", "perfect_2d", "video_pipeline", "mediapipe_world"):
        assert again[row]["p_mpjpe_15"] == read[row]["p_mpjpe_15"], row


def _passing_angles(bench, report: dict) -> list[float]:
    """The angles whose recorded verdict passes, each verdict and change checked against
    ``roll_views.py``'s own ``versus_plain`` and ``rule_verdict`` of the numbers beside it."""
    plain, passing = report["plain"], []
    for angle, row in report["views"].items():
        change = bench.versus_plain(
            plain["validation_person"], row["validation_person"]["headline"],
            {s: r["p1"] for s, r in plain["engine"].items()},
            {s: r["p1"] for s, r in row["engine"].items()},
        )  # fmt: skip
        assert row["versus_plain"] == {**change, "rule": bench.rule_verdict(change, float(angle))}
        if row["versus_plain"]["rule"] == "passes":
            passing.append(float(angle))
    assert len(plain["engine"]) == 9 and "embedded_train" not in plain["engine"]
    return passing


def test_the_roll_views_record_agrees_with_its_rule_the_default_and_the_shipped_rows():
    """Session 39's verdicts follow from the numbers kept beside them (its benchmark's
    ``rule_verdict``), the angle it chose is the pipeline's default for the shipped model, the
    causal twin's check failed and it is not turned, and the shipped real-data report is the
    run it read after the decision."""
    from conftest import load_benchmark

    from anatomy_lib.wild.pipeline import VIDEO_ROLL_DEG, video_roll_views

    bench = load_benchmark("roll_views")
    record = _record(RESULTS / "roll_views.json")
    (report,) = record["models"].values()
    rule = bench.ViewRule(**{**report["rule"], "angles": tuple(report["rule"]["angles"])})
    assert rule == bench.SESSION_39_RULE
    passing = _passing_angles(bench, report)
    assert passing == [record["decision"]["chosen_roll_deg"]] == [VIDEO_ROLL_DEG]
    default = list(video_roll_views(load_pretrained("anatomy_medium"), None))
    assert default == [-VIDEO_ROLL_DEG, VIDEO_ROLL_DEG]
    causal = record["second_rule"]["report"]
    assert list(causal["views"]) == ["6"] and _passing_angles(bench, causal) == []
    assert video_roll_views(load_pretrained("anatomy_medium_causal"), None) == ()
    shipped = _record(RESULTS / "real_data_anatomy_medium.json")
    assert shipped["roll_views_deg"] == default
    read = record["test_once"]["with_views"]
    for row in ("openpose_2d", "perfect_2d", "video_pipeline", "mediapipe_world"):
        assert shipped["rows"][row]["p_mpjpe_15"] == read[row]["p_mpjpe_15"], row


def test_the_pull_strengths_record_agrees_with_itself_and_the_default_pull():
    """Session 38's per-joint strengths are the mean of their splits' fits, the pull scored
    with them is the default pull with those strengths, and the default's score on the
    validation person is the one session 37's second rule measured."""
    record = _record(RESULTS / "pull_strengths.json")
    (report,) = record["models"].values()
    fits = [e["strengths"] for e in report["estimates"].values()]
    strengths = list(report["strengths"].values())
    assert len(strengths) == 17 and all(0 <= v <= 1 for v in strengths)
    for j, value in enumerate(strengths):
        assert value == pytest.approx(sum(f[j] for f in fits) / len(fits), abs=0.002)
    default = dataclasses.asdict(VIDEO_KEYPOINT_PULL)
    assert report["pulls"]["default"] == default
    assert report["pulls"]["per_joint"] == {**default, "strength": strengths}
    her = report["validation_person"]
    session37 = _record(RESULTS / "keypoint_pull.json")["second_step"]["measured"]["her"]
    assert her["default"] == session37["pull_0.5_video_lengths"]
    assert her["per_joint_versus_default"]["mean"] == pytest.approx(
        her["per_joint"] - her["default"], abs=0.011
    )


def test_the_widened_run_record_agrees_with_its_rule_and_its_controls():
    """Session 40: WM's checks follow from the per-video differences kept beside them (the
    rule in the record), her rows are the shipped default's as session 39 measured it, and
    the widened start scores exactly as the model it was widened from (same function)."""
    record = _record(RESULTS / "cpu_runs_session40.json")
    candidate = record["soups"]["WM"]
    versus = candidate["engine_validation"]["versus_shipped"]
    plain = ("fixed", "varied", "varied_thorax", "coco_spread")
    detector = ("calibrated", "occluded_fixed", "occluded_varied")
    her = candidate["real_validation"]["person2_p_mpjpe_15"]
    shipped = record["controls"]["anatomy_medium"]
    expected = {
        "a": all(versus[s]["mean"] <= -0.20 for s in plain),
        "b": all(versus[s]["mean"] <= 0.30 for s in detector),
        "c": versus["embedded_validation"]["mean"] <= -0.30,
        "d": her <= shipped["real_validation"]["person2_p_mpjpe_15"],
    }
    assert candidate["rule_checks"] == expected
    assert record["chosen"] == "none" and not candidate["passes"]
    views = _record(RESULTS / "roll_views.json")["models"]["anatomy_medium"]["views"]["6"]
    her_shipped = shipped["real_validation"]["person2_p_mpjpe_15"]
    assert her_shipped == views["validation_person"]["headline"]
    widened = record["controls"]["MM7w448"]
    for split, scores in shipped["engine_validation"].items():
        if split != "versus_shipped":
            assert widened["engine_validation"][split] == scores, split
    assert widened["real_validation"]["per_sequence"] == shipped["real_validation"]["per_sequence"]
