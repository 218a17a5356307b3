"""The course kit (course/): forbidden-call detection, the two releases, the book's
self-study page, and grading (solutions full marks, blank release zero, each deliberately
wrong answer loses exactly its question's points)."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from anatomy_lib import bones
from anatomy_lib.exercises import ForbiddenCallError, forbid_calls
from anatomy_lib.skeleton import H36M_17, Skeleton

pytest.importorskip("nbgrader")

REPO = Path(__file__).resolve().parents[1]
KIT_PATH = REPO / "course" / "kit.py"
WRONG = REPO / "course" / "wrong"


def _load_kit():
    spec = importlib.util.spec_from_file_location("course_kit", KIT_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["course_kit"] = module
    spec.loader.exec_module(module)
    return module


kit = _load_kit()
NAMES = kit.assignments()


def _solution_lines(source: str) -> list[str]:
    """Non-trivial lines between the solution markers of one cell."""
    inside, found = False, []
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and len(line.strip()) > 20:
            found.append(line.strip())
    return found


def _hidden_lines(source: str) -> list[str]:
    m = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    return [x.strip() for x in m.group(1).splitlines() if len(x.strip()) > 20] if m else []


_REGIONS = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END \1", re.S)


def _secret_lines(nb) -> list[str]:
    """Solution and hidden-test lines of a source notebook that appear nowhere else in it."""
    secret, public = [], set()
    for cell in nb.cells:
        lines = _solution_lines(cell.source) + _hidden_lines(cell.source)
        secret += lines
        rest = _REGIONS.sub("", cell.source)
        public |= {x.strip() for x in rest.splitlines()}
    return [x for x in secret if x not in public]


def _stripped(text: str) -> set[str]:
    return {x.strip() for x in text.splitlines()}


def _wrong_answers() -> list[dict]:
    found = []
    for path in sorted(WRONG.glob("*.py")):
        text = path.read_text()
        header = dict(re.findall(r"^# (assignment|cell|loses): (\S+)$", text, re.M))
        found.append({"name": path.stem, "code": text, **header})
    return found


# ----------------------------------------------------------------------------- forbid_calls


def test_forbid_calls_catches_aliases_and_indirect_calls():
    alias = bones.joints_to_bones
    poses = torch.randn(2, H36M_17.num_joints, 3)
    with pytest.raises(ForbiddenCallError, match="called joints_to_bones"):
        with forbid_calls(bones.joints_to_bones):
            alias(poses, H36M_17)
    # Called indirectly, through another library function (bone_vectors inside it).
    with pytest.raises(ForbiddenCallError, match="bone_vectors"):
        with forbid_calls(bones.bone_vectors):
            bones.joints_to_bones(poses, H36M_17)
    # Methods, given through the class, are caught when called on an instance.
    with pytest.raises(ForbiddenCallError, match="path_matrix"):
        with forbid_calls(Skeleton.path_matrix):
            H36M_17.path_matrix()


def test_forbid_calls_passes_own_code_and_restores_the_profiler():
    def own(joints):
        return joints[..., 1:, :] - joints[..., :-1, :]

    before = sys.getprofile()
    with forbid_calls(bones.joints_to_bones, Skeleton.path_matrix):
        out = own(torch.ones(3, 4, 3))
    assert out.shape == (3, 3, 3)
    assert sys.getprofile() is before
    # An error of the learner's code still propagates, and the profiler is restored.
    with pytest.raises(ZeroDivisionError):
        with forbid_calls(bones.joints_to_bones):
            1 / 0  # noqa: B018
    assert sys.getprofile() is before


def test_forbid_calls_rejects_what_it_cannot_watch():
    with pytest.raises(TypeError, match="no Python code to watch"):
        with forbid_calls(len):
            pass
    with pytest.raises(TypeError, match="at least one function"):
        with forbid_calls():
            pass


# ----------------------------------------------------------------------------- sources


def test_one_assignment_per_part_of_the_book_each_with_time_and_points():
    parts = (
        "bone decomposition",
        "two networks",
        "losses",
        "training and evaluation",
        "in the wild",
    )
    intros = {n: " ".join(kit.read_source(n).cells[0].source.split()) for n in NAMES}
    for part in parts:
        assert any(
            f"Part of the book: {part}" in text or f"Part of the book: the {part}" in text
            for text in intros.values()
        ), part
    for name, text in intros.items():
        assert re.search(r"Expected time: about \d+ minutes", text), name
        assert re.search(r"runs in under \d+ seconds on a laptop CPU", text), name
        qs = kit.questions(name)
        auto = sum(q.points for q in qs if q.kind == "auto")
        manual = sum(q.points for q in qs if q.kind == "manual")
        assert auto > 0 and manual > 0, name
        # The intro's point count is the notebook's.
        assert f"Points: {auto + manual:g} ({auto:g} autograded, {manual:g} by hand)" in text


# ----------------------------------------------------------------------------- releases


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    return kit.build(out)


def test_student_release_has_no_solutions_hidden_tests_or_answer_keys(releases):
    for name in NAMES:
        source = kit.read_source(name)
        student = nbformat.read(releases["student"] / name / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in student.cells)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, name
        assert "Answer key" not in text, name
        secret = _secret_lines(source)
        assert len(secret) > 10, name
        lines = _stripped(text)
        for line in secret:
            assert line not in lines, (name, line)
        stubs = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution")]
        code_stubs = [c for c in stubs if c.cell_type == "code"]
        assert code_stubs and all("raise NotImplementedError" in c.source for c in code_stubs)
        assert all("YOUR ANSWER HERE" in c.source for c in stubs if c.cell_type == "markdown")


def test_instructor_release_has_solutions_hidden_tests_keys_and_points(releases):
    with open(releases["instructor"] / "points.csv") as f:
        points = list(csv.DictReader(f))
    for name in NAMES:
        nb = nbformat.read(releases["instructor"] / name / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        qs = kit.questions(name)
        assert "BEGIN SOLUTION" in text and "BEGIN HIDDEN TESTS" in text and "Answer key" in text
        for q in qs:
            assert f"| `{q.grade_id}` |" in nb.cells[0].source
        rows = [r for r in points if r["assignment"] == name]
        assert [(r["question"], float(r["points"])) for r in rows] == [
            (q.grade_id, q.points) for q in qs
        ]
        # Every autograded question has hidden tests.
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                assert _hidden_lines(cell.source), (name, cell.metadata["nbgrader"]["grade_id"])


# ----------------------------------------------------------------------------- book page


def _comparable(nb):
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]


def test_book_page_is_generated_from_the_sources():
    committed = nbformat.read(REPO / "book" / "assignments.ipynb", as_version=4)
    assert _comparable(committed) == _comparable(kit.book_notebook()), (
        "book/assignments.ipynb is out of date: run `python course/kit.py book`"
    )


def test_book_page_collapses_answers_and_drops_hidden_tests():
    page = kit.book_notebook()
    text = "\n".join(c.source for c in page.cells)
    lines = _stripped(text)
    assert "HIDDEN TESTS" not in text and "SOLUTION" not in text
    assert not any("nbgrader" in c.metadata for c in page.cells)
    for name in NAMES:
        source = kit.read_source(name)
        secret = _secret_lines(source)
        for cell in source.cells:
            for line in set(_hidden_lines(cell.source)) & set(secret):
                assert line not in lines, line
            for line in set(_solution_lines(cell.source)) & set(secret):
                holders = [c for c in page.cells if line in _stripped(c.source)]  # collapsed
                assert holders and all("hide-cell" in c.metadata.get("tags", []) for c in holders)
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "markdown":
                keys = [c for c in page.cells if cell.source in c.source]
                assert len(keys) == 1 and ":class: dropdown" in keys[0].source


# ----------------------------------------------------------------------------- grading


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    """Grade, in one run: each assignment's solution, its blank student release, and one
    submission per deliberately wrong answer (course/wrong)."""
    subs = tmp_path_factory.mktemp("submitted")
    for name in NAMES:
        (subs / "solution" / name).mkdir(parents=True)
        shutil.copy(kit.SOURCE / name / f"{name}.ipynb", subs / "solution" / name)
        (subs / "blank" / name).mkdir(parents=True)
        shutil.copy(releases["student"] / name / f"{name}.ipynb", subs / "blank" / name)
    for wrong in _wrong_answers():
        nb = kit.read_source(wrong["assignment"])
        cells = [
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == wrong["cell"]
        ]
        assert len(cells) == 1, wrong["name"]
        cells[0].source = wrong["code"]
        folder = subs / f"wrong-{wrong['name']}" / wrong["assignment"]
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{wrong['assignment']}.ipynb")
    # A file that is not a notebook: nbgrader cannot run it.
    (subs / "broken" / NAMES[0]).mkdir(parents=True)
    (subs / "broken" / NAMES[0] / f"{NAMES[0]}.ipynb").write_text("{not a notebook")
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    rows = kit.grade(subs, out)
    return rows, out


def _scores(rows, student, name):
    return {r["question"]: r for r in rows if r["student"] == student and r["assignment"] == name}


@pytest.mark.slow
def test_solutions_get_full_marks(graded):
    rows, _ = graded
    for name in NAMES:
        got = _scores(rows, "solution", name)
        assert set(got) == {q.grade_id for q in kit.questions(name)}
        for q in kit.questions(name):
            if q.kind == "auto":
                assert float(got[q.grade_id]["score"]) == q.points, (name, q.grade_id)
            else:  # written answers wait for the instructor
                assert got[q.grade_id]["needs_manual_grade"] == "true", (name, q.grade_id)


@pytest.mark.slow
def test_blank_release_scores_zero_on_every_question(graded):
    rows, _ = graded
    for name in NAMES:
        got = _scores(rows, "blank", name)
        assert len(got) == len(kit.questions(name))
        for q in kit.questions(name):
            assert float(got[q.grade_id]["score"]) == 0.0, (name, q.grade_id)
            assert float(got[q.grade_id]["max_score"]) == q.points


@pytest.mark.slow
@pytest.mark.parametrize("wrong", _wrong_answers(), ids=lambda w: w["name"])
def test_wrong_answer_loses_exactly_its_question(graded, wrong):
    rows, _ = graded
    got = _scores(rows, f"wrong-{wrong['name']}", wrong["assignment"])
    auto = [q for q in kit.questions(wrong["assignment"]) if q.kind == "auto"]
    assert wrong["loses"] in {q.grade_id for q in auto}
    for q in auto:
        expected = 0.0 if q.grade_id == wrong["loses"] else q.points
        assert float(got[q.grade_id]["score"]) == expected, (wrong["name"], q.grade_id)


@pytest.mark.slow
def test_unreadable_submission_scores_zero_and_is_flagged(graded):
    rows, _ = graded
    got = _scores(rows, "broken", NAMES[0])
    assert set(got) == {q.grade_id for q in kit.questions(NAMES[0])}
    assert all(r["score"] == "0" and r["needs_manual_grade"] == "true" for r in got.values())


@pytest.mark.slow
def test_csv_file_holds_the_returned_rows(graded):
    rows, out = graded
    with open(out, newline="") as f:
        assert list(csv.DictReader(f)) == rows
    assert tuple(rows[0]) == kit.CSV_FIELDS


# ----------------------------------------------------------------------------- CLI errors


def _run_kit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(KIT_PATH), *args], capture_output=True, text=True, cwd=REPO
    )


def test_grade_missing_folder_exits_2_with_one_line(tmp_path):
    done = _run_kit("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "g.csv"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "expected a folder" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "g.csv").exists()


def test_grade_rejects_unknown_assignment_and_empty_folders(tmp_path):
    (tmp_path / "subs" / "alice" / "a9_nothing").mkdir(parents=True)
    with pytest.raises(kit.KitError, match="unknown assignment folder .*a9_nothing"):
        kit.find_submissions(tmp_path / "subs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(kit.KitError, match="no notebooks"):
        kit.find_submissions(tmp_path / "empty")
    (tmp_path / "subs2" / "bob" / NAMES[0]).mkdir(parents=True)
    with pytest.raises(kit.KitError, match=f"expected .*{NAMES[0]}.ipynb, not found"):
        kit.find_submissions(tmp_path / "subs2")
