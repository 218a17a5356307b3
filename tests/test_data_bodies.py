"""Tests of the ANSUR II body table (Human3.6M-17 bone lengths) and its sampler."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import random_poses

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.bodies import (
    BODY_TABLE_FILE,
    BONE_FORMULAS,
    MarkerJointRanges,
    bone_lengths_from_measurements,
    load_body_table,
    lower_thorax,
    marker_joint_definitions,
    sample_bone_lengths,
    shoulders_above_thorax,
    vary_marker_joints,
    vary_thorax,
)
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17

B = {name: b for b, name in enumerate(H36M_17.bone_names)}


@pytest.fixture(scope="module")
def table():
    return load_body_table()


def test_table_shapes_units_and_counts(table):
    assert table.bone_names == H36M_17.bone_names
    assert table.bone_lengths.shape == (6068, 16) and table.bone_lengths.dtype == torch.float32
    assert table.stature.shape == (6068,) and table.stature.dtype == torch.float32
    assert int((table.sex == 1).sum()) == 4082 and int((table.sex == 0).sum()) == 1986
    assert len(set(zip(table.sex.tolist(), table.subject_id.tolist(), strict=True))) == 6068
    # Metres: adults 1.4-2.1 m tall, every bone 5-60 cm.
    assert 1.4 < table.stature.min() and table.stature.max() < 2.1
    assert 0.05 < table.bone_lengths.min() and table.bone_lengths.max() < 0.6


def test_left_and_right_bones_are_equal(table):
    sk = H36M_17
    perm = torch.tensor(sk.bone_mirror_permutation)
    assert torch.equal(table.bone_lengths, table.bone_lengths[:, perm])


def test_proportions_follow_stature(table):
    stature = table.stature.double()
    for name in ("right_hip->right_knee", "right_knee->right_ankle", "pelvis->spine"):
        col = table.bone_lengths[:, B[name]].double()
        r = torch.corrcoef(torch.stack([col, stature]))[0, 1].item()
        assert r > 0.6, name
    # Long bones as fractions of stature, each body (anthropometric tables give ~0.22-0.25
    # for thigh and shank, ~0.17-0.19 for the upper arm between joint centres).
    thigh = table.bone_lengths[:, B["left_hip->left_knee"]] / table.stature
    upper = table.bone_lengths[:, B["left_shoulder->left_elbow"]] / table.stature
    assert 0.17 < thigh.min() and thigh.max() < 0.30
    assert 0.02 < (thigh.std() / thigh.mean()).item() < 0.06  # 3-5 % (1 SD) in ANSUR II
    assert 0.14 < upper.min() and upper.max() < 0.21
    # Men are taller and broader-shouldered than women, on the median.
    men, women = table.sex == 1, table.sex == 0
    assert table.stature[men].median() > table.stature[women].median() + 0.08
    sh = B["thorax->left_shoulder"]
    assert table.bone_lengths[men, sh].median() > table.bone_lengths[women, sh].median()


def test_formulas_by_hand():
    m = {
        "bicristalbreadth": np.array([300.0]),
        "trochanterionheight": np.array([900.0]),
        "lateralfemoralepicondyleheight": np.array([500.0]),
        "lateralmalleolusheight": np.array([75.0]),
        "suprasternaleheight": np.array([1400.0]),
        "acromialheight": np.array([1430.0]),
        "biacromialbreadth": np.array([400.0]),
        "acromionradialelength": np.array([325.0]),
        "radialestylionlength": np.array([260.0]),
        "stature": np.array([1700.0]),
    }
    got = bone_lengths_from_measurements(m)[0]
    assert got[B["pelvis->left_hip"]] == pytest.approx(0.324 * 0.300)
    assert got[B["left_hip->left_knee"]] == pytest.approx(0.400)
    assert got[B["left_knee->left_ankle"]] == pytest.approx(0.420)
    assert got[B["pelvis->spine"]] + got[B["spine->thorax"]] == pytest.approx(0.500)
    assert got[B["thorax->neck_nose"]] == pytest.approx(0.38 * 0.300)
    assert got[B["thorax->right_shoulder"]] == pytest.approx(
        math.hypot(1400 - 1430 + 40, 170) / 1e3
    )
    assert got[B["right_shoulder->right_elbow"]] == pytest.approx(0.300)
    assert got[B["right_elbow->right_wrist"]] == pytest.approx(0.250)
    with pytest.raises(KeyError, match="needs ANSUR columns"):
        bone_lengths_from_measurements({"stature": np.array([1700.0])})


def test_every_formula_is_documented():
    assert tuple(f.bone for f in BONE_FORMULAS) == H36M_17.bone_names
    for f in BONE_FORMULAS:
        assert f.measurements and len(f.reasoning) > 40, f.bone


def test_validation_split_is_held_out(table):
    frac = table.is_validation.double().mean().item()
    assert 0.12 < frac < 0.18
    for sex in (0, 1):
        assert table.is_validation[table.sex == sex].any()
    train, val = table.rows("train"), table.rows("validation")
    assert len(train) + len(val) == len(table)
    assert not set(train.tolist()) & set(val.tolist())
    assert (table.split[val.numpy()] == "validation").all()
    assert (table.split[train.numpy()] == "train").all()


# --------------------------------------------------------------------- sampler


@pytest.mark.parametrize("split", ["train", "validation", "all"])
def test_samples_are_rows_of_their_split(table, split):
    g = torch.Generator().manual_seed(3)
    got = sample_bone_lengths(500, g, split=split)
    assert got.shape == (500, 16) and got.dtype == torch.float32
    pool = table.bone_lengths[table.rows(split)]
    # Each sample equals a row of the split's pool.
    assert (got[:, None, :] == pool[None]).all(dim=-1).any(dim=1).all()
    # With replacement from a pool of hundreds or thousands: many distinct bodies.
    assert len({tuple(r) for r in got.tolist()}) > 300


def test_sampling_is_seeded(device, dtype):
    a = sample_bone_lengths(64, torch.Generator().manual_seed(7), device=device, dtype=dtype)
    b = sample_bone_lengths(64, torch.Generator().manual_seed(7), device=device, dtype=dtype)
    c = sample_bone_lengths(64, torch.Generator().manual_seed(8), device=device, dtype=dtype)
    assert a.device.type == torch.device(device).type and a.dtype == dtype
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_scale_jitter_is_bounded_and_per_bone():
    plain = sample_bone_lengths(256, torch.Generator().manual_seed(5), dtype=torch.float64)
    jit = sample_bone_lengths(
        256, torch.Generator().manual_seed(5), scale_jitter=0.1, dtype=torch.float64
    )
    ratio = jit / plain  # the same bodies are drawn first, then the jitter
    assert ratio.min() >= 0.9 - 1e-6 and ratio.max() <= 1.1 + 1e-6
    assert ratio.std().item() > 0.03
    # Per bone: left and right of one body get different factors.
    left, right = B["left_hip->left_knee"], B["right_hip->right_knee"]
    assert not torch.allclose(ratio[:, left], ratio[:, right])


def test_bad_input_is_reported():
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="Human3.6M-17 skeleton"):
        sample_bone_lengths(4, g, skeleton=MPI_INF_3DHP_17)
    with pytest.raises(ValueError, match="split: expected 'train', 'validation' or 'all'"):
        sample_bone_lengths(4, g, split="test")
    with pytest.raises(ValueError, match="scale_jitter"):
        sample_bone_lengths(4, g, scale_jitter=-0.1)
    with pytest.raises(ValueError, match="n: expected an int"):
        sample_bone_lengths(-1, g)
    assert sample_bone_lengths(0, g).shape == (0, 16)


# ------------------------------------------------------- marker-defined joints


def test_marker_joints_keep_the_trunk_and_every_other_bone(device, dtype):
    g = torch.Generator(device).manual_seed(3)
    lengths = sample_bone_lengths(600, g, device=device, dtype=dtype).reshape(20, 30, 16)
    ranges = MarkerJointRanges()
    varied = vary_marker_joints(lengths, g, ranges)
    assert varied.shape == lengths.shape and varied.dtype == dtype
    assert varied.device.type == torch.device(device).type
    lower, upper = B["pelvis->spine"], B["spine->thorax"]
    neck, head = B["thorax->neck_nose"], B["neck_nose->head"]
    others = [b for b in range(16) if b not in (lower, upper, neck, head)]
    assert torch.equal(varied[..., others], lengths[..., others])
    tol = 1e-6 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(
        varied[..., lower] + varied[..., upper], lengths[..., lower] + lengths[..., upper]
    )
    spine = varied[..., lower] / (varied[..., lower] + varied[..., upper])
    scale = (varied[..., neck] + varied[..., head]) / (lengths[..., neck] + lengths[..., head])
    share = varied[..., neck] / (varied[..., neck] + varied[..., head])
    for values, (lo, hi) in (
        (spine, ranges.spine_fraction),
        (scale, ranges.head_and_neck_scale),
        (share, ranges.neck_fraction),
    ):
        assert values.min() >= lo - tol and values.max() <= hi + tol
        # One draw per body, spread over most of the range (600 uniform draws).
        assert values.max() - values.min() > 0.9 * (hi - lo)
    # The three draws are independent of each other.
    assert abs(torch.corrcoef(torch.stack([spine.flatten(), share.flatten()]))[0, 1]) < 0.15
    # The library's reader of the definitions agrees with the computation above.
    read = marker_joint_definitions(varied)
    torch.testing.assert_close(read.spine_fraction, spine)
    torch.testing.assert_close(read.neck_fraction, share)
    torch.testing.assert_close(read.head_and_neck, varied[..., neck] + varied[..., head])


def test_marker_joints_are_seeded_and_do_not_change_their_input():
    lengths = sample_bone_lengths(8, torch.Generator().manual_seed(0), dtype=torch.float64)
    before = lengths.clone()
    a = vary_marker_joints(lengths, torch.Generator().manual_seed(1))
    b = vary_marker_joints(lengths, torch.Generator().manual_seed(1))
    c = vary_marker_joints(lengths, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(lengths, before)
    # A range of one value gives exactly that definition.
    fixed = MarkerJointRanges((0.5, 0.5), (1.0, 1.0), (0.5, 0.5))
    out = vary_marker_joints(lengths, torch.Generator().manual_seed(1), fixed)
    torch.testing.assert_close(out[:, B["pelvis->spine"]], out[:, B["spine->thorax"]])
    torch.testing.assert_close(out[:, B["thorax->neck_nose"]], out[:, B["neck_nose->head"]])


def test_marker_joint_bad_input_is_reported():
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="spine_fraction: expected 0 < lo <= hi < 1"):
        MarkerJointRanges(spine_fraction=(0.6, 0.4))
    with pytest.raises(ValueError, match="neck_fraction"):
        MarkerJointRanges(neck_fraction=(0.2, 1.0))
    with pytest.raises(ValueError, match="head_and_neck_scale"):
        MarkerJointRanges(head_and_neck_scale=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 16\), got \(4, 15\)"):
        vary_marker_joints(torch.ones(4, 15), g)
    with pytest.raises(ValueError, match="Human3.6M-17"):
        vary_marker_joints(torch.ones(4, 16), g, skeleton=MPI_INF_3DHP_17)
    with pytest.raises(ValueError, match="Human3.6M-17"):
        marker_joint_definitions(torch.ones(4, 16), skeleton=MPI_INF_3DHP_17)


def test_lower_thorax_moves_only_the_trunk_joints_toward_the_pelvis(device, dtype):
    g = torch.Generator().manual_seed(4)
    joints = random_poses(batch=(5, 7), seed=4, dtype=dtype).to(device)
    drop = torch.rand(5, 1, generator=g, dtype=dtype).to(device) * 0.4
    out = lower_thorax(joints, drop)
    assert out.shape == joints.shape and out.dtype == dtype and out.device == joints.device
    idx = H36M_17.joint_index
    spine, thorax, pelvis = idx("spine"), idx("thorax"), H36M_17.root
    others = [j for j in range(17) if j not in (spine, thorax)]
    assert torch.equal(out[..., others, :], joints[..., others, :])
    for j in (spine, thorax):  # on the same ray from the pelvis, (1 - drop) as far
        torch.testing.assert_close(
            out[..., j, :] - out[..., pelvis, :],
            (1 - drop[..., None]) * (joints[..., j, :] - joints[..., pelvis, :]),
        )
    # A zero drop changes nothing; a number broadcasts like a tensor of it.
    assert torch.equal(lower_thorax(joints, 0.0), joints)
    torch.testing.assert_close(
        lower_thorax(joints, 0.2),
        lower_thorax(joints, torch.full((5, 7), 0.2, dtype=dtype, device=device)),
    )


def test_lowering_the_thorax_raises_the_shoulders_above_it():
    """The measure of the thorax's definition moves as the docstring says: a drop d takes
    a pose with shoulders at height s above the thorax to (s + d) / (1 - d)."""
    joints = random_poses(batch=(200,), seed=5)
    before = shoulders_above_thorax(joints)
    for d in (0.1, 0.24):
        torch.testing.assert_close(
            shoulders_above_thorax(lower_thorax(joints, d)), (before + d) / (1 - d)
        )
    # Invariant to where the pose is and how large it is.
    torch.testing.assert_close(shoulders_above_thorax(2.5 * joints + 1.0), before)


def test_shoulders_above_thorax_separates_the_sources_definitions():
    """The per-source medians quoted in MarkerJointRanges' docstring (embedded data)."""
    per_subject: dict[str, list[torch.Tensor]] = {}
    for s in load_default_dataset().sequences:
        per_subject.setdefault(s.subject, []).append(shoulders_above_thorax(s.joints_world))
    median = {k: float(torch.cat(v).median()) for k, v in per_subject.items()}
    assert median["CMU01"] == pytest.approx(0.17, abs=0.005)
    assert median["DeepMimic"] == pytest.approx(0.04, abs=0.01)
    assert median["ClimberA"] == pytest.approx(-0.09, abs=0.005)
    # The preset's largest drop takes every training source past CMU01's definition.
    lowest = min(median["ClimberA"], median["DeepMimic"])
    hi = MarkerJointRanges.including_thorax().thorax_drop[1]
    assert (lowest + hi) / (1 - hi) > median["CMU01"]


def test_vary_thorax_draws_one_drop_per_video_and_nothing_when_off():
    joints = random_poses(batch=(300, 4), seed=6)
    ranges = MarkerJointRanges.including_thorax()
    state = torch.Generator().manual_seed(7).get_state()
    gen = torch.Generator().manual_seed(7)
    out = vary_thorax(joints, gen, ranges)
    assert not torch.equal(gen.get_state(), state)  # drew
    pelvis, thorax = H36M_17.root, H36M_17.joint_index("thorax")
    ratio = (out[..., thorax, :] - out[..., pelvis, :]).norm(dim=-1) / (
        joints[..., thorax, :] - joints[..., pelvis, :]
    ).norm(dim=-1)
    drop = 1 - ratio  # (videos, frames)
    torch.testing.assert_close(drop, drop[:, :1].expand_as(drop))  # one per video
    lo, hi = ranges.thorax_drop
    assert float(drop.min()) >= lo - 1e-9 and float(drop.max()) <= hi + 1e-9
    assert float(drop.max() - drop.min()) > 0.9 * (hi - lo)
    # Seeded; the default ranges draw nothing and return the input itself.
    assert torch.equal(out, vary_thorax(joints, torch.Generator().manual_seed(7), ranges))
    gen = torch.Generator().manual_seed(7)
    assert vary_thorax(joints, gen, MarkerJointRanges()) is joints
    assert torch.equal(gen.get_state(), state)
    with pytest.raises(ValueError, match=r"expected shape \(N, T, J, 3\)"):
        vary_thorax(joints[0], gen, ranges)
    with pytest.raises(ValueError, match="thorax_drop: expected 0 <= lo <= hi < 0.5"):
        MarkerJointRanges(thorax_drop=(0.1, 0.6))
    with pytest.raises(ValueError, match="Human3.6M-17"):
        lower_thorax(joints, 0.1, skeleton=MPI_INF_3DHP_17)
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 17, 3\)"):
        lower_thorax(joints[..., :16, :], 0.1)


def test_thorax_probability_lowers_that_share_of_the_videos_and_keeps_the_rest():
    joints = random_poses(batch=(400, 3), seed=8)
    pelvis, thorax = H36M_17.root, H36M_17.joint_index("thorax")

    def drops(ranges: MarkerJointRanges) -> torch.Tensor:
        out = vary_thorax(joints, torch.Generator().manual_seed(9), ranges)
        height = lambda x: (x[..., thorax, :] - x[..., pelvis, :]).norm(dim=-1)  # noqa: E731
        return 1 - height(out)[:, 0] / height(joints)[:, 0]  # (videos,)

    every, half = (
        drops(MarkerJointRanges.including_thorax()),
        drops(MarkerJointRanges.including_thorax(probability=0.5)),
    )
    lowered = half.abs() > 1e-9
    assert 0.4 < float(lowered.float().mean()) < 0.6  # about half, binomial(400, 0.5)
    # The drops are those of probability 1 (drawn first, from the same numbers), kept or not.
    torch.testing.assert_close(half[lowered], every[lowered])
    assert torch.equal(half[~lowered], torch.zeros_like(half[~lowered]))
    assert MarkerJointRanges.including_thorax().thorax_probability == 1.0
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="thorax_probability: expected a chance in"):
            MarkerJointRanges.including_thorax(probability=bad)


def test_lower_thorax_gradcheck():
    joints = random_poses(batch=(2,), seed=8).requires_grad_()
    drop = torch.tensor([0.1, 0.3], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lower_thorax, (joints, drop))


# ------------------------------------------------------- against real mocap


def test_motion_capture_limbs_fall_inside_the_ansur_range(table):
    """The embedded mocap subjects' limbs (leg = thigh + shank, arm = upper arm +
    forearm, medians over their frames) lie inside the measured range of the table."""
    lengths: dict[str, list[torch.Tensor]] = {}
    for s in load_default_dataset().sequences:
        lengths.setdefault(s.subject, []).append(joints_to_bones(s.joints_world, H36M_17).lengths)
    t = table.bone_lengths
    limbs = {
        "leg": ("left_hip->left_knee", "left_knee->left_ankle"),
        "arm": ("left_shoulder->left_elbow", "left_elbow->left_wrist"),
        "trunk": ("pelvis->spine", "spine->thorax"),
    }
    for subject, parts in lengths.items():
        med = torch.cat(parts).median(dim=0).values
        for limb, bones in limbs.items():
            idx = [B[n] for n in bones]
            ansur = t[:, idx].sum(1)
            value = med[idx].sum()
            assert ansur.min() <= value <= ansur.max(), (subject, limb, value.item())


@pytest.mark.skipif(
    not any(
        Path(os.environ.get("ANATOMY3D_CACHE", Path.home() / ".cache/anatomy3d/registry")).rglob(
            "nimblephysics-0.10.52.1-*.whl"
        )
    ),
    reason="nimblephysics wheel not in $ANATOMY3D_CACHE (build-time data)",
)
def test_build_reproduces_the_shipped_file(tmp_path):
    from anatomy_lib.data.build_bodies import build

    cache = Path(os.environ.get("ANATOMY3D_CACHE", Path.home() / ".cache/anatomy3d/registry"))
    path = build(cache, tmp_path)
    shipped = Path(__file__).parents[1] / "anatomy_lib" / "data" / "files" / BODY_TABLE_FILE
    assert path.read_bytes() == shipped.read_bytes()
