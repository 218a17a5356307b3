# assignment: a2_networks
# cell: a2_unit_directions
# loses: a2_test_unit_directions
# No clamp of the norm: a zero vector becomes NaN (only the hidden tests have one).
import torch


def my_unit_directions(raw: torch.Tensor, num_bones: int) -> torch.Tensor:
    """(..., 3B) raw head output -> (..., B, 3) unit vectors."""
    vectors = raw.reshape(*raw.shape[:-1], num_bones, 3)
    return vectors / vectors.norm(dim=-1, keepdim=True)
