"""Seeds derived from an experiment's seed: one per purpose, epoch and step.

Every random draw of a training run (initial weights, batch order, augmentation, dropout,
the engine's pool of each epoch) takes its own generator seeded by :func:`derive_seed` from
the experiment's seed and names for what it is for, so a resumed run draws exactly what an
uninterrupted one would, and adding a new draw shifts none of the others.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["derive_seed", "seeded_generator"]


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed from ``parts`` (ints and short strings), stable across runs and machines.

    Strings count by their first 8 UTF-8 bytes: ``"dropout"`` and ``"dropout2"`` give
    different seeds, names that share their first 8 bytes the same one.
    """
    words = [p if isinstance(p, int) else int.from_bytes(p.encode()[:8], "little") for p in parts]
    return int(np.random.SeedSequence(words).generate_state(2, dtype=np.uint32).astype(np.uint64)
               @ np.array([1, 2**32], dtype=np.uint64)) & (2**63 - 1)  # fmt: skip


def seeded_generator(*parts: int | str) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with :func:`derive_seed` of ``parts``."""
    return torch.Generator().manual_seed(derive_seed(*parts))
