"""Evaluation metrics for 3D poses and the per-action result table of the paper.

All metrics take ``pred`` and ``target`` of shape ``(..., J, C)`` (``C = 3``, or 2 for the
position metrics) in metres and return, with ``reduction="none"``, one value per pose
(shape ``(...)``), or with ``reduction="mean"`` (the default) their mean as a 0-d tensor:

* :func:`mpjpe` (Protocol 1): mean Euclidean joint distance, metres.
* :func:`p_mpjpe` (Protocol 2): MPJPE after the best similarity transform (scale, rotation,
  translation) of each predicted pose onto its target; reflections are never allowed.
* :func:`n_mpjpe` (Protocol 3, as in VideoPose3D's paper): MPJPE after the best scale only.
* :func:`mpjve`: mean per-joint velocity error over a time dimension, metres per frame.
* :func:`pck` and :func:`auc` (MPI-INF-3DHP protocol), in percent.

:class:`ActionTable` aggregates per-sequence errors into the layout of the paper's Table 1
(15 Human3.6M actions + ``Avg``, the mean over actions), and :func:`paper_table1` holds the
published rows to print beside ours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import torch

from ._validation import check_points, check_same_shape

__all__ = [
    "Reduction",
    "SimilarityAlignment",
    "mpjpe",
    "p_mpjpe",
    "n_mpjpe",
    "mpjve",
    "pck",
    "auc",
    "procrustes_align",
    "scale_align",
    "MPI_INF_3DHP_PCK_THRESHOLD",
    "mpi_inf_3dhp_auc_thresholds",
    "H36M_ACTIONS",
    "H36M_ACTION_COLUMNS",
    "h36m_action_column",
    "action_base_name",
    "SequenceErrors",
    "mean_by_group",
    "ActionRow",
    "ActionTable",
    "PAPER_TABLE1",
    "paper_table1",
]

Reduction = Literal["mean", "none"]

#: PCK threshold of the MPI-INF-3DHP protocol, metres.
MPI_INF_3DHP_PCK_THRESHOLD = 0.150


def mpi_inf_3dhp_auc_thresholds(device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The 31 AUC thresholds of the MPI-INF-3DHP protocol: 0, 5, ..., 150 mm, in metres."""
    return torch.linspace(0.0, MPI_INF_3DHP_PCK_THRESHOLD, 31, device=device, dtype=dtype)


# ----------------------------------------------------------------------------- helpers


def _prepare(
    pred: torch.Tensor,
    target: torch.Tensor,
    joints: Sequence[int] | None,
    coords: int | tuple[int, ...] = (2, 3),
) -> tuple[torch.Tensor, torch.Tensor]:
    check_points(pred, None, coords=coords, name="pred")
    check_points(target, None, coords=coords, name="target")
    check_same_shape(pred, target, ("pred", "target"))
    if joints is None:
        return pred, target
    num = pred.shape[-2]
    index = list(joints)
    if not index or any(not -num <= j < num for j in index):
        raise ValueError(f"joints: expected indices into {num} joints, got {index}")
    idx = torch.tensor(index, dtype=torch.long, device=pred.device)
    return pred.index_select(-2, idx), target.index_select(-2, idx)


def _reduce(per_pose: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "mean":
        return per_pose.mean()
    if reduction == "none":
        return per_pose
    raise ValueError(f"reduction: expected 'mean' or 'none', got {reduction!r}")


def _joint_distances(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(pred - target, dim=-1)


# ----------------------------------------------------------------------------- position


def mpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    reduction: Reduction = "mean",
    joints: Sequence[int] | None = None,
) -> torch.Tensor:
    """Protocol 1: mean per-joint position error (mean Euclidean distance, no alignment).

    Args:
        pred, target: ``(..., J, C)`` joints, metres (C = 2 or 3).
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> ``(...)`` one value per pose.
        joints: optional subset of joint indices to evaluate.

    Returns:
        Error in metres.
    """
    pred, target = _prepare(pred, target, joints)
    return _reduce(_joint_distances(pred, target).mean(-1), reduction)


class SimilarityAlignment(NamedTuple):
    """Best similarity transform of ``pred`` onto ``target``: ``aligned = s * pred @ R + t``.

    Attributes:
        aligned: ``(..., J, C)`` aligned prediction, metres.
        rotation: ``(..., C, C)`` proper rotation (determinant +1), acting on row vectors.
        scale: ``(...)`` scale factor.
        translation: ``(..., C)`` translation, metres.
    """

    aligned: torch.Tensor
    rotation: torch.Tensor
    scale: torch.Tensor
    translation: torch.Tensor


def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> SimilarityAlignment:
    """Least-squares similarity alignment of each predicted pose onto its target.

    Minimises ``sum_j |s * pred_j @ R + t - target_j|^2`` over scale ``s``, rotation ``R``
    and translation ``t`` (Umeyama's solution through an SVD). ``R`` is always a proper
    rotation: when the best orthogonal matrix would be a reflection, the singular vector of
    the smallest singular value is negated, so a mirrored prediction is not "fixed".

    Args:
        pred, target: ``(..., J, C)`` joints, metres (C = 2 or 3).

    Returns:
        :class:`SimilarityAlignment`.
    """
    pred, target = _prepare(pred, target, None)
    mu_pred = pred.mean(-2, keepdim=True)
    mu_target = target.mean(-2, keepdim=True)
    p = pred - mu_pred
    t = target - mu_target
    # (..., C, C) cross-covariance P^T T = U diag(sigma) V^T; the best R is U V^T.
    u, sigma, vh = torch.linalg.svd(p.transpose(-1, -2) @ t, full_matrices=False)
    # Proper rotation: negate the last singular direction when det(U V^T) < 0.
    det_sign = torch.where(torch.linalg.det(u @ vh) < 0, -1.0, 1.0).to(sigma)
    flip = torch.cat([torch.ones_like(sigma[..., :-1]), det_sign.unsqueeze(-1)], dim=-1)
    rotation = (u * flip.unsqueeze(-2)) @ vh
    norm_p = p.square().sum((-1, -2)).clamp_min(torch.finfo(p.dtype).tiny)
    scale = (sigma * flip).sum(-1) / norm_p
    translation = mu_target.squeeze(-2) - scale.unsqueeze(-1) * (mu_pred @ rotation).squeeze(-2)
    aligned = scale[..., None, None] * (p @ rotation) + mu_target
    return SimilarityAlignment(aligned, rotation, scale, translation)


def p_mpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    reduction: Reduction = "mean",
    joints: Sequence[int] | None = None,
) -> torch.Tensor:
    """Protocol 2: MPJPE after :func:`procrustes_align` (scale, rotation, translation).

    Args:
        pred, target: ``(..., J, C)`` joints, metres (C = 2 or 3); ``J >= C`` for a unique fit.
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> ``(...)`` one value per pose.
        joints: optional subset of joints, selected before the alignment.

    Returns:
        Error in metres.
    """
    pred, target = _prepare(pred, target, joints)
    aligned = procrustes_align(pred, target).aligned
    return _reduce(_joint_distances(aligned, target).mean(-1), reduction)


def scale_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Scale each predicted pose by the least-squares factor ``<pred, target> / <pred, pred>``.

    No translation is fitted, so the poses should be root-relative.

    Args:
        pred, target: ``(..., J, C)`` joints, metres.

    Returns:
        ``(..., J, C)`` scaled prediction, metres.
    """
    pred, target = _prepare(pred, target, None)
    num = (pred * target).sum((-1, -2))
    den = pred.square().sum((-1, -2)).clamp_min(torch.finfo(pred.dtype).tiny)
    return (num / den)[..., None, None] * pred


def n_mpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    reduction: Reduction = "mean",
    joints: Sequence[int] | None = None,
) -> torch.Tensor:
    """Protocol 3 (N-MPJPE): MPJPE after :func:`scale_align` (optimal scale only).

    Args:
        pred, target: ``(..., J, C)`` root-relative joints, metres.
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> ``(...)`` one value per pose.
        joints: optional subset of joints, selected before the scale fit.

    Returns:
        Error in metres.
    """
    pred, target = _prepare(pred, target, joints)
    return _reduce(_joint_distances(scale_align(pred, target), target).mean(-1), reduction)


def mpjve(
    pred: torch.Tensor,
    target: torch.Tensor,
    dim: int = -3,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Mean per-joint velocity error: MPJPE of the frame-to-frame differences.

    Args:
        pred, target: ``(..., T, ..., J, C)`` joint sequences, metres, with time in ``dim``.
        dim: the time dimension (any dimension before the joint dimension; default -3).
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> one value per frame pair: the
            input shape without ``J, C`` and with ``T - 1`` in place of ``T``.

    Returns:
        Error in metres per frame.
    """
    pred, target = _prepare(pred, target, None)
    ndim = pred.dim()
    if not -ndim <= dim < ndim or dim % ndim >= ndim - 2:
        raise ValueError(
            f"dim: expected a time dimension before the joint dimension of a {ndim}-d tensor "
            f"of shape {tuple(pred.shape)}, got dim={dim}"
        )
    if pred.shape[dim] < 2:
        raise ValueError(
            f"mpjve needs at least 2 frames in dimension {dim}, got shape {tuple(pred.shape)}"
        )
    error = _joint_distances(torch.diff(pred, dim=dim), torch.diff(target, dim=dim))
    return _reduce(error.mean(-1), reduction)


# ----------------------------------------------------------------------------- PCK / AUC


def pck(
    pred: torch.Tensor,
    target: torch.Tensor,
    threshold: float = MPI_INF_3DHP_PCK_THRESHOLD,
    joints: Sequence[int] | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Percentage of correct keypoints: joints closer than ``threshold`` to the target.

    A joint counts as correct when its distance is strictly below the threshold (as the
    common reimplementations of MPI-INF-3DHP's ``mpii_compute_3d_pck.m`` do). No alignment
    is applied; pass root-relative poses for the MPI-INF-3DHP protocol.

    Args:
        pred, target: ``(..., J, C)`` joints, metres.
        threshold: distance threshold, metres (150 mm by default).
        joints: optional subset of joints (e.g. the 14 MPI-INF-3DHP evaluation joints).
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> ``(...)`` one value per pose.

    Returns:
        Percent in ``[0, 100]``.
    """
    if not threshold >= 0:
        raise ValueError(f"threshold: expected a distance >= 0 in metres, got {threshold}")
    pred, target = _prepare(pred, target, joints)
    correct = (_joint_distances(pred, target) < threshold).to(pred.dtype)
    return _reduce(100.0 * correct.mean(-1), reduction)


def auc(
    pred: torch.Tensor,
    target: torch.Tensor,
    joints: Sequence[int] | None = None,
    reduction: Reduction = "mean",
    thresholds: torch.Tensor | None = None,
) -> torch.Tensor:
    """Area under the PCK curve: mean :func:`pck` over thresholds.

    The MPI-INF-3DHP protocol uses 31 thresholds evenly spaced from 0 to 150 mm
    (:func:`mpi_inf_3dhp_auc_thresholds`), the default here.

    Args:
        pred, target: ``(..., J, C)`` joints, metres.
        joints: optional subset of joints.
        reduction: ``"mean"`` -> 0-d tensor, ``"none"`` -> ``(...)`` one value per pose.
        thresholds: ``(N,)`` thresholds in metres, or None for the protocol's.

    Returns:
        Percent in ``[0, 100]``.
    """
    pred, target = _prepare(pred, target, joints)
    if thresholds is None:
        thresholds = mpi_inf_3dhp_auc_thresholds(pred.device, pred.dtype)
    if thresholds.dim() != 1 or thresholds.numel() == 0 or bool((thresholds < 0).any()):
        raise ValueError(f"thresholds: expected a 1-d tensor of distances >= 0, got {thresholds}")
    dist = _joint_distances(pred, target).unsqueeze(-1)  # (..., J, 1)
    correct = (dist < thresholds.to(dist)).to(pred.dtype)  # (..., J, N)
    return _reduce(100.0 * correct.mean((-1, -2)), reduction)


# ----------------------------------------------------------------------------- actions

#: The 15 Human3.6M actions in the column order of the paper's Table 1.
H36M_ACTIONS: tuple[str, ...] = (
    "Directions",
    "Discussion",
    "Eating",
    "Greeting",
    "Phoning",
    "Photo",
    "Posing",
    "Purchases",
    "Sitting",
    "SittingDown",
    "Smoking",
    "Waiting",
    "WalkDog",
    "Walking",
    "WalkTogether",
)

#: Table 1 column headers, one per entry of :data:`H36M_ACTIONS`.
H36M_ACTION_COLUMNS: tuple[str, ...] = (
    "Dir.",
    "Disc.",
    "Eat",
    "Greet",
    "Phone",
    "Photo",
    "Pose",
    "Purch.",
    "Sit",
    "SitD.",
    "Smoke",
    "Wait",
    "WalkD.",
    "Walk",
    "WalkT.",
)

_ALIASES = {"takingphoto": "Photo", "walkingdog": "WalkDog", "walkingtogether": "WalkTogether"}
_COLUMN_OF_ACTION = {a.lower(): c for a, c in zip(H36M_ACTIONS, H36M_ACTION_COLUMNS, strict=True)}
_COLUMN_OF_ACTION.update({k: _COLUMN_OF_ACTION[v.lower()] for k, v in _ALIASES.items()})


def action_base_name(name: str) -> str:
    """Action name without its take number: ``"Directions 1"`` -> ``"Directions"``."""
    base = re.sub(r"[\s_-]*\d+$", "", name.strip())
    if not base:
        raise ValueError(f"action name {name!r} has no letters")
    return base


def h36m_action_column(name: str) -> str:
    """Table 1 column of a raw Human3.6M action name.

    Take numbers, case, spaces and the S1 spellings are ignored: ``"Directions 1"`` ->
    ``"Dir."``, ``"TakingPhoto"`` and ``"Photo 1"`` -> ``"Photo"``, ``"WalkingDog"`` ->
    ``"WalkD."``, ``"SittingDown 2"`` -> ``"SitD."``.
    """
    key = re.sub(r"[^a-z]", "", action_base_name(name).lower())
    if key not in _COLUMN_OF_ACTION:
        raise ValueError(
            f"unknown Human3.6M action {name!r}; expected one of {', '.join(H36M_ACTIONS)} "
            "(optionally followed by a take number)"
        )
    return _COLUMN_OF_ACTION[key]


def _is_h36m_action(name: str) -> bool:
    try:
        h36m_action_column(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class SequenceErrors:
    """Per-frame errors of one evaluated sequence.

    Attributes:
        action: raw action name (``"Walking 1"``).
        errors: ``(T,)`` per-frame errors (e.g. ``mpjpe(..., reduction="none")``), metres.
        subject: subject name (``"S9"``), needed only to group by subject.
    """

    action: str
    errors: torch.Tensor
    subject: str = ""


def mean_by_group(
    sequences: Iterable[SequenceErrors], group: Callable[[SequenceErrors], str]
) -> dict[str, float]:
    """Frame-weighted mean error of each group (all frames of a group pooled).

    Args:
        sequences: the evaluated sequences.
        group: maps a sequence to its group name (e.g. its Table 1 column).

    Returns:
        ``{group: mean error}`` in the sequences' unit, in order of first appearance.
    """
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for seq in sequences:
        errors = torch.as_tensor(seq.errors).detach().reshape(-1)
        if errors.numel() == 0:
            raise ValueError(f"sequence {seq.subject} {seq.action!r}: no per-frame errors")
        if not bool(torch.isfinite(errors).all()):
            raise ValueError(f"sequence {seq.subject} {seq.action!r}: NaN or infinite errors")
        key = group(seq)
        sums[key] = sums.get(key, 0.0) + float(errors.cpu().double().sum())
        counts[key] = counts.get(key, 0) + errors.numel()
    if not counts:
        raise ValueError("mean_by_group: got no sequences")
    return {k: sums[k] / counts[k] for k in sums}


@dataclass(frozen=True)
class ActionRow:
    """One table row: a value per column (None = not reported) and the average.

    ``average`` is the published ``Avg`` for rows copied from a paper, else the mean of
    the reported column values.
    """

    label: str
    values: tuple[float | None, ...]
    average: float | None


def _natural_key(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


@dataclass
class ActionTable:
    """Results per action (or per subject) in the layout of the paper's Table 1.

    Rows are methods or protocols, columns are actions and ``Avg`` is the mean over the
    columns (every action weighs the same, whatever its number of frames).

    Attributes:
        columns: column names, e.g. :data:`H36M_ACTION_COLUMNS`.
        title: text of the top-left cell (e.g. ``"Protocol 1"``).
        unit: unit of the values (``"mm"``).
        rows: the rows, in insertion order.
    """

    columns: tuple[str, ...] = H36M_ACTION_COLUMNS
    title: str = ""
    unit: str = "mm"
    rows: list[ActionRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.columns = tuple(self.columns)
        if not self.columns or len(set(self.columns)) != len(self.columns):
            raise ValueError(
                f"ActionTable: columns must be distinct and non-empty, got {self.columns}"
            )

    def add_row(
        self, label: str, values: Mapping[str, float | None], average: float | None = None
    ) -> ActionRow:
        """Add a row from ``{column: value}``; missing columns are unreported (``-``).

        ``average`` overrides the computed mean over the reported columns (for published rows).
        """
        unknown = [k for k in values if k not in self.columns]
        if unknown:
            raise ValueError(
                f"ActionTable: unknown column(s) {unknown}; columns are {self.columns}"
            )
        if any(r.label == label for r in self.rows):
            raise ValueError(f"ActionTable: a row {label!r} already exists")
        row_values = tuple(
            None if values.get(c) is None else float(values[c]) for c in self.columns
        )
        if average is None:
            reported = [v for v in row_values if v is not None]
            average = sum(reported) / len(reported) if reported else None
        row = ActionRow(label, row_values, average)
        self.rows.append(row)
        return row

    def add_sequences(
        self,
        label: str,
        sequences: Iterable[SequenceErrors],
        by: Literal["action", "subject"] = "action",
        scale: float = 1000.0,
    ) -> ActionRow:
        """Add a row of frame-weighted mean errors per column, times ``scale`` (m -> mm).

        Args:
            label: row label.
            sequences: evaluated sequences.
            by: ``"action"`` maps each action to a column (with :func:`h36m_action_column`
                when the columns are :data:`H36M_ACTION_COLUMNS`, else by
                :func:`action_base_name`); ``"subject"`` uses the subject as column.
            scale: factor applied to the errors (1000 turns metres into millimetres).
        """
        if by == "action":
            to_column = (
                h36m_action_column if self.columns == H36M_ACTION_COLUMNS else action_base_name
            )
            means = mean_by_group(sequences, lambda s: to_column(s.action))
        elif by == "subject":
            means = mean_by_group(sequences, lambda s: s.subject)
        else:
            raise ValueError(f"by: expected 'action' or 'subject', got {by!r}")
        return self.add_row(label, {k: v * scale for k, v in means.items()})

    @classmethod
    def from_sequences(
        cls,
        label: str,
        sequences: Iterable[SequenceErrors],
        by: Literal["action", "subject"] = "action",
        title: str = "",
        scale: float = 1000.0,
        unit: str = "mm",
    ) -> ActionTable:
        """A one-row table whose columns come from the data.

        Human3.6M actions give the 15 Table 1 columns in the paper's order; other action
        names (e.g. an embedded dataset) give their base names, and subjects are sorted
        naturally (S1, S5, ..., S11).
        """
        sequences = list(sequences)
        if by == "subject":
            columns = tuple(sorted({s.subject for s in sequences}, key=_natural_key))
        else:
            if all(_is_h36m_action(s.action) for s in sequences):
                columns = H36M_ACTION_COLUMNS
            else:
                columns = tuple(dict.fromkeys(action_base_name(s.action) for s in sequences))
        table = cls(columns=columns, title=title, unit=unit)
        table.add_sequences(label, sequences, by=by, scale=scale)
        return table

    def to_dict(self) -> dict[str, dict[str, float | None]]:
        """``{row label: {column: value or None, ..., "Avg": average}}``."""
        return {
            r.label: {**dict(zip(self.columns, r.values, strict=True)), "Avg": r.average}
            for r in self.rows
        }

    def to_markdown(self, precision: int = 1, highlight_best: bool = False) -> str:
        """The table as Markdown; unreported values are ``-``.

        Args:
            precision: decimals shown.
            highlight_best: print the lowest value of each column in bold.
        """
        header = [self.title or f"({self.unit})", *self.columns, "Avg"]
        cells = [[*r.values, r.average] for r in self.rows]
        best = [
            min((row[i] for row in cells if row[i] is not None), default=None)
            for i in range(len(header) - 1)
        ]

        def fmt(value: float | None, i: int) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return "-"
            text = f"{value:.{precision}f}"
            return f"**{text}**" if highlight_best and value == best[i] else text

        lines = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        ]
        for row, values in zip(self.rows, cells, strict=True):
            line = [row.label, *(fmt(v, i) for i, v in enumerate(values))]
            lines.append("| " + " | ".join(line) + " |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


# Published rows of Table 1 of Chen et al., "Anatomy-aware 3D Human Pose Estimation with
# Bone-based Pose Decomposition" (the paper this library implements), in mm, columns in
# H36M_ACTION_COLUMNS order followed by the published Avg.
# fmt: off
PAPER_TABLE1: dict[int, dict[str, tuple[float, ...]]] = {
    1: {
        "Ours (243 frames)":
            (41.4, 44.0, 41.6, 42.6, 46.4, 53.4, 41.7, 41.3,
             53.6, 60.4, 45.8, 41.7, 45.6, 32.2, 33.6, 44.3),
        "Ours (81 frames)":
            (42.1, 43.8, 41.0, 43.8, 46.1, 53.5, 42.4, 43.1,
             53.9, 60.5, 45.7, 42.1, 46.2, 32.2, 33.8, 44.6),
        "Ours (243 frames, causal)":
            (42.5, 45.4, 42.3, 45.2, 49.1, 56.1, 43.8, 44.9,
             56.3, 64.3, 47.9, 43.6, 48.1, 34.3, 35.2, 46.6),
        "Pavllo et al. (243 frames)":
            (45.2, 46.7, 43.3, 45.6, 48.1, 55.1, 44.6, 44.3,
             57.3, 65.8, 47.1, 44.0, 49.0, 32.8, 33.9, 46.8),
    },
    2: {
        "Ours (243 frames)":
            (32.1, 35.0, 33.5, 34.9, 36.3, 40.9, 32.2, 31.8,
             42.4, 49.0, 37.1, 32.4, 35.6, 25.0, 27.4, 35.0),
        "Ours (81 frames)":
            (33.1, 35.3, 33.4, 35.9, 36.1, 41.7, 32.8, 33.3,
             42.6, 49.4, 37.0, 32.7, 36.5, 25.5, 27.9, 35.6),
        "Ours (243 frames, causal)":
            (33.6, 36.0, 34.4, 36.6, 37.5, 42.6, 33.5, 33.8,
             44.4, 51.0, 38.3, 33.6, 37.7, 26.7, 28.2, 36.5),
        "Pavllo et al. (243 frames)":
            (34.1, 36.1, 34.4, 37.2, 36.4, 42.2, 34.4, 33.6,
             45.0, 52.5, 37.4, 33.8, 37.8, 25.6, 27.3, 36.5),
    },
}
# fmt: on


def paper_table1(protocol: Literal[1, 2]) -> ActionTable:
    """A fresh :class:`ActionTable` with the published Table 1 rows for Protocol 1 or 2 (mm).

    The published ``Avg`` is kept as the row average (it can differ from the mean of the
    rounded action values by rounding).
    """
    if protocol not in PAPER_TABLE1:
        raise ValueError(f"protocol: Table 1 has Protocols 1 and 2, got {protocol!r}")
    table = ActionTable(title=f"Protocol {protocol}")
    for label, numbers in PAPER_TABLE1[protocol].items():
        table.add_row(label, dict(zip(H36M_ACTION_COLUMNS, numbers[:-1], strict=True)), numbers[-1])
    return table
