"""Checkpoints: the library's own format, the authors' released model and VideoPose3D.

Own format (:func:`save_model` / :func:`load_model`): a ``torch.save`` dict with
``format="anatomy3d-model"``, ``version``, ``architecture`` (class name), ``config``
(plain dict) and ``state_dict``; written atomically (temp file + ``os.replace``).

Released checkpoint (:func:`load_released_checkpoint`): key names, shapes and bone
order as listed in ``shared/reference-notes.md`` ("Checkpoint layout", facts about the
authors' implementation). Their 16 bones are ``(first, second)`` pairs with vector
``J[first] - J[second]``; ours follow ``skeleton.bone_children`` with ``J[child] -
J[parent]``, so rows / columns are permuted and the two bones whose pair is
(parent, child) are negated. Their joint-shift heads have ``3 * 137`` outputs; we
**assume** the pairs are ordered row-major (``i`` outer, ``j`` inner, ``i <= j``, bone
pairs left out) with shift ``J[j] - J[i]``, and keep the rows of our 120 pairs.
We also **assume** their block inputs are concatenated as [stream, extra] (keypoint
feature first, then the visibility-weighted feature; sub-network 2's stream first,
then the long skip) with the residual carrying the stream, as our model does.

VideoPose3D (:func:`load_videopose3d_checkpoint`): ``model_pos`` with ``expand_conv``,
``expand_bn``, ``layers_conv.N``, ``layers_bn.N``, ``shrink``, into :class:`TemporalConvNet`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from ..safe_io import atomic_write, load_torch_file
from ..skeleton import H36M_17
from .anatomy import AnatomyModel
from .config import BaselineConfig, ModelConfig
from .temporal import TemporalConvNet

__all__ = [
    "save_model",
    "load_model",
    "load_released_checkpoint",
    "load_videopose3d_checkpoint",
    "RELEASED_BONES",
    "released_pairs",
]

FORMAT = "anatomy3d-model"
VERSION = 1
_ARCHITECTURES: dict[str, tuple[type[nn.Module], type]] = {
    "AnatomyModel": (AnatomyModel, ModelConfig),
    "TemporalConvNet": (TemporalConvNet, BaselineConfig),
}

#: The released code's 16 bones ``(first, second)`` in its order; vector = J[first] - J[second]
#: (Human3.6M-17 joint indices; source: shared/reference-notes.md).
RELEASED_BONES: tuple[tuple[int, int], ...] = (
    (16, 15), (15, 14), (13, 12), (12, 11), (10, 9), (9, 8), (8, 7), (8, 11),
    (8, 14), (7, 0), (3, 2), (2, 1), (6, 5), (5, 4), (1, 0), (4, 0),
)  # fmt: skip

_BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def released_pairs(num_joints: int = 17) -> tuple[tuple[int, int], ...]:
    """Assumed order of the released joint-shift outputs: ``(i, j)``, ``i <= j``, row-major,
    pairs joined by a bone left out (137 for 17 joints)."""
    bonded = {frozenset(b) for b in RELEASED_BONES}
    return tuple(
        (i, j)
        for i in range(num_joints)
        for j in range(i, num_joints)
        if frozenset((i, j)) not in bonded
    )


# ----------------------------------------------------------------- own format
def save_model(model: nn.Module, path: str | os.PathLike) -> None:
    """Save ``model`` (an :class:`AnatomyModel` or :class:`TemporalConvNet`) with its config,
    atomically (a crash never leaves a half-written file at ``path``)."""
    name = type(model).__name__
    if name not in _ARCHITECTURES:
        raise TypeError(f"save_model: expected one of {sorted(_ARCHITECTURES)}, got {name}")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": name,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    atomic_write(path, lambda f: torch.save(payload, f))


def load_model(
    path: str | os.PathLike, architecture: str | None = None, map_location: Any = "cpu"
) -> nn.Module:
    """Rebuild a model saved by :func:`save_model` (config and weights), in eval mode.

    Args:
        path: checkpoint file.
        architecture: expected class name (``"AnatomyModel"`` / ``"TemporalConvNet"``);
            None accepts either.
        map_location: passed to ``torch.load``.
    """
    payload = load_torch_file(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        keys = sorted(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(
            f"{path}: not an anatomy3d model checkpoint (found {keys}); for the authors' "
            "release use load_released_checkpoint, for VideoPose3D load_videopose3d_checkpoint"
        )
    if payload.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {payload.get('version')}, expected {VERSION}")
    name = payload.get("architecture")
    if name not in _ARCHITECTURES:
        raise ValueError(f"{path}: unknown architecture {name!r}; known: {sorted(_ARCHITECTURES)}")
    if architecture is not None and name != architecture:
        raise ValueError(f"{path}: holds a {name}, expected a {architecture}")
    cls, config_cls = _ARCHITECTURES[name]
    model = cls(config_cls.from_dict(payload["config"]))
    _load_strict(model, payload["state_dict"], str(path))
    return model.eval()


def _load_strict(model: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    if missing or unexpected or wrong:
        raise ValueError(
            f"{source}: checkpoint does not match the model; missing keys {missing}, "
            f"unexpected keys {unexpected}, wrong shapes {wrong}"
        )
    model.load_state_dict(state)


# ----------------------------------------------------------------- foreign formats
def _read(checkpoint: str | os.PathLike | Mapping, trusted: bool) -> Mapping[str, torch.Tensor]:
    """The ``model_pos`` state dict, ``module.`` prefixes removed."""
    if isinstance(checkpoint, Mapping):
        payload = checkpoint
    else:
        payload = load_torch_file(checkpoint, "cpu", trusted=trusted)
    state = payload.get("model_pos", payload) if isinstance(payload, Mapping) else None
    if not isinstance(state, Mapping):
        raise ValueError("checkpoint: expected a dict with a 'model_pos' state dict")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _conv_stack_keys(state: Mapping[str, torch.Tensor], prefix: str) -> list[int]:
    """Widths of ``{prefix}.{2b}.weight`` temporal convs, b = 0, 1, ..."""
    widths, b = [], 0
    while f"{prefix}.{2 * b}.weight" in state:
        widths.append(int(state[f"{prefix}.{2 * b}.weight"].shape[-1]))
        b += 1
    return widths


Plan = dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor]]]


def _same(t: torch.Tensor) -> torch.Tensor:
    return t


def _squeeze(t: torch.Tensor) -> torch.Tensor:
    return t.squeeze(-1) if t.dim() == 3 else t


def _add_bn(plan: Plan, theirs: str, ours: str) -> None:
    for k in _BN_KEYS:
        plan[f"{ours}.{k}"] = (f"{theirs}.{k}", _same)


def _add_conv_stack(plan: Plan, theirs_conv: str, theirs_bn: str, ours: str, blocks: int) -> None:
    for b in range(blocks):
        for i, part in enumerate(("temporal", "pointwise")):
            plan[f"{ours}.blocks.{b}.{part}.conv.weight"] = (
                f"{theirs_conv}.{2 * b + i}.weight",
                _same,
            )
            _add_bn(plan, f"{theirs_bn}.{2 * b + i}", f"{ours}.blocks.{b}.{part}.bn")


def _apply(model: nn.Module, state: Mapping[str, torch.Tensor], plan: Plan, source: str) -> None:
    own = model.state_dict()
    if set(plan) != set(own):  # a bug in the plan, not in the file
        raise RuntimeError(
            f"conversion plan does not cover the model: {sorted(set(own) ^ set(plan))}"
        )
    needed = {src for src, _ in plan.values()}
    missing = sorted(needed - set(state))
    unexpected = sorted(set(state) - needed)
    converted, wrong = {}, []
    for ours, (src, fn) in plan.items():
        if src in state:
            try:
                value = fn(state[src])
            except (IndexError, RuntimeError):  # rows / columns to pick are not there
                value = state[src]
            if value.shape != own[ours].shape:
                wrong.append(
                    f"{src}: {tuple(state[src].shape)} (expected {ours} {tuple(own[ours].shape)})"
                )
            converted[ours] = value
    if missing or unexpected or wrong:
        raise ValueError(
            f"{source}: checkpoint layout does not match; missing keys {missing}, "
            f"unexpected keys {unexpected}, wrong shapes {wrong}"
        )
    model.load_state_dict(converted)


def load_videopose3d_checkpoint(
    checkpoint: str | os.PathLike | Mapping, causal: bool = False, trusted: bool = False
) -> TemporalConvNet:
    """A VideoPose3D checkpoint (file or loaded dict) as a :class:`TemporalConvNet` (eval mode).

    Filter widths, channels and joint count are read from the weight shapes (H36M-17 order
    assumed for 17 joints). ``trusted=True`` unpickles files that hold non-tensor objects.
    """
    state = _read(checkpoint, trusted)
    for key in ("expand_conv.weight", "shrink.weight"):
        if key not in state:
            raise ValueError(
                f"checkpoint: missing key {key!r} of the VideoPose3D layout; "
                f"got {sorted(state)[:10]}"
            )
    expand, shrink = state["expand_conv.weight"], state["shrink.weight"]
    num_joints = shrink.shape[0] // 3
    if num_joints != H36M_17.num_joints:
        raise ValueError(
            f"checkpoint: {num_joints} output joints, only the 17-joint H36M skeleton is supported"
        )
    config = BaselineConfig(
        skeleton="h36m",
        filter_widths=(int(expand.shape[-1]), *_conv_stack_keys(state, "layers_conv")),
        channels=int(expand.shape[0]),
        causal=causal,
        visibility="fusion" if expand.shape[1] == 3 * num_joints else "none",
    )
    model = TemporalConvNet(config)
    plan: Plan = {"expand.conv.weight": ("expand_conv.weight", _same)}
    _add_bn(plan, "expand_bn", "expand.bn")
    _add_conv_stack(plan, "layers_conv", "layers_bn", "stack", config.num_blocks)
    plan["head.weight"] = ("shrink.weight", _squeeze)
    plan["head.bias"] = ("shrink.bias", _same)
    _apply(model, state, plan, "VideoPose3D checkpoint")
    return model.eval()


def _bone_map() -> tuple[torch.Tensor, torch.Tensor]:
    """For each of our bones: index of the released bone and the sign (+1 / -1)."""
    index, sign = [], []
    for child, parent in H36M_17.bones:
        for j, (a, b) in enumerate(RELEASED_BONES):
            if {a, b} == {child, parent}:
                index.append(j)
                sign.append(1.0 if a == child else -1.0)
    return torch.tensor(index), torch.tensor(sign)


def load_released_checkpoint(
    checkpoint: str | os.PathLike | Mapping, causal: bool = False, trusted: bool = False
) -> AnatomyModel:
    """The authors' released checkpoint (file or loaded dict) as an :class:`AnatomyModel`.

    Filter widths and channels are read from the shapes; the config is the released
    architecture (H36M-17, K = 2, long skips, visibility attention, ``[X, |X|]``
    attention features, FC heads). See the module docstring for the assumptions.
    ``trusted=True`` unpickles the full file (it holds optimizer and random state).
    """
    state = _read(checkpoint, trusted)
    if "expand_conv.weight" not in state or "layers_conv1.0.weight" not in state:
        raise ValueError(
            f"checkpoint: not the released anatomy-aware layout (no expand_conv / layers_conv1); "
            f"got keys {sorted(state)[:10]}"
        )
    expand = state["expand_conv.weight"]
    config = ModelConfig(
        skeleton="h36m",
        filter_widths=(int(expand.shape[-1]), *_conv_stack_keys(state, "layers_conv")),
        channels=int(expand.shape[0]),
        causal=causal,
        attention_features="joints_abs",
        visibility="attention",
    )
    model = AnatomyModel(config)
    nb = config.num_blocks
    bone, sign = _bone_map()
    vec_index = (3 * bone[:, None] + torch.arange(3)).flatten()  # our 3B slots -> theirs
    vec_sign = sign.repeat_interleave(3)
    pair_pos = {p: i for i, p in enumerate(released_pairs(H36M_17.num_joints))}
    pair_index = torch.tensor([pair_pos[p] for p in H36M_17.non_bone_pairs])
    pair_rows = (3 * pair_index[:, None] + torch.arange(3)).flatten()

    def dir_rows(t):  # (3B, ...) outputs in their bone order -> ours
        t = _squeeze(t)
        return t[vec_index] * vec_sign.to(t.dtype).reshape(-1, *([1] * (t.dim() - 1)))

    def dir_cols(t):  # (C, 3B) inputs
        t = _squeeze(t)
        return t[:, vec_index] * vec_sign.to(t.dtype)

    plan: Plan = {
        "direction.stages.0.expand.conv.weight": ("expand_conv.weight", _same),
        "direction.stages.0.visibility.scores.conv.weight": ("expand_convscore.weight", _same),
        "length.input.weight": ("layers_convbone.0.weight", _same),
        "length.input.bias": ("layers_convbone.0.bias", _same),
        "length.output.weight": (f"layers_convbone.{2 * nb + 1}.weight", _same),
        "length.output.bias": (f"layers_convbone.{2 * nb + 1}.bias", _same),
        "length.attention.weight": ("boneatt.weight", lambda t: t[bone]),
        "length.attention.bias": ("boneatt.bias", lambda t: t[bone]),
    }
    _add_bn(plan, "expand_bn", "direction.stages.0.expand.bn")
    _add_bn(plan, "expand_bnscore", "direction.stages.0.visibility.scores.bn")
    _add_bn(plan, "layers_bnbone.0", "length.input_bn")
    _add_conv_stack(plan, "layers_conv", "layers_bn", "direction.stages.0.stack", nb)
    _add_conv_stack(plan, "layers_conv1", "layers_bn1", "direction.stages.1.stack", nb)
    for b in range(nb):
        for i in range(2):
            theirs = 2 * b + 1 + i
            plan[f"length.blocks.{b}.linears.{i}.weight"] = (
                f"layers_convbone.{theirs}.weight",
                _same,
            )
            plan[f"length.blocks.{b}.linears.{i}.bias"] = (f"layers_convbone.{theirs}.bias", _same)
            _add_bn(plan, f"layers_bnbone.{theirs}", f"length.blocks.{b}.bns.{i}")
    for k in range(2):
        plan[f"direction.stages.{k}.head.weight"] = (f"shrink_direct_{k + 1}.weight", dir_rows)
        plan[f"direction.stages.{k}.head.bias"] = (f"shrink_direct_{k + 1}.bias", dir_rows)
    heads = {"heads.joints_head": ""} | {f"heads.shift_heads.{k}": f"_{k + 1}" for k in range(2)}
    for ours, suffix in heads.items():
        plan[f"{ours}.length.weight"] = (f"lengthlinear{suffix}.weight", lambda t: t[:, bone])
        plan[f"{ours}.length.bias"] = (f"lengthlinear{suffix}.bias", _same)
        plan[f"{ours}.direction.weight"] = (f"directlinear{suffix}.weight", dir_cols)
        plan[f"{ours}.direction.bias"] = (f"directlinear{suffix}.bias", _same)
        if suffix:
            plan[f"{ours}.out.weight"] = (
                f"shrink_js{suffix}.weight",
                lambda t: _squeeze(t)[pair_rows],
            )
            plan[f"{ours}.out.bias"] = (f"shrink_js{suffix}.bias", lambda t: t[pair_rows])
        else:
            plan[f"{ours}.out.weight"] = ("shrink.weight", _squeeze)
            plan[f"{ours}.out.bias"] = ("shrink.bias", _same)
    _apply(model, state, plan, "released checkpoint")
    return model.eval()
