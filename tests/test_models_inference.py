"""Whole-video inference equals the window form, for every variant; chunking, seeds, errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import TINY_TREE
from test_models_networks import randomise_batchnorm

from anatomy_lib.models import AnatomyModel, BaselineConfig, ModelConfig, TemporalConvNet
from anatomy_lib.models.inference import (
    InferencePlan,
    ShortVideoWarning,
    lift_video,
    lift_video_baseline,
    pad_edges,
    sample_length_frames,
)

TINY = ModelConfig.preset("tiny", channels=8)
VARIANTS = {
    "baseline_K1": TINY.replace(num_direction_stages=1),
    "K2": TINY,
    "K2_no_skip": TINY.replace(long_skip=False),
    "baseline_D": TINY.baseline_d(),
    "K3": TINY.replace(num_direction_stages=3, filter_widths=(3, 3, 3)),
    "fusion": TINY.replace(visibility="fusion"),
    "no_visibility": TINY.replace(visibility="none"),
    "causal": TINY.replace(causal=True),
    "widths_3_5": TINY.replace(filter_widths=(3, 5)),
    "widths_1_3": TINY.replace(filter_widths=(1, 3)),
    "widths_5_1_3_causal_exact_mean": TINY.replace(
        filter_widths=(5, 1, 3), causal=True, joint_head="exact", length_attention="mean"
    ),
    "tiny_tree_abs": TINY.replace(skeleton=TINY_TREE, attention_features="joints_abs"),
    "person_input": TINY.replace(input_normalization="person"),
}


def make(cfg: ModelConfig, seed: int = 0) -> AnatomyModel:
    torch.manual_seed(seed)
    model = AnatomyModel(cfg)
    randomise_batchnorm(model, seed)
    return model.eval()


def video(cfg: ModelConfig, t: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    j = cfg.skeleton_tree.num_joints
    return torch.randn(t, j, 2, generator=g), torch.rand(t, j, generator=g)


def window_form(model, kp, sc, sampled_index):
    """The training form applied window by window (the reference)."""
    cfg = model.config
    rf = cfg.receptive_field
    padded, padded_sc = pad_edges(kp, rf, cfg.causal), pad_edges(sc, rf, cfg.causal)
    outs = []
    with torch.no_grad():
        for t in range(kp.shape[0]):
            outs.append(
                model(
                    padded[None, t : t + rf],
                    padded_sc[None, t : t + rf],
                    kp[sampled_index(t)][None],
                )
            )
    return (
        torch.cat([o.joints for o in outs]),
        torch.cat([o.directions for o in outs]),
        torch.cat([o.lengths for o in outs]),
    )


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("length_frames", ["all", 4])
def test_lift_video_equals_window_form(name, length_frames):
    cfg = VARIANTS[name]
    model = make(cfg)
    t = cfg.receptive_field + 4
    kp, sc = video(cfg, t)
    res = lift_video(model, kp, sc, length_frames=length_frames, seed=7, chunk_size=5)
    if length_frames == "all":

        def pick(i):
            return slice(0, i + 1) if cfg.causal else slice(None)
    else:
        idx = sample_length_frames(t, length_frames, cfg.causal, seed=7)

        def pick(i):
            return idx[i]

    joints, dirs, lengths = window_form(model, kp, sc, pick)
    torch.testing.assert_close(res.joints, joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(res.directions, dirs, atol=1e-5, rtol=0)
    torch.testing.assert_close(res.lengths, lengths, atol=1e-5, rtol=0)


def test_chunking_does_not_change_results_and_mode_restored():
    cfg = VARIANTS["K3"]
    model = make(cfg).train()
    kp, sc = video(cfg, 40)
    a = lift_video(model, kp, sc, length_frames=6, seed=3, chunk_size=7)
    b = lift_video(model, kp, sc, length_frames=6, seed=3, chunk_size=1000)
    torch.testing.assert_close(a.joints, b.joints, atol=1e-6, rtol=0)
    assert model.training


def test_seed_determinism_and_causal_sampling_uses_only_the_past():
    idx = sample_length_frames(50, 10, causal=True, seed=5)
    assert torch.equal(idx, sample_length_frames(50, 10, causal=True, seed=5))
    assert not torch.equal(idx, sample_length_frames(50, 10, causal=True, seed=6))
    assert bool((idx <= torch.arange(50).unsqueeze(1)).all()) and int(idx.min()) >= 0
    free = sample_length_frames(50, 10, causal=False, seed=5)
    assert int(free.max()) <= 49 and int(free[:5].max()) > 4


def test_causal_prediction_ignores_the_future():
    cfg = VARIANTS["causal"]
    model = make(cfg)
    kp, sc = video(cfg, 30)
    a = lift_video(model, kp, sc, length_frames=5, seed=1)
    kp2 = kp.clone()
    kp2[20:] += 0.5
    b = lift_video(model, kp2, sc, length_frames=5, seed=1)
    torch.testing.assert_close(a.joints[:20], b.joints[:20])
    assert not torch.allclose(a.joints[20:], b.joints[20:])


def test_all_frames_attention_weights_sum_to_one():
    cfg = VARIANTS["K2"]
    res = lift_video(make(cfg), *video(cfg, 12))
    torch.testing.assert_close(res.attention.sum(0), torch.ones(cfg.skeleton_tree.num_bones))
    torch.testing.assert_close(
        res.lengths, (res.attention * res.frame_lengths).sum(0).expand(12, -1)
    )


def test_short_video_is_edge_padded():
    cfg = TINY.replace(filter_widths=(3, 3, 3))
    model = make(cfg)
    kp, sc = video(cfg, 2)
    with pytest.warns(ShortVideoWarning, match="2 frames, fewer than the model's receptive field"):
        res = lift_video(model, kp, sc)
    joints, _, _ = window_form(model, kp, sc, lambda t: slice(None))
    assert res.joints.shape == (2, 17, 3)
    torch.testing.assert_close(res.joints, joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        pad_edges(torch.arange(2.0), 5, causal=False), torch.tensor([0.0, 0, 0, 1, 1, 1])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortVideoWarning)  # a long enough video says nothing
        lift_video(model, *video(cfg, cfg.receptive_field))
    base = TemporalConvNet(cfg.baseline()).eval()
    with pytest.warns(ShortVideoWarning, match="receptive field"):
        lift_video_baseline(base, kp)
    torch.testing.assert_close(
        pad_edges(torch.arange(2.0), 5, causal=True), torch.tensor([0.0, 0, 0, 0, 0, 1])
    )


@pytest.mark.parametrize("name", ["K2", "K3", "causal"])
def test_bf16_path_close_to_float32(name):
    """bf16 weights and activations (fp32 accumulation inside each product): every layer
    rounds to 8 mantissa bits, so joints may move by a few % of their size; tolerance 0.05
    absolute (the joints here are O(1)) and 5 % relative."""
    cfg = VARIANTS[name]
    model = make(cfg)
    kp, sc = video(cfg, 20)
    ref = lift_video(model, kp, sc)
    low = lift_video(model, kp, sc, dtype=torch.bfloat16)
    assert low.joints.dtype == torch.float32 and low.directions.dtype == torch.float32
    torch.testing.assert_close(low.joints, ref.joints, atol=0.05, rtol=0.05)
    torch.testing.assert_close(low.directions.norm(dim=-1), torch.ones(20, 16))
    assert not torch.equal(low.joints, ref.joints)  # it really ran in bf16


def test_plan_folds_batchnorm_and_is_rebuilt_when_weights_change():
    """The folded plan equals the unfolded window form, before and after an in-place
    change of weights and BatchNorm statistics (the cached plan must be rebuilt)."""
    cfg = VARIANTS["K2"]
    model = make(cfg)
    kp, sc = video(cfg, cfg.receptive_field + 3)
    first = lift_video(model, kp, sc)
    plan = InferencePlan.build(model, torch.float32)
    assert plan.expand.weight.shape == (cfg.channels, cfg.filter_widths[0] * 2 * 17)
    with torch.no_grad():
        model.direction.stages[1].stack.blocks[0].pointwise.bn.running_var.mul_(3.0)
        model.direction.stages[0].expand.conv.weight.add_(0.1)
        model.length.input.weight.mul_(1.5)
    second = lift_video(model, kp, sc)
    assert not torch.allclose(first.joints, second.joints)
    joints, dirs, lengths = window_form(model, kp, sc, lambda t: slice(None))
    torch.testing.assert_close(second.joints, joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(second.directions, dirs, atol=1e-5, rtol=0)
    torch.testing.assert_close(second.lengths, lengths, atol=1e-5, rtol=0)


def test_float64_model_uses_the_unfused_path():
    cfg = VARIANTS["K2"]
    model = make(cfg).double()
    kp, sc = video(cfg, cfg.receptive_field + 2)
    res = lift_video(model, kp.double(), sc.double())
    joints, _, _ = window_form(model, kp.double(), sc.double(), lambda t: slice(None))
    assert res.joints.dtype == torch.float64
    torch.testing.assert_close(res.joints, joints, atol=1e-10, rtol=0)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("normalization", ["screen", "person"])
def test_baseline_whole_video_equals_windows(causal, normalization):
    cfg = BaselineConfig(
        filter_widths=(3, 5), channels=8, causal=causal, input_normalization=normalization
    )
    net = TemporalConvNet(cfg)
    randomise_batchnorm(net)
    net.eval()
    kp = torch.randn(11, 17, 2)
    out = lift_video_baseline(net, kp, chunk_size=4)
    padded = pad_edges(kp, 15, causal)
    with torch.no_grad():
        ref = torch.cat([net(padded[None, t : t + 15]) for t in range(11)])
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_bad_arguments_raise():
    cfg = VARIANTS["K2"]
    model = make(cfg)
    kp, sc = video(cfg, 12)
    with pytest.raises(ValueError, match="causal=True but the model"):
        lift_video(model, kp, sc, causal=True)
    with pytest.raises(ValueError, match="length_frames"):
        lift_video(model, kp, sc, length_frames=0)
    with pytest.raises(ValueError, match="chunk_size"):
        lift_video(model, kp, sc, chunk_size=0)
    with pytest.raises(ValueError, match=r"\(T, J, 2\)"):
        lift_video(model, kp[None], sc[None])
    with pytest.raises(ValueError, match="scores"):
        lift_video(model, kp, None)
    with pytest.raises(TypeError, match="AnatomyModel"):
        lift_video(TemporalConvNet(cfg.baseline()), kp, sc)
