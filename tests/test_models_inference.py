"""Whole-video inference equals the window form, for every variant; chunking, seeds, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

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
    lift_videos,
    pad_edges,
    sample_length_frames,
)
from anatomy_lib.models.inference_plan import (
    PORTABLE_ENV,
    forget_plan,
    inference_kernel,
    plan_for,
    portable_kernel,
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
    with pytest.warns(
        ShortVideoWarning, match="sees 2 frames .*fewer than the model's receptive field"
    ):
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


def _edit_in_place(model):
    with torch.no_grad():
        model.direction.stages[1].stack.blocks[0].pointwise.bn.running_var.mul_(3.0)
        model.direction.stages[0].expand.conv.weight.add_(0.1)
        model.length.input.weight.mul_(1.5)


def test_plan_cache_keeps_one_plan_until_a_tensor_is_replaced_or_moved():
    """``plan_for`` hands back the same plan for an unchanged eval-mode model, and a new one
    after a parameter or buffer is replaced or edited in place, the model changes dtype, or
    ``forget_plan``."""
    model = make(VARIANTS["K2"])
    plan = plan_for(model, torch.float32)
    assert plan_for(model, torch.float32) is plan
    assert plan_for(model, torch.float64) is not plan  # another compute dtype: rebuilt
    plan = plan_for(model, torch.float32)
    conv = model.direction.stages[0].expand.conv
    conv.weight = torch.nn.Parameter(conv.weight.detach() * 2)
    replaced = plan_for(model, torch.float32)
    assert replaced is not plan and plan_for(model, torch.float32) is replaced
    bn = model.length.input_bn
    bn.running_mean = bn.running_mean + 1.0  # a buffer replaced
    assert plan_for(model, torch.float32) is not replaced
    plan = plan_for(model, torch.float32)
    model.double()  # every tensor moved to new storage
    assert plan_for(model, torch.float32) is not plan
    plan = plan_for(model, torch.float32)
    with torch.no_grad():
        model.length.input_bn.running_var.mul_(2.0)  # a buffer edited in place
    edited = plan_for(model, torch.float32)
    assert edited is not plan and plan_for(model, torch.float32) is edited
    plan = edited
    forget_plan(model)
    assert plan_for(model, torch.float32) is not plan


def test_plan_folds_batchnorm_and_is_rebuilt_when_weights_change():
    """The folded plan equals the unfolded window form, before and after an in-place
    change of weights and BatchNorm statistics (noticed by the cache without ``forget_plan``)."""
    cfg = VARIANTS["K2"]
    model = make(cfg)
    kp, sc = video(cfg, cfg.receptive_field + 3)
    first = lift_video(model, kp, sc)
    plan = InferencePlan.build(model, torch.float32)
    assert plan.expand.weight.shape == (cfg.channels, cfg.filter_widths[0] * 2 * 17)
    _edit_in_place(model)
    second = lift_video(model, kp, sc)  # the cached plan is not reused after the edit
    assert not torch.allclose(first.joints, second.joints)
    joints, dirs, lengths = window_form(model, kp, sc, lambda t: slice(None))
    torch.testing.assert_close(second.joints, joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(second.directions, dirs, atol=1e-5, rtol=0)
    torch.testing.assert_close(second.lengths, lengths, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "change",
    ["train_eval", "load_state_dict", "training_mode", "to_double"],
)
def test_cached_plan_is_dropped_when_the_model_changes(change):
    """Mode switches, load_state_dict, training mode and moves never reuse a stale plan."""
    cfg = VARIANTS["K2"]
    model, other = make(cfg, seed=0), make(cfg, seed=5)
    kp, sc = video(cfg, cfg.receptive_field + 3)
    lift_video(model, kp, sc)  # caches a plan
    if change == "train_eval":
        model.train()
        _edit_in_place(model)
        model.eval()
    elif change == "load_state_dict":
        model.load_state_dict(other.state_dict())
    elif change == "training_mode":
        model.train()
        lift_video(model, kp, sc)
        _edit_in_place(model)  # as an optimiser step would, without a mode switch
    else:
        model.double()
        kp, sc = kp.double(), sc.double()
    res = lift_video(model, kp, sc)
    joints, _, _ = window_form(model.eval(), kp, sc, lambda t: slice(None))
    torch.testing.assert_close(res.joints, joints, atol=1e-5, rtol=0)


def test_public_entry_points_agree():
    """``anatomy_lib.models.lift_video`` and ``AnatomyModel.lift`` are the same function."""
    from anatomy_lib import models

    cfg = VARIANTS["K2"]
    model = make(cfg)
    kp, sc = video(cfg, 15)
    a = models.lift_video(model, kp, sc, length_frames=4, seed=2)
    b = model.lift(kp, sc, length_frames=4, seed=2)
    assert models.lift_video is lift_video
    assert torch.equal(a.joints, b.joints) and torch.equal(a.lengths, b.lengths)


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_portable_kernel_matches_the_fused_one(monkeypatch, dtype):
    """``ANATOMY3D_PORTABLE_KERNEL=1`` forces ``torch.addmm``; both kernels give the same
    joints up to the rounding of the compute dtype."""
    cfg = VARIANTS["K3"]
    model = make(cfg)
    kp, sc = video(cfg, 30)
    fast = lift_video(model, kp, sc, dtype=dtype)
    monkeypatch.setenv(PORTABLE_ENV, "1")
    assert inference_kernel(dtype or torch.float32) == "portable"
    forget_plan(model)
    portable = lift_video(model, kp, sc, dtype=dtype)
    tol = 1e-5 if dtype is None else 0.05
    torch.testing.assert_close(portable.joints, fast.joints, atol=tol, rtol=0)
    monkeypatch.delenv(PORTABLE_ENV)
    assert inference_kernel(torch.float64) == "portable"
    assert inference_kernel(torch.float32, "meta") == "portable"


def test_portable_kernel_block_forces_it_in_its_thread_only(monkeypatch):
    """``with portable_kernel():`` (the video pipeline's) switches the kernel inside, nested
    blocks included, not in other threads, and gives the same joints to float rounding."""
    import threading

    monkeypatch.delenv(PORTABLE_ENV, raising=False)
    usual = inference_kernel(torch.float32)
    cfg = VARIANTS["K2"].replace(channels=32)
    model = make(cfg)
    kp, sc = video(cfg, 30)
    fast = lift_video(model, kp, sc)
    seen = []
    with portable_kernel():
        with portable_kernel():
            assert inference_kernel(torch.float32) == "portable"
        assert inference_kernel(torch.float32) == "portable"
        other = threading.Thread(target=lambda: seen.append(inference_kernel(torch.float32)))
        other.start()
        other.join()
        portable = lift_video(model, kp, sc)
    assert seen == [usual] and inference_kernel(torch.float32) == usual
    torch.testing.assert_close(portable.joints, fast.joints, atol=1e-6, rtol=0)


def test_bf16_runs_on_a_cpu_without_bf16_instructions():
    """Under ``ONEDNN_MAX_CPU_ISA=AVX2`` (an AVX2-only CPU) oneDNN's bf16 inner product
    cannot be created: the probe says so and bf16 lifting falls back to the portable
    kernel, close to float32."""
    script = textwrap.dedent(
        """
        import torch
        from anatomy_lib.models import AnatomyModel, ModelConfig, lift_video
        from anatomy_lib.models.inference_plan import inference_kernel
        torch.manual_seed(0)
        model = AnatomyModel(ModelConfig.preset("tiny", channels=8)).eval()
        kp, sc = torch.randn(12, 17, 2), torch.rand(12, 17)
        low = lift_video(model, kp, sc, dtype=torch.bfloat16).joints
        ref = lift_video(model, kp, sc).joints
        assert not torch.equal(low, ref)
        print(inference_kernel(torch.bfloat16), float((low - ref).abs().max()))
        """
    )
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kernel, error = done.stdout.split()
    assert kernel == "portable"
    assert float(error) < 0.05


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_chunk_size_changes_results_only_by_rounding(dtype):
    """Chunks change which rows share a matrix product: float32 within 1e-6 (the stated
    tolerance), float64 within 1e-12, for chunk sizes from 1 to the whole video."""
    cfg = VARIANTS["causal"].replace(channels=32)
    model = make(cfg).to(dtype)
    kp, sc = (x.to(dtype) for x in video(cfg, 45))
    ref = lift_video(model, kp, sc, length_frames=5, chunk_size=1000)
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    for chunk in (1, 2, 7, 16, 44):
        out = lift_video(model, kp, sc, length_frames=5, chunk_size=chunk)
        torch.testing.assert_close(out.joints, ref.joints, atol=tol, rtol=0)
        torch.testing.assert_close(out.lengths, ref.lengths, atol=tol, rtol=0)


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("length_frames", ["all", 4])
def test_several_videos_in_one_pass_equal_separate_calls(name, length_frames):
    """Videos joined end to end (windows across the seams dropped) give each video's own
    :func:`lift_video` result, for videos longer and shorter than the receptive field and
    chunks that split a seam: in float64 within 1e-12 (the same sums, grouped into other
    matrix products; float32 on a shipped model: tests/test_wild_pipeline.py)."""
    cfg = VARIANTS[name]
    model = make(cfg).double()
    rf = cfg.receptive_field
    videos = [
        tuple(x.double() for x in video(cfg, t, seed))
        for seed, t in enumerate((rf + 6, 3, rf + 1, 1))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortVideoWarning)
        for chunk in (5, 1024):
            joint = lift_videos(
                model, videos, length_frames=length_frames, seed=2, chunk_size=chunk
            )
            assert len(joint) == len(videos)
            for (kp, sc), res in zip(videos, joint, strict=True):
                ref = lift_video(model, kp, sc, length_frames=length_frames, seed=2)
                for key in ("joints", "directions", "lengths", "frame_lengths"):
                    got, want = getattr(res, key), getattr(ref, key)
                    assert got.shape == want.shape
                    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
                if ref.attention is None:
                    assert res.attention is None
                else:
                    torch.testing.assert_close(res.attention, ref.attention, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="at least one"):
        lift_videos(model, [])


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
    with pytest.raises(ValueError, match="length_frames: expected 'all' or an int >= 1, got 'x'"):
        lift_video(model, kp, sc, length_frames="x")
    with pytest.raises(ValueError, match="chunk_size"):
        lift_video(model, kp, sc, chunk_size=0)
    with pytest.raises(ValueError, match=r"\(T, J, 2\)"):
        lift_video(model, kp[None], sc[None])
    with pytest.raises(ValueError, match="scores"):
        lift_video(model, kp, None)
    with pytest.raises(TypeError, match="AnatomyModel"):
        lift_video(TemporalConvNet(cfg.baseline()), kp, sc)
