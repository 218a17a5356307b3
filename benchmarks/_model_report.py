"""The command line of the accuracy benchmarks that score one or more models on fixed data.

``--model NAME_OR_PATH ...`` (any name :func:`anatomy_lib.wild.resolve_model` takes),
``--label`` one per model, ``--threads``; prints one JSON object with the command, commit,
versions and, per model, its label and what ``score(model, args)`` returns.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from collections.abc import Callable

import torch
from real_data import commit, pull_strength_arg, roll_degrees_arg

from anatomy_lib.wild import resolve_model


def add_flip_option(parser: argparse.ArgumentParser) -> None:
    """``--flip`` / ``--no-flip``: the mirror pass for every model (default None: the
    library's, :func:`anatomy_lib.evaluation.uses_flip`: on for one model, off for an
    ensemble, as ``anatomy3d infer`` and the trainer's protocol lift)."""
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                        help="the mirror pass for every model (default: on for one model, "
                        "off for an ensemble, as anatomy3d infer lifts)")  # fmt: skip


def add_pull_option(
    parser: argparse.ArgumentParser, default: float | None, default_text: str
) -> None:
    """``--pull STRENGTH``: the lifted 3D pulled that far towards the 2D keypoints' rays
    (:func:`anatomy_lib.wild.pipeline.video_keypoint_pull`; 0: not at all)."""
    parser.add_argument("--pull", type=pull_strength_arg, default=default, metavar="STRENGTH",
                        help="pull the lifted 3D this far (0-1) towards the 2D keypoints' "
                        f"rays (default: {default_text})")  # fmt: skip


def add_roll_option(
    parser: argparse.ArgumentParser, default: float | None, default_text: str
) -> None:
    """``--roll DEGREES``: the lifted 3D averaged with views turned that far either way about
    the root's ray (:func:`anatomy_lib.wild.pipeline.video_roll_views`; 0: none)."""
    parser.add_argument("--roll", type=roll_degrees_arg, default=default, metavar="DEGREES",
                        help="average the lifted 3D with views turned this far (0-45 degrees) "
                        f"either way about the root's ray (default: {default_text})")  # fmt: skip


def report_header(script: str, argv: list[str] | None = None) -> dict:
    """The fields every benchmark report starts with: the command that made it (``script``
    with ``argv``, default the command line's), the commit, Python's and PyTorch's versions."""
    args = sys.argv[1:] if argv is None else argv
    return {
        "command": shlex.join(["python", script, *args]),
        "commit": commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def model_report(
    script: str,
    description: str,
    score: Callable[[torch.nn.Module, argparse.Namespace], dict],
    argv=None,
    extra: Callable[[], dict] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> dict:
    """Parse the arguments, score every model and print (and return) the report.

    Args:
        script: the benchmark's path from the repository root (for the recorded command).
        description: the ``--help`` text.
        score: ``(model, args) -> {field: value}`` for one model (loads its data on first
            use; ``args``: the parsed command line, the benchmark's own options included).
        argv: the arguments (default: the command line's).
        extra: ``() -> {field: value}`` added to the report after the models are scored.
        add_arguments: adds the benchmark's own options to the parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", nargs="+", default=["anatomy_medium"])
    parser.add_argument("--label", nargs="+", help="a label per model (default: its name)")
    parser.add_argument("--threads", type=int, default=2)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    labels = args.label or args.model
    if len(labels) != len(args.model):
        parser.error(f"--label: expected {len(args.model)} labels, got {len(labels)}")
    torch.set_num_threads(args.threads)
    report = {**report_header(script, argv), "models": {}}
    for spec, label in zip(args.model, labels, strict=True):
        model = resolve_model(spec)
        report["models"][spec] = {"label": label, **score(model, args)}
    if extra is not None:
        report.update(extra())
    print(json.dumps(report, indent=1))
    return report
