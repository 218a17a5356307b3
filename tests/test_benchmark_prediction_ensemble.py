"""``benchmarks/prediction_ensemble.py``: each model and the mean of their predictions."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark, random_poses

from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset, score_predictions
from anatomy_lib.models import AnatomyModel, ModelConfig
from anatomy_lib.skeleton import H36M_17


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("prediction_ensemble")


def _videos() -> list[PoseSequence]:
    out = []
    for i, frames in enumerate((30, 45)):
        g = torch.Generator().manual_seed(i)
        out.append(
            PoseSequence(
                subject="S",
                action=f"Walk {i}",
                skeleton=H36M_17,
                fps=50.0,
                keypoints_2d=0.3 * torch.randn(frames, 17, 2, generator=g, dtype=torch.float64),
                scores=torch.rand(frames, 17, generator=g, dtype=torch.float64),
                joints_3d=random_poses(batch=(frames,), seed=i)
                + torch.tensor([0, 0, 5.0]).double(),
                image_size=(1000, 1000),
            )  # fmt: skip
        )
    return out


def test_mean_row_scores_the_mean_of_the_members_flipped_predictions(bench):
    """Two implementations: the report's ensemble row against averaging each model's kept
    predictions by hand; and the members' rows are each model alone with the mirror pass."""
    models = {}
    for seed, causal in ((0, False), (1, True)):
        torch.manual_seed(seed)
        models[f"m{seed}"] = AnatomyModel(ModelConfig.preset("tiny", causal=causal)).double().eval()
    data = _videos()
    report = bench.ensemble_report(models, {"fixed": data})["fixed"]
    flip = EvaluationConfig(flip=True)
    kept = [
        evaluate_dataset(m, data, flip, progress=False, keep_predictions=True)
        for m in models.values()
    ]
    for name, result in zip(models, kept, strict=True):
        assert report["models"][name] == {p: round(result.averages[p], 2) for p in ("p1", "p2")}
    by_hand = [(a + b) / 2 for a, b in zip(kept[0].predictions, kept[1].predictions, strict=True)]
    mean = score_predictions(data, by_hand).averages
    assert report["mean_of_predictions"] == {p: round(mean[p], 2) for p in ("p1", "p2")}
    assert report["mean_of_predictions"] != report["models"]["m0"]


def test_needs_two_models(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--model", "anatomy_small"])
    assert "two or more models" in capsys.readouterr().err
