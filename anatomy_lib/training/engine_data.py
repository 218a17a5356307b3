"""Training on the training-data engine: a new pool of synthetic videos every epoch.

With ``data.dataset = "engine"`` the trainer's dataset is a :class:`PoseDataset` whose
train split is a pool of ``data.engine_videos`` synthetic videos, re-drawn at the start of
every epoch from a seed derived from the experiment's seed and the epoch (so a resumed run
sees the same videos), and whose test split is ``data.engine_validation_videos`` videos of
the engine's held-out clips and bodies (:func:`validation_videos`), drawn from one fixed
seed whatever the experiment's seed and engine settings, so every run is validated on the
same videos.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import get_args

import torch

from ..camera import normalize_screen
from ..data.bodies import MarkerJointRanges
from ..data.detector_errors import (
    DETECTOR_ERRORS,
    FAMILY_COPIES,
    JOINT_NOISE,
    simulate_detector,
)
from ..data.engine import VALIDATION_CLIPS, EngineConfig, TrainingDataEngine
from ..data.joint_limits import within_limits
from ..data.pose_recombination import RecombinationConfig
from ..data.sequences import PoseDataset, PoseSequence
from .config import JointDefinitions
from .seeds import seeded_generator

__all__ = [
    "H36M_VALIDATION_CAMERAS",
    "VALIDATION_SEED",
    "detect_anew",
    "embedded_training_clips",
    "engine_for",
    "engine_dataset",
    "validation_videos",
    "validation_videos_h36m",
]

#: Seed of the engine's validation videos (the same for every experiment).
VALIDATION_SEED = 20261201


@lru_cache(maxsize=4)
def engine_for(
    bodies: str,
    recombination: float,
    joint_definitions: str = "fixed",
    recombination_config: RecombinationConfig | None = None,
    detector_noise: str = "uniform",
    detector_errors: str = "assumed",
    occluded_noise: str = "jitter",
) -> TrainingDataEngine:
    """The engine of a data configuration (cached: the motion clips load once);
    ``recombination_config`` defaults to :class:`RecombinationConfig`'s defaults;
    ``detector_noise`` sets every detector family's ``joint_noise``; ``detector_errors=
    "calibrated"`` or ``"validation_person"`` gives every family those measured error sizes
    (:meth:`~anatomy_lib.data.detector_errors.DetectorErrorConfig.with_error_sizes`);
    ``"validation_person_half"`` keeps each family and adds its copy with the validation
    person's sizes (:data:`~anatomy_lib.data.detector_errors.FAMILY_COPIES`);
    ``occluded_noise`` sets every family's ``occluded_noise`` (which that field checks)."""
    if joint_definitions not in get_args(JointDefinitions):
        raise ValueError(
            f"joint_definitions: expected one of {get_args(JointDefinitions)}, "
            f"got {joint_definitions!r}"
        )
    if detector_noise not in JOINT_NOISE:
        raise ValueError(f"detector_noise: expected one of {JOINT_NOISE}, got {detector_noise!r}")
    if detector_errors not in DETECTOR_ERRORS:
        raise ValueError(
            f"detector_errors: expected one of {DETECTOR_ERRORS}, got {detector_errors!r}"
        )
    families = [
        dataclasses.replace(d, joint_noise=detector_noise, occluded_noise=occluded_noise)
        for d in EngineConfig().detectors
    ]
    detectors = tuple(
        d if sizes is None else d.with_error_sizes(sizes)
        for sizes in FAMILY_COPIES[detector_errors]
        for d in families
    )
    shared = {
        "detectors": detectors,
        "recombination_probability": recombination,
        "recombination": recombination_config or RecombinationConfig(),
        "marker_joints": {
            "fixed": None,
            "varied": MarkerJointRanges(),
            "varied_thorax": MarkerJointRanges.including_thorax(),
            "varied_thorax_half": MarkerJointRanges.including_thorax(probability=0.5),
        }[joint_definitions],
    }
    if bodies == "clip":  # the clip's own proportions, only scaled as a whole
        config = EngineConfig(bodies="rescaled", bone_jitter=0.0, **shared)
    else:
        config = EngineConfig(bodies=bodies, **shared)
    return TrainingDataEngine(config, pose_filter=within_limits)


def engine_dataset(data, seed: int, epoch: int) -> PoseDataset:
    """The training pool of ``epoch`` (train split) and the validation videos (test split).

    Args:
        data: the experiment's :class:`~anatomy_lib.training.config.DataConfig`.
        seed: the experiment's seed.
        epoch: which epoch's pool.
    """
    engine = engine_for(
        data.engine_bodies,
        data.engine_recombination,
        data.engine_joint_definitions,
        RecombinationConfig(
            mutation_std_deg=data.engine_mutation_deg,
            retry_mutation_scale=data.engine_mutation_retry_scale,
            rejection=data.engine_rejection,
        ),
        data.engine_detector_noise,
        data.engine_detector_errors,
        data.engine_occluded_noise,
    )
    generator = seeded_generator(seed, "engine", epoch)
    pool = engine.dataset(data.engine_videos, generator, "train")
    val = validation_videos(data.engine_validation_videos)
    extra = embedded_training_clips() if data.engine_with_embedded else None
    added: tuple[PoseSequence, ...] = ()
    if extra and data.engine_embedded_detections == "engine":
        detections = seeded_generator(seed, "embedded_detections", epoch)
        for _ in range(data.engine_embedded_copies):
            added += detect_anew(extra.sequences, engine, detections)
    elif extra:
        added = extra.sequences * data.engine_embedded_copies
    return PoseDataset(
        "engine",
        pool.skeleton,
        pool.sequences + added + val.sequences,
        pool.train_subjects + (extra.train_subjects if extra else ()),
        val.test_subjects,
    )


def detect_anew(
    sequences: tuple[PoseSequence, ...], engine: TrainingDataEngine, generator: torch.Generator
) -> tuple[PoseSequence, ...]:
    """``sequences`` detected again as the engine detects its own videos: each by one of
    ``engine``'s detector families, drawn per sequence, from its camera-space joints
    ``(T, J, 3)`` and its camera (:func:`~anatomy_lib.data.detector_errors.simulate_detector`).
    Only ``keypoints_2d`` (screen-normalised), ``scores`` and ``visibility`` change; the
    joints, camera and names stay. Used by ``data.engine_embedded_detections="engine"``."""
    detectors = engine.config.detectors
    out = []
    for seq in sequences:
        if seq.camera is None:
            raise ValueError(
                f"detect_anew: sequence {seq.subject}/{seq.action} has no camera to project with"
            )
        if seq.skeleton.num_joints != engine.skeleton.num_joints:
            raise ValueError(
                f"detect_anew: expected {engine.skeleton.num_joints} joints (the engine's "
                f"skeleton), got {seq.skeleton.num_joints} in {seq.subject}/{seq.action}"
            )
        family = detectors[int(torch.randint(len(detectors), (1,), generator=generator))]
        cam = seq.camera
        det = simulate_detector(
            seq.joints_3d.double()[None],
            cam.intrinsics(dtype=torch.float64)[None],
            torch.tensor([float(cam.width)], dtype=torch.float64),
            torch.tensor([float(cam.height)], dtype=torch.float64),
            engine.skeleton, engine.volume, family, generator,
        )  # fmt: skip
        dtype = seq.keypoints_2d.dtype
        out.append(
            dataclasses.replace(
                seq,
                keypoints_2d=normalize_screen(det.pixels[0], cam.width, cam.height).to(dtype),
                scores=det.scores[0].to(dtype),
                visibility=det.visibility[0].to(dtype),
            )
        )
    return tuple(out)


def embedded_training_clips() -> PoseDataset:
    """The embedded dataset's training split without the engine's validation clips
    (:data:`~anatomy_lib.data.engine.VALIDATION_CLIPS`): what ``data.held_out_clips=
    "engine_validation"`` trains on, and what ``data.engine_with_embedded`` adds to the
    engine's pool (the same sequences every epoch: the dataset is loaded once)."""
    from ..data.embedded import load_default_dataset

    return load_default_dataset().split("train").select_clips(VALIDATION_CLIPS, exclude=True)


@lru_cache(maxsize=2)
def validation_videos(
    videos: int = 64,
    joint_definitions: str = "fixed",
    detector_noise: str = "uniform",
    detector_errors: str = "assumed",
    occluded_noise: str = "jitter",
) -> PoseDataset:
    """The engine's validation videos (test split): held-out real clips on held-out ANSUR
    bodies, without recombined limbs, seen by random cameras and detectors; the same for
    every experiment, whatever its engine settings, so runs can be compared.

    ``joint_definitions="varied"`` gives the same videos' bodies a spine, neck/nose and head
    drawn per body (:class:`~anatomy_lib.data.bodies.MarkerJointRanges`), ``"varied_thorax"``
    a thorax too; ``detector_noise="coco_spread"`` scales each joint's detector noise by
    COCO's keypoint spread (it draws no extra numbers: the same videos, cameras and draws,
    each joint's noise rescaled); ``detector_errors="calibrated"`` (or
    ``"validation_person"``) gives the detectors those error sizes measured on real MediaPipe
    (the same videos and draws, other ranges); ``occluded_noise="all"`` lets occlusion
    enlarge the whole detector error, not only its jitter (the same draws): further reports,
    not the trainer's validation."""
    engine = engine_for(
        "ansur", 0.0, joint_definitions, detector_noise=detector_noise,
        detector_errors=detector_errors, occluded_noise=occluded_noise,
    )  # fmt: skip
    return engine.dataset(videos, torch.Generator().manual_seed(VALIDATION_SEED), "validation")


#: The Human3.6M subject whose four cameras :func:`validation_videos_h36m` uses: neither the
#: embedded dataset's training subjects' (S1, S5) nor its test subjects' (S9, S11).
H36M_VALIDATION_CAMERAS = "S7"


@lru_cache(maxsize=1)
def validation_videos_h36m(videos: int = 32) -> PoseDataset:
    """The first ``videos`` of :func:`validation_videos` (held-out clips on held-out ANSUR
    bodies) rendered as the embedded dataset renders its clips: each placed where the four
    Human3.6M cameras of :data:`H36M_VALIDATION_CAMERAS` look
    (:func:`~anatomy_lib.data.build_embedded.place_at`), seen by all four, and detected by
    the embedded dataset's simulator (:func:`~anatomy_lib.data.simulate.simulate_detections`
    with its default noise, seeded). The embedded test split's conditions (bodies and clips
    no model trained on, its cameras and detector) without its subjects: ``4 * videos``
    sequences, a test split, each video's four views under its subject, its clip the action
    (the engine's detector dropped from the name)."""
    from ..camera import h36m_cameras, normalize_screen, world_to_camera
    from ..data.build_embedded import look_at_point, place_at
    from ..data.sequences import PoseSequence
    from ..data.simulate import DetectorNoiseConfig, body_volume, simulate_detections

    source = validation_videos()
    if not 1 <= videos <= len(source.sequences):
        raise ValueError(
            f"videos: expected 1 to {len(source.sequences)} (the engine's validation videos), "
            f"got {videos}"
        )
    cameras = h36m_cameras(H36M_VALIDATION_CAMERAS)
    target = look_at_point(cameras)
    volume = body_volume(source.skeleton)
    noise = DetectorNoiseConfig()
    generator = torch.Generator().manual_seed(VALIDATION_SEED)
    seqs = []
    for seq in source.sequences[:videos]:
        world = torch.tensor(
            place_at(seq.joints_world.double().numpy(), target), dtype=torch.float64
        )
        world_float = world.float()  # one tensor shared by the four views
        for cam in cameras:
            cam_joints = world_to_camera(world, cam)
            det = simulate_detections(cam_joints, cam, volume, noise, generator)
            seqs.append(
                PoseSequence(
                    subject=seq.subject, action=seq.action.split(" (")[0],
                    keypoints_2d=normalize_screen(det.pixels, cam.width, cam.height).float(),
                    scores=det.scores.float(), joints_3d=cam_joints.float(),
                    skeleton=source.skeleton, fps=seq.fps, camera=cam,
                    joints_world=world_float, visibility=det.visibility.float(),
                )
            )  # fmt: skip
    subjects = tuple(dict.fromkeys(s.subject for s in seqs))
    return PoseDataset("engine_h36m", source.skeleton, tuple(seqs), (), subjects)
