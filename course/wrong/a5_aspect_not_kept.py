# assignment: a5_wild
# cell: a5_normalize
# loses: a5_test_normalize
# y scaled by the height instead of the width: the aspect ratio is lost.
import torch


def my_normalize_screen(pixels: torch.Tensor, width: float, height: float) -> torch.Tensor:
    """(..., 2) pixels -> (..., 2) normalised screen coordinates."""
    x = pixels[..., 0] * (2.0 / width) - 1.0
    y = pixels[..., 1] * (2.0 / height) - 1.0
    return torch.stack([x, y], dim=-1)
