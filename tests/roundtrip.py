"""The nbgrader round trip, shared by the tests: build notebooks in code, release them, grade submissions.

Notebook helpers (as nbgrader's own tests do it): `solution_cell`, `grade_cell`, `locked_cell`,
`reference_cell`, `markdown_cell`, `notebook`. A test states exactly the notebook it needs.

`RoundTrip(chapter_source, course_dir)` copies one chapter into a scratch course (with the real course's
nbgrader settings), renders its reference cells from the package (sync), and runs generate_assignment.
`rt.grade({student: {notebook_name: notebook}})` runs ONE autograde over all those submissions and returns the
scores per student per grade cell, read from nbgrader's Gradebook: {student: {grade_id: (score, max_score)}}.
`roundtrip(chapter_source, course_dir, submissions)` does both in one call.
"""

import copy
import shutil
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnncourse.grading.course import REPO, load_course, notebook_environment, run_nbgrader, write_course_config
from cnncourse.grading.judge import judge_submission
from cnncourse.grading.notebooks import references as cell_references, sync_references
from cnncourse.grading.sandbox import Limits
from cnncourse.grading.worker import sandboxed_kernels

# Chapters whose round trip passed in this pytest session; tests/conftest.py prints them at the end.
RAN = []
# What tests/test_grade_bad_input.py proved, printed at the end likewise.
BAD_INPUT = []
# The chapters of the course (DESIGN.md); those not in source/ yet are listed as not tested.
PLANNED_CHAPTERS = ("c1_convolution", "c2_classic_nets", "c3_detection", "c4_unet", "c5_face_recognition", "c6_style_transfer")


# --- notebooks in code ---------------------------------------------------------------------------------------------

def _nbgrader(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def solution_cell(source, grade_id):
    """A code cell the student completes; its solution lies between ### BEGIN/END SOLUTION."""
    return new_code_cell(source, id=grade_id.replace("_", "-"), metadata={"nbgrader": _nbgrader(grade_id, solution=True)})


def reference_cell(dotted, grade_id, source="# rendered by cnncourse build"):
    """A solution cell whose source the build renders from the package function `dotted`."""
    cell = solution_cell(source, grade_id)
    cell.metadata["cnncourse"] = {"reference": dotted}
    return cell


def grade_cell(source, grade_id, points):
    """A locked test cell worth `points`; hidden tests lie between ### BEGIN/END HIDDEN TESTS."""
    meta = {"nbgrader": _nbgrader(grade_id, grade=True, locked=True, points=points), "deletable": False, "editable": False}
    return new_code_cell(source, id=grade_id.replace("_", "-"), metadata=meta)


def locked_cell(source, grade_id):
    """A read-only code cell (setup, imports)."""
    meta = {"nbgrader": _nbgrader(grade_id, locked=True), "deletable": False, "editable": False}
    return new_code_cell(source, id=grade_id.replace("_", "-"), metadata=meta)


def markdown_cell(source, cell_id):
    return new_markdown_cell(source, id=cell_id)


def notebook(*cells):
    """A v4.5 notebook with the python3 kernel."""
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def grade_ids(nb):
    """grade_ids of the grade cells of a notebook, in order."""
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


# --- the round trip ------------------------------------------------------------------------------------------------

class RoundTrip:
    """One chapter in a scratch nbgrader course, released and ready to grade submissions."""

    def __init__(self, chapter_source, course_dir, sync=True):
        chapter_source = Path(chapter_source)
        self.chapter = chapter_source.name
        self.course_dir = Path(course_dir)
        self.source = self.course_dir / "source"
        self.release = self.course_dir / "release"
        shutil.copytree(chapter_source, self.source / self.chapter, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        write_course_config(self.course_dir, self.source, self.release)
        if sync:  # the scratch copy only: the repository's source/ is checked by test_build's drift test
            with notebook_environment():
                sync_references(sorted((self.source / self.chapter).glob("*.ipynb")))
        self.course = load_course(self.course_dir)
        run = run_nbgrader("generate_assignment", self.course, self.chapter, force=True)
        if not run.success:
            raise AssertionError(f"generate_assignment {self.chapter} failed: {run.reason()}\n{run.log}{run.error}")
        self.names = sorted(p.stem for p in (self.source / self.chapter).glob("*.ipynb"))
        ids = [gid for name in self.names for gid in grade_ids(self.source_notebooks()[name])]
        duplicates = sorted({g for g in ids if ids.count(g) > 1})
        if duplicates:
            raise AssertionError(f"{self.chapter}: grade_ids repeat across notebooks: {duplicates}")
        self.grade_ids = ids

    def _read(self, folder):
        return {name: nbformat.read(str(folder / self.chapter / f"{name}.ipynb"), as_version=4) for name in self.names}

    def source_notebooks(self):
        """{notebook name: the synced instructor notebook} (fresh copies)."""
        return self._read(self.source)

    def release_notebooks(self):
        """{notebook name: the student notebook as released} (fresh copies)."""
        return self._read(self.release)

    def grade(self, submissions):
        """Autograde {student: {notebook name: notebook or raw text}} in one nbgrader run.

        Returns {student: {grade_id: (score, max_score)}}. Raises AssertionError with nbgrader's log when the
        autograde run fails.
        """
        submitted = self.course_dir / "submitted"
        for student, notebooks in submissions.items():
            for name, nb in notebooks.items():
                path = submitted / student / self.chapter / f"{Path(name).stem}.ipynb"
                if isinstance(nb, str):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(nb)
                else:
                    write(copy.deepcopy(nb), path)
        # Graded as `cnncourse grade` grades: kernels in the sandbox, the chapter's reference functions guarded (a
        # source notebook that scores full marks proves the guard flags none of the course's own code).
        autograded = self.course_dir / "autograded"
        autograded.mkdir(exist_ok=True)
        references = sorted({ref for nb in self.source_notebooks().values() for _, _, ref in cell_references(nb)})
        with sandboxed_kernels(self.course, keep=[autograded], hide=[REPO / "source", REPO / "autograder"],
                               limits=asdict(Limits()), references=references) as evidence:
            run = run_nbgrader("autograde", self.course, self.chapter, student="*")
            self.last_log = run.log
            if not run.success:
                raise AssertionError(f"autograde of {self.chapter} failed: {run.reason()}\n{run.log}{run.error}")
            # and as `cnncourse grade` does, every verdict is judged again outside the kernels (grading/judge.py)
            self.flagged, self.judge_log = {}, ""
            for student in submissions:
                flagged, log = judge_submission(self.course, self.chapter, student,
                                                autograded / student / self.chapter, evidence)
                self.flagged[student], self.judge_log = flagged, self.judge_log + log
        scores = {}
        with notebook_environment(), self.course.gradebook() as gb:
            for student in submissions:
                submission = gb.find_submission(self.chapter, student)
                scores[student] = {
                    g.name: (float(g.score), float(g.max_score)) for nb in submission.notebooks for g in nb.grades
                }
        return scores

    def autograded(self, student, name):
        """The autograded notebook of a student (outputs of the tests included)."""
        path = self.course_dir / "autograded" / student / self.chapter / f"{Path(name).stem}.ipynb"
        return nbformat.read(str(path), as_version=4)


def roundtrip(chapter_source, course_dir, submissions, sync=True):
    """Release `chapter_source` in the scratch course `course_dir` and grade `submissions` in one autograde run.

    `submissions` is {student: {notebook name: notebook}}; returns {student: {grade_id: (score, max_score)}}.
    """
    return RoundTrip(chapter_source, course_dir, sync=sync).grade(submissions)


def error_text(nb, grade_id, streams=False):
    """The error output (ename, evalue and traceback, joined) of the cell `grade_id`, or "" if it did not fail.

    streams=True adds what the cell printed (a partial-credit cell prints its failed parts instead of raising).
    """
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            outputs = cell.get("outputs", [])
            text = "\n".join(
                "\n".join([o.get("ename", ""), o.get("evalue", ""), *o.get("traceback", [])])
                for o in outputs if o.get("output_type") == "error"
            )
            if streams:
                text += "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            return text
    raise KeyError(f"no cell with grade_id {grade_id!r}")


# --- a tiny synthetic chapter ----------------------------------------------------------------------------------------

SYNTHETIC_CHAPTER = "ch1"
SYNTHETIC_POINTS = {"double_tests": 2, "square_tests": 3, "cube_tests": 1}

REFERENCE_MODULE = '''"""Reference functions of the synthetic chapter (a stand-in for cnncourse.ops)."""


def double(x):
    """Return 2 * x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''

SQUARE = '''def square(x):
    """Return x squared."""
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION'''

CUBE = '''def cube(x):
    """Return x cubed."""
    ### BEGIN SOLUTION
    return x ** 3
    ### END SOLUTION'''


def synthetic_notebooks(module):
    """{name: notebook} of the synthetic chapter; part1's `double` is a reference cell naming `module`.double."""
    part1 = notebook(
        markdown_cell("# Part 1\nWrite `double` and `square`.", "intro"),
        locked_cell("import math", "setup"),
        reference_cell(f"{module}.double", "double"),
        grade_cell(
            'assert double(3) == 6, f"double(3) should be 6, got {double(3)}"\n'
            "### BEGIN HIDDEN TESTS\nassert double(-1.5) == -3.0, 'double(-1.5)'\n### END HIDDEN TESTS",
            "double_tests", SYNTHETIC_POINTS["double_tests"],
        ),
        solution_cell(SQUARE, "square"),
        grade_cell(
            'assert square(2) == 4, "square(2) should be 4"\n'
            "### BEGIN HIDDEN TESTS\nassert square(-3) == 9, f'square(-3) should be 9, got {square(-3)}'\n### END HIDDEN TESTS",
            "square_tests", SYNTHETIC_POINTS["square_tests"],
        ),
    )
    part2 = notebook(
        markdown_cell("# Part 2\nWrite `cube`.", "intro"),
        solution_cell(CUBE, "cube"),
        grade_cell(
            'assert cube(2) == 8, "cube(2) should be 8"\n'
            "### BEGIN HIDDEN TESTS\nassert cube(-1) == -1, 'cube(-1)'\n### END HIDDEN TESTS",
            "cube_tests", SYNTHETIC_POINTS["cube_tests"],
        ),
    )
    return {"part1": part1, "part2": part2}


def make_synthetic_repo(root, module):
    """A miniature repository: <root>/<module>.py, source/ch1/{part1,part2}.ipynb, autograder/nbgrader_config.py.

    Put `root` on sys.path before syncing, so that the reference `<module>.double` can be imported.
    Returns root.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(REFERENCE_MODULE)
    for name, nb in synthetic_notebooks(module).items():
        write(nb, root / "source" / SYNTHETIC_CHAPTER / f"{name}.ipynb")
    write_course_config(root / "autograder", root / "source", root / "release")
    return root


def build_synthetic_course(root):
    """make_synthetic_repo in `root` with a fresh module name, then `cnncourse build` without executing.

    Returns ({name: source notebook}, {name: release notebook}).
    """
    import sys
    import uuid

    from cnncourse.grading.build import build

    module = f"synthref_{uuid.uuid4().hex[:8]}"
    sys.path.insert(0, str(root))
    try:
        make_synthetic_repo(root, module)
        build(repo=root, execute=False)
    finally:
        sys.path.remove(str(root))
        sys.modules.pop(module, None)
    return read_folder(Path(root) / "source" / SYNTHETIC_CHAPTER), read_folder(Path(root) / "release" / SYNTHETIC_CHAPTER)


# --- submissions in code ---------------------------------------------------------------------------------------------

def read_folder(folder):
    """{notebook stem: notebook} of every notebook in `folder`."""
    return {p.stem: nbformat.read(str(p), as_version=4) for p in sorted(Path(folder).glob("*.ipynb"))}


def edit_cell(nbs, grade_id, old, new):
    """A copy of the notebooks {name: nb} with `old` replaced by `new` in the cell `grade_id` (which must contain it)."""
    nbs = copy.deepcopy(nbs)
    for nb in nbs.values():
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                assert old in cell.source, f"{old!r} not in cell {grade_id}"
                cell.source = cell.source.replace(old, new)
                return nbs
    raise KeyError(grade_id)


def put_submission(folder, student, notebooks, chapter=SYNTHETIC_CHAPTER):
    """Write {file name: notebook, or raw text, or bytes} into folder/student/chapter/."""
    for name, nb in notebooks.items():
        path = Path(folder) / student / chapter / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        elif isinstance(nb, str):
            path.write_text(nb)
        else:
            write(nb, path)
