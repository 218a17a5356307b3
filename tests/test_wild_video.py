"""Reading frames of a video file or image folder (anatomy_lib.wild.video)."""

import imageio.v3 as iio
import numpy as np
import pytest

from anatomy_lib.wild import iter_frames, read_frames, video_info

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 0, 0]], np.uint8)


def _frames() -> np.ndarray:
    """5 flat-coloured 24 x 32 frames with a white square moving right."""
    out = np.repeat(np.repeat(COLOURS[:, None, None], 24, 1), 32, 2).copy()
    for t in range(5):
        out[t, 8:12, 4 * t : 4 * t + 4] = 255
    return out


@pytest.fixture
def gif(tmp_path):
    path = tmp_path / "clip.gif"
    iio.imwrite(path, _frames(), duration=40, loop=0)  # 40 ms per frame = 25 fps
    return path


def test_gif_frames_info_and_step(gif):
    frames = list(iter_frames(gif))
    np.testing.assert_array_equal(np.stack(frames), _frames())  # flat colours: lossless
    info = video_info(gif)
    assert (info.width, info.height, info.num_frames) == (32, 24, 5)
    assert info.fps == pytest.approx(25.0) and info.fps_known  # from the GIF's durations
    np.testing.assert_array_equal(np.stack(list(iter_frames(gif, step=2))), _frames()[::2])
    picked = read_frames(gif, [3, 1])
    np.testing.assert_array_equal(picked[0], _frames()[3])
    np.testing.assert_array_equal(picked[1], _frames()[1])


def test_image_folder(tmp_path):
    for t, frame in enumerate(_frames()):
        iio.imwrite(tmp_path / f"frame_{t:04d}.png", frame)
    (tmp_path / "notes.txt").write_text("not a frame")
    np.testing.assert_array_equal(np.stack(list(iter_frames(tmp_path))), _frames())
    info = video_info(tmp_path, default_fps=12.5)
    assert (info.width, info.height, info.num_frames, info.fps) == (32, 24, 5, 12.5)
    assert not info.fps_known  # images store no frame rate: 12.5 is assumed


def test_grey_frames_become_rgb(tmp_path):
    iio.imwrite(tmp_path / "a.png", np.full((4, 6), 7, np.uint8))
    (frame,) = list(iter_frames(tmp_path))
    assert frame.shape == (4, 6, 3) and (frame == 7).all()


def test_bad_paths_and_arguments(tmp_path, gif):
    with pytest.raises(FileNotFoundError, match="no such video"):
        list(iter_frames(tmp_path / "missing.mp4"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        list(iter_frames(tmp_path / "empty"))
    with pytest.raises(ValueError, match="step"):
        list(iter_frames(gif, step=0))
    with pytest.raises(IndexError, match=r"frames \[7\] past the end"):
        read_frames(gif, [1, 7])
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video")
    with pytest.raises(OSError, match="junk.mp4"):
        list(iter_frames(junk))
