"""Seeded random draws shared by the training-data engine's modules."""

from __future__ import annotations

import torch

__all__ = ["uniform"]


def uniform(
    bounds: tuple[float, float], n: int, generator: torch.Generator, dtype=torch.float64
) -> torch.Tensor:
    """``(n,)`` values drawn uniformly from ``[lo, hi)`` (computed in float64, then cast)."""
    lo, hi = bounds
    return (lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)).to(dtype)
