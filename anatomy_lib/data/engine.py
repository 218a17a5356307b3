"""The training-data engine: real motion, seen by new bodies, cameras and detectors.

The shipped motion capture is small (a few bodies, a few thousand frames). A lifter that
only ever sees those bodies through four Human3.6M cameras with one noise model learns
those cameras and bodies, not 3D pose. The engine makes a new synthetic video for every
draw, on the fly and seeded:

1. **motion**: a segment of a real clip from the training sources
   (:func:`motion_clips`), time-warped (played ``0.75-1.35x`` as fast), mirrored half of
   the time, and extended by playing it back and forth when the clip is short;
2. **body**: new bone lengths (:mod:`anatomy_lib.data.bodies`: measured adults of the
   ANSUR II survey when available, else the clip's own body rescaled), optionally with
   their own definition of the spine, neck/nose and head joints, set with the
   directions kept (:func:`~anatomy_lib.bones.retarget_bone_lengths`);
3. **new poses**: optionally, limbs recombined across videos
   (:mod:`anatomy_lib.data.pose_recombination`), rejected when they break joint limits;
   then, optionally, the thorax moved down the trunk (:func:`~anatomy_lib.data.bodies.vary_thorax`);
4. **camera**: a random virtual camera that frames the person
   (:mod:`anatomy_lib.data.virtual_cameras`);
5. **detector**: 2D detections with the errors of an OpenPose-like or MediaPipe-like
   detector (:mod:`anatomy_lib.data.detector_errors`).

The result is a :class:`~anatomy_lib.data.sequences.PoseDataset` that every sampler,
trainer and evaluation of the library reads like any other dataset.

Hygiene: :data:`VALIDATION_CLIPS` and the validation bodies never enter ``split="train"``;
``split="validation"`` draws only from them, so models and hyper-parameters are chosen on
held-out clips, bodies and cameras. The embedded test split (CMU01, ClimberB) and the
Pose2Sim trial are never used by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from ..bones import joints_to_bones, mirror_joints, retarget_bone_lengths
from ..camera import Camera
from ..frame_rate import TRAINING_FPS
from ..skeleton import H36M_17, Skeleton
from ._random import uniform
from .amp_motion import load_amp_motion
from .bodies import MarkerJointRanges, sample_bone_lengths, vary_marker_joints, vary_thorax
from .detector_errors import DetectorErrorConfig, simulate_detector
from .pose_recombination import (
    RecombinationConfig,
    all_valid,
    limbs_clear_of_body,
    recombine_limbs,
)
from .rotations import matrix_to_quaternion
from .sequences import PoseDataset, PoseSequence
from .simulate import body_volume
from .virtual_cameras import VirtualCameraConfig, VirtualCameras, sample_virtual_cameras

__all__ = [
    "VALIDATION_CLIPS",
    "EngineConfig",
    "SyntheticVideos",
    "TrainingDataEngine",
    "motion_clips",
]

#: Training-source clips held out for validation: ``(subject, action)``.
VALIDATION_CLIPS: tuple[tuple[str, str], ...] = (
    ("ClimberA", "Climb 3"),
    ("DeepMimic", "Dance B"),
    ("DeepMimic", "Spinkick"),
    ("DeepMimic", "Getup Facedown"),
)

#: Subjects of the embedded dataset's test split; never used by the engine.
_TEST_SUBJECTS = ("CMU01", "ClimberB")


def motion_clips(split: str = "train") -> dict[str, torch.Tensor]:
    """Real motion of the training sources, ``{name: (T, 17, 3)}`` world joints.

    Z up, metres, 50 fps. ``split="train"``: the embedded dataset's training subjects
    (ClimberA, DeepMimic) and the AMP clips when shipped, minus :data:`VALIDATION_CLIPS`;
    ``"validation"``: only those.
    """
    if split not in ("train", "validation"):
        raise ValueError(f"split: expected 'train' or 'validation', got {split!r}")
    from .embedded import load_default_dataset

    data = load_default_dataset()
    clips: dict[str, torch.Tensor] = {}
    for seq in data.split("train"):
        key = (seq.subject, seq.action)
        name = f"{seq.subject}/{seq.action}"
        if seq.subject in _TEST_SUBJECTS or name in clips:
            continue
        if (key in VALIDATION_CLIPS) == (split == "validation"):
            clips[name] = seq.joints_world
    for name, joints in _extra_clips():
        held_out = ("AMP", name) in VALIDATION_CLIPS
        if held_out == (split == "validation"):
            clips[f"AMP/{name}"] = joints
    return clips


def _extra_clips() -> list[tuple[str, torch.Tensor]]:
    """The shipped AMP clips (:mod:`anatomy_lib.data.amp_motion`)."""
    return [(name, torch.as_tensor(j, dtype=torch.float32)) for name, j in load_amp_motion()]


@dataclass(frozen=True)
class EngineConfig:
    """How the engine varies motion, bodies, cameras and detectors.

    Attributes:
        frames: frames per synthetic video (50 fps).
        time_warp: playback speed range (uniform).
        mirror_probability: chance to mirror a video left/right.
        bodies: ``"ansur"`` (measured adults, :mod:`anatomy_lib.data.bodies`) or
            ``"rescaled"`` (the clip's own body, scaled by ``body_scale`` and jittered by
            ``bone_jitter`` per bone).
        body_scale: range of the uniform scale of the ``"rescaled"`` bodies.
        bone_jitter: relative std of an extra per-bone change of length.
        recombination_probability: fraction of videos whose limbs are recombined
            (:mod:`anatomy_lib.data.pose_recombination`; 0 disables).
        recombination: how they are recombined (crossover, mutation, retries).
        marker_joints: when set, every body also gets its own definition of the spine,
            neck/nose and head joints (:func:`~anatomy_lib.data.bodies.vary_marker_joints`)
            and, when its ``thorax_drop`` range is not ``(0, 0)``, of the thorax
            (:func:`~anatomy_lib.data.bodies.vary_thorax`); ``None`` keeps the body's (default).
        cameras: the virtual cameras.
        detectors: detector families; each video draws one uniformly.
        chunk: videos simulated at once (bounds memory).
    """

    frames: int = 128
    time_warp: tuple[float, float] = (0.75, 1.35)
    mirror_probability: float = 0.5
    bodies: str = "ansur"
    body_scale: tuple[float, float] = (0.85, 1.15)
    bone_jitter: float = 0.03
    recombination_probability: float = 0.5
    recombination: RecombinationConfig = field(default_factory=RecombinationConfig)
    marker_joints: MarkerJointRanges | None = None
    cameras: VirtualCameraConfig = field(default_factory=VirtualCameraConfig)
    detectors: tuple[DetectorErrorConfig, ...] = (
        DetectorErrorConfig.openpose_like(),
        DetectorErrorConfig.mediapipe_like(),
    )
    chunk: int = 64

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ValueError(f"EngineConfig.frames: expected >= 2, got {self.frames}")
        lo, hi = self.time_warp
        if not 0 < lo <= hi:
            raise ValueError(f"EngineConfig.time_warp: expected 0 < lo <= hi, got {(lo, hi)}")
        if self.bodies not in ("ansur", "rescaled"):
            raise ValueError(
                f"EngineConfig.bodies: expected 'ansur' or 'rescaled', got {self.bodies!r}"
            )
        if not self.detectors:
            raise ValueError("EngineConfig.detectors: expected at least one detector family")


class SyntheticVideos(NamedTuple):
    """``N`` synthetic videos of ``T`` frames (``J`` joints), before packing as sequences."""

    joints_world: torch.Tensor  # (N, T, J, 3) metres, Z up
    joints_cam: torch.Tensor  # (N, T, J, 3) camera space, metres
    pixels: torch.Tensor  # (N, T, J, 2) simulated detections
    scores: torch.Tensor  # (N, T, J)
    visibility: torch.Tensor  # (N, T, J) geometric visibility
    cameras: VirtualCameras
    clip: tuple[str, ...]  # source clip of each video
    detector: tuple[str, ...]  # detector family of each video
    swapped: torch.Tensor  # (N, T) bool, frames whose left and right limbs the detector swapped


def _pack_clips(clips: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    names = sorted(clips)
    lengths = torch.tensor([clips[n].shape[0] for n in names])
    offsets = torch.cumsum(lengths, 0) - lengths
    return torch.cat([clips[n] for n in names]).to(torch.float32), offsets, lengths


def _reflect(position: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Positions on a clip of ``length`` frames played forwards then backwards, repeatedly."""
    last = (length - 1).clamp_min(1).to(position.dtype)
    p = torch.remainder(position, 2 * last)
    return torch.where(p > last, 2 * last - p, p)


def _cameras_of(cameras: VirtualCameras, names: list[str]) -> list[Camera]:
    """Each video's virtual camera as a :class:`~anatomy_lib.camera.Camera` (intrinsics and
    pose: ``world_to_camera(joints_world, camera)`` gives the video's ``joints_3d``)."""
    quaternions = matrix_to_quaternion(cameras.rotation.double().numpy()).tolist()
    intrinsics, centres = cameras.intrinsics.tolist(), cameras.centre.tolist()
    sizes = zip(cameras.width.tolist(), cameras.height.tolist(), strict=True)
    return [
        Camera(name, w, h, (fx, fy), (cx, cy), (k1, k2, k3), (p1, p2), tuple(q), tuple(c))
        for name, (w, h), (fx, fy, cx, cy, k1, k2, k3, p1, p2), q, c in zip(
            names, sizes, intrinsics, quaternions, centres, strict=True
        )
    ]


class TrainingDataEngine:
    """Synthetic videos from real motion (see the module docstring).

    Args:
        config: :class:`EngineConfig`.
        skeleton: the joint tree of the clips (Human3.6M-17).
        clips: ``{split: {name: (T, J, 3)}}`` world clips; default :func:`motion_clips`.
        pose_filter: optional ``joints (..., J, 3) -> bool (...)`` that a recombined pose
            must pass besides keeping its limbs out of the body (e.g.
            :func:`~anatomy_lib.data.joint_limits.within_limits`).
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        skeleton: Skeleton = H36M_17,
        clips: dict[str, dict[str, torch.Tensor]] | None = None,
        pose_filter: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.skeleton = skeleton
        if clips is None:
            clips = {s: motion_clips(s) for s in ("train", "validation")}
        self.clips = clips
        self._packed = {s: _pack_clips(c) for s, c in clips.items() if c}
        self._names = {s: sorted(c) for s, c in clips.items()}
        self.volume = body_volume(skeleton)
        self.pose_filter = pose_filter

    # ------------------------------------------------------------ stages
    def sample_motion(
        self, n: int, generator: torch.Generator, split: str = "train"
    ) -> tuple[torch.Tensor, list[str]]:
        """``(N, T, J, 3)`` time-warped, possibly mirrored motion segments and their clips.

        Clips are drawn with probability proportional to the square root of their length
        (long climbing clips do not crowd out the short DeepMimic ones).
        """
        if split not in self._packed:
            raise ValueError(f"split: expected one of {sorted(self._packed)}, got {split!r}")
        flat, offsets, lengths = self._packed[split]
        cfg, g = self.config, generator
        clip = torch.multinomial(lengths.double().sqrt(), n, replacement=True, generator=g)
        speed = uniform(cfg.time_warp, n, g)
        start = torch.rand(n, generator=g, dtype=torch.float64) * lengths[clip].double()
        position = start[:, None] + speed[:, None] * torch.arange(cfg.frames, dtype=torch.float64)
        position = _reflect(position, lengths[clip][:, None])
        low = position.floor().long()
        high = torch.minimum(low + 1, lengths[clip][:, None] - 1)
        w = (position - low).to(flat.dtype)[..., None, None]
        base = offsets[clip][:, None]
        motion = flat[base + low] * (1 - w) + flat[base + high] * w
        mirror = torch.rand(n, generator=g) < cfg.mirror_probability
        motion = torch.where(
            mirror[:, None, None, None], mirror_joints(motion, self.skeleton), motion
        )
        names = [self._names[split][int(i)] for i in clip]
        return motion, names

    def sample_bodies(
        self, motion: torch.Tensor, generator: torch.Generator, split: str = "train"
    ) -> torch.Tensor:
        """``(N, B)`` new bone lengths for ``N`` videos ``(N, T, J, 3)``, metres."""
        cfg, g = self.config, generator
        n = motion.shape[0]
        if cfg.bodies == "ansur":
            lengths = sample_bone_lengths(n, g, split=split, skeleton=self.skeleton)
        else:
            own = joints_to_bones(motion, self.skeleton).lengths.median(dim=1).values
            lo, hi = cfg.body_scale
            lengths = own * (lo + (hi - lo) * torch.rand(n, 1, generator=g))
        if cfg.marker_joints is not None:
            lengths = vary_marker_joints(lengths, g, cfg.marker_joints, self.skeleton)
        jitter = 1 + cfg.bone_jitter * torch.randn(lengths.shape, generator=g)
        return (lengths * jitter.clamp(0.8, 1.2)).to(motion.dtype)

    def retarget(self, motion: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Set each video's bone lengths (directions kept) and scale its root path and
        height above the floor by the change in leg length, so feet stay near the floor."""
        sk = self.skeleton
        old = joints_to_bones(motion, sk).lengths.median(dim=1).values  # (N, B)
        legs = [b for b, child in enumerate(sk.bone_children) if "knee" in sk.joint_names[child]]
        legs += [b for b, child in enumerate(sk.bone_children) if "ankle" in sk.joint_names[child]]
        ratio = (lengths[:, legs].sum(-1) / old[:, legs].sum(-1).clamp_min(1e-3))[
            :, None, None, None
        ]
        root = motion[:, :, sk.root : sk.root + 1]
        new_root = root * ratio
        body = retarget_bone_lengths(motion - root, lengths[:, None], sk)
        return body + new_root

    def recombine(self, motion: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Recombine limbs across videos for a fraction of them (identity when disabled)."""
        p = self.config.recombination_probability
        if p <= 0:
            return motion
        chosen = torch.rand(motion.shape[0], generator=generator) < p
        if int(chosen.sum()) < 2:
            return motion
        valid = limbs_clear_of_body
        if self.pose_filter is not None:
            valid = all_valid(limbs_clear_of_body, self.pose_filter)
        result = recombine_limbs(
            motion[chosen],
            self.config.recombination,
            generator,
            is_valid=valid,
            skeleton=self.skeleton,
        )
        out = motion.clone()
        out[chosen] = result.joints
        return out

    def draw_thorax(self, joints: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``(N, T, J, 3)`` with each video's thorax lowered by its own drawn drop when
        ``config.marker_joints`` has a thorax range (:func:`vary_thorax`, which draws
        nothing otherwise); ``joints`` itself without ``marker_joints``."""
        if self.config.marker_joints is None:
            return joints
        return vary_thorax(joints, generator, self.config.marker_joints, self.skeleton)

    def standing_height(self, lengths: torch.Tensor) -> torch.Tensor:
        """``(N,)`` standing height from bone lengths, metres: the bones from the right ankle
        up to the root and from the root to the head top, plus 8 cm of foot (skeletons
        without those joints: 45 % of the summed bone lengths, about right for Human3.6M)."""
        sk = self.skeleton
        if not {"right_ankle", "head"} <= set(sk.joint_names):
            return lengths.sum(-1) * 0.45
        path = sk.path_matrix(dtype=lengths.dtype)  # (J, B): bones from the root to each joint
        legs_and_trunk = path[sk.joint_index("right_ankle")] + path[sk.joint_index("head")]
        return lengths @ legs_and_trunk + 0.08

    # ------------------------------------------------------------ whole videos
    def videos(self, n: int, generator: torch.Generator, split: str = "train") -> SyntheticVideos:
        """``n`` synthetic videos (all stages, see the module docstring)."""
        if n < 1:
            raise ValueError(f"n: expected a positive number of videos, got {n}")
        g = generator
        motion, names = self.sample_motion(n, g, split)
        lengths = self.sample_bodies(motion, g, split)
        joints = self.draw_thorax(self.recombine(self.retarget(motion, lengths), g), g)
        cameras = sample_virtual_cameras(
            joints, g, self.config.cameras, standing_height=self.standing_height(lengths)
        )
        joints_cam = cameras.world_to_camera(joints)
        family = torch.randint(len(self.config.detectors), (n,), generator=g)
        pixels = torch.empty(*joints.shape[:-1], 2, dtype=joints.dtype)
        scores = torch.empty(joints.shape[:-1], dtype=joints.dtype)
        visibility = torch.empty_like(scores)
        swapped = torch.zeros(joints.shape[:2], dtype=torch.bool)
        for k, det in enumerate(self.config.detectors):
            idx = torch.nonzero(family == k).squeeze(1)
            if len(idx) == 0:  # no video drew this family (split would give one empty part)
                continue
            for part in idx.split(self.config.chunk):
                out = simulate_detector(
                    joints_cam[part],
                    cameras.intrinsics[part],
                    cameras.width[part],
                    cameras.height[part],
                    self.skeleton,
                    self.volume,
                    det,
                    g,
                )
                pixels[part], scores[part], visibility[part] = (
                    out.pixels,
                    out.scores,
                    out.visibility,
                )
                swapped[part] = out.swapped
        detector = tuple(self.config.detectors[int(k)].name for k in family)
        return SyntheticVideos(
            joints, joints_cam, pixels, scores, visibility, cameras, tuple(names), detector, swapped
        )

    def dataset(
        self, n: int, generator: torch.Generator, split: str = "train", name: str = "engine"
    ) -> PoseDataset:
        """``n`` synthetic videos as a :class:`PoseDataset` (every video its own subject
        ``"{split}-{i}"``; the whole dataset is the ``split`` split: train or test)."""
        v = self.videos(n, generator, split)
        cameras = _cameras_of(v.cameras, [f"{name}-{split}-{i}" for i in range(n)])
        seqs = []
        for i in range(n):
            w, h = int(v.cameras.width[i]), int(v.cameras.height[i])
            offset = torch.tensor([1.0, h / w], dtype=v.pixels.dtype)
            seqs.append(
                PoseSequence(
                    subject=f"{split}-{i}",
                    action=f"{v.clip[i]} ({v.detector[i]})",
                    keypoints_2d=v.pixels[i] * (2.0 / w) - offset,
                    scores=v.scores[i],
                    joints_3d=v.joints_cam[i],
                    skeleton=self.skeleton,
                    fps=TRAINING_FPS,
                    camera=cameras[i],
                    image_size=(w, h),
                    joints_world=v.joints_world[i],
                    visibility=v.visibility[i],
                )
            )
        subjects = tuple(s.subject for s in seqs)
        train, test = (subjects, ()) if split == "train" else ((), subjects)
        return PoseDataset(name, self.skeleton, tuple(seqs), train, test)
