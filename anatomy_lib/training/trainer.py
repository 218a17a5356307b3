"""The training loop: any :class:`ExperimentConfig`, on CPU or CUDA, single- or multi-process.

Reproducibility. Every random choice of step ``s`` of epoch ``e`` (batch order, length
frames, flips, bone-length augmentation, dropout, the frame of Eq. 5) comes from seeds
derived from ``(experiment.seed, e, s)``, never from state carried between steps. A
checkpoint therefore only needs the weights, the optimiser (and AMP scaler) state and
the position ``(e, s)``: a run stopped anywhere and resumed from its last checkpoint ends
with the same weights, bit for bit on CPU, as an uninterrupted run. Dropout draws its CPU
masks from a generator of its own per step (:func:`~anatomy_lib.models.dropout.dropout_generator`;
on CUDA the device generator is seeded inside a forked random state), so no other random
draw can shift them, and training leaves the process-wide random state alone; that state
is saved too and restored on resume, so code that runs after training sees the same
random numbers.

Mixed precision (``optim.amp``, CUDA only): ``optim.amp_dtype`` picks bfloat16 (no loss
scaling) or float16 (with a gradient scaler); ``"auto"`` is bfloat16 where the GPU
supports it.

Schedule (Sec. 4.2 and the released code): Adam (AMSGrad), learning rate multiplied by
``optim.lr_decay`` after each epoch, BatchNorm momentum decayed geometrically from
``optim.bn_momentum_start`` to ``optim.bn_momentum_end``.

Weight average (``optim.ema_decay``): a :class:`~.weight_average.WeightAverage` of the
weights follows every step and is the run's model (:attr:`Trainer.output_model`): validation
scores it, and the checkpoint's ``"model"`` holds it (the trained weights go under
``"trained_model"``), so everything that loads a run loads the average.

Engine pools (``data.dataset="engine"``): the pool of epoch ``e + 1`` can be drawn in a
background thread while epoch ``e`` trains (``prefetch_pools``; on by default on CUDA, where
the GPU would otherwise wait for the CPU). It is the same pool either way: each pool comes
from its own generator seeded by ``(experiment.seed, e)``.

Files written in ``out_dir`` (by rank 0, atomically, at every checkpoint): ``checkpoint.pt``
(the latest state), ``experiment.json``, ``history.csv`` and ``history.json``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.augment import AugmentedPoses, BoneLengthAugmentConfig, augment_bone_lengths, flip_batch
from ..data.samplers import AnatomyBatch, SamplerConfig, WindowBatchSampler
from ..data.sequences import PoseDataset
from ..evaluation import EvaluationConfig, evaluate_dataset
from ..length_frames import consecutive_length_frames
from ..models.checkpoints import weights_fingerprint
from ..models.dropout import dropout_generator
from . import model_files
from .checkpointing import (
    atomic_torch_save,
    atomic_write_bytes,
    capture_rng_state,
    load_training_checkpoint,
    new_checkpoint,
    restore_rng_state,
)
from .config import ExperimentConfig
from .distributed import DistributedContext, init_distributed
from .history import History
from .model_files import build_model
from .objective import Objective, anatomy_objective, baseline_objective
from .seeds import derive_seed, seeded_generator
from .weight_average import WeightAverage

__all__ = [
    "TrainBatch",
    "Trainer",
    "build_model",
    "load_experiment_dataset",
    "resolve_amp_dtype",
    "resolve_device",
    "step_random_state",
]

CHECKPOINT_NAME = "checkpoint.pt"


def resolve_amp_dtype(amp_dtype: str, device: torch.device) -> torch.dtype:
    """``optim.amp_dtype`` on ``device``: ``"auto"`` is bfloat16 where CUDA supports it."""
    if amp_dtype == "auto":
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float16
    return getattr(torch, amp_dtype)


@contextlib.contextmanager
def step_random_state(device: torch.device, seed: int) -> Iterator[None]:
    """Dropout's randomness for one step, from ``seed`` alone: CPU masks from their own
    generator; on CUDA, the device generator seeded inside a forked (then restored) state."""
    with dropout_generator(torch.Generator().manual_seed(seed)):
        if device.type != "cuda":
            yield
            return
        with torch.random.fork_rng(devices=[device]):
            torch.cuda.manual_seed(seed)
            yield


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"`` / None -> CUDA when available, else CPU; anything else is checked.

    Raises:
        ValueError: CUDA (or MPS) requested but not available.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available on this machine")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r}: MPS is not available on this machine")
    return dev


def load_experiment_dataset(experiment: ExperimentConfig) -> PoseDataset:
    """The dataset named by ``experiment.data`` (train and test splits by subject).

    File-based datasets read ``data.root``, in the layout of the published lifting code:

    * ``h36m``: ``data_3d_h36m.npz``, ``data_2d_h36m_<keypoints>.npz`` (``keypoints``
      ``"default"`` = ``cpn_ft_h36m_dbb``) and, when present, the authors' ``score.pkl``;
    * ``3dhp``: ``data_train_3dhp.npz`` and ``data_test_3dhp.npz``.

    Raises:
        ValueError: a file-based dataset without ``data.root``.
        FileNotFoundError: a missing file (named).
    """
    data = experiment.data
    if data.dataset == "engine":
        from .engine_data import engine_dataset

        return engine_dataset(data, experiment.seed, epoch=0)
    if data.dataset == "embedded":
        from ..data.embedded import load_default_dataset

        dataset = load_default_dataset()
        if data.held_out_clips == "engine_validation":
            from ..data.engine import VALIDATION_CLIPS

            dataset = dataset.select_clips(VALIDATION_CLIPS, exclude=True)
        return dataset
    if data.root is None:
        raise ValueError(
            f"data.dataset={data.dataset!r} reads files you provide: set data.root to the folder "
            "holding them (see anatomy_lib/data/files/DATA.md), or use data.dataset=embedded"
        )
    root = Path(data.root)
    if data.dataset == "h36m":
        from ..data.h36m import load_h36m

        keypoints = "cpn_ft_h36m_dbb" if data.keypoints == "default" else data.keypoints
        files = [root / "data_3d_h36m.npz", root / f"data_2d_h36m_{keypoints}.npz"]
        _require(files)
        scores = root / "score.pkl"
        return load_h36m(*files, scores_path=scores if scores.exists() else None)
    from ..data.mpi_inf_3dhp import load_3dhp_test, load_3dhp_train

    files = [root / "data_train_3dhp.npz", root / "data_test_3dhp.npz"]
    _require(files)
    train, test = load_3dhp_train(files[0]), load_3dhp_test(files[1])
    return PoseDataset(
        "mpi_inf_3dhp",
        train.skeleton,
        train.sequences + test.sequences,
        train.train_subjects,
        test.test_subjects,
    )


def _require(files: list[Path]) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"dataset files missing: {missing}")


@dataclass
class TrainBatch:
    """One step's data: the window batch and, with AUG, the re-proportioned clips.

    Attributes:
        windows: :class:`~anatomy_lib.data.samplers.AnatomyBatch` of ``N`` target frames
            (flipped samples already mirrored).
        augmented: :class:`~anatomy_lib.data.augment.AugmentedPoses` of ``N_a`` clips of
            ``l`` frames, or None.
    """

    windows: AnatomyBatch
    augmented: AugmentedPoses | None

    def shard(self, context: DistributedContext) -> TrainBatch:
        """This process's contiguous share of both batches."""
        part = context.shard(len(self.windows.target_3d))
        windows = type(self.windows)(*(t[part] for t in self.windows))
        aug = self.augmented
        if aug is not None:
            part = context.shard(len(aug.bone_lengths))
            aug = type(aug)(*(t[part] for t in aug))
        return TrainBatch(windows, aug)


class _StepLoss(nn.Module):
    """Model + objective in one module, so that DDP sees which parameters the loss reaches."""

    def __init__(self, model: nn.Module, experiment: ExperimentConfig) -> None:
        super().__init__()
        self.model = model
        self.experiment = experiment

    def forward(self, batch: TrainBatch, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        w, exp = batch.windows, self.experiment
        if exp.architecture == "baseline":
            scores = w.scores if exp.model.visibility == "fusion" else None
            obj = baseline_objective(self.model(w.keypoints_2d, scores), w.target_3d, exp)
            return obj.total, obj.terms
        out = self.model(w.keypoints_2d, w.scores, w.length_keypoints_2d)
        aug = batch.augmented
        obj = anatomy_objective(
            out,
            w.target_3d,
            w.length_target_3d,
            exp,
            generator=generator,
            augmented=None
            if aug is None
            else self.model.bone_lengths(
                aug.keypoints_2d, joints_grad=exp.augmented_per_frame_loss
            ),
            augmented_lengths=None if aug is None else aug.bone_lengths,
            augmented_sampled_target=None if aug is None else aug.target_3d,
        )
        return obj.total, obj.terms


class Trainer:
    """Trains one experiment; see the module docstring.

    Args:
        experiment: what to train.
        out_dir: where checkpoints and history go (None: nothing is written).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``; under DDP with CUDA the
            local rank's GPU is used.
        dataset: the data (None: :func:`load_experiment_dataset`).
        checkpoint_every: also checkpoint every this many steps (epoch ends always).
        progress: show progress bars (rank 0 only).
        distributed: the process group context (None: from torchrun's environment).
        evaluate_fn: ``evaluate_fn(trainer) -> {"val_p1": mm, ...}``, run every
            ``optim.eval_every`` epochs on rank 0 (None: Protocol 1 and 2 on the test split).
        load_init_weights: start from ``experiment.init_weights`` when it is set (False
            when resuming: the checkpoint holds the weights).
        prefetch_pools: with ``data.dataset="engine"``, draw the next epoch's pool in a
            background thread while this epoch trains (None: on CUDA only).

    Raises:
        ValueError: inconsistent settings, found before any training work.
    """

    def __init__(
        self,
        experiment: ExperimentConfig,
        out_dir: str | Path | None = None,
        device: str | torch.device | None = "cpu",
        dataset: PoseDataset | None = None,
        checkpoint_every: int | None = None,
        progress: bool = True,
        distributed: DistributedContext | None = None,
        evaluate_fn: Callable[[Trainer], dict[str, float]] | None = None,
        load_init_weights: bool = True,
        prefetch_pools: bool | None = None,
    ) -> None:
        if not isinstance(experiment, ExperimentConfig):
            raise TypeError(
                f"experiment: expected an ExperimentConfig, got {type(experiment).__name__}"
            )
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(
                f"checkpoint_every: expected an int >= 1 or None, got {checkpoint_every}"
            )
        self.experiment = experiment
        self._setup_distributed(distributed, device)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.checkpoint_every = checkpoint_every
        self.progress = progress and self.dist.is_main
        self.evaluate_fn = evaluate_fn
        init = (
            model_files.load_init_weights(experiment)
            if load_init_weights and experiment.init_weights is not None
            else None
        )  # checked before any data work
        self._setup_data(dataset)
        self.prefetch_pools = (
            self.device.type == "cuda" if prefetch_pools is None else bool(prefetch_pools)
        )
        self._pending_pool: tuple[int, Future] | None = None
        self._pool_thread: ThreadPoolExecutor | None = None  # started at the first prefetch
        self._setup_model()
        #: sha256 of the starting weights (:func:`weights_fingerprint`) when the run
        #: started from ``experiment.init_weights``, else None.
        self.init_weights_sha256: str | None = None
        if init is not None:
            self.model.load_state_dict(init.state_dict())
            self.init_weights_sha256 = weights_fingerprint(self.model)
        decay = experiment.optim.ema_decay
        #: the moving average of the weights (``optim.ema_decay``), else None.
        self.weight_average = None if decay is None else WeightAverage(self.model, decay)
        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.history = History()
        self.wall_time = 0.0

    def _setup_distributed(
        self, distributed: DistributedContext | None, device: str | torch.device | None
    ) -> None:
        """Process group, this process's device; the batches must split over processes."""
        exp = self.experiment
        self.dist = distributed if distributed is not None else init_distributed()
        self.device = resolve_device(device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        self.dist.shard(exp.optim.batch_size)
        if exp.data.bone_length_augmentation:
            self.dist.shard(exp.optim.aug_batch_size)

    def _setup_data(self, dataset: PoseDataset | None) -> None:
        """Dataset, window sampler, the target frames (every ``data.stride``-th) and the
        steps per epoch."""
        exp = self.experiment
        self.dataset = dataset if dataset is not None else load_experiment_dataset(exp)
        if self.dataset.skeleton != exp.model.skeleton_tree:
            raise ValueError(
                f"dataset {self.dataset.name!r} uses skeleton {self.dataset.skeleton.name!r}, "
                f"the experiment {exp.model.skeleton_tree.name!r}"
            )
        if exp.optim.eval_every and self.evaluate_fn is None and not self.dataset.test_subjects:
            raise ValueError(f"dataset {self.dataset.name!r} has no test subject to validate on; "
                             "provide one or set optim.eval_every=0")  # fmt: skip
        self._build_sampler(self.dataset)
        self._pool_epoch = 0  # data.dataset="engine": load_experiment_dataset gave epoch 0's pool

    def _setup_model(self) -> None:
        """Model (weights seeded by the experiment), its DDP wrapper, optimiser and AMP."""
        exp = self.experiment
        torch.manual_seed(derive_seed(exp.seed, "init"))
        self.model = build_model(exp).to(self.device)
        self.step_loss = _StepLoss(self.model, exp)
        self.loss_module: nn.Module = self.step_loss
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.loss_module = DistributedDataParallel(
                self.step_loss, device_ids=ids, find_unused_parameters=True
            )
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=exp.optim.learning_rate, amsgrad=exp.optim.amsgrad
        )
        self.use_amp = exp.optim.amp and self.device.type == "cuda"
        self.amp_dtype = resolve_amp_dtype(exp.optim.amp_dtype, self.device)
        scale = self.use_amp and self.amp_dtype == torch.float16  # bf16 needs no scaling
        self.scaler = torch.amp.GradScaler("cuda", enabled=scale)

    # ------------------------------------------------------------ data
    def _build_sampler(self, dataset: PoseDataset) -> None:
        """Windows, target frames and steps per epoch of ``dataset``'s train split."""
        exp = self.experiment
        self.dataset = dataset
        sampler_cfg = SamplerConfig(
            exp.model.receptive_field,
            exp.model.sampled_frames,
            exp.model.causal,
            exp.model.output_frame,
        )
        self.sampler = WindowBatchSampler(dataset.split("train"), sampler_cfg, device=self.device)
        if exp.data.bone_length_augmentation and bool(
            torch.isnan(self.sampler.packed.intrinsics).any()
        ):
            raise ValueError(
                "data.bone_length_augmentation needs the camera of every training video "
                "(to project the re-proportioned poses); some have none"
            )
        seq, frame = self.sampler.locate(torch.arange(len(self.sampler)))
        self.targets = torch.nonzero(frame % exp.data.stride == 0).squeeze(1).cpu()
        self._order: tuple[int, torch.Tensor] = (-1, self.targets)
        self.steps_per_epoch = max(1, len(self.targets) // exp.optim.batch_size)
        if exp.optim.steps_per_epoch is not None:
            self.steps_per_epoch = min(self.steps_per_epoch, exp.optim.steps_per_epoch)

    def _engine_pool(self, epoch: int) -> None:
        """With ``data.dataset="engine"``: new synthetic videos for ``epoch`` (and, with
        ``prefetch_pools``, the next epoch's started in the background)."""
        if self.experiment.data.dataset != "engine":
            return
        from .engine_data import engine_dataset

        exp = self.experiment
        if epoch != self._pool_epoch:
            pending, self._pending_pool = self._pending_pool, None
            if pending is not None and pending[0] == epoch:
                pool = pending[1].result()
            else:
                pool = engine_dataset(exp.data, exp.seed, epoch)
            self._build_sampler(pool)
            self._pool_epoch = epoch
        following = epoch + 1
        if self.prefetch_pools and following < exp.optim.epochs and self._pending_pool is None:
            if self._pool_thread is None:
                self._pool_thread = ThreadPoolExecutor(1, thread_name_prefix="engine-pool")
            future = self._pool_thread.submit(engine_dataset, exp.data, exp.seed, following)
            self._pending_pool = (following, future)

    def make_batch(self, epoch: int, step: int) -> TrainBatch:
        """The global batch of step ``step`` of ``epoch`` (identical on every process)."""
        exp, s = self.experiment, self.sampler
        bs = exp.optim.batch_size
        if self._order[0] != epoch:
            order_generator = seeded_generator(exp.seed, "order", epoch)
            perm = torch.randperm(len(self.targets), generator=order_generator)
            self._order = (epoch, self.targets[perm])
        order = self._order[1]
        flat = order[step * bs : (step + 1) * bs]
        if len(flat) < bs:  # fewer targets than one batch: draw with replacement
            extra = torch.randint(
                len(self.targets),
                (bs - len(flat),),
                generator=seeded_generator(exp.seed, "fill", epoch, step),
            )
            flat = torch.cat([flat, self.targets[extra]])
        g = seeded_generator(exp.seed, "batch", epoch, step)
        seq, t = s.locate(flat)
        windows = s.gather(seq, t, self._length_frames(seq, t, g))
        if exp.data.train_flip:
            flip = torch.rand(bs, generator=g) < 0.5
            windows = _select(flip.to(self.device), flip_batch(windows, s.skeleton), windows)
        augmented = None
        if exp.data.bone_length_augmentation:
            n = exp.optim.aug_batch_size
            seq_a, t_a = s.locate(self.targets[torch.randint(len(self.targets), (n,), generator=g)])
            clips = s.gather(seq_a, t_a, s.sample_length_frames(seq_a, t_a, g))
            augmented = augment_bone_lengths(
                clips.length_target_3d,
                clips.intrinsics,
                s.skeleton,
                g,
                BoneLengthAugmentConfig(degree=exp.data.augmentation_degree),
            )
        return TrainBatch(windows, augmented)

    def _length_frames(
        self, seq: torch.Tensor, t: torch.Tensor, g: torch.Generator
    ) -> torch.Tensor:
        if self.experiment.data.length_frames == "random":
            return self.sampler.sample_length_frames(seq, t, g)
        model = self.experiment.model
        num_frames = self.sampler.packed.lengths[seq]
        return consecutive_length_frames(t, num_frames, model.sampled_frames, model.causal)

    # ------------------------------------------------------------ one step
    def objective_on(
        self, batch: TrainBatch, epoch: int, step: int, rank: int | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Loss of this process's share of ``batch`` (dropout and Eq. 5 seeded by step and rank)."""
        rank = self.dist.rank if rank is None else rank
        seed = derive_seed(self.experiment.seed, "dropout", epoch, step, rank)
        pick = seeded_generator(self.experiment.seed, "pick", epoch, step, rank)
        with (
            step_random_state(self.device, seed),
            torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.use_amp),
        ):
            return self.loss_module(batch, pick)

    def train_step(self, epoch: int, step: int) -> dict[str, float]:
        """One optimiser step; returns the loss terms of this process's share."""
        batch = self.make_batch(epoch, step).shard(self.dist)
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        total, terms = self.objective_on(batch, epoch, step)
        if not bool(torch.isfinite(total)):
            raise FloatingPointError(
                f"loss became {float(total)} at epoch {epoch} step {step}; "
                "lower optim.learning_rate"
            )
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.weight_average is not None:
            self.weight_average.update(self.model)
        return Objective(total, terms, {}).as_floats()

    @property
    def output_model(self) -> nn.Module:
        """The model this run produces: the weight average with ``optim.ema_decay``, else
        the trained model."""
        return self.model if self.weight_average is None else self.weight_average.module

    def _start_epoch(self, epoch: int) -> None:
        self._engine_pool(epoch)
        o = self.experiment.optim
        for group in self.optimizer.param_groups:
            group["lr"] = o.learning_rate_at(epoch)
        self.model.set_bn_momentum(o.bn_momentum(epoch))

    # ------------------------------------------------------------ loop
    def fit(self, max_steps: int | None = None) -> History:
        """Train until the last epoch (or until ``max_steps`` more steps, then checkpoint).

        Stopping by ``max_steps`` is what a killed run looks like to :meth:`resume`.
        """
        exp = self.experiment
        if self.out_dir is not None and self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.out_dir / "experiment.json", exp.to_json().encode())
        start = time.perf_counter() - self.wall_time
        left = max_steps
        while self.epoch < exp.optim.epochs:
            epoch = self.epoch
            left = self.run_epoch(left, start)
            if self.epoch == epoch:  # stopped by max_steps (checkpoint written)
                break
        return self.history

    def run_epoch(self, max_steps: int | None = None, start: float | None = None) -> int | None:
        """The rest of the current epoch (then validation when due, and a checkpoint), or
        ``max_steps`` steps of it (then a checkpoint).

        Args:
            max_steps: most steps to run (None: no limit).
            start: ``time.perf_counter()`` at the (virtual) start of the run, for
                ``wall_time`` (None: now, less the wall time so far).

        Returns:
            Steps left of ``max_steps`` (None when unlimited). When the epoch finished,
            ``epoch`` has advanced and ``step_in_epoch`` is 0; when ``max_steps`` stopped
            it, ``epoch`` is unchanged.
        """
        exp = self.experiment
        start = time.perf_counter() - self.wall_time if start is None else start
        self._start_epoch(self.epoch)
        bar = tqdm(
            total=self.steps_per_epoch,
            initial=self.step_in_epoch,
            desc=f"{exp.name} epoch {self.epoch + 1}/{exp.optim.epochs}",
            disable=not self.progress,
            leave=False,
        )
        while self.step_in_epoch < self.steps_per_epoch:
            if max_steps is not None and max_steps <= 0:
                bar.close()
                self.wall_time = time.perf_counter() - start
                self.save_checkpoint()
                return 0
            self._logged_step(bar)
            max_steps = None if max_steps is None else max_steps - 1
            if self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                self.wall_time = time.perf_counter() - start
                self.save_checkpoint()
        bar.close()
        self.epoch += 1
        self.step_in_epoch = 0
        o = exp.optim
        if o.eval_every and (self.epoch % o.eval_every == 0 or self.epoch == o.epochs):
            self.validate()
        self.wall_time = time.perf_counter() - start
        self.save_checkpoint()
        return max_steps

    def _logged_step(self, bar: tqdm) -> None:
        """One :meth:`train_step` at the current position; advance it and log the losses."""
        values = self.train_step(self.epoch, self.step_in_epoch)
        self.step_in_epoch += 1
        self.global_step += 1
        lr = self.optimizer.param_groups[0]["lr"]
        self.history.log("train", self.epoch, self.global_step, lr=lr, **values)
        bar.set_postfix(loss=f"{values['loss']:.4f}")
        bar.update()

    def validate(self) -> None:
        """Score :attr:`output_model` (``evaluate_fn``, else Protocols 1 and 2 on the test
        split) and log it as a ``"val"`` record of the last finished epoch (rank 0; every
        process must call it, since it ends at a barrier)."""
        if self.dist.is_main:
            if self.evaluate_fn is not None:
                values = self.evaluate_fn(self)
            else:
                result = evaluate_dataset(
                    self.output_model,
                    self.dataset.split("test"),
                    EvaluationConfig.from_experiment(self.experiment),
                    progress=self.progress,
                )
                values = {f"val_{k}": v for k, v in result.averages.items()}
            self.history.log("val", self.epoch - 1, self.global_step, **values)
        self.dist.barrier()

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Everything :meth:`load_state_dict` needs to continue the run exactly; its
        ``"model"`` is :attr:`output_model`'s weights."""
        average = self.weight_average
        extra = {} if average is None else {
            "trained_model": self.model.state_dict(), "weight_average_updates": average.updates
        }  # fmt: skip
        return new_checkpoint(
            experiment=self.experiment.to_dict(),
            model=self.output_model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            scaler=self.scaler.state_dict(),
            epoch=self.epoch,
            step_in_epoch=self.step_in_epoch,
            global_step=self.global_step,
            rng=capture_rng_state(),
            history=self.history.state_dict(),
            wall_time=self.wall_time,
            init_weights_sha256=self.init_weights_sha256,
            **extra,
        )

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (of the same experiment)."""
        if ExperimentConfig.from_dict(state["experiment"]) != self.experiment:
            raise ValueError("checkpoint: it was written by a different experiment configuration")
        if state["optimizer"] is None:
            raise ValueError(
                "checkpoint: a transfer copy without optimiser state (written by "
                "scripts/train_on_budget.py --transfer); it cannot be resumed"
            )
        if self.weight_average is None:
            self.model.load_state_dict(state["model"])
        elif "trained_model" not in state:
            raise ValueError("checkpoint: optim.ema_decay is set but it holds no trained_model")
        else:
            self.model.load_state_dict(state["trained_model"])
            self.weight_average.module.load_state_dict(state["model"])
            self.weight_average.updates = int(state["weight_average_updates"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step = state["global_step"]
        self.history = History.from_state_dict(state["history"])
        self.wall_time = float(state.get("wall_time", 0.0))
        self.init_weights_sha256 = state.get("init_weights_sha256")
        restore_rng_state(state["rng"])

    def save_checkpoint(self) -> Path | None:
        """Write ``out_dir/checkpoint.pt`` and the history files atomically (rank 0)."""
        if self.out_dir is None or not self.dist.is_main:
            return None
        path = self.out_dir / CHECKPOINT_NAME
        atomic_torch_save(self.state_dict(), path)
        self.history.save(self.out_dir / "history.csv")
        self.history.save(self.out_dir / "history.json")
        return path

    @classmethod
    def resume(
        cls,
        path: str | Path,
        device: str | torch.device | None = "cpu",
        dataset: PoseDataset | None = None,
        **kwargs,
    ) -> Trainer:
        """A trainer continuing the run saved in ``path`` (a checkpoint file or its folder).

        Raises:
            FileNotFoundError / ValueError: missing or malformed checkpoint.
        """
        path = Path(path)
        file = path / CHECKPOINT_NAME if path.is_dir() else path
        state = load_training_checkpoint(file)
        experiment = ExperimentConfig.from_dict(state["experiment"])
        trainer = cls(experiment, out_dir=file.parent, device=device, dataset=dataset,
                      load_init_weights=False, **kwargs)  # fmt: skip
        trainer.load_state_dict(state)
        return trainer


def _select(mask: torch.Tensor, a: AnatomyBatch, b: AnatomyBatch) -> AnatomyBatch:
    """Per sample: ``a`` where ``mask``, else ``b``."""
    out = []
    for x, y in zip(a, b, strict=True):
        m = mask.view(-1, *([1] * (x.dim() - 1)))
        out.append(torch.where(m, x, y))
    return type(a)(*out)
