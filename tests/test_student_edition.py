"""The student edition (`cnncourse student`): no answer and no hidden check in it, and every release notebook runs on it.

The edition is built once (a second or two) into a scratch folder and its wheel unpacked; kernels import it through
PYTHONPATH, which comes before the editable install of the full package.
"""

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading.course import REPO, CourseError, notebook_environment
from cnncourse.grading.student import (BEGIN, END, build_student_edition, graded_functions, solution_regions,
                                       strip_hidden_checks, stub_regions)

RELEASE_NOTEBOOKS = sorted(p.relative_to(REPO / "release") for p in (REPO / "release").glob("*/*.ipynb"))
LEAK_MARK = "leaves its answer out"  # in every package stub's message, never in a notebook stub's


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """{"out": dist folder, "package": the unpacked wheel's folder (holding cnncourse/), "manifest": dict}."""
    out = tmp_path_factory.mktemp("student") / "dist"
    manifest = build_student_edition(out=out)
    unpacked = out.parent / "unpacked"
    with zipfile.ZipFile(manifest["wheel"]) as wheel:
        wheel.extractall(unpacked)
    return {"out": out, "package": unpacked, "manifest": manifest}


def region_bodies(package_dir):
    """{"module:line": the stripped, non-blank lines of one solution region} over the full package."""
    bodies = {}
    for path in sorted(Path(package_dir).rglob("*.py")):
        lines = path.read_text().split("\n")
        for begin, end in solution_regions(path.read_text()):
            body = [line.strip() for line in lines[begin + 1:end] if line.strip() and not line.strip().startswith("#")]
            bodies[f"{path.relative_to(package_dir)}:{begin + 1}"] = body
    return bodies


LEAK_WINDOW = 4  # consecutive code lines of a solution body that count as a copy (3 match common Keras idioms)


def leaks(package_dir, bodies):
    """The regions of `bodies` whose code appears in package_dir: LEAK_WINDOW consecutive lines, or all of a
    shorter body (indentation and comments ignored)."""
    text = "\n".join(line.strip() for path in sorted(Path(package_dir).rglob("*.py"))
                     for line in path.read_text().split("\n"))
    found = []
    for where, body in bodies.items():
        k = min(LEAK_WINDOW, len(body))
        pieces = ["\n".join(body[i:i + k]) for i in range(len(body) - k + 1)]
        if any(piece and piece in text for piece in pieces):
            found.append(where)
    return found


def test_the_wheel_holds_no_answer_no_hidden_check_and_no_instructor_tool(edition):
    package = edition["package"] / "cnncourse"
    assert not leaks(package, region_bodies(REPO / "cnncourse")), "solution code in the student wheel"
    text = {p.relative_to(package): p.read_text() for p in package.rglob("*.py")}
    assert not [p for p, t in text.items() if BEGIN in t.split("\n") or any(l.strip() == END for l in t.split("\n"))]
    hidden = [f"{p}:{node.lineno}" for p, t in text.items() for node in ast.walk(ast.parse(t))
              if isinstance(node, (ast.FunctionDef, ast.Name, ast.Attribute))
              and getattr(node, "name", getattr(node, "id", getattr(node, "attr", ""))).startswith("hidden_")]
    assert not hidden, f"hidden checks in the student wheel: {hidden}"
    assert not (package / "grading").exists() and not (package / "bench").exists()
    assert len(edition["manifest"]["stubbed"]) == len(graded_functions()) > 50
    assert {"README.md", "MANIFEST.json", "nbgrader_config.py", "constraints.txt",
            "constraints-gpu.txt"} <= {p.name for p in edition["out"].iterdir()}
    assert sorted(p.name for p in (edition["out"] / "release").iterdir()) == sorted(
        p.name for p in (REPO / "release").iterdir() if p.is_dir())


def test_the_leak_check_finds_an_answer_put_back(edition, tmp_path):
    """The check above can fail: one solution body copied back into a module is found, and named."""
    package = tmp_path / "cnncourse"
    import shutil

    shutil.copytree(edition["package"] / "cnncourse", package)
    bodies = region_bodies(REPO / "cnncourse")
    where, body = next((w, b) for w, b in bodies.items() if w.startswith("ops/c3_boxes.py") and len(b) > 2)
    with open(package / "widgets" / "iou_playground.py", "a") as f:
        f.write("\n\ndef copied(box1, box2):\n" + "\n".join("    " + line for line in body) + "\n")
    assert leaks(package, bodies) == [where]


def test_stubbing_and_stripping_on_small_sources():
    text = "def f(x):\n    check(x)\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    stubbed, n = stub_regions(text)
    assert n == 1 and stubbed.split("\n")[2:4] == ["    # YOUR CODE HERE", "    raise NotImplementedError(stub_message())"]
    assert stub_regions('hint = "keep the checks above ### BEGIN SOLUTION"\n')[1] == 0  # a marker stands alone
    for broken in ("### BEGIN SOLUTION\n", "### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"):
        with pytest.raises(CourseError, match="SOLUTION"):
            solution_regions(broken)
    checks = ("def _oracle(x):\n    return x\n\n\ndef _shared(x):\n    return x\n\n\n"
              "def public_f(f):\n    return _shared(f)\n\n\ndef hidden_f(f):\n    return _oracle(f)\n")
    cleaned, removed = strip_hidden_checks(checks)
    assert removed == ["_oracle", "hidden_f"] and "_shared" in cleaned and "public_f" in cleaned


# The full package's editable install answers for sub-packages that the student edition lacks (grading, bench);
# a student's machine has no such install, so the subprocesses below drop its finder first.
WITHOUT_FULL_PACKAGE = "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"


def run_python(code, edition, **env):
    # cwd: not the repository, whose cnncourse/ would come first on sys.path
    return subprocess.run([sys.executable, "-c", WITHOUT_FULL_PACKAGE + code], capture_output=True, text=True, timeout=300,
                          cwd=edition["out"],
                          env={**os.environ, "PYTHONPATH": str(edition["package"]), "TF_CPP_MIN_LOG_LEVEL": "3", **env})


def test_a_stripped_function_says_which_exercise_it_is(edition):
    code = """
import numpy as np
import cnncourse.edition, cnncourse.ops.conv as conv, cnncourse.ops.c3_boxes as boxes
from cnncourse.models.c2_classic import LocalResponseNormalization
print(cnncourse.edition.EDITION)
for call in (lambda: conv.zero_pad(np.zeros((1, 2, 2, 1)), 1), lambda: boxes.iou([0, 0, 1, 1], [0, 0, 1, 1]),
             lambda: LocalResponseNormalization()(np.ones((1, 2, 2, 3), dtype="float32"))):
    try:
        call()
    except NotImplementedError as err:
        print(str(err).splitlines()[0] if "LocalResponse" not in str(err) else "LRN: " + str(err).split("\\n")[2])
"""
    run = run_python(code, edition)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().split("\n")
    assert lines[0] == "student"
    assert lines[1].startswith("cnncourse.ops.conv.zero_pad is an exercise (c1_convolution/c1_1_convolution_numpy.ipynb)")
    assert lines[2].startswith("cnncourse.ops.c3_boxes.iou is an exercise (c3_detection/c3_2_boxes_anchors.ipynb)")
    assert "cnncourse.models.c2_classic.LocalResponseNormalization is an exercise" in lines[3]


def test_instructor_commands_say_they_are_not_in_the_student_edition_and_doctor_names_it(edition):
    for argv in (["grade", "x"], ["student"], ["collect", "c1_convolution"], ["bench", "conv"]):
        run = run_python(f"import sys, cnncourse.cli; sys.exit(cnncourse.cli.main({argv!r}))", edition)
        assert run.returncode == 2 and "student edition" in run.stderr and f"`{argv[0]}`" in run.stderr, run.stderr
    run = run_python("from cnncourse.doctor import edition_line; print(edition_line())", edition)
    assert run.stdout.startswith(f"edition: student ({len(graded_functions())} graded functions are stubs"), run.stderr
    from cnncourse.doctor import edition_line

    assert edition_line().startswith("edition: full")


def test_reveal_keeps_the_chapters_answers_and_rejects_unknown_chapters(tmp_path):
    manifest = build_student_edition(out=tmp_path / "dist", reveal=("c4_unet",))
    assert all(not name.startswith(("cnncourse.ops.c4_", "cnncourse.models.c4_")) for name in manifest["stubbed"])
    assert "cnncourse.models.c4_unet.unet_model" in manifest["revealed"]
    assert "cnncourse.ops.conv.zero_pad" in manifest["stubbed"]
    with zipfile.ZipFile(manifest["wheel"]) as wheel:
        unet = wheel.read("cnncourse/models/c4_unet.py").decode()
        conv = wheel.read("cnncourse/ops/conv.py").decode()
    assert "raise NotImplementedError(stub_message())" not in unet and "keras.Model(inputs, outputs" in unet
    assert "raise NotImplementedError(stub_message())" in conv
    with pytest.raises(CourseError, match="unknown chapter.*c9_nothing.*c1_convolution"):
        build_student_edition(out=tmp_path / "other", reveal=("c9_nothing",))


def solved(release_path, notebook):
    """The release notebook with the source notebook's solution cells: a student who solved every exercise."""
    nb = nbformat.read(release_path, as_version=4)
    source = nbformat.read(REPO / "source" / notebook, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def execute(nb, folder, edition, stop_at_error=False):
    """Run nb in grade mode with the student edition first on the kernel's path; returns the error outputs
    [(cell index, output)], of every cell, or up to the first failing one with stop_at_error."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(nb, timeout=600, startup_timeout=120, kernel_name="python3", allow_errors=not stop_at_error,
                            resources={"metadata": {"path": str(folder)}}, record_timing=False,
                            shutdown_kernel="immediate")
    with notebook_environment("grade"):
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = str(edition["package"])
        try:
            client.execute()
        except CellExecutionError:
            pass  # stop_at_error: the failing cell's error output is read below
        finally:
            os.environ.pop("PYTHONPATH") if saved is None else os.environ.__setitem__("PYTHONPATH", saved)
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("notebook", RELEASE_NOTEBOOKS, ids=[p.stem for p in RELEASE_NOTEBOOKS])
def test_release_notebooks_run_on_the_student_edition(notebook, edition, tmp_path):
    """Solved, a release notebook runs top to bottom on the student edition (its own answers, the package's twins);
    untouched, it stops at the first exercise with the notebook's own stub, not with one inside the package."""
    folder = tmp_path / notebook.parent
    import shutil

    shutil.copytree(edition["out"] / "release" / notebook.parent, folder)
    errors = execute(solved(folder / notebook.name, notebook), folder, edition)
    assert not errors, f"{notebook}, solved: " + "; ".join(f"cell {i}: {o.ename}: {o.evalue[:300]}" for i, o in errors)
    errors = execute(nbformat.read(folder / notebook.name, as_version=4), folder, edition, stop_at_error=True)
    assert errors, f"{notebook}, untouched: no cell failed, yet every exercise is a stub"
    index, first = errors[0]
    # the stub's error itself, or a public check that caught it and says so ("conv_block raised NotImplementedError")
    own_stub = first.ename == "NotImplementedError" or "raised NotImplementedError" in first.evalue
    assert own_stub and LEAK_MARK not in first.evalue, \
        f"{notebook}, untouched: cell {index} failed with {first.ename}: {first.evalue[:300]} (expected the notebook's own stub)"
