"""Small pretrained models shipped with the package (see ``README.md`` in this folder).

They were trained on the embedded dataset by ``scripts/reproduce_table4.py``: use them
to lift poses without training first, not as Human3.6M-quality models.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

__all__ = ["PRETRAINED", "pretrained_path", "load_pretrained"]

_FOLDER = Path(__file__).parent

#: Name -> file of every shipped checkpoint.
PRETRAINED: dict[str, str] = {
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
            "`python scripts/reproduce_table4.py --ship`"
        )
    return path


def load_pretrained(name: str = "anatomy_small", map_location="cpu") -> nn.Module:
    """A shipped model, in eval mode: an :class:`~anatomy_lib.models.AnatomyModel`
    (``"anatomy_small"``, or ``"anatomy_small_causal"`` for streaming) or a
    :class:`~anatomy_lib.models.TemporalConvNet` (``"baseline_small"``), all on the
    Human3.6M-17 skeleton with 27-frame windows."""
    from ..models.checkpoints import load_model

    return load_model(pretrained_path(name), map_location=map_location)
