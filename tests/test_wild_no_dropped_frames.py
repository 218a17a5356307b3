"""No dropped frames: a returning person is re-joined, one unseen keypoint never blanks a
frame, the gap limits are options, and the counts are printed (API and CLI)."""

import json

import numpy as np
import pytest

from anatomy_lib import cli
from anatomy_lib.camera import unnormalize_screen
from anatomy_lib.data import load_default_dataset, load_pose2sim_trial
from anatomy_lib.wild import Detections, FrameStatus, follow_main_person, lift_detections


def _person(frames: int = 300, away: tuple[int, int] = (200, 240)) -> Detections:
    """A real mocap clip's H36M detections (1000 x 1000 px), unseen in frames ``away``."""
    seq = load_default_dataset().sequences[0]
    kp = unnormalize_screen(seq.keypoints_2d[:frames].double(), 1000, 1000).numpy()
    sc = seq.scores[:frames].double().numpy().clip(0.5, 1.0)
    kp[away[0] : away[1]], sc[away[0] : away[1]] = np.nan, 0.0
    return Detections(kp, sc, "h36m", 1000, 1000, 50.0)


def _write_openpose(folder, det: Detections) -> None:
    folder.mkdir()
    for t in range(det.num_frames):
        people = []
        if not np.isnan(det.keypoints[t, 0]).all():
            body = np.concatenate([det.keypoints[t, 0], det.scores[t, 0, :, None]], -1)
            body[np.isnan(body)] = 0.0
            people.append({"pose_keypoints_2d": body.reshape(-1).tolist()})
        (folder / f"clip_{t:06d}_keypoints.json").write_text(json.dumps({"people": people}))


@pytest.mark.parametrize("away", [(200, 240), (250, 290)])
def test_a_returning_person_is_lifted_again(away):
    result = lift_detections(_person(away=away), "anatomy_small")
    after = np.arange(away[1], 300)
    assert (result.status[after] == FrameStatus.DETECTED).all()
    assert np.isfinite(result.joints_3d[after]).all()
    assert (result.status[away[0] : away[1]] == FrameStatus.MISSING).all()
    assert result.counts == {"detected": 260, "interpolated": 0, "missing": 40}
    longer = lift_detections(_person(away=away), "anatomy_small", max_gap=40)
    assert longer.counts == {"detected": 260, "interpolated": 40, "missing": 0}


def test_an_unseen_nose_never_blanks_a_frame():
    """Pose2Sim camera 4: the nose is unseen in 44 of 100 frames, everything else is seen."""
    seq = load_pose2sim_trial()[3]
    kp, sc = seq.keypoints_pixels.double().numpy(), seq.scores.double().numpy()
    unseen = sc == 0
    assert unseen[:, 9].sum() == 44 and unseen[:, np.arange(17) != 9].sum() == 0
    kp[unseen] = np.nan
    w, h = seq.image_size
    result = lift_detections(Detections(kp, sc, "h36m", w, h, 60.0), "anatomy_small")
    assert result.counts == {"detected": 100, "interpolated": 0, "missing": 0}
    assert np.isfinite(result.joints_3d).all() and (result.scores[unseen[:, 9], 9] == 0).all()
    strict = lift_detections(Detections(kp, sc, "h36m", w, h, 60.0), "anatomy_small",
                             min_keypoints=1.0)  # fmt: skip
    assert strict.counts["detected"] == 56  # every keypoint required: the old behaviour


def test_cli_counts_and_gap_options(tmp_path, capsys):
    folder = tmp_path / "clip_json"
    _write_openpose(folder, _person())
    argv = ["infer", str(folder), "--width", "1000", "--height", "1000", "--fps", "50",
            "--layout", "h36m", "--no-figure", "--device", "cpu"]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "lifted 300 frames: 260 detected, 0 interpolated, 40 missing" in out
    with np.load(tmp_path / "clip_json_anatomy3d" / "clip_json_3d.npz") as f:
        assert np.isfinite(f["joints_3d"][240:]).all()
    assert not (tmp_path / "clip_json_anatomy3d" / "clip_json_3d.html").exists()
    assert cli.main([*argv, "--max-gap", "40"]) == 0
    assert "260 detected, 40 interpolated, 0 missing" in capsys.readouterr().out


def _cam4_without_nose() -> Detections:
    seq = load_pose2sim_trial()[3]
    kp, sc = seq.keypoints_pixels.double().numpy(), seq.scores.double().numpy()
    kp[sc == 0] = np.nan
    w, h = seq.image_size
    return Detections(kp, sc, "h36m", w, h, 60.0)


@pytest.mark.parametrize(
    ("case", "printed", "with_3d"),
    [
        ("returns", "lifted 300 frames: 260 detected, 0 interpolated, 40 missing", 260),
        ("gap_at_end", "lifted 300 frames: 260 detected, 0 interpolated, 40 missing", 260),
        ("unseen_nose", "lifted 100 frames: 100 detected, 0 interpolated, 0 missing", 100),
    ],
)
def test_cli_keeps_every_frame_it_can(case, printed, with_3d, tmp_path, capsys):
    det = {"returns": lambda: _person(), "gap_at_end": lambda: _person(away=(250, 290)),
           "unseen_nose": _cam4_without_nose}[case]()  # fmt: skip
    _write_openpose(tmp_path / "clip", det)
    argv = ["infer", str(tmp_path / "clip"), "--layout", "h36m", "--width", str(det.width),
            "--height", str(det.height), "--fps", str(det.fps), "--no-figure"]  # fmt: skip
    assert cli.main([*argv, "--device", "cpu"]) == 0
    assert printed in capsys.readouterr().out
    with np.load(tmp_path / "clip_anatomy3d" / "clip_3d.npz") as f:
        assert np.isfinite(f["joints_3d"]).all(axis=(1, 2)).sum() == with_3d


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-gap", "-1"], "--max-gap: expected N >= 0"),
        (["--min-keypoints", "1.5"], "--min-keypoints: expected a fraction"),
        (["--format", "npz,fbx"], "--format: formats: expected"),
        (["--figure-frames", "0"], "--figure-frames"),
    ],
)
def test_cli_bad_gap_and_format_options(extra, message, tmp_path, capsys):
    folder = tmp_path / "clip_json"
    _write_openpose(folder, _person(frames=5, away=(0, 0)))
    argv = ["infer", str(folder), "--width", "1000", "--height", "1000", *extra]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_second_look_only_where_the_detector_followed_someone_else(monkeypatch):
    """One graph follows the main person, then someone else (frames 40-59): only those
    frames are looked at again, with the first person painted over, and the main person
    found there joins the track."""
    from anatomy_lib.wild import detector
    from anatomy_lib.wild.pipeline import someone_else_frames

    t_count, k = 60, 33
    base = np.stack([np.linspace(-20, 20, k), np.linspace(-50, 50, k)], -1)
    main = (
        base[None]
        + np.stack([100 + 2.0 * np.arange(t_count), np.full(t_count, 300.0)], -1)[:, None]
    )
    other = main + np.array([500.0, 0.0])
    kp = np.where((np.arange(t_count) >= 40)[:, None, None], other, main)[:, None]
    det = Detections(kp, np.full((t_count, 1, k), 0.9), "mediapipe33", 1000, 600, 30.0)
    wanted = someone_else_frames(det)
    np.testing.assert_array_equal(np.flatnonzero(wanted), np.arange(40, 60))

    seen = []

    class Fake:
        def __init__(self, **_):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def detect(self, view):
            t = len(seen)
            seen.append(view)
            painted = (view[300, int(other[40 + t, 0, 0]) + 5] == 127).all()
            return (main[40 + t], np.full(k, 0.8)) if painted else None

    monkeypatch.setattr(detector, "MediaPipePoseDetector", Fake)
    frames = (np.zeros((600, 1000, 3), np.uint8) for _ in range(t_count))
    both = detector.detect_hidden_person(frames, det, wanted, progress=False)
    assert len(seen) == 20 and both.keypoints.shape == (t_count, 2, k, 2)
    assert np.isnan(both.keypoints[:40, 1]).all()
    np.testing.assert_allclose(both.keypoints[40:, 1], main[40:])
    track = follow_main_person(both)
    assert (track.person[40:] == 1).all() and (track.person[:40] == 0).all()
    with pytest.raises(ValueError, match="wanted"):
        detector.detect_hidden_person(iter([]), det, wanted[:5])
