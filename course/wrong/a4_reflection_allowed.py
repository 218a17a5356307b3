# assignment: a4_training
# cell: a4_p_mpjpe
# loses: a4_test_p_mpjpe
# Procrustes without the determinant check: a mirrored prediction gets "fixed" by a
# reflection. Real predictions are never mirrored, so the visible test passes.
import torch


def my_p_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(..., J, 3) predicted and true joints (metres) -> scalar error after alignment."""
    mean_pred, mean_target = pred.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    p, t = pred - mean_pred, target - mean_target
    u, sigma, vh = torch.linalg.svd(p.transpose(-1, -2) @ t)
    scale = sigma.sum(-1) / p.square().sum((-1, -2))
    aligned = scale[..., None, None] * (p @ (u @ vh)) + mean_target
    return (aligned - target).norm(dim=-1).mean()
