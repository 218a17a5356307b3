"""Checkpoints: the library's own format, the authors' released model and VideoPose3D.

Own format (:func:`save_model` / :func:`load_model`): a ``torch.save`` dict with
``format="anatomy3d-model"``, ``version``, ``architecture`` (class name), ``config``
(plain dict) and ``state_dict``; written atomically (temp file + ``os.replace``).

Foreign checkpoints are converted by declarative tables, one row per tensor group:
``(ours, theirs, kind, transform)`` (:data:`RELEASED_LAYOUT`, :data:`VIDEOPOSE3D_LAYOUT`).
``kind`` says which tensors the row covers (``conv``: ``.weight``; ``linear``:
``.weight`` and ``.bias``; ``bn``: the five BatchNorm tensors; ``tensor``: the named one)
and ``transform`` how their tensor becomes ours (:func:`_released_transforms`).

Released checkpoint (:func:`load_released_checkpoint`). **Facts** (``shared/reference-notes.md``,
"Checkpoint layout", from the authors' code): the key names and shapes; ``module.``
prefixes (saved from ``nn.DataParallel``); their ModuleLists interleave each residual
block's layers (``layers_conv[2b]`` is block ``b``'s temporal conv, ``[2b+1]`` its 1x1
conv; ``layers_convbone[0]`` the length network's input, ``[2b+1]`` and ``[2b+2]`` block
``b``'s linears, ``[2 nb + 1]`` its output); their 16 bones are ``(first, second)`` pairs
(:data:`RELEASED_BONES`) with vector ``J[first] - J[second]``, while ours follow
``skeleton.bone_children`` with ``J[child] - J[parent]``: rows / columns are permuted and
the two bones whose pair is (parent, child) negated. **Assumptions** (not in the notes):
their joint-shift heads' ``3 * 137`` outputs are the pairs of :func:`released_pairs`
(row-major, ``i <= j``, bone pairs left out) with shift ``J[j] - J[i]``; we keep the rows
of our 120 pairs. Their block inputs are concatenated as [stream, extra] (keypoint
feature, then the visibility-weighted one; sub-network 2's stream, then the long skip)
with the residual carrying the stream, as our model does.

VideoPose3D (:func:`load_videopose3d_checkpoint`): ``model_pos`` with ``expand_conv``,
``expand_bn``, ``layers_conv.N``, ``layers_bn.N``, ``shrink``, into :class:`TemporalConvNet`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .._atomic import atomic_torch_save
from ..safe_io import load_torch_file
from ..skeleton import H36M_17
from .anatomy import AnatomyModel
from .config import BaselineConfig, ModelConfig
from .temporal import TemporalConvNet

__all__ = [
    "save_model",
    "load_model",
    "weights_fingerprint",
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
    atomic_torch_save(payload, path)


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


def weights_fingerprint(model: nn.Module) -> str:
    """sha256 (hex) of a model's state: every tensor's name, dtype, shape and bytes, in
    name order. The same weights give the same digest whatever file or device they came
    from; any changed value changes it."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


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
#: One row of a conversion table: (our prefix, their prefix, kind, transform name).
Row = tuple[str, str, str, str]
_KIND_SUFFIXES = {
    "conv": ("weight",),
    "linear": ("weight", "bias"),
    "bn": ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
    "tensor": ("",),
}


def _stack(ours: str, conv: str, bn: str) -> tuple[Row, ...]:
    """Rows of a residual stack: their ``{conv}.{2b}`` / ``{conv}.{2b+1}`` are block b's
    temporal / 1x1 conv (``{tc}`` / ``{pc}``), with BatchNorms ``{bn}.{same index}``."""
    return (
        (f"{ours}.blocks.{{b}}.temporal.conv", f"{conv}.{{tc}}", "conv", "same"),
        (f"{ours}.blocks.{{b}}.temporal.bn", f"{bn}.{{tc}}", "bn", "same"),
        (f"{ours}.blocks.{{b}}.pointwise.conv", f"{conv}.{{pc}}", "conv", "same"),
        (f"{ours}.blocks.{{b}}.pointwise.bn", f"{bn}.{{pc}}", "bn", "same"),
    )


#: VideoPose3D's ``model_pos`` -> :class:`TemporalConvNet`.
VIDEOPOSE3D_LAYOUT: tuple[Row, ...] = (
    ("expand.conv", "expand_conv", "conv", "same"),
    ("expand.bn", "expand_bn", "bn", "same"),
    *_stack("stack", "layers_conv", "layers_bn"),
    ("head", "shrink", "linear", "squeeze"),
)

#: The authors' released ``model_pos`` -> :class:`AnatomyModel` (see the module docstring;
#: ``{b}`` runs over blocks, ``{l1}``, ``{l2}`` = ``2b+1``, ``2b+2``, ``{out}`` = ``2 nb + 1``).
RELEASED_LAYOUT: tuple[Row, ...] = (
    # direction sub-network 1 (their unsuffixed layers) and its visibility attention
    ("direction.stages.0.expand.conv", "expand_conv", "conv", "same"),
    ("direction.stages.0.expand.bn", "expand_bn", "bn", "same"),
    ("direction.stages.0.visibility.scores.conv", "expand_convscore", "conv", "same"),
    ("direction.stages.0.visibility.scores.bn", "expand_bnscore", "bn", "same"),
    *_stack("direction.stages.0.stack", "layers_conv", "layers_bn"),
    ("direction.stages.0.head", "shrink_direct_1", "linear", "bone_vector_rows"),
    # direction sub-network 2 (suffix 1 / _2)
    *_stack("direction.stages.1.stack", "layers_conv1", "layers_bn1"),
    ("direction.stages.1.head", "shrink_direct_2", "linear", "bone_vector_rows"),
    # bone length network and its attention (Eq. 6)
    ("length.input", "layers_convbone.0", "linear", "same"),
    ("length.input_bn", "layers_bnbone.0", "bn", "same"),
    ("length.blocks.{b}.linears.0", "layers_convbone.{l1}", "linear", "same"),
    ("length.blocks.{b}.bns.0", "layers_bnbone.{l1}", "bn", "same"),
    ("length.blocks.{b}.linears.1", "layers_convbone.{l2}", "linear", "same"),
    ("length.blocks.{b}.bns.1", "layers_bnbone.{l2}", "bn", "same"),
    ("length.output", "layers_convbone.{out}", "linear", "same"),
    ("length.attention", "boneatt", "linear", "bone_rows"),
    # heads: joints (unsuffixed) and the joint shifts of sub-network k (suffix _k)
    ("heads.joints_head.length.weight", "lengthlinear.weight", "tensor", "bone_cols"),
    ("heads.joints_head.length.bias", "lengthlinear.bias", "tensor", "same"),
    ("heads.joints_head.direction.weight", "directlinear.weight", "tensor", "bone_vector_cols"),
    ("heads.joints_head.direction.bias", "directlinear.bias", "tensor", "same"),
    ("heads.joints_head.out", "shrink", "linear", "squeeze"),
    ("heads.shift_heads.{k}.length.weight", "lengthlinear_{n}.weight", "tensor", "bone_cols"),
    ("heads.shift_heads.{k}.length.bias", "lengthlinear_{n}.bias", "tensor", "same"),
    ("heads.shift_heads.{k}.direction.weight", "directlinear_{n}.weight", "tensor",
     "bone_vector_cols"),
    ("heads.shift_heads.{k}.direction.bias", "directlinear_{n}.bias", "tensor", "same"),
    ("heads.shift_heads.{k}.out", "shrink_js_{n}", "linear", "pair_rows"),
)  # fmt: skip

Transform = Callable[[torch.Tensor], torch.Tensor]


def _squeeze(t: torch.Tensor) -> torch.Tensor:
    """A width-1 conv weight ``(C_out, C_in, 1)`` as a linear weight (other shapes as is)."""
    return t.squeeze(-1) if t.dim() == 3 else t


def _bone_map() -> tuple[torch.Tensor, torch.Tensor]:
    """For each of our bones: index of the released bone and the sign (+1 / -1)."""
    index, sign = [], []
    for child, parent in H36M_17.bones:
        for j, (a, b) in enumerate(RELEASED_BONES):
            if {a, b} == {child, parent}:
                index.append(j)
                sign.append(1.0 if a == child else -1.0)
    return torch.tensor(index), torch.tensor(sign)


def _released_transforms() -> dict[str, Transform]:
    """Transforms named in :data:`RELEASED_LAYOUT`: their bone / pair order -> ours."""
    bone, sign = _bone_map()
    vec_index = (3 * bone[:, None] + torch.arange(3)).flatten()  # our 3B slots -> theirs
    vec_sign = sign.repeat_interleave(3)
    pair_pos = {p: i for i, p in enumerate(released_pairs(H36M_17.num_joints))}
    pair_index = torch.tensor([pair_pos[p] for p in H36M_17.non_bone_pairs])
    pair_rows = (3 * pair_index[:, None] + torch.arange(3)).flatten()

    def bone_vector_rows(t: torch.Tensor) -> torch.Tensor:  # (3B, ...) outputs
        t = _squeeze(t)
        return t[vec_index] * vec_sign.to(t.dtype).reshape(-1, *([1] * (t.dim() - 1)))

    def bone_vector_cols(t: torch.Tensor) -> torch.Tensor:  # (C, 3B) inputs
        t = _squeeze(t)
        return t[:, vec_index] * vec_sign.to(t.dtype)

    return {
        "same": lambda t: t,
        "squeeze": _squeeze,
        "bone_rows": lambda t: t[bone],
        "bone_cols": lambda t: t[:, bone],
        "bone_vector_rows": bone_vector_rows,
        "bone_vector_cols": bone_vector_cols,
        "pair_rows": lambda t: _squeeze(t)[pair_rows],
    }


def _expand(layout: tuple[Row, ...], num_blocks: int) -> dict[str, tuple[str, str]]:
    """Table rows -> ``{our key: (their key, transform name)}`` for ``num_blocks`` blocks
    (rows with ``{b}`` repeat per block, rows with ``{k}`` for joint-shift heads 0 and 1)."""
    keys = {}
    for ours, theirs, kind, transform in layout:
        blocks = range(num_blocks) if "{b}" in ours else [0]
        stages = range(2) if "{k}" in ours else [0]
        for b in blocks:
            for k in stages:
                index = dict(b=b, tc=2 * b, pc=2 * b + 1, l1=2 * b + 1, l2=2 * b + 2,
                             out=2 * num_blocks + 1, k=k, n=k + 1)  # fmt: skip
                o, t = ours.format(**index), theirs.format(**index)
                for suffix in _KIND_SUFFIXES[kind]:
                    keys[f"{o}.{suffix}" if suffix else o] = (
                        f"{t}.{suffix}" if suffix else t,
                        transform,
                    )
    return keys


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


def _filter_widths(state: Mapping[str, torch.Tensor], convs: tuple[str, ...]) -> tuple[int, ...]:
    """``(w_0, w_1, ...)``: the input conv's width, then each block's temporal conv width.

    ``convs`` are the residual stacks' conv lists (``layers_conv``, ...); the block count
    is the highest block index found under any of them or their BatchNorm lists
    (``layers_bn``, ...), so a missing tensor is reported as missing, not as a shorter
    model. Each width is read from the first stack holding that block's temporal conv.
    """
    lists = [*convs, *(c.replace("_conv", "_bn") for c in convs)]
    pattern = re.compile(rf"^({'|'.join(map(re.escape, lists))})\.(\d+)\.")
    indices = [int(m.group(2)) for k in state if (m := pattern.match(k))]
    widths = [int(state["expand_conv.weight"].shape[-1])]
    for b in range(max(indices, default=-1) // 2 + 1):
        keys = [f"{c}.{2 * b}.weight" for c in convs]
        found = [state[k] for k in keys if k in state]
        if not found:
            raise ValueError(
                f"checkpoint: missing keys {keys} (the temporal conv of residual block {b}; "
                "its width cannot be read)"
            )
        widths.append(int(found[0].shape[-1]))
    return tuple(widths)


def _apply(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    keys: dict[str, tuple[str, str]],
    transforms: Mapping[str, Transform],
    source: str,
) -> None:
    """Load ``state`` into ``model`` by the expanded table ``keys``; every missing,
    unexpected or wrongly shaped key is listed in one error."""
    own = model.state_dict()
    if set(keys) != set(own):  # a bug in the table, not in the file
        raise RuntimeError(
            f"conversion table does not cover the model: {sorted(set(own) ^ set(keys))}"
        )
    needed = {src for src, _ in keys.values()}
    missing = sorted(needed - set(state))
    unexpected = sorted(set(state) - needed)
    converted, wrong = {}, []
    for ours, (src, name) in keys.items():
        if src not in state:
            continue
        try:
            value = transforms[name](state[src])
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
    if "boneatt.weight" in state or "layers_conv1.0.weight" in state:
        raise ValueError(
            "checkpoint: this is the anatomy-aware model's released layout (it has boneatt / "
            "layers_conv1); load it with load_released_checkpoint"
        )
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
        filter_widths=_filter_widths(state, ("layers_conv",)),
        channels=int(expand.shape[0]),
        causal=causal,
        visibility="fusion" if expand.shape[1] == 3 * num_joints else "none",
    )
    model = TemporalConvNet(config)
    keys = _expand(VIDEOPOSE3D_LAYOUT, config.num_blocks)
    _apply(model, state, keys, {"same": lambda t: t, "squeeze": _squeeze}, "VideoPose3D checkpoint")
    return model.eval()


def _check_released(state: Mapping[str, torch.Tensor]) -> None:
    """A clear error (with a hint for VideoPose3D files) when ``state`` is not the layout."""
    if (
        "expand_conv.weight" in state
        and "shrink.weight" in state
        and not any(k.startswith(("layers_conv1.", "boneatt.", "layers_convbone.")) for k in state)
    ):
        raise ValueError(
            "checkpoint: this looks like a VideoPose3D checkpoint (expand_conv, layers_conv, "
            "shrink; no layers_conv1 / layers_convbone / boneatt): load it with "
            "load_videopose3d_checkpoint"
        )
    if "expand_conv.weight" not in state:
        raise ValueError(
            "checkpoint: not the released anatomy-aware layout (no expand_conv.weight); "
            f"got keys {sorted(state)[:10]}"
        )


def load_released_checkpoint(
    checkpoint: str | os.PathLike | Mapping, causal: bool = False, trusted: bool = False
) -> AnatomyModel:
    """The authors' released checkpoint (file or loaded dict) as an :class:`AnatomyModel`.

    Filter widths and channels are read from the shapes; the config is the released
    architecture (H36M-17, K = 2, long skips, visibility attention, ``[X, |X|]``
    attention features, FC heads). The conversion is :data:`RELEASED_LAYOUT`; the module
    docstring lists the facts and the assumptions it rests on. ``trusted=True`` unpickles
    the full file (it holds optimizer and random state).

    Raises:
        ValueError: not the released layout (a VideoPose3D file is named as such), or keys
            missing, unexpected or of the wrong shape (each listed).
    """
    state = _read(checkpoint, trusted)
    _check_released(state)
    config = ModelConfig(
        skeleton="h36m",
        filter_widths=_filter_widths(state, ("layers_conv", "layers_conv1")),
        channels=int(state["expand_conv.weight"].shape[0]),
        causal=causal,
        attention_features="joints_abs",
        visibility="attention",
    )
    model = AnatomyModel(config)
    keys = _expand(RELEASED_LAYOUT, config.num_blocks)
    _apply(model, state, keys, _released_transforms(), "released checkpoint")
    return model.eval()
