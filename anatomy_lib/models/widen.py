"""Function-preserving widening of a trained network (Net2WiderNet; Chen, Goodfellow and
Shlens, "Net2Net", ICLR 2016).

A network with ``C`` feature channels becomes one with ``C' > C`` that computes the same
function: new channel ``j`` copies old channel ``g(j)`` (``g(j) = j`` for ``j < C``, a
random old channel for the others), and every layer that reads the channels shares each old
channel's weight out over its copies with coefficients that sum to one:

    W'[:, j] = a_j W[:, g(j)],    sum_{j: g(j) = c} a_j = 1   for every old channel c.

Each layer's own outputs (conv / linear rows, biases, BatchNorm parameters and running
statistics) are gathered by ``g``, so every feature tensor of the wide network is the old
one gathered by ``g`` and the readers' sums are the old sums. ReLU, BatchNorm, dropout, the
residual additions, the visibility product and the channel concatenations all act channel
by channel, so they keep that form. With ``split="random"`` the coefficients are drawn
(uniform in [0.5, 1.5], normalised per old channel): the copies then receive different
gradients, so training can pull them apart (``"even"`` shares equally, as Net2Net does
before it adds noise to break the symmetry).

Which dimensions are channels is read off the two networks: a parameter dimension whose size
differs between the old network and the new one built with ``channels=C'`` is a channel
dimension (``C -> C'``, or ``2C -> 2C'`` where two features are concatenated). Dimension 0
of a weight is what it writes, dimension 1 what it reads.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

__all__ = ["channel_copies", "widen_model"]


def channel_copies(channels: int, new_channels: int, generator: torch.Generator) -> torch.Tensor:
    """``(new_channels,)`` long: the old channel each new channel copies (identity first)."""
    if not 0 < channels <= new_channels:
        raise ValueError(
            f"widen: expected 0 < channels <= new channels, got {channels} -> {new_channels}"
        )
    extra = torch.randint(channels, (new_channels - channels,), generator=generator)
    return torch.cat([torch.arange(channels), extra])


def _shares(copies: torch.Tensor, split: str, generator: torch.Generator) -> torch.Tensor:
    """``(C',)`` coefficients summing to one over each old channel's copies."""
    if split == "even":
        raw = torch.ones(len(copies), dtype=torch.float64)
    else:
        raw = 0.5 + torch.rand(len(copies), generator=generator, dtype=torch.float64)
    total = torch.zeros(int(copies.max()) + 1, dtype=torch.float64).index_add_(0, copies, raw)
    return raw / total[copies]


def _widen_tensor(
    old: torch.Tensor,
    shape: torch.Size,
    channels: int,
    copies: torch.Tensor,
    split: str,
    generator: torch.Generator,
) -> torch.Tensor:
    """One parameter or buffer, ``old.shape -> shape``: gathered on dim 0, shared on dim 1."""
    out = old
    for dim in range(old.dim()):
        if old.shape[dim] == shape[dim]:
            continue
        parts = old.shape[dim] // channels
        if dim > 1 or old.shape[dim] != parts * channels or shape[dim] != parts * len(copies):
            raise ValueError(
                f"widen: cannot read dimension {dim} of a {tuple(old.shape)} tensor as "
                f"channels ({channels} -> {len(copies)}); new shape {tuple(shape)}"
            )
        index = torch.cat([copies + k * channels for k in range(parts)])
        out = out.index_select(dim, index.to(out.device))
        if dim == 1:  # a reader: share each old channel's weight over its copies
            share = torch.cat([_shares(copies, split, generator) for _ in range(parts)])
            view = [1] * out.dim()
            view[1] = -1
            out = out * share.to(out.device, out.dtype).view(view)
    return out


def widen_model(
    model: nn.Module,
    channels: int,
    split: str = "random",
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A copy of ``model`` with ``channels`` feature channels that computes the same function.

    Args:
        model: an :class:`~anatomy_lib.models.AnatomyModel` or
            :class:`~anatomy_lib.models.TemporalConvNet` (any module with a dataclass
            ``config`` holding ``channels``, built as ``type(model)(config)``).
        channels: the new width, at least the old one.
        split: ``"random"`` (copies get different shares of the readers' weights) or
            ``"even"``.
        generator: draws the copies and the shares (default: seeded with 0).

    Returns:
        The wide model, on ``model``'s device and in its dtype and mode. In evaluation mode its
        outputs equal ``model``'s up to rounding.

    Raises:
        ValueError: no ``config.channels`` (e.g. an ensemble), a narrower width, an unknown
            split, or a tensor whose changed dimension is not a multiple of the channels.
    """
    if split not in ("random", "even"):
        raise ValueError(f"widen: split expected 'random' or 'even', got {split!r}")
    config = getattr(model, "config", None)
    if not dataclasses.is_dataclass(config) or not hasattr(config, "channels"):
        raise ValueError(
            "widen: expected a network with a config of channels (AnatomyModel, "
            f"TemporalConvNet), got {type(model).__name__}"
        )
    old_channels = config.channels
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    copies = channel_copies(old_channels, channels, generator)
    first = next(model.parameters())
    wide = type(model)(dataclasses.replace(config, channels=channels))
    wide = wide.to(device=first.device, dtype=first.dtype)
    new_state = wide.state_dict()
    state = {}
    for key, old in model.state_dict().items():
        old = old.detach()
        shape = new_state[key].shape
        if old.shape == shape:
            state[key] = old.clone()
        else:
            state[key] = _widen_tensor(old, shape, old_channels, copies, split, generator)
    wide.load_state_dict(state)
    return wide.train(model.training)
