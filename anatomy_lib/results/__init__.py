"""Results shipped with the package, written by the scripts in ``scripts/``.

``table4_small.json`` (``scripts/reproduce_table4.py``): the Table 4 ablation retrained at
small scale on the *embedded* dataset (not Human3.6M), with each run's configuration,
seed, git commit, wall time and per-action errors.

``table4_small_previous.json``: the same sweep (and, under ``"diagnostics"``, the same
diagnostic runs) made by an earlier version of the code that differs in training only by
its random stream (how dropout masks were drawn) and float rounding: the two sweeps side
by side show how much a single run moves with it.

``diagnostics_small.json``: runs beside the sweep, same script, data and commit: the causal
model shipped as ``anatomy_small_causal``, and the joint-shift row with the released
loss weights and with the exact Eq. 1 heads.

``default_models.json`` (``scripts/ship_default_models.py``): how ``anatomy_medium`` and
``anatomy_medium_causal`` were made (command, configuration, data, seed, commit, wall time,
validation history).

``real_data_anatomy_medium.json`` (``benchmarks/real_data.py --model anatomy_medium``): the
default model on the Pose2Sim trial (OpenPose 2D, perfect 2D, the video pipeline against
MediaPipe's own 3D, per camera) and on the embedded test split.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["RESULTS_DIR", "available_results", "load_result"]

RESULTS_DIR = Path(__file__).parent


def available_results() -> tuple[str, ...]:
    """Names of the shipped result files (without ``.json``)."""
    return tuple(sorted(p.stem for p in RESULTS_DIR.glob("*.json")))


def load_result(name: str = "table4_small") -> dict:
    """The shipped result ``name`` as a dict.

    Raises:
        FileNotFoundError: no such result (the shipped ones are listed).
    """
    path = RESULTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no shipped result {name!r}; available: {list(available_results())}"
        )
    return json.loads(path.read_text())
