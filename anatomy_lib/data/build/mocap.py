"""Readers for the motion-capture formats the embedded dataset is built from.

Every reader returns joint positions ``(T, J, 3)`` in metres in a **Z-up world**
(x, y horizontal), and every ``*_to_h36m`` function maps them onto the 17-joint
Human3.6M skeleton (:data:`anatomy_lib.skeleton.H36M_17`). Which joint is measured and
which is approximated is written next to each mapping (and in ``files/DATA.md``).

* Acclaim ASF/AMC (CMU motion capture): joint angles, turned into positions by
  forward kinematics (:func:`read_asf`, :func:`read_amc`, :func:`asf_amc_positions`).
* DeepMimic humanoid clips (pybullet data): root position + joint quaternions, with the
  body offsets read from ``humanoid.urdf`` (:func:`read_deepmimic_motion`).
* Joint-position arrays from holosoma-retargeting (Mixamo-named mocap, SMPL-H).

Pelvis is the midpoint of the two hip joints for every source, so that the same
definition holds across the dataset.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...skeleton import H36M_17
from ..rotations import euler_xyz_to_matrix, quaternion_to_matrix

__all__ = [
    "AsfBone",
    "AsfSkeleton",
    "MocapClip",
    "read_asf",
    "read_amc",
    "asf_amc_positions",
    "cmu_to_h36m",
    "read_urdf_offsets",
    "read_deepmimic_motion",
    "deepmimic_to_h36m",
    "MIXAMO_JOINTS",
    "mixamo_to_h36m",
    "y_up_to_z_up",
    "resample",
]

# Acclaim length unit: CMU files declare ``length 0.45``, i.e. 1 unit = 1 / 0.45 inch.
_INCH = 0.0254


@dataclass(frozen=True)
class MocapClip:
    """One motion-capture clip converted to a joint set.

    Attributes:
        joints: ``(T, J, 3)`` world positions in metres, Z up.
        fps: frames per second.
        joint_names: name of each of the ``J`` joints.
    """

    joints: np.ndarray
    fps: float
    joint_names: tuple[str, ...]


# ----------------------------------------------------------------------------- axes
def y_up_to_z_up(x: np.ndarray) -> np.ndarray:
    """Rotate Y-up coordinates ``(..., 3)`` to Z-up.

    ``(x, y, z) -> (x, -z, y)``, a proper rotation.
    """
    return np.stack([x[..., 0], -x[..., 2], x[..., 1]], -1)


def resample(joints: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Resample ``(T, J, 3)`` positions from ``fps_in`` to ``fps_out`` by linear interpolation.

    The output covers the same time span: ``floor((T - 1) * fps_out / fps_in) + 1`` frames.
    """
    if joints.ndim != 3 or joints.shape[0] < 2:
        raise ValueError(f"resample: expected (T >= 2, J, 3) positions, got {joints.shape}")
    if fps_in <= 0 or fps_out <= 0:
        raise ValueError(f"resample: frame rates must be positive, got {fps_in} -> {fps_out}")
    t_in = np.arange(joints.shape[0]) / fps_in
    n_out = int(np.floor((joints.shape[0] - 1) * fps_out / fps_in + 1e-9)) + 1
    t_out = np.arange(n_out) / fps_out
    pos = np.interp(t_out, t_in, np.arange(joints.shape[0]))
    lo = np.minimum(np.floor(pos).astype(int), joints.shape[0] - 2)
    w = (pos - lo)[:, None, None]
    return (1 - w) * joints[lo] + w * joints[lo + 1]


# ----------------------------------------------------------------------------- ASF / AMC
@dataclass
class AsfBone:
    """One bone of an Acclaim skeleton (lengths in metres)."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    dof: tuple[str, ...]
    parent: str = "root"


@dataclass
class AsfSkeleton:
    """An Acclaim skeleton: bones by name, in an order where parents come first."""

    bones: dict[str, AsfBone]
    order: list[str] = field(default_factory=list)
    root_axis: np.ndarray = field(default_factory=lambda: np.zeros(3))
    unit: float = _INCH / 0.45  # metres per ASF length unit


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^:(\w+)", text, flags=re.M)
    return {parts[i].lower(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def read_asf(path: str | Path) -> AsfSkeleton:
    """Parse an Acclaim ``.asf`` skeleton file; lengths are converted to metres."""
    path = Path(path)
    sec = _sections(path.read_text(errors="replace"))
    for key in ("units", "root", "bonedata", "hierarchy"):
        if key not in sec:
            raise ValueError(f"{path}: not an ASF file, section ':{key}' is missing")
    units = dict(line.split()[:2] for line in sec["units"].strip().splitlines() if line.split())
    scale = _INCH / float(units.get("length", 1.0))
    if units.get("angle", "deg").lower() != "deg":
        raise ValueError(f"{path}: expected ':units angle deg', got {units.get('angle')!r}")
    root_axis = np.zeros(3)
    for line in sec["root"].splitlines():
        tok = line.split()
        if tok and tok[0] == "orientation":
            root_axis = np.array([float(v) for v in tok[1:4]])
    bones: dict[str, AsfBone] = {}
    for block in re.findall(r"begin(.*?)end", sec["bonedata"], flags=re.S):
        info: dict[str, list[str]] = {}
        for line in block.strip().splitlines():
            tok = line.split()
            if tok and tok[0] != "limits" and not tok[0].startswith("("):
                info[tok[0]] = tok[1:]
        try:
            name = info["name"][0]
            direction = np.array([float(v) for v in info["direction"]])
            length = float(info["length"][0]) * scale
            axis = np.array([float(v) for v in info["axis"][:3]])
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"{path}: malformed bone block ({exc!r}):\n{block}") from None
        if info["axis"][3:4] not in ([], ["XYZ"]):
            raise ValueError(f"{path}: bone {name}: only axis order XYZ is supported")
        bones[name] = AsfBone(
            name, direction, length, axis, tuple(d.lower() for d in info.get("dof", []))
        )
    order: list[str] = []
    for line in sec["hierarchy"].splitlines():
        tok = line.split()
        if not tok or tok[0] in ("begin", "end"):
            continue
        for child in tok[1:]:
            if child not in bones:
                raise ValueError(f"{path}: hierarchy names unknown bone {child!r}")
            bones[child].parent = tok[0]
            order.append(child)
    return AsfSkeleton(bones, order, root_axis, scale)


def read_amc(path: str | Path) -> list[dict[str, np.ndarray]]:
    """Parse an Acclaim ``.amc`` motion file into one ``{bone: values}`` dict per frame."""
    path = Path(path)
    frames: list[dict[str, np.ndarray]] = []
    for line in path.read_text(errors="replace").splitlines():
        tok = line.split()
        if not tok or tok[0].startswith(("#", ":")):
            continue
        if len(tok) == 1 and tok[0].isdigit():
            frames.append({})
        elif frames:
            frames[-1][tok[0]] = np.array([float(v) for v in tok[1:]])
    if not frames:
        raise ValueError(f"{path}: no frames found (expected an AMC motion file)")
    return frames


def asf_amc_positions(
    skeleton: AsfSkeleton, frames: list[dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Forward kinematics: the end point of every bone, ``{bone: (T, 3)}`` in metres, Y up.

    Acclaim convention: a bone's local rotation is ``C M C^-1`` with ``C`` from its
    ``axis`` and ``M`` from the frame's angles (both ``Rz Ry Rx``); its end point is the
    parent's end point plus ``length * R_global @ direction``. ``"root"`` holds the root.
    """
    t = len(frames)
    root = np.stack([f["root"] for f in frames])
    if root.shape[1] != 6:
        raise ValueError(
            f"AMC root: expected TX TY TZ RX RY RZ per frame, got {root.shape[1]} values"
        )
    c_root = euler_xyz_to_matrix(skeleton.root_axis)
    rot = {"root": c_root @ euler_xyz_to_matrix(root[:, 3:]) @ c_root.T}
    pos = {"root": root[:, :3] * skeleton.unit}
    for name in skeleton.order:
        bone = skeleton.bones[name]
        angles = np.zeros((t, 3))
        for k, d in enumerate(bone.dof):
            axis = "xyz".index(d[1]) if d.startswith("r") else None
            if axis is not None:
                angles[:, axis] = [f[name][k] if name in f else 0.0 for f in frames]
        c = euler_xyz_to_matrix(bone.axis)
        rot[name] = rot[bone.parent] @ (c @ euler_xyz_to_matrix(angles) @ c.T)
        pos[name] = pos[bone.parent] + bone.length * (rot[name] @ bone.direction)
    return pos


def cmu_to_h36m(pos: dict[str, np.ndarray]) -> np.ndarray:
    """CMU ASF bone end points ``{bone: (T, 3)}`` (Y up) -> H36M-17 ``(T, 17, 3)`` (Z up).

    Measured: hips (``*hipjoint`` ends), knees (``*femur``), ankles (``*tibia``),
    shoulders (``*clavicle``), elbows (``*humerus``), wrists (``*radius``), thorax (end of
    ``thorax`` = base of the neck), spine (end of ``upperback``), neck/nose (end of
    ``upperneck``, the base of the skull), head (end of ``head``, the top of the head).
    Derived: pelvis = midpoint of the hips.
    """
    names = {
        "right_hip": "rhipjoint", "right_knee": "rfemur", "right_ankle": "rtibia",
        "left_hip": "lhipjoint", "left_knee": "lfemur", "left_ankle": "ltibia",
        "spine": "upperback", "thorax": "thorax", "neck_nose": "upperneck", "head": "head",
        "left_shoulder": "lclavicle", "left_elbow": "lhumerus", "left_wrist": "lradius",
        "right_shoulder": "rclavicle", "right_elbow": "rhumerus", "right_wrist": "rradius",
    }  # fmt: skip
    out = np.zeros((len(pos["root"]), H36M_17.num_joints, 3))
    for joint, bone in names.items():
        out[:, H36M_17.joint_index(joint)] = pos[bone]
    out[:, 0] = 0.5 * (pos["rhipjoint"] + pos["lhipjoint"])
    return y_up_to_z_up(out)


# ----------------------------------------------------------------------------- DeepMimic
_DEEPMIMIC_LAYOUT = (
    ("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1), ("right_ankle", 4),
    ("right_shoulder", 4), ("right_elbow", 1), ("left_hip", 4), ("left_knee", 1),
    ("left_ankle", 4), ("left_shoulder", 4), ("left_elbow", 1),
)  # fmt: skip
_DEEPMIMIC_PARENT = {
    "chest": "root", "neck": "chest", "right_hip": "root", "right_knee": "right_hip",
    "right_ankle": "right_knee", "right_shoulder": "chest", "right_elbow": "right_shoulder",
    "right_wrist": "right_elbow", "left_hip": "root", "left_knee": "left_hip",
    "left_ankle": "left_knee", "left_shoulder": "chest", "left_elbow": "left_shoulder",
    "left_wrist": "left_elbow",
}  # fmt: skip


def read_urdf_offsets(path: str | Path, scale: float = 0.25) -> dict[str, np.ndarray]:
    """Joint origins ``{joint: (3,)}`` (in the parent link's frame) from a URDF, times ``scale``.

    pybullet loads the DeepMimic humanoid with ``globalScaling=0.25``; the clips' root
    positions are already in those scaled units (metres).
    """
    path = Path(path)
    text = path.read_bytes().replace(b"\x00", b"").decode(errors="replace")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not valid URDF XML ({exc})") from None
    out = {}
    for joint in root.iter("joint"):
        origin = joint.find("origin")
        if "name" in joint.attrib and origin is not None and "xyz" in origin.attrib:
            xyz = [float(v) for v in origin.attrib["xyz"].split()]
            out[joint.attrib["name"]] = np.array(xyz) * scale
    missing = [j for j in _DEEPMIMIC_PARENT if j not in out]
    if missing:
        raise ValueError(f"{path}: joints {missing} missing (expected the DeepMimic humanoid URDF)")
    return out


def read_deepmimic_motion(
    motion_path: str | Path, offsets: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Forward kinematics of a DeepMimic ``humanoid3d_*.txt`` clip.

    Each frame is ``[duration, root xyz, root quaternion wxyz, then per joint a quaternion
    (wxyz) or, for knees and elbows, one angle about the joint's z axis]``.

    Returns:
        ``(positions, rotations, fps)``: ``{joint: (T, 3)}`` world positions (Y up,
        metres), ``{joint: (T, 3, 3)}`` global link rotations, frames per second.
    """
    motion_path = Path(motion_path)
    try:
        frames = np.asarray(json.loads(motion_path.read_text())["Frames"], dtype=np.float64)
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"{motion_path}: expected DeepMimic JSON with key 'Frames' ({exc})"
        ) from None
    width = 8 + sum(n for _, n in _DEEPMIMIC_LAYOUT)
    if frames.ndim != 2 or frames.shape[1] != width:
        raise ValueError(
            f"{motion_path}: expected {width} values per frame, got shape {frames.shape}"
        )
    fps = 1.0 / float(np.median(frames[:-1, 0] if len(frames) > 1 else frames[:, 0]))
    pos = {"root": frames[:, 1:4]}
    rot = {"root": quaternion_to_matrix(frames[:, 4:8])}
    col = 8
    local = {}
    for name, n in _DEEPMIMIC_LAYOUT:
        if n == 4:
            local[name] = quaternion_to_matrix(frames[:, col : col + 4])
        else:
            zero = np.zeros_like(frames[:, col])
            local[name] = euler_xyz_to_matrix(np.stack([zero, zero, np.rad2deg(frames[:, col])], -1))
        col += n
    for name, parent in _DEEPMIMIC_PARENT.items():
        pos[name] = pos[parent] + rot[parent] @ offsets[name]
        rot[name] = rot[parent] @ local[name] if name in local else rot[parent]
    return pos, rot, fps


def deepmimic_to_h36m(pos: dict[str, np.ndarray], rot: dict[str, np.ndarray]) -> np.ndarray:
    """DeepMimic joints (Y up, x forward) -> H36M-17 ``(T, 17, 3)`` (Z up).

    Measured (joint centres of the simulated body driven by the captured motion): hips,
    knees, ankles, shoulders, elbows, wrists; pelvis = root = midpoint of the hips;
    spine = the ``chest`` joint (0.24 m above the pelvis); thorax = the ``neck`` joint.
    **Approximated** (the body has no head joints): neck/nose = neck joint + (0.06 forward,
    0.11 up) m and head = neck joint + (0.02 forward, 0.23 up) m, both in the neck link's
    frame (the URDF head sphere is centred 0.175 m above the neck joint, radius 0.10 m).
    """
    t = len(pos["root"])
    out = np.zeros((t, H36M_17.num_joints, 3))
    for joint in ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                  "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
                  "right_wrist"):  # fmt: skip
        out[:, H36M_17.joint_index(joint)] = pos[joint]
    out[:, 0] = 0.5 * (pos["right_hip"] + pos["left_hip"])
    out[:, H36M_17.joint_index("spine")] = pos["chest"]
    out[:, H36M_17.joint_index("thorax")] = pos["neck"]
    out[:, H36M_17.joint_index("neck_nose")] = pos["neck"] + rot["neck"] @ np.array(
        [0.06, 0.11, 0.0]
    )
    out[:, H36M_17.joint_index("head")] = pos["neck"] + rot["neck"] @ np.array([0.02, 0.23, 0.0])
    return y_up_to_z_up(out)


# ----------------------------------------------------------------------------- Mixamo-named mocap
MIXAMO_JOINTS: tuple[str, ...] = (
    "Hips", "Spine", "Spine1", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    *[f"LeftHand{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)],
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    *[f"RightHand{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)],
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot",
    "RightToeBase", "LeftFootMod", "RightFootMod",
)  # fmt: skip
"""Joint order of holosoma-retargeting's climbing clips (its ``MOCAP_DEMO_JOINTS``, 53 joints)."""

#: Head top above the ``Head`` joint along the Neck -> Head direction (approximation), metres.
MIXAMO_HEAD_TOP = 0.12


def mixamo_to_h36m(joints: np.ndarray) -> np.ndarray:
    """Mixamo-named joints ``(T, 53, 3)`` (Z up, metres) -> H36M-17 ``(T, 17, 3)``.

    Measured: hips (``*UpLeg``), knees (``*Leg``), ankles (``*Foot``), shoulders (``*Arm``),
    elbows (``*ForeArm``), wrists (``*Hand``), spine (``Spine1``), thorax (``Neck``),
    neck/nose (``Head``, the base of the skull). Derived: pelvis = midpoint of the hips.
    **Approximated**: head = ``Head`` + 0.12 m along the Neck -> Head direction.
    """
    if joints.ndim != 3 or joints.shape[1:] != (len(MIXAMO_JOINTS), 3):
        raise ValueError(
            f"expected ({len(MIXAMO_JOINTS)} Mixamo joints) shape (T, 53, 3), got {joints.shape}"
        )
    idx = {n: i for i, n in enumerate(MIXAMO_JOINTS)}
    names = {
        "right_hip": "RightUpLeg", "right_knee": "RightLeg", "right_ankle": "RightFoot",
        "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
        "spine": "Spine1", "thorax": "Neck", "neck_nose": "Head",
        "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
        "right_shoulder": "RightArm", "right_elbow": "RightForeArm", "right_wrist": "RightHand",
    }  # fmt: skip
    out = np.zeros((joints.shape[0], H36M_17.num_joints, 3))
    for joint, src in names.items():
        out[:, H36M_17.joint_index(joint)] = joints[:, idx[src]]
    out[:, 0] = 0.5 * (joints[:, idx["LeftUpLeg"]] + joints[:, idx["RightUpLeg"]])
    up = joints[:, idx["Head"]] - joints[:, idx["Neck"]]
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    out[:, H36M_17.joint_index("head")] = joints[:, idx["Head"]] + MIXAMO_HEAD_TOP * up
    return out
