"""Feedback hides the hidden tests (cnncourse/grading/feedback.py): sources, tracebacks, outputs, extra files.

Unit tests build notebooks in code (tests/roundtrip.py's helpers); the tracebacks are real ones, from running a
small notebook in an IPython kernel once. The end-to-end test grades the tiny synthetic chapter (tests/roundtrip.py)
with `cnncourse grade`, for a student whose hidden test fails and whose code tries to print and save the hidden tests.
"""

import copy
import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_output

from cnncourse.grading.course import COURSE_DIR, load_course, write_course_config
from cnncourse.grading.feedback import HideHiddenTests, feedback_preprocessors, prune_feedback_folder, strip_ansi
from roundtrip import (SYNTHETIC_CHAPTER as CH, build_synthetic_course, edit_cell, grade_cell, locked_cell, markdown_cell,
                       notebook, put_submission, solution_cell)

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NOTE = HideHiddenTests.code_note.default_value


def hide(nb, **settings):
    """A copy of `nb` as the feedback shows it."""
    nb, _ = HideHiddenTests(**settings).preprocess(copy.deepcopy(nb), {})
    return nb


def one_cell(source):
    return notebook(grade_cell(source, "t_tests", 1))


# --- sources -----------------------------------------------------------------------------------------------------

def test_a_hidden_region_becomes_one_note_and_the_visible_tests_stay():
    nb = one_cell(f"assert f(1) == 2, 'f(1)'\nprint('public checks passed')\n{BEGIN}\nassert f(-7) == -14, 'f(-7)'\n{END}")
    source = hide(nb).cells[0].source
    assert source == f"assert f(1) == 2, 'f(1)'\nprint('public checks passed')\n{NOTE}"
    assert "HIDDEN TESTS" not in source.replace(NOTE, "") and "f(-7)" not in source


def test_odd_spacing_and_indentation_are_regions_too_and_the_note_keeps_the_indentation():
    source = ("for x in range(3):\n    assert f(x) == 2 * x\n"
              "    ###BEGIN HIDDEN TESTS   \n    assert f(-x) == -2 * x\n      assert_more(x)\n"
              "    #  END HIDDEN TESTS\n    done(x)\nafter()")
    shown = hide(one_cell(source)).cells[0].source
    assert shown == f"for x in range(3):\n    assert f(x) == 2 * x\n    {NOTE}\n    done(x)\nafter()"


def test_several_regions_in_a_cell_each_become_a_note_and_the_code_between_stays():
    source = f"a()\n{BEGIN}\nsecret_one()\n{END}\nb()\n{BEGIN}\nsecret_two()\nsecret_three()\n{END}\nc()"
    assert hide(one_cell(source)).cells[0].source == f"a()\n{NOTE}\nb()\n{NOTE}\nc()"


def test_a_notebook_without_hidden_tests_is_unchanged():
    nb = notebook(locked_cell("import math", "setup"), grade_cell("assert math.pi > 3", "pi_tests", 1),
                  markdown_cell("Some *text*", "md"))
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="assert math.pi > 3 passed\n")]
    assert hide(nb) == nb


def test_an_unclosed_region_is_hidden_to_the_end_of_its_cell():
    assert hide(one_cell(f"visible()\n{BEGIN}\nsecret()\nmore_secret()")).cells[0].source == f"visible()\n{NOTE}"


def test_a_markdown_region_gets_the_text_note():
    nb = notebook(markdown_cell(f"Answer:\n{BEGIN}\nthe expected answer is 42\n{END}", "md"))
    assert hide(nb).cells[0].source == "Answer:\n" + HideHiddenTests.text_note.default_value


def test_the_delimiters_follow_nbgraders_configuration():
    nb = one_cell("visible()\n## HIDE ME\nsecret()\n## SHOW AGAIN\nend()")
    shown = hide(nb, begin_test_delimeter="HIDE ME", end_test_delimeter="SHOW AGAIN").cells[0].source
    assert shown == f"visible()\n{NOTE}\nend()"


# --- tracebacks, from a real kernel ----------------------------------------------------------------------------------

STUDENT = "def g(x):\n    y = x + 1\n    return 2 * y"
HIDDEN_CHECKS = "from cnncourse.checks.core import expect_equal"
CASES = {
    # a hidden check (in cnncourse.checks) fails: only the message is left
    "hidden_fails": f"assert g(0) == 2\n{BEGIN}\nexpect_equal(g(5), 10, 'g(5)', case='x = 5')\n{END}",
    # the hidden test calls the student's code, which raises: the student's frame stays
    "student_raises": f"assert g(1) == 4\n{BEGIN}\nexpect_equal(g(None), 0, 'g(None)')\n{END}",
    # a visible test fails: its frame stays, without the hidden lines quoted around it
    "visible_fails": f"a = 1\nb = 2\nassert g(1) == 5, 'g(1) should be 5'\n{BEGIN}\nsecret_value = 12345\nexpect_equal(g(9), 20, 'g(9)')\n{END}",
}


@pytest.fixture(scope="module")
def executed():
    """The notebook (setup, the student's g, one grade cell per case) run in a kernel, errors kept."""
    from nbclient import NotebookClient

    cells = [locked_cell(HIDDEN_CHECKS, "setup"), solution_cell(STUDENT, "g")]
    cells += [grade_cell(source, f"{name}_tests", 1) for name, source in CASES.items()]
    nb = notebook(*cells)
    NotebookClient(nb, allow_errors=True, timeout=60, kernel_name="python3", shutdown_kernel="immediate").execute()
    return nb


def error_of(nb, name):
    cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == f"{name}_tests")
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    return error, strip_ansi("\n".join(error.traceback))


def test_a_failing_hidden_check_shows_its_message_but_not_its_code_or_the_checks(executed):
    raw_error, raw = error_of(executed, "hidden_fails")
    assert "expect_equal(g(5)" in raw and "checks/core.py" in raw  # what there is to hide
    error, text = error_of(hide(executed), "hidden_fails")
    assert (error.ename, error.evalue) == (raw_error.ename, raw_error.evalue)
    assert "g(5): expected 10, got 12 [case: x = 5]" in text
    assert "expect_equal(g(5)" not in text and "checks" not in text and "HIDDEN" not in text
    assert "frame(s) of the tests not shown" in text


def test_the_students_own_frame_stays_when_a_hidden_test_makes_it_raise(executed):
    error, text = error_of(hide(executed), "student_raises")
    assert error.ename == "TypeError" and "NoneType" in text.splitlines()[-1]
    assert "in g(x)" in text and "y = x + 1" in text  # the student's function, where it failed
    assert "g(None)" not in text and "core.py" not in text


def test_a_failing_visible_test_keeps_its_frame_without_the_hidden_lines_around_it(executed):
    _, raw = error_of(executed, "visible_fails")
    assert "secret_value = 12345" in raw  # IPython quotes the lines after the failing one
    _, text = error_of(hide(executed), "visible_fails")
    assert "assert g(1) == 5, 'g(1) should be 5'" in text and "b = 2" in text
    assert "secret_value" not in text and "expect_equal(g(9)" not in text and "HIDDEN" not in text


# --- outputs and metadata -----------------------------------------------------------------------------------------------

def test_output_lines_that_quote_hidden_tests_are_removed_wherever_they_are():
    source = f"for part in credit:\n    credit.run(part, public)\n{BEGIN}\nfor part in credit:\n    credit.run(part, hidden_check)\n{END}"
    nb = one_cell(source)
    leak = source + "\n"  # a student's function printing In[-1], the cell that calls it
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text="my debug line\n" + leak + "for part in credit: visible, no secret\n"),
        new_output("execute_result", data={"text/plain": repr(source), "image/png": "iVBORw0KGgo="}, execution_count=1),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {"state": {"value": source}}}}}
    shown = hide(nb)
    stream, result = shown.cells[0].outputs
    note = HideHiddenTests.output_note.default_value
    assert stream.text.splitlines()[0] == "my debug line" and "for part in credit: visible, no secret" in stream.text
    assert "hidden_check" not in stream.text and "HIDDEN" not in stream.text and note in stream.text
    assert result.data["text/plain"] == note and result.data["image/png"] == "iVBORw0KGgo="
    value = shown.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]["m1"]["state"]["value"]
    assert "hidden_check" not in value and "HIDDEN" not in value


# --- configuration and the feedback folder ------------------------------------------------------------------------------------

def test_generate_feedback_runs_it_after_nbgraders_grades_in_the_course_and_in_scratch_courses(tmp_path):
    from nbgrader.preprocessors import GetGrades

    write_course_config(tmp_path / "course", tmp_path / "source", tmp_path / "release")
    for course in (load_course(COURSE_DIR), load_course(tmp_path / "course")):
        pps = course.config.GenerateFeedback.preprocessors
        assert pps == feedback_preprocessors() and pps.index(HideHiddenTests) == pps.index(GetGrades) + 1


def test_prune_keeps_only_the_feedback_pages_and_nbgraders_files(tmp_path):
    for name in ("part1.html", "part2.html", "timestamp.txt", "submission_secret.txt", "leak.html", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part1.html").write_text("x")
    assert prune_feedback_folder(tmp_path, ["part1", "part2"]) == ["leak.html", "notes.txt", "sub"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part1.html", "part2.html", "submission_secret.txt", "timestamp.txt"]


# --- end to end: cnncourse grade --------------------------------------------------------------------------------------

HIDDEN_LINES = ["double(-1.5) == -3.0", "square(-3) == 9", "cube(-1) == -1"]  # the synthetic chapter's hidden tests
LEAKY_CUBE = ('def cube(x):\n    """Return x cubed, and try to leak the test cell that calls it."""\n'
              "    print(In[-1])\n    print(repr(In[-1]))\n"
              "    with open('part3.html', 'w') as fh:\n        fh.write(In[-1])\n"
              "    return x ** 3")


def page_text(path):
    """What a browser shows of an HTML page: the text without tags (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", Path(path).read_text()))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The synthetic chapter graded by `cnncourse grade` for mallory: square fails only its hidden test; cube leaks."""
    from cnncourse.cli import main

    root = tmp_path_factory.mktemp("repo")
    source, _ = build_synthetic_course(root)
    nbs = edit_cell(source, "square", "return x * x", "return x * 2")  # square(2) == 4 still; square(-3) is -6
    cube = next(c for c in nbs["part2"].cells if c.metadata.get("nbgrader", {}).get("grade_id") == "cube")
    cube.source = LEAKY_CUBE
    incoming = tmp_path_factory.mktemp("incoming")
    put_submission(incoming / "submitted", "mallory", {f"{name}.ipynb": nb for name, nb in nbs.items()})
    status = main(["grade", str(incoming), "--course-dir", str(root / "autograder"), "--out", str(incoming)])
    course = root / "autograder"
    return course, status


def test_graded_feedback_shows_failures_but_no_hidden_tests(graded):
    course, status = graded
    assert status == 0  # graded, nothing flagged
    folder = course / "feedback" / "mallory" / CH
    part1, part2 = page_text(folder / "part1.html"), page_text(folder / "part2.html")
    assert "square(-3) should be 9, got -6" in part1  # the hidden test's failure message
    assert "square(2) == 4" in part1 and "cube(2) == 8" in part2  # the visible tests
    for text in (part1, part2):
        assert not [line for line in HIDDEN_LINES if line in text]
        assert "BEGIN HIDDEN TESTS" not in text and NOTE in text
    for page in (folder / "part1.html", folder / "part2.html"):
        assert "BEGIN HIDDEN TESTS" not in page.read_text()
    assert "part3.html" not in {p.name for p in folder.iterdir()}  # written by the student's code while graded


def test_the_autograded_notebooks_keep_the_hidden_tests_and_the_leak_attempt(graded):
    course, _ = graded
    folder = course / "autograded" / "mallory" / CH
    part1 = nbformat.read(str(folder / "part1.ipynb"), as_version=4)
    part2 = nbformat.read(str(folder / "part2.ipynb"), as_version=4)
    assert "square(-3) == 9" in "".join(c.source for c in part1.cells) and BEGIN in "".join(c.source for c in part1.cells)
    printed = "".join(o.get("text", "") for c in part2.cells for o in c.get("outputs", []))
    assert "cube(-1) == -1" in printed and BEGIN in printed  # what the feedback had to hide
    assert "cube(-1) == -1" in (folder / "part3.html").read_text()
    # and the page-text search would have found it, had the feedback rendered the notebook as it is
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="classic").from_notebook_node(part1)
    assert "square(-3) == 9" in html.unescape(re.sub(r"<[^>]+>", "", body))


def test_nbgraders_own_generate_feedback_command_hides_them_too(graded):
    course, _ = graded
    page = course / "feedback" / "mallory" / CH / "part1.html"
    page.unlink()
    run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", CH, "--force"],
                         cwd=course, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    text = page_text(page)
    assert "square(-3) should be 9, got -6" in text and "square(-3) == 9" not in text and "BEGIN HIDDEN" not in text


def test_the_formgraders_api_hides_them_too(graded, monkeypatch):
    """The formgrader loads nbgrader_config.py from its folder and calls NbGraderAPI.generate_feedback."""
    from nbgrader.apps import NbGrader, NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course, _ = graded
    page = course / "feedback" / "mallory" / CH / "part2.html"
    page.unlink()
    monkeypatch.chdir(course)
    app = NbGrader()
    app.load_config_file()
    api = NbGraderAPI(CourseDirectory(parent=app), parent=app)
    result = api.generate_feedback(CH, "mallory", force=True)
    assert result["success"], result.get("error")
    text = page_text(page)
    assert "cube(2) == 8" in text and "cube(-1) == -1" not in text and "BEGIN HIDDEN" not in text
