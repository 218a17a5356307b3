"""Maintain the chapter notebooks: execute them and keep only the outputs nbval checks.

Chapters are stored with outputs only in cells tagged ``nbval-check-output`` (small,
deterministic text such as a round-trip error or a parameter count). Every other output
is produced when the book is built, so no multi-megabyte plotly JSON enters git.

Usage::

    python scripts/notebook_tools.py refresh book/02_skeletons_and_bones.ipynb  # run + strip
    python scripts/notebook_tools.py strip book/*.ipynb                        # strip only
    python scripts/notebook_tools.py check book/*.ipynb   # fail if a stored output is too big
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_TAG = "nbval-check-output"
MAX_STORED_OUTPUT_BYTES = 20_000


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def coalesce_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive stream outputs of one name (``stdout``,
    ``stderr``) joined into one: a kernel splits a cell's printing into chunks as it flushes,
    so the same cell stores one, two or three chunks from one run to the next."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def strip(nb) -> None:
    """Remove outputs from every cell not tagged ``nbval-check-output``.

    Checked cells keep their outputs (their stream chunks joined, :func:`coalesce_streams`)
    and get a stable execution count (their position among the code cells): nbval treats a
    cell with outputs but no count as unrun.
    """
    for number, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        checked = CHECK_TAG in _tags(cell)
        if not checked:
            cell.outputs = []
        cell.outputs = coalesce_streams(cell.outputs)
        cell.execution_count = number if checked else None
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = number
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)


def refresh(path: Path, timeout: int = 300) -> float:
    """Execute ``path`` in a fresh kernel (cwd = its folder), strip, save; return seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    elapsed = time.perf_counter() - start
    strip(nb)
    nbformat.write(nb, path)
    return elapsed


def check(path: Path) -> list[str]:
    """Problems with a stored notebook: oversized stored outputs, outputs in unchecked cells."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.outputs:
            continue
        if CHECK_TAG not in _tags(cell):
            problems.append(f"{path}: cell {i} stores outputs but is not tagged {CHECK_TAG}")
        size = len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])))
        if size > MAX_STORED_OUTPUT_BYTES:
            problems.append(f"{path}: cell {i} stores {size} bytes of output")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["refresh", "strip", "check"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        if args.command == "refresh":
            print(f"{path}: executed in {refresh(path):.1f} s")
        elif args.command == "strip":
            nb = nbformat.read(path, as_version=4)
            strip(nb)
            nbformat.write(nb, path)
        else:
            for problem in check(path):
                print(problem)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
