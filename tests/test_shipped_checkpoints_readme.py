"""The error table of ``anatomy_lib/checkpoints/README.md`` is what the shipped files give.

``scripts/evaluate_shipped.py`` prints that table; this test recomputes every row from
the shipped checkpoints, so the README cannot drift from the files it describes.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from anatomy_lib.checkpoints import SHIPPED_NAMES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "anatomy_lib" / "checkpoints" / "README.md"


def _script():
    spec = importlib.util.spec_from_file_location(
        "evaluate_shipped", ROOT / "scripts" / "evaluate_shipped.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_rows() -> dict[tuple[str, str], list[float]]:
    rows, data = {}, None
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = len(cells) == 6 and re.fullmatch(r"`(\w+)`", cells[1])
        if m and all(re.fullmatch(r"[\d.]+", c) for c in cells[2:]):
            data = cells[0] or data
            rows[(data, m.group(1))] = [float(c) for c in cells[2:]]
    return rows


def test_readme_table_matches_the_shipped_checkpoints():
    rows = _readme_rows()
    errors = _script().shipped_errors()
    assert set(rows) == set(errors) == {(d, n) for d in _script().DATASETS for n in SHIPPED_NAMES}
    for key, got in errors.items():
        assert rows[key] == pytest.approx(got, abs=0.051), key
