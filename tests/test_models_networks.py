"""Networks: shapes, window vs sequence form, gradient flow, attention, bad input."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY_TREE

from anatomy_lib.models import AnatomyModel, BaselineConfig, ModelConfig, TemporalConvNet
from anatomy_lib.skeleton import H36M_17


def randomise_batchnorm(model: torch.nn.Module, seed: int = 0) -> None:
    """Non-trivial running statistics, so eval-mode tests exercise them."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=g))


def inputs(
    cfg: ModelConfig, n=3, frames=None, sampled=5, dtype=torch.float32, device="cpu", seed=0
):
    g = torch.Generator().manual_seed(seed)
    j = cfg.skeleton_tree.num_joints
    t = cfg.receptive_field if frames is None else frames
    kp = torch.randn(n, t, j, 2, generator=g, dtype=dtype).to(device)
    sc = torch.rand(n, t, j, generator=g, dtype=dtype).to(device)
    sampled_2d = torch.randn(n, sampled, j, 2, generator=g, dtype=dtype).to(device)
    return kp, sc, sampled_2d


@pytest.mark.parametrize("skeleton", [H36M_17, TINY_TREE], ids=["h36m", "tiny_tree"])
@pytest.mark.parametrize("visibility", ["attention", "fusion", "none"])
def test_output_shapes_and_units(skeleton, visibility, dtype, device):
    cfg = ModelConfig.preset(
        "tiny", skeleton=skeleton, visibility=visibility, num_direction_stages=3
    )
    model = AnatomyModel(cfg).to(device=device, dtype=dtype)
    kp, sc, sampled = inputs(cfg, dtype=dtype, device=device)
    out = model(kp, sc, sampled)
    j, b, p = skeleton.num_joints, skeleton.num_bones, len(skeleton.non_bone_pairs)
    assert out.joints.shape == (3, j, 3) and out.directions.shape == (3, b, 3)
    assert len(out.stage_directions) == 3 and len(out.stage_joint_shifts) == 3
    assert all(s.shape == (3, p, 3) for s in out.stage_joint_shifts)
    assert out.lengths.shape == (3, b) and out.sampled_joints.shape == (3, 5, j, 3)
    assert out.sampled_lengths.shape == (3, 5, b) and out.attention.shape == (3, 5, b)
    norms = torch.cat(out.stage_directions).norm(dim=-1)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    torch.testing.assert_close(out.attention.sum(1), torch.ones(3, b, dtype=dtype, device=device))
    assert torch.equal(out.directions, out.stage_directions[-1])
    assert out.joints.dtype == dtype and out.joints.device.type == torch.device(device).type


def test_lengths_are_attention_weighted_frame_lengths():
    cfg = ModelConfig.preset("tiny")
    out = AnatomyModel(cfg).eval()(*inputs(cfg))
    torch.testing.assert_close(out.lengths, (out.attention * out.sampled_lengths).sum(1))
    from anatomy_lib.bones import joints_to_bones

    torch.testing.assert_close(
        out.sampled_lengths, joints_to_bones(out.sampled_joints, H36M_17).lengths
    )


def test_mean_attention_is_uniform():
    cfg = ModelConfig.preset("tiny", length_attention="mean")
    out = AnatomyModel(cfg)(*inputs(cfg))
    torch.testing.assert_close(out.attention, torch.full_like(out.attention, 1 / 5))


@pytest.mark.parametrize("features", ["joints", "joints_abs"])
def test_attention_matches_eq6_by_hand(features):
    cfg = ModelConfig.preset("tiny", attention_features=features)
    model = AnatomyModel(cfg).eval()
    out = model(*inputs(cfg))
    x = out.sampled_joints.flatten(-2)
    if features == "joints_abs":
        x = torch.cat([x, x.abs()], -1)
    logits = 10.0 * (x @ model.length.attention.weight.T + model.length.attention.bias)
    torch.testing.assert_close(out.attention, torch.softmax(logits, dim=1))


@pytest.mark.parametrize("widths", [(3, 3), (3, 5), (1, 3), (5, 1, 3)])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("fusion", [False, True])
def test_temporal_convnet_window_equals_sequence_form(widths, causal, fusion):
    cfg = BaselineConfig(
        filter_widths=widths, channels=12, causal=causal, visibility="fusion" if fusion else "none"
    )
    net = TemporalConvNet(cfg)
    randomise_batchnorm(net)
    net.eval()
    rf, t = cfg.receptive_field, cfg.receptive_field + 6
    kp, sc = torch.randn(2, t, 17, 2), torch.rand(2, t, 17)
    seq = net.forward_sequence(kp, sc if fusion else None)
    assert seq.shape == (2, 7, 17, 3)
    windows = torch.stack(
        [net(kp[:, i : i + rf], sc[:, i : i + rf] if fusion else None) for i in range(7)], dim=1
    )
    torch.testing.assert_close(seq, windows, atol=1e-5, rtol=0)


def test_temporal_convnet_causal_output_is_last_frame():
    """Causal: changing the frames after the last one of the window changes nothing, and
    the first output only depends on the first window."""
    net = TemporalConvNet(BaselineConfig(filter_widths=(3, 3), channels=8, causal=True)).eval()
    kp = torch.randn(1, 12, 17, 2)
    a = net.forward_sequence(kp)
    kp2 = kp.clone()
    kp2[:, 10:] += 1.0
    b = net.forward_sequence(kp2)
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def _grad_norms(loss, params):
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [0.0 if g is None else float(g.abs().sum()) for g in grads]


def test_gradient_flow_blocked_between_stages_and_into_heads():
    cfg = ModelConfig.preset("tiny", num_direction_stages=2)
    model = AnatomyModel(cfg).train()
    out = model(*inputs(cfg))
    stage0 = list(model.direction.stages[0].parameters())
    stage1 = list(model.direction.stages[1].parameters())
    length_net = [p for n, p in model.length.named_parameters() if not n.startswith("attention")]
    # Top direction loss reaches stage 2 only (gradients blocked between sub-networks).
    top = out.directions.sum()
    assert sum(_grad_norms(top, stage0)) == 0 and sum(_grad_norms(top, stage1)) > 0
    # Joint shift loss of stage 2: direction net stage 2 + its head, not the length net.
    js = out.stage_joint_shifts[1].pow(2).sum()
    assert sum(_grad_norms(js, length_net)) == 0 and sum(_grad_norms(js, stage1)) > 0
    # Final joints: only the joints head.
    jl = out.joints.pow(2).sum()
    assert sum(_grad_norms(jl, stage0 + stage1 + list(model.length.parameters()))) == 0
    assert sum(_grad_norms(jl, list(model.heads.joints_head.parameters()))) > 0
    # Length loss: only the attention layer; joint loss: only the FC length network.
    ll = out.lengths.sum()
    assert sum(_grad_norms(ll, length_net)) == 0
    assert sum(_grad_norms(ll, list(model.length.attention.parameters()))) > 0
    jn = out.sampled_joints.pow(2).sum()
    assert sum(_grad_norms(jn, list(model.length.attention.parameters()))) == 0


def test_baseline_d_lets_gradients_through():
    cfg = ModelConfig.preset("tiny").baseline_d()
    model = AnatomyModel(cfg).train()
    out = model(*inputs(cfg))
    assert sum(_grad_norms(out.directions.sum(), list(model.direction.stages[0].parameters()))) > 0
    # No long skips: stage-2 block convs read C channels only.
    assert model.direction.stages[1].stack.blocks[0].temporal.conv.weight.shape[1] == cfg.channels


def test_exact_head_is_eq1():
    from anatomy_lib.bones import bones_to_joints, joint_shifts_from_bones

    cfg = ModelConfig.preset("tiny", joint_head="exact", skeleton=TINY_TREE)
    out = AnatomyModel(cfg).eval()(*inputs(cfg))
    torch.testing.assert_close(out.joints, bones_to_joints(out.lengths, out.directions, TINY_TREE))
    torch.testing.assert_close(
        out.stage_joint_shifts[0],
        joint_shifts_from_bones(out.lengths, out.stage_directions[0], TINY_TREE),
    )


def test_gradcheck_float64():
    cfg = ModelConfig.preset("tiny", channels=4, dropout=0.0)
    model = AnatomyModel(cfg).double().eval()
    kp, sc, sampled = inputs(cfg, n=1, sampled=3, dtype=torch.float64)
    kp.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: model(x, sc, sampled).stage_directions[0], (kp,))


def test_bn_momentum_setter():
    model = AnatomyModel(ModelConfig.preset("tiny"))
    model.set_bn_momentum(0.01)
    assert all(m.momentum == 0.01 for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d))


def test_bad_inputs_raise():
    cfg = ModelConfig.preset("tiny")
    model = AnatomyModel(cfg)
    kp, sc, sampled = inputs(cfg)
    with pytest.raises(ValueError, match="exactly 9 frames"):
        model(kp[:, :8], sc[:, :8], sampled)
    with pytest.raises(ValueError, match="17 joints"):
        model(kp[:, :, :16], sc, sampled)
    with pytest.raises(ValueError, match="scores: this model uses visibility"):
        model(kp, None, sampled)
    with pytest.raises(ValueError, match="scores: expected shape"):
        model(kp, sc[:, :, :5], sampled)
    bad = kp.clone()
    bad[0, 3, 2, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(bad, sc, sampled)
    with pytest.raises(ValueError, match="batch size"):
        model(kp, sc, sampled[:1])
    with pytest.raises(ValueError, match=r"\(N, T, J, 2\)"):
        model(kp[0], sc[0], sampled)
    with pytest.raises(TypeError, match="ModelConfig"):
        AnatomyModel(cfg.baseline())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("amp", [torch.bfloat16, torch.float16])
def test_cuda_autocast_close_to_float32(amp):
    cfg = ModelConfig.preset("tiny")
    model = AnatomyModel(cfg).cuda().eval()
    args = inputs(cfg, device="cuda")
    ref = model(*args).joints
    with torch.autocast("cuda", dtype=amp):
        low = model(*args).joints
    torch.testing.assert_close(low.float(), ref, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_window_conv_equals_strided_conv1d(width, dtype, device):
    from anatomy_lib.models.temporal import window_conv

    g = torch.Generator().manual_seed(width)
    x = torch.randn(3, 4, width * 4, generator=g, dtype=dtype).to(device)
    w = torch.randn(6, 4, width, generator=g, dtype=dtype).to(device)
    ref = torch.nn.functional.conv1d(x, w, stride=width)
    torch.testing.assert_close(window_conv(x, w), ref)


def test_window_conv_gradcheck():
    from anatomy_lib.models.temporal import window_conv

    x = torch.randn(2, 3, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(window_conv, (x, w))


def test_bone_lengths_without_joint_graph_is_the_same_computation():
    """``joints_grad=False`` (augmented batch): same outputs and BatchNorm updates, the
    attention still trained, the per-frame network reached by no gradient."""
    cfg = ModelConfig.preset("tiny", dropout=0.0)
    a, b = AnatomyModel(cfg).train(), AnatomyModel(cfg).train()
    b.load_state_dict(a.state_dict())
    _, _, sampled = inputs(cfg, n=4, sampled=6)
    out_a, out_b = a.bone_lengths(sampled), b.bone_lengths(sampled, joints_grad=False)
    torch.testing.assert_close(out_a.lengths, out_b.lengths)
    torch.testing.assert_close(out_a.sampled_joints, out_b.sampled_joints)
    for x, y in zip(a.buffers(), b.buffers(), strict=True):
        torch.testing.assert_close(x, y)
    assert out_a.sampled_joints.requires_grad and not out_b.sampled_joints.requires_grad
    out_b.lengths.sum().backward()
    assert b.length.attention.weight.grad is not None
    assert all(p.grad is None for p in b.length.blocks.parameters())
