"""Catch a graded function that merely calls the course's own reference implementation.

The solution of every graded function lives in the package (cnncourse.ops, cnncourse.models), and students have the
package: `def zero_pad(X, pad): return cnncourse.ops.conv.zero_pad(X, pad)` would pass every test. During grading,
the sandboxed kernel (sandbox.py) calls `install(references)` before the notebook runs: each reference function is
replaced, in its module, by a wrapper that raises ReferenceCallError when

1. it is called directly from the notebook's function of the same name (`def zero_pad(...)` in a notebook cell
   calling cnncourse.ops.conv.zero_pad), or
2. it is called, directly or through the checks' helpers, by a check (public_* / hidden_* of cnncourse.checks)
   that was handed the reference itself as the function to check: the notebook passed it off as its own
   (`zero_pad = cnncourse.ops.conv.zero_pad`). A check that uses package code which in turn uses the reference
   (an oracle built from other package functions) is not affected.

The test cell then fails like any wrong answer, so the function's grade cells score 0, and the error's text (with
MARKER) lands in the autograded notebook, where the grader finds it and flags the submission in its report.
Calls from the package itself (a model built from reference blocks, an experiment) are not affected, nor are a
notebook's calls to the package's version of another notebook's function (Chapter 3's NMS uses the package's IoU).
The package's TWINS of graded functions (cnncourse/ops/twins.py, cnncourse/models/twins.py, the vectorised
convolution: working versions that the widgets and experiments use in the student edition) are guarded the same way,
each under the name of the reference it stands in for (their MIRRORS tables): `def pair_classifier(encoder): return
build_pair_model(encoder)` scores 0 like a call of the reference. A graded function may still call another
exercise's twin (the NMS exercise computes its IoU with box_iou).
This catches reuse, not obfuscation: the kernel is the student's, and determined code can unwrap the functions.
"""

import functools
import importlib
import os
import sys

MARKER = "ReferenceCallError"
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHECKS_DIR = os.path.join(_PACKAGE_DIR, "checks")


class ReferenceCallError(RuntimeError):
    """A graded function called (or was) the course's reference implementation."""


def _is_notebook_code(filename):
    """True for code compiled from a notebook cell (ipykernel names them /tmp/ipykernel_<pid>/<hash>.py, or <ipython-input-...>)."""
    return filename.startswith("<ipython-input") or os.path.basename(os.path.dirname(filename)).startswith("ipykernel_")


def _is_check_handed(frame, guarded):
    """True when `frame` is a public_/hidden_ check that was given `guarded` itself as the function to check."""
    code = frame.f_code
    if not code.co_name.startswith(("public_", "hidden_")):
        return False
    arguments = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return any(frame.f_locals.get(a) is guarded for a in arguments)


# Modules whose MIRRORS dict maps a twin (a function of the module) to the dotted reference it stands in for.
MIRROR_MODULES = ("cnncourse.ops.twins", "cnncourse.models.twins", "cnncourse.ops.vectorized")


def twins_of(references):
    """[(twin's dotted path, reference's dotted path)] of the package's twins that stand in for one of `references`."""
    wanted, found = set(references), []
    for module_name in MIRROR_MODULES:
        mirrors = getattr(importlib.import_module(module_name), "MIRRORS", {})
        found += [(f"{module_name}.{twin}", reference) for twin, reference in mirrors.items() if reference in wanted]
    return found


def _wrap(function, dotted, stands_for=None):
    """The guarded wrapper of `function` (dotted: its path). stands_for: the dotted reference a twin stands in for,
    whose name is then the notebook function that may not call it; None for a reference itself."""
    name = stands_for.rpartition(".")[2] if stands_for else function.__name__
    what = f"own version of {name}, {dotted}" if stands_for else f"reference implementation {dotted}"

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        caller = sys._getframe(1)
        if caller.f_code.co_name == name and _is_notebook_code(caller.f_code.co_filename):
            raise ReferenceCallError(
                f"{MARKER}: {caller.f_code.co_name} calls the course's {what}: "
                f"write the computation yourself; this function scores 0 points")
        frame = caller  # the checks' own frames, innermost first: was a check handed this very function to check?
        while frame is not None and frame.f_code.co_filename.startswith(_CHECKS_DIR):
            if _is_check_handed(frame, guarded):
                raise ReferenceCallError(
                    f"{MARKER}: {name} is the course's {what}, not your own code: "
                    f"write it yourself; this function scores 0 points")
            frame = frame.f_back
        return function(*args, **kwargs)

    guarded.__cnncourse_reference__ = dotted
    return guarded


def install(references):
    """Replace each function named in `references` (dotted paths), and each twin that stands in for one of them
    (twins_of), by its guarded wrapper, in its module.

    Returns (installed, problems): the dotted names now guarded, and one message per name that could not be
    (module not importable, no such function). Installing twice does not wrap twice.
    """
    installed, problems = [], []
    try:
        twins = twins_of(references)
    except Exception as err:  # noqa: BLE001 -- a twin module that cannot be imported must not stop the kernel
        twins, problems = [], [f"twins: {type(err).__name__}: {err}"]
    stands_for = dict(twins)
    for dotted in list(references) + [twin for twin, _ in twins]:
        module_name, _, attribute = dotted.rpartition(".")
        try:
            module = importlib.import_module(module_name)
            function = getattr(module, attribute)
        except Exception as err:  # noqa: BLE001 -- a reference that cannot be guarded must not stop the kernel
            problems.append(f"{dotted}: {type(err).__name__}: {err}")
            continue
        if not hasattr(function, "__cnncourse_reference__"):
            setattr(module, attribute, _wrap(function, dotted, stands_for.get(dotted)))
        installed.append(dotted)
    return installed, problems


def flagged_functions(nb):
    """[(grade_id, message)] of the grade cells of an executed notebook (nbformat node) that a ReferenceCallError failed."""
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue  # a demonstration cell that failed with it scores nothing either way
        grade_id = meta.get("grade_id")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and MARKER in (output.get("ename", "") + output.get("evalue", "")):
                found.append((grade_id, output.get("evalue", "").replace(f"{MARKER}: ", "")))
    return found
