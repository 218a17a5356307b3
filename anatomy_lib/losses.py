"""The paper's losses (Eqs. 2-5) and their weighted sum (Eq. 7).

Each term is a function of plain tensors, so it can be read next to its equation:

=====================  ==============================================  ===========
term                   definition                                      paper
=====================  ==============================================  ===========
bone direction         ``||X_D - Y_D||^2`` over the 3(J-1) values      Eq. 3
bone length            ``||X_L - Y_L||^2`` over the J-1 lengths        Eq. 4
per-frame joints       MPJPE of ONE randomly chosen sampled frame      Eq. 5
joint shift            ``sum_pairs ||X_JS - Y_JS||_2``                 Eq. 2
total                  ``lambda_D L_D + lambda_L L_L + ...``           Eq. 7
=====================  ==============================================  ===========

All terms are averaged over the batch. Units follow the inputs (metres).
Which network each term trains is decided by where the model detaches its tensors
(see :mod:`anatomy_lib.models`): the joint shift loss reaches only the direction network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ._validation import check_finite, check_points, check_same_shape

__all__ = [
    "LossWeights",
    "bone_direction_loss",
    "bone_length_loss",
    "per_frame_joint_loss",
    "joint_shift_loss",
    "mpjpe_loss",
    "weighted_sum",
]


def _batch_mean(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1).mean()


def bone_direction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 3: squared error of the ``3(J-1)``-dim bone direction vector, batch-averaged.

    Args:
        pred: ``(..., B, 3)`` predicted unit bone directions.
        target: ``(..., B, 3)`` ground-truth unit bone directions.

    Returns:
        Scalar loss.
    """
    check_points(pred, None, 3, name="predicted directions")
    check_same_shape(pred, target, ("predicted directions", "target directions"))
    return _batch_mean(((pred - target) ** 2).sum(dim=(-1, -2)))


def bone_length_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 4: squared error of the ``(J-1)``-dim bone length vector, batch-averaged.

    Args:
        pred: ``(..., B)`` predicted bone lengths (metres).
        target: ``(..., B)`` ground-truth bone lengths.

    Returns:
        Scalar loss.
    """
    check_same_shape(pred, target, ("predicted lengths", "target lengths"))
    check_finite(pred, "predicted lengths")
    return _batch_mean(((pred - target) ** 2).sum(dim=-1))


def mpjpe_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint position error, ``(1/J) sum_k ||X^k - Y^k||_2``, batch-averaged.

    Args:
        pred, target: ``(..., J, 3)`` joints (metres).
    """
    check_points(pred, None, 3, name="predicted joints")
    check_same_shape(pred, target, ("predicted joints", "target joints"))
    return (pred - target).norm(dim=-1).mean()


def per_frame_joint_loss(
    sampled_pred: torch.Tensor,
    sampled_target: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Eq. 5 on one randomly chosen sampled frame per sample.

    The bone-length network predicts 3D joints for each of its ``l`` sampled frames.
    Supervising all of them makes it converge much faster than the direction network,
    so the paper picks one of the ``l`` frames at random per sample.

    Args:
        sampled_pred: ``(N, l, J, 3)`` per-frame joints from the length network.
        sampled_target: ``(N, l, J, 3)`` their ground truth (root-relative, metres).
        generator: random source for the frame choice (reproducible training).

    Returns:
        Scalar MPJPE over the chosen frames.
    """
    check_points(sampled_pred, None, 3, name="sampled joints")
    check_same_shape(sampled_pred, sampled_target, ("sampled joints", "sampled targets"))
    if sampled_pred.dim() != 4:
        raise ValueError(
            f"sampled joints: expected shape (N, l, J, 3), got {tuple(sampled_pred.shape)}"
        )
    n, l = sampled_pred.shape[:2]
    pick = torch.randint(l, (n,), generator=generator, device="cpu").to(sampled_pred.device)
    rows = torch.arange(n, device=sampled_pred.device)
    return mpjpe_loss(sampled_pred[rows, pick], sampled_target[rows, pick])


def joint_shift_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 2: sum over joint pairs of the Euclidean error of the relative joint shift.

    Args:
        pred: ``(..., P, 3)`` predicted shifts ``J[k2] - J[k1]`` for the pairs
            ``skeleton.non_bone_pairs`` (derived from predicted lengths and directions).
        target: ``(..., P, 3)`` ground-truth shifts.

    Returns:
        Scalar loss, summed over pairs and averaged over the batch.
    """
    check_points(pred, None, 3, name="predicted joint shifts")
    check_same_shape(pred, target, ("predicted joint shifts", "target joint shifts"))
    return _batch_mean((pred - target).norm(dim=-1).sum(dim=-1))


@dataclass(frozen=True)
class LossWeights:
    """The lambdas of Eq. 7, plus the two extras of the authors' released code.

    Attributes:
        direction: lambda_D, on every direction sub-network's Eq. 3.
        length: lambda_L, Eq. 4 on the attention-weighted lengths.
        joints: lambda_J, Eq. 5 of the per-frame length network.
        joint_shift: lambda_JS, Eq. 2 on every sub-network's shifts.
        final_joints: weight of the MPJPE of the final 3D head (Sec. 4.2), which
            only trains that head.
        first_stage_decay: factor on the losses of every sub-network but the last
            ("sub-network decay" of the released code; 1 in the paper).
    """

    direction: float = 0.015
    length: float = 0.05
    joints: float = 1.0
    joint_shift: float = 0.1
    final_joints: float = 1.0
    first_stage_decay: float = 1.0

    @classmethod
    def preset(cls, name: str) -> LossWeights:
        """``"paper"`` (Sec. 4.2) or ``"released"`` (the authors' code)."""
        presets = {
            "paper": cls(),
            "released": cls(
                direction=0.3, length=100.0, joints=1.0, joint_shift=2.0, first_stage_decay=0.5
            ),
        }
        try:
            return presets[name]
        except KeyError:
            raise KeyError(f"unknown loss preset {name!r}; known: {sorted(presets)}") from None

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def weighted_sum(terms: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    """Eq. 7: ``sum_k weights[k] * terms[k]`` over the terms present in ``terms``.

    Raises:
        KeyError: if a term has no weight.
    """
    if not terms:
        raise ValueError("weighted_sum: no loss terms given")
    missing = sorted(set(terms) - set(weights))
    if missing:
        raise KeyError(f"no weight for loss term(s) {missing}; weights: {sorted(weights)}")
    return sum(weights[k] * v for k, v in terms.items())
