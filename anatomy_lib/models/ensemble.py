"""Several trained lifters as one: their whole-video predictions averaged.

Two networks trained apart err partly apart, and the mean of their predictions errs less
than either where their errors differ. :class:`PredictionEnsemble` holds the members;
:func:`anatomy_lib.evaluation.predict_sequence` lifts a video with each member as it would
lift it alone (its own receptive field, output frame and edge padding) and returns

.. math:: \\hat X_t = \\frac{1}{M} \\sum_{m=1}^{M} \\hat X^{(m)}_t .

An ensemble is itself a test-time average, so by default it is lifted without the
mirror-image pass (``EvaluationConfig.flip=None``: on for one model, off for an ensemble):
two members then do the work of one model with the flip. On a CPU with idle cores (the
video pipeline lifts on one thread) the members run side by side in threads
(:func:`map_members`), with the same result as one after the other. The shipped
``anatomy_medium_ensemble`` (:data:`anatomy_lib.checkpoints.PRETRAINED_ENSEMBLES`) pairs
``anatomy_medium`` with its causal twin, whose errors on real video differ most from it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

from ..skeleton import Skeleton
from .anatomy import AnatomyModel
from .inference_plan import portable_kernel, portable_kernel_forced
from .temporal import TemporalConvNet

__all__ = ["EnsembleConfig", "PredictionEnsemble", "map_members"]

T = TypeVar("T")


@dataclass(frozen=True)
class EnsembleConfig:
    """What the rest of the library reads off a model's ``config``, for an ensemble.

    Attributes:
        causal: every member is causal (only then does the ensemble see no future frame).
        members: the members' names, for reports.
    """

    causal: bool
    members: tuple[str, ...]


class PredictionEnsemble(nn.Module):
    """Trained lifters whose predictions are averaged (see the module docstring).

    Args:
        members: at least two :class:`~anatomy_lib.models.AnatomyModel` or
            :class:`~anatomy_lib.models.TemporalConvNet` on one skeleton.
        names: a name per member (default ``member0``, ``member1``, ...).

    Raises:
        TypeError: a member that is not one of those networks (an ensemble included).
        ValueError: fewer than two members, members on different skeletons, or a wrong
            number of names.
    """

    def __init__(self, members: Sequence[nn.Module], names: Sequence[str] | None = None):
        super().__init__()
        members = list(members)
        if len(members) < 2:
            raise ValueError(f"PredictionEnsemble: expected at least 2 members, got {len(members)}")
        for i, m in enumerate(members):
            if not isinstance(m, (AnatomyModel, TemporalConvNet)):
                raise TypeError(
                    f"PredictionEnsemble member {i}: expected an AnatomyModel or a "
                    f"TemporalConvNet, got {type(m).__name__}"
                )
        skeletons = {m.skeleton.name for m in members}
        if len(skeletons) != 1:
            raise ValueError(
                f"PredictionEnsemble: expected members on one skeleton, got {sorted(skeletons)}"
            )
        names = [f"member{i}" for i in range(len(members))] if names is None else list(names)
        if len(names) != len(members):
            raise ValueError(f"PredictionEnsemble: expected {len(members)} names, got {len(names)}")
        self.members = nn.ModuleList(members)
        self.config = EnsembleConfig(
            causal=all(bool(m.config.causal) for m in members), members=tuple(names)
        )

    @property
    def skeleton(self) -> Skeleton:
        """The members' skeleton."""
        return self.members[0].skeleton

    def forward(self, *args, **kwargs):
        raise TypeError(
            "PredictionEnsemble has no window forward: lift whole videos with "
            "anatomy_lib.evaluation.predict_sequence (or the video pipeline)"
        )


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _member_pool() -> ThreadPoolExecutor:
    """One lasting pool of worker threads (a fresh thread pays its matrix library's set-up,
    about as much as a short video's lifting)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            workers = max(1, available_cores() - 1)
            _POOL = ThreadPoolExecutor(workers, thread_name_prefix="anatomy3d-member")
        return _POOL


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def map_members(fn: Callable[[nn.Module], T], members: Sequence[nn.Module]) -> list[T]:
    """``[fn(m) for m in members]``, the members side by side in threads when they all run on
    the CPU and together leave no core short (``torch.get_num_threads()`` each, the video
    pipeline's one thread: two members on two cores). Each member's numbers are the same
    either way; a worker thread uses its caller's kernel
    (:func:`~anatomy_lib.models.inference_plan.portable_kernel`) and an exception in any
    member is raised here."""
    members = list(members)
    on_cpu = all(next(m.parameters()).device.type == "cpu" for m in members)
    fits = torch.get_num_threads() * len(members) <= available_cores()
    if len(members) < 2 or not (on_cpu and fits):
        return [fn(m) for m in members]
    forced = portable_kernel_forced()

    def in_worker(member: nn.Module) -> T:
        with portable_kernel() if forced else contextlib.nullcontext():
            return fn(member)

    later = [_member_pool().submit(in_worker, m) for m in members[1:]]
    first = fn(members[0])
    return [first, *(f.result() for f in later)]
