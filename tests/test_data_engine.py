"""The training-data engine: virtual cameras, detector errors and synthetic videos."""

import dataclasses
import math

import pytest
import torch

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.camera import project_with_intrinsics
from anatomy_lib.data.detector_errors import (
    DetectorErrorConfig,
    interpolate_missing,
    simulate_detector,
)
from anatomy_lib.data.engine import VALIDATION_CLIPS, EngineConfig, TrainingDataEngine
from anatomy_lib.data.simulate import body_volume
from anatomy_lib.data.virtual_cameras import (
    VirtualCameraConfig,
    look_at_rotation,
    sample_virtual_cameras,
)
from anatomy_lib.skeleton import H36M_17
from anatomy_lib.training.config import DataConfig


@pytest.fixture(scope="module")
def engine():
    return TrainingDataEngine(EngineConfig(frames=24, bodies="ansur"))


def _standing(n: int, t: int = 6, dtype=torch.float64) -> torch.Tensor:
    """A standing pose (root 1 m above the floor) repeated, moved a little per video."""
    from anatomy_lib.data import load_default_dataset

    pose = load_default_dataset()[0].joints_world[0].to(dtype)
    pose = pose - pose[0] + torch.tensor([0.0, 0.0, 1.0], dtype=dtype)
    shift = torch.linspace(-1, 1, n, dtype=dtype)[:, None, None, None] * torch.tensor(
        [1.0, 0.5, 0.0], dtype=dtype
    )
    return pose.expand(n, t, 17, 3) + shift


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_look_at_rotation_is_a_rotation_with_a_level_x_axis(dtype):
    g = torch.Generator().manual_seed(0)
    eye = torch.randn(50, 3, generator=g, dtype=torch.float64).to(dtype) * 4
    target = torch.randn(50, 3, generator=g, dtype=torch.float64).to(dtype)
    r = look_at_rotation(eye, target)
    eye3 = torch.eye(3, dtype=dtype).expand(50, 3, 3)
    torch.testing.assert_close(r.transpose(-1, -2) @ r, eye3, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(50, dtype=dtype))
    assert r[:, 2, 0].abs().max() < 1e-5  # camera x is horizontal without roll
    assert (r[:, 2, 1] <= 1e-6).all()  # camera y points down the image: no upward component
    view = (target - eye) / (target - eye).norm(dim=-1, keepdim=True)
    torch.testing.assert_close(r[..., 2], view, atol=1e-5, rtol=0)
    rolled = look_at_rotation(eye, target, torch.full((50,), 0.2, dtype=dtype))
    torch.testing.assert_close(rolled[..., 2], r[..., 2])  # roll keeps the optical axis


def test_cameras_frame_the_person_as_configured():
    joints = _standing(64)
    config = VirtualCameraConfig(
        long_side_fov_deg=(40.0, 50.0),  # far enough that the distance is never clamped
        person_height_fraction=(0.5, 0.5),
        centre_offset=0.0,
        roll_deg_std=0.0,
        elevation_deg=(0.0, 0.0),
        distortion_probability=0.0,
        principal_jitter=0.0,
    )
    height = joints[:, 0, :, 2].amax(-1) - joints[:, 0, :, 2].amin(-1)
    cams = sample_virtual_cameras(joints, torch.Generator().manual_seed(1), config, height)
    cam = cams.world_to_camera(joints)
    assert cam[..., 2].min() > config.min_depth_m - 1e-9
    px = project_with_intrinsics(cam, cams.intrinsics[:, None])
    extent = (px[..., 1].amax(-1) - px[..., 1].amin(-1))[:, 0] / cams.height
    # A person of height H at distance d covers f H / d pixels (within perspective effects).
    assert ((extent - 0.5).abs() < 0.08).all(), extent
    centre = 0.5 * (px[..., 1].amax(-1) + px[..., 1].amin(-1))[:, 0] / cams.height
    assert ((centre - 0.5).abs() < 0.08).all()
    sizes = set(zip(cams.width.tolist(), cams.height.tolist(), strict=True))
    assert sizes <= set(config.image_sizes) and len(sizes) > 2


def test_field_of_view_spans_the_long_side_in_either_orientation():
    # A phone turned upright keeps its lens: the drawn range is the angle across the long
    # side, so portrait and landscape frames share one distribution of that angle.
    joints = _standing(400)
    config = VirtualCameraConfig(long_side_fov_deg=(50.0, 70.0))
    cams = sample_virtual_cameras(joints, torch.Generator().manual_seed(2), config)
    long_side = torch.maximum(cams.width, cams.height).double()
    fov = torch.rad2deg(2 * torch.atan(long_side / 2 / cams.intrinsics[:, 0].double()))
    assert fov.min() >= 50.0 - 1e-6 and fov.max() <= 70.0 + 1e-6
    portrait = cams.height > cams.width
    landscape = cams.width > cams.height
    assert portrait.sum() > 50 and landscape.sum() > 50
    # Both orientations fill the range (not one of them squeezed into part of it).
    for part in (portrait, landscape):
        assert fov[part].min() < 53.0 and fov[part].max() > 67.0


def test_cameras_are_reproducible_and_vary_with_the_seed():
    joints = _standing(8)
    a = sample_virtual_cameras(joints, torch.Generator().manual_seed(5))
    b = sample_virtual_cameras(joints, torch.Generator().manual_seed(5))
    c = sample_virtual_cameras(joints, torch.Generator().manual_seed(6))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.rotation, c.rotation)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_interpolate_missing_recovers_linear_signals(dtype):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(20, dtype=dtype)
    slope = torch.randn(4, 3, 1, 2, generator=g, dtype=torch.float64).to(dtype)
    values = slope * t[:, None]  # (4, 3, 20, 2), linear in time
    missing = torch.rand(4, 3, 20, generator=g) < 0.4
    missing[..., 0] = missing[..., -1] = False
    corrupted = torch.where(missing[..., None], torch.full_like(values, 1e6), values)
    torch.testing.assert_close(interpolate_missing(corrupted, missing), values)
    # Before the first / after the last seen frame the nearest one is held.
    edge = torch.zeros(1, 5, 1, dtype=dtype)
    edge[0, 2, 0] = 7.0
    held = interpolate_missing(edge, torch.tensor([[True, True, False, True, True]]))
    assert torch.equal(held, torch.full_like(edge, 7.0))


def _simulate(config, n=6, seed=0):
    joints = _standing(n, t=30, dtype=torch.float32)
    cams = sample_virtual_cameras(joints, torch.Generator().manual_seed(seed))
    cam = cams.world_to_camera(joints)
    out = simulate_detector(
        cam,
        cams.intrinsics,
        cams.width,
        cams.height,
        H36M_17,
        body_volume(H36M_17),
        config,
        torch.Generator().manual_seed(seed),
    )
    return cam, cams, out


def test_clean_detector_reports_the_projection():
    cam, cams, out = _simulate(DetectorErrorConfig.clean())
    exact = project_with_intrinsics(cam, cams.intrinsics[:, None])
    torch.testing.assert_close(out.pixels, exact)
    assert not out.missing.any() and not out.swapped.any()
    assert ((out.scores >= 0) & (out.scores <= 1)).all()


def test_swapped_frames_exchange_left_and_right_limbs():
    config = DetectorErrorConfig(
        **{**DetectorErrorConfig.clean().__dict__, "swap_probability": 1.0, "name": "swaps"}
    )
    cam, cams, out = _simulate(config)
    exact = project_with_intrinsics(cam, cams.intrinsics[:, None])
    assert out.swapped.any(dim=1).all()
    changed = (out.pixels - exact).norm(dim=-1) > 1e-3  # (N, T, J)
    assert not changed[~out.swapped].any()  # only swapped frames move
    mirrored = exact[..., list(H36M_17.mirror_permutation), :]
    for i in range(out.pixels.shape[0]):
        frames = out.swapped[i]
        moved = changed[i, frames].any(0)  # joints that moved in the swapped frames
        assert moved.any()
        torch.testing.assert_close(out.pixels[i, frames][:, moved], mirrored[i, frames][:, moved])


def test_noisy_detector_missing_keypoints_have_score_zero_and_are_finite():
    config = DetectorErrorConfig(missing_probability=(0.2, 0.2))
    _, _, out = _simulate(config, n=4, seed=3)
    assert out.missing.any()
    assert (out.scores[out.missing] == 0).all()
    assert torch.isfinite(out.pixels).all()
    noisy = DetectorErrorConfig.openpose_like()
    _, _, a = _simulate(noisy, seed=4)
    _, _, b = _simulate(noisy, seed=4)
    assert torch.equal(a.pixels, b.pixels)


def test_coco_spread_factors_follow_the_table_with_unit_mean_square():
    from anatomy_lib.data.detector_errors import KEYPOINT_SPREAD, joint_noise_scale

    assert torch.equal(joint_noise_scale(H36M_17), torch.ones(17, dtype=torch.float64))
    scale = joint_noise_scale(H36M_17, "coco_spread")
    assert float(scale.square().mean()) == pytest.approx(1.0, abs=1e-12)
    spread = torch.tensor([KEYPOINT_SPREAD[n] for n in H36M_17.joint_names], dtype=torch.float64)
    torch.testing.assert_close(scale / spread, (scale / spread)[:1].expand(17))  # proportional
    index = H36M_17.joint_index
    assert float(scale[index("left_hip")] / scale[index("neck_nose")]) == pytest.approx(
        0.107 / 0.026
    )
    for left, right in zip(H36M_17.joints_left, H36M_17.joints_right, strict=True):
        assert scale[left] == scale[right]
    renamed = dataclasses.replace(H36M_17, joint_names=("hips_centre", *H36M_17.joint_names[1:]))
    with pytest.raises(ValueError, match=r"without a spread: \['hips_centre'\]"):
        joint_noise_scale(renamed, "coco_spread")
    assert torch.equal(joint_noise_scale(renamed), torch.ones(17, dtype=torch.float64))
    with pytest.raises(ValueError, match="joint_noise: expected one of"):
        joint_noise_scale(H36M_17, "per_joint")
    with pytest.raises(ValueError, match="DetectorErrorConfig.joint_noise: expected one of"):
        DetectorErrorConfig(joint_noise="per_joint")


#: A detector with no outliers, swaps or gaps: only jitter and drift (and occlusion) remain.
QUIET = {
    "outlier_probability": (0.0, 0.0),
    "swap_probability": 0.0,
    "missing_probability": (0.0, 0.0),
    "missing_occluded": 0.0,
}


def test_coco_spread_rescales_each_joints_noise_of_the_same_draws():
    from anatomy_lib.data.detector_errors import joint_noise_scale

    # Jitter, drift and occlusion only: the same seed draws the same noise, which
    # coco_spread multiplies per joint.
    uniform = DetectorErrorConfig(**QUIET)
    spread = dataclasses.replace(uniform, joint_noise="coco_spread")
    cam, cams, a = _simulate(uniform, seed=5)
    _, _, b = _simulate(spread, seed=5)
    exact = project_with_intrinsics(cam, cams.intrinsics[:, None])
    scale = joint_noise_scale(H36M_17, "coco_spread").float()[:, None]
    torch.testing.assert_close(b.pixels - exact, (a.pixels - exact) * scale, atol=2e-3, rtol=1e-4)
    assert torch.equal(a.scores, b.scores)  # the confidences do not change
    error = (b.pixels - exact).norm(dim=-1).mean(dim=(0, 1))
    assert error[H36M_17.joint_index("right_hip")] > 3 * error[H36M_17.joint_index("neck_nose")]


def test_occluded_noise_all_scales_the_drift_of_the_same_draws_by_the_occlusion_factor():
    # No white noise either: the error is the drift alone, which "all" multiplies by each
    # joint-frame's occlusion factor and "jitter" leaves as it is.
    jitter_only = DetectorErrorConfig(**QUIET, jitter=(0.0, 0.0))
    everything = dataclasses.replace(jitter_only, occluded_noise="all")
    cam, cams, a = _simulate(jitter_only, seed=6)
    _, _, b = _simulate(everything, seed=6)
    exact = project_with_intrinsics(cam, cams.intrinsics[:, None])
    factor = 1 + (jitter_only.occluded_factor - 1) * (1 - a.visibility)
    assert bool((a.visibility < 0.5).any())  # some joints are occluded
    torch.testing.assert_close(b.pixels - exact, (a.pixels - exact) * factor[..., None],
                               atol=2e-3, rtol=1e-4)  # fmt: skip
    assert torch.equal(a.scores, b.scores)  # the confidences do not change
    # With a factor of 1 the two settings are the same detector, bit for bit.
    ones = {"occluded_factor": 1.0, "jitter": (1.5, 5.0)}
    _, _, c = _simulate(dataclasses.replace(jitter_only, **ones), seed=7)
    _, _, d = _simulate(dataclasses.replace(everything, **ones), seed=7)
    assert torch.equal(c.pixels, d.pixels)
    with pytest.raises(ValueError, match="DetectorErrorConfig.occluded_noise: expected one of"):
        DetectorErrorConfig(occluded_noise="drift")


def test_occluded_noise_reaches_the_training_engine_but_not_validation():
    from anatomy_lib.training.engine_data import engine_for

    assert all(d.occluded_noise == "jitter" for d in engine_for("ansur", 0.5).config.detectors)
    families = engine_for(
        "ansur", 0.5, detector_errors="validation_person", occluded_noise="all"
    ).config.detectors
    assert all(d.occluded_noise == "all" for d in families) and len(families) == 2
    _same_videos_detected_anew(engine_occluded_noise="all")
    with pytest.raises(ValueError, match="engine_occluded_noise"):
        DataConfig(dataset="engine", engine_occluded_noise="drift")
    with pytest.raises(ValueError, match="occluded_noise: expected one of"):
        engine_for("ansur", 0.5, occluded_noise="drift")


def _joints(data, split):
    return torch.cat([s.joints_3d for s in data.split(split)])


def _pixels(data, split):
    return torch.cat([s.keypoints_2d for s in data.split(split)])


def _same_videos_detected_anew(**override) -> None:
    """An engine option that changes the simulated detector leaves the training videos'
    motion, bodies and cameras and the whole validation split as they are."""
    from anatomy_lib.training.engine_data import engine_dataset

    data = DataConfig(dataset="engine", engine_videos=2, engine_validation_videos=2)
    plain = engine_dataset(data, 0, 0)
    other = engine_dataset(dataclasses.replace(data, **override), 0, 0)
    assert torch.equal(_pixels(plain, "test"), _pixels(other, "test"))  # validation is fixed
    assert torch.equal(_joints(plain, "train"), _joints(other, "train"))  # the same videos,
    assert not torch.equal(_pixels(plain, "train"), _pixels(other, "train"))  # detected anew


@pytest.mark.parametrize("errors", ["calibrated", "validation_person", "validation_person_half"])
def test_measured_detector_errors_reach_the_training_engine_but_not_validation(errors):
    _same_videos_detected_anew(engine_detector_errors=errors)


def test_half_the_families_have_the_validation_persons_error_sizes():
    from anatomy_lib.data.detector_errors import DETECTOR_ERRORS, FAMILY_COPIES
    from anatomy_lib.training.engine_data import engine_for

    assert tuple(FAMILY_COPIES) == DETECTOR_ERRORS  # every setting says which copies it trains on

    assumed = engine_for("ansur", 0.5).config.detectors
    refitted = engine_for("ansur", 0.5, detector_errors="validation_person").config.detectors
    half = engine_for("ansur", 0.5, detector_errors="validation_person_half").config.detectors
    assert half == assumed + refitted  # each video draws one of these uniformly
    assert [d.drift for d in half[: len(assumed)]] != [d.drift for d in half[len(assumed) :]]


def test_detector_noise_reaches_the_training_engine_but_not_validation():
    from anatomy_lib.training.engine_data import engine_for, validation_videos

    assert all(d.joint_noise == "uniform" for d in engine_for("ansur", 0.5).config.detectors)
    families = engine_for("ansur", 0.5, detector_noise="coco_spread").config.detectors
    assert [d.name for d in families] == ["openpose", "mediapipe"]
    assert all(d.joint_noise == "coco_spread" for d in families)
    _same_videos_detected_anew(engine_detector_noise="coco_spread")
    # The benchmark's coco_spread report: the trainer's validation videos, detected anew.
    report, trainer = validation_videos(2, detector_noise="coco_spread"), validation_videos(2)
    assert torch.equal(_joints(report, "test"), _joints(trainer, "test"))
    assert not torch.equal(_pixels(report, "test"), _pixels(trainer, "test"))
    with pytest.raises(ValueError, match="engine_detector_noise"):
        DataConfig(dataset="engine", engine_detector_noise="per_joint")
    with pytest.raises(ValueError, match="detector_noise: expected one of"):
        engine_for("ansur", 0.5, detector_noise="per_joint")


def test_calibrated_validation_report_is_the_same_videos_with_slower_errors():
    from anatomy_lib.data.detector_errors import second_difference_jitter
    from anatomy_lib.training.engine_data import validation_videos

    report, trainer = validation_videos(4, detector_errors="calibrated"), validation_videos(4)
    assert torch.equal(_joints(report, "test"), _joints(trainer, "test"))
    assert not torch.equal(_pixels(report, "test"), _pixels(trainer, "test"))

    def jitter(data):  # each video's frame-to-frame noise, as the benchmark measures a detector
        return torch.stack(
            [second_difference_jitter(s.keypoints_2d, s.scores).jitter for s in data.split("test")]
        )

    # The measured sizes have less white noise than every assumed family (0.4-1.5 against
    # 0.8-5.0 units): the same videos shake less, video by video.
    assert (jitter(report) < jitter(trainer)).all()
    with pytest.raises(ValueError, match="detector_errors: expected one of"):
        validation_videos(2, detector_errors="measured")


def test_h36m_rendered_split_is_the_validation_videos_moved_rigidly_before_four_h36m_cameras():
    from anatomy_lib.camera import h36m_cameras, project, world_to_camera
    from anatomy_lib.data.build_embedded import SUBJECTS
    from anatomy_lib.training.engine_data import (
        H36M_VALIDATION_CAMERAS,
        validation_videos,
        validation_videos_h36m,
    )

    data = validation_videos_h36m.__wrapped__(3)
    source = validation_videos().sequences[:3]
    cameras = h36m_cameras(H36M_VALIDATION_CAMERAS)
    assert H36M_VALIDATION_CAMERAS not in {h36m for h36m, _ in SUBJECTS.values()}
    assert len(data.sequences) == 4 * len(source) and data.test_subjects == tuple(
        s.subject for s in source
    )
    for i, original in enumerate(source):
        views = data.sequences[4 * i : 4 * i + 4]
        world = views[0].joints_world
        shift = world - original.joints_world  # a translation only: the body and motion kept
        assert torch.allclose(shift, shift[:1, :1].expand_as(shift), atol=1e-5)
        assert float(world[..., 2].min()) == pytest.approx(0.05, abs=1e-5)  # on the floor
        for view, cam in zip(views, cameras, strict=True):
            assert view.camera == cam and torch.equal(view.joints_world, world)
            assert torch.allclose(view.joints_3d, world_to_camera(world, cam), atol=1e-5)
            assert view.action == original.action.split(" (")[0] in original.action
            # the embedded simulator's detections: near the projection, scores in [0, 1]
            pixels = (view.keypoints_2d + torch.tensor([1.0, cam.height / cam.width])) * (
                cam.width / 2
            )
            error = (pixels - project(view.joints_3d, cam)).norm(dim=-1)
            assert 0 < float(error.median()) < 0.02 * cam.width
            assert 0 <= float(view.scores.min()) and float(view.scores.max()) <= 1
    again = validation_videos_h36m.__wrapped__(3)  # seeded: the same split every call
    assert all(
        torch.equal(a.keypoints_2d, b.keypoints_2d)
        for a, b in zip(data.sequences, again.sequences, strict=True)
    )
    with pytest.raises(ValueError, match="videos: expected 1 to 64"):
        validation_videos_h36m.__wrapped__(0)


def test_occluded_validation_report_moves_only_the_low_score_keypoints_of_the_same_videos():
    """``benchmarks/engine_validation.py``'s ``occluded_*`` splits: the same videos, scores and
    draws as with occlusion on the jitter only; the drift grows where a joint is occluded,
    which is where the detector's score is low, and nowhere else."""
    from anatomy_lib.training.engine_data import validation_videos

    sizes = {"detector_errors": "validation_person"}
    jitter, everything = (
        validation_videos(4, **sizes),
        validation_videos(4, **sizes, occluded_noise="all"),
    )
    assert torch.equal(_joints(everything, "test"), _joints(jitter, "test"))
    scores = torch.cat([s.scores for s in everything.split("test")])
    assert torch.equal(scores, torch.cat([s.scores for s in jitter.split("test")]))
    moved = (_pixels(everything, "test") - _pixels(jitter, "test")).norm(dim=-1) > 1e-6
    assert moved.any() and (~moved).any()
    assert scores[moved].mean() < scores[~moved].mean() - 0.1


def test_engine_videos_keep_their_bodies_and_stay_in_front_of_the_camera(engine):
    v = engine.videos(12, torch.Generator().manual_seed(0))
    lengths = joints_to_bones(v.joints_world, H36M_17).lengths  # (N, T, B)
    torch.testing.assert_close(lengths, lengths[:, :1].expand_as(lengths), atol=1e-5, rtol=0)
    assert (v.joints_cam[..., 2] > 0.4).all()
    assert torch.isfinite(v.pixels).all() and ((v.scores >= 0) & (v.scores <= 1)).all()
    assert set(v.detector) <= {"openpose", "mediapipe"}
    held_out = {f"{s}/{a}" for s, a in VALIDATION_CLIPS}
    assert not set(v.clip) & held_out
    assert not any(c.startswith(("CMU01", "ClimberB")) for c in v.clip)


def test_engine_makes_a_single_video(engine):
    # Only one detector family is drawn: the other one has no video to simulate.
    v = engine.videos(1, torch.Generator().manual_seed(4))
    assert v.pixels.shape == (1, engine.config.frames, 17, 2) and len(v.detector) == 1
    assert torch.isfinite(v.pixels).all()


def test_engine_validation_draws_only_held_out_clips_and_bodies(engine):
    v = engine.videos(8, torch.Generator().manual_seed(1), split="validation")
    held_out = {f"{s}/{a}" for s, a in VALIDATION_CLIPS}
    assert set(v.clip) <= held_out
    from anatomy_lib.data.bodies import load_body_table

    table = load_body_table()
    val = table.bone_lengths[table.is_validation]
    lengths = joints_to_bones(v.joints_world[:, 0], H36M_17).lengths
    # Each video's body is a validation body up to the engine's per-bone jitter.
    ratio = lengths[:, None] / val[None]
    best = (ratio - 1).abs().amax(-1).amin(-1)
    assert (best < 0.2).all()


def test_engine_dataset_is_reproducible_and_round_trips_pixels(engine):
    a = engine.dataset(4, torch.Generator().manual_seed(2))
    b = engine.dataset(4, torch.Generator().manual_seed(2))
    for sa, sb in zip(a, b, strict=True):
        assert torch.equal(sa.keypoints_2d, sb.keypoints_2d)
        assert torch.equal(sa.joints_3d, sb.joints_3d)
    assert a.train_subjects == tuple(s.subject for s in a) and a.test_subjects == ()
    v = engine.videos(4, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a[1].keypoints_pixels, v.pixels[1], atol=1e-3, rtol=0)


def test_time_warp_and_mirroring_follow_the_config():
    slow = TrainingDataEngine(
        EngineConfig(frames=20, time_warp=(0.5, 0.5), mirror_probability=0.0, bodies="rescaled")
    )
    fast = TrainingDataEngine(
        EngineConfig(frames=20, time_warp=(2.0, 2.0), mirror_probability=0.0, bodies="rescaled")
    )
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    m_slow, names = slow.sample_motion(32, g1)
    m_fast, _ = fast.sample_motion(32, g2)
    speed = lambda m: (m[:, 1:] - m[:, :-1]).norm(dim=-1).mean()  # noqa: E731
    assert math.isclose(float(speed(m_fast) / speed(m_slow)), 4.0, rel_tol=0.35)


def test_engine_config_refuses_bad_values():
    with pytest.raises(ValueError, match="frames"):
        EngineConfig(frames=1)
    with pytest.raises(ValueError, match="bodies"):
        EngineConfig(bodies="giants")
    with pytest.raises(ValueError, match="long_side_fov_deg"):
        VirtualCameraConfig(long_side_fov_deg=(90.0, 200.0))
    with pytest.raises(ValueError, match="split"):
        TrainingDataEngine(EngineConfig(frames=4)).sample_motion(2, torch.Generator(), "test")


def test_engine_training_pool_is_new_each_epoch_reproducible_and_validation_is_fixed():
    from anatomy_lib.training.config import DataConfig
    from anatomy_lib.training.engine_data import engine_dataset

    data = DataConfig(dataset="engine", engine_videos=2, engine_validation_videos=2)
    a0, a0_again, a1 = (engine_dataset(data, 0, e) for e in (0, 0, 1))
    b0 = engine_dataset(data, 1, 0)  # another experiment seed
    train = lambda d: torch.cat([s.keypoints_2d for s in d.split("train")])  # noqa: E731
    test = lambda d: torch.cat([s.keypoints_2d for s in d.split("test")])  # noqa: E731
    assert torch.equal(train(a0), train(a0_again))
    assert not torch.equal(train(a0), train(a1)) and not torch.equal(train(a0), train(b0))
    assert torch.equal(test(a0), test(a1)) and torch.equal(test(a0), test(b0))
    assert not set(a0.train_subjects) & set(a0.test_subjects)


def test_clip_bodies_keep_each_clips_proportions_and_ansur_bodies_change_them():
    from anatomy_lib.training.engine_data import engine_for

    def scale_per_bone(bodies: str) -> torch.Tensor:
        """``(N, B)`` new bone length over the clip's own (its median over the video)."""
        engine = engine_for(bodies, 0.0)
        g = torch.Generator().manual_seed(5)
        motion, _ = engine.sample_motion(16, g)
        own = joints_to_bones(motion, H36M_17).lengths.median(dim=1).values
        return engine.sample_bodies(motion, g) / own

    clip = scale_per_bone("clip")  # one scale per video, the same for every bone
    torch.testing.assert_close(clip, clip[:, :1].expand_as(clip), rtol=1e-5, atol=0)
    assert float(clip.std(0).mean()) > 0.02  # and the scale changes from video to video
    ansur = scale_per_bone("ansur")  # measured adults: new proportions
    assert float((ansur / ansur.mean(-1, keepdim=True) - 1).abs().amax()) > 0.1


def test_varied_joint_definitions_reach_the_training_bodies_but_not_validation():
    from anatomy_lib.data.bodies import marker_joint_definitions
    from anatomy_lib.training.engine_data import engine_dataset, engine_for

    def spine_fractions(dataset) -> torch.Tensor:
        lengths = torch.stack(
            [joints_to_bones(s.joints_3d, H36M_17).lengths.median(0).values for s in dataset]
        )
        return marker_joint_definitions(lengths).spine_fraction

    g = lambda: torch.Generator().manual_seed(11)  # noqa: E731
    fixed = spine_fractions(engine_for("ansur", 0.0, "fixed").dataset(48, g(), "train"))
    varied = spine_fractions(engine_for("ansur", 0.0, "varied").dataset(48, g(), "train"))
    # The table splits every trunk alike (~0.475, per-bone jitter aside); varied bodies
    # spread over the configured range.
    assert float(fixed.std()) < 0.03 and abs(float(fixed.mean()) - 0.475) < 0.02
    assert float(varied.std()) > 0.07 and float(varied.max() - varied.min()) > 0.25

    data = DataConfig(dataset="engine", engine_videos=2, engine_validation_videos=2)
    varied_data = dataclasses.replace(data, engine_joint_definitions="varied")
    plain, other = engine_dataset(data, 0, 0), engine_dataset(varied_data, 0, 0)
    joints = lambda d, split: torch.cat([s.joints_3d for s in d.split(split)])  # noqa: E731
    assert torch.equal(joints(plain, "test"), joints(other, "test"))  # validation is fixed
    assert not torch.equal(joints(plain, "train"), joints(other, "train"))
    with pytest.raises(ValueError, match="engine_joint_definitions"):
        DataConfig(dataset="engine", engine_joint_definitions="random")


def test_varied_thorax_lowers_only_the_trunk_joints_of_the_same_videos():
    from anatomy_lib.data.bodies import MarkerJointRanges, shoulders_above_thorax
    from anatomy_lib.training.engine_data import engine_for, validation_videos

    g = lambda: torch.Generator().manual_seed(12)  # noqa: E731
    varied = engine_for("ansur", 0.5, "varied").videos(24, g(), "train")
    thorax = engine_for("ansur", 0.5, "varied_thorax").videos(24, g(), "train")
    assert engine_for("ansur", 0.5, "varied_thorax").config.marker_joints == (
        MarkerJointRanges.including_thorax()
    )
    assert engine_for("ansur", 0.5, "varied_thorax_half").config.marker_joints == (
        MarkerJointRanges.including_thorax(probability=0.5)
    )
    # Motion, bodies and recombined limbs are drawn before the thorax: the same videos,
    # with the spine and thorax moved down their trunk and nothing else moved.
    trunk = [H36M_17.joint_index("spine"), H36M_17.joint_index("thorax")]
    others = [j for j in range(17) if j not in trunk]
    assert torch.equal(varied.joints_world[..., others, :], thorax.joints_world[..., others, :])
    rise = lambda v: shoulders_above_thorax(v.joints_world).median(dim=1).values  # noqa: E731
    lo, hi = rise(varied), rise(thorax)
    assert bool((hi >= lo - 1e-6).all()) and float((hi - lo).max()) > 0.15
    # The validation report of that name is a further split; the trainer's stays fixed.
    plain = validation_videos(2, "varied")
    other = validation_videos(2, "varied_thorax")
    world = lambda d: torch.stack([s.joints_world for s in d])  # noqa: E731
    assert torch.equal(world(plain)[..., others, :], world(other)[..., others, :])
    assert not torch.equal(world(plain), world(other))


def test_mutation_settings_reach_the_training_engine_but_not_validation():
    from anatomy_lib.data.pose_recombination import RecombinationConfig
    from anatomy_lib.training.engine_data import engine_dataset, engine_for

    data = DataConfig(
        dataset="engine", engine_videos=4, engine_validation_videos=2, engine_recombination=1.0
    )
    still = dataclasses.replace(data, engine_mutation_deg=0.0)
    halving = dataclasses.replace(data, engine_mutation_deg=12.0, engine_mutation_retry_scale=0.5)
    grouped = dataclasses.replace(halving, engine_rejection="group")
    joints = lambda d, split: torch.cat([s.joints_3d for s in d.split(split)])  # noqa: E731
    runs = [engine_dataset(d, 0, 0) for d in (data, still, halving, grouped)]
    for other in runs[1:]:
        assert torch.equal(joints(runs[0], "test"), joints(other, "test"))
        assert not torch.equal(joints(runs[0], "train"), joints(other, "train"))
    assert not torch.equal(joints(runs[2], "train"), joints(runs[3], "train"))  # the rejection
    wanted = RecombinationConfig(mutation_std_deg=12.0, retry_mutation_scale=0.5)
    assert engine_for("ansur", 1.0, "fixed", wanted).config.recombination == wanted
    assert engine_for("ansur", 1.0).config.recombination == RecombinationConfig()
    with pytest.raises(ValueError, match="engine_mutation_deg: expected >= 0 degrees"):
        DataConfig(dataset="engine", engine_mutation_deg=-1.0)
    with pytest.raises(ValueError, match=r"engine_mutation_retry_scale: expected a factor"):
        DataConfig(dataset="engine", engine_mutation_retry_scale=0.0)
    with pytest.raises(ValueError, match="engine_rejection"):
        DataConfig(dataset="engine", engine_rejection="frame")


def test_held_out_clips_leave_the_embedded_training_data():
    """``data.held_out_clips=engine_validation`` removes exactly the engine's validation clips
    from the embedded dataset the trainer reads; its test split is untouched; the option is
    refused for a dataset it does not apply to."""
    from anatomy_lib.training.config import ExperimentConfig
    from anatomy_lib.training.trainer import load_experiment_dataset

    base = ExperimentConfig.preset("small")
    assert base.data.dataset == "embedded"
    full = load_experiment_dataset(base)
    held = load_experiment_dataset(base.override(["data.held_out_clips=engine_validation"]))
    clips = lambda d: {(s.subject, s.action) for s in d}  # noqa: E731
    assert clips(full) - clips(held) == set(VALIDATION_CLIPS)
    assert clips(held.split("test")) == clips(full.split("test"))
    assert len(full) - len(held) == len(VALIDATION_CLIPS) * len(full.cameras)
    with pytest.raises(ValueError, match="dataset='embedded' only"):
        DataConfig(dataset="engine", held_out_clips="engine_validation")
    with pytest.raises(ValueError, match="held_out_clips: expected one of"):
        DataConfig(held_out_clips="validation")


def test_engine_with_embedded_adds_the_embedded_training_clips_to_each_pool():
    """``data.engine_with_embedded`` puts the embedded training split, less the engine's
    validation clips, beside every epoch's synthetic videos; the validation videos (the test
    split) stay as they are; the option is refused off the engine."""
    from anatomy_lib.training.engine_data import embedded_training_clips, engine_dataset

    data = DataConfig(dataset="engine", engine_videos=4, engine_validation_videos=4)
    plain = engine_dataset(data, seed=3, epoch=1)
    mixed = engine_dataset(dataclasses.replace(data, engine_with_embedded=True), seed=3, epoch=1)
    extra = embedded_training_clips()
    added = [s for s in mixed.split("train") if s.subject in extra.train_subjects]
    assert [id(s) for s in added] == [id(s) for s in extra]
    assert not {(s.subject, s.action) for s in added} & set(VALIDATION_CLIPS)
    assert len(mixed.split("train")) == len(plain.split("train")) + len(extra)
    assert [s.subject for s in mixed.split("test")] == [s.subject for s in plain.split("test")]
    with pytest.raises(ValueError, match="dataset='engine' only"):
        DataConfig(dataset="embedded", engine_with_embedded=True)


def test_engine_embedded_copies_repeat_the_embedded_videos_in_each_pool():
    """``data.engine_embedded_copies=k`` puts each embedded training video k times in the pool
    (k times its share of the windows) and leaves the synthetic and validation videos as
    they are; more than one copy without the embedded videos is refused."""
    from collections import Counter

    from anatomy_lib.training.engine_data import embedded_training_clips, engine_dataset

    data = DataConfig(
        dataset="engine", engine_videos=4, engine_validation_videos=4, engine_with_embedded=True
    )
    once = engine_dataset(data, seed=3, epoch=1)
    thrice = engine_dataset(dataclasses.replace(data, engine_embedded_copies=3), seed=3, epoch=1)
    extra = embedded_training_clips()
    counts = Counter(id(s) for s in thrice.split("train"))
    assert {counts[id(s)] for s in extra} == {3}
    assert len(thrice.split("train")) == len(once.split("train")) + 2 * len(extra)
    synthetic = lambda d: [  # noqa: E731
        s.keypoints_2d for s in d.split("train") if s.subject not in extra.train_subjects
    ]
    assert all(torch.equal(a, b) for a, b in zip(synthetic(once), synthetic(thrice), strict=True))
    assert [s.subject for s in thrice.split("test")] == [s.subject for s in once.split("test")]
    with pytest.raises(ValueError, match="engine_with_embedded=True"):
        DataConfig(dataset="engine", engine_embedded_copies=2)
    with pytest.raises(ValueError, match="got 0"):
        DataConfig(dataset="engine", engine_with_embedded=True, engine_embedded_copies=0)


def test_detect_anew_changes_only_the_2d_and_stays_near_the_exact_projection():
    """``detect_anew`` keeps each sequence's joints, camera and names and replaces its 2D,
    scores and visibility with the engine's detections of the same joints through the same
    camera: near the exact projection (median under 5 % of the half-width), not equal to the
    dataset's own detections, the same for the same seed and different for another."""
    from anatomy_lib.camera import normalize_screen, project_with_intrinsics
    from anatomy_lib.training.engine_data import detect_anew, embedded_training_clips, engine_for

    sequences = embedded_training_clips().sequences[:6]
    engine = engine_for("ansur", 0.0)
    new = detect_anew(sequences, engine, torch.Generator().manual_seed(4))
    again = detect_anew(sequences, engine, torch.Generator().manual_seed(4))
    other = detect_anew(sequences, engine, torch.Generator().manual_seed(5))
    for old, seq, same, diff in zip(sequences, new, again, other, strict=True):
        assert (seq.subject, seq.action, seq.camera) == (old.subject, old.action, old.camera)
        assert seq.joints_3d is old.joints_3d
        assert seq.keypoints_2d.shape == old.keypoints_2d.shape
        assert seq.keypoints_2d.dtype == old.keypoints_2d.dtype
        assert not torch.equal(seq.keypoints_2d, old.keypoints_2d)
        assert torch.equal(seq.keypoints_2d, same.keypoints_2d)
        assert not torch.equal(seq.keypoints_2d, diff.keypoints_2d)
        assert ((seq.scores >= 0) & (seq.scores <= 1)).all()
        cam = seq.camera
        exact = normalize_screen(
            project_with_intrinsics(seq.joints_3d.double(), cam.intrinsics(dtype=torch.float64)),
            cam.width,
            cam.height,
        )
        error = (seq.keypoints_2d.double() - exact).norm(dim=-1).median()
        assert 0 < error < 0.05


def test_engine_embedded_detections_detect_each_copy_anew_every_epoch():
    """``data.engine_embedded_detections="engine"``: each copy of each embedded training video
    carries its own detections, drawn anew every epoch from the seed (the same for the same
    seed and epoch); the joints, the synthetic videos and the validation videos are those of
    the dataset's own detections; the option needs ``engine_with_embedded``."""
    from anatomy_lib.training.engine_data import embedded_training_clips, engine_dataset

    data = DataConfig(
        dataset="engine",
        engine_videos=4,
        engine_validation_videos=4,
        engine_with_embedded=True,
        engine_embedded_copies=2,
    )
    anew = dataclasses.replace(data, engine_embedded_detections="engine")
    extra = embedded_training_clips()
    own_subjects = set(extra.train_subjects)

    def added(dataset):
        return [s for s in dataset.split("train") if s.subject in own_subjects]

    own = engine_dataset(data, seed=3, epoch=1)
    first, same = engine_dataset(anew, seed=3, epoch=1), engine_dataset(anew, seed=3, epoch=1)
    later = engine_dataset(anew, seed=3, epoch=2)
    n = len(extra)
    assert len(added(first)) == len(added(own)) == 2 * n
    for copy in (0, n):
        for seq, source in zip(added(first)[copy : copy + n], extra, strict=True):
            assert seq.joints_3d is source.joints_3d
            assert not torch.equal(seq.keypoints_2d, source.keypoints_2d)
    pairs = lambda a, b: zip(added(a), added(b), strict=True)  # noqa: E731
    assert all(torch.equal(a.keypoints_2d, b.keypoints_2d) for a, b in pairs(first, same))
    assert not any(torch.equal(a.keypoints_2d, b.keypoints_2d) for a, b in pairs(first, later))
    copies = zip(added(first)[:n], added(first)[n:], strict=True)
    assert not any(torch.equal(a.keypoints_2d, b.keypoints_2d) for a, b in copies)
    synthetic = lambda d: [  # noqa: E731
        s.keypoints_2d for s in d.split("train") if s.subject not in own_subjects
    ]
    assert all(torch.equal(a, b) for a, b in zip(synthetic(own), synthetic(first), strict=True))
    assert [s.subject for s in first.split("test")] == [s.subject for s in own.split("test")]
    with pytest.raises(ValueError, match="engine_with_embedded=True only"):
        DataConfig(dataset="engine", engine_embedded_detections="engine")
    with pytest.raises(ValueError, match="engine_embedded_detections"):
        DataConfig(dataset="engine", engine_with_embedded=True, engine_embedded_detections="both")
