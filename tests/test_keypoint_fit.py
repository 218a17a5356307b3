"""anatomy_lib.keypoint_fit: the root on the keypoints' rays, the fit to the 2D."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import standing_pose, tolerance

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.camera import Camera, project_normalized
from anatomy_lib.data.augment import normalized_intrinsics
from anatomy_lib.keypoint_fit import (
    KeypointFitConfig,
    KeypointPull,
    fit_to_keypoints,
    least_squares_strengths,
    pull_to_keypoints,
    root_translation,
)
from anatomy_lib.skeleton import H36M_17

CAMERA = Camera("test", 1280, 720, (1000.0, 1010.0), (650.0, 350.0))
RIGHT_ELBOW, RIGHT_WRIST = H36M_17.joint_index("right_elbow"), H36M_17.joint_index("right_wrist")


def camera_poses(frames: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """``(frames, 17, 3)`` a standing pose in camera space (y down, z forward), its right
    forearm pointing at the camera, each frame turned (0.15 rad more per frame) and placed
    differently, 3 m away and 0.5 m further per frame."""
    pose = standing_pose(torch.float64) * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    pose[RIGHT_WRIST] = pose[RIGHT_ELBOW] + torch.tensor([0.0, -0.08, -0.24]).double()
    pose = pose - pose[0]
    out = []
    for t in range(frames):
        a = 0.15 * t
        turn = torch.tensor(
            [[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]]
        ).double()
        out.append(pose @ turn.T + torch.tensor([0.3 - 0.2 * t, 0.1 * t, 3.0 + 0.5 * t]).double())
    return torch.stack(out).to(dtype=dtype, device=device)


def exact_2d(joints: torch.Tensor) -> torch.Tensor:
    """The joints' pinhole projection in normalised screen coordinates."""
    return project_normalized(joints.double().cpu(), CAMERA, distort=False).to(joints)


def intrinsics_like(joints: torch.Tensor) -> torch.Tensor:
    return normalized_intrinsics(CAMERA, dtype=torch.float64).to(joints)


def test_root_translation_is_exact_for_exact_2d(dtype, device):
    joints = camera_poses(5, dtype, device)
    relative = joints - joints[:, :1]
    t = root_translation(relative, exact_2d(joints), None, intrinsics_like(joints))
    assert t.shape == (5, 3) and t.dtype == dtype and t.device.type == device.type
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    torch.testing.assert_close(t, joints[:, 0], atol=tol, rtol=0)


def test_root_translation_ignores_keypoints_with_score_zero():
    joints = camera_poses(3)
    relative = joints - joints[:, :1]
    keypoints, scores = exact_2d(joints), torch.ones(3, 17, dtype=torch.float64)
    keypoints[:, RIGHT_WRIST] += 0.3  # a gross error, with no say
    scores[:, RIGHT_WRIST] = 0
    t = root_translation(relative, keypoints, scores, intrinsics_like(joints))
    torch.testing.assert_close(t, joints[:, 0], atol=1e-9, rtol=0)


def test_the_truth_with_its_own_2d_stays_where_it_is(dtype, device):
    joints = camera_poses(4, dtype, device)
    relative = joints - joints[:, :1]
    fit = fit_to_keypoints(relative, exact_2d(joints), None, intrinsics_like(joints))
    assert fit.joints.dtype == dtype and fit.joints.device.type == device.type
    assert float((fit.joints - relative).norm(dim=-1).max()) < 1e-3  # metres
    assert float((fit.translation - joints[:, 0]).norm(dim=-1).max()) < 1e-2


def forearm_flattened(joints: torch.Tensor) -> torch.Tensor:
    """Root-relative joints whose right forearm keeps its length but lies in the image
    plane (its depth component removed): a pose the 2D's foreshortening contradicts."""
    relative = (joints - joints[:, :1]).clone()
    forearm = relative[:, RIGHT_WRIST] - relative[:, RIGHT_ELBOW]
    flat = forearm * torch.tensor([1.0, 1.0, 0.3], dtype=joints.dtype, device=joints.device)
    flat = flat * forearm.norm(dim=-1, keepdim=True) / flat.norm(dim=-1, keepdim=True)
    relative[:, RIGHT_WRIST] = relative[:, RIGHT_ELBOW] + flat
    return relative


def test_foreshortening_turns_a_bone_back_in_depth(dtype, device):
    """With the true 2D and a weak prior, a bone the network laid flat is turned back
    towards the depth its 2D length says."""
    joints = camera_poses(4, dtype, device)
    truth = joints - joints[:, :1]
    wrong = forearm_flattened(joints)
    config = KeypointFitConfig(prior_weight=1.0, iterations=400)
    fit = fit_to_keypoints(wrong, exact_2d(joints), None, intrinsics_like(joints), config)
    before = (wrong[:, RIGHT_WRIST] - truth[:, RIGHT_WRIST]).norm(dim=-1)
    after = (fit.joints[:, RIGHT_WRIST] - truth[:, RIGHT_WRIST]).norm(dim=-1)
    assert bool((before > 0.05).all())
    assert bool((after < 0.25 * before).all()), (before, after)


def test_a_strong_prior_keeps_the_network_pose():
    joints = camera_poses(3)
    wrong = forearm_flattened(joints)
    config = KeypointFitConfig(prior_weight=1e9)
    fit = fit_to_keypoints(wrong, exact_2d(joints), None, intrinsics_like(joints), config)
    assert float((fit.joints - wrong).norm(dim=-1).max()) < 1e-4


@pytest.mark.parametrize("weight", [1.0, 300.0])
def test_bone_lengths_are_the_network_s(weight):
    joints = camera_poses(3)
    wrong = forearm_flattened(joints)
    noisy = (
        exact_2d(joints)
        + 0.01 * torch.randn(3, 17, 2, generator=torch.Generator().manual_seed(0)).double()
    )
    config = KeypointFitConfig(prior_weight=weight)
    fit = fit_to_keypoints(wrong, noisy, None, intrinsics_like(joints), config)
    assert float((fit.joints - wrong).abs().max()) > 1e-3  # it moved
    torch.testing.assert_close(
        joints_to_bones(fit.joints, H36M_17).lengths, joints_to_bones(wrong, H36M_17).lengths
    )
    torch.testing.assert_close(fit.joints[:, 0], torch.zeros(3, 3, dtype=torch.float64))


def test_a_keypoint_with_score_zero_has_no_say():
    joints = camera_poses(2)
    wrong = forearm_flattened(joints)
    keypoints = exact_2d(joints)
    scores = torch.full((2, 17), 0.8, dtype=torch.float64)
    scores[:, RIGHT_WRIST] = 0
    moved = keypoints.clone()
    moved[:, RIGHT_WRIST] += torch.tensor([0.2, -0.1]).double()
    k = intrinsics_like(joints)
    a = fit_to_keypoints(wrong, keypoints, scores, k)
    b = fit_to_keypoints(wrong, moved, scores, k)
    torch.testing.assert_close(a.joints, b.joints, atol=0, rtol=0)
    c = fit_to_keypoints(wrong, moved, scores.clamp_min(0.5), k)
    assert float((a.joints - c.joints).abs().max()) > 1e-3  # with a say, it moves the fit


def test_frames_and_videos_are_independent_problems():
    joints = camera_poses(6)
    wrong = forearm_flattened(joints)
    keypoints = (
        exact_2d(joints)
        + 0.005 * torch.randn(6, 17, 2, generator=torch.Generator().manual_seed(1)).double()
    )
    k = intrinsics_like(joints)
    whole = fit_to_keypoints(wrong.view(2, 3, 17, 3), keypoints.view(2, 3, 17, 2), None, k)
    parts = [fit_to_keypoints(wrong[i : i + 1], keypoints[i : i + 1], None, k) for i in range(6)]
    torch.testing.assert_close(whole.joints.reshape(6, 17, 3), torch.cat([p.joints for p in parts]))
    torch.testing.assert_close(
        whole.translation.reshape(6, 3), torch.cat([p.translation for p in parts])
    )


def test_inputs_keep_their_gradient_state_and_values():
    joints = camera_poses(2)
    relative = (joints - joints[:, :1]).requires_grad_(True)
    copy = relative.detach().clone()
    with torch.no_grad():  # the fit optimises even where the caller disabled gradients
        fit = fit_to_keypoints(
            forearm_flattened(joints), exact_2d(joints), None, intrinsics_like(joints),
            KeypointFitConfig(prior_weight=1.0),
        )  # fmt: skip
    assert not fit.joints.requires_grad
    err = (fit.joints[:, RIGHT_WRIST] - copy[:, RIGHT_WRIST]).norm(dim=-1)
    assert bool((err < 0.05).all())
    torch.testing.assert_close(relative.detach(), copy)


@pytest.mark.parametrize(
    ("field", "value"),
    [("prior_weight", 0.0), ("prior_weight", float("nan")), ("noise", -0.01),
     ("learning_rate", float("inf")), ("iterations", -1), ("iterations", 2.5)],
)  # fmt: skip
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"KeypointFitConfig.{field}"):
        KeypointFitConfig(**{field: value})


def test_bad_inputs_are_named():
    joints = camera_poses(2)
    relative = joints - joints[:, :1]
    keypoints, k = exact_2d(joints), intrinsics_like(joints)
    with pytest.raises(ValueError, match="keypoints_2d: expected 17 joints"):
        fit_to_keypoints(relative, keypoints[:, :16], None, k)
    with pytest.raises(ValueError, match="look like pixels"):
        fit_to_keypoints(relative, keypoints * 500, None, k)
    with pytest.raises(ValueError, match="keypoints_2d: expected shape \\(2, 17, 2\\)"):
        fit_to_keypoints(relative, keypoints[:1], None, k)
    with pytest.raises(ValueError, match="intrinsics: expected normalised intrinsics"):
        fit_to_keypoints(relative, keypoints, None, k[:4])
    with pytest.raises(ValueError, match="scores: expected shape \\(2, 17\\)"):
        fit_to_keypoints(relative, keypoints, torch.ones(2, 16), k)
    with pytest.raises(ValueError, match="confidences in \\[0, 1\\]"):
        root_translation(relative, keypoints, torch.full((2, 17), 1.5), k)


def test_a_frame_with_fewer_than_two_scored_keypoints_is_not_placed():
    joints = camera_poses(3)
    wrong = forearm_flattened(joints)
    scores = torch.ones(3, 17, dtype=torch.float64)
    scores[1] = 0  # no detection
    scores[2, 1:] = 0  # one keypoint: two equations for three unknowns
    k = intrinsics_like(joints)
    t = root_translation(wrong, exact_2d(joints), scores, k)
    assert bool(torch.isfinite(t[0]).all()) and bool(torch.isnan(t[1:]).all())
    fit = fit_to_keypoints(wrong, exact_2d(joints), scores, k, KeypointFitConfig(prior_weight=1.0))
    torch.testing.assert_close(fit.joints[1:], wrong[1:], atol=0, rtol=0)  # the network's
    assert bool(torch.isnan(fit.translation[1:]).all())
    assert float((fit.joints[0] - wrong[0]).abs().max()) > 1e-3  # the placed frame is fitted


def test_root_translation_gradcheck():
    joints = camera_poses(2)
    relative = (joints - joints[:, :1]).requires_grad_(True)
    noisy = exact_2d(joints) + 0.01 * torch.randn(
        2, 17, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    scores = torch.rand(2, 17, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    keypoints = noisy.requires_grad_(True)
    k = intrinsics_like(joints)
    assert torch.autograd.gradcheck(
        lambda x, y: root_translation(x, y, scores, k), (relative, keypoints)
    )


def test_a_zero_length_bone_stays_finite():
    joints = camera_poses(2)
    relative = joints - joints[:, :1]
    relative[:, RIGHT_WRIST] = relative[:, RIGHT_ELBOW]  # the forearm has no length
    fit = fit_to_keypoints(relative, exact_2d(joints), None, intrinsics_like(joints))
    assert bool(torch.isfinite(fit.joints).all())
    torch.testing.assert_close(fit.joints[:, RIGHT_WRIST], fit.joints[:, RIGHT_ELBOW])


# --------------------------------------------------------------- the partial pull to the rays


def noisy_2d(joints: torch.Tensor, size: float = 0.01, seed: int = 2) -> torch.Tensor:
    """The joints' exact 2D with Gaussian noise (normalised screen units)."""
    g = torch.Generator().manual_seed(seed)
    noise = size * torch.randn(joints.shape[:-1] + (2,), generator=g, dtype=torch.float64)
    return exact_2d(joints) + noise.to(joints)


def test_pull_of_strength_zero_changes_nothing(dtype, device):
    joints = camera_poses(5, dtype, device)
    wrong = forearm_flattened(joints)
    out = pull_to_keypoints(wrong, noisy_2d(joints), None, intrinsics_like(joints), 0.0, 2.0)
    assert out.dtype == dtype and out.device.type == device.type
    torch.testing.assert_close(out, wrong, atol=tolerance(dtype) * 10, rtol=0)


def test_pull_keeps_depths_and_the_root(dtype, device):
    """Only x and y move: each joint's depth relative to the root is the network's."""
    joints = camera_poses(5, dtype, device)
    wrong = forearm_flattened(joints)
    out = pull_to_keypoints(wrong, noisy_2d(joints), None, intrinsics_like(joints), 0.7, 1.5)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(out[..., 2], wrong[..., 2], atol=tol, rtol=0)
    assert float(out[:, 0].abs().max()) == 0.0
    assert float((out[..., :2] - wrong[..., :2]).abs().max()) > 1e-3  # x, y did move


def test_full_pull_without_smoothing_lies_on_the_rays():
    """Strength 1, scores 1: some placement of the result projects exactly onto the keypoints,
    whatever the network's pose and the detector's noise."""
    joints = camera_poses(4)
    keypoints, k = noisy_2d(joints), intrinsics_like(joints)
    out = pull_to_keypoints(forearm_flattened(joints), keypoints, None, k, 1.0)
    placed = out + root_translation(out, keypoints, None, k).unsqueeze(-2)
    torch.testing.assert_close(exact_2d(placed), keypoints, atol=1e-9, rtol=0)


def test_pull_is_linear_in_its_strength():
    joints = camera_poses(4)
    wrong, keypoints, k = forearm_flattened(joints), noisy_2d(joints), intrinsics_like(joints)
    scores = torch.rand(4, 17, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ends = [pull_to_keypoints(wrong, keypoints, scores, k, s, 1.0) for s in (0.0, 1.0)]
    middle = pull_to_keypoints(wrong, keypoints, scores, k, 0.3, 1.0)
    torch.testing.assert_close(middle, ends[0] + 0.3 * (ends[1] - ends[0]), atol=1e-12, rtol=0)


def test_the_truth_with_its_own_2d_is_not_pulled():
    joints = camera_poses(5)
    truth = joints - joints[:, :1]
    out = pull_to_keypoints(truth, exact_2d(joints), None, intrinsics_like(joints), 1.0, 2.0)
    torch.testing.assert_close(out, truth, atol=1e-9, rtol=0)


def test_a_keypoint_with_score_zero_is_not_pulled_and_has_no_say():
    joints = camera_poses(3)
    wrong, k = forearm_flattened(joints), intrinsics_like(joints)
    keypoints, scores = noisy_2d(joints), torch.full((3, 17), 0.9, dtype=torch.float64)
    scores[:, [0, RIGHT_WRIST]] = 0  # the root unpulled too: the wrist's offset from it stays
    moved = keypoints.clone()
    moved[:, RIGHT_WRIST] += 0.2
    a = pull_to_keypoints(wrong, keypoints, scores, k, 1.0)
    b = pull_to_keypoints(wrong, moved, scores, k, 1.0)
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    torch.testing.assert_close(a[:, RIGHT_WRIST], wrong[:, RIGHT_WRIST], atol=1e-12, rtol=0)
    assert float((a - wrong).abs().max()) > 1e-3  # the scored joints did move


def test_smoothing_the_pull_keeps_a_steady_offset_and_damps_jitter():
    """A still pose seen with a constant 2D offset gets the same pull with or without the
    smoothing; seen with white 2D noise, the smoothed pull moves it less from frame to frame."""
    still = camera_poses(1).expand(40, 17, 3).clone()
    relative, k = forearm_flattened(still), intrinsics_like(still)
    offset = exact_2d(still) + torch.tensor([0.01, -0.02], dtype=torch.float64)
    torch.testing.assert_close(
        pull_to_keypoints(relative, offset, None, k, 0.5, 3.0),
        pull_to_keypoints(relative, offset, None, k, 0.5, 0.0),
        atol=1e-12, rtol=0,
    )  # fmt: skip
    jittered = noisy_2d(still, size=0.01, seed=4)

    def frame_to_frame(out: torch.Tensor) -> float:
        return float((out[1:] - out[:-1]).norm(dim=-1).mean())

    raw = frame_to_frame(pull_to_keypoints(relative, jittered, None, k, 0.5, 0.0))
    smooth = frame_to_frame(pull_to_keypoints(relative, jittered, None, k, 0.5, 3.0))
    assert smooth < 0.4 * raw, (smooth, raw)


def test_pull_treats_videos_independently():
    joints = camera_poses(6)
    wrong, keypoints, k = forearm_flattened(joints), noisy_2d(joints), intrinsics_like(joints)
    both = pull_to_keypoints(
        wrong.view(2, 3, 17, 3), keypoints.view(2, 3, 17, 2), None, k, 0.5, 1.0
    )
    apart = [pull_to_keypoints(wrong[i : i + 3], keypoints[i : i + 3], None, k, 0.5, 1.0)
             for i in (0, 3)]  # fmt: skip
    torch.testing.assert_close(both.reshape(6, 17, 3), torch.cat(apart), atol=1e-12, rtol=0)


@pytest.mark.parametrize("bone_lengths", ["frame", "video"])
def test_pull_is_differentiable(bone_lengths):
    joints = camera_poses(3)
    wrong = forearm_flattened(joints).requires_grad_(True)
    keypoints, k = noisy_2d(joints), intrinsics_like(joints)
    scores = torch.full((3, 17), 0.8, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: pull_to_keypoints(x, keypoints, scores, k, 0.6, 1.0, bone_lengths=bone_lengths),
        (wrong,),
    )


def test_pull_with_the_video_s_bone_lengths(dtype, device):
    """``bone_lengths="video"``: every frame has each bone's median pulled length, and the
    pulled pose's bone directions."""
    joints = camera_poses(7, dtype, device)
    wrong, keypoints, k = forearm_flattened(joints), noisy_2d(joints), intrinsics_like(joints)
    per_frame = joints_to_bones(pull_to_keypoints(wrong, keypoints, None, k, 0.5, 1.0), H36M_17)
    out = pull_to_keypoints(wrong, keypoints, None, k, 0.5, 1.0, bone_lengths="video")
    bones = joints_to_bones(out, H36M_17)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert float(per_frame.lengths.std(dim=0).max()) > 1e-3  # the pull changed lengths
    assert float(bones.lengths.std(dim=0).max()) < tol  # one length per bone now
    median = per_frame.lengths.median(dim=0).values
    torch.testing.assert_close(bones.lengths[0], median, atol=tol, rtol=0)
    torch.testing.assert_close(bones.directions, per_frame.directions, atol=tol * 10, rtol=0)
    assert float(out[:, H36M_17.root].abs().max()) == 0.0


def test_pull_rejects_bad_arguments():
    joints = camera_poses(2)
    wrong, keypoints, k = forearm_flattened(joints), exact_2d(joints), intrinsics_like(joints)
    with pytest.raises(ValueError, match="strength: expected a number in \\[0, 1\\]"):
        pull_to_keypoints(wrong, keypoints, None, k, 1.5)
    with pytest.raises(ValueError, match="sigma_frames: expected a finite number >= 0"):
        pull_to_keypoints(wrong, keypoints, None, k, 0.5, -1.0)
    with pytest.raises(ValueError, match="needs a time axis"):
        pull_to_keypoints(wrong[0], keypoints[0], None, k, 0.5, 1.0)
    with pytest.raises(ValueError, match="bone_lengths: expected one of"):
        pull_to_keypoints(wrong, keypoints, None, k, 0.5, bone_lengths="clip")
    with pytest.raises(ValueError, match='bone_lengths="video" needs a time axis'):
        pull_to_keypoints(wrong[0], keypoints[0], None, k, 0.5, bone_lengths="video")
    with pytest.raises(ValueError, match="look like pixels"):
        pull_to_keypoints(wrong, keypoints * 500, None, k, 0.5)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_one_strength_per_joint_alike_is_that_strength(dtype, device, as_tensor):
    joints = camera_poses(4, dtype, device)
    wrong, keypoints, k = forearm_flattened(joints), noisy_2d(joints), intrinsics_like(joints)
    per_joint = (0.6,) * 17
    strength = torch.tensor(per_joint, dtype=dtype, device=device) if as_tensor else per_joint
    out = pull_to_keypoints(wrong, keypoints, None, k, strength, 1.0, bone_lengths="video")
    expected = pull_to_keypoints(wrong, keypoints, None, k, 0.6, 1.0, bone_lengths="video")
    torch.testing.assert_close(out, expected, atol=tolerance(dtype), rtol=0)


def test_a_joint_of_strength_zero_stays_put_while_the_others_move():
    """With the root's strength 0 too, the root is not pulled, so a joint of strength 0
    keeps the network's root-relative position exactly."""
    joints = camera_poses(4)
    wrong, keypoints, k = forearm_flattened(joints), noisy_2d(joints), intrinsics_like(joints)
    strength = torch.full((17,), 0.8, dtype=torch.float64)
    strength[[H36M_17.root, RIGHT_WRIST]] = 0.0
    out = pull_to_keypoints(wrong, keypoints, None, k, strength, 1.0)
    torch.testing.assert_close(out[:, RIGHT_WRIST], wrong[:, RIGHT_WRIST], atol=1e-12, rtol=0)
    assert float((out[:, RIGHT_ELBOW] - wrong[:, RIGHT_ELBOW]).abs().max()) > 1e-3


def test_per_joint_strengths_are_checked():
    joints = camera_poses(2)
    wrong, keypoints, k = forearm_flattened(joints), exact_2d(joints), intrinsics_like(joints)
    with pytest.raises(
        ValueError, match="one number per joint, shape \\(17,\\), got shape \\(16,\\)"
    ):
        pull_to_keypoints(wrong, keypoints, None, k, (0.5,) * 16)
    with pytest.raises(ValueError, match="per-joint numbers in \\[0, 1\\]"):
        pull_to_keypoints(wrong, keypoints, None, k, (0.5,) * 16 + (1.2,))
    with pytest.raises(ValueError, match="KeypointPull.strength"):
        KeypointPull(strength=(0.5, float("nan")))
    with pytest.raises(ValueError, match="KeypointPull.strength"):
        KeypointPull(strength=())
    assert not KeypointPull(strength=(0.0,) * 17).moves
    assert KeypointPull(strength=(0.0,) * 16 + (0.1,)).moves


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_least_squares_strengths_match_the_variance_ratio_for_independent_errors(dtype):
    """Independent errors of sizes sigma_N and sigma_D: the best strength is
    sigma_N^2 / (sigma_N^2 + sigma_D^2), joint by joint."""
    g = torch.Generator().manual_seed(5)
    truth = torch.randn(40000, 4, 2, generator=g, dtype=torch.float64)
    sigma_n = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=torch.float64)[:, None]
    network = truth + sigma_n * torch.randn(truth.shape, generator=g, dtype=torch.float64)
    detected = truth + torch.randn(truth.shape, generator=g, dtype=torch.float64)
    out = least_squares_strengths(network.to(dtype), detected.to(dtype), truth.to(dtype))
    assert out.dtype == dtype and out.shape == (4,)
    expected = (sigma_n**2 / (sigma_n**2 + 1)).squeeze(-1)
    torch.testing.assert_close(out.double(), expected, atol=0.01, rtol=0)


def test_least_squares_strengths_limits_and_scores():
    g = torch.Generator().manual_seed(6)
    truth = torch.randn(500, 3, 2, generator=g, dtype=torch.float64)
    noisy = truth + 0.1 * torch.randn(truth.shape, generator=g, dtype=torch.float64)
    other = truth + 0.1 * torch.randn(truth.shape, generator=g, dtype=torch.float64)
    zeros, ones = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.testing.assert_close(least_squares_strengths(truth, noisy, truth), zeros)  # exact net
    torch.testing.assert_close(least_squares_strengths(noisy, truth, truth), ones)  # exact 2D
    torch.testing.assert_close(least_squares_strengths(noisy, noisy, truth), zeros)  # never apart
    plain = least_squares_strengths(noisy, other, truth)
    assert bool(((plain > 0.3) & (plain < 0.7)).all())
    one_frame = least_squares_strengths(noisy[0], other[0], truth[0])  # (J, 2): no leading axis
    torch.testing.assert_close(one_frame, least_squares_strengths(noisy[:1], other[:1], truth[:1]))
    assert one_frame.shape == (3,)
    # every score 0.8: the pull is strength x score, so the strength is 1.25 times larger
    lower = torch.full(truth.shape[:-1], 0.8, dtype=torch.float64)
    torch.testing.assert_close(least_squares_strengths(noisy, other, truth, lower), plain / 0.8)
    with pytest.raises(ValueError, match="true_points: expected the shape of network_points"):
        least_squares_strengths(noisy, other, truth[:, :2])
    with pytest.raises(ValueError, match="scores: expected shape \\(500, 3\\)"):
        least_squares_strengths(noisy, other, truth, lower[:, :2])


@pytest.mark.parametrize(
    ("field", "value"),
    [("strength", -0.1), ("strength", 1.5), ("strength", float("nan")), ("strength", True),
     ("strength", (0.5, -0.1)), ("smoothing_s", -0.01), ("smoothing_s", float("inf")),
     ("bone_lengths", "clip")],
)  # fmt: skip
def test_pull_settings_reject_bad_values(field, value):
    with pytest.raises(ValueError, match=f"KeypointPull.{field}"):
        KeypointPull(**{field: value})
