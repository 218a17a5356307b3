"""The loss and validation history of a run: records, CSV / JSON files and a plot."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpointing import atomic_write_bytes

__all__ = ["History", "plot_history"]


@dataclass
class History:
    """Records ``{"kind", "epoch", "step", <metric>: value, ...}`` in the order logged.

    ``kind`` is ``"train"`` (one record per step: the loss terms, learning rate) or
    ``"val"`` (one per evaluation: errors in millimetres). ``step`` counts optimiser steps
    from the start of the run.
    """

    records: list[dict[str, Any]] = field(default_factory=list)

    def log(self, kind: str, epoch: int, step: int, **values: float) -> None:
        """Append one record; values must be finite numbers."""
        if kind not in ("train", "val"):
            raise ValueError(f"kind: expected 'train' or 'val', got {kind!r}")
        for k, v in values.items():
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"history value {k!r}: expected a finite number, got {v!r}")
        self.records.append({"kind": kind, "epoch": int(epoch), "step": int(step), **values})

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Records of one kind."""
        return [r for r in self.records if r["kind"] == kind]

    def series(self, kind: str, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of metric ``key`` in the records of ``kind``."""
        rows = [r for r in self.of(kind) if key in r]
        return [r["step"] for r in rows], [r[key] for r in rows]

    def epoch_means(self, key: str = "loss") -> dict[int, float]:
        """Mean of a training metric per epoch."""
        sums: dict[int, list[float]] = {}
        for r in self.of("train"):
            if key in r:
                sums.setdefault(r["epoch"], []).append(r[key])
        return {e: sum(v) / len(v) for e, v in sums.items()}

    # ------------------------------------------------------------ files
    def columns(self) -> list[str]:
        """All keys, ``kind, epoch, step`` first."""
        keys = dict.fromkeys(["kind", "epoch", "step"])
        for r in self.records:
            keys.update(dict.fromkeys(r))
        return list(keys)

    def to_csv(self, path: str | Path) -> None:
        """Write one row per record (empty cells where a record lacks a key), atomically."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records)
        atomic_write_bytes(path, buf.getvalue().encode())

    def to_json(self, path: str | Path) -> None:
        """Write ``{"records": [...]}``, atomically."""
        atomic_write_bytes(path, json.dumps({"records": self.records}, indent=1).encode())

    def save(self, path: str | Path) -> None:
        """Write as CSV or JSON, by the file's extension."""
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            self.to_csv(path)
        elif suffix == ".json":
            self.to_json(path)
        else:
            raise ValueError(f"{path}: expected a .csv or .json file name")

    @classmethod
    def load(cls, path: str | Path) -> History:
        """Read a file written by :meth:`save` (CSV or JSON)."""
        path = Path(path)
        text = path.read_text()
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("records"), list):
                raise ValueError(f"{path}: expected a JSON object with a 'records' list")
            return cls(list(data["records"]))
        if path.suffix.lower() != ".csv":
            raise ValueError(f"{path}: expected a .csv or .json file")
        records = []
        for row in csv.DictReader(io.StringIO(text)):
            rec: dict[str, Any] = {"kind": row.pop("kind")}
            for k, v in row.items():
                if v != "":
                    rec[k] = int(v) if k in ("epoch", "step") else float(v)
            records.append(rec)
        return cls(records)

    def state_dict(self) -> dict:
        """For checkpoints."""
        return {"records": [dict(r) for r in self.records]}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls([dict(r) for r in state["records"]])


def plot_history(history: History | str | Path, keys: tuple[str, ...] = ("loss",), ax=None):
    """Training curves (``keys``, smoothed per epoch) and validation errors, with matplotlib.

    Args:
        history: a :class:`History` or the path of a saved one.
        keys: training metrics to draw (left axis, log scale).
        ax: a matplotlib axis to draw in; a new figure otherwise.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    if not isinstance(history, History):
        history = History.load(history)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.5))
    else:
        fig = ax.figure
    for key in keys:
        steps, values = history.series("train", key)
        if not steps:
            raise ValueError(f"plot_history: no training metric {key!r}; have {history.columns()}")
        ax.plot(steps, values, lw=0.8, alpha=0.8, label=f"train {key}")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    val = history.of("val")
    if val:
        right = ax.twinx()
        for key in [k for k in history.columns() if k.startswith("val_")]:
            steps, values = history.series("val", key)
            right.plot(steps, values, marker="o", ms=3, label=key)
        right.set_ylabel("validation error (mm)")
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    else:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
