"""`cnncourse grade`: correct scores, and bad input reported per submission while the others are still graded.

One synthetic course (tests/roundtrip.py: chapter ch1, part1 = double 2 pts + square 3 pts, part2 = cube 1 pt)
is built once; the first grade() run grades a class in which each student shows one case. Expected scores are
the points of the grade cells that each submission must pass, taken from the chapter's definition.
"""

import csv
import sys

import pytest

from cnncourse.cli import main
from cnncourse.grading.grade import ALREADY_GRADED, FAILED, GRADED, NOT_GRADED, grade
from roundtrip import (SYNTHETIC_CHAPTER as CH, SYNTHETIC_POINTS as POINTS, build_synthetic_course, edit_cell, put_submission,
                       read_folder, write)

FULL = sum(POINTS.values())


_read, _edit, _put = read_folder, edit_cell, put_submission


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A built synthetic repository: (root, source notebooks, release notebooks)."""
    root = tmp_path_factory.mktemp("repo")
    return (root, *build_synthetic_course(root))


@pytest.fixture(scope="module")
def first_run(course, tmp_path_factory):
    """One grade() run over a class of submissions, each showing one case."""
    root, source, release = course
    incoming = tmp_path_factory.mktemp("incoming")
    submitted = incoming / "submitted"  # grade() is given the folder that *contains* submitted/
    src = {f"{name}.ipynb": nb for name, nb in source.items()}
    rel = {f"{name}.ipynb": nb for name, nb in release.items()}
    _put(submitted, "alice", src)                                                   # full marks
    _put(submitted, "alice", {"notes.ipynb": source["part2"]}, chapter="ch9_bogus")  # unknown chapter
    _put(submitted, "bob", rel)                                                     # release untouched
    _put(submitted, "carol", _edit(src, "square", "return x * x", "return x * 2"))  # square broken
    _put(submitted, "dave", {**src, "part1.ipynb": '{\n "cells": [\n  {"cell_type": oops'})  # corrupt JSON
    _put(submitted, "erin", {"part1.ipynb": src["part1.ipynb"]})                   # part2 missing
    _put(submitted, "frank", {"part1.ipynb": src["part1.ipynb"], "part2 (1).ipynb": src["part2.ipynb"]})  # misnamed
    _put(submitted, "gus", _edit(src, "cube", "return x ** 3", "import os; os._exit(1)"))  # kills its kernel
    _put(submitted, "henry", rel)                                                   # graded now, resubmits later
    report = grade(incoming, course_dir=root / "autograder")
    return root, report, submitted


def test_source_gets_full_marks(first_run):
    _, report, _ = first_run
    alice = report.get("alice", CH)
    assert alice.status == GRADED and alice.ok
    assert (alice.score, alice.max_score) == (FULL, FULL)
    assert {gid: score for (_, gid), (score, _) in alice.cells.items()} == POINTS


def test_untouched_release_gets_zero_and_the_run_completes(first_run):
    _, report, _ = first_run
    bob = report.get("bob", CH)
    assert bob.status == GRADED and bob.score == 0 and bob.max_score == FULL
    assert all(score == 0 for score, _ in bob.cells.values()) and len(bob.cells) == len(POINTS)


def test_one_broken_function_loses_exactly_its_points(first_run):
    _, report, _ = first_run
    carol = report.get("carol", CH)
    assert carol.status == GRADED
    assert carol.cell_score("square_tests") == 0
    assert carol.cell_score("double_tests") == POINTS["double_tests"] and carol.cell_score("cube_tests") == POINTS["cube_tests"]
    assert carol.score == FULL - POINTS["square_tests"]


def test_corrupt_notebook_is_reported_and_the_rest_of_the_submission_graded(first_run):
    _, report, _ = first_run
    dave = report.get("dave", CH)
    assert dave.status == GRADED and not dave.ok
    assert dave.problems == ["part1.ipynb is not valid JSON (line 3): cannot grade this notebook, 0 points for it"]
    assert dave.score == POINTS["cube_tests"]  # part2 graded, part1 scores 0


def test_missing_notebook_scores_zero_and_is_reported(first_run):
    _, report, _ = first_run
    erin = report.get("erin", CH)
    assert erin.status == GRADED and not erin.ok
    assert erin.problems == ["part2.ipynb is missing: 0 points for it"]
    assert erin.cell_score("cube_tests") == 0 and erin.score == FULL - POINTS["cube_tests"]


def test_misnamed_notebook_is_reported_with_the_expected_name(first_run):
    _, report, _ = first_run
    frank = report.get("frank", CH)
    assert frank.status == GRADED and not frank.ok
    assert "part2 (1).ipynb is not a notebook of ch1: expected part2.ipynb (rename it); it was not graded" in frank.problems
    assert "part2.ipynb is missing: 0 points for it" in frank.problems
    assert frank.score == FULL - POINTS["cube_tests"]


def test_unknown_chapter_is_reported_and_the_students_other_work_graded(first_run):
    _, report, _ = first_run
    bogus = report.get("alice", "ch9_bogus")
    assert bogus.status == NOT_GRADED and not bogus.ok
    assert "unknown chapter 'ch9_bogus'" in bogus.message and "ch1" in bogus.message
    assert report.get("alice", CH).score == FULL


def test_a_kernel_that_dies_fails_that_submission_only(first_run):
    _, report, _ = first_run
    gus = report.get("gus", CH)
    assert gus.status == FAILED and gus.score is None
    assert "Kernel died" in gus.message and gus.log.is_file()
    assert not report.ok
    assert [s.key for s in report.submissions] == [
        "alice/ch1", "alice/ch9_bogus", "bob/ch1", "carol/ch1", "dave/ch1", "erin/ch1", "frank/ch1", "gus/ch1", "henry/ch1",
    ]


def test_feedback_html_is_written_per_graded_notebook(first_run):
    root, report, _ = first_run
    alice = report.get("alice", CH)
    assert [p.name for p in alice.feedback] == ["part1.html", "part2.html"]
    assert all(p.parent == root / "autograder" / "feedback" / "alice" / CH for p in alice.feedback)
    carol = report.get("carol", CH)
    html = carol.feedback[0].read_text()  # part1: the broken square's test cell shows its 0 and what failed
    assert f'<a href="#square_tests">Test cell</a> (Score: 0.0 / {POINTS["square_tests"]:.1f})' in html
    assert "square(-3) should be 9, got -6" in html


def test_csvs_have_one_row_per_submission_and_per_grade_cell(first_run):
    root, report, _ = first_run
    assert report.csv == root / "autograder" / "grades.csv"
    with open(report.csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student"], r["chapter"], r["status"]) for r in rows] == [(s.student, s.chapter, s.status) for s in report.submissions]
    by_key = {(r["student"], r["chapter"]): r for r in rows}
    assert by_key[("alice", CH)]["score"] == f"{FULL:g}" and by_key[("alice", CH)]["max_score"] == f"{FULL:g}"
    assert by_key[("carol", CH)]["score"] == f"{FULL - POINTS['square_tests']:g}"
    assert by_key[("gus", CH)]["score"] == "" and "Kernel died" in by_key[("gus", CH)]["message"]
    assert "not valid JSON" in by_key[("dave", CH)]["message"]
    with open(report.cells_csv, newline="") as fh:
        cells = list(csv.DictReader(fh))
    graded = [s for s in report.submissions if s.status == GRADED]
    assert len(cells) == len(graded) * len(POINTS)
    carol = {r["grade_id"]: float(r["score"]) for r in cells if r["student"] == "carol"}
    assert carol == {**POINTS, "square_tests": 0}


def test_a_graded_submission_is_never_silently_regraded(first_run, tmp_path):
    root, report, submitted = first_run
    assert report.get("henry", CH).score == 0
    # henry resubmits a complete solution; ivy submits for the first time
    source = _read(root / "source" / CH)
    src = {f"{name}.ipynb": nb for name, nb in source.items()}
    again = tmp_path / "submitted"
    _put(again, "henry", src)
    _put(again, "ivy", src)
    second = grade(again, course_dir=root / "autograder", out=tmp_path / "out")
    henry = second.get("henry", CH)
    assert henry.status == ALREADY_GRADED and henry.ok and second.ok
    assert henry.score == 0, "the recorded grade was replaced"
    assert "already graded" in henry.message and "--force" in henry.message
    ivy = second.get("ivy", CH)
    assert ivy.status == GRADED and ivy.score == FULL
    assert (tmp_path / "out" / "grades.csv").is_file()

    # with force, the submission is regraded and the report says so
    third = grade(again, chapters=[CH], course_dir=root / "autograder", out=tmp_path / "out", force=True)
    henry = third.get("henry", CH)
    assert henry.status == GRADED and henry.score == FULL and "regraded" in henry.message


def test_the_cli_grades_and_reports_failure_in_its_exit_status(first_run, tmp_path, capsys):
    root, _, _ = first_run
    folder = tmp_path / "submitted"
    _put(folder, "zoe", {"part1.ipynb": "not json"})
    status = main(["grade", str(folder), "--course-dir", str(root / "autograder"), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "zoe/ch1" in out and "part1.ipynb is not valid JSON (line 1)" in out and "part2.ipynb is missing" in out


def test_bad_folders_are_refused_with_a_clear_message(course, tmp_path):
    root, source, _ = course
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        grade(tmp_path / "no_such_folder", course_dir=root / "autograder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no submission"):
        grade(tmp_path / "empty", course_dir=root / "autograder")
    _put(tmp_path / "one_student", CH, {})
    write(source["part1"], tmp_path / "one_student" / CH / "part1.ipynb")
    with pytest.raises(ValueError, match="looks like one student's folder"):
        grade(tmp_path / "one_student", course_dir=root / "autograder")
    with pytest.raises(ValueError, match="unknown chapter.*c7"):
        grade(tmp_path / "one_student", chapters=["c7"], course_dir=root / "autograder")


def test_autograde_kernels_run_in_grade_mode_and_the_environment_is_restored(monkeypatch):
    import os

    from cnncourse import config
    from cnncourse.grading.course import notebook_environment

    monkeypatch.setenv("CNNCOURSE_MODE", "full")
    with notebook_environment("grade"):
        assert config.mode() == "grade" and config.pick(fast=1, full=2) == 1
    with notebook_environment():
        assert config.mode() == "fast"
    assert os.environ["CNNCOURSE_MODE"] == "full"


def test_a_stopped_run_goes_on_where_it_stopped_and_grades_nothing_twice(course, tmp_path):
    """Stopped (SIGTERM, as Ctrl-C) after the first submission is graded; the second run keeps it, redoes the
    interrupted one, grades the rest. (SIGINT is not used: a shell's background job ignores it, and so would the child.)"""
    import os
    import signal
    import subprocess
    import time

    root, source, _ = course
    src = {f"{name}.ipynb": nb for name, nb in source.items()}
    incoming = tmp_path / "submitted"
    students = ["r1", "r2", "r3", "r4"]
    for student in students:
        _put(incoming, student, src)
    run = subprocess.Popen([sys.executable, "-m", "cnncourse.cli", "grade", str(incoming), "--workers", "1",
                            "--course-dir", str(root / "autograder"), "--out", str(tmp_path)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    lines = []
    for line in run.stdout:
        lines.append(line)
        if line.startswith("[1/4]"):
            break
    ledger = root / "autograder" / ".grading" / "ledger" / CH
    for _ in range(100):  # until the second submission's worker has started
        if sum('"started"' in (ledger / f"{s}.json").read_text() for s in students if (ledger / f"{s}.json").exists()):
            break
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)
    rest, _ = run.communicate(timeout=120)
    assert run.returncode == 130, "".join(lines) + rest
    assert "run the same command again" in rest
    first = lines[-1].split()[1].split("/")[0]
    autograded = root / "autograder" / "autograded" / first / CH / "part1.ipynb"
    stamp = autograded.stat().st_mtime_ns

    again = grade(incoming, course_dir=root / "autograder", out=tmp_path)
    statuses = {s.student: s.status for s in again.submissions}
    assert statuses[first] == ALREADY_GRADED and autograded.stat().st_mtime_ns == stamp
    resumed = [s for s in again.submissions if "resumed" in s.message]
    assert len(resumed) == 1 and resumed[0].status == GRADED
    assert all(s.score == FULL for s in again.submissions), again.summary()
    assert sorted(statuses.values()) == [ALREADY_GRADED] + [GRADED] * 3
