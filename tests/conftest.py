"""Shared fixtures: devices and dtypes to parametrise over, and realistic poses."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from anatomy_lib.skeleton import H36M_17, Skeleton

DEVICES = ["cpu"]
if torch.cuda.is_available():
    DEVICES.append("cuda")
if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
    DEVICES.append("mps")

DTYPES = [torch.float32, torch.float64]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(params=DTYPES, ids=["float32", "float64"])
def dtype(request) -> torch.dtype:
    return request.param


def tolerance(dtype: torch.dtype) -> float:
    """Absolute tolerance in metres for round trips of poses of size ~1 m."""
    return 1e-6 if dtype == torch.float32 else 1e-12


# A standing Human3.6M-like pose in metres (y up), used as a "real-looking" pose.
STANDING_POSE = [
    [0.00, 0.95, 0.00],  # pelvis
    [-0.13, 0.95, 0.00],  # right hip
    [-0.14, 0.52, 0.02],  # right knee
    [-0.15, 0.08, -0.01],  # right ankle
    [0.13, 0.95, 0.00],  # left hip
    [0.14, 0.52, 0.02],  # left knee
    [0.15, 0.08, -0.01],  # left ankle
    [0.00, 1.18, -0.01],  # spine
    [0.00, 1.43, 0.00],  # thorax
    [0.00, 1.55, 0.06],  # neck/nose
    [0.00, 1.67, 0.01],  # head
    [0.16, 1.41, 0.00],  # left shoulder
    [0.20, 1.13, 0.02],  # left elbow
    [0.22, 0.88, 0.06],  # left wrist
    [-0.16, 1.41, 0.00],  # right shoulder
    [-0.20, 1.13, 0.02],  # right elbow
    [-0.22, 0.88, 0.06],  # right wrist
]


def standing_pose(dtype=torch.float64, device="cpu") -> torch.Tensor:
    return torch.tensor(STANDING_POSE, dtype=dtype, device=device)


def random_poses(
    skeleton: Skeleton = H36M_17, batch: tuple[int, ...] = (4,), seed: int = 0, dtype=torch.float64
) -> torch.Tensor:
    """Random poses with bone lengths 0.1-0.5 m and random directions (metres)."""
    g = torch.Generator().manual_seed(seed)
    lengths = 0.1 + 0.4 * torch.rand(*batch, skeleton.num_bones, generator=g, dtype=dtype)
    dirs = torch.randn(*batch, skeleton.num_bones, 3, generator=g, dtype=dtype)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    root = torch.randn(*batch, 3, generator=g, dtype=dtype)
    from anatomy_lib.bones import bones_to_joints

    return bones_to_joints(lengths, dirs, skeleton, root=root)


# A small non-human tree: 0 root, 1-2 a chain, 3 and 4 branches of 1, 5 a branch of 0.
TINY_TREE = Skeleton(
    name="tiny",
    joint_names=("root", "a", "b", "c", "d", "e"),
    parents=(-1, 0, 1, 1, 0, 4),
    joints_left=(2,),
    joints_right=(3,),
)


def load_benchmark(name: str, folder: str = "benchmarks") -> ModuleType:
    """``<folder>/<name>.py`` imported as a module (the benchmarks and scripts are
    scripts, not packages)."""
    path = Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    module_name = f"_{folder}_{name}"  # registered, as dataclasses look their module up
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
