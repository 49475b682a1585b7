"""Red team of the judge (grading/judge.py): ways a notebook can tamper with its checks gain no point.

A tiny chapter uses two of Chapter 1's real checks (output_size: plain, create_mask_from_window: partial credit).
Each attacker leaves the exercises unsolved (the stub, or an answer that is plainly wrong) and adds code that
tampers with the checks, from top-level code or from inside a graded function's body. All submissions are graded
in ONE sandboxed nbgrader autograde, judged outside the kernels as `cnncourse grade` judges them. Each attacker
must score 0, and every attack that fooled the kernel's own run must be flagged.

(A cell whose value exceeds its points makes nbgrader's autograde fail as a whole; `cnncourse grade` then reports that
one submission as failed, ungraded, so the attackers here end their cells with None.)

What this does not stop: a function that reads the check's expected value out of the kernel's memory (its frames)
while the check runs; see autograder/README.md, "Verdicts out of the kernel".
"""

import pytest

from roundtrip import RoundTrip, grade_cell, locked_cell, notebook, solution_cell, write

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
import os, shutil
get_ipython().events.register(
    "post_run_cell", lambda result: shutil.rmtree(os.path.expanduser("~/.cnncourse-evidence"), ignore_errors=True))
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
# Attacks that fooled the kernel's own run of the checks in this course (so the judge must lower and flag them).
FOOL_THE_KERNEL = {"noop_checks", "silenced_assertions", "fake_checks_name", "sys_modules_swap", "inside_body",
                   "erase_records", "forged_records", "disabled_recorder", "partial_credit_forged"}


def _chapter(tmp_path):
    nb = notebook(locked_cell(SETUP, "setup"), solution_cell(OUTPUT_SIZE, "output_size"),
                  grade_cell(OUTPUT_SIZE_TESTS, "output_size_tests", 1), solution_cell(MASK, "mask"),
                  grade_cell(MASK_TESTS, "mask_tests", 2))
    write(nb, tmp_path / "src" / CHAPTER / "forge.ipynb")
    return RoundTrip(tmp_path / "src" / CHAPTER, tmp_path / "course", sync=False)


def _submission(rt, first_cell, keep_stub_cell=False):
    nb = rt.release_notebooks()["forge"]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cells["output_size"].source = first_cell
    if not keep_stub_cell:
        cells["mask"].source = "# defined above"
    return {"forge": nb}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    rt = _chapter(tmp_path_factory.mktemp("forge"))
    submissions = {name: _submission(rt, code) for name, code in ATTACKS.items()}
    submissions["solution"] = rt.source_notebooks()
    submissions["alternative"] = _submission(rt, '''def output_size(n, f, pad, stride):
    return int(np.floor((n + 2 * pad - f) / stride)) + 1

def create_mask_from_window(x):
    return np.asarray(x) >= np.asarray(x).max()
''')
    submissions["untouched"] = rt.release_notebooks()
    return rt, rt.grade(submissions)


def test_honest_submissions_keep_their_grades_and_are_not_flagged(graded):
    rt, scores = graded
    for student in ("solution", "alternative"):
        assert {g: s for g, (s, _) in scores[student].items()} == {"output_size_tests": 1.0, "mask_tests": 2.0}, student
        assert rt.flagged[student] == [], student
    assert {g: s for g, (s, _) in scores["untouched"].items()} == {"output_size_tests": 0.0, "mask_tests": 0.0}
    assert rt.flagged["untouched"] == []
    assert "2 grade cell(s) judged outside the kernel, 0 left to the kernel, 0 lowered" in rt.judge_log


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_tampering_gains_no_point(graded, attack):
    rt, scores = graded
    got = {g: s for g, (s, _) in scores[attack].items()}
    assert got == {"output_size_tests": 0.0, "mask_tests": 0.0}, f"{attack} scored {got}"


@pytest.mark.parametrize("attack", sorted(FOOL_THE_KERNEL))
def test_tampering_that_fooled_the_kernel_is_flagged(graded, attack):
    rt, _ = graded
    flagged = rt.flagged[attack]
    assert flagged, f"{attack}: the kernel's run was fooled, yet nothing was flagged"
    assert all("tampered with its checks" in message for _, _, message in flagged), flagged
