"""Models by name: an experiment's untrained network, and a trained one from whatever
names it (a shipped model, a model file, a training checkpoint or a run folder, or several of
those joined by ``+`` for the mean of their predictions).

:func:`anatomy_lib.wild.resolve_model` (the video pipeline, the CLI) and the trainer's
``init_weights`` both load through :func:`load_model_file`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checkpoints import SHIPPED_NAMES, load_pretrained
from ..models.anatomy import AnatomyModel
from ..models.checkpoints import load_model
from ..models.ensemble import PredictionEnsemble
from ..models.temporal import TemporalConvNet
from ..safe_io import load_torch_file
from .checkpointing import CHECKPOINT_FORMAT, load_training_checkpoint
from .config import ExperimentConfig
from .run_folder import run_model_file

__all__ = ["ENSEMBLE_SEPARATOR", "build_model", "load_init_weights", "load_model_file"]

#: Joins the names of models whose predictions are averaged: ``"runs/a+anatomy_medium_causal"``.
ENSEMBLE_SEPARATOR = "+"


def _network(experiment: ExperimentConfig) -> tuple[type[nn.Module], Any]:
    """The class of an experiment's network and the configuration it is built from."""
    if experiment.architecture == "baseline":
        return TemporalConvNet, experiment.model.baseline()
    return AnatomyModel, experiment.model


def build_model(experiment: ExperimentConfig) -> AnatomyModel | TemporalConvNet:
    """The untrained network of an experiment (weights drawn from the global torch RNG)."""
    cls, config = _network(experiment)
    return cls(config)


def load_init_weights(experiment: ExperimentConfig) -> nn.Module:
    """The trained model named by ``experiment.init_weights`` (:func:`load_model_file`),
    checked to be the experiment's network: the same class and configuration.

    Raises:
        ValueError: another network; the message names the differing fields and both values.
    """
    spec = experiment.init_weights
    source = load_model_file(spec)
    cls, config = _network(experiment)
    if type(source) is not cls:
        raise ValueError(
            f"init_weights {spec!r}: its {type(source).__name__} differs from the "
            f"experiment's {cls.__name__} in its architecture"
        )
    mine, theirs = config.to_dict(), source.config.to_dict()
    differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    if differ:
        raise ValueError(
            f"init_weights {spec!r}: its {cls.__name__} differs from the experiment's in "
            f"{differ} (init_weights: {[theirs.get(k) for k in differ]}, experiment: "
            f"{[mine.get(k) for k in differ]}); set model.* to match it"
        )
    return source


def load_model_file(
    spec: str | Path, device: torch.device | str = "cpu", trusted: bool = False
) -> nn.Module:
    """A trained model in eval mode on ``device``: ``spec`` is a shipped name
    (:data:`anatomy_lib.checkpoints.SHIPPED_NAMES`), a file written by
    :func:`anatomy_lib.models.checkpoints.save_model`, a training checkpoint, or a training
    run folder (its ``model.pt``, else its ``checkpoint.pt``); or several of those joined by
    :data:`ENSEMBLE_SEPARATOR` (``"runs/a+anatomy_medium_causal"``, when no file or folder
    has that name): a :class:`~anatomy_lib.models.ensemble.PredictionEnsemble` of them, lifted
    like the shipped ``anatomy_medium_ensemble``. Files are read without running code from
    them unless ``trusted``.

    Raises:
        FileNotFoundError: nothing usable at ``spec`` (or at one of its members).
        ValueError: an unreadable file or one refused as unsafe
            (:class:`~anatomy_lib.safe_io.UnsafeFileError`); an ensemble with an empty
            member name, a member that is itself an ensemble, or members on different
            skeletons.
    """
    if str(spec) in SHIPPED_NAMES:
        return load_pretrained(str(spec)).to(device)
    path = Path(spec)
    if ENSEMBLE_SEPARATOR in str(spec) and not path.exists():
        return _ensemble_of(str(spec), device, trusted)
    if path.is_dir():
        path = run_model_file(path) or path  # model.pt only if written after checkpoint.pt
        if path.is_dir():
            raise FileNotFoundError(f"{spec}: folder holds no model.pt or checkpoint.pt")
    if not path.is_file():
        raise FileNotFoundError(
            f"model {str(spec)!r}: neither a shipped model {sorted(SHIPPED_NAMES)} nor a file "
            "or training run folder"
        )
    head = load_torch_file(path, "cpu", trusted=trusted)  # never runs code unless trusted
    if isinstance(head, dict) and head.get("format") == CHECKPOINT_FORMAT:
        state = load_training_checkpoint(path, trusted=trusted)
        net = build_model(ExperimentConfig.from_dict(state["experiment"]))
        net.load_state_dict(state["model"])
        return net.eval().to(device)
    return load_model(path, map_location=device)


def _ensemble_of(spec: str, device: torch.device | str, trusted: bool) -> PredictionEnsemble:
    """The models named by ``spec``'s ``+``-joined parts, their predictions averaged."""
    names = spec.split(ENSEMBLE_SEPARATOR)
    if not all(names):
        raise ValueError(
            f"model {spec!r}: expected NAME{ENSEMBLE_SEPARATOR}NAME (models whose predictions "
            "are averaged), got an empty name"
        )
    members = []
    for name in names:
        member = load_model_file(name, device, trusted)
        if isinstance(member, PredictionEnsemble):
            members_of = ENSEMBLE_SEPARATOR.join(member.config.members)
            raise ValueError(
                f"model {spec!r}: {name!r} is itself an ensemble; name its members instead "
                f"({members_of})"
            )
        members.append(member)
    try:
        return PredictionEnsemble(members, names=names).eval()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model {spec!r}: {exc}") from None
