"""Vectorised training batches: a 2D window per target frame + ``l`` frames from the whole video.

All sequences are packed once into two big tensors with per-sequence offsets: the window
inputs (2D and score per joint, edge-padded per sequence) and the per-frame records (2D,
score and 3D per joint, unpadded). A batch is then two row gathers (``index_select`` with
flat row indices), with no Python loop over samples; 2D, scores and 3D are views into the
gathered rows. For each target frame ``t`` of a video of ``T`` frames:

* **window**: ``receptive_field`` consecutive frames of 2D + scores. Non-causal: centred
  on ``t`` (odd ``receptive_field``); causal: ending at ``t`` (past only). Frames beyond
  the video repeat its first/last frame (edge padding), so any ``T >= 1`` works.
* **length frames**: ``l`` frames drawn uniformly *with replacement* from the whole video
  (causal: from frames ``0..t``), with their 2D, scores and 3D, for the bone-length
  network. With replacement, a video shorter than ``l`` works too (frames repeat).
* **targets**: root-relative camera-space 3D of ``t`` and its bone lengths; with
  ``target_frame="ray"`` every frame's 3D (target and length frames) is turned into the
  ray frame of its own root (:mod:`anatomy_lib.ray_frame`).

Randomness comes only from a caller's seeded ``torch.Generator``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..bones import joints_to_bones
from ..length_frames import uniform_length_frames
from ..ray_frame import to_ray_frame
from ..skeleton import Skeleton
from .augment import normalized_intrinsics
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "SamplerConfig",
    "AnatomyBatch",
    "PackedSequences",
    "WindowBatchSampler",
    "WindowDataset",
]


@dataclass(frozen=True)
class SamplerConfig:
    """Window and frame-sampling sizes.

    Attributes:
        receptive_field: frames per 2D window (odd unless causal).
        num_length_frames: ``l``, frames sampled for the bone-length network (paper: 50).
        causal: past-only windows and length frames.
        target_frame: ``"camera"`` (root-relative camera-space 3D) or ``"ray"`` (the same
            in the ray frame of each frame's root, :func:`~anatomy_lib.ray_frame.to_ray_frame`).
    """

    receptive_field: int = 243
    num_length_frames: int = 50
    causal: bool = False
    target_frame: str = "camera"

    def __post_init__(self) -> None:
        if self.receptive_field < 1 or self.num_length_frames < 1:
            raise ValueError(f"receptive_field and num_length_frames must be >= 1, got {self}")
        if not self.causal and self.receptive_field % 2 == 0:
            raise ValueError(
                "a centred (non-causal) window needs an odd receptive_field, "
                f"got {self.receptive_field}"
            )
        if self.target_frame not in ("camera", "ray"):
            raise ValueError(f"target_frame: expected 'camera' or 'ray', got {self.target_frame!r}")

    @property
    def pad(self) -> tuple[int, int]:
        """Frames of edge padding ``(before, after)`` each sequence."""
        if self.causal:
            return self.receptive_field - 1, 0
        half = (self.receptive_field - 1) // 2
        return half, half

    @classmethod
    def paper_243(cls) -> SamplerConfig:
        """243-frame centred windows, l = 50."""
        return cls(243, 50, False)

    @classmethod
    def paper_81(cls) -> SamplerConfig:
        """81-frame centred windows, l = 50."""
        return cls(81, 50, False)

    @classmethod
    def causal_243(cls) -> SamplerConfig:
        """243-frame past-only windows, l = 50 past frames."""
        return cls(243, 50, True)


class AnatomyBatch(NamedTuple):
    """One training batch (``B`` samples, ``F`` window frames, ``L = l`` length frames)."""

    keypoints_2d: torch.Tensor  # (B, F, J, 2) normalised screen coordinates
    scores: torch.Tensor  # (B, F, J) visibility scores
    # (B, J, 3) root-relative camera-space joints of the target frame, metres
    target_3d: torch.Tensor
    length_keypoints_2d: torch.Tensor  # (B, L, J, 2)
    length_scores: torch.Tensor  # (B, L, J)
    length_target_3d: torch.Tensor  # (B, L, J, 3) root-relative, metres
    bone_lengths: torch.Tensor  # (B, num_bones) of the target frame, metres
    intrinsics: torch.Tensor  # (B, 9) normalised intrinsics of the camera
    sequence_index: torch.Tensor  # (B,) long
    frame_index: torch.Tensor  # (B,) long, target frame within its sequence
    length_frame_index: torch.Tensor  # (B, L) long, within the sequence


class PackedSequences(NamedTuple):
    """Sequences packed into flat tensors (``N`` frames in all, ``S`` sequences)."""

    # (N + S * (pad_before + pad_after), J, 3): x, y (normalised screen), score; edge-padded
    window_inputs: torch.Tensor
    # (N, J, 6): x, y, score, then root-relative 3D x, y, z (metres; camera space or the ray
    # frame, SamplerConfig.target_frame); unpadded
    frames: torch.Tensor
    offsets: torch.Tensor  # (S,) first row of each sequence in the unpadded tensors
    padded_offsets: torch.Tensor  # (S,) first (padding) row in the padded tensors
    lengths: torch.Tensor  # (S,) frames per sequence
    intrinsics: torch.Tensor  # (S, 9) normalised intrinsics (NaN when the camera is unknown)


def _pack(
    sequences: Sequence[PoseSequence], config: SamplerConfig, device, dtype
) -> PackedSequences:
    before, after = config.pad
    windows, frames, intr = [], [], []
    for s in sequences:
        if s.joints_3d is None:
            raise ValueError(f"{s}: training batches need 3D joints")
        inputs = torch.cat([s.keypoints_2d.to(dtype), s.scores.to(dtype).unsqueeze(-1)], -1)
        first, last = inputs[:1].expand(before, -1, -1), inputs[-1:].expand(after, -1, -1)
        windows.append(torch.cat([first, inputs, last]))
        target = s.joints_3d_relative
        if config.target_frame == "ray":
            target = to_ray_frame(target, s.joints_3d[:, s.skeleton.root])
        frames.append(torch.cat([inputs, target.to(dtype)], -1))
        intr.append(
            normalized_intrinsics(s.camera, dtype=dtype)
            if s.camera is not None
            else torch.full((9,), float("nan"), dtype=dtype)
        )
    lengths = torch.tensor([s.num_frames for s in sequences])
    offsets = torch.cumsum(lengths, 0) - lengths
    padded = lengths + before + after
    out = PackedSequences(
        window_inputs=torch.cat(windows),
        frames=torch.cat(frames),
        offsets=offsets,
        padded_offsets=torch.cumsum(padded, 0) - padded,
        lengths=lengths,
        intrinsics=torch.stack(intr),
    )
    return PackedSequences(*(t.to(device) for t in out))


class WindowBatchSampler:
    """Builds :class:`AnatomyBatch` es from a set of sequences by tensor indexing.

    Args:
        sequences: a :class:`PoseDataset` or sequences sharing one skeleton (each needs 3D).
        config: window and sampling sizes.
        skeleton: required when ``sequences`` is a plain list.
        device, dtype: where and how the packed tensors live.
    """

    def __init__(
        self,
        sequences: PoseDataset | Sequence[PoseSequence],
        config: SamplerConfig = SamplerConfig(),
        skeleton: Skeleton | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        seqs = tuple(sequences)
        if not seqs:
            raise ValueError("WindowBatchSampler: got no sequences")
        self.skeleton = skeleton or seqs[0].skeleton
        for s in seqs:
            if s.skeleton != self.skeleton:
                raise ValueError(
                    f"{s}: skeleton {s.skeleton.name!r} differs from {self.skeleton.name!r}"
                )
        self.sequences = seqs
        self.config = config
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.packed = _pack(seqs, config, self.device, dtype)
        self._arange_window = torch.arange(config.receptive_field, device=self.device)
        self._bone_lengths = joints_to_bones(self.packed.frames[..., 3:], self.skeleton).lengths

    def __len__(self) -> int:
        """Number of target frames (all frames of all sequences)."""
        return int(self.packed.lengths.sum())

    def locate(self, flat_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sequence_index, frame_index)`` of flat frame indices in ``[0, len(self))``."""
        flat_index = flat_index.to(self.device)
        seq = torch.searchsorted(self.packed.offsets, flat_index, right=True) - 1
        return seq, flat_index - self.packed.offsets[seq]

    def sample_length_frames(
        self, sequence_index: torch.Tensor, frame_index: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """``(B, l)`` frames per sample, uniform with replacement (causal: from ``0..t``)."""
        n = self.packed.lengths[sequence_index] if not self.config.causal else frame_index + 1
        return uniform_length_frames(n, self.config.num_length_frames, generator)

    def gather(
        self,
        sequence_index: torch.Tensor,
        frame_index: torch.Tensor,
        length_frame_index: torch.Tensor,
    ) -> AnatomyBatch:
        """The batch for given samples.

        All indices are long tensors: ``sequence_index (B,)``, ``frame_index (B,)``,
        ``length_frame_index (B, l)``. 2D, scores and 3D of the batch are (non-contiguous)
        views into one gathered tensor each for the windows and for the frames.
        """
        p = self.packed
        seq, t, lf = (x.to(self.device) for x in (sequence_index, frame_index, length_frame_index))
        if bool(((t < 0) | (t >= p.lengths[seq])).any()) or bool(
            ((lf < 0) | (lf >= p.lengths[seq].unsqueeze(-1))).any()
        ):
            raise IndexError("gather: a frame index is outside its sequence")
        batch, num_length = lf.shape
        window_rows = p.padded_offsets[seq].unsqueeze(-1) + t.unsqueeze(-1) + self._arange_window
        windows = p.window_inputs.index_select(0, window_rows.reshape(-1))
        windows = windows.view(batch, self.config.receptive_field, *p.window_inputs.shape[1:])
        flat_t = p.offsets[seq] + t
        # One gather for the target frames and the length frames: rows [t, l_1, ..., l_L].
        frame_rows = torch.cat([flat_t.unsqueeze(-1), p.offsets[seq].unsqueeze(-1) + lf], -1)
        frames = p.frames.index_select(0, frame_rows.reshape(-1))
        frames = frames.view(batch, num_length + 1, *p.frames.shape[1:])
        return AnatomyBatch(
            keypoints_2d=windows[..., :2],
            scores=windows[..., 2],
            target_3d=frames[:, 0, :, 3:],
            length_keypoints_2d=frames[:, 1:, :, :2],
            length_scores=frames[:, 1:, :, 2],
            length_target_3d=frames[:, 1:, :, 3:],
            bone_lengths=self._bone_lengths.index_select(0, flat_t),
            intrinsics=p.intrinsics[seq],
            sequence_index=seq,
            frame_index=t,
            length_frame_index=lf,
        )

    def sample(self, batch_size: int, generator: torch.Generator) -> AnatomyBatch:
        """A batch of target frames drawn uniformly over all frames (with replacement)."""
        flat = torch.randint(len(self), (batch_size,), generator=generator)
        seq, t = self.locate(flat)
        return self.gather(seq, t, self.sample_length_frames(seq, t, generator))

    def epoch(
        self, batch_size: int, generator: torch.Generator, shuffle: bool = True
    ) -> Iterator[AnatomyBatch]:
        """Every frame once as a target, in batches (the last one may be smaller)."""
        order = (
            torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        )
        for chunk in order.split(batch_size):
            seq, t = self.locate(chunk)
            yield self.gather(seq, t, self.sample_length_frames(seq, t, generator))


class WindowDataset(torch.utils.data.Dataset):
    """Map-style view for ``torch.utils.data.DataLoader``: item ``i`` = target frame ``i``.

    Length frames are drawn with a generator seeded by ``seed + i`` (reproducible per item).
    Items are :class:`AnatomyBatch` with a leading batch dimension of 1; prefer
    :meth:`WindowBatchSampler.epoch`, which is much faster.
    """

    def __init__(self, sampler: WindowBatchSampler, seed: int = 0) -> None:
        self.sampler = sampler
        self.seed = seed

    def __len__(self) -> int:
        return len(self.sampler)

    def __getitem__(self, index: int) -> AnatomyBatch:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} frames")
        seq, t = self.sampler.locate(torch.tensor([index]))
        gen = torch.Generator().manual_seed(self.seed + index)
        return self.sampler.gather(seq, t, self.sampler.sample_length_frames(seq, t, gen))
