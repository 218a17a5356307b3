"""Writing lifted 3D for other tools: npz, CSV, BVH (animation) and TRC (OpenSim, Pose2Sim).

**One schema** for every input (video, OpenPose folder, keypoint file); written by
:meth:`anatomy_lib.wild.pipeline.LiftResult.save`:

* ``npz``: ``joints_3d (T, J, 3)`` float32 metres, root-relative, camera axes (x right,
  y down, z forward), NaN on ``missing`` frames; ``keypoints_2d (T, J, 2)`` pixels fed to
  the model; ``scores (T, J)`` visibility fed to the model; ``status (T,)`` int8 codes
  (0 detected, 1 interpolated, 2 missing); ``joint_names (J,)``; ``meta_json`` (width,
  height, fps, model, causal, smoothing_s, stature_m (the height the 3D was scaled to, or
  null), units, status codes, schema version).
* ``csv``: one row per frame: ``frame``, ``time_s``, ``status``, then ``<joint>_<x|y|z>``
  in metres, camera axes (empty on missing frames).
* ``bvh``: the skeleton as a hierarchy of joint rotations (:func:`write_bvh`).
* ``trc``: the joints as markers (:func:`write_trc`), readable by
  :func:`anatomy_lib.data.pose2sim.read_trc`.

**Axes.** BVH is Y up: ``(X, Y, Z) = (x, -y, -z)`` of camera axes (a person facing the
camera faces +Z, their left is +X). TRC follows OpenSim (X forward, Y up, Z right for a
person facing the camera): ``(X, Y, Z) = (-z, -y, -x)``. Both are rotations of camera
axes (no mirror).

**BVH rotations.** The rest pose is a T-pose (legs down, spine and head up, hips,
shoulders and arms sideways) with each bone's median length over the video. A joint with
one child turns that bone from its rest direction by the smallest rotation (no twist); a
joint with several children (pelvis, thorax) takes the rotation that best fits all of
them (Kabsch), and a zero-length *branch* joint per child (``<joint>_to_<child>``) adds
the small rotation that puts each child exactly in place. With constant bone lengths
(what the anatomy-aware model predicts) the BVH reproduces the joints exactly; otherwise
bone directions are exact and lengths are the medians. Euler angles in degrees, order
``Zrotation Xrotation Yrotation``; positions in metres. The lifted joints are
root-relative: the root stays at the origin unless a root trajectory is given.
Frames with no 3D (``missing``) hold the nearest frame that has one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_bytes
from ..skeleton import H36M_17, Skeleton

__all__ = [
    "EXPORT_FORMATS",
    "SCHEMA_VERSION",
    "BVH_FROM_CAMERA",
    "TRC_FROM_CAMERA",
    "write_npz",
    "write_csv",
    "write_bvh",
    "write_trc",
    "read_bvh",
    "BvhMotion",
    "parse_formats",
]

#: Formats :meth:`LiftResult.save` writes (``html`` is the figure, written by the pipeline).
EXPORT_FORMATS = ("npz", "csv", "bvh", "trc")
#: Version of the npz / CSV schema (in ``meta_json``).
SCHEMA_VERSION = 2
#: Rotation from camera axes (x right, y down, z forward) to BVH axes (Y up, Z to camera).
BVH_FROM_CAMERA = np.diag([1.0, -1.0, -1.0])
#: Rotation from camera axes to OpenSim's (X forward, Y up, Z right, for a person facing us).
TRC_FROM_CAMERA = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])
_STATUS_NAMES = ("detected", "interpolated", "missing")


def parse_formats(spec: str | Sequence[str], allowed: Sequence[str] = EXPORT_FORMATS) -> list[str]:
    """``"npz,csv,bvh"`` or a list -> checked list of format names (order kept, no repeats)."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip().lower() for n in names if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise ValueError(
            f"formats: expected a comma-separated subset of {list(allowed)}, got {spec!r}"
        )
    return list(dict.fromkeys(names))


def _checked_joints(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (skeleton.num_joints, 3) or len(arr) == 0:
        raise ValueError(
            f"joints: expected (T, {skeleton.num_joints}, 3) with T >= 1, got {arr.shape}"
        )
    return arr


# ------------------------------------------------------------------ npz and CSV
def write_npz(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """The npz of the schema (module docstring): ``arrays`` plus ``meta_json``."""
    path = Path(path)
    buf = io.BytesIO()
    meta = {**meta, "schema": SCHEMA_VERSION, "status_codes": list(_STATUS_NAMES)}
    np.savez_compressed(buf, **arrays, meta_json=np.array(json.dumps(meta)))
    atomic_write_bytes(path, buf.getvalue())
    return path


def write_csv(
    path: str | Path,
    joints: np.ndarray,
    status: np.ndarray,
    fps: float,
    skeleton: Skeleton = H36M_17,
) -> Path:
    """CSV of the schema: ``frame, time_s, status, <joint>_<x|y|z>...`` (metres, camera axes)."""
    joints = _checked_joints(joints, skeleton)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["frame", "time_s", "status"] + [f"{n}_{a}" for n in skeleton.joint_names for a in "xyz"]
    )
    for t, frame in enumerate(joints):
        values = ["" if np.isnan(v) else f"{v:.5f}" for v in frame.reshape(-1)]
        writer.writerow([t, f"{t / fps:.4f}", _STATUS_NAMES[int(status[t])], *values])
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue().encode())
    return path


# ------------------------------------------------------------------ TRC
def write_trc(
    path: str | Path, joints: np.ndarray, fps: float, skeleton: Skeleton = H36M_17
) -> Path:
    """OpenSim / Pose2Sim marker file: one marker per joint (named as the skeleton's
    joints), metres, OpenSim axes (:data:`TRC_FROM_CAMERA`); ``NaN`` on frames without 3D.

    Args:
        joints: ``(T, J, 3)`` metres, camera axes.
        fps: frame rate (``DataRate``).
    """
    joints = _checked_joints(joints, skeleton)
    if not fps > 0:
        raise ValueError(f"fps: expected a positive frame rate, got {fps}")
    path = Path(path)
    pts = joints @ TRC_FROM_CAMERA.T
    t_count, j_count = pts.shape[:2]
    names = skeleton.joint_names
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{fps:g}\t{fps:g}\t{t_count}\t{j_count}\tm\t{fps:g}\t1\t{t_count}",
        "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
        "\t\t" + "\t".join(f"{a}{i + 1}" for i in range(j_count) for a in "XYZ"),
        "",
    ]
    for t in range(t_count):
        values = "\t".join("NaN" if np.isnan(v) else f"{v:.6f}" for v in pts[t].reshape(-1))
        lines.append(f"{t + 1}\t{t / fps:.6f}\t{values}")
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


# ------------------------------------------------------------------ rotations
def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` smallest rotations turning directions ``a`` into ``b`` (``(..., 3)``)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    v, c = np.cross(a, b), np.sum(a * b, axis=-1)
    vx = np.zeros((*v.shape[:-1], 3, 3))
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    vx = vx - np.swapaxes(vx, -1, -2)
    opposite = c < -1 + 1e-9
    k = (1.0 / np.where(opposite, 1.0, 1.0 + c))[..., None, None]
    rot = np.eye(3) + vx + vx @ vx * k
    if opposite.any():  # half turn about any axis perpendicular to a
        aa = a[opposite]
        helper = np.where(np.abs(aa[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
        axis = np.cross(aa, helper)
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        rot[opposite] = 2 * axis[:, :, None] * axis[:, None, :] - np.eye(3)
    return rot


def _kabsch(rest: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations best mapping ``rest (n, 3)`` onto ``target (T, n, 3)``."""
    h = np.einsum("ni,tnj->tij", rest, target)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.broadcast_to(np.eye(3), h.shape).copy()
    fix[:, 2, 2] = d
    return np.swapaxes(vt, -1, -2) @ fix @ np.swapaxes(u, -1, -2)


def _euler_zxy(rot: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` -> ``(..., 3)`` degrees ``(z, x, y)`` with ``R = Rz Rx Ry``."""
    sb = np.clip(rot[..., 2, 1], -1.0, 1.0)
    b = np.arcsin(sb)
    locked = np.abs(sb) > 1 - 1e-9
    a = np.where(locked, np.arctan2(rot[..., 1, 0], rot[..., 0, 0]),
                 np.arctan2(-rot[..., 0, 1], rot[..., 1, 1]))  # fmt: skip
    c = np.where(locked, 0.0, np.arctan2(-rot[..., 2, 0], rot[..., 2, 2]))
    return np.degrees(np.stack([a, b, c], -1))


def _axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    r = np.radians(degrees)
    c, s = np.cos(r), np.sin(r)
    out = np.zeros((*r.shape, 3, 3))
    i, j = {"X": (1, 2), "Y": (2, 0), "Z": (0, 1)}[axis]
    k = 3 - i - j
    out[..., k, k] = 1
    out[..., i, i], out[..., j, j], out[..., i, j], out[..., j, i] = c, c, -s, s
    return out


# ------------------------------------------------------------------ BVH
@dataclass
class _Node:
    name: str
    parent: int  # index into the node list, -1 for the root
    offset: np.ndarray  # (3,) in the parent's frame, metres
    joint: int  # skeleton joint index, -1 for a branch node
    end_site: np.ndarray | None = None


def _children(skeleton: Skeleton) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in range(skeleton.num_joints)]
    for j, p in enumerate(skeleton.parents):
        if p >= 0:
            kids[p].append(j)
    return kids


def _rest_directions(skeleton: Skeleton, median_dirs: np.ndarray) -> np.ndarray:
    """``(J, 3)`` T-pose direction of the bone ending at each joint (BVH axes)."""
    left, right = set(skeleton.joints_left), set(skeleton.joints_right)
    side = {
        j: 1.0 if j in left else -1.0 if j in right else 0.0 for j in range(skeleton.num_joints)
    }
    root = skeleton.root
    out = np.zeros((skeleton.num_joints, 3))
    for j, p in enumerate(skeleton.parents):
        if p < 0:
            continue
        if side[j] and not side[p]:  # centre -> side: hip, shoulder
            out[j] = [side[j], 0, 0]
            continue
        if side[j]:  # within a limb: legs (hung from the root) down, arms sideways
            top = j
            while side[skeleton.parents[top]]:
                top = skeleton.parents[top]
            out[j] = [0, -1, 0] if skeleton.parents[top] == root else [side[j], 0, 0]
            continue
        out[j] = [0, 1.0 if median_dirs[j, 1] >= 0 else -1.0, 0]
    return out


def _bvh_nodes(skeleton: Skeleton, lengths: np.ndarray, rest_dirs: np.ndarray) -> list[_Node]:
    kids = _children(skeleton)
    nodes: list[_Node] = []
    names = skeleton.joint_names

    def add(j: int, parent_node: int, offset: np.ndarray) -> None:
        me = len(nodes)
        nodes.append(_Node(names[j], parent_node, offset, j))
        if not kids[j]:
            nodes[me].end_site = rest_dirs[j] * 0.05
        for c in kids[j]:
            off = rest_dirs[c] * lengths[c]
            if len(kids[j]) > 1:
                nodes.append(_Node(f"{names[j]}_to_{names[c]}", me, np.zeros(3), -1))
                add(c, len(nodes) - 1, off)
            else:
                add(c, me, off)

    add(skeleton.root, -1, np.zeros(3))
    return nodes


def _world_rotations(nodes: list[_Node], pts: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """``(N, T, 3, 3)`` world rotation of every node putting each child where ``pts`` says."""
    t_count = len(pts)
    world = np.zeros((len(nodes), t_count, 3, 3))
    child_nodes: list[list[int]] = [[] for _ in nodes]
    for i, n in enumerate(nodes):
        if n.parent >= 0:
            child_nodes[n.parent].append(i)
    for i, node in enumerate(nodes):
        above = (
            np.broadcast_to(np.eye(3), (t_count, 3, 3)) if node.parent < 0 else world[node.parent]
        )
        kids = child_nodes[i]
        if node.joint < 0:  # branch: exact direction of its one child
            c = nodes[kids[0]]
            target = pts[:, c.joint] - pts[:, skeleton.parents[c.joint]]
            world[i] = _min_rotation(above @ c.offset, target) @ above
        elif not kids:
            world[i] = above
        elif len(kids) == 1:
            c = nodes[kids[0]]
            target = pts[:, c.joint] - pts[:, node.joint]
            world[i] = _min_rotation(above @ c.offset, target) @ above
        else:  # several branches: the best common rotation of their children
            grand = [nodes[child_nodes[k][0]] for k in kids]
            rest = np.stack([g.offset for g in grand])
            target = np.stack([pts[:, g.joint] - pts[:, node.joint] for g in grand], 1)
            world[i] = _kabsch(rest, target)
    return world


def _hold_missing(joints: np.ndarray) -> np.ndarray:
    ok = np.isfinite(joints).all(axis=(1, 2))
    if not ok.any():
        raise ValueError("joints: no frame has a finite 3D pose; nothing to export")
    idx = np.arange(len(joints))
    good = idx[ok]
    nearest = good[np.abs(idx[:, None] - good[None]).argmin(1)]
    return joints[nearest]


def write_bvh(
    path: str | Path,
    joints: np.ndarray,
    fps: float,
    skeleton: Skeleton = H36M_17,
    root: np.ndarray | None = None,
) -> Path:
    """Write joints as a BVH animation (module docstring: rest pose, rotations, axes).

    Args:
        joints: ``(T, J, 3)`` metres, camera axes (root-relative or not); NaN frames hold
            the nearest finite one.
        fps: frame rate (``Frame Time = 1 / fps``).
        root: optional ``(T, 3)`` root trajectory in camera axes, added to the root.

    Returns:
        ``path``.
    """
    joints = _hold_missing(_checked_joints(joints, skeleton))
    if not fps > 0:
        raise ValueError(f"fps: expected a positive frame rate, got {fps}")
    pts = joints @ BVH_FROM_CAMERA.T
    r = skeleton.root
    if root is not None:
        root = np.asarray(root, dtype=np.float64)
        if root.shape != (len(pts), 3):
            raise ValueError(f"root: expected ({len(pts)}, 3), got {root.shape}")
        pts = pts - pts[:, r : r + 1] + _hold_missing(root[:, None])[:, 0, None] @ BVH_FROM_CAMERA.T
    parents = np.array(skeleton.parents)
    has_parent = parents >= 0
    vec = np.zeros_like(pts)
    vec[:, has_parent] = pts[:, has_parent] - pts[:, parents[has_parent]]
    lengths = np.median(np.linalg.norm(vec, axis=-1), axis=0)
    median_dirs = np.median(vec, axis=0)
    if (lengths[has_parent] <= 0).any():
        raise ValueError("joints: a bone has zero length in most frames; cannot define a rest pose")
    nodes = _bvh_nodes(skeleton, lengths, _rest_directions(skeleton, median_dirs))
    world = _world_rotations(nodes, pts, skeleton)
    local = [world[0]] + [
        np.swapaxes(world[n.parent], -1, -2) @ world[i] for i, n in enumerate(nodes) if i > 0
    ]
    angles = np.stack([_euler_zxy(m) for m in local], 1)  # (T, N, 3)
    motion = np.concatenate([pts[:, r], angles.reshape(len(pts), -1)], 1)
    lines = ["HIERARCHY"] + _hierarchy_lines(nodes) + [
        "MOTION", f"Frames: {len(pts)}", f"Frame Time: {1.0 / fps:.8f}"
    ]  # fmt: skip
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    path = Path(path)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


def _hierarchy_lines(nodes: list[_Node]) -> list[str]:
    kids: list[list[int]] = [[] for _ in nodes]
    for i, n in enumerate(nodes):
        if n.parent >= 0:
            kids[n.parent].append(i)
    out: list[str] = []

    def emit(i: int, depth: int) -> None:
        pad = "  " * depth
        n = nodes[i]
        out.append(f"{pad}{'ROOT' if n.parent < 0 else 'JOINT'} {n.name}")
        out.append(f"{pad}{{")
        out.append(f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in n.offset)}")
        pos = "Xposition Yposition Zposition " if n.parent < 0 else ""
        out.append(f"{pad}  CHANNELS {6 if pos else 3} {pos}Zrotation Xrotation Yrotation")
        for k in kids[i]:
            emit(k, depth + 1)
        if n.end_site is not None:
            end = " ".join(f"{v:.6f}" for v in n.end_site)
            out.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {end}", f"{pad}  }}"])
        out.append(f"{pad}}}")

    emit(0, 0)
    return out


@dataclass
class BvhMotion:
    """A BVH file read back: joint ``names`` (End Sites excluded), ``parents`` (-1: root),
    ``offsets (N, 3)``, world ``positions (T, N, 3)`` in the file's axes and units, ``fps``,
    and the raw ``channels (T, C)``."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    positions: np.ndarray
    fps: float
    channels: np.ndarray


def read_bvh(path: str | Path) -> BvhMotion:
    """Read any BVH file (forward kinematics of its channels, in listed order)."""
    tokens = Path(path).read_text().split()
    if not tokens or tokens[0] != "HIERARCHY":
        raise ValueError(f"{path}: expected a BVH file starting with HIERARCHY")
    names, parents, offsets, chans = [], [], [], []
    stack: list[int] = []
    i, in_end = 1, 0
    while tokens[i] != "MOTION":
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            offsets.append(np.zeros(3))
            chans.append([])
            i += 2
        elif tok == "End":
            in_end += 1
            i += 2
        elif tok == "{":
            if not in_end:
                stack.append(len(names) - 1)
            i += 1
        elif tok == "}":
            if in_end:
                in_end -= 1
            else:
                stack.pop()
            i += 1
        elif tok == "OFFSET":
            if not in_end:
                offsets[-1] = np.array([float(v) for v in tokens[i + 1 : i + 4]])
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            chans[-1] = tokens[i + 2 : i + 2 + n]
            i += 2 + n
        else:
            raise ValueError(f"{path}: unexpected token {tok!r} in the hierarchy")
    t_count = int(tokens[i + 2])
    frame_time = float(tokens[i + 5])
    width = sum(len(c) for c in chans)
    values = np.array(tokens[i + 6 : i + 6 + t_count * width], dtype=np.float64)
    if values.size != t_count * width:
        raise ValueError(f"{path}: expected {t_count} frames of {width} values")
    motion = values.reshape(t_count, width)
    pos = np.zeros((t_count, len(names), 3))
    world = np.zeros((t_count, len(names), 3, 3))
    col = 0
    for j, ch in enumerate(chans):
        local = np.broadcast_to(np.eye(3), (t_count, 3, 3)).copy()
        trans = np.broadcast_to(offsets[j], (t_count, 3)).copy()
        for name in ch:
            v = motion[:, col]
            col += 1
            if name.endswith("position"):
                trans[:, "XYZ".index(name[0])] = v + offsets[j]["XYZ".index(name[0])]
            else:
                local = local @ _axis_rotation(name[0], v)
        p = parents[j]
        if p < 0:
            pos[:, j], world[:, j] = trans, local
        else:
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", world[:, p], trans)
            world[:, j] = world[:, p] @ local
    return BvhMotion(names, parents, np.array(offsets), pos, 1.0 / frame_time, motion)
