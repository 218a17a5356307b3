"""Eq. 7 as assembled for training: weights per term and the gradient flow of Sec. 3.3-3.4."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import random_poses

from anatomy_lib.bones import joint_shifts, joints_to_bones
from anatomy_lib.losses import LossWeights, bone_direction_loss, mpjpe_loss
from anatomy_lib.models import AnatomyModel, ModelConfig, TemporalConvNet
from anatomy_lib.training.config import ExperimentConfig
from anatomy_lib.training.objective import anatomy_objective, baseline_objective, stage_weights

N, L = 4, 8


def _experiment(name: str = "full@tiny", **model_changes) -> ExperimentConfig:
    exp = ExperimentConfig.preset(name)
    if model_changes:
        exp = exp.replace(model=exp.model.replace(**model_changes))
    return exp


def _inputs(model, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    rf, j = model.config.receptive_field, model.skeleton.num_joints
    kp = torch.rand(N, rf, j, 2, generator=g, dtype=dtype) * 2 - 1
    scores = torch.rand(N, rf, j, generator=g, dtype=dtype)
    sampled = torch.rand(N, L, j, 2, generator=g, dtype=dtype) * 2 - 1
    target = random_poses(batch=(N,), seed=seed + 1, dtype=dtype)
    target = target - target[:, :1]
    sampled_target = random_poses(batch=(N, L), seed=seed + 2, dtype=dtype)
    sampled_target = sampled_target - sampled_target[..., :1, :]
    return kp, scores, sampled, target, sampled_target


def _run(exp: ExperimentConfig, augmented: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    model = AnatomyModel(exp.model).double()
    kp, scores, sampled, target, sampled_target = _inputs(model, seed)
    out = model(kp, scores, sampled)
    aug = aug_lengths = None
    if augmented:
        aug = model.bone_lengths(sampled * 0.9)
        aug_lengths = joints_to_bones(sampled_target[:, 0], model.skeleton).lengths
    obj = anatomy_objective(
        out, target, sampled_target, exp, torch.Generator().manual_seed(0), aug, aug_lengths
    )
    return model, obj


def _grad_norms(model, loss) -> dict[str, float]:
    """Gradient norm of ``loss`` per top-level part of the model."""
    model.zero_grad(set_to_none=True)
    loss.backward(retain_graph=True)
    parts = {
        "stage1": model.direction.stages[0],
        "stage2": model.direction.stages[1] if len(model.direction.stages) > 1 else None,
        "length_fc": [m for n, m in model.length.named_children() if n != "attention"],
        "attention": model.length.attention,
        "heads": model.heads,
    }
    out = {}
    for name, mod in parts.items():
        if mod is None:
            continue
        mods = mod if isinstance(mod, list) else [mod]
        grads = [p.grad for m in mods for p in m.parameters() if p.grad is not None]
        out[name] = float(sum(g.abs().sum() for g in grads)) if grads else 0.0
    return out


def test_joint_shift_loss_trains_only_the_direction_network():
    model, obj = _run(_experiment())
    g = _grad_norms(model, obj.terms["joint_shift/2"])
    assert g["stage2"] > 0 and g["heads"] > 0
    assert g["length_fc"] == 0 and g["attention"] == 0
    assert g["stage1"] == 0  # blocked between sub-networks


def test_per_frame_loss_reaches_only_the_length_network():
    model, obj = _run(_experiment())
    g = _grad_norms(model, obj.terms["joints"])
    assert g["length_fc"] > 0
    assert g["attention"] == g["stage1"] == g["stage2"] == g["heads"] == 0


def test_length_loss_trains_only_the_attention():
    model, obj = _run(_experiment(), augmented=True)
    for term in ("length", "augmented_length"):
        g = _grad_norms(model, obj.terms[term])
        assert g["attention"] > 0
        assert g["length_fc"] == g["stage1"] == g["stage2"] == g["heads"] == 0


def test_direction_losses_are_blocked_between_sub_networks():
    model, obj = _run(_experiment())
    g1 = _grad_norms(model, obj.terms["direction/1"])
    g2 = _grad_norms(model, obj.terms["direction/2"])
    assert g1["stage1"] > 0 and g1["stage2"] == 0
    assert g2["stage2"] > 0 and g2["stage1"] == 0
    gf = _grad_norms(model, obj.terms["final_joints"])
    assert gf["heads"] > 0 and gf["stage1"] == gf["stage2"] == gf["length_fc"] == 0


def test_baseline_d_top_loss_reaches_the_bottom_sub_network():
    exp = ExperimentConfig.preset("af+ml+boneatt+aug+jsl+baseline-d@tiny")
    model, obj = _run(exp)
    assert "direction/1" not in obj.terms and "joint_shift/1" not in obj.terms
    g = _grad_norms(model, obj.terms["direction/2"])
    assert g["stage1"] > 0 and g["stage2"] > 0


def test_without_ml_the_length_loss_trains_the_length_network():
    exp = ExperimentConfig.preset("af@tiny")
    model, obj = _run(exp)
    assert "joints" not in obj.terms and "joint_shift/1" not in obj.terms
    g = _grad_norms(model, obj.terms["length"])
    assert g["length_fc"] > 0 and g["stage1"] == 0


def test_total_is_the_weighted_sum_of_eq7():
    exp = _experiment()
    exp = exp.replace(losses=dataclasses.replace(LossWeights.preset("released")))
    torch.manual_seed(0)
    model = AnatomyModel(exp.model).double()
    kp, scores, sampled, target, sampled_target = _inputs(model)
    out = model(kp, scores, sampled)
    obj = anatomy_objective(out, target, sampled_target, exp, torch.Generator().manual_seed(3))
    lw, sk = exp.losses, model.skeleton
    bones = joints_to_bones(target, sk)
    shifts = joint_shifts(target, sk.non_bone_pairs)
    by_hand = 0.0
    for k, decay in ((0, lw.first_stage_decay), (1, 1.0)):
        by_hand += (
            decay * lw.direction * bone_direction_loss(out.stage_directions[k], bones.directions)
        )
        shift_err = (out.stage_joint_shifts[k] - shifts).norm(dim=-1).sum(-1).mean()
        by_hand += decay * lw.joint_shift * shift_err
    by_hand += lw.length * ((out.lengths - bones.lengths) ** 2).sum(-1).mean()
    pick = torch.randint(L, (N,), generator=torch.Generator().manual_seed(3))
    by_hand += lw.joints * mpjpe_loss(
        out.sampled_joints[torch.arange(N), pick], sampled_target[torch.arange(N), pick]
    )
    by_hand += lw.final_joints * mpjpe_loss(out.joints, target)
    torch.testing.assert_close(obj.total, by_hand, rtol=1e-12, atol=1e-12)
    assert obj.weights["direction/1"] == pytest.approx(0.3 * 0.5)
    assert obj.weights["joint_shift/2"] == pytest.approx(2.0)


def test_stage_weights():
    assert stage_weights(1, True, 0.5) == (1.0,)
    assert stage_weights(3, True, 0.5) == (0.5, 0.5, 1.0)
    assert stage_weights(3, False, 0.5) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="num_stages"):
        stage_weights(0, True, 1.0)


@pytest.mark.parametrize("jsl", [False, True])
def test_baseline_objective(jsl, dtype):
    exp = ExperimentConfig.preset("baseline+jsl@tiny" if jsl else "baseline@tiny")
    target = random_poses(batch=(N,), dtype=dtype)
    perfect = baseline_objective(target.clone(), target, exp)
    assert float(perfect.total) == 0.0
    assert set(perfect.terms) == ({"final_joints", "joint_shift/1"} if jsl else {"final_joints"})
    shifted = baseline_objective(target + torch.tensor([0.01, 0, 0], dtype=dtype), target, exp)
    # a global translation leaves every joint shift unchanged: only MPJPE sees it
    assert float(shifted.terms["final_joints"]) == pytest.approx(0.01)
    if jsl:
        assert float(shifted.terms["joint_shift/1"]) == pytest.approx(0.0, abs=1e-6)
    net = TemporalConvNet(exp.model.baseline())
    assert net.receptive_field == exp.model.receptive_field


def test_augmented_batch_requires_its_lengths():
    exp = _experiment()
    torch.manual_seed(0)
    model = AnatomyModel(exp.model).double()
    kp, scores, sampled, target, sampled_target = _inputs(model)
    out = model(kp, scores, sampled)
    with pytest.raises(ValueError, match="augmented_lengths"):
        anatomy_objective(out, target, sampled_target, exp, None, model.bone_lengths(sampled), None)


def test_model_config_is_what_the_table_row_says():
    assert ModelConfig.preset("tiny").num_direction_stages == 2
    assert _experiment().model.visibility == "attention"
