# assignment: a1_bones
# cell: a1_bones_to_joints
# loses: a1_test_bones_to_joints
# Right for the 17 joints of Human3.6M only: the bone of joint k is assumed to be k - 1 and
# parents to come before children. The visible tests (Human3.6M) pass; hidden ones do not.
import torch

from anatomy_lib.skeleton import Skeleton


def my_bones_to_joints(
    lengths: torch.Tensor, directions: torch.Tensor, skeleton: Skeleton
) -> torch.Tensor:
    """lengths (..., B), directions (..., B, 3) -> joints (..., J, 3), root at the origin."""
    vectors = directions * lengths.unsqueeze(-1)
    joints = [torch.zeros_like(vectors[..., 0, :])]
    for k in range(1, skeleton.num_joints):
        joints.append(joints[skeleton.parents[k]] + vectors[..., k - 1, :])
    return torch.stack(joints, dim=-2)
