"""A class through nbgrader's exchange: release, fetch, submit, collect, grade, feedback, and its bad input.

A scratch course holds the tiny synthetic chapter of tests/roundtrip.py (ch1: part1 = double 2 pts + square 3 pts,
part2 = cube 1 pt) and its own exchange folder. The instructor's side goes through `cnncourse release | collect |
grade | feedback` (cnncourse/grading/exchange.py, grade.py); each student runs nbgrader's real command line
(`nbgrader fetch_assignment | submit | fetch_feedback`, in a process with their own HOME, for carol; the same
exchange classes in this process for the others, which saves seconds of start-up per call), with their own
~/.jupyter/nbgrader_config.py that names the course and the exchange. nbgrader 0.9.6 takes the student id from
the account name, not from $USER (all students here share one account), so each one passes --student, as
nbgrader allows.

The class: alice submits a draft with the stubs, then her solution (a resubmission: the later one must be
collected); bob submits the stubs; the due date passes; carol submits with a typical mistake (square returns
2 * x), late. Expected scores come from the chapter's points, never from a run.
"""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnncourse.cli import main
from cnncourse.grading import exchange
from cnncourse.grading.course import CourseError, load_course, notebook_environment, restore, run_nbgrader
from cnncourse.grading.grade import ALREADY_GRADED, GRADED, grade
from roundtrip import SYNTHETIC_CHAPTER as CH, SYNTHETIC_POINTS as POINTS, build_synthetic_course, edit_cell

NBGRADER = str(Path(sys.executable).parent / "nbgrader")
FULL = sum(POINTS.values())
PER_NOTEBOOK = {"part1": POINTS["double_tests"] + POINTS["square_tests"], "part2": POINTS["cube_tests"]}
EXPECTED = {"alice": FULL, "bob": 0, "carol": FULL - POINTS["square_tests"]}


class Student:
    """A student with a HOME of their own and an nbgrader config there, who fetches, submits and fetches feedback.

    cli=True runs nbgrader's command line in a process with that HOME (seconds of imports per call); otherwise
    nbgrader's exchange classes run in this process with the configuration read from the same file and HOME set
    for the call (what the command line does, without the start-up cost).
    """

    def __init__(self, name, home, course, cli=False):
        self.name, self.home, self.cli = name, Path(home), cli
        (self.home / ".jupyter").mkdir(parents=True)
        (self.home / ".jupyter" / "nbgrader_config.py").write_text(exchange.student_config(course))

    def nbgrader(self, step, student=True):
        """Run nbgrader's `step` (fetch_assignment, submit, fetch_feedback) on ch1 as this student; return its log."""
        if self.cli:
            env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
            env.update(HOME=str(self.home), USER=self.name, PYTHONPATH="")
            cmd = [NBGRADER, step, CH] + ([f"--student={self.name}"] if student else [])
            run = subprocess.run(cmd, cwd=self.home, env=env, capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, f"{self.name}: nbgrader {step} failed:\n{run.stdout}{run.stderr}"
            return run.stdout + run.stderr
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.exchange import ExchangeFactory
        from nbgrader.utils import capture_log
        from traitlets.config.loader import PyFileConfigLoader

        saved = {key: os.environ.get(key) for key in ("HOME", "USER")}
        os.environ.update(HOME=str(self.home), USER=self.name)
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.home / ".jupyter")).load_config()
            config.Exchange.assignment_dir = str(self.home)
            coursedir = CourseDirectory(config=config, assignment_id=CH, student_id=self.name if student else "*")
            kind = {"fetch_assignment": "FetchAssignment", "submit": "Submit", "fetch_feedback": "FetchFeedback"}[step]
            app = getattr(ExchangeFactory(config=config), kind)(
                coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
            run = capture_log(app)
        finally:
            restore(os.environ, saved)
        assert run["success"], f"{self.name}: nbgrader {step} failed:\n{run.get('log', '')}{run.get('error', '')}"
        return run.get("log", "")

    def fetch(self):
        return self.nbgrader("fetch_assignment", student=False)

    def notebooks(self):
        return {p.stem: nbformat.read(str(p), as_version=4) for p in sorted((self.home / CH).glob("*.ipynb"))}

    def save(self, notebooks):
        for name, nb in notebooks.items():
            nbformat.write(nb, str(self.home / CH / f"{name}.ipynb"))

    def submit(self):
        return self.nbgrader("submit")

    def feedback_scores(self):
        """{notebook: (score, max)} read from the feedback HTML that fetch_feedback brought (the newest submission)."""
        self.nbgrader("fetch_feedback")
        folders = sorted((self.home / CH / "feedback").iterdir())
        assert folders, f"{self.name}: fetch_feedback brought no feedback"
        scores = {}
        for html in sorted(folders[-1].glob("*.html")):
            match = re.search(r"\(Score: ([\d.]+) / ([\d.]+)\)", html.read_text())
            scores[html.stem] = (float(match.group(1)), float(match.group(2)))
        return scores


def solved(release, source):
    """The release notebooks with every solution cell written as in the instructor's source."""
    out = {}
    for name, nb in release.items():
        answers = {c.metadata.nbgrader["grade_id"]: c.source for c in source[name].cells
                   if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        nb = nbformat.from_dict(nb)
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        out[name] = nb
    return out


def recorded(course, student):
    """(score, seconds late, {notebook: (score, max)}) recorded in the gradebook for the student's ch1."""
    with notebook_environment(), course.gradebook() as gb:
        sub = gb.find_submission(CH, student)
        return (float(sub.score), float(sub.total_seconds_late),
                {nb.name: (float(nb.score), float(nb.max_score)) for nb in sub.notebooks})


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """The whole loop, run once: (course, students, collect report, grade report, feedback report)."""
    root = tmp_path_factory.mktemp("course")
    source, _ = build_synthetic_course(root)
    course_dir = root / "autograder"
    course = load_course(course_dir)
    due = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    released = exchange.release(CH, course_dir=course_dir, due=due.strftime("%Y-%m-%d %H:%M:%S UTC"))
    assert released.ok, released.text()

    homes = tmp_path_factory.mktemp("home")
    students = {name: Student(name, homes / name, course, cli=name == "carol") for name in ("alice", "bob", "carol", "erin")}
    for s in students.values():
        s.fetch()
    alice, bob, carol = students["alice"], students["bob"], students["carol"]
    alice.submit()  # a draft: the stubs
    answer = solved(alice.notebooks(), source)
    alice.save(answer)
    alice.submit()  # the solution, later
    bob.submit()  # the stubs
    exchange.set_due_date(course, CH, datetime.datetime.now(datetime.timezone.utc))  # the due date passes
    carol.save(edit_cell(answer, "square", "return x * x", "return x * 2"))
    carol.submit()  # late

    collected = exchange.collect(CH, course_dir=course_dir)
    graded = grade(course_dir / "submitted", course_dir=course_dir, workers=2)
    feedback = exchange.release_feedback(CH, course_dir=course_dir)
    return course, students, collected, graded, feedback


def test_each_student_is_graded_by_what_they_wrote(klass):
    course, _, collected, graded, _ = klass
    assert collected.ok, collected.text()
    for student, points in EXPECTED.items():
        result = graded.get(student, CH)
        assert result.status == GRADED, result.line()
        assert (result.score, result.max_score) == (points, FULL), result.line()
        assert recorded(course, student)[0] == points


def test_each_student_fetches_feedback_that_matches_their_grade(klass):
    course, students, _, _, feedback = klass
    assert feedback.ok, feedback.text()
    for student in EXPECTED:
        from_html = students[student].feedback_scores()
        assert from_html == recorded(course, student)[2]
        assert sum(score for score, _ in from_html.values()) == EXPECTED[student]
        assert {name: top for name, (_, top) in from_html.items()} == PER_NOTEBOOK


def test_a_resubmission_is_collected_latest_and_said_so(klass):
    course, _, collected, _, _ = klass
    line = next(line for line in collected.lines if line.startswith(f"alice/{CH}: collected"))
    assert "the latest of 2" in line and "nbgrader collects each student's latest submission" in line
    collected_part1 = (course.root / "submitted" / "alice" / CH / "part1.ipynb").read_text()
    assert "return x * x" in collected_part1 and "NotImplementedError" not in collected_part1  # not her draft


def test_a_late_submission_is_recorded_late_and_the_others_not(klass):
    course, _, collected, _, _ = klass
    assert recorded(course, "carol")[1] > 0
    assert recorded(course, "alice")[1] == 0 and recorded(course, "bob")[1] == 0
    assert any(line.startswith(f"carol/{CH}: LATE") for line in collected.lines)
    assert not any(line.startswith((f"alice/{CH}: LATE", f"bob/{CH}: LATE")) for line in collected.lines)


def test_feedback_for_a_student_who_never_submitted_names_them(klass, capsys):
    course, _, _, _, _ = klass
    status = main(["feedback", CH, "--student", "dave", "--course-dir", str(course.root)])
    out = capsys.readouterr().out
    assert status == 1
    assert f"PROBLEM: dave/{CH}: no feedback to release: dave never submitted {CH}" in out
    assert [recorded(course, s)[0] for s in EXPECTED] == list(EXPECTED.values())


def test_a_resubmission_after_grading_keeps_the_recorded_grade(klass):
    course, students, _, _, _ = klass
    alice = students["alice"]
    alice.save(edit_cell(alice.notebooks(), "cube", "return x ** 3", "return x"))
    alice.submit()
    collected = exchange.collect(CH, course_dir=course.root)
    line = next(line for line in collected.lines if line.startswith(f"alice/{CH}: collected"))
    assert f"whose recorded grade ({FULL:g}/{FULL:g}) is kept" in line and "--force" in line
    regraded = grade(course.root / "submitted", course_dir=course.root, chapters=[CH])
    result = regraded.get("alice", CH)
    assert result.status == ALREADY_GRADED and result.score == FULL
    assert "the submission has changed since it was graded" in result.message
    assert recorded(course, "alice")[0] == FULL


def test_an_exchange_folder_with_wrong_permissions_is_named(klass, capsys):
    course, students, _, _, _ = klass
    inbound = exchange.exchange_root(course) / course.course_id / "inbound"
    submission = next(inbound.glob(f"bob+{CH}+*"))
    private = next(submission.glob("*.ipynb"))
    modes = {path: path.stat().st_mode & 0o7777 for path in (inbound, private)}
    try:
        inbound.chmod(0o700)
        private.chmod(0o600)
        status = main(["collect", CH, "--course-dir", str(course.root)])
        out = capsys.readouterr().out
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert status == 1
    assert (f"PROBLEM: {CH}: the exchange folder {inbound} has mode drwx------ (0700): students must write into it, "
            f"to submit; fix it with: chmod 2733 {inbound}") in out
    assert f"bob/{CH}: 1 file(s) of bob's submission of {CH} are not readable to other users" in out
    assert [recorded(course, s)[0] for s in EXPECTED] == list(EXPECTED.values())


def test_release_refuses_an_unknown_chapter_and_a_second_release(klass, capsys):
    course, _, _, _, _ = klass
    assert main(["release", "ch9", "--course-dir", str(course.root)]) == 2
    assert f"unknown chapter 'ch9': the chapters are {CH}" in capsys.readouterr().err
    assert main(["release", CH, "--course-dir", str(course.root)]) == 2
    assert f"{CH} is already released" in capsys.readouterr().err
    with pytest.raises(CourseError, match="cannot read the due date"):
        exchange.set_due_date(course, CH, "next tuesday-ish")


def test_a_submission_made_with_an_older_release_is_named(klass):
    """Runs last: it re-releases the chapter with a changed public test of cube."""
    course, students, _, _, _ = klass
    erin = students["erin"]  # fetched the first release in the fixture
    erin.save(solved(erin.notebooks(), {n: nbformat.read(str(p), as_version=4) for n, p in
                                        ((p.stem, p) for p in sorted((course.source / CH).glob("*.ipynb")))}))
    part2 = course.source / CH / "part2.ipynb"
    nb = nbformat.read(str(part2), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "cube_tests")
    cell.source = cell.source.replace('assert cube(2) == 8, "cube(2) should be 8"', 'assert cube(3) == 27, "cube(3)"')
    nbformat.write(nb, str(part2))
    run = run_nbgrader("generate_assignment", course, CH, force=True)
    assert run.success, run.log + run.error
    assert exchange.release(CH, course_dir=course.root, force=True).ok
    erin.submit()
    collected = exchange.collect(CH, course_dir=course.root)
    message = next(p for p in collected.problems if p.startswith(f"erin/{CH}:"))
    assert f"erin submitted {CH} made with an older release of the chapter (part2.ipynb: cells cube_tests differ)" in message
    assert "part1.ipynb" not in message  # part1 did not change
    graded = grade(course.root / "submitted", course_dir=course.root, chapters=[CH])
    assert graded.get("erin", CH).status == GRADED and graded.get("erin", CH).score == FULL
    autograded = nbformat.read(str(course.path("autograded_directory", "erin", CH) / "part2.ipynb"), as_version=4)
    assert any("assert cube(3) == 27" in c.source for c in autograded.cells)  # graded by the current tests
    assert [recorded(course, s)[0] for s in EXPECTED] == list(EXPECTED.values())
