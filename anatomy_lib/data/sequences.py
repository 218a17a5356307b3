"""Records shared by every dataset: one video seen by one camera, and a set of them.

A :class:`PoseSequence` holds the 2D keypoints a model reads (normalised screen
coordinates, see :func:`anatomy_lib.camera.normalize_screen`), their visibility scores,
and the 3D joints it should predict (camera space, metres). A :class:`PoseDataset` is a
list of them with the skeleton, the subjects of each split and lookup helpers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import torch

from .._validation import check_metres, check_points, check_scores
from ..camera import Camera, normalize_screen, unnormalize_screen
from ..skeleton import Skeleton

__all__ = ["PoseSequence", "PoseDataset"]


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """One video of one person seen by one camera.

    Attributes:
        subject: subject name, e.g. ``"S9"``.
        action: action name, e.g. ``"Walking 1"``.
        keypoints_2d: ``(T, J, 2)`` 2D keypoints, normalised screen coordinates.
        scores: ``(T, J)`` per-keypoint visibility / confidence in ``[0, 1]``.
        joints_3d: ``(T, J, 3)`` camera-space joints in metres, or None (2D-only data).
        skeleton: the joint tree.
        fps: frames per second.
        camera: the camera, or None when unknown; when None, ``image_size`` is required.
        joints_world: ``(T, J, 3)`` world joints in metres, or None.
        image_size: ``(width, height)`` in pixels; the camera's by default.
        valid: ``(T,)`` bool, frames with valid ground truth (MPI-INF-3DHP); all by default.
        visibility: ``(T, J)`` ground-truth geometric visibility in ``[0, 1]`` where it is
            known (the simulated views of the embedded dataset), else None.
    """

    subject: str
    action: str
    keypoints_2d: torch.Tensor
    scores: torch.Tensor
    joints_3d: torch.Tensor | None
    skeleton: Skeleton
    fps: float
    camera: Camera | None = None
    joints_world: torch.Tensor | None = None
    image_size: tuple[int, int] | None = None
    valid: torch.Tensor | None = field(default=None)
    visibility: torch.Tensor | None = None

    def __post_init__(self) -> None:
        name = f"sequence {self.subject}/{self.action}"
        j = self.skeleton.num_joints
        check_points(self.keypoints_2d, j, coords=2, name=f"{name} keypoints_2d")
        if self.keypoints_2d.dim() != 3:
            raise ValueError(
                f"{name} keypoints_2d: expected (T, J, 2), got {tuple(self.keypoints_2d.shape)}"
            )
        t = self.keypoints_2d.shape[0]
        if self.scores.shape != (t, j):
            raise ValueError(
                f"{name} scores: expected shape ({t}, {j}), got {tuple(self.scores.shape)}"
            )
        check_scores(self.scores, f"{name} scores")
        for attr in ("joints_3d", "joints_world"):
            value = getattr(self, attr)
            if value is not None:
                check_points(value, j, coords=3, name=f"{name} {attr}")
                check_metres(value, self.skeleton.parents, f"{name} {attr}")
                if value.shape[0] != t:
                    raise ValueError(
                        f"{name} {attr}: expected {t} frames like keypoints_2d, "
                        f"got {value.shape[0]}"
                    )
        if self.fps <= 0:
            raise ValueError(f"{name}: fps must be positive, got {self.fps}")
        if self.image_size is None:
            if self.camera is None:
                raise ValueError(f"{name}: give a camera or an image_size (width, height)")
            object.__setattr__(self, "image_size", (self.camera.width, self.camera.height))
        if self.valid is None:
            object.__setattr__(self, "valid", torch.ones(t, dtype=torch.bool))
        elif self.valid.shape != (t,):
            raise ValueError(f"{name} valid: expected shape ({t},), got {tuple(self.valid.shape)}")

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return self.keypoints_2d.shape[0]

    @property
    def keypoints_pixels(self) -> torch.Tensor:
        """``(T, J, 2)`` 2D keypoints in pixels."""
        return unnormalize_screen(self.keypoints_2d, *self.image_size)

    @property
    def joints_3d_relative(self) -> torch.Tensor:
        """``(T, J, 3)`` camera-space joints with the root at the origin (model targets)."""
        if self.joints_3d is None:
            raise ValueError(f"sequence {self.subject}/{self.action} has no 3D joints")
        return self.joints_3d - self.joints_3d[:, self.skeleton.root : self.skeleton.root + 1]

    @property
    def camera_name(self) -> str:
        """The camera id, or ``"unknown"``."""
        return self.camera.id if self.camera is not None else "unknown"

    def with_pixels(self, pixels: torch.Tensor) -> PoseSequence:
        """A copy whose 2D keypoints are ``pixels (T, J, 2)`` (normalised on the way in)."""
        return replace(self, keypoints_2d=normalize_screen(pixels, *self.image_size))

    def every(self, step: int) -> PoseSequence:
        """Every ``step``-th frame from the first: the same video as a camera filming at
        ``fps / step`` would have seen it."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"step: expected an int >= 1, got {step!r}")
        per_frame = ("keypoints_2d", "scores", "joints_3d", "joints_world", "valid", "visibility")
        sliced = {f: getattr(self, f)[::step] for f in per_frame if getattr(self, f) is not None}
        return replace(self, fps=self.fps / step, **sliced)

    def __repr__(self) -> str:
        return (
            f"PoseSequence({self.subject!r}, {self.action!r}, camera={self.camera_name!r}, "
            f"{self.num_frames} frames @ {self.fps:g} fps)"
        )


@dataclass(frozen=True, eq=False)
class PoseDataset:
    """A set of :class:`PoseSequence` with its skeleton and subject split.

    Attributes:
        name: dataset name.
        skeleton: the joint tree shared by all sequences.
        sequences: the sequences.
        train_subjects: subjects of the training split.
        test_subjects: subjects of the test split.
    """

    name: str
    skeleton: Skeleton
    sequences: tuple[PoseSequence, ...]
    train_subjects: tuple[str, ...] = ()
    test_subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sequences", tuple(self.sequences))
        for s in self.sequences:
            if s.skeleton != self.skeleton:
                raise ValueError(
                    f"dataset {self.name!r}: sequence {s.subject}/{s.action} uses skeleton "
                    f"{s.skeleton.name!r}, expected {self.skeleton.name!r}"
                )

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[PoseSequence]:
        return iter(self.sequences)

    def __getitem__(self, index: int) -> PoseSequence:
        return self.sequences[index]

    @property
    def subjects(self) -> tuple[str, ...]:
        """Subjects, in order of first appearance."""
        return tuple(dict.fromkeys(s.subject for s in self.sequences))

    @property
    def actions(self) -> tuple[str, ...]:
        """Actions, in order of first appearance."""
        return tuple(dict.fromkeys(s.action for s in self.sequences))

    @property
    def cameras(self) -> tuple[str, ...]:
        """Camera ids, in order of first appearance."""
        return tuple(dict.fromkeys(s.camera_name for s in self.sequences))

    @property
    def num_frames(self) -> int:
        """Total number of frames over all sequences (each camera counted)."""
        return sum(s.num_frames for s in self.sequences)

    def select(
        self,
        subjects: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
        cameras: Iterable[str] | None = None,
    ) -> PoseDataset:
        """The sequences matching all given filters (None keeps everything)."""
        subj = None if subjects is None else set(subjects)
        act = None if actions is None else set(actions)
        cam = None if cameras is None else set(cameras)
        filters = (
            (subj, self.subjects, "subject"),
            (act, self.actions, "action"),
            (cam, self.cameras, "camera"),
        )
        for wanted, have, what in filters:
            if wanted is not None and not wanted <= set(have):
                raise KeyError(
                    f"dataset {self.name!r}: unknown {what}(s) {sorted(wanted - set(have))}; "
                    f"have {list(have)}"
                )
        keep = tuple(
            s
            for s in self.sequences
            if (subj is None or s.subject in subj)
            and (act is None or s.action in act)
            and (cam is None or s.camera_name in cam)
        )
        return replace(self, sequences=keep)

    def select_clips(self, clips: Iterable[tuple[str, str]], exclude: bool = False) -> PoseDataset:
        """The sequences of the ``(subject, action)`` pairs in ``clips`` (every camera), or,
        with ``exclude``, all the others. A pair the dataset does not hold is an error."""
        wanted = set(clips)
        have = {(s.subject, s.action) for s in self.sequences}
        if not wanted <= have:
            raise KeyError(
                f"dataset {self.name!r}: unknown clip(s) {sorted(wanted - have)}; "
                f"have {sorted(have)}"
            )
        keep = tuple(s for s in self.sequences if ((s.subject, s.action) in wanted) != exclude)
        return replace(self, sequences=keep)

    def split(self, which: str) -> PoseDataset:
        """The ``"train"`` or ``"test"`` split (by subject)."""
        if which not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {which!r}")
        subjects = self.train_subjects if which == "train" else self.test_subjects
        if not subjects:
            raise ValueError(f"dataset {self.name!r} defines no {which} subjects")
        return self.select(subjects=subjects)

    def __repr__(self) -> str:
        return (
            f"PoseDataset({self.name!r}, {len(self.sequences)} sequences, "
            f"{self.num_frames} frames, subjects={list(self.subjects)})"
        )
