"""Tests of the anatomical joint-angle limits (Rajagopal model ranges, H36M-17 angles)."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import standing_pose
from hypothesis import given, settings
from hypothesis import strategies as st

from anatomy_lib.bones import mirror_joints
from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.joint_limits import (
    ANGLE_NAMES,
    JOINT_LIMITS,
    RAJAGOPAL_RANGES_DEG,
    broken_limits,
    joint_angles,
    limit_violations,
    pass_rates,
    within_limits,
)
from anatomy_lib.skeleton import H36M_17, MPI_INF_3DHP_17

# conftest's standing pose: y up, x to the subject's left, so forward is +z.
FORWARD = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm()


def _hinge(pose: torch.Tensor, a: int, b: int, c: int, angle_deg: float, toward: torch.Tensor):
    """Set joint c so that the segment b->c leaves the line a->b by ``angle_deg`` toward
    ``toward`` (made orthogonal to a->b), keeping the length of b->c."""
    pose = pose.clone()
    d = _unit(pose[b] - pose[a])
    t = toward.to(pose) - (toward.to(pose) @ d) * d
    t = _unit(t)
    length = (pose[c] - pose[b]).norm()
    r = math.radians(angle_deg)
    pose[c] = pose[b] + length * (math.cos(r) * d + math.sin(r) * t)
    return pose


def _set_knee(pose, side: str, flexion_deg: float):
    hip, knee, ankle = (4, 5, 6) if side == "left" else (1, 2, 3)
    # Flexion sends the shank backwards; negative flexion (hyper-extension) forwards.
    return _hinge(pose, hip, knee, ankle, flexion_deg, -FORWARD)


def _set_elbow(pose, side: str, flexion_deg: float):
    sho, elb, wri = (11, 12, 13) if side == "left" else (14, 15, 16)
    # With the arm hanging, flexion brings the forearm forwards.
    return _hinge(pose, sho, elb, wri, flexion_deg, FORWARD)


def _random_rotation(q: tuple[float, float, float, float], dtype) -> torch.Tensor:
    w, x, y, z = (v / math.sqrt(sum(c * c for c in q)) for v in q)
    return torch.tensor(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=dtype,
    )


# ------------------------------------------------------------------ the table


def test_table_matches_rajagopal_where_not_widened():
    by_name = {lim.name: lim for lim in JOINT_LIMITS}
    assert tuple(by_name) == ANGLE_NAMES
    for side in ("left", "right"):
        assert by_name[f"hip_flexion_{side}"].low == RAJAGOPAL_RANGES_DEG["hip_flexion"][0]
        low, high = RAJAGOPAL_RANGES_DEG["hip_adduction"]
        assert (by_name[f"hip_abduction_{side}"].low, by_name[f"hip_abduction_{side}"].high) == (
            -high,
            -low,
        )
        assert by_name[f"knee_flexion_{side}"].low == RAJAGOPAL_RANGES_DEG["knee_angle"][0]
        assert (by_name[f"elbow_flexion_{side}"].low, by_name[f"elbow_flexion_{side}"].high) == (
            RAJAGOPAL_RANGES_DEG["elbow_flex"]
        )
    for name, source in (("trunk_bending", "lumbar_bending"), ("trunk_twist", "lumbar_rotation")):
        assert (by_name[name].low, by_name[name].high) == RAJAGOPAL_RANGES_DEG[source]
    # Every widened limit says so.
    for lim in JOINT_LIMITS:
        key = lim.source.split()[0].lstrip("-")
        ref = RAJAGOPAL_RANGES_DEG[key]
        if key == "hip_adduction":
            ref = (-ref[1], -ref[0])
        if (lim.low, lim.high) != ref and key != "lumbar_extension":
            assert "WIDENED" in lim.note, lim.name


# ---------------------------------------------------------- angle definitions


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("flexion", [-40.0, -10.0, 0.0, 30.0, 90.0, 140.0])
def test_knee_flexion_is_the_signed_hinge_angle(side, flexion):
    pose = _set_knee(standing_pose(), side, flexion)
    angle = math.degrees(joint_angles(pose)[f"knee_flexion_{side}"].item())
    assert angle == pytest.approx(flexion, abs=1e-6)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("flexion", [-40.0, 0.0, 45.0, 120.0])
def test_elbow_flexion_is_the_signed_hinge_angle(side, flexion):
    pose = _set_elbow(standing_pose(), side, flexion)
    angle = math.degrees(joint_angles(pose)[f"elbow_flexion_{side}"].item())
    assert angle == pytest.approx(flexion, abs=1e-6)


@pytest.mark.parametrize("side", ["left", "right"])
def test_hip_flexion_and_abduction_of_a_raised_thigh(side):
    pose = standing_pose()
    pose[7, 2] = pose[0, 2]  # spine straight above the pelvis: pelvis frame = world axes
    hip, knee, ankle = (4, 5, 6) if side == "left" else (1, 2, 3)
    outward = torch.tensor([1.0 if side == "left" else -1.0, 0.0, 0.0], dtype=torch.float64)
    down = torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64)
    # Thigh straight forward (hip flexion 90), then 30 deg outward from the sagittal plane.
    r = math.radians(30.0)
    direction = math.cos(r) * FORWARD + math.sin(r) * outward
    thigh = (pose[knee] - pose[hip]).norm()
    shank = pose[ankle] - pose[knee]
    pose[knee] = pose[hip] + thigh * direction
    pose[ankle] = pose[knee] + shank.norm() * down
    angles = joint_angles(pose)
    assert math.degrees(angles[f"hip_flexion_{side}"].item()) == pytest.approx(90.0, abs=1e-6)
    assert math.degrees(angles[f"hip_abduction_{side}"].item()) == pytest.approx(30.0, abs=1e-6)
    assert math.degrees(angles[f"knee_flexion_{side}"].item()) == pytest.approx(90.0, abs=1e-6)
    assert within_limits(pose).item()


def test_standing_pose_is_near_neutral_and_within_limits():
    angles = joint_angles(standing_pose())
    for name, value in angles.items():
        assert abs(math.degrees(value.item())) < 15.0, name
    assert within_limits(standing_pose()).item()
    assert broken_limits(standing_pose()) == []


def test_trunk_twist_and_bend_follow_the_shoulders():
    pose = standing_pose()
    # Turn the upper body (thorax, head, arms) 30 deg to the left about the vertical
    # through the spine joint: the twist is 30 deg, flexion and bending stay ~0.
    rot = _random_rotation(
        (math.cos(math.radians(15)), 0.0, math.sin(math.radians(15)), 0.0), pose.dtype
    )
    upper = [8, 9, 10, 11, 12, 13, 14, 15, 16]
    pivot = pose[7]
    pose[upper] = (pose[upper] - pivot) @ rot.T + pivot
    angles = {k: math.degrees(v.item()) for k, v in joint_angles(pose).items()}
    assert angles["trunk_twist"] == pytest.approx(30.0, abs=1.0)
    assert abs(angles["trunk_bending"]) < 2.0
    # Lean the whole upper body forward by 45 deg about the left axis.
    pose2 = standing_pose()
    c, s = math.cos(math.radians(22.5)), math.sin(math.radians(22.5))
    lean = _random_rotation((c, s, 0.0, 0.0), pose2.dtype)  # about +x (left): +y to +z
    pose2[upper] = (pose2[upper] - pose2[7]) @ lean.T + pose2[7]
    flexion = math.degrees(joint_angles(pose2)["trunk_flexion"].item())
    assert flexion == pytest.approx(
        45.0 + math.degrees(joint_angles(standing_pose())["trunk_flexion"].item()), abs=1.0
    )


# -------------------------------------------------------------- broken poses


@pytest.mark.parametrize("side", ["left", "right"])
def test_clearly_broken_poses_fail(side):
    base = standing_pose()
    knee_back = _set_knee(base, side, -40.0)
    elbow_back = _set_elbow(base, side, -40.0)
    # Leg through the torso: the thigh points up into the trunk, the shank continues.
    through = base.clone()
    hip, knee, ankle = (4, 5, 6) if side == "left" else (1, 2, 3)
    up = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    through[knee] = through[hip] + 0.43 * up
    through[ankle] = through[knee] + 0.44 * up
    batch = torch.stack([base, knee_back, elbow_back, through])
    ok = within_limits(batch)
    assert ok.tolist() == [True, False, False, False]
    reasons = broken_limits(batch)
    assert reasons[0] == []
    assert [r.split()[0] for r in reasons[1]] == [f"knee_flexion_{side}"]
    assert [r.split()[0] for r in reasons[2]] == [f"elbow_flexion_{side}"]
    assert f"hip_flexion_{side}" in [r.split()[0] for r in reasons[3]]
    assert "-40 deg" in reasons[1][0]


def test_margin_moves_the_boundary():
    pose = _set_knee(standing_pose(), "left", -15.0)
    assert not within_limits(pose, margin_deg=10.0).item()
    assert within_limits(pose, margin_deg=20.0).item()
    viol = limit_violations(pose, margin_deg=10.0)
    assert viol["knee_flexion_left"].item() == pytest.approx(5.0, abs=1e-6)
    assert all(v.item() == 0 for k, v in viol.items() if k != "knee_flexion_left")


# ----------------------------------------------------------------- real mocap


@pytest.fixture(scope="module")
def mocap_clips():
    ds = load_default_dataset()
    clips, seen = [], set()
    for s in ds.sequences:
        if (s.subject, s.action) not in seen:
            seen.add((s.subject, s.action))
            clips.append((f"{s.subject}/{s.action}", s.joints_world, s.joints_3d))
    return clips


def test_real_motion_capture_passes(mocap_clips):
    """Every clip of the embedded dataset (climbing, CMU, DeepMimic cartwheels and
    backflips) passes with the default margin: >= 98 % per clip, >= 99.5 % overall."""
    total = passed = 0
    for name, world, camera in mocap_clips:
        ok = within_limits(world)
        assert ok.float().mean().item() >= 0.98, name
        # The same frames seen from a camera give the same verdict (frame invariance).
        assert torch.equal(ok, within_limits(camera)), name
        total += ok.numel()
        passed += int(ok.sum())
    assert passed / total >= 0.995


def test_pass_rates_per_clip(mocap_clips):
    rates = pass_rates()
    assert set(rates) == {name for name, _, _ in mocap_clips} | {"all"}
    name, world, _ = mocap_clips[0]
    assert rates[name] == pytest.approx(within_limits(world).double().mean().item(), abs=1e-4)
    strict = pass_rates(margin_deg=0.0)
    assert all(strict[k] <= rates[k] for k in rates)
    assert strict["all"] < rates["all"]  # the capture does touch the ranges


def test_real_frames_broken_by_hand_fail(mocap_clips):
    _, world, _ = mocap_clips[-1]  # ClimberB: real poses, arms often overhead
    frames = world[::97]
    ok = within_limits(frames)
    frames = frames[ok]
    assert len(frames) > 5
    # Fold each left knee 40 deg past straight, forwards (against its flexion direction).
    broken = []
    for f in frames.double():
        left = _unit(f[4] - f[1])
        thigh = _unit(f[5] - f[4])
        axis = _unit(left - (left @ thigh) * thigh)
        broken.append(_hinge(f, 4, 5, 6, 40.0, -torch.linalg.cross(axis, thigh, dim=-1)))
    broken = torch.stack(broken)
    assert not within_limits(broken).any()
    assert torch.rad2deg(joint_angles(broken)["knee_flexion_left"]).sub(-40.0).abs().max() < 1e-3


# ------------------------------------------------- invariance, dtype, device


@settings(max_examples=25, deadline=None)
@given(
    q=st.tuples(*[st.floats(-1.0, 1.0) for _ in range(4)]).filter(
        lambda q: sum(c * c for c in q) > 0.05
    ),
    shift=st.tuples(*[st.floats(-5.0, 5.0) for _ in range(3)]),
    knee=st.floats(-60.0, 150.0),
    elbow=st.floats(-60.0, 150.0),
    scale=st.floats(0.1, 10.0),
)
def test_angles_invariant_under_rotation_translation_and_scale(q, shift, knee, elbow, scale):
    pose = _set_elbow(_set_knee(standing_pose(), "right", knee), "left", elbow)
    rot = _random_rotation(q, pose.dtype)
    moved = scale * pose @ rot.T + torch.tensor(shift, dtype=pose.dtype)
    a, b = joint_angles(pose), joint_angles(moved)
    for name in ANGLE_NAMES:
        assert a[name].item() == pytest.approx(b[name].item(), abs=1e-6), name
    assert within_limits(pose).item() == within_limits(moved).item()


def test_dtype_device_and_batch_shapes(device, dtype):
    pose = standing_pose(dtype, device)
    batch = torch.stack([pose, _set_knee(pose.double().cpu(), "left", -40).to(device, dtype)])
    batch = batch.expand(3, 2, 17, 3)
    angles = joint_angles(batch)
    assert set(angles) == set(ANGLE_NAMES)
    for value in angles.values():
        assert value.shape == (3, 2) and value.dtype == dtype and value.device == pose.device
    ok = within_limits(batch)
    assert ok.dtype == torch.bool and ok.shape == (3, 2) and ok.device == pose.device
    assert ok[:, 0].all() and not ok[:, 1].any()


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="17"):
        joint_angles(torch.zeros(5, 16, 3))
    with pytest.raises(ValueError, match="Human3.6M-17"):
        joint_angles(torch.zeros(17, 3), skeleton=MPI_INF_3DHP_17)
    with pytest.raises(ValueError, match="margin_deg"):
        within_limits(standing_pose(), margin_deg=-1.0)
    with pytest.raises(ValueError, match=r"\(17, 3\) or \(N, 17, 3\)"):
        broken_limits(torch.zeros(2, 2, 17, 3))
    nan = standing_pose()
    nan[3, 0] = float("nan")
    with pytest.raises(ValueError):
        within_limits(nan)


def test_mirror_image_swaps_sides(mocap_clips):
    """A mirrored pose (reflected, left and right joints swapped) has the left and right
    angles exchanged, the trunk's bending and twist negated and its flexion kept."""
    frames = torch.cat([world[::50] for _, world, _ in mocap_clips]).double()
    a = joint_angles(frames)
    b = joint_angles(mirror_joints(frames, H36M_17, axis=1))
    for name in ANGLE_NAMES:
        if name.endswith("_left") or name.endswith("_right"):
            other = name.replace("_left", "_R").replace("_right", "_left").replace("_R", "_right")
            torch.testing.assert_close(a[name], b[other], atol=1e-9, rtol=0)
    torch.testing.assert_close(a["trunk_flexion"], b["trunk_flexion"], atol=1e-9, rtol=0)
    torch.testing.assert_close(a["trunk_bending"], -b["trunk_bending"], atol=1e-9, rtol=0)
    torch.testing.assert_close(a["trunk_twist"], -b["trunk_twist"], atol=1e-9, rtol=0)
