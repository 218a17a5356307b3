"""WeightAverage: the exponential moving average of a model's weights (optim.ema_decay)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from anatomy_lib.models import AnatomyModel, ModelConfig
from anatomy_lib.models.inference import lift_video
from anatomy_lib.training.weight_average import WeightAverage, average_models


def _net(dtype: torch.dtype, device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to(device, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_average_is_the_recursion_over_the_trained_weights(dtype, device):
    net, decay = _net(dtype, device), 0.75
    average = WeightAverage(net, decay)
    expected = None
    for step in range(4):
        with torch.no_grad():  # a "training step": new weights and BatchNorm statistics
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net.train()(torch.randn(8, 3, dtype=dtype, device=device))
        average.update(net)
        now = {k: v.clone() for k, v in net.state_dict().items()}
        if expected is None:
            expected = now
        else:
            for k, v in now.items():
                expected[k] = decay * expected[k] + (1 - decay) * v if v.is_floating_point() else v
        got = average.module.state_dict()
        for k, v in expected.items():
            torch.testing.assert_close(got[k], v, msg=k)
        assert got["1.num_batches_tracked"].item() == step + 1  # an integer buffer is copied
    assert average.updates == 4
    assert not average.module.training
    assert not any(p.requires_grad for p in average.module.parameters())
    assert all(p.requires_grad for p in net.parameters())  # the trained model is untouched


def test_the_average_is_a_copy_that_moves_only_on_update(device):
    net = _net(torch.float32, device)
    average = WeightAverage(net, 0.9)
    average.update(net)
    before = {k: v.clone() for k, v in average.module.state_dict().items()}
    with torch.no_grad():
        net[0].weight.add_(1.0)
    for k, v in average.module.state_dict().items():
        assert torch.equal(v, before[k]), k
    average.update(net)
    torch.testing.assert_close(average.module[0].weight, before["0.weight"] + 0.1)


@pytest.mark.parametrize("decay", [0, 1, -0.5, 1.5, float("nan")])
def test_decay_outside_the_open_unit_interval_is_refused(decay):
    with pytest.raises(ValueError, match=r"decay: expected a number in \(0, 1\)"):
        WeightAverage(nn.Linear(2, 2), decay)


def test_update_from_another_network_is_refused():
    average = WeightAverage(nn.Linear(2, 2), 0.9)
    with pytest.raises(ValueError, match="differ from the average's"):
        average.update(nn.Linear(2, 3, bias=False))


def test_the_averaged_model_lifts_with_its_current_weights():
    """The average changes in place while in eval mode: a lifting plan cached before an
    update must not be used after it (the lift equals that of a fresh copy)."""
    torch.manual_seed(0)
    net = AnatomyModel(ModelConfig.preset("tiny", channels=8))
    average = WeightAverage(net, 0.5)
    average.update(net)
    g = torch.Generator().manual_seed(1)
    joints = net.config.skeleton_tree.num_joints
    keypoints, scores = torch.randn(40, joints, 2, generator=g), torch.rand(40, joints, generator=g)
    before = lift_video(average.module, keypoints, scores).joints  # builds and caches a plan
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    average.update(net)
    after = lift_video(average.module, keypoints, scores).joints
    fresh = lift_video(copy.deepcopy(average.module), keypoints, scores).joints
    torch.testing.assert_close(after, fresh)
    assert not torch.allclose(after, before)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_average_of_models_is_the_mean_of_each_weight(dtype, device):
    nets = []
    for seed in range(3):
        net = _net(dtype, device)
        torch.manual_seed(seed)
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net.train()(torch.randn(8, 3, dtype=dtype, device=device))  # BatchNorm statistics
        nets.append(net)
    nets[1][1].num_batches_tracked += 5  # integer buffers: the first model's
    mean = average_models(nets)
    assert not mean.training
    states = [n.state_dict() for n in nets]
    for key, value in mean.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(s[key] for s in states) / 3, msg=key)
        else:
            assert torch.equal(value, states[0][key])
    for key, value in average_models([nets[2]]).state_dict().items():  # one model: itself
        assert torch.equal(value, states[2][key])
    assert nets[0][0].weight.data_ptr() != mean[0].weight.data_ptr()  # a copy


def test_average_of_models_refuses_different_networks():
    with pytest.raises(ValueError, match="at least one model"):
        average_models([])
    small = _net(torch.float32, torch.device("cpu"))
    wider = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5))
    other = nn.Sequential(nn.Linear(3, 4))
    for bad in (wider, other):
        with pytest.raises(ValueError, match="model 1's parameters and buffers differ"):
            average_models([small, bad])
