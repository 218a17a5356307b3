"""Pretrained models shipped with the package (see ``README.md`` in this folder).

* ``anatomy_medium`` (the default, :data:`DEFAULT_MODEL`) and ``anatomy_medium_causal``
  (the causal default, :data:`DEFAULT_CAUSAL_MODEL`): for real video, trained on the
  training-data engine (``scripts/ship_default_models.py`` records how);
* ``anatomy_medium_ensemble`` (the default of sessions 20-22): the two above with their
  predictions averaged (:class:`~anatomy_lib.models.ensemble.PredictionEnsemble`; no file of
  its own);
* ``anatomy_small``, ``anatomy_small_causal``, ``baseline_small``: small models trained
  for minutes on the embedded dataset by ``scripts/train_small_models.py``, for the book's
  quick demos and the Table 4 chapter.

None is a Human3.6M-quality model.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_CAUSAL_MODEL",
    "PRETRAINED",
    "PRETRAINED_ENSEMBLES",
    "SHIPPED_NAMES",
    "pretrained_path",
    "load_pretrained",
]

_FOLDER = Path(__file__).parent

#: Name -> file of every shipped checkpoint.
PRETRAINED: dict[str, str] = {
    "anatomy_medium": "anatomy_medium.pt",
    "anatomy_medium_causal": "anatomy_medium_causal.pt",
    "anatomy_small": "anatomy_small.pt",
    "anatomy_small_causal": "anatomy_small_causal.pt",
    "baseline_small": "baseline_small.pt",
}

#: Name -> the shipped models whose predictions it averages (no file of its own).
PRETRAINED_ENSEMBLES: dict[str, tuple[str, ...]] = {
    "anatomy_medium_ensemble": ("anatomy_medium", "anatomy_medium_causal"),
}

#: Every name :func:`load_pretrained` takes.
SHIPPED_NAMES: tuple[str, ...] = (*PRETRAINED, *PRETRAINED_ENSEMBLES)


def pretrained_path(name: str) -> Path:
    """File of the shipped checkpoint ``name``.

    Raises:
        KeyError: unknown name (the known ones are listed).
        FileNotFoundError: the package was installed without its checkpoints.
    """
    if name in PRETRAINED_ENSEMBLES:
        raise KeyError(
            f"{name!r} is an ensemble of {PRETRAINED_ENSEMBLES[name]} and has no file of its "
            "own; load it with load_pretrained"
        )
    if name not in PRETRAINED:
        raise KeyError(f"unknown pretrained model {name!r}; shipped: {sorted(SHIPPED_NAMES)}")
    path = _FOLDER / PRETRAINED[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: checkpoint missing from this installation; rebuild it with "
            "`python scripts/ship_default_models.py` (medium) or "
            "`python scripts/train_small_models.py --ship` (small)"
        )
    return path


#: The model of ``load_pretrained()`` and ``anatomy3d infer`` when none is named.
DEFAULT_MODEL = "anatomy_medium"
#: The model of ``anatomy3d infer --causal`` when none is named (live use: no future frame).
DEFAULT_CAUSAL_MODEL = "anatomy_medium_causal"


def load_pretrained(name: str = DEFAULT_MODEL, map_location="cpu") -> nn.Module:
    """A shipped model, in eval mode: a
    :class:`~anatomy_lib.models.ensemble.PredictionEnsemble` (``"anatomy_medium_ensemble"``,
    the default for real video), an :class:`~anatomy_lib.models.AnatomyModel`
    (``"anatomy_medium"``; ``"anatomy_medium_causal"`` for streaming;
    ``"anatomy_small"`` / ``"anatomy_small_causal"`` for quick demos) or a
    :class:`~anatomy_lib.models.TemporalConvNet` (``"baseline_small"``), all on the
    Human3.6M-17 skeleton with 27-frame windows."""
    from ..models.checkpoints import load_model

    if name in PRETRAINED_ENSEMBLES:
        from ..models.ensemble import PredictionEnsemble

        members = PRETRAINED_ENSEMBLES[name]
        models = [load_pretrained(m, map_location) for m in members]
        return PredictionEnsemble(models, names=members).eval()
    return load_model(pretrained_path(name), map_location=map_location)
