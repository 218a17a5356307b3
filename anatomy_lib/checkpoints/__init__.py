"""Pretrained models shipped with the package (see ``README.md`` in this folder).

* ``anatomy_medium`` (the default) and ``anatomy_medium_causal``: for real video, trained
  on the training-data engine (``scripts/ship_default_models.py`` records how);
* ``anatomy_small``, ``anatomy_small_causal``, ``baseline_small``: small models trained
  for minutes on the embedded dataset by ``scripts/train_small_models.py``, for the book's
  quick demos and the Table 4 chapter.

None is a Human3.6M-quality model.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

__all__ = ["DEFAULT_MODEL", "PRETRAINED", "pretrained_path", "load_pretrained"]

_FOLDER = Path(__file__).parent

#: Name -> file of every shipped checkpoint.
PRETRAINED: dict[str, str] = {
    "anatomy_medium": "anatomy_medium.pt",
    "anatomy_medium_causal": "anatomy_medium_causal.pt",
    "anatomy_small": "anatomy_small.pt",
    "anatomy_small_causal": "anatomy_small_causal.pt",
    "baseline_small": "baseline_small.pt",
}


def pretrained_path(name: str) -> Path:
    """File of the shipped checkpoint ``name``.

    Raises:
        KeyError: unknown name (the known ones are listed).
        FileNotFoundError: the package was installed without its checkpoints.
    """
    if name not in PRETRAINED:
        raise KeyError(f"unknown pretrained model {name!r}; shipped: {sorted(PRETRAINED)}")
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


def load_pretrained(name: str = DEFAULT_MODEL, map_location="cpu") -> nn.Module:
    """A shipped model, in eval mode: an :class:`~anatomy_lib.models.AnatomyModel`
    (``"anatomy_medium"`` for real video, the default; ``"anatomy_medium_causal"`` for
    streaming; ``"anatomy_small"`` / ``"anatomy_small_causal"`` for quick demos) or a
    :class:`~anatomy_lib.models.TemporalConvNet` (``"baseline_small"``), all on the
    Human3.6M-17 skeleton with 27-frame windows."""
    from ..models.checkpoints import load_model

    return load_model(pretrained_path(name), map_location=map_location)
