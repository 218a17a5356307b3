"""An exponential moving average of a model's weights (``optim.ema_decay``).

After every optimiser step, each floating-point parameter and buffer ``a`` of the average
moves towards the trained model's ``w``:

    a <- decay * a + (1 - decay) * w

(the first update copies ``w``; integer buffers such as BatchNorm's step count are copied).
Averaging over the last ``~1 / (1 - decay)`` steps removes much of the noise that the
optimiser's steps on fresh random batches leave in the weights.

:func:`average_models` is the same idea across runs: the uniform mean of the weights of
several runs continued from the same starting weights (a "model soup", Wortsman et al.,
ICML 2022). Runs from different random initialisations must not be averaged: their weights
do not lie in one basin, and their mean is no model at all.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["WeightAverage", "average_models"]


class WeightAverage:
    """The moving average of ``model``'s parameters and buffers, held in a copy of it.

    Args:
        model: the trained model (copied; the average starts from its current weights
            at the first :meth:`update`).
        decay: weight of the old average, in (0, 1).

    Attributes:
        module: the averaged model (evaluation mode, no gradients).
        updates: how many times :meth:`update` has run.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay: expected a number in (0, 1), got {decay!r}")
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of the average towards ``model`` (the same network as :attr:`module`)."""
        averaged, trained = _tensors(self.module), _tensors(model)
        if averaged.keys() != trained.keys():
            raise ValueError("update: the model's parameters and buffers differ from the average's")
        for name, a in averaged.items():
            w = trained[name].detach()
            if self.updates and a.is_floating_point():
                a.lerp_(w, 1.0 - self.decay)
            else:
                a.copy_(w)
        self.updates += 1


@torch.no_grad()
def average_models(models: list[nn.Module]) -> nn.Module:
    """The uniform mean of ``models``' weights, in a copy of the first (evaluation mode).

    Every floating-point parameter and buffer (BatchNorm statistics included) is averaged;
    integer buffers are the first model's.

    Args:
        models: at least one model, all the same network (same names and shapes).

    Raises:
        ValueError: no models, or their parameters and buffers differ.
    """
    if not models:
        raise ValueError("average_models: expected at least one model, got none")
    out = copy.deepcopy(models[0]).eval()
    mean = _tensors(out)
    for i, model in enumerate(models[1:], start=1):
        other = _tensors(model)
        if other.keys() != mean.keys() or any(other[k].shape != v.shape for k, v in mean.items()):
            raise ValueError(
                f"average_models: model {i}'s parameters and buffers differ from model 0's"
            )
        for name, v in mean.items():
            if v.is_floating_point():
                v.add_(other[name].to(v.dtype))
    for v in mean.values():
        if v.is_floating_point():
            v.div_(len(models))
    return out


def _tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}
