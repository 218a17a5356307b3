"""A real validation person outside the test data: Pose2Sim's two-person demo, triangulated.

Source: pose2sim 0.10.49 (BSD-3-Clause), ``Pose2Sim/Demo_MultiPerson``: four videos (100
frames, 60 fps, 1088 x 1920 portrait) of two people filmed by the same four calibrated
cameras as the test trial (``calibration/Calib.qca.txt`` is byte for byte the test trial's
calibration), and nothing else: no detections, no 3D.

**Only person 2 validates** (:data:`VALIDATION_PEOPLE`, the loader's default). The videos are
the test trial's own recording (``Demo_SinglePerson``: the same man, pose and background,
frame for frame three frames apart) with a second person added. Person 1
(:data:`TEST_PERFORMER`) is the test trial's performer in the test frames: his triangulated
3D lies 62 mm (mean over the 17 joints, no alignment) from the test trial's 3D at that
offset, person 2's more than a metre at every offset (``tests/test_data_pose2sim_multiperson.py``
checks both). Found in session 23; choices made on the trial before then used person 1 too.
``people="all"`` loads him, to reproduce those numbers.

How the file is made (:func:`build_multiperson_file`, at build time, with MediaPipe):

1. **2D**: MediaPipe (the library's :func:`~anatomy_lib.wild.detect_people`, up to 2 people)
   on each video; slot order carries no identity.
2. **Who is who across the views** (:func:`match_people`): per frame, the person seen with
   the smallest cost is found first, then the other among the detections left. A candidate
   takes one detection (or none) from each camera; its cost is the worst view's median
   reprojection error over the body keypoints (shoulders to feet, score > 0.5) after
   triangulation, plus :data:`MISSING_VIEW_PX` per camera left out, at least two views.
   Frame to frame the two people keep their labels by the nearer hip centre.
3. **3D reference**: the 33 MediaPipe keypoints triangulated from the matched views
   (:func:`anatomy_lib.triangulation.triangulate`, weighted by the scores), then mapped to
   Human3.6M-17 with the library's ``mediapipe33`` layout (a linear map, so 3D and 2D
   joints are defined alike). Frames with fewer than :data:`MIN_VIEWS` matched views or a
   view's median reprojection error above :data:`MAX_REPROJECTION_PX` are not scored.
4. **Sequences**: one per person and camera in which MediaPipe found that person in at least
   :data:`MIN_FRAMES` frames; frames where it did not are filled over time (the video
   pipeline's :func:`~anatomy_lib.wild.tracking.fill_gaps`, score 0) and not scored.
5. **Other detectors** (:data:`DETECTORS`): MediaPipe's ``lite`` and ``heavy`` pose models
   on the same videos give more input sequences against the same reference. Their
   detections are assigned to people by the reference projected into each camera
   (:func:`assign_to_people`), and kept as in step 4.

The reference is made from the ``full`` detector, so that detector's sequences share part
of its 2D error (one view in three or four); ``lite`` and ``heavy`` share none of it but
their model family's. The trial ranks models on real people, cameras and detections; it is
not ground truth. Scored by ``benchmarks/real_validation.py``.
"""

from __future__ import annotations

import io
import itertools
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from .._atomic import atomic_write
from ..camera import Camera, normalize_screen, project, world_to_camera
from ..skeleton import H36M_17
from ..triangulation import reprojection_errors, triangulate
from .keypoint_formats import KEYPOINT_FORMATS, to_h36m
from .pose2sim import read_qualisys_calibration
from .sequences import PoseDataset, PoseSequence

__all__ = [
    "MISSING_VIEW_PX",
    "MAX_REPROJECTION_PX",
    "MIN_VIEWS",
    "MIN_FRAMES",
    "MAX_ASSIGN_PX",
    "DETECTORS",
    "TEST_PERFORMER",
    "VALIDATION_PEOPLE",
    "match_people",
    "assign_to_people",
    "detector_of",
    "build_multiperson_file",
    "load_multiperson_file",
    "POSE2SIM_MULTIPERSON_FILE",
]

#: The shipped file this module builds (also ``anatomy_lib.data.embedded``'s).
POSE2SIM_MULTIPERSON_FILE = Path(__file__).parent / "files" / "pose2sim_multiperson.npz"
MULTIPERSON_WHEEL = "pose2sim==0.10.49"
_FOLDER = "Pose2Sim/Demo_MultiPerson/"
#: MediaPipe-33 keypoints that decide who is who: shoulders, elbows, wrists, hands, hips,
#: knees, ankles, feet (11-32 without the face).
BODY_KEYPOINTS = tuple(range(11, 33))
#: cost, in pixels, of leaving a camera out of a person's match.
MISSING_VIEW_PX = 20.0
#: a scored frame needs this many matched views ...
MIN_VIEWS = 3
#: ... each within this median reprojection error (body keypoints), pixels.
MAX_REPROJECTION_PX = 30.0
#: a (person, camera) sequence is kept when the camera found the person this often.
MIN_FRAMES = 50
#: another detector's detection is a person's when its body keypoints lie this close
#: (median, pixels) to that person's reference projected into the camera.
MAX_ASSIGN_PX = 60.0
#: MediaPipe's pose models (:data:`anatomy_lib.wild.detector.POSE_MODELS`): ``full`` makes
#: the reference; ``lite`` and ``heavy`` add inputs the reference was not made from.
DETECTORS = ("full", "lite", "heavy")
#: The test trial's performer, in the test frames (module docstring): never validates.
TEST_PERFORMER = "person1"
#: The people of the trial that may validate: everyone but :data:`TEST_PERFORMER`.
VALIDATION_PEOPLE = ("person2",)


def _check_other_detectors(names) -> None:
    """Other detectors must be known and must not be the reference's own (``full``)."""
    if "full" in names:
        raise ValueError("other_detectors: 'full' is the reference's own detector")
    unknown = [n for n in names if n not in DETECTORS]
    if unknown:
        raise ValueError(f"other_detectors: expected some of {DETECTORS[1:]}, got {unknown}")


def _action(camera_id: str, detector: str) -> str:
    """A sequence's ``action``: ``"Demo_MultiPerson cam01"`` (``full``) or
    ``"Demo_MultiPerson cam01 lite"`` (another detector's 2D)."""
    return f"Demo_MultiPerson {camera_id}" + ("" if detector == "full" else f" {detector}")


def detector_of(seq: PoseSequence) -> str:
    """The MediaPipe model whose 2D a sequence of this trial holds: ``full``, ``lite`` or
    ``heavy`` (read back from its ``action``, :func:`load_multiperson_file`)."""
    words = seq.action.split()
    return words[2] if len(words) > 2 else "full"


def _option_costs(
    pixels: torch.Tensor, scores: torch.Tensor, missing: torch.Tensor, cameras: list[Camera]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cost of each candidate match (module docstring, step 2), batched over options.

    Args:
        pixels: ``(O, V, K, 2)`` each option's detection per view (NaN rows: view left out).
        scores: ``(O, V, K)``.
        missing: ``(O,)`` views each option leaves out.
        cameras: the ``V`` cameras.

    Returns:
        ``cost (O,)`` (inf where the option is not allowed: a given view with fewer than 6
        confident keypoints, or fewer than 2 views), ``per_view (O, V)`` median
        reprojection errors (NaN for views left out), ``points (O, K, 3)``.
    """
    finite = torch.isfinite(pixels).all(-1)
    confident = (scores > 0.5) & finite
    given = finite.any(-1)  # (O, V)
    weights = torch.where(confident, scores, torch.zeros_like(scores))
    points = triangulate(pixels, weights, cameras)  # NaN where < 2 confident views
    errors = reprojection_errors(points, pixels.nan_to_num(), cameras)  # (O, V, K)
    scored = confident & torch.isfinite(errors)
    enough = scored.sum(-1) >= 6
    valid = (enough | ~given).all(-1) & ((given & enough).sum(-1) >= 2)
    nan = torch.full_like(errors, float("nan"))
    per_view = torch.where(scored, errors, nan).nanmedian(-1).values
    per_view = torch.where(given, per_view, nan[..., 0])
    worst = torch.where(given, per_view, torch.full_like(per_view, -1.0)).amax(-1)
    cost = torch.where(valid, worst + MISSING_VIEW_PX * missing, torch.full_like(worst, torch.inf))
    return cost, per_view, points


def match_people(
    keypoints: np.ndarray,
    scores: np.ndarray,
    cameras: list[Camera],
    people: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Which detection of each camera is which person, per frame (module docstring, step 2).

    Args:
        keypoints: ``(V, T, P, K, 2)`` MediaPipe-33 pixels of ``P`` detection slots per
            camera and frame (NaN in empty slots).
        scores: ``(V, T, P, K)`` their scores.
        cameras: the ``V`` cameras.
        people: how many people to find.

    Returns:
        ``slots (T, people, V)`` int, the detection slot of each person in each camera, -1
        where the camera is left out; ``view_px (T, people, V)`` the view's median
        reprojection error over the body keypoints (NaN where left out).
    """
    keypoints = torch.as_tensor(keypoints, dtype=torch.float64)
    scores = torch.as_tensor(scores, dtype=torch.float64)
    n_views, n_frames, n_slots = keypoints.shape[:3]
    body = list(BODY_KEYPOINTS)
    options = torch.tensor(list(itertools.product(range(-1, n_slots), repeat=n_views)))
    missing = (options < 0).sum(-1).to(torch.float64)  # (O,)
    pick = torch.where(options < 0, n_slots, options)  # slot n_slots = "left out"
    views = torch.arange(n_views)
    present = torch.isfinite(keypoints[..., body, :]).all(-1).any(-1)  # (V, T, P)
    slots = np.full((n_frames, people, n_views), -1)
    view_px = np.full((n_frames, people, n_views), np.nan)
    hips = np.full((n_frames, people, 3), np.nan)
    for t in range(n_frames):
        # each view's detections at frame t plus an empty one: (V, P + 1, K, ...)
        px_t = torch.cat(
            [keypoints[:, t][..., body, :], torch.full((n_views, 1, len(body), 2), torch.nan,
             dtype=torch.float64)], 1
        )  # fmt: skip
        sc_t = torch.cat(
            [scores[:, t][..., body], torch.zeros((n_views, 1, len(body)), dtype=torch.float64)], 1
        )
        free = torch.cat([present[:, t], torch.ones((n_views, 1), dtype=torch.bool)], 1)
        found = []
        for _ in range(people):
            allowed = free[views, pick].all(-1)  # (O,)
            if not bool(allowed.any()):
                break
            cost, per_view, points = _option_costs(
                px_t[views, pick[allowed]], sc_t[views, pick[allowed]], missing[allowed], cameras
            )
            best = int(torch.argmin(cost))
            if not bool(torch.isfinite(cost[best])):
                break
            option = options[allowed][best]
            used = option >= 0
            free[views[used], option[used]] = False
            hip = points[best, [12, 13]].mean(0).numpy()  # MediaPipe 23, 24 = body[12], body[13]
            found.append((option.numpy(), per_view[best].numpy(), hip))
        # Keep labels: each person found takes the label whose last hip centre is nearest.
        labels = list(range(len(found)))
        known = [i for i in range(people) if t > 0 and np.isfinite(hips[t - 1, i]).all()]
        if found and len(known) >= len(found):
            choices = list(itertools.permutations(known, len(found)))
            dist = [
                sum(np.linalg.norm(f[2] - hips[t - 1, c]) for f, c in zip(found, ch, strict=True))
                for ch in choices
            ]
            labels = list(choices[int(np.argmin(dist))])
        for label, (option, errors, hip) in zip(labels, found, strict=True):
            slots[t, label], view_px[t, label], hips[t, label] = option, errors, hip
        if t > 0:  # a person not found keeps their last position
            lost = ~np.isfinite(hips[t]).all(-1)
            hips[t, lost] = hips[t - 1, lost]
    return slots, view_px


def assign_to_people(keypoints: np.ndarray, reference_pixels: np.ndarray) -> np.ndarray:
    """Which detection slot of each camera is which person, given the people's reference
    (for a detector that did not make the reference; module docstring, step 5).

    Per camera and frame the assignment of slots to people with the least total distance
    is taken, where a slot's distance to a person is the median over the body keypoints of
    its pixel distance to the person's projected reference and a person left without a slot
    costs :data:`MAX_ASSIGN_PX` (so no slot farther than that is taken).

    Args:
        keypoints: ``(V, T, P, K, 2)`` pixels of ``P`` detection slots (NaN: empty).
        reference_pixels: ``(N, V, T, K, 2)`` each person's reference projected into each
            camera (NaN where there is none).

    Returns:
        ``slots (T, N, V)`` int, -1 where the camera has no detection of that person.
    """
    body = list(BODY_KEYPOINTS)
    det = np.asarray(keypoints, dtype=np.float64)[..., body, :]  # (V, T, P, B, 2)
    ref = np.asarray(reference_pixels, dtype=np.float64)[..., body, :]  # (N, V, T, B, 2)
    n_people, n_slots = ref.shape[0], det.shape[2]
    gap = np.linalg.norm(det[None] - ref[:, :, :, None], axis=-1)  # (N, V, T, P, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: no detection or reference
        distance = np.nanmedian(gap, axis=-1)  # (N, V, T, P)
    distance = np.nan_to_num(distance, nan=np.inf)
    options = [
        o for o in itertools.product(range(-1, n_slots), repeat=n_people)
        if len({s for s in o if s >= 0}) == sum(s >= 0 for s in o)
    ]  # fmt: skip
    cost = np.zeros((len(options), *distance.shape[1:3]))  # (O, V, T)
    for i, option in enumerate(options):
        for person, slot in enumerate(option):
            cost[i] += MAX_ASSIGN_PX if slot < 0 else distance[person, :, :, slot]
    best = np.asarray(options)[cost.argmin(0)]  # (V, T, N)
    return best.transpose(1, 2, 0).copy()


def _reference_3d(
    keypoints: torch.Tensor, scores: torch.Tensor, slots: np.ndarray, cameras: list[Camera]
) -> torch.Tensor:
    """``(T, 33, 3)`` one person's MediaPipe keypoints triangulated from the matched views."""
    n_views, n_frames = keypoints.shape[:2]
    px = torch.full((n_frames, n_views, 33, 2), float("nan"), dtype=torch.float64)
    w = torch.zeros((n_frames, n_views, 33), dtype=torch.float64)
    for v in range(n_views):
        frames = np.flatnonzero(slots[:, v] >= 0)
        px[frames, v] = keypoints[v, frames, slots[frames, v]]
        w[frames, v] = scores[v, frames, slots[frames, v]]
    w = torch.where(torch.isfinite(px).all(-1), w, torch.zeros_like(w))
    return triangulate(px, w, cameras)


def _camera_sequences(
    keypoints: np.ndarray, scores: np.ndarray, slots: np.ndarray
) -> dict[str, np.ndarray]:
    """One person's sequences of one detector (module docstring, step 4).

    Args:
        keypoints: ``(V, T, P, 33, 2)``; scores: ``(V, T, P, 33)``.
        slots: ``(T, V)`` the person's slot per frame and camera, -1 for none.

    Returns:
        ``cameras (C,)`` kept, ``keypoints_2d (C, T, 17, 2)``, ``scores (C, T, 17)`` (gaps
        filled, score 0), ``detected (C, T)``.
    """
    from ..wild.tracking import fill_gaps

    n_views, n_frames = keypoints.shape[:2]
    kept = [v for v in range(n_views) if int((slots[:, v] >= 0).sum()) >= MIN_FRAMES]
    pixels17, scores17, seen = [], [], []
    for v in kept:
        frames = np.flatnonzero(slots[:, v] >= 0)
        k33 = np.full((n_frames, 33, 2), np.nan)
        s33 = np.zeros((n_frames, 33))
        k33[frames] = keypoints[v, frames, slots[frames, v]]
        s33[frames] = scores[v, frames, slots[frames, v]]
        filled = fill_gaps(k33, s33, max_gap=n_frames)
        conv = to_h36m(torch.tensor(filled.keypoints), torch.tensor(filled.scores), "mediapipe33")
        pixels17.append(conv.keypoints.numpy())
        scores17.append(conv.scores.numpy())
        seen.append(slots[:, v] >= 0)
    joints = H36M_17.num_joints  # (0, ...) arrays of the right shape when no camera is kept
    return {
        "cameras": np.array(kept, dtype=np.int64),
        "keypoints_2d": np.array(pixels17, np.float32).reshape(-1, n_frames, joints, 2),
        "scores": np.array(scores17, np.float32).reshape(-1, n_frames, joints),
        "detected": np.array(seen, bool).reshape(-1, n_frames),
    }


def build_multiperson_file(
    keypoints: np.ndarray,
    scores: np.ndarray,
    calibration_qca: str,
    out: Path,
    fps: float,
    source: str,
    other_detectors: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict:
    """Match, triangulate and save the trial (module docstring, steps 2-5), atomically.

    Args:
        keypoints: ``(V, T, P, 33, 2)`` MediaPipe pixels per camera (detection slots ``P``)
            of the detector that makes the reference (``full``).
        scores: ``(V, T, P, 33)``.
        calibration_qca: the trial's ``Calib.qca.txt``.
        out: the ``.npz`` to write.
        fps: frame rate.
        source: provenance text stored in the file.
        other_detectors: name -> ``(keypoints, scores)`` shaped as above, of detectors whose
            2D becomes more input sequences (assigned to people by :func:`assign_to_people`);
            the reference is made from ``keypoints`` alone.

    Returns:
        A summary: per person, frames scored, views per scored frame, median reprojection
        error, and the sequences kept (per other detector, the frames it found per camera).
    """
    other_detectors = dict(other_detectors or {})
    _check_other_detectors(other_detectors)
    cameras = read_qualisys_calibration(calibration_qca)
    kp = torch.as_tensor(keypoints, dtype=torch.float64)
    sc = torch.as_tensor(scores, dtype=torch.float64)
    n_views = kp.shape[0]
    slots, view_px = match_people(keypoints, scores, cameras)
    to_17 = KEYPOINT_FORMATS["mediapipe33"].weights(dtype=torch.float64)  # (17, 33)
    points = [_reference_3d(kp, sc, slots[:, p], cameras) for p in range(slots.shape[1])]
    projected = np.stack(
        [
            np.stack([project(world_to_camera(x, cam), cam).numpy() for cam in cameras])
            for x in points
        ]
    )  # (N, V, T, 33, 2)
    other_slots = {
        name: assign_to_people(other_kp, projected)
        for name, (other_kp, _) in other_detectors.items()
    }
    arrays, summary = {}, {}
    for person in range(slots.shape[1]):
        own = slots[:, person]  # (T, V)
        joints = torch.einsum("jk,tkc->tjc", to_17, points[person])  # NaN where a keypoint is
        matched = (own >= 0).sum(-1)
        worst = np.nanmax(np.where(own >= 0, view_px[:, person], -np.inf), axis=-1)
        valid = (
            (matched >= MIN_VIEWS)
            & (worst <= MAX_REPROJECTION_PX)
            & torch.isfinite(joints).all(-1).all(-1).numpy()
        )
        tag = f"person{person + 1}"
        arrays[f"{tag}_joints_world"] = np.nan_to_num(joints.numpy()).astype(np.float32)
        arrays[f"{tag}_valid"] = valid
        arrays[f"{tag}_view_px"] = view_px[:, person].astype(np.float32)
        for key, value in _camera_sequences(keypoints, scores, own).items():
            arrays[f"{tag}_{key}"] = value
        summary[tag] = {
            "frames_scored": int(valid.sum()),
            "views_per_scored_frame": round(float(matched[valid].mean()), 2),
            "median_reprojection_px": round(float(np.nanmedian(view_px[valid, person])), 1),
            "cameras": [cameras[v].id for v in arrays[f"{tag}_cameras"]],
            "frames_detected_per_camera": {
                cameras[v].id: int((own[:, v] >= 0).sum()) for v in range(n_views)
            },
        }
        for name, (other_kp, other_sc) in other_detectors.items():
            theirs = other_slots[name][:, person]
            for key, value in _camera_sequences(other_kp, other_sc, theirs).items():
                arrays[f"{tag}_{name}_{key}"] = value
            summary[tag][f"{name}_frames_detected_per_camera"] = {
                cameras[v].id: int((theirs[:, v] >= 0).sum()) for v in range(n_views)
            }
    meta = {
        "fps": fps, "source": source, "calibration_qca": calibration_qca, "summary": summary,
        "detectors": ["full", *other_detectors],
    }  # fmt: skip
    atomic_write(
        Path(out), lambda f: np.savez_compressed(f, meta_json=np.array(json.dumps(meta)), **arrays)
    )
    return summary


def _some_of(what: str, value: str | tuple[str, ...], available: list[str]) -> list[str]:
    """``value`` (a name, names, or ``"all"`` of ``available``) as a list, checked."""
    names = (
        list(available) if value == "all" else [value] if isinstance(value, str) else list(value)
    )
    if not names or any(n not in available for n in names):
        raise ValueError(f"{what}: expected some of {available} or 'all', got {value!r}")
    return names


def load_multiperson_file(
    path: str | Path,
    detectors: str | tuple[str, ...] = ("full",),
    people: str | tuple[str, ...] | None = None,
) -> PoseDataset:
    """The trial as one :class:`PoseSequence` per kept (person, camera, detector): real
    MediaPipe 2D, the triangulated reference in the camera's axes, ``valid`` = the frames to
    score (the reference is good and this detector found the person in this camera).

    Args:
        path: the file.
        detectors: which detectors' 2D (:data:`DETECTORS`), or ``"all"`` in the file: the
            default is ``full``, the reference's own detector. A sequence's ``action`` is
            ``"Demo_MultiPerson cam01"`` for ``full``, ``"Demo_MultiPerson cam01 lite"``
            for another detector.
        people: whose sequences: by default (None) :data:`VALIDATION_PEOPLE` (``person2``);
            ``"all"`` adds :data:`TEST_PERFORMER`, the test trial's performer (module
            docstring), only to reproduce numbers measured before that was known.

    Subjects ``person1``, ``person2`` (those asked for).
    """
    path = Path(path)
    with np.load(io.BytesIO(path.read_bytes())) as f:
        if "meta_json" not in f:
            raise KeyError(f"{path}: key 'meta_json' missing (expected the multi-person trial)")
        meta = json.loads(str(f["meta_json"]))
        data = {k: f[k] for k in f.files if k != "meta_json"}
    wanted = _some_of("detectors", detectors, meta.get("detectors", ["full"]))
    people = VALIDATION_PEOPLE if people is None else people
    chosen = _some_of("people", people, sorted({k.split("_")[0] for k in data}))
    cameras = read_qualisys_calibration(meta["calibration_qca"])
    seqs, subjects = [], []
    for tag in chosen:
        world = torch.tensor(data[f"{tag}_joints_world"], dtype=torch.float32)
        valid = torch.tensor(data[f"{tag}_valid"])
        subjects.append(tag)
        for detector in wanted:
            prefix = tag if detector == "full" else f"{tag}_{detector}"
            for i, v in enumerate(data[f"{prefix}_cameras"].tolist()):
                cam = cameras[v]
                kps = torch.tensor(data[f"{prefix}_keypoints_2d"][i])
                seqs.append(
                    PoseSequence(
                        subject=tag, action=_action(cam.id, detector),
                        keypoints_2d=normalize_screen(kps, cam.width, cam.height),
                        scores=torch.tensor(data[f"{prefix}_scores"][i]),
                        joints_3d=world_to_camera(world, cam), skeleton=H36M_17,
                        fps=meta["fps"], camera=cam, joints_world=world,
                        valid=valid & torch.tensor(data[f"{prefix}_detected"][i]),
                    )
                )  # fmt: skip
    return PoseDataset("pose2sim_multiperson", H36M_17, tuple(seqs), (), tuple(subjects))


def build_from_wheel(wheel: Path, out: Path, other_detectors: tuple[str, ...] = ()) -> dict:
    """Extract the trial from the pose2sim 0.10.49 wheel, run MediaPipe on its four videos
    (needs the ``wild`` extra; ``other_detectors``, names in :data:`DETECTORS`, need their
    model files: :func:`anatomy_lib.wild.detector.check_pose_model`) and
    :func:`build_multiperson_file`."""
    import hashlib
    import zipfile

    import mediapipe

    from ..wild import detect_people
    from ..wild.detector import check_pose_model, pose_model_file
    from ..wild.video import iter_frames, video_info

    _check_other_detectors(other_detectors)
    names = ["full", *other_detectors]
    complexity = {n: check_pose_model(n) for n in names}  # before any video is read
    found = {n: ([], []) for n in names}
    fps = None
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as z:
        qca = z.read(_FOLDER + "calibration/Calib.qca.txt").decode()
        for i in range(1, 5):
            video = Path(tmp) / f"cam0{i}.mp4"
            video.write_bytes(z.read(f"{_FOLDER}videos/cam0{i}.mp4"))
            info = video_info(video)
            fps = info.fps
            for name in names:
                people = detect_people(
                    iter_frames(video), info.fps, 2, video.name, progress=False,
                    model_complexity=complexity[name],
                )  # fmt: skip
                found[name][0].append(people.keypoints)
                found[name][1].append(people.scores)
    digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    models = "; ".join(
        f"{n} = pose_landmark_{n}.tflite sha256 "
        f"{hashlib.sha256(pose_model_file(complexity[n]).read_bytes()).hexdigest()}"
        for n in names
    )
    source = (
        f"{_FOLDER} of {Path(wheel).name} (sha256 {digest}, BSD-3-Clause); 2D by MediaPipe "
        f"{mediapipe.__version__} through anatomy_lib.wild.detect_people (2 people); models: "
        f"{models}"
    )
    stacked = {n: (np.stack(k), np.stack(s)) for n, (k, s) in found.items()}
    return build_multiperson_file(
        *stacked.pop("full"), qca, out, float(fps), source, other_detectors=stacked
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m anatomy_lib.data.pose2sim_multiperson [--wheel W] [--out F]``."""
    import argparse
    import subprocess
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="pose2sim-0.10.49 wheel (default: pip download)")
    parser.add_argument("--out", type=Path, default=POSE2SIM_MULTIPERSON_FILE)
    parser.add_argument(
        "--other-detectors", nargs="*", default=["lite", "heavy"], choices=["lite", "heavy"],
        help="MediaPipe models run besides full (their .tflite files from "
        "npm @mediapipe/pose@0.5.1675469404 placed in mediapipe/modules/pose_landmark/)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp]
            subprocess.run([*cmd, MULTIPERSON_WHEEL], check=True)
            wheel = next(Path(tmp).glob("pose2sim-*.whl"))
        summary = build_from_wheel(wheel, args.out, tuple(args.other_detectors))
    print(json.dumps({"out": str(args.out), **summary}, indent=1))


if __name__ == "__main__":
    main()
