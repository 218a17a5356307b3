"""Tests of the two rules choosing the bone length network's frames."""

from __future__ import annotations

import pytest
import torch

from anatomy_lib.length_frames import consecutive_length_frames, uniform_length_frames


def test_uniform_frames_stay_inside_what_each_target_may_see(device):
    available = torch.tensor([1, 3, 50, 7], device=device)
    idx = uniform_length_frames(available, 200, torch.Generator().manual_seed(0))
    assert idx.shape == (4, 200) and idx.device == available.device
    assert (idx >= 0).all() and (idx < available.unsqueeze(-1)).all()
    assert (idx[0] == 0).all()  # a one-frame video: with replacement, always frame 0
    # Uniform: every frame of the 3-frame video is drawn, roughly equally often.
    counts = torch.bincount(idx[1].cpu(), minlength=3)
    assert counts.min() > 40


def test_uniform_frames_are_seeded_and_device_independent():
    available = torch.tensor([10, 20])
    a = uniform_length_frames(available, 8, torch.Generator().manual_seed(5))
    b = uniform_length_frames(available, 8, torch.Generator().manual_seed(5))
    c = uniform_length_frames(available, 8, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_uniform_frames_bad_input():
    with pytest.raises(ValueError, match="count"):
        uniform_length_frames(torch.tensor([3]), 0)
    with pytest.raises(ValueError, match="at least one frame"):
        uniform_length_frames(torch.tensor([3, 0]), 4)


def test_consecutive_length_frames():
    idx = consecutive_length_frames(
        torch.tensor([0, 5, 9]), torch.tensor([10, 10, 10]), 4, causal=False
    )
    assert idx.tolist() == [[0, 0, 0, 1], [3, 4, 5, 6], [7, 8, 9, 9]]
    idx = consecutive_length_frames(torch.tensor([1, 9]), 10, 3, causal=True)
    assert idx.tolist() == [[0, 0, 1], [7, 8, 9]]
