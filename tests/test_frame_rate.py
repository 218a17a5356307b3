"""Lifting at the models' training frame rate (anatomy_lib.frame_rate, ``lift_fps``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from anatomy_lib import cli
from anatomy_lib.data import load_default_dataset
from anatomy_lib.data.engine import EngineConfig
from anatomy_lib.evaluation import EvaluationConfig, is_causal, predict_sequence
from anatomy_lib.frame_rate import (
    SEEN_FPS,
    TRAINING_FPS,
    lifting_fps,
    parse_lift_fps,
    resample,
    resampled_length,
    seen_multiple_fps,
)
from anatomy_lib.models import AnatomyModel, ModelConfig, ShortVideoWarning
from anatomy_lib.models.ensemble import PredictionEnsemble
from anatomy_lib.ray_frame import assumed_intrinsics
from anatomy_lib.wild import Detections, lift_detections, lift_keypoints

RATES = [(60.0, 50.0), (30.0, 50.0), (25.0, 50.0), (50.0, 24.0), (29.97, 50.0)]


def _model(causal: bool = False, output_frame: str = "camera") -> AnatomyModel:
    torch.manual_seed(0)
    cfg = ModelConfig.preset("small").replace(causal=causal, channels=32, output_frame=output_frame)
    return AnatomyModel(cfg).eval()


def _clip(frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A real mocap clip's simulated 2D (normalised screen) and scores."""
    seq = load_default_dataset().sequences[0]
    return seq.keypoints_2d[:frames].float(), seq.scores[:frames].float()


def test_the_same_rate_is_the_identity(dtype, device):
    x = torch.randn(13, 17, 2, dtype=dtype, device=device)
    assert torch.equal(resample(x, 50.0, 50.0), x)
    assert torch.equal(resample(x, 50.0, 50.0, hold=True), x)


@pytest.mark.parametrize(("fps", "to_fps"), RATES)
def test_motion_linear_in_time_comes_back_exactly(fps, to_fps, dtype, device):
    """Each sample of a signal linear in time is the signal at the sample's time (up to the
    last frame's time; later samples hold the last frame)."""
    t = 41
    a = torch.randn(17, 3, dtype=dtype, device=device)
    b = torch.randn(17, 3, dtype=dtype, device=device)
    times = torch.arange(t, dtype=dtype, device=device) / fps
    x = a + b * times[:, None, None]
    out = resample(x, fps, to_fps)
    assert out.shape == (resampled_length(t, fps, to_fps), 17, 3)
    assert out.dtype == dtype and out.device == x.device
    at = (torch.arange(out.shape[0], dtype=dtype, device=device) / to_fps).clamp(max=times[-1])
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(out, a + b * at[:, None, None], atol=tol, rtol=0)


def test_through_twice_the_rate_and_back_is_exact(dtype, device):
    x = torch.randn(21, 17, 2, dtype=dtype, device=device)
    up = resample(x, 25.0, 50.0)
    assert up.shape[0] == 41
    torch.testing.assert_close(up[::2], x, atol=0, rtol=0)  # the original frames kept
    torch.testing.assert_close(up[1::2], (x[:-1] + x[1:]) / 2)  # midway: the mean
    torch.testing.assert_close(resample(up, 50.0, 25.0, frames=21), x, atol=0, rtol=0)


@pytest.mark.parametrize("frames", [1, 2, 7, 61, 1000])
@pytest.mark.parametrize(("fps", "to_fps"), RATES)
def test_the_last_sample_reaches_the_last_frame_and_no_further(frames, fps, to_fps):
    n = resampled_length(frames, fps, to_fps)
    last = (frames - 1) / fps
    assert (n - 1) / to_fps >= last - 1e-12
    assert n == 1 or (n - 2) / to_fps < last


def test_an_exact_ratio_gains_no_frame_to_rounding():
    assert resampled_length(61, 60.0, 30.0) == 31
    assert resampled_length(31, 30.0, 60.0) == 61
    assert resampled_length(1001, 29.97, 29.97) == 1001


def test_other_time_axes(dtype):
    x = torch.randn(3, 11, 17, dtype=dtype)
    out = resample(x, 30.0, 50.0, dim=1)
    for i in range(3):
        torch.testing.assert_close(out[i], resample(x[i], 30.0, 50.0))


@pytest.mark.parametrize(("fps", "to_fps"), RATES)
def test_hold_takes_the_latest_frame_at_or_before_each_sample(fps, to_fps):
    x = torch.randn(40, 17, 3, dtype=torch.float64)
    out = resample(x, fps, to_fps, hold=True)
    for k in range(out.shape[0]):
        latest = min(math.floor(k * fps / to_fps + 1e-9), 39)
        assert torch.equal(out[k], x[latest])
    # so a prefix of the frames gives a prefix of the samples
    head = resample(x[:17], fps, to_fps, hold=True)
    torch.testing.assert_close(head, out[: head.shape[0]], atol=0, rtol=0)


def test_gradcheck():
    x = torch.randn(9, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: resample(v, 30.0, 50.0), (x,))
    assert torch.autograd.gradcheck(lambda v: resample(v, 60.0, 50.0), (x,))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: resample(torch.zeros(5, 2), 0.0, 50.0), "fps: expected a frame rate > 0"),
        (lambda: resample(torch.zeros(5, 2), 30.0, math.nan), "to_fps: expected"),
        (lambda: resample(torch.zeros(0, 2), 30.0, 50.0), "at least one frame"),
        (lambda: resample(torch.zeros(5, 2), 30.0, 50.0, frames=0), "frames: expected"),
        (lambda: resampled_length(0, 30.0, 50.0), "frames: expected at least 1"),
        (lambda: lifting_fps(-30.0), "fps: expected a frame rate > 0"),
        (lambda: lifting_fps(30.0, "fast"), "expected 'auto', None"),
        (lambda: lifting_fps(30.0, math.inf), "lift_fps: expected a frame rate > 0"),
        (lambda: lifting_fps(30.0, True), "lift_fps: expected a frame rate > 0"),
    ],
)
def test_bad_rates_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_seen_rates_follow_the_engines_playback_speeds():
    slowest, fastest = EngineConfig().time_warp
    assert SEEN_FPS == pytest.approx((TRAINING_FPS / fastest, TRAINING_FPS / slowest))
    assert EngineConfig().frames > 0 and TRAINING_FPS == 50.0


@pytest.mark.parametrize(
    ("fps", "lift_fps", "causal", "expected"),
    [
        (30.0, "auto", False, TRAINING_FPS),  # phones: faster than anything seen
        (25.0, "auto", False, TRAINING_FPS),
        (120.0, "auto", False, TRAINING_FPS),  # slow motion
        (60.0, "auto", False, 60.0),  # inside the seen rates: as filmed
        (SEEN_FPS[0], "auto", False, SEEN_FPS[0]),
        (SEEN_FPS[1], "auto", False, SEEN_FPS[1]),
        # a causal model: below the seen rates at the smallest whole multiple inside them
        (30.0, "auto", True, 60.0),
        (20.0, "auto", True, 40.0),
        (25.0, "auto", True, 50.0),
        (35.0, "auto", True, TRAINING_FPS),  # its double (70) is above them
        (60.0, "auto", True, 60.0),
        (120.0, "auto", True, 120.0),  # and as filmed above them
        (30.0, None, False, 30.0),
        (30.0, 40, True, 40.0),
    ],
)
def test_lifting_fps(fps, lift_fps, causal, expected):
    assert lifting_fps(fps, lift_fps, causal) == expected


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (30.0, 60.0), (29.97, 59.94), (25.0, 50.0), (24.0, 48.0), (20.0, 40.0),
        (15.0, 45.0), (12.0, 48.0), (10.0, 40.0), (33.0, 66.0),
        (34.0, None), (37.0, None),  # doubled, above the seen rates
        (40.0, 40.0), (60.0, 60.0), (SEEN_FPS[0], SEEN_FPS[0]), (SEEN_FPS[1], SEEN_FPS[1]),
        (67.0, None), (120.0, None),  # above: no multiple is lower
    ],
)  # fmt: skip
def test_seen_multiple_fps(fps, expected):
    assert seen_multiple_fps(fps) == (None if expected is None else pytest.approx(expected))


FRAME_RATES = [float(f) for f in np.random.default_rng(3).uniform(1.0, 80.0, 40)]


@pytest.mark.parametrize("fps", FRAME_RATES + [16.630186076336212, 4.625243490461169])
def test_the_seen_multiple_is_the_smallest_whole_multiple_inside_the_seen_rates(fps):
    multiple, (low, high) = seen_multiple_fps(fps), SEEN_FPS
    smallest = next(n * fps for n in range(1, 100) if n * fps >= low)
    if multiple is None:
        assert smallest > high
    else:
        n = multiple / fps
        assert n == pytest.approx(round(n)) and low <= multiple <= high
        assert multiple == pytest.approx(smallest)


@pytest.mark.parametrize(
    "fps", [30.0, 29.97, 24.0, 20.0, 15.0, 16.630186076336212, 4.625243490461169]
)
def test_at_the_seen_multiple_every_frame_is_a_sample_and_comes_back_exactly(fps):
    """(16.63 and 4.63 fps: ``k fps / n fps`` rounds off a whole frame in float64.)"""
    multiple = seen_multiple_fps(fps)
    n = round(multiple / fps)
    x = torch.randn(3001, 2, dtype=torch.float64)
    up = resample(x, fps, multiple)
    torch.testing.assert_close(up[::n], x, atol=0, rtol=0)
    for hold in (False, True):
        back = resample(up, multiple, fps, frames=x.shape[0], hold=hold)
        torch.testing.assert_close(back, x, atol=0, rtol=0)


def test_is_causal_reads_the_models_setting():
    assert is_causal(_model(causal=True)) and not is_causal(_model())
    assert not is_causal(PredictionEnsemble([_model(), _model()]))
    assert not is_causal(torch.nn.Linear(2, 2))  # no ModelConfig at all


def test_the_command_line_words_for_lift_fps():
    assert parse_lift_fps("auto") == "auto" and parse_lift_fps("video") is None
    assert parse_lift_fps("50") == 50.0 and parse_lift_fps("29.97") == 29.97
    for bad in ("fast", "0", "-5", "inf", "nan", ""):
        with pytest.raises(ValueError, match="expected auto, video or a frame rate"):
            parse_lift_fps(bad)


def test_predict_sequence_at_the_videos_own_rate_is_unchanged():
    kp, sc = _clip(40)
    model = _model()
    plain = predict_sequence(model, kp, sc, EvaluationConfig())
    same = predict_sequence(model, kp, sc, EvaluationConfig(lift_fps=50.0), fps=50.0)
    assert torch.equal(plain, same)
    inside = predict_sequence(model, kp, sc, EvaluationConfig(lift_fps="auto"), fps=60.0)
    assert torch.equal(plain, inside)


@pytest.mark.parametrize("output_frame", ["camera", "ray"])
def test_predict_sequence_lifts_the_resampled_video_and_takes_it_back(output_frame):
    """``lift_fps`` = lifting the 2D resampled by hand at 50 Hz, then the 3D resampled back
    (for a ray-frame model too: its rays come from the resampled 2D)."""
    kp, sc = _clip(30)
    model = _model(output_frame=output_frame)
    intrinsics = assumed_intrinsics(1000, 1000)
    config = EvaluationConfig(flip=True, lift_fps="auto")
    got = predict_sequence(model, kp, sc, config, intrinsics, fps=25.0)
    at_50 = predict_sequence(
        model, resample(kp, 25.0, 50.0), resample(sc, 25.0, 50.0), EvaluationConfig(flip=True),
        intrinsics,
    )  # fmt: skip
    assert got.shape == (30, 17, 3)
    torch.testing.assert_close(got, resample(at_50, 50.0, 25.0, frames=30))
    assert not torch.allclose(got, predict_sequence(model, kp, sc, EvaluationConfig(flip=True),
                                                    intrinsics), atol=1e-3)  # fmt: skip


def test_a_causal_model_at_another_rate_still_never_looks_ahead():
    kp, sc = _clip(45)
    model = _model(causal=True)
    config = EvaluationConfig(flip=False, lift_fps=50.0)
    full = predict_sequence(model, kp, sc, config, fps=30.0)
    for t in (5, 17, 30):
        head = predict_sequence(model, kp[: t + 1], sc[: t + 1], config, fps=30.0)
        torch.testing.assert_close(head, full[: t + 1], atol=1e-5, rtol=0)


def test_a_causal_model_at_the_seen_multiple_lifts_every_frame_without_lag():
    """30 fps under "auto": lifted at 60 Hz, frame ``t`` is sample ``2 t`` itself (no hold
    back to an earlier sample), and no frame depends on a later one."""
    kp, sc = _clip(45)
    model = _model(causal=True)
    config = EvaluationConfig(flip=False, lift_fps="auto")
    full = predict_sequence(model, kp, sc, config, fps=30.0)
    at_60 = predict_sequence(
        model, resample(kp, 30.0, 60.0), resample(sc, 30.0, 60.0), EvaluationConfig(flip=False)
    )
    torch.testing.assert_close(full, at_60[::2], atol=0, rtol=0)
    for t in (4, 17, 30):
        head = predict_sequence(model, kp[: t + 1], sc[: t + 1], config, fps=30.0)
        torch.testing.assert_close(head, full[: t + 1], atol=1e-5, rtol=0)


def test_a_short_video_is_counted_in_the_samples_the_network_sees():
    kp, sc = _clip(12)  # 12 frames at 30 fps: 23 samples at 60 Hz, still under 27
    with pytest.warns(ShortVideoWarning, match="sees 23 frames"):
        predict_sequence(_model(causal=True), kp, sc, EvaluationConfig(lift_fps="auto"), fps=30.0)


def test_evaluation_config_names_a_bad_lift_fps_and_a_missing_frame_rate():
    with pytest.raises(ValueError, match="EvaluationConfig.lift_fps: expected 'auto'"):
        EvaluationConfig(lift_fps="fast")
    with pytest.raises(ValueError, match="EvaluationConfig.lift_fps: expected a frame rate"):
        EvaluationConfig(lift_fps=0)
    kp, sc = _clip(10)
    with pytest.raises(ValueError, match="lift_fps='auto' needs the video's frame rate"):
        predict_sequence(_model(), kp, sc, EvaluationConfig(lift_fps="auto"))


def _detections(fps: float, frames: int = 40) -> Detections:
    kp, sc = _clip(frames)
    pixels = (kp.double() + 1) * 500  # normalised screen -> 1000 x 1000 pixels
    return Detections(pixels.numpy(), sc.double().numpy(), "h36m", 1000, 1000, fps)


@pytest.mark.parametrize(
    ("fps", "lift_fps", "causal", "rate"),
    [(30.0, "auto", False, 50.0), (60.0, "auto", False, 60.0), (30.0, None, False, 30.0),
     (30.0, "auto", True, 60.0), (120.0, "auto", True, 120.0), (60.0, 50.0, False, 50.0)],
)  # fmt: skip
def test_the_pipeline_records_the_rate_it_lifted_at(fps, lift_fps, causal, rate, tmp_path):
    det = _detections(fps)
    result = lift_detections(det, _model(causal), lift_fps=lift_fps)
    assert result.lift_fps == rate and result.fps == fps
    assert result.joints_3d.shape == (40, 17, 3)
    expected = lift_detections(det, _model(causal), lift_fps=rate)  # the same, named
    np.testing.assert_array_equal(result.joints_3d, expected.joints_3d)
    npz = result.save(tmp_path / "r.npz", formats="npz")[0]
    with np.load(npz) as f:
        assert json.loads(str(f["meta_json"]))["lift_fps"] == rate
    kp = lift_keypoints(det.keypoints[:, 0], det.scores[:, 0], 1000, 1000, model=_model(causal),
                        fps=fps, lift_fps=lift_fps)  # fmt: skip
    assert kp.lift_fps == rate
    np.testing.assert_allclose(kp.joints_3d, result.joints_3d, atol=1e-5)


def test_the_command_lifts_at_50hz_by_default_and_as_filmed_when_asked(tmp_path, capsys):
    kp, sc = _clip(40)
    path = tmp_path / "kp.npz"
    np.savez(path, keypoints=((kp.double() + 1) * 500).numpy(), scores=sc.numpy(), width=1000,
             height=1000)  # fmt: skip
    lifted = {}
    for flag in ("auto", "video", "50"):
        out = tmp_path / f"{flag}.npz"
        argv = ["infer", "anatomy_small", str(path), "--out", str(out), "--fps", "25"]
        assert cli.main([*argv, "--lift-fps", flag, "--device", "cpu"]) == 0
        said = "lifted at 50 Hz, the 3D taken back at the video's 25 fps" in capsys.readouterr().out
        assert said == (flag != "video")
        with np.load(out) as f:
            lifted[flag] = f["joints_3d"]
            assert json.loads(str(f["meta_json"]))["lift_fps"] == (25 if flag == "video" else 50)
    np.testing.assert_array_equal(lifted["auto"], lifted["50"])
    assert np.abs(lifted["auto"] - lifted["video"]).max() > 1e-3
    for bad in ("fast", "0", "-5", "inf", "nan"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["infer", str(path), "--lift-fps", bad, "--device", "cpu"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "--lift-fps: expected auto, video or a frame rate" in err
        assert "Traceback" not in err


def test_every_nth_frame_is_the_video_of_a_slower_camera():
    """``PoseSequence.every``: each per-frame tensor keeps every step-th frame, the rate
    drops by the step, the rest is unchanged."""
    from anatomy_lib.data import load_pose2sim_multiperson

    seq = load_pose2sim_multiperson()[0]
    half = seq.every(2)
    assert half.fps == seq.fps / 2 and half.num_frames == math.ceil(seq.num_frames / 2)
    per_frame = 0
    for name, value in vars(seq).items():
        if isinstance(value, torch.Tensor) and value.shape[:1] == (seq.num_frames,):
            assert torch.equal(getattr(half, name), value[::2]), name
            per_frame += 1
        elif name != "fps":
            assert getattr(half, name) is value, name
    assert per_frame >= 5  # 2D, scores, 3D, world 3D, valid
    same = seq.every(1)
    assert same.fps == seq.fps and torch.equal(same.keypoints_2d, seq.keypoints_2d)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="step: expected an int >= 1"):
            seq.every(bad)


def test_a_file_without_its_frame_rate_is_lifted_as_filmed(tmp_path, capsys):
    """A keypoint file's rate is unknown without --fps: taken as 30 fps for gaps and
    timing, lifted as it comes, and the command says so; --fps 30 lifts at 50 Hz."""
    kp, sc = _clip(40)
    path = tmp_path / "kp.npz"
    np.savez(path, keypoints=((kp.double() + 1) * 500).numpy(), scores=sc.numpy(), width=1000,
             height=1000)  # fmt: skip
    rates = {}
    for extra in ([], ["--fps", "30"]):
        out = tmp_path / f"out{len(extra)}.npz"
        argv = ["infer", "anatomy_small", str(path), "--out", str(out), *extra]
        assert cli.main([*argv, "--device", "cpu"]) == 0
        said = capsys.readouterr().out
        assert ("no --fps: 30 fps assumed" in said) == (not extra)
        with np.load(out) as f:
            meta = json.loads(str(f["meta_json"]))
            rates[len(extra)] = (meta["fps"], meta["lift_fps"])
    assert rates == {0: (30.0, 30.0), 2: (30.0, 50.0)}


@pytest.mark.parametrize(("fps_known", "rate"), [(True, 50.0), (False, 30.0)])
def test_a_video_that_stores_no_frame_rate_is_lifted_as_filmed(
    fps_known, rate, tmp_path, monkeypatch
):
    """``run_video`` under "auto": a 30 fps video whose rate the file stores is lifted at
    50 Hz; one whose rate is assumed (an image folder) as it comes."""
    from anatomy_lib.wild import detector, pipeline, video
    from anatomy_lib.wild.sports2d import load_sports2d_demo

    found = load_sports2d_demo().detections  # MediaPipe's 2D of a 30 fps video
    info = video.VideoInfo(str(tmp_path), found.width, found.height, 30.0, found.num_frames,
                           fps_known=fps_known)  # fmt: skip
    monkeypatch.setattr(detector, "mediapipe_available", lambda: True)
    monkeypatch.setattr(video, "video_info", lambda path: info)
    monkeypatch.setattr(video, "iter_frames", lambda path: iter([]))
    monkeypatch.setattr(detector, "detect_people", lambda *a, **k: found)
    run = pipeline.run_video(tmp_path, _model(), out_dir=tmp_path / "out", formats="npz",
                             progress=False)  # fmt: skip
    assert run.result.fps == 30.0 and run.result.lift_fps == rate
