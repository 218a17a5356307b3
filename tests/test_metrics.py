"""Tests of the evaluation metrics and of the per-action table."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import random_poses, standing_pose
from hypothesis import given, settings
from hypothesis import strategies as st

from anatomy_lib.bones import mirror_joints
from anatomy_lib.camera import quaternion_to_matrix
from anatomy_lib.metrics import (
    H36M_ACTION_COLUMNS,
    H36M_ACTIONS,
    PAPER_TABLE1,
    ActionTable,
    SequenceErrors,
    action_base_name,
    auc,
    h36m_action_column,
    mean_by_group,
    mpi_inf_3dhp_auc_thresholds,
    mpjpe,
    mpjve,
    n_mpjpe,
    p_mpjpe,
    paper_table1,
    pck,
    procrustes_align,
    scale_align,
)
from anatomy_lib.skeleton import H36M_17


def tol(dtype: torch.dtype) -> float:
    return 1e-5 if dtype == torch.float32 else 1e-10


def random_rotation(seed: int, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return quaternion_to_matrix(torch.randn(4, generator=g, dtype=torch.float64)).to(dtype)


def noisy(target: torch.Tensor, sigma: float, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(target.shape, generator=g, dtype=torch.float64)
    return target + sigma * noise.to(target)


# ------------------------------------------------------------------------ MPJPE


def test_mpjpe_hand_computed(device, dtype):
    target = standing_pose(dtype, device).expand(2, 17, 3)
    shift = torch.tensor([[0.03, 0.04, 0.0], [0.0, 0.0, -0.01]], dtype=dtype, device=device)
    pred = target + shift[:, None, :]
    per_pose = mpjpe(pred, target, reduction="none")
    assert per_pose.shape == (2,) and per_pose.dtype == dtype and per_pose.device == pred.device
    assert per_pose.tolist() == pytest.approx([0.05, 0.01], abs=tol(dtype))
    assert mpjpe(pred, target).item() == pytest.approx(0.03, abs=tol(dtype))
    assert mpjpe(pred, target).dim() == 0


def test_mpjpe_joint_subset():
    target = torch.zeros(3, 4, 3, dtype=torch.float64)
    pred = target.clone()
    pred[:, 0, 0] = 1.0  # only joint 0 is wrong
    assert mpjpe(pred, target).item() == pytest.approx(0.25)
    assert mpjpe(pred, target, joints=[1, 2, 3]).item() == 0.0
    assert mpjpe(pred, target, joints=[0]).item() == pytest.approx(1.0)


# ------------------------------------------------------------------------ P-MPJPE


@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.2, 5.0),
    shift=st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3),
)
@settings(max_examples=40, deadline=None)
def test_p_mpjpe_zero_for_similarity_transforms(seed, scale, shift):
    target = random_poses(batch=(2,), seed=seed)
    rot = random_rotation(seed)
    pred = scale * target @ rot + torch.tensor(shift, dtype=torch.float64)
    assert p_mpjpe(pred, target).item() < 1e-9
    assert mpjpe(pred, target).item() > 1e-3  # the raw error is not zero: the test can fail
    # The recovered transform is the inverse of the applied one.
    fit = procrustes_align(pred, target)
    assert torch.allclose(fit.scale, torch.full((2,), 1 / scale, dtype=torch.float64), rtol=1e-8)
    assert torch.allclose(fit.rotation, rot.T.expand(2, 3, 3), atol=1e-8)
    reapplied = fit.scale[:, None, None] * pred @ fit.rotation + fit.translation[:, None, :]
    assert torch.allclose(reapplied, fit.aligned, atol=1e-10)


def test_procrustes_rotation_is_proper(device, dtype):
    target = random_poses(batch=(16,), seed=3).to(device=device, dtype=dtype)
    pred = noisy(target, 0.2)
    fit = procrustes_align(pred, target)
    det = torch.linalg.det(fit.rotation.double())
    assert torch.allclose(det, torch.ones_like(det), atol=1e-4)
    assert fit.aligned.dtype == dtype and fit.aligned.device == target.device


def test_p_mpjpe_never_reflects():
    # A chiral (asymmetric) pose and its mirror image: a reflection would align them exactly.
    target = standing_pose()
    target[13] += torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)  # raise the left wrist
    mirrored = target * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert p_mpjpe(mirrored, target).item() > 0.01
    det = torch.linalg.det(procrustes_align(mirrored, target).rotation)
    assert det.item() == pytest.approx(1.0, abs=1e-9)
    # The left/right swapped mirror is the same body seen in a mirror: still no exact fit.
    swapped = mirror_joints(target, H36M_17)
    assert p_mpjpe(swapped, target).item() > 0.005


def test_least_squares_objectives_are_ordered():
    # Each fit optimises over a larger family: the sum of squared errors can only drop.
    target = random_poses(batch=(50,), seed=7)
    target = target - target[..., :1, :]  # root-relative, as scale_align assumes
    pred = noisy(target, 0.1)
    sse = lambda a: (a - target).square().sum((-1, -2))  # noqa: E731
    raw, scaled, aligned = (
        sse(pred),
        sse(scale_align(pred, target)),
        sse(procrustes_align(pred, target).aligned),
    )
    assert (aligned <= scaled + 1e-12).all() and (scaled <= raw + 1e-12).all()
    # For the mean Euclidean error the order usually holds too (not guaranteed per pose).
    assert p_mpjpe(pred, target) < n_mpjpe(pred, target) < mpjpe(pred, target)


def test_n_mpjpe_hand_computed():
    target = standing_pose() - standing_pose()[:1]
    assert n_mpjpe(1.7 * target, target).item() < 1e-12
    assert mpjpe(1.7 * target, target).item() > 0.1
    # Scale by 2 then shift one joint: the fitted scale and error follow by hand.
    pred = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    tgt = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    s = (2.0 + 1.0) / 2.0
    assert scale_align(pred, tgt).tolist() == [[s, 0.0, 0.0], [0.0, s, 0.0]]
    assert n_mpjpe(pred, tgt).item() == pytest.approx(((2 - s) + (s - 1)) / 2)


def test_degenerate_prediction_is_finite():
    target = random_poses(batch=(2,), seed=1)
    pred = torch.zeros_like(target)
    assert torch.isfinite(p_mpjpe(pred, target, reduction="none")).all()
    assert torch.isfinite(n_mpjpe(pred, target, reduction="none")).all()


def test_alignment_gradcheck():
    target = random_poses(batch=(2,), seed=11)
    pred = noisy(target, 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: p_mpjpe(p, target, reduction="none"), (pred,))
    assert torch.autograd.gradcheck(lambda p: n_mpjpe(p, target, reduction="none"), (pred,))
    assert torch.autograd.gradcheck(lambda p: mpjpe(p, target, reduction="none"), (pred,))


def test_p_mpjpe_2d():
    target = torch.randn(3, 6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    c, s = math.cos(0.7), math.sin(0.7)
    pred = 2.0 * target @ torch.tensor([[c, s], [-s, c]], dtype=torch.float64) + 1.0
    assert p_mpjpe(pred, target).item() < 1e-10


# ------------------------------------------------------------------------ MPJVE


def test_mpjve_constant_offset_and_hand_computed(device, dtype):
    target = random_poses(batch=(2, 6), seed=2).to(device=device, dtype=dtype)
    offset = torch.tensor([0.3, -0.2, 0.5], dtype=dtype, device=device)
    assert mpjve(target + offset, target).item() < tol(dtype)
    assert mpjpe(target + offset, target).item() > 0.5
    # A drift of 1 cm per frame along x: velocity error 0.01 every frame.
    frames = torch.arange(6, dtype=dtype, device=device)[None, :, None, None]
    drift = target + frames * torch.tensor([0.01, 0, 0], dtype=dtype, device=device)
    per_frame = mpjve(drift, target, reduction="none")
    assert per_frame.shape == (2, 5)
    assert torch.allclose(per_frame, torch.full_like(per_frame, 0.01), atol=tol(dtype))


def test_mpjve_time_dimension():
    seq = random_poses(batch=(7, 3), seed=4)  # (T, B, J, 3): time first
    pred = noisy(seq, 0.02)
    by_dim0 = mpjve(pred, seq, dim=0, reduction="none")
    assert by_dim0.shape == (6, 3)
    by_default = mpjve(pred.transpose(0, 1), seq.transpose(0, 1), reduction="none")
    assert torch.allclose(by_dim0, by_default.T)


def test_mpjve_bad_input():
    seq = torch.zeros(1, 17, 3)
    with pytest.raises(ValueError, match="at least 2 frames"):
        mpjve(seq, seq)
    with pytest.raises(ValueError, match="time dimension before the joint dimension"):
        mpjve(torch.zeros(4, 17, 3), torch.zeros(4, 17, 3), dim=-2)
    with pytest.raises(ValueError, match="time dimension"):
        mpjve(torch.zeros(4, 17, 3), torch.zeros(4, 17, 3), dim=5)


# ------------------------------------------------------------------------ PCK / AUC


def test_pck_constructed_cases(device, dtype):
    target = torch.zeros(2, 4, 3, dtype=dtype, device=device)
    pred = target.clone()
    pred[0, :, 0] = torch.tensor([0.0, 0.1, 0.149, 0.02], dtype=dtype)  # all within 150 mm
    pred[1, :, 1] = torch.tensor([0.0, 0.2, 0.151, 1.0], dtype=dtype)  # 1 of 4 within
    assert pck(pred, target, reduction="none").tolist() == pytest.approx([100.0, 25.0])
    assert pck(pred, target).item() == pytest.approx(62.5)
    assert pck(pred, target, threshold=0.5, joints=[0, 1, 2]).item() == pytest.approx(100.0)


def test_auc_constructed_cases():
    thresholds = mpi_inf_3dhp_auc_thresholds(dtype=torch.float64)
    assert thresholds.numel() == 31 and thresholds[0] == 0 and thresholds[-1].item() == 0.15
    assert torch.allclose(thresholds.diff(), torch.full((30,), 0.005, dtype=torch.float64))
    target = torch.zeros(1, 2, 3, dtype=torch.float64)
    # Perfect prediction: correct at every threshold except 0 (strictly below).
    assert auc(target, target).item() == pytest.approx(100.0 * 30 / 31)
    # Errors of 1 m: never correct.
    assert auc(target + 1.0, target).item() == 0.0
    # One joint 72.5 mm off: correct for thresholds 75..150 (16 of 31), the other for 30.
    pred = target.clone()
    pred[0, 0, 2] = 0.0725
    assert auc(pred, target).item() == pytest.approx(100.0 * (16 + 30) / 62)


def test_auc_is_mean_of_pck():
    target = random_poses(batch=(5,), seed=5)
    pred = noisy(target, 0.08)
    thresholds = mpi_inf_3dhp_auc_thresholds(dtype=torch.float64)
    by_hand = torch.stack([pck(pred, target, float(t)) for t in thresholds]).mean()
    assert auc(pred, target).item() == pytest.approx(by_hand.item())


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("metric", [mpjpe, p_mpjpe, n_mpjpe, pck, auc])
def test_metric_bad_input(metric):
    good = torch.zeros(2, 17, 3)
    with pytest.raises(ValueError, match="same shape"):
        metric(good, torch.zeros(2, 16, 3))
    with pytest.raises(ValueError, match="coordinates in the last dimension"):
        metric(torch.zeros(2, 17, 4), torch.zeros(2, 17, 4))
    bad = good.clone()
    bad[0, 3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        metric(bad, good)
    with pytest.raises(ValueError, match="indices into 17 joints"):
        metric(good, good, joints=[0, 17])
    with pytest.raises(ValueError, match="reduction"):
        metric(good, good, reduction="sum")


# ------------------------------------------------------------------------ actions


def test_action_columns():
    assert len(H36M_ACTIONS) == len(H36M_ACTION_COLUMNS) == 15
    expected = {
        "Directions 1": "Dir.",
        "Discussion": "Disc.",
        "Eating 2": "Eat",
        "TakingPhoto": "Photo",
        "Photo 1": "Photo",
        "SittingDown": "SitD.",
        "SittingDown 2": "SitD.",
        "Sitting 1": "Sit",
        "WalkDog": "WalkD.",
        "WalkingDog 1": "WalkD.",
        "WalkTogether 1": "WalkT.",
        "Walking": "Walk",
        "Purchases 1": "Purch.",
    }
    for raw, column in expected.items():
        assert h36m_action_column(raw) == column, raw
    assert [h36m_action_column(a) for a in H36M_ACTIONS] == list(H36M_ACTION_COLUMNS)
    assert action_base_name("Walking 1") == "Walking" and action_base_name("jump_02") == "jump"
    with pytest.raises(ValueError, match="unknown Human3.6M action 'Dancing'"):
        h36m_action_column("Dancing")


def test_table_average_over_actions_not_frames():
    # Walking: one long sequence with error 10 mm; Eating: short sequences of 20 and 40 mm.
    sequences = [
        SequenceErrors("Walking 1", torch.full((1000,), 0.010), "S9"),
        SequenceErrors("Eating", torch.full((10,), 0.020), "S9"),
        SequenceErrors("Eating 2", torch.full((30,), 0.040), "S11"),
    ]
    table = ActionTable(title="Protocol 1")
    row = table.add_sequences("ours", sequences)
    values = dict(zip(table.columns, row.values, strict=True))
    assert values["Walk"] == pytest.approx(10.0)
    assert values["Eat"] == pytest.approx((10 * 20 + 30 * 40) / 40)  # frames pooled
    assert values["Dir."] is None
    assert row.average == pytest.approx((10.0 + 35.0) / 2)  # mean over actions
    frame_mean = (1000 * 10 + 10 * 20 + 30 * 40) / 1040
    assert abs(row.average - frame_mean) > 10
    as_dict = table.to_dict()["ours"]
    assert list(as_dict) == [*H36M_ACTION_COLUMNS, "Avg"] and as_dict["Avg"] == row.average


def test_table_by_subject_and_generic_actions():
    sequences = [
        SequenceErrors("jump 1", torch.tensor([0.01, 0.03]), "S11"),
        SequenceErrors("wave", torch.tensor([0.05]), "S9"),
        SequenceErrors("jump 2", torch.tensor([0.02]), "S9"),
    ]
    by_subject = ActionTable.from_sequences("ours", sequences, by="subject")
    assert by_subject.columns == ("S9", "S11")
    assert by_subject.to_dict()["ours"]["S9"] == pytest.approx(35.0)
    by_action = ActionTable.from_sequences("ours", sequences)
    assert by_action.columns == ("jump", "wave")
    assert by_action.to_dict()["ours"]["jump"] == pytest.approx(20.0)
    h36m = ActionTable.from_sequences("ours", [SequenceErrors("Walking 1", torch.ones(3))])
    assert h36m.columns == H36M_ACTION_COLUMNS
    assert mean_by_group(sequences, lambda s: s.subject) == pytest.approx(
        {"S11": 0.02, "S9": 0.035}
    )


def test_table_markdown():
    table = ActionTable(columns=("a", "b"), title="P1")
    table.add_row("first", {"a": 1.234, "b": 2.0})
    table.add_row("second", {"a": 0.5})
    text = table.to_markdown(precision=2, highlight_best=True)
    lines = text.splitlines()
    assert lines[0] == "| P1 | a | b | Avg |"
    assert lines[2] == "| first | 1.23 | **2.00** | 1.62 |"
    assert lines[3] == "| second | **0.50** | - | **0.50** |"
    assert str(table) == table.to_markdown()


def test_table_bad_input():
    table = ActionTable()
    with pytest.raises(ValueError, match="unknown column"):
        table.add_row("x", {"Dancing": 1.0})
    table.add_row("x", {"Walk": 1.0})
    with pytest.raises(ValueError, match="already exists"):
        table.add_row("x", {"Walk": 2.0})
    with pytest.raises(ValueError, match="unknown Human3.6M action"):
        table.add_sequences("y", [SequenceErrors("Dancing", torch.ones(2))])
    with pytest.raises(ValueError, match="by: expected"):
        table.add_sequences("z", [], by="camera")
    with pytest.raises(ValueError, match="NaN"):
        mean_by_group([SequenceErrors("Walk", torch.tensor([float("nan")]))], lambda s: "w")
    with pytest.raises(ValueError, match="no sequences"):
        mean_by_group([], lambda s: "w")
    with pytest.raises(ValueError, match="distinct"):
        ActionTable(columns=("a", "a"))


@pytest.mark.parametrize("protocol", [1, 2])
def test_paper_table1(protocol):
    table = paper_table1(protocol)
    assert table.title == f"Protocol {protocol}"
    assert len(table.rows) == 4
    for row in table.rows:
        assert all(v is not None for v in row.values)
        # The published Avg is the mean over the 15 actions up to rounding.
        assert row.average == pytest.approx(sum(row.values) / 15, abs=0.1)
    ours = table.to_dict()
    # The paper's headline claim: ours (243 frames) beats Pavllo et al. (243 frames).
    assert ours["Ours (243 frames)"]["Avg"] < ours["Pavllo et al. (243 frames)"]["Avg"]
    assert set(PAPER_TABLE1[protocol]) == set(ours)
    with pytest.raises(ValueError, match="Protocols 1 and 2"):
        paper_table1(3)
