"""``benchmarks/definition_probes.py``: the probes change only what they name."""

from __future__ import annotations

import pytest
import torch
from conftest import load_benchmark

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.skeleton import H36M_17


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("definition_probes")


def _world(dataset) -> torch.Tensor:
    return torch.stack([s.joints_world for s in dataset])


def test_a_probe_body_gives_every_video_that_subjects_bone_lengths(bench):
    probe = bench.Probe(body="CMU01", cameras="human36m_like")
    lengths = joints_to_bones(_world(bench.probe_videos(probe, videos=3)), H36M_17).lengths
    want = bench.subject_bone_lengths("CMU01")
    torch.testing.assert_close(lengths, want.expand_as(lengths), rtol=1e-4, atol=1e-5)
    # Human3.6M-like cameras: 1000 x 1002 images.
    assert {s.image_size for s in bench.probe_videos(probe, videos=3)} == {(1000, 1002)}
    with pytest.raises(ValueError, match="no embedded subject 'Nobody'"):
        bench.subject_bone_lengths("Nobody")


def test_a_thorax_probe_moves_only_the_trunk_joints_of_the_same_videos(bench):
    plain = _world(bench.probe_videos(bench.Probe(), videos=3))
    lowered = _world(bench.probe_videos(bench.Probe(thorax_drop=0.2), videos=3))
    trunk = [H36M_17.joint_index("spine"), H36M_17.joint_index("thorax")]
    others = [j for j in range(17) if j not in trunk]
    assert torch.equal(plain[..., others, :], lowered[..., others, :])
    pelvis, thorax = H36M_17.root, H36M_17.joint_index("thorax")
    ratio = (lowered[..., thorax, :] - lowered[..., pelvis, :]).norm(dim=-1) / (
        plain[..., thorax, :] - plain[..., pelvis, :]
    ).norm(dim=-1)
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.8))
