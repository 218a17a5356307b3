"""Multi-process data-parallel training with ``torch.distributed`` (DDP), launched by torchrun.

``torchrun --nproc_per_node=N -m anatomy_lib.cli train ...`` starts ``N`` processes with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR/PORT`` set. Each process builds
the same global batch from the shared seed and trains on its contiguous ``1/N`` share
(:meth:`DistributedContext.shard`); DDP averages the gradients, so a step equals one
single-process step on the whole batch computed as ``N`` equal sub-batches (BatchNorm
statistics are per sub-batch, as they are per GPU). Backend: NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistributedContext", "init_distributed", "shutdown_distributed"]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly single-process) run.

    Attributes:
        rank: global process index (0 = the one writing files and printing).
        world_size: number of processes.
        local_rank: process index on this machine (picks the CUDA device).
        backend: ``"gloo"``, ``"nccl"`` or ``""`` when not distributed.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        """Whether gradients are averaged across processes."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: writes checkpoints and history, shows progress bars."""
        return self.rank == 0

    def shard(self, batch_size: int) -> slice:
        """This process's contiguous share of a global batch of ``batch_size`` samples.

        Raises:
            ValueError: if the batch does not split evenly (DDP's gradient average would
                then not equal the single-process mean).
        """
        if batch_size % self.world_size:
            raise ValueError(
                f"batch size {batch_size} does not split evenly over {self.world_size} processes"
            )
        share = batch_size // self.world_size
        return slice(self.rank * share, (self.rank + 1) * share)

    def barrier(self) -> None:
        """Wait for every process (no-op when not distributed)."""
        if self.enabled:
            dist.barrier()


def init_distributed(backend: str | None = None) -> DistributedContext:
    """Join the process group described by torchrun's environment variables.

    Without ``WORLD_SIZE`` (or with 1) this returns a single-process context and
    initialises nothing.

    Args:
        backend: ``"gloo"`` / ``"nccl"``; None picks NCCL when CUDA is available, else gloo.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistributedContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not dist.is_initialized():
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    return DistributedContext(rank, world, local_rank, backend)


def shutdown_distributed() -> None:
    """Leave the process group, if any."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
