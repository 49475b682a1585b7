"""Every kind of broken submission: graded or reported clearly, while the rest of the class is graded unchanged.

One synthetic course (tests/roundtrip.py: ch1, part1 = double 2 pts + square 3 pts, part2 = cube 1 pt). Three
control students (the solution, the untouched release, one broken function) are graded twice: alone in one course,
and in another course inside a class where every other student shows one kind of bad input, graded in parallel
with tight limits. Each kind states its expected outcome from the chapter's points; the last test counts the kinds
and checks that the controls' grades are the same in both runs.

Kinds that attack the machine (reading hidden files, the network, the grader's process, the environment) expect
full marks: the submission's `cube` returns the right answer only when the attack failed.
"""

import copy
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading.course import REPO
from cnncourse.grading.grade import FAILED, GRADED, NOT_GRADED, grade
from cnncourse.grading.sandbox import Limits, isolation
import roundtrip
from roundtrip import (SYNTHETIC_CHAPTER as CH, SYNTHETIC_POINTS as POINTS, build_synthetic_course, edit_cell, error_text,
                       put_submission)

FULL = sum(POINTS.values())
ISOLATED = isolation()[0]
LIMITS = Limits(memory=4 * 2**30, cpu=120, file_size=20 * 2**20, processes=64, output=2**20)
CUBE = "return x ** 3"


@dataclass
class Kind:
    """One kind of bad input: who shows it, how the submission is made, what must come out."""

    name: str
    student: str
    make: object  # (src, rel, ctx) -> {file name: notebook | text | bytes}, or None for a layout-level case
    status: str
    score: float = None  # expected score (None: nothing recorded)
    says: str = ""  # a phrase the report must contain for this student
    needs_isolation: bool = False


def _cube(src, body):
    """The solution notebooks with cube's body replaced by `body` (indented by the caller)."""
    nbs = {f"{k}.ipynb": v for k, v in src.items()}
    for cell in nbs["part2.ipynb"].cells:
        if CUBE in cell.source and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = cell.source.replace(CUBE, body)
            return nbs
    raise AssertionError("cube's solution cell not found")


def _attack(src, setup, leaked):
    """cube returns x**3 only when `leaked` (an expression evaluated once, after `setup`) is False."""
    nbs = {f"{k}.ipynb": v for k, v in src.items()}
    for cell in nbs["part2.ipynb"].cells:
        if CUBE in cell.source and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = f"{setup}\nLEAKED = {leaked}\n" + cell.source.replace(CUBE, "return x ** 3 + (1 if LEAKED else 0)")
            return nbs
    raise AssertionError("cube's solution cell not found")


def _on_any(statement, paths):
    """(setup, leaked) for _attack: leaked when `statement` (using the path p) succeeds for any of `paths`."""
    setup = (f"def _on_any(paths):\n    for p in paths:\n        try:\n            {statement}\n            return True\n"
             f"        except OSError:\n            pass\n    return False")
    return setup, f"_on_any({list(map(str, paths))!r})"


def _without_cell(src, grade_id):
    nbs = {f"{k}.ipynb": nbformat.from_dict(v) for k, v in src.items()}
    for nb in nbs.values():
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nbs


def _reordered(src):
    """part1 with the square exercise (solution + test) moved before the double exercise."""
    nbs = {f"{k}.ipynb": v for k, v in src.items()}
    cells = nbs["part1.ipynb"].cells
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]
    i, j = ids.index("double"), ids.index("square")
    nbs["part1.ipynb"].cells = cells[:i] + cells[j:j + 2] + cells[i:j] + cells[j + 2:]
    return nbs


def _v3(src):
    return {f"{k}.ipynb": nbformat.writes(nbformat.convert(v, 3), version=3) for k, v in src.items()}


def _kernel(src, name):
    nbs = {f"{k}.ipynb": v for k, v in src.items()}
    for nb in nbs.values():
        nb.metadata["kernelspec"] = {"name": name, "display_name": name, "language": "R"}
    return nbs


def _as_named(src, **names):
    return {names.get(k, f"{k}.ipynb"): v for k, v in src.items()}


def _part1_text(src, text):
    return {"part1.ipynb": text, "part2.ipynb": src["part2"]}


KINDS = [
    Kind("endless loop in a graded function", "k01_loop",
         lambda s, r, c: {f"{k}.ipynb": v for k, v in edit_cell(s, "square", "return x * x", "while True:\n        pass").items()},
         GRADED, FULL - POINTS["square_tests"]),
    Kind("kernel killed by os._exit", "k02_exit", lambda s, r, c: _cube(s, "import os; os._exit(1)"),
         FAILED, None, "Kernel died"),
    Kind("segmentation fault", "k03_segfault", lambda s, r, c: _cube(s, "import ctypes; return ctypes.string_at(0)"),
         FAILED, None, "Kernel died"),
    Kind("memory bomb", "k04_memory", lambda s, r, c: _cube(s, "blob = bytearray(64 * 2**30); return x ** 3"),
         GRADED, FULL - POINTS["cube_tests"]),
    Kind("syntax error in a solution", "k05_syntax",
         lambda s, r, c: {f"{k}.ipynb": v for k, v in edit_cell(s, "square", "def square(x):", "def square(x)").items()},
         GRADED, FULL - POINTS["square_tests"]),
    Kind("deleted test cell", "k06_deleted_test", lambda s, r, c: _without_cell(s, "square_tests"),
         GRADED, FULL - POINTS["square_tests"]),
    Kind("edited test cell (the test replaced by pass, the function wrong)", "k07_edited_test",
         lambda s, r, c: {f"{k}.ipynb": v for k, v in edit_cell(
             edit_cell(s, "square", "return x * x", "return x * 2"), "square_tests", "assert square(2) == 4",
             "pass  # assert square(2) == 4").items()},
         GRADED, FULL - POINTS["square_tests"]),
    Kind("reordered exercises", "k08_reordered", lambda s, r, c: _reordered(s), GRADED, FULL),
    Kind("renamed notebook", "k09_renamed", lambda s, r, c: _as_named(s, part2="Part2-Copy1.ipynb"),
         GRADED, FULL - POINTS["cube_tests"], "expected part2.ipynb (rename it)"),
    Kind("missing notebook", "k10_missing", lambda s, r, c: {"part1.ipynb": s["part1"]},
         GRADED, FULL - POINTS["cube_tests"], "part2.ipynb is missing"),
    Kind("corrupt notebook JSON", "k11_corrupt", lambda s, r, c: _part1_text(s, '{\n "cells": [\n  {"cell_type": oops'),
         GRADED, POINTS["cube_tests"], "part1.ipynb is not valid JSON (line 3)"),
    Kind("truncated notebook JSON", "k12_truncated",
         lambda s, r, c: _part1_text(s, nbformat.writes(s["part1"])[: len(nbformat.writes(s["part1"])) // 2]),
         GRADED, POINTS["cube_tests"], "part1.ipynb is not valid JSON"),
    Kind("notebook of an older nbformat (v3)", "k13_nbformat3", lambda s, r, c: _v3(s), GRADED, FULL),
    Kind("gigabytes of output", "k14_output",
         lambda s, r, c: _cube(s, "for _ in range(3000):\n        print('x' * 2**20)\n    return x ** 3"), GRADED, FULL),
    Kind("empty notebook file", "k15_empty", lambda s, r, c: _part1_text(s, ""), GRADED, POINTS["cube_tests"],
         "part1.ipynb is empty"),
    Kind("binary file named .ipynb", "k16_binary", lambda s, r, c: _part1_text(s, b"\x89PNG\r\n\x1a\n\xff\xfe\x00"),
         GRADED, POINTS["cube_tests"], "part1.ipynb is not UTF-8"),
    Kind("JSON that is not a notebook", "k17_json", lambda s, r, c: _part1_text(s, '{"hello": 1}'),
         GRADED, POINTS["cube_tests"], "is JSON but not a notebook"),
    Kind("notebook for another kernel (R)", "k18_kernel", lambda s, r, c: _kernel(s, "ir"), GRADED, FULL),
    Kind("test cell metadata stripped (copied into a new notebook)", "k19_no_metadata",
         lambda s, r, c: _stripped(s, "square_tests"), GRADED, FULL - POINTS["square_tests"]),
    Kind("writes a huge file", "k20_file",
         lambda s, r, c: _attack(s, "def _big():\n    try:\n        open('big.bin', 'wb').write(b'x' * 100 * 2**20)\n"
                                    "        return True\n    except OSError:\n        return False", "_big()"),
         GRADED, FULL),
    Kind("sys.exit in a solution cell", "k21_sysexit",
         lambda s, r, c: _cube(s, CUBE) | {"part2.ipynb": _append(s["part2"], "cube", "\nimport sys\nsys.exit(3)")},
         GRADED, FULL),
    Kind("reads the grader's environment", "k22_environment",
         lambda s, r, c: _attack(s, "import os", f"{c['secret']!r} in os.environ"), GRADED, FULL),
    Kind("reads the gradebook and the hidden tests", "k23_hidden_files",
         lambda s, r, c: _attack(s, *_on_any("open(p, 'rb').read(1)", c["secrets"])), GRADED, FULL, needs_isolation=True),
    Kind("opens a network connection", "k24_network",
         lambda s, r, c: _attack(s, f"import socket\ndef _net():\n    try:\n"
                                    f"        socket.create_connection(('127.0.0.1', {c['port']}), timeout=2).close()\n"
                                    f"        return True\n    except OSError:\n        return False", "_net()"),
         GRADED, FULL, needs_isolation=True),
    Kind("kills the grading process", "k25_kill",
         lambda s, r, c: _attack(s, f"import os, signal\ndef _kill():\n    try:\n"
                                    f"        os.kill({c['pid']}, signal.SIGKILL)\n        return True\n"
                                    f"    except OSError:\n        return False", "_kill()"),
         GRADED, FULL, needs_isolation=True),
    Kind("rewrites the checks and the installed packages", "k30_rewrite",
         lambda s, r, c: _attack(s, *_on_any("open(p, 'a').close()", c["writable"])), GRADED, FULL, needs_isolation=True),
    Kind("unmounts what hides the course, then reads the gradebook", "k31_unmount",
         lambda s, r, c: _attack(s, f"import ctypes\n_libc = ctypes.CDLL(None)\n"
                                    f"for _p in {c['mounts']!r}:\n    _libc.umount2(_p.encode(), 2)\n"
                                    "def _read(p):\n    try:\n        open(p, 'rb').read(1)\n        return True\n"
                                    "    except OSError:\n        return False",
                                 f"_read({c['secrets'][0]!r})"),
         GRADED, FULL, needs_isolation=True),
    Kind("unknown chapter folder", "k26_chapter", None, NOT_GRADED, None, "unknown chapter 'ch1_copy': the chapters are ch1"),
    Kind("student not on the roster", "k27_stranger", lambda s, r, c: _as_named(s), NOT_GRADED, None,
         "unknown student 'k27_stranger': not on the roster"),
    Kind("the same student twice (folders differing in case)", "k28_twice", None, GRADED, FULL, "two copies of"),
    Kind("notebook outside any chapter folder", "k29_stray", None, NOT_GRADED, None, "outside a chapter folder"),
]


def _stripped(src, grade_id):
    nbs = {f"{k}.ipynb": v for k, v in src.items()}
    for nb in nbs.values():
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.metadata.pop("nbgrader")
    return nbs


def _append(nb, grade_id, text):
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source += text
    return nb


def _controls(folder, src, rel):
    put_submission(folder, "c1_solution", {f"{k}.ipynb": v for k, v in src.items()})
    put_submission(folder, "c2_release", {f"{k}.ipynb": v for k, v in rel.items()})
    put_submission(folder, "c3_broken", {f"{k}.ipynb": v for k, v in edit_cell(src, "square", "return x * x", "return x + x").items()})


GRADE_KW = dict(workers=2, limits=LIMITS, execute_timeout=10, notebook_seconds=120)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(controls graded alone, the class graded with every bad kind, the context the attacks used)."""
    alone_root, class_root = tmp_path_factory.mktemp("alone"), tmp_path_factory.mktemp("class")
    src, rel = build_synthetic_course(alone_root)
    build_synthetic_course(class_root)
    alone = tmp_path_factory.mktemp("alone_in") / "submitted"
    _controls(alone, src, rel)
    alone_report = grade(alone, course_dir=alone_root / "autograder", **GRADE_KW)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    secret = f"CNNCOURSE_TEST_SECRET_{uuid.uuid4().hex[:6]}"
    os.environ[secret] = "the grader's token"
    ctx = {"port": listener.getsockname()[1], "pid": os.getpid(), "secret": secret,
           "secrets": [str(class_root / "autograder" / "gradebook.db"), str(class_root / "source" / CH / "part1.ipynb"),
                       str(class_root / "autograder" / "nbgrader_config.py")],
           "writable": [str(REPO / "cnncourse" / "checks" / "__init__.py"), str(Path(nbformat.__file__)),
                        str(class_root / "autograder" / "gradebook.db")],
           "mounts": [str(class_root / "autograder"), str(class_root), "/tmp"]}
    incoming = tmp_path_factory.mktemp("class_in")
    submitted = incoming / "submitted"
    _controls(submitted, src, rel)
    for kind in KINDS:
        if kind.make is not None and not (kind.needs_isolation and not ISOLATED):
            put_submission(submitted, kind.student, kind.make(copy.deepcopy(src), copy.deepcopy(rel), ctx))
    put_submission(submitted, "k26_chapter", {"part1.ipynb": src["part1"]}, chapter="ch1_copy")
    put_submission(submitted, "K28_twice", {"part1.ipynb": src["part1"], "part2.ipynb": rel["part2"]})
    put_submission(submitted, "k28_twice", {f"{k}.ipynb": v for k, v in src.items()})
    os.utime(submitted / "K28_twice" / CH / "part2.ipynb", (1, 1))  # the older copy of part2 (the release's)
    (submitted / "k29_stray").mkdir()
    nbformat.write(src["part1"], str(submitted / "k29_stray" / "my_notes.ipynb"))
    roster = incoming / "roster.csv"
    students = sorted({p.name for p in submitted.iterdir()} - {"k27_stranger", "K28_twice"})
    roster.write_text("id,name\n" + "".join(f"{s},{s.title()}\n" for s in students))
    try:
        class_report = grade(incoming, course_dir=class_root / "autograder", roster=roster, **GRADE_KW)
    finally:
        listener.close()
        os.environ.pop(secret, None)
    return alone_report, class_report, class_root


def _result(report, student):
    hits = [s for s in report.submissions if s.student == student]
    assert hits, f"no result for {student}: {[s.key for s in report.submissions]}"
    graded = [s for s in hits if s.chapter == CH] or hits
    return graded[0]


@pytest.mark.parametrize("kind", KINDS, ids=[k.student for k in KINDS])
def test_each_kind_of_bad_input_is_handled(runs, kind):
    if kind.needs_isolation and not ISOLATED:
        pytest.skip(f"the sandbox cannot isolate kernels here: {isolation()[1]}")
    _, report, _ = runs
    result = _result(report, kind.student)
    assert result.status == kind.status, f"{kind.name}: {result.line()}"
    assert result.score == kind.score, f"{kind.name}: {result.line()}"
    if kind.says:
        assert kind.says in " ".join(result.messages()), f"{kind.name}: {result.line()}"


def test_an_endless_loop_is_reported_as_a_timeout_in_the_feedback(runs):
    _, _, root = runs
    nb = nbformat.read(str(root / "autograder" / "autograded" / "k01_loop" / CH / "part1.ipynb"), as_version=4)
    assert "CellTimeoutError" in error_text(nb, "square_tests") or "Timeout" in error_text(nb, "square_tests")


def test_gigabytes_of_output_are_cut_to_the_limit(runs):
    _, _, root = runs
    path = root / "autograder" / "autograded" / "k14_output" / CH / "part2.ipynb"
    assert path.stat().st_size < 5 * LIMITS.output, f"{path.stat().st_size} bytes"
    assert "output truncated by the grader" in path.read_text()


def test_every_kind_was_handled_and_no_other_grade_changed(runs):
    alone, report, _ = runs
    kinds = [k for k in KINDS if not (k.needs_isolation and not ISOLATED)]
    assert len(KINDS) >= 20
    handled = [k for k in kinds if _result(report, k.student).status == k.status
               and _result(report, k.student).score == k.score]
    assert handled == kinds, f"not handled: {[k.name for k in kinds if k not in handled]}"
    for student in ("c1_solution", "c2_release", "c3_broken"):
        a, b = alone.get(student, CH), report.get(student, CH)
        assert (b.status, b.score, b.cells) == (a.status, a.score, a.cells), student
    assert alone.get("c1_solution", CH).score == FULL and alone.get("c2_release", CH).score == 0
    roundtrip.BAD_INPUT.append(
        f"{len(kinds)} kinds of bad input, each graded or reported as expected"
        + (f" ({len(KINDS) - len(kinds)} skipped: {isolation()[1]})" if len(kinds) < len(KINDS) else "")
        + "; the 3 control submissions graded beside them got the same grades as when graded alone")
