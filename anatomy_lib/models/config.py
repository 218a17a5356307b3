"""Model hyper-parameters as validated dataclasses with named presets.

:class:`ModelConfig` describes the full anatomy-aware model (bone direction network,
bone length network, visibility input, heads); :class:`BaselineConfig` the plain
temporal convolution network (VideoPose3D architecture) used as the paper's baseline.
Both are frozen, checked on construction and round-trip through plain dicts
(:meth:`ModelConfig.to_dict` / :meth:`ModelConfig.from_dict`) for checkpoints.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .._validation import check_choice_field, check_int_field
from ..skeleton import Skeleton, get_skeleton
from .inputs import INPUT_NORMALIZATIONS

__all__ = ["ModelConfig", "BaselineConfig", "receptive_field"]

_CHOICES = {
    "length_attention": ("softmax", "mean"),
    "attention_features": ("joints", "joints_abs"),
    "visibility": ("attention", "fusion", "none"),
    "joint_head": ("fc", "exact"),
    "input_normalization": INPUT_NORMALIZATIONS,
    "output_frame": ("camera", "ray"),
}


def receptive_field(filter_widths: tuple[int, ...]) -> int:
    """Frames seen by one output frame: the product of the (odd) filter widths."""
    return math.prod(filter_widths)


def _check_common(cfg: Any) -> None:
    """Checks shared by both configs (skeleton, widths, channels, dropout, momentum)."""
    name = type(cfg).__name__
    if isinstance(cfg.skeleton, dict):
        object.__setattr__(cfg, "skeleton", _skeleton_from_dict(cfg.skeleton))
    if not isinstance(cfg.skeleton, (str, Skeleton)):
        raise TypeError(
            f"{name}.skeleton: expected a skeleton name or a Skeleton, "
            f"got {type(cfg.skeleton).__name__}"
        )
    if isinstance(cfg.skeleton, str):
        get_skeleton(cfg.skeleton)  # raises KeyError listing the known names
    widths = tuple(cfg.filter_widths)
    object.__setattr__(cfg, "filter_widths", widths)
    if not widths or not all(isinstance(w, int) and w >= 1 and w % 2 == 1 for w in widths):
        raise ValueError(
            f"{name}.filter_widths: expected a non-empty sequence of odd positive ints "
            f"(e.g. (3, 3, 3)), got {widths}"
        )
    check_int_field(cfg, "channels")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ValueError(f"{name}.dropout: expected a probability in [0, 1), got {cfg.dropout}")
    if not 0.0 < cfg.bn_momentum <= 1.0:
        raise ValueError(f"{name}.bn_momentum: expected a value in (0, 1], got {cfg.bn_momentum}")
    check_choice_field(cfg, "visibility", _CHOICES["visibility"])
    check_choice_field(cfg, "input_normalization", INPUT_NORMALIZATIONS)


def _skeleton_from_dict(d: dict) -> Skeleton:
    return Skeleton(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _to_dict(cfg: Any) -> dict:
    out = dataclasses.asdict(cfg)
    if isinstance(cfg.skeleton, Skeleton):
        out["skeleton"] = {
            f.name: getattr(cfg.skeleton, f.name) for f in dataclasses.fields(Skeleton)
        }
    out["filter_widths"] = list(cfg.filter_widths)
    return out


def _from_dict(cls: type, d: dict) -> Any:
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}.from_dict: expected a dict, got {type(d).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(
            f"{cls.__name__}.from_dict: unknown field(s) {unknown}; known: {sorted(known)}"
        )
    return cls(**d)


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`~anatomy_lib.models.AnatomyModel`.

    Attributes:
        skeleton: skeleton name (``"h36m"``) or a :class:`Skeleton`.
        filter_widths: odd temporal filter widths; the first is the expand layer, each
            further one a residual block. Receptive field = their product.
        channels: feature channels ``C`` of every conv / linear layer (1024 in the paper).
        dropout: dropout probability after every ReLU.
        causal: receptive field entirely in the past (output = last frame of the window).
        num_direction_stages: ``K`` stacked direction sub-networks (2 in the paper).
        long_skip: concatenate sub-network ``k-1``'s block features into sub-network ``k``.
        block_gradients: detach the features passed between sub-networks.
        direction_loss_at_every_stage: apply the direction / joint-shift losses to every
            sub-network (paper) or only the top one (Baseline-D).
        length_attention: ``"softmax"`` (Eq. 6) or ``"mean"`` of the sampled frames' lengths.
        attention_temperature: ``gamma`` of Eq. 6.
        attention_features: ``"joints"`` (Eq. 6, ``W X``) or ``"joints_abs"``
            (released code: ``W [X, |X|]``).
        visibility: ``"attention"`` (Fig. 5), ``"fusion"`` (scores as extra input) or ``"none"``.
        joint_head: ``"fc"`` (learned heads of Sec. 4.2) or ``"exact"`` (Eq. 1).
        bn_momentum: BatchNorm momentum (the trainer may decay it).
        sampled_frames: ``l``, frames sampled for the bone length network (50).
        input_normalization: ``"screen"`` (paper: normalised screen coordinates) or
            ``"person"`` (each frame centred on the root and scaled by the person's size,
            :func:`~anatomy_lib.models.inputs.normalize_keypoints`).
        output_frame: ``"camera"`` (paper: root-relative camera-space joints) or ``"ray"``
            (the same turned to face the ray through the root, :mod:`anatomy_lib.ray_frame`;
            :func:`~anatomy_lib.evaluation.predict_sequence` turns them back with the
            camera's intrinsics).
    """

    skeleton: str | Skeleton = "h36m"
    filter_widths: tuple[int, ...] = (3, 3, 3)
    channels: int = 1024
    dropout: float = 0.25
    causal: bool = False
    num_direction_stages: int = 2
    long_skip: bool = True
    block_gradients: bool = True
    direction_loss_at_every_stage: bool = True
    length_attention: str = "softmax"
    attention_temperature: float = 10.0
    attention_features: str = "joints"
    visibility: str = "attention"
    joint_head: str = "fc"
    bn_momentum: float = 0.1
    sampled_frames: int = 50
    input_normalization: str = "screen"
    output_frame: str = "camera"

    def __post_init__(self) -> None:
        _check_common(self)
        for key in ("length_attention", "attention_features", "joint_head", "output_frame"):
            check_choice_field(self, key, _CHOICES[key])
        check_int_field(self, "num_direction_stages")
        if not self.attention_temperature > 0:
            raise ValueError(
                f"ModelConfig.attention_temperature: expected > 0, got {self.attention_temperature}"
            )
        check_int_field(self, "sampled_frames")

    # ------------------------------------------------------------ derived
    @property
    def skeleton_tree(self) -> Skeleton:
        """The :class:`Skeleton` object (looked up by name when a name was given)."""
        return self.skeleton if isinstance(self.skeleton, Skeleton) else get_skeleton(self.skeleton)

    @property
    def receptive_field(self) -> int:
        """Input frames per output frame (product of the filter widths)."""
        return receptive_field(self.filter_widths)

    @property
    def num_blocks(self) -> int:
        """Residual blocks per sub-network (``len(filter_widths) - 1``)."""
        return len(self.filter_widths) - 1

    # ------------------------------------------------------------ presets
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """A named configuration, optionally with fields overridden.

        ``"paper-243"`` / ``"paper-81"`` / ``"paper-27"``: the paper's models (C = 1024);
        ``"tiny"``: 9 frames, 16 channels, for unit tests; ``"small"``: 27 frames,
        128 channels, trains on a CPU in minutes; ``"medium"``: 27 frames, 256 channels,
        person-centred input, for real video on a laptop CPU (trained on the data engine
        for about an hour). Append ``.baseline_d()`` for Baseline-D.
        """
        presets = {
            "paper-243": dict(filter_widths=(3, 3, 3, 3, 3)),
            "paper-81": dict(filter_widths=(3, 3, 3, 3)),
            "paper-27": dict(filter_widths=(3, 3, 3)),
            "tiny": dict(filter_widths=(3, 3), channels=16, dropout=0.0, sampled_frames=8),
            "small": dict(filter_widths=(3, 3, 3), channels=128, dropout=0.1, sampled_frames=16),
            "medium": dict(
                filter_widths=(3, 3, 3),
                channels=256,
                dropout=0.1,
                sampled_frames=16,
                input_normalization="person",
            ),
        }
        if name not in presets:
            raise KeyError(f"unknown ModelConfig preset {name!r}; known: {sorted(presets)}")
        return cls(**{**presets[name], **overrides})

    @staticmethod
    def preset_names() -> tuple[str, ...]:
        """Names accepted by :meth:`preset`."""
        return ("paper-243", "paper-81", "paper-27", "medium", "small", "tiny")

    def baseline_d(self) -> ModelConfig:
        """Baseline-D of the ablation: same depth, no long skips, no gradient blocking,
        direction losses at the top sub-network only."""
        return self.replace(
            long_skip=False, block_gradients=False, direction_loss_at_every_stage=False
        )

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def baseline(self) -> BaselineConfig:
        """The matching single temporal network (VideoPose3D) configuration."""
        return BaselineConfig(
            skeleton=self.skeleton,
            filter_widths=self.filter_widths,
            channels=self.channels,
            dropout=self.dropout,
            causal=self.causal,
            bn_momentum=self.bn_momentum,
            visibility="fusion" if self.visibility == "fusion" else "none",
            input_normalization=self.input_normalization,
        )

    def to_dict(self) -> dict:
        """Plain-Python dict (JSON/pickle friendly); inverse of :meth:`from_dict`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        return _from_dict(cls, d)


@dataclass(frozen=True)
class BaselineConfig:
    """Hyper-parameters of :class:`~anatomy_lib.models.TemporalConvNet` (VideoPose3D).

    Fields as in :class:`ModelConfig`; ``visibility`` is ``"none"`` or ``"fusion"``
    (scores appended to each joint's 2D input).
    """

    skeleton: str | Skeleton = "h36m"
    filter_widths: tuple[int, ...] = (3, 3, 3)
    channels: int = 1024
    dropout: float = 0.25
    causal: bool = False
    bn_momentum: float = 0.1
    visibility: str = "none"
    input_normalization: str = "screen"

    def __post_init__(self) -> None:
        _check_common(self)
        if self.visibility == "attention":
            raise ValueError(
                "BaselineConfig.visibility: expected 'none' or 'fusion' ('attention' needs "
                "the anatomy model), got 'attention'"
            )

    skeleton_tree = ModelConfig.skeleton_tree
    receptive_field = ModelConfig.receptive_field
    num_blocks = ModelConfig.num_blocks

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> BaselineConfig:
        """Same preset names as :meth:`ModelConfig.preset`."""
        return ModelConfig.preset(name).baseline().replace(**overrides)

    def replace(self, **changes: Any) -> BaselineConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain-Python dict; inverse of :meth:`from_dict`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BaselineConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        return _from_dict(cls, d)
