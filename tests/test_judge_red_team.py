"""Red team of the judge (grading/judge.py): ways a notebook can tamper with its checks gain no point.

A tiny chapter uses two of Chapter 1's real checks (output_size: plain, create_mask_from_window: partial credit).
Each attacker leaves the exercises unsolved (the stub, or an answer that is plainly wrong) and adds code that
tampers with the checks, from top-level code or from inside a graded function's body. All submissions are graded
by `cnncourse grade` itself (a worker and a sandbox per submission, the judge after each autograde). Each attacker
must score 0, and every attack that fooled the kernel's own run must be flagged.

(A cell whose value exceeds its points makes nbgrader's autograde fail as a whole; `cnncourse grade` then reports that
one submission as failed, ungraded, so the attackers here end their cells with None.)

Reading the check's expected value off the stack is stopped by the checks' order (tests/test_stack_thief.py). What the
judge cannot stop is a function that reaches the course's working code past the tripwire: its outputs are right. The
grader's reading of the code (grading/code_scan.py) names every attack here, and that one too, in the report
(REACHING_PAST; autograder/README.md, "What the grader reads in the code").
"""

import copy

import pytest

from cnncourse.grading.course import write_course_config
from cnncourse.grading.grade import GRADED, grade
from roundtrip import grade_cell, locked_cell, notebook, put_submission, solution_cell, write

CHAPTER = "c0_forge"
SETUP = "import numpy as np\nfrom cnncourse.checks import c1_convolution as checks"
OUTPUT_SIZE = '''def output_size(n, f, pad, stride):
    ### BEGIN SOLUTION
    return (n + 2 * pad - f) // stride + 1
    ### END SOLUTION'''
MASK = '''def create_mask_from_window(x):
    ### BEGIN SOLUTION
    return x == np.max(x)
    ### END SOLUTION'''
OUTPUT_SIZE_TESTS = '''checks.public_output_size(output_size)
### BEGIN HIDDEN TESTS
checks.hidden_output_size(output_size)
### END HIDDEN TESTS'''
MASK_TESTS = '''credit = checks.PartialCredit("create_mask_from_window", {"public": 1, "hidden": 1})
credit.run("public", checks.public_create_mask_from_window, create_mask_from_window)
### BEGIN HIDDEN TESTS
credit.run("hidden", checks.hidden_create_mask_from_window, create_mask_from_window)
### END HIDDEN TESTS
credit.total()'''

STUBS = '''def output_size(n, f, pad, stride):
    raise NotImplementedError()

def create_mask_from_window(x):
    raise NotImplementedError()
'''
WRONG = '''def output_size(n, f, pad, stride):
    return 0

def create_mask_from_window(x):
    return np.zeros(np.shape(x), dtype=bool)
'''
SILENCE_ASSERTIONS = '''
import cnncourse.checks.c1_convolution as _c, cnncourse.checks.core as _core
for _name in ("fail", "expect_equal", "expect_close", "expect_type", "expect_shape", "expect_raises"):
    setattr(_c, _name, lambda *a, **k: None)
    setattr(_core, _name, lambda *a, **k: None)
np.array_equal = lambda *a, **k: True
'''
ATTACKS = {
    # the attack: every check of the module replaced by a no-op, exercises left as stubs
    "noop_checks": STUBS + '''
import cnncourse.checks.c1_convolution as _c
for _name in dir(_c):
    if _name.startswith(("public_", "hidden_")):
        setattr(_c, _name, lambda *a, **k: None)
''',
    # the assertion helpers the checks call, and numpy's comparison, made to pass anything
    "silenced_assertions": WRONG + SILENCE_ASSERTIONS,
    # the notebook's name `checks` rebound to an object that accepts every call
    "fake_checks_name": STUBS + '''
class _Anything:
    def __getattr__(self, name):
        return lambda *a, **k: None
checks = _Anything()
''',
    # sys.modules: the checks module replaced by a fake one, and imported again
    "sys_modules_swap": STUBS + '''
import sys, types
_fake = types.ModuleType("cnncourse.checks.c1_convolution")
_fake.__getattr__ = lambda name: (lambda *a, **k: None)
sys.modules["cnncourse.checks.c1_convolution"] = _fake
sys.modules["cnncourse.checks"].c1_convolution = _fake
import cnncourse.checks.c1_convolution as checks
''',
    # values that claim to equal anything
    "liar_values": '''
class _Liar(int):
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __hash__ = int.__hash__

def output_size(n, f, pad, stride):
    return _Liar(0)

def create_mask_from_window(x):
    return np.zeros(np.shape(x), dtype=bool)
np.array_equal = lambda *a, **k: True
''',
    # from inside the graded function's body: find the check's module in the calling frames and silence it
    "inside_body": '''
def _silence_callers():
    import sys
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("cnncourse.checks"):
            for name in ("fail", "expect_equal", "expect_close", "expect_type", "expect_shape"):
                frame.f_globals[name] = lambda *a, **k: None
            frame.f_globals["np"].array_equal = lambda *a, **k: True
        frame = frame.f_back

def output_size(n, f, pad, stride):
    _silence_callers()
    return 0

def create_mask_from_window(x):
    _silence_callers()
    return np.zeros(np.shape(x), dtype=bool)
''',
    # IPython's custom exception handler swallows every error of a cell
    "custom_exception_handler": STUBS + '''
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
''',
    # the records the judge reads, erased after every cell
    "erase_records": WRONG + SILENCE_ASSERTIONS + '''
import glob, os
def _erase(result):
    for path in glob.glob(os.path.expanduser("~/.cnncourse-evidence/*/*.npz")):
        os.remove(path)
get_ipython().events.register("post_run_cell", _erase)
''',
    # the records overwritten with garbage after every cell
    "forged_records": WRONG + SILENCE_ASSERTIONS + '''
import glob, os
def _forge(result):
    for path in glob.glob(os.path.expanduser("~/.cnncourse-evidence/*/*.npz")):
        with open(path, "wb") as fh:
            fh.write(b"PK not a record")
get_ipython().events.register("post_run_cell", _forge)
''',
    # the recorder itself switched off
    "disabled_recorder": WRONG + SILENCE_ASSERTIONS + '''
import sys
sys.modules["cnncourse.grading.evidence"].write_entry = lambda *a, **k: None
''',
    # partial credit that always gives full points and never runs a check
    "partial_credit_forged": STUBS + '''
checks.PartialCredit.run = lambda self, *a, **k: None
checks.PartialCredit.total = lambda self: 2.0
''',
    # the exception a failed check raises, caught in the check's own module by rebinding the class it raises
    "exception_class_swapped": WRONG + '''
import cnncourse.checks.core as _core
class _Harmless(BaseException):
    pass
_core.CheckFailed = _Harmless
get_ipython().set_custom_exc((_Harmless,), lambda shell, etype, evalue, tb, tb_offset=None: None)
np.array_equal = lambda *a, **k: True
''',
}
# Reaching the course's working code from inside a graded function: right outputs, which the judge cannot tell from
# the student's own; the code scan (grading/code_scan.py) names them, and the scores stand for a person to review.
REACHING_PAST = {
    "reference_unwrapped": '''def output_size(n, f, pad, stride):
    import cnncourse.ops.conv as _conv
    reference = getattr(_conv.output_size, "__wrapped__", _conv.output_size)  # past the tripwire, if it is there
    return reference(n, f, pad, stride)

def create_mask_from_window(x):
    raise NotImplementedError()
''',
}
ALTERNATIVE = '''def output_size(n, f, pad, stride):
    return int(np.floor((n + 2 * pad - f) / stride)) + 1

def create_mask_from_window(x):
    return np.asarray(x) >= np.asarray(x).max()
'''
# Attacks that fooled the kernel's own run of the checks in this course (so the judge must lower and flag them).
FOOL_THE_KERNEL = {"noop_checks", "silenced_assertions", "fake_checks_name", "sys_modules_swap", "inside_body",
                   "erase_records", "forged_records", "disabled_recorder", "partial_credit_forged"}


def _repository(root):
    """A repository with one chapter (source/c0_forge/forge.ipynb) and its nbgrader configuration; returns root."""
    nb = notebook(locked_cell(SETUP, "setup"), solution_cell(OUTPUT_SIZE, "output_size"),
                  grade_cell(OUTPUT_SIZE_TESTS, "output_size_tests", 1), solution_cell(MASK, "mask"),
                  grade_cell(MASK_TESTS, "mask_tests", 2))
    write(nb, root / "source" / CHAPTER / "forge.ipynb")
    write_course_config(root / "autograder", root / "source", root / "release")
    return nb


def _submission(source, first_cell, second_cell="# defined above"):
    nb = copy.deepcopy(source)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cells["output_size"].source, cells["mask"].source = first_cell, second_cell
    return {"forge.ipynb": nb}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every attacker, the solution, a correct alternative and an untouched release, graded by `cnncourse grade`.

    Returns {student: SubmissionResult}.
    """
    root = tmp_path_factory.mktemp("forge")
    source = _repository(root)
    submitted = root / "incoming" / "submitted"
    for name, code in ATTACKS.items():
        put_submission(submitted, name, _submission(source, code), chapter=CHAPTER)
    for name, code in REACHING_PAST.items():
        put_submission(submitted, name, _submission(source, code), chapter=CHAPTER)
    put_submission(submitted, "solution", {"forge.ipynb": source}, chapter=CHAPTER)
    put_submission(submitted, "alternative", _submission(source, ALTERNATIVE), chapter=CHAPTER)
    put_submission(submitted, "untouched", _submission(source, STUBS), chapter=CHAPTER)
    report = grade(root / "incoming", course_dir=root / "autograder", out=root / "out", workers=2)
    return {result.student: result for result in report.submissions}


def _scores(result):
    assert result.status == GRADED, (result.student, result.status, result.message)
    return {grade_id: score for (_, grade_id), (score, _) in result.cells.items()}


def test_honest_submissions_keep_their_grades_and_are_not_flagged(graded):
    for student in ("solution", "alternative"):
        assert _scores(graded[student]) == {"output_size_tests": 1.0, "mask_tests": 2.0}, student
        assert graded[student].flagged == [], student
    assert _scores(graded["untouched"]) == {"output_size_tests": 0.0, "mask_tests": 0.0}
    assert graded["untouched"].flagged == []
    log = graded["solution"].log.read_text()
    assert "2 grade cell(s) judged outside the kernel, 0 left to the kernel, 0 lowered" in log


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_tampering_gains_no_point(graded, attack):
    got = _scores(graded[attack])
    assert got == {"output_size_tests": 0.0, "mask_tests": 0.0}, f"{attack} scored {got}"


def _judged(flagged):
    """The judge's flags (a grade cell it lowered), without the code scan's (one row per notebook, "<notebook>:code")."""
    return [row for row in flagged if not row[1].endswith(":code")]


@pytest.mark.parametrize("attack", sorted(FOOL_THE_KERNEL))
def test_tampering_that_fooled_the_kernel_is_flagged(graded, attack):
    flagged = _judged(graded[attack].flagged)
    assert flagged, f"{attack}: the kernel's run was fooled, yet nothing was flagged"
    assert all("tampered with its checks" in message for _, _, message in flagged), flagged


@pytest.mark.parametrize("attack", sorted(ATTACKS) + sorted(REACHING_PAST))
def test_the_code_scan_names_every_attack_in_the_report(graded, attack):
    """Out of the kernel's reach too: the grader reads the submitted code and flags what reaches past the exercises,
    whether or not the attack fooled the kernel."""
    rows = [row for row in graded[attack].flagged if row[1] == "forge:code"]
    assert len(rows) == 1 and "reaches past its exercises" in rows[0][2] and "output_size, line" in rows[0][2], \
        graded[attack].flagged


def test_working_code_reached_from_a_graded_function_keeps_its_score_and_is_flagged_for_review(graded):
    """The unwrapped reference returns right outputs: the kernel and the judge both pass it, so the scores stand and
    the code scan's flag sends it to a person (autograder/README.md, "What the grader reads in the code")."""
    result = graded["reference_unwrapped"]
    assert _scores(result) == {"output_size_tests": 1.0, "mask_tests": 0.0}
    assert _judged(result.flagged) == [] and "__wrapped__" in result.flagged[0][2], result.flagged
