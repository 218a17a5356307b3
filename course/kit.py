"""The course kit: build the student and instructor releases, grade submissions, write the
book's self-study page, all from the nbgrader source notebooks in ``course/source``.

Commands (run from the repository root)::

    python course/kit.py build [--out course/release]
    python course/kit.py grade SUBMISSIONS --out grades.csv [--keep DIR]
    python course/kit.py book [--out book/assignments.ipynb]

``SUBMISSIONS`` holds one folder per student, each with one folder per assignment holding
the returned notebook: ``SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb`` (nbgrader's
``submitted`` layout). Grading runs ``nbgrader autograde`` in a scratch course folder (a
SQLite gradebook, no server, no Docker) and writes one CSV row per student, assignment and
question. Bad input exits with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

KIT = Path(__file__).resolve().parent
REPO = KIT.parent
SOURCE = KIT / "source"

#: Seconds a single cell may run while grading (the slowest solution cell takes a few).
CELL_TIMEOUT_S = 120

CSV_FIELDS = (
    "student",
    "assignment",
    "question",
    "kind",
    "score",
    "max_score",
    "needs_manual_grade",
)


class KitError(Exception):
    """Bad input to a kit command (reported as one line, exit status 2)."""


@dataclass(frozen=True)
class Question:
    """One graded cell of a source notebook: ``kind`` is ``"auto"`` (a test cell) or
    ``"manual"`` (a written answer, graded by hand)."""

    assignment: str
    grade_id: str
    kind: str
    points: float


def assignments(source: Path = SOURCE) -> list[str]:
    """Names of the assignments: the folders of ``source`` holding ``<name>.ipynb``."""
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def read_source(name: str, source: Path = SOURCE) -> nbformat.NotebookNode:
    """The source (instructor) notebook of assignment ``name``."""
    path = source / name / f"{name}.ipynb"
    if not path.is_file():
        raise KitError(f"unknown assignment {name!r}: expected {path}; have {assignments(source)}")
    return nbformat.read(path, as_version=4)


def _grading(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def questions(name: str, source: Path = SOURCE) -> list[Question]:
    """The graded cells of assignment ``name`` with their points, in notebook order."""
    found = []
    for cell in read_source(name, source).cells:
        meta = _grading(cell)
        if meta.get("grade"):
            kind = "manual" if cell.cell_type == "markdown" or meta.get("solution") else "auto"
            found.append(Question(name, meta["grade_id"], kind, float(meta["points"])))
    return found


# ----------------------------------------------------------------------------- nbgrader


def _environment() -> dict[str, str]:
    """Environment for nbgrader and its kernels: the venv's scripts on PATH (nbgrader runs
    ``alembic``), this checkout's library first on the import path, one thread per kernel
    (the exercises' models are tiny; several threads only contend on a shared CPU)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _nbgrader(root: Path, *args: str, check: bool = True) -> str:
    """Run one nbgrader command in the course folder ``root`` and return its log; with
    ``check``, raise with the log when it fails or logs an error."""
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=root,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    log = done.stdout + done.stderr
    if check and (done.returncode != 0 or "| ERROR]" in log):
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{log}")
    return log


def _course_folder(root: Path, names: list[str]) -> None:
    """A scratch nbgrader course folder at ``root`` with the sources of ``names``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821 (written by course/kit.py)\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.Execute.timeout = {CELL_TIMEOUT_S}\n"
    )
    for name in names:
        shutil.copytree(SOURCE / name, root / "source" / name, dirs_exist_ok=True)


def _generate(root: Path) -> None:
    """Generate every assignment of the course folder in one nbgrader run."""
    _nbgrader(root, "generate_assignment", "*", "--force")


# ----------------------------------------------------------------------------- releases


def instructor_notebook(name: str) -> nbformat.NotebookNode:
    """The source notebook with a first cell listing the questions and their points."""
    nb = read_source(name)
    rows = [
        f"| `{q.grade_id}` | {'autograded test' if q.kind == 'auto' else 'by hand'} | "
        f"{q.points:g} |"
        for q in questions(name)
    ]
    total = sum(q.points for q in questions(name))
    table = "\n".join(["| question | graded | points |", "|---|---|---|", *rows])
    header = nbformat.v4.new_markdown_cell(
        f"**Instructor version of `{name}`: do not hand out.** It holds the solutions (between "
        "`### BEGIN SOLUTION` and `### END SOLUTION`), the hidden tests (between "
        "`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`) and the answer keys of the "
        f"written questions. Points: {total:g}.\n\n{table}"
    )
    header["id"] = f"{name}-instructor"
    nb.cells.insert(0, header)
    return nb


def build(out: Path) -> dict[str, Path]:
    """Write ``out/student/<a>/<a>.ipynb`` (no solutions, no hidden tests, no answer keys)
    and ``out/instructor/<a>/<a>.ipynb`` plus ``out/instructor/points.csv``."""
    names = assignments()
    with tempfile.TemporaryDirectory(prefix="course-kit-") as tmp:
        root = Path(tmp)
        _course_folder(root, names)
        _generate(root)
        student = out / "student"
        if student.exists():
            shutil.rmtree(student)
        shutil.copytree(root / "release", student)
    instructor = out / "instructor"
    for name in names:
        (instructor / name).mkdir(parents=True, exist_ok=True)
        nbformat.write(instructor_notebook(name), instructor / name / f"{name}.ipynb")
    with open(instructor / "points.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["assignment", "question", "kind", "points"])
        for name in names:
            for q in questions(name):
                writer.writerow([name, q.grade_id, q.kind, f"{q.points:g}"])
    return {"student": student, "instructor": instructor}


# ----------------------------------------------------------------------------- grading


def find_submissions(folder: Path) -> dict[str, list[str]]:
    """``{assignment: [students]}`` of ``folder/<student>/<assignment>/<assignment>.ipynb``."""
    if not folder.is_dir():
        raise KitError(f"submissions: expected a folder, got {str(folder)!r}")
    known = set(assignments())
    found: dict[str, list[str]] = {}
    for student in sorted(p for p in folder.iterdir() if p.is_dir()):
        for sub in sorted(p for p in student.iterdir() if p.is_dir()):
            if sub.name not in known:
                raise KitError(
                    f"submissions: unknown assignment folder {str(sub)!r}; "
                    f"expected one of {sorted(known)}"
                )
            if not (sub / f"{sub.name}.ipynb").is_file():
                raise KitError(f"submissions: expected {sub / (sub.name + '.ipynb')}, not found")
            found.setdefault(sub.name, []).append(student.name)
    if not found:
        raise KitError(
            f"submissions: no notebooks in {str(folder)!r}; expected "
            "<student>/<assignment>/<assignment>.ipynb"
        )
    return found


def grade(submissions: Path, out: Path, keep: Path | None = None) -> list[dict]:
    """Autograde every submission in ``submissions`` and write the per-question CSV ``out``.

    Written answers appear with ``needs_manual_grade`` true and score 0 until graded by hand
    (for example in nbgrader's formgrader, on the folder kept with ``keep``). A submission
    that nbgrader cannot grade at all (a broken notebook file, deleted test cells) gets
    score 0 and ``needs_manual_grade`` true on every question, and a warning on stderr.

    Returns:
        The CSV rows as dicts (``CSV_FIELDS``).
    """
    found = find_submissions(submissions)
    tmp = tempfile.mkdtemp(prefix="course-grade-") if keep is None else None
    root = Path(tmp) if tmp else keep
    try:
        if keep is not None and keep.exists() and any(keep.iterdir()):
            raise KitError(f"--keep: expected a new or empty folder, got {str(keep)!r}")
        _course_folder(root, sorted(found))
        _generate(root)
        for name, students in found.items():
            for student in students:
                shutil.copytree(submissions / student / name, root / "submitted" / student / name)
        log = _nbgrader(root, "autograde", "*", "--force", check=False)
        rows, failed = _gradebook_rows(root, found)
        if keep is not None:
            (root / "autograde.log").write_text(log)
        for student, name in failed:
            print(
                f"warning: {student}/{name} could not be autograded (scored 0, flagged for "
                "grading by hand); run with --keep to read nbgrader's log",
                file=sys.stderr,
            )
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _gradebook_rows(
    root: Path, found: dict[str, list[str]]
) -> tuple[list[dict], list[tuple[str, str]]]:
    """CSV rows from nbgrader's gradebook, and the (student, assignment) pairs it lacks."""
    from nbgrader.api import Gradebook, MissingEntry

    rows, failed = [], []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name in sorted(found):
            for student in sorted(found[name]):
                try:
                    nb = gb.find_submission_notebook(name, name, student)
                    grades = {g.name: g for g in nb.grades}
                except MissingEntry:
                    grades = {}
                # nbgrader records a notebook it could not run with no automatic scores.
                if any(
                    q.kind == "auto" and getattr(grades.get(q.grade_id), "auto_score", None) is None
                    for q in questions(name)
                ):
                    failed.append((student, name))
                    grades = {}
                for q in questions(name):
                    g = grades.get(q.grade_id)
                    score = g.score if g is not None and g.score is not None else 0.0
                    manual = g.needs_manual_grade if g is not None else True
                    rows.append(
                        {
                            "student": student,
                            "assignment": name,
                            "question": q.grade_id,
                            "kind": q.kind,
                            "score": f"{score:g}",
                            "max_score": f"{q.points:g}",
                            "needs_manual_grade": str(bool(manual)).lower(),
                        }
                    )
    return rows, failed


# ----------------------------------------------------------------------------- book page

_SOLUTION = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
_HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS$.*?^### END HIDDEN TESTS$\n?", re.M | re.S)

BOOK_INTRO = """# Assignments

The five assignments of the course kit, one per part of the book, for self-study
{cite}`chen2020anatomy`. Each question says what to write; the reference solution and the
answer keys of the written questions are in collapsed cells: try before you open them. Each
solution is checked here by the same visible tests that students get.

Teaching with them? The graded versions (student release without solutions, hidden tests,
points, a grading command that writes a CSV) are described in
{doc}`For instructors <instructors>`."""

COLAB_CELL = """# In Colab, install the package first (Colab already has torch).
# Elsewhere this does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "anatomy3d[viz] @ git+https://github.com/anatomy3d/anatomy3d",
        ],
        check=True,
    )"""


def _demote(markdown: str) -> str:
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", markdown, flags=re.M)


def book_notebook() -> nbformat.NotebookNode:
    """The self-study page: every assignment with its solutions in collapsed cells, the
    visible tests, the answer keys in dropdowns; no hidden tests, no grading metadata."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    intro = nbformat.v4.new_markdown_cell(BOOK_INTRO)
    colab = nbformat.v4.new_code_cell(COLAB_CELL)
    colab.metadata["tags"] = ["hide-cell"]
    cells = [intro, colab]
    for name in assignments():
        for cell in read_source(name).cells:
            meta = _grading(cell)
            source = cell.source
            if cell.cell_type == "markdown" and meta.get("grade"):
                new = nbformat.v4.new_markdown_cell(
                    "````{admonition} Answer key\n:class: dropdown\n\n" + source + "\n````"
                )
            elif cell.cell_type == "markdown":
                new = nbformat.v4.new_markdown_cell(_demote(source))
            elif meta.get("solution"):
                lines = [x for x in source.splitlines() if not _SOLUTION.match(x)]
                new = nbformat.v4.new_code_cell("\n".join(lines))
                new.metadata["tags"] = ["hide-cell"]
            elif meta.get("grade"):
                new = nbformat.v4.new_code_cell(_HIDDEN.sub("", source).rstrip("\n"))
            else:
                new = nbformat.v4.new_code_cell(source)
            cells.append(new)
    for i, cell in enumerate(cells):
        cell["id"] = f"assignments-{i:03d}"
    nb.cells = cells
    return nb


def write_book(out: Path) -> None:
    """Write the self-study page (outputs stripped) to ``out``."""
    nbformat.write(book_notebook(), out)


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course/kit.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build the student and instructor releases")
    p_build.add_argument("--out", type=Path, default=KIT / "release")
    p_grade = sub.add_parser("grade", help="autograde a folder of submissions into a CSV")
    p_grade.add_argument("submissions", type=Path)
    p_grade.add_argument("--out", type=Path, required=True, help="CSV file to write")
    p_grade.add_argument("--keep", type=Path, help="keep the nbgrader course folder here")
    p_book = sub.add_parser("book", help="write the book's self-study page")
    p_book.add_argument("--out", type=Path, default=REPO / "book" / "assignments.ipynb")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            paths = build(args.out)
            print(f"student release: {paths['student']}\ninstructor release: {paths['instructor']}")
        elif args.command == "grade":
            rows = grade(args.submissions, args.out, args.keep)
            totals: dict[tuple[str, str], list[float]] = {}
            for r in rows:
                t = totals.setdefault((r["student"], r["assignment"]), [0.0, 0.0, 0.0])
                t[0] += float(r["score"])
                t[1 if r["kind"] == "auto" else 2] += float(r["max_score"])
            for (student, name), (score, auto, manual) in sorted(totals.items()):
                print(f"{student} {name}: {score:g} / {auto:g} autograded (+{manual:g} by hand)")
            print(f"wrote {args.out}")
        else:
            write_book(args.out)
            print(f"wrote {args.out}")
    except KitError as e:
        print(f"course/kit.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
