"""The inference plan: an :class:`AnatomyModel`'s eval-mode layers as folded matrices.

:func:`~anatomy_lib.models.inference.lift_video` does not run the modules; it runs an
:class:`InferencePlan` built from them by three small steps, each an exact identity:

1. **Fold BatchNorm** (:func:`fold_batchnorm`). An eval-mode BatchNorm after a conv /
   linear ``y = W x + b`` computes ``gamma * (y - mu) / sqrt(var + eps) + beta``; with
   ``s = gamma / sqrt(var + eps)`` that is ``(s W) x + (s (b - mu) + beta)``: one layer
   with weight ``s W`` and bias ``s (b - mu) + beta``.
2. **Taps as one matrix** (:func:`taps_matrix`). A conv of width ``w`` and dilation ``d``
   gives output ``t`` as ``sum_k W[:, :, k] x[t + k d]``: the product of the
   ``(C_out, w * C_in)`` matrix ``[W[:, :, 0] ... W[:, :, w-1]]`` with the ``w`` input rows
   ``x[t], x[t + d], ...`` laid side by side (:meth:`FoldedLayer.dense` lays them out).
3. **Split the blocks of sub-networks k > 1** (:class:`SplitBlock`). Their block conv reads
   ``[stream, skip]`` channels, so ``W = [W_stream | W_skip]`` and ``W z = W_stream
   stream + W_skip skip``. When the stream is constant over the ``w`` taps (the first
   block: it starts as the constant top feature of sub-network ``k-1``),
   ``sum_k W_stream[:, :, k] s = (sum_k W_stream[:, :, k]) s``: one product with the
   tap-summed weight.

Every folded layer then runs through one kernel, :func:`linear`: ``rows @ W.T + b``
(optionally followed by ReLU), on the CPU by oneDNN's fused linear + bias + ReLU when
this machine supports it for the dtype (:func:`inference_kernel`), else by
``torch.addmm`` (every CPU and device). Set the environment variable
``ANATOMY3D_PORTABLE_KERNEL=1`` to force the portable kernel, or run inside
``with portable_kernel():`` (:func:`portable_kernel`: oneDNN prepares each new matrix shape
once, about 1 ms a product on the first call, which costs more than the products of one
short video: the video pipeline lifts on the portable kernel).

Cache. :func:`plan_for` keeps one plan per model, for models in eval mode only (a model
in training mode gets a fresh plan per call, since an optimiser may change it between
calls). The cached plan is dropped when the model's mode changes (``train()`` /
``eval()``), when ``load_state_dict`` loads into it, and when any parameter or buffer is
replaced, moved or changes dtype (``data_ptr`` / ``device`` / ``dtype``), and when one is
edited in place (its version counter, which every in-place operation advances), so a model
whose weights change in evaluation mode, such as the trainer's weight average, is lifted with
its current weights. :func:`forget_plan` drops a plan by hand (after adding modules).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from .temporal import residual_tap

if TYPE_CHECKING:
    from .anatomy import AnatomyModel

__all__ = [
    "FoldedLayer",
    "InferencePlan",
    "SplitBlock",
    "fold_batchnorm",
    "forget_plan",
    "inference_kernel",
    "linear",
    "plan_for",
    "portable_kernel",
    "taps_matrix",
]

#: Environment variable that forces the portable kernel when set to ``1``.
PORTABLE_ENV = "ANATOMY3D_PORTABLE_KERNEL"
ONEDNN = "onednn-fused"
PORTABLE = "portable"


# ---------------------------------------------------------------- the kernel
@functools.cache
def _onednn_runs(dtype: torch.dtype) -> bool:
    """Whether oneDNN's fused linear runs for ``dtype`` on this CPU (tried once).

    It needs hardware support for the dtype: bfloat16 fails on AVX2-only CPUs with
    "could not create a primitive descriptor for the inner product".
    """
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        x, w = torch.ones(2, 3, dtype=dtype), torch.ones(4, 3, dtype=dtype)
        torch.ops.mkldnn._linear_pointwise(x, w, torch.zeros(4, dtype=dtype), "relu", [], "")
    except (RuntimeError, AttributeError, NotImplementedError):
        return False
    return True


_FORCED = threading.local()  # .portable: depth of portable_kernel() blocks in this thread


@contextlib.contextmanager
def portable_kernel() -> Iterator[None]:
    """Inside, :func:`linear` runs on the portable kernel (``torch.addmm``) in this thread.

    For one short video on a CPU: oneDNN creates a primitive for every new matrix shape
    (about 1 ms each, then cached per shape), and a whole-video lifting has about twenty
    products whose shapes change with the video's length; ``torch.addmm`` has no such
    set-up and is as fast afterwards at these sizes. Results change by float rounding.
    """
    _FORCED.portable = getattr(_FORCED, "portable", 0) + 1
    try:
        yield
    finally:
        _FORCED.portable -= 1


def portable_kernel_forced() -> bool:
    """Whether this thread is inside :func:`portable_kernel` (a thread that lifts for
    another, such as an ensemble member's, enters it too when its caller is)."""
    return getattr(_FORCED, "portable", 0) > 0


def inference_kernel(dtype: torch.dtype, device: torch.device | str = "cpu") -> str:
    """The kernel :func:`linear` uses for ``dtype`` on ``device``: ``"onednn-fused"``
    (CPU, float32 / bfloat16, supported by this CPU) or ``"portable"`` (``torch.addmm``;
    also when forced by ``ANATOMY3D_PORTABLE_KERNEL=1`` or :func:`portable_kernel`)."""
    if (
        torch.device(device).type != "cpu"
        or dtype not in (torch.float32, torch.bfloat16)
        or os.environ.get(PORTABLE_ENV, "") == "1"
        or portable_kernel_forced()
    ):
        return PORTABLE
    return ONEDNN if _onednn_runs(dtype) else PORTABLE


def linear(
    rows: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, relu: bool = False
) -> torch.Tensor:
    """``rows (M, K) @ weight.T (K, N) + bias (N,)``, then ReLU when ``relu``: ``(M, N)``."""
    if inference_kernel(rows.dtype, rows.device) == ONEDNN:
        attr = "relu" if relu else "none"
        return torch.ops.mkldnn._linear_pointwise(rows.contiguous(), weight, bias, attr, [], "")
    out = torch.addmm(bias, rows, weight.T)
    return out.relu_() if relu else out


# ---------------------------------------------------------------- step 1 and 2
def fold_batchnorm(
    weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm1d | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 1: ``(C_out, ...)`` weight and bias (None: zero) with an eval-mode ``bn`` after
    them folded in: ``(s W, s (b - mu) + beta)``, ``s = gamma / sqrt(var + eps)``."""
    if bias is None:
        bias = weight.new_zeros(weight.shape[0])
    if bn is None:
        return weight, bias
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shape = (-1,) + (1,) * (weight.dim() - 1)
    return weight * scale.view(shape), (bias - bn.running_mean) * scale + bn.bias


def taps_matrix(weight: torch.Tensor) -> torch.Tensor:
    """Step 2: conv weight ``(C_out, C_in, w)`` -> ``(C_out, w * C_in)``, tap-major columns."""
    return weight.permute(0, 2, 1).reshape(weight.shape[0], -1).contiguous()


@dataclass(frozen=True)
class FoldedLayer:
    """A folded conv / linear ``x @ weight.T + bias`` on channels-last rows.

    Attributes:
        weight: ``(C_out, w * C_in)`` (tap-major for a conv of width ``w``).
        bias: ``(C_out,)``.
        width: conv width ``w`` (1 for a linear layer).
        dilation: conv dilation.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    width: int = 1
    dilation: int = 1

    @classmethod
    def from_conv(cls, layer: nn.Module, dtype: torch.dtype) -> FoldedLayer:
        """A ``ConvBNReLU`` (conv, then BatchNorm) folded, in ``dtype``."""
        weight, bias = fold_batchnorm(layer.conv.weight, None, layer.bn)
        return cls(taps_matrix(weight).to(dtype), bias.to(dtype), weight.shape[-1], layer.dilation)

    @classmethod
    def from_linear(
        cls, layer: nn.Linear, bn: nn.BatchNorm1d | None, dtype: torch.dtype
    ) -> FoldedLayer:
        """A linear layer (and the BatchNorm after it, if any) folded, in ``dtype``."""
        weight, bias = fold_batchnorm(layer.weight, layer.bias, bn)
        return cls(weight.contiguous().to(dtype), bias.to(dtype))

    def __call__(self, rows: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """``(M, w * C_in)`` -> ``(M, C_out)``, optionally followed by ReLU."""
        if not bias:
            return rows @ self.weight.T
        return linear(rows, self.weight, self.bias, relu)

    def dense(self, x: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """Dilated conv over a dense sequence ``x (L, C_in)`` -> ``(L - (w-1) d, C_out)``:
        row ``t`` of the unfolded input is ``x[t], x[t + d], ..., x[t + (w-1) d]``."""
        out_len = x.shape[0] - (self.width - 1) * self.dilation
        if self.width > 1:
            c = x.shape[1]
            x = x.as_strided((out_len, self.width, c), (c, self.dilation * c, 1))
            x = x.reshape(out_len, self.width * c)
        return self(x, relu, bias)

    def windows(self, x: torch.Tensor, relu: bool = False, bias: bool = True) -> torch.Tensor:
        """Stride-``w`` conv over per-frame windows ``x (T, n, C_in)`` -> ``(T, n / w, C_out)``."""
        t, n, c = x.shape
        out = self(x.reshape(t * (n // self.width), self.width * c), relu, bias)
        return out.view(t, n // self.width, -1)


@dataclass(frozen=True)
class SplitBlock:
    """Step 3: a residual block of a sub-network ``k > 1``, its conv split by input channels.

    Attributes:
        stream: taps of the stream channels, with the folded bias.
        stream_sum: tap-summed stream weight ``(C_out, C_in)`` (stream constant over taps).
        skip: taps of the long-skip channels (no bias), None without long skips.
        pointwise: the folded 1x1 conv.
        tap: the residual tap (:func:`~anatomy_lib.models.temporal.residual_tap`).
    """

    stream: FoldedLayer
    stream_sum: FoldedLayer
    skip: FoldedLayer | None
    pointwise: FoldedLayer
    tap: int

    @classmethod
    def from_block(
        cls, block: nn.Module, channels: int, causal: bool, dtype: torch.dtype
    ) -> SplitBlock:
        """A ``ResidualBlock`` whose conv reads ``channels`` stream channels, then skips."""
        conv = block.temporal
        weight, bias = fold_batchnorm(conv.conv.weight, None, conv.bn)
        stream, skip = weight[:, :channels], weight[:, channels:]
        w, bias = weight.shape[-1], bias.to(dtype)
        return cls(
            stream=FoldedLayer(taps_matrix(stream).to(dtype), bias, w, conv.dilation),
            stream_sum=FoldedLayer(stream.sum(-1).contiguous().to(dtype), bias),
            skip=FoldedLayer(taps_matrix(skip).to(dtype), bias, w, conv.dilation)
            if skip.shape[1]
            else None,
            pointwise=FoldedLayer.from_conv(block.pointwise, dtype),
            tap=residual_tap(conv.width, causal),
        )


# ---------------------------------------------------------------- the plan
@dataclass(frozen=True)
class InferencePlan:
    """Every layer of an :class:`AnatomyModel` folded, in the compute ``dtype``.

    Attributes:
        dtype: compute dtype of the weights and activations.
        expand: sub-network 1's input conv.
        visibility: the visibility-score conv (``visibility="attention"``), else None.
        first_blocks: sub-network 1's blocks as ``(temporal, pointwise, residual tap)``.
        later_stages: for each sub-network ``k > 1``, its :class:`SplitBlock` s.
        direction_head: the top sub-network's output layer.
        length_layers: the length network's per-frame layers: input, two per block, output.
    """

    dtype: torch.dtype
    expand: FoldedLayer
    visibility: FoldedLayer | None
    first_blocks: tuple[tuple[FoldedLayer, FoldedLayer, int], ...]
    later_stages: tuple[tuple[SplitBlock, ...], ...]
    direction_head: FoldedLayer
    length_layers: tuple[FoldedLayer, ...]

    @classmethod
    def build(cls, model: AnatomyModel, dtype: torch.dtype) -> InferencePlan:
        """Fold ``model``'s weights and BatchNorm running statistics into a plan."""
        first = model.direction.stages[0]
        with torch.no_grad():
            return cls(
                dtype=dtype,
                expand=FoldedLayer.from_conv(first.expand, dtype),
                visibility=None
                if first.visibility is None
                else FoldedLayer.from_conv(first.visibility.scores, dtype),
                first_blocks=_first_blocks(model, dtype),
                later_stages=_later_stages(model, dtype),
                direction_head=FoldedLayer.from_linear(
                    model.direction.stages[-1].head, None, dtype
                ),
                length_layers=_length_layers(model, dtype),
            )


def _first_blocks(model: AnatomyModel, dtype: torch.dtype) -> tuple:
    causal = model.config.causal
    return tuple(
        (
            FoldedLayer.from_conv(b.temporal, dtype),
            FoldedLayer.from_conv(b.pointwise, dtype),
            residual_tap(b.temporal.width, causal),
        )
        for b in model.direction.stages[0].stack.blocks
    )


def _later_stages(model: AnatomyModel, dtype: torch.dtype) -> tuple:
    cfg = model.config
    return tuple(
        tuple(SplitBlock.from_block(b, cfg.channels, cfg.causal, dtype) for b in stage.stack.blocks)
        for stage in list(model.direction.stages)[1:]
    )


def _length_layers(model: AnatomyModel, dtype: torch.dtype) -> tuple[FoldedLayer, ...]:
    net = model.length
    layers = [FoldedLayer.from_linear(net.input, net.input_bn, dtype)]
    for block in net.blocks:
        layers += [
            FoldedLayer.from_linear(lin, bn, dtype)
            for lin, bn in zip(block.linears, block.bns, strict=True)
        ]
    layers.append(FoldedLayer.from_linear(net.output, None, dtype))
    return tuple(layers)


# ---------------------------------------------------------------- the cache
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_MODULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tensor_key(model: nn.Module) -> tuple:
    """Changes when a parameter or buffer is replaced, moved, changes dtype or is edited in
    place (its version counter; inference-mode tensors have none and cannot be edited).

    The model's modules are listed once (a whole-video lifting asks for the key every time;
    walking the module tree cost about as much as the rest of the key)."""
    modules = _MODULES.get(model)
    if modules is None:
        modules = _MODULES[model] = tuple(model.modules())
    return tuple(
        (t.data_ptr(), t.dtype, t.device, t.shape, None if t.is_inference() else t._version)
        for m in modules
        for t in (*m._parameters.values(), *m._buffers.values())
        if t is not None
    )


def forget_plan(model: nn.Module) -> None:
    """Drop ``model``'s cached plan (after adding modules to it; edits of its tensors are
    noticed without it)."""
    _PLANS.pop(model, None)
    _MODULES.pop(model, None)


def plan_for(model: AnatomyModel, dtype: torch.dtype) -> InferencePlan:
    """``model``'s plan in ``dtype``: cached for a model in eval mode (see the module
    docstring for when the cache is dropped), built afresh for one in training mode."""
    if model.training:
        return InferencePlan.build(model, dtype)
    key = (_tensor_key(model), dtype)
    cached = _PLANS.get(model)
    if cached is None or cached[0] != key:  # one plan per model: it is as big as the model
        cached = (key, InferencePlan.build(model, dtype))
        _PLANS[model] = cached
    return cached[1]
