"""Networks of the anatomy-aware model and of its VideoPose3D baseline.

* :mod:`.config`: :class:`ModelConfig`, :class:`BaselineConfig` (presets, validation).
* :mod:`.temporal`: :class:`TemporalConvNet`, window and whole-sequence forms.
* :mod:`.direction`: :class:`BoneDirectionNet` (Sec. 3.2).
* :mod:`.length`: :class:`BoneLengthNet` and the bone-length attention (Sec. 3.3).
* :mod:`.dropout`: dropout whose mask is cheap to draw on the CPU.
* :mod:`.visibility`: implicit visibility attention (Sec. 3.5).
* :mod:`.heads`: lengths + directions -> joints and joint shifts (Sec. 4.2 / Eq. 1).
* :mod:`.anatomy`: :class:`AnatomyModel`, :class:`AnatomyOutput`.
* :mod:`.inference`: :func:`lift_video`, vectorised whole-video inference.
* :mod:`.inference_plan`: the folded layers it runs, their kernel and cache.
* :mod:`.checkpoints`: own format and the authors' / VideoPose3D checkpoints.
* :mod:`.widen`: a wider network computing the same function (Net2WiderNet).
"""

from .anatomy import AnatomyModel, AnatomyOutput
from .config import BaselineConfig, ModelConfig, receptive_field
from .direction import BoneDirectionNet, DirectionOutput, unit_directions
from .heads import AnatomyHeads, FusionHead
from .inference import LiftResult, ShortVideoWarning, lift_video, lift_video_baseline
from .length import BoneLengthNet, LengthOutput
from .temporal import TemporalConvNet
from .visibility import VisibilityAttention
from .widen import widen_model

__all__ = [
    "AnatomyHeads",
    "AnatomyModel",
    "AnatomyOutput",
    "BaselineConfig",
    "BoneDirectionNet",
    "BoneLengthNet",
    "DirectionOutput",
    "FusionHead",
    "LengthOutput",
    "LiftResult",
    "ModelConfig",
    "ShortVideoWarning",
    "TemporalConvNet",
    "VisibilityAttention",
    "lift_video",
    "lift_video_baseline",
    "receptive_field",
    "unit_directions",
    "widen_model",
]
