"""``PredictionEnsemble``: members' predictions averaged; the protocol's flip and smoothing."""

from __future__ import annotations

import pytest
import torch

from anatomy_lib.checkpoints import (
    DEFAULT_CAUSAL_MODEL,
    DEFAULT_MODEL,
    PRETRAINED,
    PRETRAINED_ENSEMBLES,
    SHIPPED_NAMES,
    load_pretrained,
    pretrained_path,
)
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.evaluation import (
    EvaluationConfig,
    evaluate_dataset,
    predict_sequence,
    score_predictions,
    uses_flip,
)
from anatomy_lib.models import AnatomyModel, ModelConfig, TemporalConvNet
from anatomy_lib.models.ensemble import PredictionEnsemble
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.smoothing import smooth_over_time
from anatomy_lib.wild import resolve_model


def _tiny(seed: int, **overrides) -> AnatomyModel:
    torch.manual_seed(seed)
    return AnatomyModel(ModelConfig.preset("tiny", **overrides)).double().eval()


def _video(frames: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    kp = 0.3 * torch.randn(frames, 17, 2, generator=g, dtype=torch.float64)
    return kp, torch.rand(frames, 17, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("flip", [True, False])
def test_prediction_is_the_mean_of_the_members(flip):
    a, b = _tiny(0), _tiny(1, causal=True)
    baseline = TemporalConvNet(ModelConfig.preset("tiny").baseline()).double().eval()
    kp, sc = _video()
    cfg = EvaluationConfig(flip=flip)
    members = [a, b, baseline]
    got = predict_sequence(PredictionEnsemble(members), kp, sc, cfg)
    want = sum(predict_sequence(m, kp, sc, cfg) for m in members) / 3
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    assert not torch.allclose(got, predict_sequence(a, kp, sc, cfg))


def test_an_ensemble_of_one_model_twice_is_that_model():
    a = _tiny(0)
    kp, sc = _video()
    for flip in (True, False):
        cfg = EvaluationConfig(flip=flip)
        torch.testing.assert_close(
            predict_sequence(PredictionEnsemble([a, a]), kp, sc, cfg),
            predict_sequence(a, kp, sc, cfg),
            atol=1e-12,
            rtol=0,
        )


def test_default_flip_is_on_for_one_model_and_off_for_an_ensemble():
    a, b = _tiny(0), _tiny(1)
    ensemble = PredictionEnsemble([a, b])
    kp, sc = _video()
    auto = EvaluationConfig()
    assert auto.flip is None and uses_flip(a, auto) and not uses_flip(ensemble, auto)
    assert uses_flip(ensemble, EvaluationConfig(flip=True))
    assert not uses_flip(a, EvaluationConfig(flip=False))
    torch.testing.assert_close(
        predict_sequence(a, kp, sc), predict_sequence(a, kp, sc, EvaluationConfig(flip=True))
    )
    torch.testing.assert_close(
        predict_sequence(ensemble, kp, sc),
        predict_sequence(ensemble, kp, sc, EvaluationConfig(flip=False)),
    )


def test_smoothing_is_applied_once_to_the_mean_at_the_video_frame_rate():
    ensemble = PredictionEnsemble([_tiny(0), _tiny(1)])
    kp, sc = _video(60)
    plain = predict_sequence(ensemble, kp, sc)
    smoothed = predict_sequence(ensemble, kp, sc, EvaluationConfig(smoothing_s=0.05), fps=40.0)
    torch.testing.assert_close(smoothed, smooth_over_time(plain, 2.0), atol=1e-12, rtol=0)
    assert (smoothed - plain).abs().max() > 1e-6
    with pytest.raises(ValueError, match="frame rate"):
        predict_sequence(ensemble, kp, sc, EvaluationConfig(smoothing_s=0.05))


def test_evaluate_dataset_smooths_each_sequence_at_its_own_frame_rate():
    a = _tiny(0)
    kp, sc = _video(30)
    seqs = [
        PoseSequence(
            subject="S",
            action=f"Walk {i}",
            keypoints_2d=kp,
            scores=sc,
            joints_3d=torch.zeros(30, 17, 3, dtype=torch.float64) + 0.1 * i,
            skeleton=H36M_17,
            fps=fps,
            image_size=(1000, 1000),
        )  # fmt: skip
        for i, fps in enumerate((25.0, 100.0))
    ]
    cfg = EvaluationConfig(flip=False, smoothing_s=0.04)
    result = evaluate_dataset(a, seqs, cfg, progress=False, keep_predictions=True)
    plain = predict_sequence(a, kp, sc, EvaluationConfig(flip=False))
    for pred, fps in zip(result.predictions, (25.0, 100.0), strict=True):
        torch.testing.assert_close(pred, smooth_over_time(plain, 0.04 * fps))
    assert result.averages == pytest.approx(score_predictions(seqs, result.predictions).averages)


def test_causal_only_when_every_member_is():
    causal, offline = _tiny(0, causal=True), _tiny(1)
    assert PredictionEnsemble([causal, causal]).config.causal
    assert not PredictionEnsemble([causal, offline]).config.causal
    assert PredictionEnsemble([causal, offline], names=["x", "y"]).config.members == ("x", "y")


def test_bad_ensembles_are_refused():
    a = _tiny(0)
    with pytest.raises(ValueError, match="at least 2 members"):
        PredictionEnsemble([a])
    with pytest.raises(TypeError, match="member 1: expected an AnatomyModel"):
        PredictionEnsemble([a, torch.nn.Linear(2, 2)])
    with pytest.raises(TypeError, match="member 1"):
        PredictionEnsemble([a, PredictionEnsemble([a, a])])
    other = AnatomyModel(ModelConfig.preset("tiny", skeleton="mpi_inf_3dhp")).double()
    with pytest.raises(ValueError, match="one skeleton"):
        PredictionEnsemble([a, other])
    with pytest.raises(ValueError, match="expected 2 names"):
        PredictionEnsemble([a, a], names=["only"])
    with pytest.raises(TypeError, match="predict_sequence"):
        PredictionEnsemble([a, a])(torch.zeros(1, 27, 17, 2))


def test_bad_protocols_are_refused():
    for value in (-0.1, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="smoothing_s"):
            EvaluationConfig(smoothing_s=value)
    with pytest.raises(ValueError, match="flip"):
        EvaluationConfig(flip="yes")


def test_the_shipped_ensemble_is_its_two_shipped_members():
    name = "anatomy_medium_ensemble"
    assert name in PRETRAINED_ENSEMBLES and name in SHIPPED_NAMES
    assert set(SHIPPED_NAMES) == set(PRETRAINED) | set(PRETRAINED_ENSEMBLES)
    # the default is one model again (session 23), and the pair stays available by name
    assert DEFAULT_MODEL == "anatomy_medium" and DEFAULT_MODEL in PRETRAINED
    assert isinstance(load_pretrained(), AnatomyModel)
    ensemble = load_pretrained(name)
    assert isinstance(ensemble, PredictionEnsemble) and not ensemble.training
    assert ensemble.config.members == PRETRAINED_ENSEMBLES[name]
    for member, member_name in zip(ensemble.members, ensemble.config.members, strict=True):
        alone = load_pretrained(member_name).state_dict()
        assert all(torch.equal(v, alone[k]) for k, v in member.state_dict().items())
    assert not ensemble.config.causal
    with pytest.raises(KeyError, match="no file of its own"):
        pretrained_path(name)
    assert resolve_model(name).config.members == ensemble.config.members
    with pytest.raises(ValueError, match="causal=True but the model is non-causal"):
        resolve_model(name, causal=True)
    assert resolve_model(DEFAULT_CAUSAL_MODEL, causal=True).config.causal


def test_names_joined_by_plus_are_an_ensemble_of_those_models(tmp_path):
    from anatomy_lib.models.checkpoints import save_model

    joined = resolve_model("anatomy_medium+anatomy_medium_causal")
    assert isinstance(joined, PredictionEnsemble) and not joined.training
    assert joined.config.members == ("anatomy_medium", "anatomy_medium_causal")
    from anatomy_lib.ray_frame import assumed_intrinsics

    kp, sc = _video(30)
    kp, sc, camera = kp.float(), sc.float(), assumed_intrinsics(1920, 1080)
    shipped = load_pretrained("anatomy_medium_ensemble")
    assert torch.equal(
        predict_sequence(joined, kp, sc, intrinsics=camera),
        predict_sequence(shipped, kp, sc, intrinsics=camera),
    )
    # Files and run folders join too; a file whose own name has a "+" is that file.
    save_model(_tiny(0).float(), tmp_path / "a.pt")
    save_model(_tiny(1, causal=True).float(), tmp_path / "b+c.pt")
    pair = resolve_model(f"{tmp_path / 'a.pt'}+anatomy_small")
    assert pair.config.members == (str(tmp_path / "a.pt"), "anatomy_small")
    assert isinstance(resolve_model(tmp_path / "b+c.pt"), AnatomyModel)
    assert resolve_model(str(tmp_path / "b+c.pt"), causal=True).config.causal


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("anatomy_small+", ValueError, "got an empty name"),
        ("+anatomy_small", ValueError, "got an empty name"),
        ("anatomy_small++anatomy_small", ValueError, "got an empty name"),
        ("anatomy_medium_ensemble+anatomy_small", ValueError, "is itself an ensemble"),
        ("anatomy_small+no_such_model", FileNotFoundError, "'no_such_model'"),
    ],
)
def test_bad_joined_names_are_refused(spec, error, message):
    with pytest.raises(error, match=message):
        resolve_model(spec)
    with pytest.raises(ValueError, match="causal=True but the model is non-causal"):
        resolve_model("anatomy_small+anatomy_small_causal", causal=True)


def test_members_side_by_side_in_threads_give_the_same_numbers(monkeypatch):
    """With idle cores the members run in worker threads (under the caller's kernel choice);
    without, one after the other: the same predictions, bit for bit."""
    import threading

    from anatomy_lib.models import ensemble as ensemble_module
    from anatomy_lib.models.inference_plan import portable_kernel, portable_kernel_forced

    members = [_tiny(0), _tiny(1, causal=True)]
    ensemble = PredictionEnsemble(members)
    kp, sc = _video(50)

    def where(_member):
        return threading.current_thread().name, portable_kernel_forced()

    monkeypatch.setattr(ensemble_module, "available_cores", lambda: 1)
    alone = predict_sequence(ensemble, kp, sc)
    assert [name for name, _ in ensemble_module.map_members(where, members)] == [
        threading.current_thread().name
    ] * 2
    monkeypatch.setattr(ensemble_module, "available_cores", lambda: 64)
    side_by_side = predict_sequence(ensemble, kp, sc)
    assert torch.equal(alone, side_by_side)
    with portable_kernel():
        first, second = ensemble_module.map_members(where, members)
    assert first == (threading.current_thread().name, True)
    assert second[0].startswith("anatomy3d-member") and second[1] is True

    def fails_on_the_second(member):
        if member is members[1]:
            raise RuntimeError("member failed")
        return 0

    with pytest.raises(RuntimeError, match="member failed"):
        ensemble_module.map_members(fails_on_the_second, members)
