"""Catch a graded function that merely calls the course's own reference implementation.

The solution of every graded function lives in the package (cnncourse.ops, cnncourse.models), and students have the
package: `def zero_pad(X, pad): return cnncourse.ops.conv.zero_pad(X, pad)` would pass every test. During grading,
the sandboxed kernel (sandbox.py) calls `install(references)` before the notebook runs: each reference function is
replaced, in its module, by a wrapper that raises ReferenceCallError when

1. it is called while the notebook's function of the same name runs, directly (`def zero_pad(...)` in a notebook
   cell calling cnncourse.ops.conv.zero_pad) or through other code (a helper of the notebook's, a function of the
   package), or
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
exercise's twin (the NMS exercise computes its IoU with box_iou). So are Keras's own builders of what an exercise
builds (LIBRARY_MIRRORS: `def vgg16(...): return keras.applications.VGG16(...)` would otherwise pass every check,
since keras.applications is the checks' oracle).
And so are the CHECKS' own functions (their oracles, `_tf_transpose`, `oracle_layer_style_cost` ..., and every helper):
notebook code may call only the checks themselves (public_* / hidden_*) and the few helpers the notebooks use
(NOTEBOOK_HELPERS); any other call from a notebook cell raises (guard_checks, which also wraps the checks modules
imported later).
This catches reuse, not obfuscation: the kernel is the student's, and determined code can unwrap the functions.
"""

import functools
import importlib
import os
import sys
import types

from cnncourse.grading import import_hooks

MARKER = "ReferenceCallError"
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHECKS_DIR = os.path.join(_PACKAGE_DIR, "checks")


class ReferenceCallError(RuntimeError):
    """A graded function called (or was) the course's reference implementation."""


def _is_notebook_code(filename):
    """True for code compiled from a notebook cell (ipykernel names them /tmp/ipykernel_<pid>/<hash>.py, or <ipython-input-...>)."""
    return filename.startswith("<ipython-input") or os.path.basename(os.path.dirname(filename)).startswith("ipykernel_")


def _notebook_function_on_stack(frame, names):
    """The innermost frame, from `frame` outwards, of a notebook function whose name is in `names`, or None.

    The whole stack, not only the caller: `def conv_forward(...): return _fast(...)`, with a helper of the notebook's
    calling the twin, is the exercise reaching its twin all the same.
    """
    while frame is not None:
        if frame.f_code.co_name in names and _is_notebook_code(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return None


def _is_check_handed(frame, guarded):
    """True when `frame` is a public_/hidden_ check that was given `guarded` itself as the function to check."""
    code = frame.f_code
    if not code.co_name.startswith(("public_", "hidden_")):
        return False
    arguments = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return any(frame.f_locals.get(a) is guarded for a in arguments)


# Modules whose MIRRORS dict maps a twin (a function of the module) to the dotted reference it stands in for.
MIRROR_MODULES = ("cnncourse.ops.twins", "cnncourse.models.twins", "cnncourse.ops.vectorized")
# Keras's own builders of what an exercise asks the student to build (the checks' oracles): a graded function of that
# name which calls one hands in Keras's answer, not its own. One builder may stand in for several exercises.
LIBRARY_MIRRORS = {
    "keras.src.applications.vgg16.VGG16": ("cnncourse.models.c2_classic.vgg16",),
    "keras.src.applications.resnet.ResNet50": ("cnncourse.models.c2_resnet.resnet50",),
    "keras.src.applications.resnet.residual_block_v1": ("cnncourse.models.c2_resnet.identity_block",
                                                        "cnncourse.models.c2_resnet.convolutional_block"),
    "keras.src.applications.mobilenet._depthwise_conv_block": ("cnncourse.models.c2_mobile.depthwise_separable_block",),
    "keras.src.applications.mobilenet_v2._inverted_res_block": ("cnncourse.models.c2_mobile.inverted_residual_block",),
}
_PATCHED = []  # (module, attribute, original) of every wrapper install() put in place, for uninstall()
CHECKS_PACKAGE = import_hooks.CHECKS_PACKAGE
# Functions of the checks that the notebooks call themselves (tables of a model's layers): not answers.
NOTEBOOK_HELPERS = frozenset({"describe_model", "layer_rows"})


def twins_of(references):
    """[(dotted path of a twin or library builder, (dotted references it stands in for))] for `references`: the
    package's twins (MIRRORS of MIRROR_MODULES) and Keras's builders (LIBRARY_MIRRORS) of those graded functions."""
    wanted, found = set(references), []
    for module_name in MIRROR_MODULES:
        mirrors = getattr(importlib.import_module(module_name), "MIRRORS", {})
        found += [(f"{module_name}.{twin}", (reference,)) for twin, reference in mirrors.items() if reference in wanted]
    found += [(dotted, tuple(r for r in stands if r in wanted)) for dotted, stands in LIBRARY_MIRRORS.items()
              if wanted.intersection(stands)]
    return found


def _wrap(function, dotted, stands_for=()):
    """The guarded wrapper of `function` (dotted: its path). stands_for: the dotted references that a twin or library
    builder stands in for, whose names are then the notebook functions that may not call it; () for a reference."""
    names = {reference.rpartition(".")[2] for reference in stands_for} or {function.__name__}
    owner = "the course's" if dotted.startswith("cnncourse.") else f"{dotted.partition('.')[0].capitalize()}'s"
    what = f"{owner} own version of {' / '.join(sorted(names))}, {dotted}" if stands_for \
        else f"the course's reference implementation {dotted}"

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        caller = sys._getframe(1)
        exercise = _notebook_function_on_stack(caller, names)
        if exercise is not None:
            through = "" if exercise is caller else f" (through {caller.f_code.co_name})"
            raise ReferenceCallError(
                f"{MARKER}: {exercise.f_code.co_name} calls {what}{through}: "
                f"write the computation yourself; this function scores 0 points")
        frame = caller  # the checks' own frames, innermost first: was a check handed this very function to check?
        while frame is not None and frame.f_code.co_filename.startswith(_CHECKS_DIR):
            if _is_check_handed(frame, guarded):
                raise ReferenceCallError(
                    f"{MARKER}: {frame.f_code.co_name[frame.f_code.co_name.index('_') + 1:]} is {what}, "
                    f"not your own code: write it yourself; this function scores 0 points")
            frame = frame.f_back
        return function(*args, **kwargs)

    guarded.__cnncourse_reference__ = dotted
    return guarded


def install(references):
    """Replace each function named in `references` (dotted paths), and each twin or library builder that stands in for
    one of them (twins_of), by its guarded wrapper: in its module, and, for a library builder, in every module of its
    library that binds it too (keras.applications.VGG16 is keras.src.applications.vgg16.VGG16).

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
            guarded = _wrap(function, dotted, stands_for.get(dotted, ()))
            library = module_name.partition(".")[0]
            places = [module] if library == "cnncourse" else \
                [m for name, m in list(sys.modules.items())
                 if m is not None and name.partition(".")[0] == library and vars(m).get(attribute) is function]
            for place in places:
                _PATCHED.append((place, attribute, function))
                setattr(place, attribute, guarded)
        installed.append(dotted)
    guard_checks()
    return installed, problems


def _guard_check_function(function, dotted):
    """`function` of the checks wrapped so that a call from notebook code raises ReferenceCallError."""
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        caller = sys._getframe(1)
        if _is_notebook_code(caller.f_code.co_filename):
            name = caller.f_code.co_name
            raise ReferenceCallError(
                f"{MARKER}: {'a notebook cell' if name == '<module>' else name} calls the checks' own code {dotted}: "
                f"the checks are not yours to call; write the computation yourself; this function scores 0 points")
        return function(*args, **kwargs)

    guarded.__cnncourse_reference__ = dotted
    return guarded


def _guard_checks_module(module):
    """Wrap every plain function that `module` (a checks module) binds and the checks package defines, except the
    checks themselves and NOTEBOOK_HELPERS; one wrapper per function, shared by every module that imports it."""
    for attribute, value in list(vars(module).items()):
        if (not isinstance(value, types.FunctionType) or hasattr(value, "__cnncourse_reference__")
                or not (value.__module__ or "").startswith(CHECKS_PACKAGE)
                or attribute.startswith(("public_", "hidden_")) or value.__name__ in NOTEBOOK_HELPERS):
            continue
        guarded = _CHECK_WRAPPERS.get(value)
        if guarded is None:
            guarded = _CHECK_WRAPPERS[value] = _guard_check_function(value, f"{value.__module__}.{value.__qualname__}")
        _PATCHED.append((module, attribute, value))
        setattr(module, attribute, guarded)


_CHECK_WRAPPERS = {}  # original function -> its guarded wrapper


def guard_checks():
    """Guard the functions of every checks module, those imported already and those imported later."""
    import_hooks.on_checks_import(_guard_checks_module)


def uninstall():
    """Put back every function that install() and guard_checks() replaced, and stop guarding checks modules on import
    (for tests; a grading kernel never uninstalls)."""
    while _PATCHED:
        module, attribute, original = _PATCHED.pop()
        setattr(module, attribute, original)
    import_hooks.remove(_guard_checks_module)


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
