"""``scripts/notebook_tools.py``: what a refreshed chapter stores."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import load_benchmark

tools = load_benchmark("notebook_tools", folder="scripts")


def _stream(name: str, text: str):
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_strip_joins_stream_chunks_and_keeps_only_checked_outputs():
    checked = nbformat.v4.new_code_cell("print(1)", metadata={"tags": [tools.CHECK_TAG]})
    checked.outputs = [
        _stream("stdout", "bodies: 6068"),
        _stream("stdout", "\nheld out: 850\n"),
        _stream("stderr", "a warning\n"),
        _stream("stdout", "last\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "figure"}),
        _stream("stdout", "after the figure\n"),
    ]
    plain = nbformat.v4.new_code_cell("x = 1")
    plain.outputs = [_stream("stdout", "dropped\n")]
    nb = nbformat.v4.new_notebook(cells=[plain, checked])
    tools.strip(nb)
    assert plain.outputs == [] and plain.execution_count is None
    kinds = [(o["output_type"], o.get("name"), o.get("text")) for o in checked.outputs]
    assert kinds == [
        ("stream", "stdout", "bodies: 6068\nheld out: 850\n"),
        ("stream", "stderr", "a warning\n"),
        ("stream", "stdout", "last\n"),
        ("display_data", None, None),
        ("stream", "stdout", "after the figure\n"),
    ]
    assert checked.execution_count == 2
    # One chunk or three: the stored cell is the same.
    again = nbformat.v4.new_code_cell("print(1)", metadata={"tags": [tools.CHECK_TAG]})
    again.outputs = [_stream("stdout", "bodies: 6068\nheld out: 850\n")]
    tools.strip(nbformat.v4.new_notebook(cells=[again]))
    assert again.outputs[0]["text"] == checked.outputs[0]["text"]


def test_every_chapter_stores_only_small_checked_outputs():
    """The chapters as committed pass ``notebook_tools.py check``: no stored output outside
    a checked cell, none over :data:`MAX_STORED_OUTPUT_BYTES` (a figure's JSON belongs to the
    build, not to git)."""
    chapters = sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb"))
    assert chapters
    assert [problem for path in chapters for problem in tools.check(path)] == []
