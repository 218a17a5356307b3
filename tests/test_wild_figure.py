"""The in-the-wild figure: cropped to the person, one standalone HTML page that draws and
animates offline in headless Chromium (skipped without /usr/bin/chromium)."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anatomy_lib.wild import lift_detections
from anatomy_lib.wild.figure import crop_windows, video_pose_spec
from anatomy_lib.wild.pipeline import save_figure
from anatomy_lib.wild.sports2d import load_sports2d_demo

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
    "--window-size=1100,620", "--virtual-time-budget=8000",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_result():
    demo = load_sports2d_demo()
    return demo, lift_detections(demo.detections, "anatomy_small")


def test_crop_windows_follow_the_person_with_one_size():
    kp = np.zeros((3, 17, 2))
    kp[:, :, 0] = np.linspace(0, 40, 17)[None] + np.array([100, 500, 1900])[:, None]
    kp[:, :, 1] = np.linspace(0, 160, 17)[None] + 300
    corners, w, h = crop_windows(kp, np.ones((3, 17)), 2000, 1000, margin=0.25, aspect=0.75)
    assert h == pytest.approx(160 * 1.5) and w == pytest.approx(0.75 * h)
    centres = corners + np.array([w, h]) / 2
    np.testing.assert_allclose(centres[:2, 0], [120, 520])  # centred on the person
    assert corners[2, 0] == pytest.approx(2000 - w)  # clamped inside the image
    assert ((corners >= 0) & (corners + [w, h] <= [2000, 1000])).all()


def test_spec_is_cropped_synchronised_and_plain(demo_result):
    demo, result = demo_result
    spec = video_pose_spec(demo.frames, demo.frame_indices, result, crop_height=300)
    kept = [str(int(t)) for t in demo.frame_indices if result.valid[t]]
    assert [f["name"] for f in spec["frames"]] == kept
    assert [s["label"] for s in spec["layout"]["sliders"][0]["steps"]] == kept
    # every frame changes the image and both panels' traces together
    for f in spec["frames"]:
        assert f["layout"]["images"][0]["source"].startswith("data:image/jpeg;base64,")
        kinds = {spec["data"][i]["type"] for i in f["traces"]}
        assert kinds == {"scatter", "scatter3d"} and len(f["data"]) == len(f["traces"])
    assert spec["layout"]["yaxis"]["range"] == [300, 0]
    # the person fills the panel: the 2D keypoints span most of the cropped height
    ys = np.array([y for t in spec["frames"][3]["data"] if t["type"] == "scatter"
                   for y in t["y"] if y is not None])  # fmt: skip
    assert np.ptp(ys) > 0.4 * 300
    scene = spec["layout"]["scene"]
    spans = [np.diff(scene[a]["range"])[0] for a in ("xaxis", "yaxis", "zaxis")]
    np.testing.assert_allclose(spans, spans[0])  # equal axes
    assert scene["aspectmode"] == "cube" and "eye" in scene["camera"]


def _shoot(page: Path, shot: Path, profile: Path) -> list[str]:
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.exists(), f"no screenshot; chromium said:\n{proc.stderr[-3000:]}"
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_html_opens_offline_draws_and_animates(demo_result, tmp_path):
    demo, result = demo_result
    frames = {int(t): f for t, f in zip(demo.frame_indices, demo.frames, strict=True)}
    page = save_figure(result, tmp_path / "demo.html", title="demo", frames=frames)
    text = page.read_text()
    assert "<script src=" not in text and "cdn" not in text.lower()[:2000]  # nothing fetched
    assert page.stat().st_size < 6e6
    console = _shoot(page, tmp_path / "first.png", tmp_path / "p1")
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    first = np.asarray(Image.open(tmp_path / "first.png").convert("RGB"), dtype=int)
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 1000  # a photo is drawn
    red = ((first[..., 0] > 180) & (first[..., 1] < 90) & (first[..., 2] < 90)).sum()
    blue = ((first[..., 2] > 150) & (first[..., 0] < 80) & (first[..., 1] < 150)).sum()
    assert red > 50 and blue > 50  # limbs in both side colours
    last = max(t for t in frames if result.valid[t])
    moved = tmp_path / "moved.html"
    go_to = (
        f"<script>setTimeout(() => Plotly.animate('figure', ['{last}'], {{mode: 'immediate', "
        "frame: {duration: 0, redraw: true}, transition: {duration: 0}}), 1500);</script>"
    )
    head, tail = text.rsplit("</body>", 1)
    moved.write_text(head + go_to + "</body>" + tail)
    _shoot(moved, tmp_path / "moved.png", tmp_path / "p2")
    after = np.asarray(Image.open(tmp_path / "moved.png").convert("RGB"), dtype=int)
    assert np.abs(after - first).max(-1).astype(bool).mean() > 0.02  # frame and 3D changed
