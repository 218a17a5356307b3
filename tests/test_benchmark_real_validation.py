"""``benchmarks/real_validation.py`` and ``benchmarks/detector_calibration.py``: scoring on
the multi-person validation trial, and the calibrated detector errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.data import load_pose2sim_multiperson
from anatomy_lib.data.detector_errors import ERROR_SIZES, DetectorErrorConfig
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.config import DataConfig
from anatomy_lib.training.engine_data import engine_for


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("real_validation")


@pytest.fixture(scope="module")
def trial():
    return load_pose2sim_multiperson()


def _targets(bench, trial) -> dict[str, np.ndarray]:
    return {bench.sequence_name(s): s.joints_3d.double().numpy() for s in trial}


def test_exact_predictions_score_zero(bench, trial):
    scores = bench.score_sequences(_targets(bench, trial), trial)
    assert scores["headline"] == 0.0
    assert all(v == 0.0 for v in scores["mpjpe_17"]["per_sequence"].values())


def test_only_valid_frames_count_and_headline_is_the_mean_over_sequences(bench, trial):
    g = np.random.default_rng(0)
    preds = {n: t + g.normal(0, 0.03, t.shape) for n, t in _targets(bench, trial).items()}
    before = bench.score_sequences(preds, trial)
    for seq in trial:  # garbage where a frame is not scored
        preds[bench.sequence_name(seq)][~seq.valid.numpy()] = 1e3
    after = bench.score_sequences(preds, trial)
    assert after == before
    per = before["p_mpjpe_15"]["per_sequence"]
    assert len(per) == len(trial.sequences) == 3  # the validation person, cameras 1, 2, 4
    assert before["headline"] == pytest.approx(np.mean(list(per.values())), abs=0.01)
    both = load_pose2sim_multiperson(people="all")
    targets = _targets(bench, both)
    per = bench.score_sequences({n: t + 0.01 for n, t in targets.items()}, both)["p_mpjpe_15"]
    person1 = [v for n, v in per["per_sequence"].items() if n.startswith("person1/")]
    assert len(person1) == 4 and len(per["per_sequence"]) == 7
    assert per["per_person"]["person1"] == pytest.approx(np.mean(person1), abs=0.01)


def test_a_larger_error_scores_higher(bench, trial):
    targets = _targets(bench, trial)
    g = np.random.default_rng(1)
    noise = {n: g.normal(0, 1, t.shape) for n, t in targets.items()}
    small = bench.score_sequences({n: t + 0.01 * noise[n] for n, t in targets.items()}, trial)
    large = bench.score_sequences({n: t + 0.04 * noise[n] for n, t in targets.items()}, trial)
    assert large["headline"] > 3 * small["headline"] > 0


def test_validation_person_sizes_match_her_real_error_and_the_calibrated_ones_exceed_it():
    """The sizes refitted on person 2 give the engine's MediaPipe-like family her real limb
    errors (within 15 %); the session-19 sizes, fitted with the test performer in, give a
    clearly larger mean and tail, and the family's own sizes a clearly smaller tail."""
    dc = load_benchmark("detector_calibration")
    real = dc.error_statistics(dc.real_errors()[1])["limbs"]
    family = DetectorErrorConfig.mediapipe_like()
    refitted = dc.engine_errors(family.with_error_sizes("validation_person"), videos=16)["limbs"]
    calibrated = dc.engine_errors(family.with_error_sizes("calibrated"), videos=16)["limbs"]
    assumed = dc.engine_errors(family, videos=16)["limbs"]
    for statistic in ("median", "mean", "p90"):
        assert refitted[statistic] == pytest.approx(real[statistic], rel=0.15)
    for statistic in ("mean", "p90"):
        assert calibrated[statistic] > 1.25 * real[statistic]
    assert assumed["p90"] < 0.8 * real["p90"]


def test_calibrated_errors_are_larger_and_less_jittery():
    dc = load_benchmark("detector_calibration")
    assumed = dc.engine_errors(DetectorErrorConfig.mediapipe_like(), videos=8)
    calibrated = dc.engine_errors(
        DetectorErrorConfig.mediapipe_like().with_error_sizes("calibrated"), videos=8
    )
    assert calibrated["limbs"]["mean"] > 1.4 * assumed["limbs"]["mean"]
    assert calibrated["limbs"]["p90"] > 1.5 * assumed["limbs"]["p90"]
    assert calibrated["jitter_hips_shoulders_median"] < assumed["jitter_hips_shoulders_median"]


def test_real_detector_error_statistics_from_the_trial():
    dc = load_benchmark("detector_calibration")
    rows, pooled, scores = dc.real_errors()
    assert set(rows) == {f"{s.subject}/{s.camera.id}" for s in load_pose2sim_multiperson()}
    assert {name.split("/")[0] for name in rows} == {"person2"}  # not the test performer
    assert set(dc.real_errors("all")[0]) == set(rows) | {f"person1/cam0{i}" for i in range(1, 5)}
    assert pooled.shape[1] == 17 and pooled.shape[0] == sum(r["frames"] for r in rows.values())
    assert scores.shape == pooled.shape and bool(((scores >= 0) & (scores <= 1)).all())
    stats = dc.error_statistics(pooled)
    assert stats["limbs"]["median"] <= stats["limbs"]["p90"]
    assert stats["limbs"]["median"] < stats["limbs"]["mean"]  # a heavy tail


def test_error_statistics_on_known_numbers():
    dc = load_benchmark("detector_calibration")
    errors = torch.arange(1, 101, dtype=torch.float64)[:, None].expand(100, 17).clone()
    stats = dc.error_statistics(errors)
    assert stats["limbs"]["mean"] == pytest.approx(50.5)
    assert stats["limbs"]["median"] in (50.0, 50.5, 51.0)
    assert stats["limbs"]["p90"] == pytest.approx(90.1, abs=0.01)


@pytest.mark.parametrize("errors", ["calibrated", "validation_person"])
def test_measured_error_options_reach_every_detector_family_and_keep_the_rest(errors):
    sizes = ERROR_SIZES[errors]
    assumed = engine_for("ansur", 0.0).config.detectors
    measured = engine_for("ansur", 0.0, detector_errors=errors).config.detectors
    assert [d.name for d in measured] == [d.name for d in assumed]
    for before, after in zip(assumed, measured, strict=True):
        for field, value in sizes.items():
            assert getattr(after, field) == value
        keep = {f.name for f in dataclasses.fields(before)} - set(sizes)
        assert all(getattr(after, f) == getattr(before, f) for f in keep)
        assert after == before.with_error_sizes(errors)
    with pytest.raises(ValueError, match="sizes: expected one of"):
        assumed[0].with_error_sizes("assumed")
    with pytest.raises(ValueError, match="detector_errors"):
        engine_for("ansur", 0.0, detector_errors="measured")
    with pytest.raises(ValueError, match="engine_detector_errors"):
        DataConfig(engine_detector_errors="measured")


def test_report_of_two_models_and_the_baselines(bench, capsys):
    report = bench.main(["--model", "anatomy_small", "baseline_small", "--threads", "1"])
    capsys.readouterr()
    assert set(report["models"]) == {"anatomy_small", "baseline_small"}
    for row in report["models"].values():
        per = row["p_mpjpe_15"]["per_sequence"]
        assert row["headline"] == pytest.approx(np.mean(list(per.values())), abs=0.01)
    base = report["baselines_lifted_by_first_model"]
    # the model fed the reference's own 2D beats it fed MediaPipe's, and no model beats the
    # 2D placed at the reference's depth on the standing person (the best-seen sequences)
    assert base["perfect_2d"]["headline"] < report["models"]["anatomy_small"]["headline"]
    floor = base["detections_at_true_depth"]["p_mpjpe_15"]["per_person"]["person2"]
    assert all(r["p_mpjpe_15"]["per_person"]["person2"] > floor for r in report["models"].values())
    assert report["trial"]["sequences"]["person2/cam02"]["scored"] == 100
    # only the validation person by default; the test trial's performer when asked for
    assert report["trial"]["people"] == ["person2"]
    assert set(report["models"]["anatomy_small"]["p_mpjpe_15"]["per_person"]) == {"person2"}
    everyone = bench.main(["--model", "anatomy_small", "--threads", "1", "--people", "all"])
    capsys.readouterr()
    assert everyone["trial"]["people"] == ["person1", "person2"]
    person2 = everyone["models"]["anatomy_small"]["p_mpjpe_15"]["per_person"]["person2"]
    assert person2 == report["models"]["anatomy_small"]["p_mpjpe_15"]["per_person"]["person2"]


def test_baselines_without_a_model_do_not_depend_on_it(bench, trial):
    from anatomy_lib.checkpoints import load_pretrained

    a = bench.baseline_rows(load_pretrained("anatomy_small"), trial)
    b = bench.baseline_rows(load_pretrained("baseline_small"), trial)
    for key in ("constant_mean_pose", "detections_at_true_depth"):
        assert a[key] == b[key]
    assert a["perfect_2d"] != b["perfect_2d"]


def test_other_detectors_are_more_sequences_against_one_reference(bench, trial):
    every = load_pose2sim_multiperson("all")
    names = [bench.sequence_name(s) for s in every]
    assert len(set(names)) == len(names) > len(trial.sequences)
    assert {bench.detector_of(s) for s in every} == {"full", "lite", "heavy"}
    assert [bench.sequence_name(s) for s in trial] == [n for n in names if n.count("/") == 1]
    g = np.random.default_rng(2)
    preds = {bench.sequence_name(s): s.joints_3d.double().numpy() for s in every}
    preds = {n: t + g.normal(0, 0.02 if n.endswith("/lite") else 0.01, t.shape)
             for n, t in preds.items()}  # fmt: skip
    scores = bench.score_sequences(preds, every)
    per = scores["p_mpjpe_15"]["per_sequence"]
    by_detector = scores["p_mpjpe_15"]["per_detector"]
    for detector in ("full", "lite", "heavy"):
        own = [v for n, v in per.items() if (n.count("/") == 1) == (detector == "full")
               and (detector == "full" or n.endswith(detector))]  # fmt: skip
        assert by_detector[detector] == pytest.approx(np.mean(own), abs=0.01)
    assert by_detector["lite"] > 1.5 * by_detector["heavy"]
    assert "per_detector" not in bench.score_sequences(_targets(bench, trial), trial)["p_mpjpe_15"]


def test_paired_comparison_averages_a_person_cameras_detectors(bench):
    first = {"person1/cam01": 60.0, "person1/cam01/lite": 64.0, "person1/cam02": 50.0,
             "person2/cam01": 40.0, "person2/cam02/heavy": 45.0}  # fmt: skip
    shift = {"person1/cam01": -2.0, "person1/cam01/lite": -4.0, "person1/cam02": -1.0,
             "person2/cam01": 0.5, "person2/cam02/heavy": -0.5}  # fmt: skip
    other = {n: v + shift[n] for n, v in first.items()}
    out = bench.paired_comparison(first, other)
    assert out["per_person_camera"] == {"person1/cam01": -3.0, "person1/cam02": -1.0,
                                        "person2/cam01": 0.5, "person2/cam02": -0.5}  # fmt: skip
    assert out["person_cameras"] == 4 and out["mean"] == pytest.approx(-1.0)
    assert out["per_person"] == {"person1": -2.0, "person2": 0.0}
    low, high = out["ci95_over_person_cameras"]
    assert low < -1.0 < high
    assert out["sequences_lower"] == "4 of 5"
    same = bench.paired_comparison(first, dict(first))
    assert same["mean"] == 0.0 and same["ci95_over_person_cameras"] == [0.0, 0.0]


def test_flip_option_reaches_the_lifting(bench, trial):
    """``--flip`` lifts an ensemble with the mirror pass: its rows are those of lifting each
    sequence with ``EvaluationConfig(flip=True)``, and the report says which pass was used;
    one model is mirrored by default already."""
    from anatomy_lib.evaluation import EvaluationConfig, predict_sequence
    from anatomy_lib.wild import resolve_model

    pair = resolve_model("anatomy_small+anatomy_small_causal")
    plain = bench.model_rows(pair, trial, 0.0, pull_strength=0.0)
    mirrored = bench.model_rows(pair, trial, 0.0, flip=True, pull_strength=0.0)
    assert (plain["flip"], mirrored["flip"]) == (False, True)
    assert plain["headline"] != mirrored["headline"]
    by_hand = {
        bench.sequence_name(seq): predict_sequence(
            pair, seq.keypoints_2d, seq.scores, EvaluationConfig(flip=True)
        )
        .double()
        .numpy()
        for seq in trial
    }
    expected = bench.score_sequences(by_hand, trial)["p_mpjpe_15"]["per_sequence"]
    assert mirrored["p_mpjpe_15"]["per_sequence"] == pytest.approx(expected, abs=0.02)
    single = resolve_model("anatomy_small")
    assert bench.model_rows(single, trial, 0.0) == bench.model_rows(single, trial, 0.0, flip=True)
    assert plain["keypoint_pull"] is None and bench.model_rows(single, trial, 0.0)[
        "keypoint_pull"
    ] == {
        "strength": 0.5,
        "smoothing_s": 0.04,
        "bone_lengths": "video",
    }


def test_error_by_score_bands_split_the_limb_keypoints():
    dc = load_benchmark("detector_calibration")
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(200, 17, generator=g, dtype=torch.float64)
    scores[0, 1] = 1.0  # the top band includes 1
    errors = 10 * (1 - scores)  # a lower score, a larger error
    bands = dc.error_by_score(errors, scores)
    edges = zip(dc.SCORE_BINS[:-1], dc.SCORE_BINS[1:], strict=True)
    assert list(bands) == [f"{a}-{b}" for a, b in edges]
    assert sum(b["share"] for b in bands.values()) == pytest.approx(1.0, abs=0.003)
    medians = [b["median"] for b in bands.values()]
    assert medians == sorted(medians, reverse=True)
    top = scores[:, [H36M_17.joint_index(n) for n in dc.LIMBS]] >= 0.9
    assert bands["0.9-1.0"]["share"] == pytest.approx(float(top.double().mean()), abs=5e-4)
    empty = dc.error_by_score(errors, torch.full_like(scores, 0.95))
    assert empty["0.0-0.3"] == {"share": 0.0, "median": None}


def test_real_scores_say_where_the_error_is_and_occluded_noise_all_lets_the_engine_say_it():
    """On the validation person a low MediaPipe score means a larger error; the engine's
    MediaPipe-like family with her sizes shows that only with ``occluded_noise="all"``."""
    dc = load_benchmark("detector_calibration")
    _, errors, scores = dc.real_errors()
    real = dc.error_by_score(errors, scores)
    assert real["0.0-0.3"]["median"] > 2 * real["0.9-1.0"]["median"]
    family = DetectorErrorConfig.mediapipe_like().with_error_sizes("validation_person")
    jitter_only = dc.engine_errors(family, videos=16)["by_score"]
    everything = dc.engine_errors(dataclasses.replace(family, occluded_noise="all"), videos=16)[
        "by_score"
    ]
    assert jitter_only["0.0-0.3"]["median"] < 1.6 * jitter_only["0.9-1.0"]["median"]
    assert everything["0.0-0.3"]["median"] > 2 * everything["0.9-1.0"]["median"]
