"""Samplers: windows against a slow reference, causality, short videos, reproducibility."""

import pytest
import torch

from anatomy_lib.bones import joints_to_bones
from anatomy_lib.camera import h36m_camera, normalize_screen, project, world_to_camera
from anatomy_lib.data.augment import flip_batch, normalized_intrinsics
from anatomy_lib.data.samplers import SamplerConfig, WindowBatchSampler, WindowDataset
from anatomy_lib.data.sequences import PoseSequence
from anatomy_lib.skeleton import H36M_17


def _sequence(t: int, seed: int, action: str = "a") -> PoseSequence:
    g = torch.Generator().manual_seed(seed)
    cam = h36m_camera("S9", seed % 4)
    world = torch.randn(t, 17, 3, generator=g, dtype=torch.float64) * 0.3 + torch.tensor(
        [0.0, 0.0, 1.0], dtype=torch.float64
    )
    x_cam = world_to_camera(world, cam)
    kp = normalize_screen(project(x_cam, cam), cam.width, cam.height)
    return PoseSequence(
        "S9", action, kp.float(), torch.rand(t, 17, generator=g), x_cam.float(), H36M_17, 50.0, cam
    )


SEQS = [
    _sequence(40, 1, "long"),
    _sequence(3, 2, "short"),
    _sequence(1, 3, "single"),
    _sequence(17, 4, "mid"),
]


def _reference_window(seq: PoseSequence, t: int, config: SamplerConfig):
    before, after = config.pad
    frames = [min(max(k, 0), seq.num_frames - 1) for k in range(t - before, t + after + 1)]
    return seq.keypoints_2d[frames], seq.scores[frames]


@pytest.mark.parametrize(
    "config", [SamplerConfig(9, 5, False), SamplerConfig(8, 5, True), SamplerConfig(1, 3, True)]
)
def test_windows_match_loop_reference_with_edge_padding(config):
    sampler = WindowBatchSampler(SEQS, config)
    g = torch.Generator().manual_seed(0)
    batches = list(sampler.epoch(7, g, shuffle=False))
    assert sum(len(b.frame_index) for b in batches) == sum(s.num_frames for s in SEQS)
    for batch in batches:
        for i in range(len(batch.frame_index)):
            seq = SEQS[int(batch.sequence_index[i])]
            t = int(batch.frame_index[i])
            kp, sc = _reference_window(seq, t, config)
            torch.testing.assert_close(batch.keypoints_2d[i], kp, rtol=0, atol=0)
            torch.testing.assert_close(batch.scores[i], sc, rtol=0, atol=0)
            torch.testing.assert_close(
                batch.target_3d[i], seq.joints_3d_relative[t], rtol=0, atol=0
            )
            lf = batch.length_frame_index[i]
            torch.testing.assert_close(
                batch.length_keypoints_2d[i], seq.keypoints_2d[lf], rtol=0, atol=0
            )
            torch.testing.assert_close(
                batch.length_target_3d[i], seq.joints_3d_relative[lf], rtol=0, atol=0
            )
            expected_len = (
                seq.joints_3d[t, [c for c, _ in H36M_17.bones]]
                - seq.joints_3d[t, [p for _, p in H36M_17.bones]]
            ).norm(dim=-1)
            torch.testing.assert_close(batch.bone_lengths[i], expected_len, rtol=1e-5, atol=1e-6)


def test_batch_matches_reference_for_dtype_and_device(dtype, device):
    config = SamplerConfig(7, 4, False)
    sampler = WindowBatchSampler(SEQS, config, device=device, dtype=dtype)
    b = sampler.sample(48, torch.Generator().manual_seed(3))
    for x in b:
        assert x.device.type == device.type
    for x in (b.keypoints_2d, b.scores, b.target_3d, b.length_keypoints_2d, b.bone_lengths):
        assert x.dtype == dtype
    assert b.sequence_index.dtype == b.frame_index.dtype == torch.long
    exact = {"rtol": 0, "atol": 0}
    ulps = 0 if device.type == "cpu" else 4
    computed = {"rtol": ulps * torch.finfo(dtype).eps, "atol": 0}
    for i in range(48):
        seq = SEQS[int(b.sequence_index[i])]
        t, lf = int(b.frame_index[i]), b.length_frame_index[i].cpu()
        kp, sc = _reference_window(seq, t, config)
        torch.testing.assert_close(b.keypoints_2d[i].cpu(), kp.to(dtype), **exact)
        torch.testing.assert_close(b.scores[i].cpu(), sc.to(dtype), **exact)
        rel = seq.joints_3d_relative.to(dtype)
        torch.testing.assert_close(b.target_3d[i].cpu(), rel[t], **exact)
        torch.testing.assert_close(
            b.length_keypoints_2d[i].cpu(), seq.keypoints_2d[lf].to(dtype), **exact
        )
        torch.testing.assert_close(b.length_scores[i].cpu(), seq.scores[lf].to(dtype), **exact)
        torch.testing.assert_close(b.length_target_3d[i].cpu(), rel[lf], **exact)
        torch.testing.assert_close(
            b.intrinsics[i].cpu(), normalized_intrinsics(seq.camera, dtype=dtype), **exact
        )
        # gathered values are copies (exact); bone lengths are computed on the device,
        # whose square root may differ from the CPU's in the last bit
        torch.testing.assert_close(
            b.bone_lengths[i].cpu(), joints_to_bones(rel[t], H36M_17).lengths, **computed
        )


def test_causal_never_looks_into_the_future():
    config = SamplerConfig(11, 20, causal=True)
    sampler = WindowBatchSampler(SEQS, config)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        b = sampler.sample(64, g)
        assert bool((b.length_frame_index <= b.frame_index.unsqueeze(-1)).all())
        # The last window frame is the target frame itself.
        for i in range(64):
            seq = SEQS[int(b.sequence_index[i])]
            torch.testing.assert_close(
                b.keypoints_2d[i, -1], seq.keypoints_2d[int(b.frame_index[i])]
            )


def test_noncausal_length_frames_cover_whole_video_and_short_videos():
    sampler = WindowBatchSampler(SEQS, SamplerConfig(243, 50, False))
    b = sampler.sample(256, torch.Generator().manual_seed(2))
    assert b.keypoints_2d.shape == (256, 243, 17, 2)
    assert b.length_keypoints_2d.shape == (256, 50, 17, 2)
    lengths = sampler.packed.lengths[b.sequence_index]
    assert bool((b.length_frame_index < lengths.unsqueeze(-1)).all())
    long = b.sequence_index == 0
    # some length frames of the long video lie after the target frame (whole video)
    assert bool((b.length_frame_index[long] > b.frame_index[long].unsqueeze(-1)).any())
    single = b.sequence_index == 2
    assert bool((b.length_frame_index[single] == 0).all())


def test_seeded_reproducibility():
    sampler = WindowBatchSampler(SEQS, SamplerConfig(9, 5))
    a = sampler.sample(32, torch.Generator().manual_seed(5))
    b = sampler.sample(32, torch.Generator().manual_seed(5))
    c = sampler.sample(32, torch.Generator().manual_seed(6))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.frame_index, c.frame_index) or not torch.equal(
        a.length_frame_index, c.length_frame_index
    )
    ds = WindowDataset(sampler, seed=3)
    assert torch.equal(ds[10].length_frame_index, ds[10].length_frame_index)


def test_flip_twice_is_identity_and_projection_consistent():
    sampler = WindowBatchSampler(SEQS, SamplerConfig(9, 5))
    b = sampler.sample(16, torch.Generator().manual_seed(7))
    twice = flip_batch(flip_batch(b, H36M_17), H36M_17)
    for x, y in zip(b, twice, strict=True):
        assert torch.equal(x, y)


def test_bad_config_and_index_errors():
    with pytest.raises(ValueError, match="odd receptive_field"):
        SamplerConfig(8, 5, causal=False)
    sampler = WindowBatchSampler(SEQS, SamplerConfig(3, 2))
    with pytest.raises(IndexError, match="outside its sequence"):
        sampler.gather(torch.tensor([1]), torch.tensor([3]), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="no sequences"):
        WindowBatchSampler([], SamplerConfig(3, 2))
