"""The Pose2Sim demo trial: real OpenPose detections matched to triangulated 3D.

Source: pose2sim 0.4.15 (BSD-3-Clause), ``Pose2Sim/Demo``: OpenPose BODY_25B JSON for 4
cameras x 100 frames, the triangulated markers ``opensim/Balancing_for_IK.trc`` (60 Hz,
metres, Y up) and the calibration ``calibration/Calib_qualisys.toml``. The calibration's
world axes are the TRC columns ``(Z, X, Y)`` (so world z is up).

Conversion to H36M-17: 2D via :func:`anatomy_lib.data.keypoint_formats.to_h36m` with
``body25b`` (pelvis = mid-hips, thorax = Neck, spine = mid pelvis-thorax, neck/nose = Nose,
head = HeadTop); 3D from the TRC markers the same way (pelvis = mid RHip-LHip, thorax =
Neck, spine = mid pelvis-Neck, neck/nose = Nose, head = Head).

Person choice (:func:`closest_person`): when a frame shows several people, the one kept has
the smallest **median** pixel distance to the projected 3D over the keypoints that are both
detected and projected (the 15 BODY_25B keypoints that are one Human3.6M joint each).
Undetected keypoints (OpenPose writes pixel ``(0, 0)`` and/or confidence 0) and frames with
nobody get score 0 and are interpolated over time with the video pipeline's gap filling
(:func:`anatomy_lib.wild.tracking.fill_gaps`, every gap interpolated; the ends of the trial
hold the nearest detection), so no keypoint of the file sits at ``(0, 0)``.

Camera model: OpenCV ``k1, k2`` become the radial terms; the tangential terms (~1e-5) are
dropped because the library's lens model writes them differently. The 3D re-projects
within about 7-20 px (median) of the detections (1088 x 1920 portrait frames).
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import torch

from ..camera import Camera, normalize_screen, project, world_to_camera
from ..skeleton import H36M_17
from .keypoint_formats import KEYPOINT_FORMATS, read_openpose_people, to_h36m
from .rotations import axis_angle_to_matrix, matrix_to_quaternion
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "read_trc",
    "read_pose2sim_calibration",
    "read_qualisys_calibration",
    "trc_to_h36m",
    "closest_person",
    "convert_pose2sim_camera",
    "build_pose2sim_file",
    "load_pose2sim_file",
]

_ROOT = "Pose2Sim/Demo/"


def read_trc(text: str) -> tuple[dict[str, np.ndarray], float]:
    """Parse a TRC marker file: ``({marker: (T, 3)}, frame rate)`` in the file's units."""
    lines = text.splitlines()
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise ValueError("TRC: expected a 'PathFileType' header line")
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=False))
    if header.get("Units", "m").strip() not in ("m", "mm"):
        raise ValueError(f"TRC: unsupported units {header.get('Units')!r}")
    scale = 0.001 if header.get("Units", "m").strip() == "mm" else 1.0
    names = [n for n in lines[3].split("\t")[2:] if n.strip()]
    rows = [r.split("\t") for r in lines[5:] if r.strip()]
    values = np.array([[float(v) for v in r[2 : 2 + 3 * len(names)]] for r in rows]) * scale
    return {n: values[:, 3 * i : 3 * i + 3] for i, n in enumerate(names)}, float(header["DataRate"])


def read_pose2sim_calibration(text: str) -> list[Camera]:
    """Cameras of a Pose2Sim ``Calib*.toml`` (OpenCV world-to-camera Rodrigues ``rotation``)."""
    cams = []
    for key, c in tomllib.loads(text).items():
        if not isinstance(c, dict) or "matrix" not in c:
            continue
        try:
            k = np.asarray(c["matrix"], dtype=np.float64)
            rot = axis_angle_to_matrix(np.asarray(c["rotation"], dtype=np.float64))
            t = np.asarray(c["translation"], dtype=np.float64)
            width, height = (int(round(v)) for v in c["size"])
            dist = c["distortions"]
        except KeyError as exc:
            raise ValueError(f"calibration [{key}]: missing key {exc}") from None
        cams.append(
            Camera(
                id=str(c.get("name", key)), width=width, height=height,
                focal_length=(k[0, 0], k[1, 1]), center=(k[0, 2], k[1, 2]),
                radial=(dist[0], dist[1], 0.0), tangential=(0.0, 0.0),
                orientation=tuple(matrix_to_quaternion(rot.T).tolist()),
                translation=tuple(-rot.T @ t),
            )
        )  # fmt: skip
    if not cams:
        raise ValueError("calibration: no camera section with a 'matrix' key")
    return cams


#: Qualisys writes pixel quantities in sub-pixel units of 1/64 pixel.
_QUALISYS_SUBPIXELS = 64.0


def read_qualisys_calibration(text: str) -> list[Camera]:
    """Cameras of a Qualisys ``.qca.txt`` calibration (XML), as Pose2Sim's demos ship it.

    Per ``<camera>``: ``<transform>`` gives the camera centre ``x, y, z`` in millimetres and a
    rotation ``r11 .. r33`` whose rows are the camera's axes in the world with y and z
    pointing the other way than OpenCV's (camera-to-world ``R = r^T diag(1, -1, -1)``);
    ``<intrinsic>`` gives the focal lengths, principal point and radial terms in 1/64 pixel
    (divided by 64 here, as Pose2Sim's own TOML of the same calibration has them; the
    tangential terms are dropped, as in :func:`read_pose2sim_calibration`). The image size
    is ``<fov_video>`` plus one. Checked against the TOML of pose2sim 0.4.15, which is this
    calibration: the same cameras to 1e-12 (``tests/test_data_pose2sim_multiperson.py``).
    """
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"Qualisys calibration: not XML ({exc})") from None
    flip = np.diag([1.0, -1.0, -1.0])
    cams = []
    for node in root.iter("camera"):
        name = node.get("serial", f"cam{len(cams) + 1}")
        try:
            tr, intr = node.find("transform").attrib, node.find("intrinsic").attrib
            fov = node.find("fov_video").attrib
            r = np.array([[float(tr[f"r{i}{j}"]) for j in (1, 2, 3)] for i in (1, 2, 3)])
            centre = np.array([float(tr[k]) for k in ("x", "y", "z")]) / 1000.0
            fx, fy, cx, cy, k1, k2 = (
                float(intr[k]) / _QUALISYS_SUBPIXELS
                for k in ("focalLengthU", "focalLengthV", "centerPointU", "centerPointV",
                          "radialDistortion1", "radialDistortion2")
            )  # fmt: skip
            width, height = int(fov["right"]) + 1, int(fov["bottom"]) + 1
        except (AttributeError, KeyError) as exc:
            raise ValueError(f"Qualisys calibration, camera {name!r}: missing {exc}") from None
        cams.append(
            Camera(
                id=name, width=width, height=height, focal_length=(fx, fy), center=(cx, cy),
                radial=(k1, k2, 0.0), tangential=(0.0, 0.0),
                orientation=tuple(matrix_to_quaternion(r.T @ flip).tolist()),
                translation=tuple(centre.tolist()),
            )
        )  # fmt: skip
    if not cams:
        raise ValueError("Qualisys calibration: no <camera> element")
    return cams


def trc_to_h36m(markers: dict[str, np.ndarray]) -> np.ndarray:
    """Pose2Sim TRC markers (Y up) -> H36M-17 ``(T, 17, 3)`` in calibration world axes (z up)."""
    need = ["RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Neck", "Nose", "Head",
            "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist"]  # fmt: skip
    missing = [n for n in need if n not in markers]
    if missing:
        raise ValueError(f"TRC: markers {missing} missing, have {sorted(markers)}")
    m = {n: markers[n] for n in need}
    pelvis = 0.5 * (m["RHip"] + m["LHip"])
    joints = [pelvis, m["RHip"], m["RKnee"], m["RAnkle"], m["LHip"], m["LKnee"], m["LAnkle"],
              0.5 * (pelvis + m["Neck"]), m["Neck"], m["Nose"], m["Head"], m["LShoulder"],
              m["LElbow"], m["LWrist"], m["RShoulder"], m["RElbow"], m["RWrist"]]  # fmt: skip
    out = np.stack(joints, 1)
    return out[..., [2, 0, 1]]


def _single_source_pairs(layout: str = "body25b") -> tuple[list[int], list[int]]:
    """``(keypoints, joints)``: the detector keypoints that are one H36M joint each."""
    kps, joints = [], []
    for j, sources in enumerate(KEYPOINT_FORMATS[layout].h36m_sources):
        if len(sources) == 1:
            kps.append(sources[0][0])
            joints.append(j)
    return kps, joints


def closest_person(people: np.ndarray, reference: np.ndarray) -> int | None:
    """Index of the detected person closest to a reference pose, or None.

    The cost of a person is the median pixel distance to ``reference`` over the keypoints
    that are detected (confidence > 0 and not at pixel ``(0, 0)``, OpenPose's mark of an
    undetected keypoint) *and* present in the reference (finite); a person without such a
    keypoint is never chosen.

    Args:
        people: ``(P, K, 3)`` x, y (pixels) and confidence per person (``P`` may be 0).
        reference: ``(K, 2)`` pixels, NaN where the reference has no such keypoint.

    Returns:
        The chosen index, or None when no person shares a keypoint with the reference.
    """
    people = np.asarray(people, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if people.ndim != 3 or people.shape[-1] != 3 or reference.shape != (people.shape[1], 2):
        raise ValueError(
            f"expected people (P, K, 3) and reference (K, 2), got {people.shape} and "
            f"{reference.shape}"
        )
    ok = _detected(people) & np.isfinite(reference).all(-1)  # (P, K)
    dist = np.linalg.norm(people[..., :2] - np.nan_to_num(reference), axis=-1)
    costs = [np.median(d[m]) if m.any() else np.inf for d, m in zip(dist, ok, strict=True)]
    if not costs or np.isinf(min(costs)):
        return None
    return int(np.argmin(costs))


def _detected(poses: np.ndarray) -> np.ndarray:
    """``(..., K)`` bool: confidence > 0 and not at pixel ``(0, 0)``."""
    return (poses[..., 2] > 0) & (poses[..., :2] != 0).any(-1)


def convert_pose2sim_camera(
    frames: list[np.ndarray], reference: np.ndarray, layout: str = "body25b"
) -> tuple[np.ndarray, np.ndarray]:
    """One camera's OpenPose people per frame -> H36M-17 keypoints and scores.

    Args:
        frames: ``T`` arrays ``(P_t, K, 3)`` (every person of each frame, :func:`
            anatomy_lib.data.keypoint_formats.read_openpose_people`).
        reference: ``(T, 17, 2)`` the 3D's projection, pixels (H36M-17 order).
        layout: the detector's keypoint layout.

    Returns:
        ``(T, 17, 2)`` pixels and ``(T, 17)`` scores: the person of :func:`closest_person`
        per frame, undetected keypoints interpolated over time with score 0 (module docstring).

    Raises:
        ValueError: a keypoint the conversion needs is never detected.
    """
    from ..wild.tracking import fill_gaps

    fmt = KEYPOINT_FORMATS[layout]
    ref = np.full((len(frames), fmt.num_keypoints, 2), np.nan)
    kp_idx, joint_idx = _single_source_pairs(layout)
    ref[:, kp_idx] = np.asarray(reference, dtype=np.float64)[:, joint_idx]
    kps = np.full((len(frames), fmt.num_keypoints, 2), np.nan)
    scores = np.zeros((len(frames), fmt.num_keypoints))
    for t, people in enumerate(frames):
        chosen = closest_person(people, ref[t])
        if chosen is None:
            continue
        pose = people[chosen]
        seen = _detected(pose)
        kps[t, seen], scores[t, seen] = pose[seen, :2], pose[seen, 2]
    unused = fmt.weights().sum(0).numpy() == 0  # e.g. eyes, ears, feet: no joint uses them
    kps[:, unused], scores[:, unused] = 0.0, 0.0
    filled = fill_gaps(kps, scores, max_gap=len(frames))
    conv = to_h36m(torch.tensor(filled.keypoints), torch.tensor(filled.scores), layout)
    return conv.keypoints.numpy(), conv.scores.numpy()


def build_pose2sim_file(archive, out: Path) -> None:
    """Convert the trial from the pose2sim wheel (an archive reader) to a small npz.

    The file is written atomically (a temporary file in the same folder, then renamed).
    """
    markers, fps = read_trc(archive.read(_ROOT + "opensim/Balancing_for_IK.trc").decode())
    world = trc_to_h36m(markers)
    calib_text = archive.read(_ROOT + "calibration/Calib_qualisys.toml").decode()
    cams = read_pose2sim_calibration(calib_text)
    kps, scores = [], []
    for i, cam in enumerate(cams):
        ref = project(world_to_camera(torch.tensor(world), cam), cam).numpy()
        names = sorted(
            n for n in archive.names if re.match(rf"{_ROOT}pose/cam{i + 1}_json/.*\.json$", n)
        )
        if len(names) != len(world):
            raise ValueError(
                f"pose2sim: camera {i + 1} has {len(names)} JSON files for {len(world)} 3D frames"
            )
        frames = [read_openpose_people(archive.read(name), 25) for name in names]
        k, s = convert_pose2sim_camera(frames, ref, "body25b")
        kps.append(k)
        scores.append(s)
    meta = {
        "fps": fps,
        "subject": "Pose2Sim",
        "action": "Balancing",
        "calibration_toml": calib_text,
    }
    out = Path(out)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".npz", delete=False) as fh:
        np.savez_compressed(
            fh,
            meta_json=np.array(json.dumps(meta)),
            joints_world=world.astype(np.float32),
            keypoints_2d=np.stack(kps).astype(np.float32),
            scores=np.stack(scores).astype(np.float32),
        )
    os.chmod(fh.name, 0o644)
    os.replace(fh.name, out)


def load_pose2sim_file(path: str | Path) -> PoseDataset:
    """Load the converted trial: 4 :class:`PoseSequence` (one per camera), real detections."""
    path = Path(path)
    with np.load(io.BytesIO(path.read_bytes())) as f:
        for key in ("meta_json", "joints_world", "keypoints_2d", "scores"):
            if key not in f:
                raise KeyError(f"{path}: key {key!r} missing (expected the Pose2Sim trial npz)")
        meta = json.loads(str(f["meta_json"]))
        world = torch.tensor(f["joints_world"])
        kps, scores = torch.tensor(f["keypoints_2d"]), torch.tensor(f["scores"])
    cams = read_pose2sim_calibration(meta["calibration_toml"])
    seqs = [
        PoseSequence(
            subject=meta["subject"], action=meta["action"],
            keypoints_2d=normalize_screen(kps[i], cam.width, cam.height), scores=scores[i],
            joints_3d=world_to_camera(world, cam), skeleton=H36M_17, fps=meta["fps"],
            camera=cam, joints_world=world,
        )
        for i, cam in enumerate(cams)
    ]  # fmt: skip
    return PoseDataset("pose2sim", H36M_17, tuple(seqs), (), (meta["subject"],))
