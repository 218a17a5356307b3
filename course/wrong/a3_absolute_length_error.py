# assignment: a3_losses
# cell: a3_direction_length
# loses: a3_test_direction_length
# Eq. 4 with absolute instead of squared errors.
import torch


def my_direction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 3: (..., B, 3) predicted and true unit directions -> scalar."""
    return ((pred - target) ** 2).sum(dim=(-1, -2)).mean()


def my_length_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 4: (..., B) predicted and true bone lengths (metres) -> scalar."""
    return (pred - target).abs().sum(dim=-1).mean()
