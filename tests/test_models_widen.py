"""models.widen: a wider network that computes the same function (Net2WiderNet)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from anatomy_lib.models import (
    AnatomyModel,
    BaselineConfig,
    ModelConfig,
    TemporalConvNet,
    lift_video,
)
from anatomy_lib.models.widen import channel_copies, widen_model


def _randomised(model: nn.Module, seed: int = 0) -> nn.Module:
    """``model`` with non-trivial BatchNorm statistics and affine parameters (fresh ones
    are 0 / 1, which would hide a wrongly gathered statistic)."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            module.running_var.copy_(0.5 + torch.rand(n, generator=g))
            module.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            module.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
    return model


def _anatomy(visibility: str = "attention", causal: bool = False) -> AnatomyModel:
    config = ModelConfig.preset("tiny", visibility=visibility, causal=causal)
    torch.manual_seed(1)
    return _randomised(AnatomyModel(config))


def _inputs(config, dtype, device, n: int = 3, sampled: int = 8):
    g = torch.Generator().manual_seed(2)
    t, j = config.receptive_field, 17
    keypoints = torch.randn(n, t, j, 2, generator=g, dtype=torch.float64) * 0.3
    scores = torch.rand(n, t, j, generator=g, dtype=torch.float64)
    frames = torch.randn(n, sampled, j, 2, generator=g, dtype=torch.float64) * 0.3
    return [x.to(device, dtype) for x in (keypoints, scores, frames)]


@pytest.mark.parametrize("split", ["random", "even"])
@pytest.mark.parametrize("visibility", ["attention", "fusion", "none"])
def test_wide_anatomy_model_computes_the_same_function(visibility, split, dtype, device):
    model = _anatomy(visibility).to(device, dtype).eval()
    wide = widen_model(model, 27, split=split)
    assert wide.config.channels == 27 and wide.training is False
    assert next(wide.parameters()).dtype == dtype
    assert next(wide.parameters()).device.type == device.type
    keypoints, scores, frames = _inputs(model.config, dtype, device)
    with torch.no_grad():
        old = model(keypoints, scores, frames)
        new = wide(keypoints, scores, frames)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    for name in ("joints", "directions", "lengths", "attention"):
        torch.testing.assert_close(getattr(new, name), getattr(old, name), atol=tol, rtol=0)


def test_wide_model_lifts_whole_videos_as_the_narrow_one():
    model = _anatomy(causal=True).double().eval()
    wide = widen_model(model, 40)
    g = torch.Generator().manual_seed(3)
    keypoints = torch.randn(30, 17, 2, generator=g, dtype=torch.float64) * 0.3
    scores = torch.rand(30, 17, generator=g, dtype=torch.float64)
    old = lift_video(model, keypoints, scores, length_frames=6, seed=4).joints
    new = lift_video(wide, keypoints, scores, length_frames=6, seed=4).joints
    torch.testing.assert_close(new, old, atol=1e-12, rtol=0)


def test_wide_baseline_computes_the_same_function():
    torch.manual_seed(5)
    net = _randomised(TemporalConvNet(BaselineConfig.preset("tiny"))).double().eval()
    wide = widen_model(net, 3 * net.config.channels)
    keypoints, scores, _ = _inputs(net.config, torch.float64, torch.device("cpu"))
    with torch.no_grad():
        torch.testing.assert_close(wide(keypoints, scores), net(keypoints, scores))


def test_same_width_is_the_same_weights():
    model = _anatomy()
    same = widen_model(model, model.config.channels)
    for (key, a), b in zip(model.state_dict().items(), same.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_copies_start_with_the_identity_and_draw_old_channels():
    copies = channel_copies(16, 40, torch.Generator().manual_seed(0))
    assert copies.shape == (40,)
    assert torch.equal(copies[:16], torch.arange(16))
    assert int(copies.min()) >= 0 and int(copies.max()) < 16


def test_readers_share_each_old_channel_over_its_copies():
    """The weights a layer reads a channel with sum, over its copies, to the old weight."""
    model = _anatomy()
    wide = widen_model(model, 40)
    copies = channel_copies(16, 40, torch.Generator().manual_seed(0))  # the default draw
    old = model.length.blocks[0].linears[1].weight  # reads 16 channels, writes 16
    new = wide.length.blocks[0].linears[1].weight
    summed = torch.zeros(40, 16).index_add_(1, copies, new)  # (40 rows, sum over copies)
    torch.testing.assert_close(summed, old[copies])


def _copy_gradients_differ(split: str) -> bool:
    """Train-mode gradient of the length network's input rows of channel 0 and its copy."""
    model = _anatomy()
    wide = widen_model(model, 40, split=split, generator=torch.Generator().manual_seed(0))
    copies = channel_copies(16, 40, torch.Generator().manual_seed(0))
    twin = 16 + int(torch.nonzero(copies[16:] == copies[16]).flatten()[0])
    channel = int(copies[16])
    keypoints, scores, frames = _inputs(model.config, torch.float32, torch.device("cpu"), n=8)
    wide.train()
    wide(keypoints, scores, frames).sampled_joints.square().sum().backward()
    grad = wide.length.input.weight.grad
    return not torch.allclose(grad[channel], grad[twin], atol=1e-7, rtol=1e-5)


def test_random_shares_give_the_copies_different_gradients():
    """Even shares leave a channel and its copy with equal gradients (they would stay
    copies: no new capacity); random shares do not."""
    assert not _copy_gradients_differ("even")
    assert _copy_gradients_differ("random")


def test_refusals():
    model = _anatomy()
    with pytest.raises(ValueError, match="new channels"):
        widen_model(model, 8)
    with pytest.raises(ValueError, match="split"):
        widen_model(model, 32, split="noisy")


def test_widen_script_writes_the_same_function_and_refuses_what_it_cannot_widen(tmp_path, capsys):
    from conftest import load_benchmark

    from anatomy_lib.models.checkpoints import load_model, save_model

    script = load_benchmark("widen_model", "scripts")
    source = tmp_path / "narrow.pt"
    save_model(_anatomy().eval(), source)
    out = tmp_path / "wide.pt"
    assert script.main([str(source), "--channels", "24", "--out", str(out)]) == 0
    wide = load_model(out)
    assert wide.config.channels == 24
    narrow = load_model(source)
    assert script.largest_difference(narrow, wide) < 1e-5
    again = tmp_path / "again.pt"
    script.main([str(source), "--channels", "24", "--out", str(again)])
    repeated = load_model(again).state_dict()
    for key, value in wide.state_dict().items():
        assert torch.equal(value, repeated[key]), key  # the same seed, the same draws
    other = tmp_path / "other.pt"
    script.main([str(source), "--channels", "24", "--seed", "1", "--out", str(other)])
    assert not torch.equal(wide.length.input.weight, load_model(other).length.input.weight)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(source), "--channels", "8", "--out", str(tmp_path / "x.pt")])
    assert exit_info.value.code == 2
    assert "got 16 -> 8" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_an_ensemble_is_refused():
    from anatomy_lib.models.ensemble import PredictionEnsemble

    ensemble = PredictionEnsemble([_anatomy(), _anatomy()])
    with pytest.raises(ValueError, match="PredictionEnsemble"):
        widen_model(ensemble, 32)


def test_widen_script_refuses_a_result_that_is_not_the_same_function(tmp_path, capsys, monkeypatch):
    from conftest import load_benchmark

    from anatomy_lib.models.checkpoints import save_model

    script = load_benchmark("widen_model", "scripts")
    source = tmp_path / "narrow.pt"
    save_model(_anatomy().eval(), source)

    def broken(model, channels, split, generator):
        wide = widen_model(model, channels, split, generator)
        with torch.no_grad():
            wide.direction.stages[-1].head.bias.add_(0.1)  # turns every bone
        return wide

    monkeypatch.setattr(script, "widen_model", broken)
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(source), "--channels", "24", "--out", str(tmp_path / "w.pt")])
    assert exit_info.value.code == 2
    assert "differ from the source's" in capsys.readouterr().err
    assert not (tmp_path / "w.pt").exists()
