"""Training: experiment presets (Table 4), the objective, the trainer, checkpoints, DDP.

* :mod:`.config`: :class:`ExperimentConfig` and its presets (``"<variant>@<size>"``).
* :mod:`.objective`: Eq. 7 assembled from a model's output, per-stage weights.
* :mod:`.trainer`: :class:`Trainer` (Adam/AMSGrad, schedules, flip and bone-length
  augmentation, AMP, DDP, bit-for-bit resume).
* :mod:`.checkpointing`: atomic training checkpoints with the full random state.
* :mod:`.model_files`: :func:`build_model`, :func:`~.model_files.load_model_file` (a
  trained model from a shipped name, a model file, a training checkpoint or a run folder)
  and :func:`~.model_files.load_init_weights` (that model checked for ``init_weights``).
* :mod:`.history`: loss / validation history, CSV / JSON, :func:`plot_history`.
* :mod:`.distributed`: torchrun process groups.
* :mod:`.seeds`: :func:`~.seeds.derive_seed`, one seed per purpose, epoch and step.

Evaluation lives in :mod:`anatomy_lib.evaluation`.
"""

from .config import (
    SIZES,
    TABLE4_EXTRAS,
    TABLE4_ROWS,
    DataConfig,
    ExperimentConfig,
    OptimConfig,
    preset_names,
)
from .distributed import DistributedContext, init_distributed, shutdown_distributed
from .history import History, plot_history
from .objective import Objective, anatomy_objective, baseline_objective, stage_weights
from .trainer import TrainBatch, Trainer, build_model, load_experiment_dataset

__all__ = [
    "SIZES",
    "TABLE4_EXTRAS",
    "TABLE4_ROWS",
    "DataConfig",
    "DistributedContext",
    "ExperimentConfig",
    "History",
    "Objective",
    "OptimConfig",
    "TrainBatch",
    "Trainer",
    "anatomy_objective",
    "baseline_objective",
    "build_model",
    "init_distributed",
    "load_experiment_dataset",
    "plot_history",
    "preset_names",
    "shutdown_distributed",
    "stage_weights",
]
