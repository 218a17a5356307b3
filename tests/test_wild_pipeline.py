"""Detections -> 3D (anatomy_lib.wild.pipeline), saving, the figure and causal lifting."""

import csv
import json

import numpy as np
import pytest
import torch

from anatomy_lib.camera import unnormalize_screen
from anatomy_lib.data import load_default_dataset
from anatomy_lib.evaluation import EvaluationConfig, predict_sequence
from anatomy_lib.keypoint_fit import VIDEO_KEYPOINT_PULL
from anatomy_lib.models import AnatomyModel, ModelConfig
from anatomy_lib.models.ensemble import PredictionEnsemble
from anatomy_lib.ray_frame import assumed_intrinsics
from anatomy_lib.smoothing import VIDEO_SMOOTHING_S
from anatomy_lib.wild import Detections, FrameStatus, lift_detections, mediapipe_available
from anatomy_lib.wild.figure import video_pose_figure
from anatomy_lib.wild.pipeline import VIDEO_ROLL_DEG, video_roll_views
from anatomy_lib.wild.sports2d import load_sports2d_demo


def _model(causal: bool = False) -> AnatomyModel:
    torch.manual_seed(0)
    cfg = ModelConfig.preset("small").replace(causal=causal, channels=32)
    return AnatomyModel(cfg).eval()


def _clip(frames: int = 60) -> tuple[Detections, torch.Tensor, torch.Tensor]:
    """A real mocap clip's simulated H36M detections, in pixels of a 1000 x 1000 frame."""
    seq = load_default_dataset().sequences[0]
    kp, sc = seq.keypoints_2d[:frames].double(), seq.scores[:frames].double()
    det = Detections(unnormalize_screen(kp, 1000, 1000).numpy(), sc.numpy(), "h36m", 1000, 1000, 50)
    return det, kp, sc


def test_lift_detections_equals_the_library_on_clean_input():
    det, kp, sc = _clip()
    model = _model()
    result = lift_detections(det, model, flip=True, smoothing_s=0.0, pull_strength=0.0)
    expected = predict_sequence(model, kp.float(), sc.float(), EvaluationConfig(flip=True))
    np.testing.assert_allclose(result.joints_3d, expected.double().numpy(), atol=1e-5)
    assert (result.status == FrameStatus.DETECTED).all() and not result.causal
    assert result.smoothing_s == 0.0 and result.pull_strength == 0.0


def test_by_default_one_model_is_flipped_an_ensemble_is_not_and_smoothing_is_asked_for(tmp_path):
    det, kp, sc = _clip()
    model = _model()
    result = lift_detections(det, model)
    assert result.smoothing_s == VIDEO_SMOOTHING_S == 0.0  # not smoothed by default
    assert result.pull_strength == VIDEO_KEYPOINT_PULL.strength  # pulled to the 2D by default
    rays = assumed_intrinsics(1000, 1000)  # the pipeline's uncalibrated camera
    video = EvaluationConfig(flip=True, keypoint_pull=VIDEO_KEYPOINT_PULL)
    expected = predict_sequence(model, kp.float(), sc.float(), video, rays, fps=50.0)
    np.testing.assert_allclose(result.joints_3d, expected.double().numpy(), atol=1e-5)
    sigma = 1.0 / 60.0
    smoothed = lift_detections(det, model, smoothing_s=sigma)
    smooth = EvaluationConfig(flip=True, smoothing_s=sigma, keypoint_pull=VIDEO_KEYPOINT_PULL)
    expected = predict_sequence(model, kp.float(), sc.float(), smooth, rays, fps=50.0)
    np.testing.assert_allclose(smoothed.joints_3d, expected.double().numpy(), atol=1e-5)
    assert np.abs(smoothed.joints_3d - result.joints_3d).max() > 1e-4
    saved = smoothed.save(tmp_path / "clip.npz", formats=["npz"])[0]
    with np.load(saved) as f:
        assert json.loads(str(f["meta_json"]))["smoothing_s"] == pytest.approx(sigma)
    ensemble = PredictionEnsemble([model, _model(causal=True)])
    got = lift_detections(det, ensemble).joints_3d
    no_flip = EvaluationConfig(flip=False, keypoint_pull=VIDEO_KEYPOINT_PULL)
    expected = predict_sequence(ensemble, kp.float(), sc.float(), no_flip, rays, fps=50.0)
    np.testing.assert_allclose(got, expected.double().numpy(), atol=1e-5)


def test_a_ray_frame_model_is_lifted_with_turned_views_by_default(tmp_path):
    """The video path averages a non-causal ray-frame model's 3D with views turned
    :data:`VIDEO_ROLL_DEG` either way (``roll_deg=0``: not); camera-frame and causal models
    only when asked; the angle is saved with the result and checked."""
    det, kp, sc = _clip(40)
    torch.manual_seed(0)
    cfg = ModelConfig.preset("small").replace(
        channels=32, output_frame="ray", input_normalization="person"
    )
    ray_model = AnatomyModel(cfg).eval()
    rays = assumed_intrinsics(1000, 1000)

    def library(model, views):
        config = EvaluationConfig(keypoint_pull=VIDEO_KEYPOINT_PULL, roll_views_deg=views)
        return predict_sequence(model, kp.float(), sc.float(), config, rays, fps=50.0).numpy()

    turned = (-VIDEO_ROLL_DEG, VIDEO_ROLL_DEG)
    result = lift_detections(det, ray_model)
    assert result.roll_deg == VIDEO_ROLL_DEG == 6.0
    np.testing.assert_allclose(result.joints_3d, library(ray_model, turned), atol=1e-5)
    plain = lift_detections(det, ray_model, roll_deg=0)
    assert plain.roll_deg == 0.0
    np.testing.assert_allclose(plain.joints_3d, library(ray_model, ()), atol=1e-5)
    assert np.abs(plain.joints_3d - result.joints_3d).max() > 1e-5
    camera_model = _model()
    assert lift_detections(det, camera_model).roll_deg == 0.0
    asked = lift_detections(det, camera_model, roll_deg=3.0)
    np.testing.assert_allclose(asked.joints_3d, library(camera_model, (-3.0, 3.0)), atol=1e-5)
    assert video_roll_views(_model(causal=True), None) == ()
    saved = asked.save(tmp_path / "clip.npz", formats=["npz"])[0]
    with np.load(saved) as f:
        assert json.loads(str(f["meta_json"]))["roll_deg"] == 3.0
    for bad in (45.0, -1.0, float("nan"), True, "6"):
        with pytest.raises(ValueError, match="roll_deg: expected degrees from 0 to below 45"):
            lift_detections(det, camera_model, roll_deg=bad)


def test_a_causal_model_is_not_smoothed():
    det, _, _ = _clip(30)
    causal = _model(causal=True)
    assert lift_detections(det, causal).smoothing_s == 0.0
    assert lift_detections(det, causal).pull_strength == 0.0  # nor pulled, by default
    with pytest.raises(ValueError, match="causal model's 3D is not smoothed"):
        lift_detections(det, causal, smoothing_s=0.05)


@pytest.mark.parametrize(("flip", "length_frames"), [(True, "all"), (False, "all"), (True, 5)])
def test_video_and_mirror_in_one_pass_equal_predict_sequence(flip, length_frames, monkeypatch):
    """The pipeline lifts a video and its mirror image in one pass, on one CPU thread and
    the portable kernel: the shipped default model gives predict_sequence's joints within
    1e-6 m (float32), and the caller's thread count is back afterwards."""
    import anatomy_lib.evaluation as evaluation
    from anatomy_lib.checkpoints import load_pretrained
    from anatomy_lib.models.inference_plan import inference_kernel
    from anatomy_lib.ray_frame import assumed_intrinsics

    det, kp, sc = _clip(80)
    model = load_pretrained("anatomy_medium")
    config = EvaluationConfig(flip=flip, length_frames=length_frames)
    # The shipped model predicts in the ray frame: the pipeline turns it back with an
    # uncalibrated camera's rays (the assumed field of view) for the 1000 x 1000 frame.
    camera = assumed_intrinsics(1000, 1000)
    expected = predict_sequence(model, kp.float(), sc.float(), config, camera).double().numpy()
    threads, passes = torch.get_num_threads(), []
    one, several = evaluation.lift_video, evaluation.lift_videos

    def spy_one(net, keypoints, scores, **options):
        passes.append((1, torch.get_num_threads(), inference_kernel(torch.float32)))
        return one(net, keypoints, scores, **options)

    def spy_several(net, videos, **options):
        passes.append((len(videos), torch.get_num_threads(), inference_kernel(torch.float32)))
        return several(net, videos, **options)

    monkeypatch.setattr(evaluation, "lift_video", spy_one)
    monkeypatch.setattr(evaluation, "lift_videos", spy_several)
    result = lift_detections(
        det, model, flip=flip, length_frames=length_frames, smoothing_s=0.0, pull_strength=0.0,
        roll_deg=0.0,
    )  # fmt: skip
    np.testing.assert_allclose(result.joints_3d, expected, atol=1e-6, rtol=0)
    assert passes == [(2 if flip else 1, 1, "portable")] and torch.get_num_threads() == threads


def test_gaps_never_reach_the_model_and_long_gaps_are_nan():
    det, _, _ = _clip()
    det.keypoints[10:13] = np.nan  # short gap
    det.keypoints[30:50] = np.nan  # long gap (> fps / 4 = 12 frames)
    det.scores[10:13] = det.scores[30:50] = 0
    result = lift_detections(det, _model())
    assert np.isfinite(result.keypoints_2d).all() and np.isfinite(result.scores).all()
    assert (result.status[10:13] == FrameStatus.INTERPOLATED).all()
    assert (result.status[30:50] == FrameStatus.MISSING).all()
    assert np.isnan(result.joints_3d[30:50]).all()
    assert np.isfinite(result.joints_3d[~np.isin(np.arange(60), range(30, 50))]).all()
    assert (result.scores[10:13] == 0).all()


def test_causal_result_of_a_frame_ignores_later_frames():
    det, _, _ = _clip(50)
    det.keypoints[20:26] = np.nan
    det.scores[20:26] = 0
    model = _model(causal=True)
    full = lift_detections(det, model, causal=True, max_gap=3)
    for t in (18, 23, 35):
        part = Detections(det.keypoints[: t + 1], det.scores[: t + 1], "h36m", 1000, 1000, 50)
        head = lift_detections(part, model, causal=True, max_gap=3)
        np.testing.assert_allclose(head.joints_3d, full.joints_3d[: t + 1], atol=1e-5)
    with pytest.raises(ValueError, match="model is non-causal"):
        lift_detections(det, _model(), causal=True)


def test_wrong_model_argument():
    det, _, _ = _clip(10)
    with pytest.raises(FileNotFoundError, match="neither a shipped model"):
        lift_detections(det, "no_such_model")


def test_save_npz_and_csv_round_trip(tmp_path):
    det, _, _ = _clip(30)
    det.keypoints[25:] = np.nan
    det.scores[25:] = 0
    result = lift_detections(det, _model())
    npz, csv_path = result.save(tmp_path / "clip_3d.npz")
    with np.load(npz) as f:
        np.testing.assert_allclose(f["joints_3d"], result.joints_3d, atol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(f["status"], result.status)
    rows = list(csv.reader(csv_path.open()))
    assert rows[0][:4] == ["frame", "time_s", "status", "pelvis_x"] and len(rows[0]) == 3 + 51
    assert len(rows) == 31 and rows[-1][2] == "missing" and rows[-1][3] == ""
    values = np.array([[float(v) for v in r[3:]] for r in rows[1:25]]).reshape(24, 17, 3)
    np.testing.assert_allclose(values, result.joints_3d[:24], atol=6e-6)
    assert rows[2][1] == "0.0200" and rows[1][2] == "detected"


def test_sports2d_lift_and_figure():
    demo = load_sports2d_demo()
    result = lift_detections(demo.detections, _model())
    assert result.joints_3d.shape == (230, 17, 3)
    assert np.isfinite(result.joints_3d[result.valid]).all()
    assert result.valid.mean() > 0.9
    fig = video_pose_figure(demo.frames, demo.frame_indices, result)
    kept = [int(t) for t in demo.frame_indices if result.valid[t]]
    assert [int(f.name) for f in fig.frames] == kept
    assert all(f.layout.images[0].source.startswith("data:image/jpeg") for f in fig.frames)
    with pytest.raises(ValueError, match="frames for"):
        video_pose_figure(demo.frames[:2], demo.frame_indices, result)


@pytest.mark.skipif(not mediapipe_available(), reason="MediaPipe not installed (wild extra)")
def test_infer_video_end_to_end(tmp_path):
    import imageio.v3 as iio

    from anatomy_lib.wild import infer_video

    demo = load_sports2d_demo()
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in zip(demo.frame_indices[:8], demo.frames[:8], strict=True):
        iio.imwrite(folder / f"{t:04d}.png", np.repeat(np.repeat(frame, 3, 0), 3, 1))
    paths = infer_video(folder, _model(), out_dir=tmp_path / "out", progress=False)
    assert all(p.is_file() for p in paths.values())
    with np.load(paths["npz"]) as f:
        assert f["joints_3d"].shape == (8, 17, 3)


def test_run_video_tries_the_model_before_reading_any_frame(tmp_path, monkeypatch):
    """A model that cannot lift the 17 Human3.6M joints fails in run_video's rehearsal on
    one still frame, before the video is decoded or a detector is started."""
    from conftest import TINY_TREE

    from anatomy_lib.wild import detector, pipeline, video

    def no_frames(*_, **__):
        raise AssertionError("a frame was read")

    monkeypatch.setattr(detector, "mediapipe_available", lambda: True)
    monkeypatch.setattr(video, "video_info", lambda path: video.VideoInfo(str(path), 8, 8, 30.0, 5))
    monkeypatch.setattr(video, "iter_frames", no_frames)
    monkeypatch.setattr(detector, "detect_people", no_frames)
    torch.manual_seed(0)
    tiny = AnatomyModel(ModelConfig.preset("tiny", channels=8).replace(skeleton=TINY_TREE))
    with pytest.raises(ValueError, match="17"):
        pipeline.run_video(tmp_path / "v.mp4", tiny.eval(), out_dir=tmp_path / "out")
    passes, tracked = [], []
    follow = pipeline.follow_main_person

    def lift(*a):
        passes.append(a[1].shape)
        return np.zeros((a[1].shape[0], 17, 3))

    monkeypatch.setattr(pipeline, "_lift", lift)
    monkeypatch.setattr(
        pipeline, "follow_main_person", lambda d, **o: tracked.append(d.layout) or follow(d, **o)
    )
    with pytest.raises(AssertionError, match="a frame was read"):
        pipeline.run_video(tmp_path / "v.mp4", _model(), out_dir=tmp_path / "out2")
    # The rehearsal ran first, on a two-frame still, through the path the video's
    # detections take: tracking in the detector's layout, then the network.
    assert passes == [(2, 17, 2)]
    assert tracked == ["mediapipe33"]


def test_run_video_keeps_the_2d_file_when_nobody_can_be_lifted(tmp_path, monkeypatch):
    """The detections are saved before the lifting: a video where nobody is found still
    leaves its 2D file (the detection time is not lost), and the error says why."""
    from anatomy_lib.wild import detector, pipeline, video

    empty = Detections(np.full((4, 1, 33, 2), np.nan), np.zeros((4, 1, 33)), "mediapipe33",
                       8, 8, 30.0)  # fmt: skip
    monkeypatch.setattr(detector, "mediapipe_available", lambda: True)
    monkeypatch.setattr(video, "video_info", lambda path: video.VideoInfo(str(path), 8, 8, 30.0, 4))
    monkeypatch.setattr(
        video, "iter_frames", lambda path: iter([np.zeros((8, 8, 3), np.uint8)] * 4)
    )
    monkeypatch.setattr(detector, "detect_people", lambda *a, **k: empty)
    with pytest.raises(ValueError, match="no person detected"):
        pipeline.run_video(tmp_path / "v.mp4", _model(), out_dir=tmp_path / "out")
    saved = Detections.load(tmp_path / "out" / "v_2d.npz")
    assert saved.keypoints.shape == (4, 1, 33, 2) and np.isnan(saved.keypoints).all()


def test_video_run_counts_missing_frames_where_someone_else_was_followed():
    from anatomy_lib.wild.pipeline import VideoRun

    det, _, _ = _clip(80)
    det.keypoints[30:60] += 600.0  # the detector follows someone far away for 30 frames
    result = lift_detections(det, _model())
    assert (result.status[30:60] == FrameStatus.MISSING).all()
    assert VideoRun(result, det, {}).missing_with_someone_else == 30
    det.keypoints[30:60] = np.nan  # nobody in view: not the detector's choice
    det.scores[30:60] = 0
    blank = lift_detections(det, _model())
    assert VideoRun(blank, det, {}).missing_with_someone_else == 0


def test_run_video_checks_the_pose_model_name_first(tmp_path):
    """An unknown pose model is refused before anything else (MediaPipe not needed)."""
    from anatomy_lib.wild import pipeline

    with pytest.raises(ValueError, match="pose_model: expected one of lite, full, heavy"):
        pipeline.run_video(tmp_path / "v.mp4", _model(), pose_model="medium")
    assert not (tmp_path / "v_anatomy3d").exists()
