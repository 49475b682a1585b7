"""Reach each grade cell's verdict outside the student's kernel, from what the kernel recorded (evidence.py).

For every grade cell of an autograded notebook, the judge runs the cell's own source again, in the grader's
process, with:
- the notebook's imports (from its locked cells, whose source nbgrader restored), so `checks`, `np` ... are real;
- every other name the cell reads (the student's functions and values) bound to a PLACEHOLDER;
- every check of cnncourse.checks wrapped so that its call is matched with the kernel's entry for the same cell
  and position: placeholders become the recorded data, or a REPLAYER that hands back, call by call, what the
  student's function returned (or raises what it raised).
The checks then compare those outputs with their oracles here, where the student's code never ran. The cell
scores as nbgrader would score it: 0 when it raises, its value when it ends with a number (partial credit), else
its points.

A cell cannot be judged (its verdict is then the kernel's) when a check was handed something that is neither data
nor a Keras model or block the judge can rebuild, such as a layer class of the notebook's: the allow-list
OPAQUE_CHECKS names the checks where that is expected. Anywhere else, a
missing, mismatched or unreadable record fails the cell, and the grader flags it.
"""

import ast
import builtins
import contextlib
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnncourse.grading.evidence import (CHECK_PREFIXES, CHECKS_PACKAGE, ENTRY_SUFFIX, KEY_PREFIX, Unbuildable,
                                        call_arguments, cell_key, checks_digest, decode, kernel_folder, read_entry)
from cnncourse.grading.layer_replay import ReplayRunOut

# Checks whose verdict stays the kernel's: their subject hands back what the judge cannot build outside the notebook.
# Keras models and blocks of Keras's own classes are rebuilt (evidence.py); a layer class written by the student is
# not. A module name stands for all of its checks; tests/test_judge.py checks that every entry still exists.
_OPAQUE_MODULES = ()
# {checks module: (graded functions)} whose values cannot be rebuilt outside the notebook at all: none any more. The
# LRN layer class is judged from the transcript of the check's calls to the layers it made
# (evidence.RecordingFunction), AlexNet, which holds it, with the course's twin of that class
# (evidence.notebook_layer_stand_ins), and Chapter 2's augmentation pipeline, where a layer class of the student's
# own is a correct answer, with stand-ins that replay that layer's recorded calls (layer_replay.py).
_OPAQUE_SUBJECTS = {}
OPAQUE_CHECKS = frozenset(
    [f"{CHECKS_PACKAGE}.{module}.*" for module in _OPAQUE_MODULES]
    + [f"{CHECKS_PACKAGE}.{module}.{kind}_{subject}" for module, subjects in _OPAQUE_SUBJECTS.items()
       for subject in subjects for kind in ("public", "hidden")])


def may_be_opaque(check):
    """True when the check (dotted name) is allowed to be handed values that are not data."""
    return check in OPAQUE_CHECKS or check.rpartition(".")[0] + ".*" in OPAQUE_CHECKS


class Unjudgeable(BaseException):
    """The cell's checks were handed something that is not data: its verdict stays the kernel's.

    A BaseException, so that PartialCredit and expect_raises (which catch Exception) let it through.
    """


class RecordProblem(BaseException):
    """The record does not match what the check does: missing, forged or unreadable. The whole cell fails.

    A BaseException too: a part of a PartialCredit cell must not hide it.
    """


class ChecksMismatch(RecordProblem):
    """The record was made by another version of cnncourse.checks than the grader's: its calls cannot be matched.

    The cell fails like any record problem (a forger could otherwise claim another version to keep the kernel's
    verdict), but the flag says to check the installation and grade again, not that the notebook tampered.
    """


@dataclass
class Verdict:
    """The judge's verdict on one grade cell: score None when it could not be judged; message says why it failed."""

    grade_id: str
    points: float
    score: float | None
    message: str = ""
    record_problem: bool = False
    checks_mismatch: bool = False


class Placeholder:
    """A name the grade cell reads from the student's notebook; a check call replaces it by what was recorded."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"<the notebook's {self._name}>"

    def __getattr__(self, attribute):
        raise Unjudgeable(f"the cell uses {self._name}.{attribute} outside a check")

    def __call__(self, *args, **kwargs):
        raise Unjudgeable(f"the cell calls {self._name} outside a check")

    def _used(self, *args, **kwargs):
        raise Unjudgeable(f"the cell computes with {self._name} outside a check")


# Any other use of a placeholder (indexing, arithmetic, comparison, conversion, iteration) makes the cell unjudgeable:
# its verdict then stays the kernel's, rather than the judge failing an honest cell it cannot evaluate.
for _dunder in ("getitem", "setitem", "iter", "len", "bool", "contains", "eq", "ne", "lt", "le", "gt", "ge", "add",
                "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "floordiv", "rfloordiv", "mod", "pow",
                "matmul", "rmatmul", "neg", "abs", "float", "int", "index", "array", "hash"):
    setattr(Placeholder, f"__{_dunder}__", Placeholder._used)


class Replayer:
    """Stands for the student's function: each call returns (or raises) what the recorded call did."""

    def __init__(self, spec, arrays, check):
        self.__name__ = str(spec.get("name") or "function")
        self._calls, self._arrays, self._check, self._next = list(spec.get("calls") or []), arrays, check, 0

    def __call__(self, *args, **kwargs):
        if self._next >= len(self._calls):
            raise RecordProblem(f"{self._check} called {self.__name__} more often than the record shows")
        call = self._calls[self._next]
        self._next += 1
        if not isinstance(call, dict):
            raise RecordProblem(f"{self._check}: a malformed call in the record")
        self._apply_effects(call.get("effects") or {}, args, kwargs)
        if "raised" in call:
            raise _rebuilt_exception(call)
        returned = call.get("returned")
        if isinstance(returned, dict) and returned.get("t") == "opaque":
            raise _opaque(self._check, returned)
        if isinstance(returned, dict) and returned.get("t") == "instance":  # an object of a class handed to the check
            return InstanceReplayer({"name": f"{self.__name__} object", "calls": returned.get("calls")}, self._arrays,
                                    self._check)
        return _decoded(returned, self._arrays, self._check, dict(call_arguments(args, kwargs)))

    def _apply_effects(self, effects, args, kwargs):
        """Change the arguments in place as the recorded call changed them (an optimiser step, an in-place fill)."""
        if not isinstance(effects, dict):
            raise RecordProblem(f"{self._check}: malformed effects in the record")
        for key, index in effects.items():
            target = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key)
            if isinstance(index, dict):
                self._apply_trainable(index.get("trainable"), target, key)
                continue
            try:
                value = np.asarray(self._arrays[int(index)])
            except (IndexError, ValueError, TypeError):
                raise RecordProblem(f"{self._check}: an effect of the record points nowhere") from None
            if isinstance(target, np.ndarray) and target.shape == value.shape:
                target[...] = value
            elif hasattr(target, "assign") and tuple(getattr(target, "shape", ())) == value.shape:
                target.assign(value.astype(np.dtype(str(target.dtype))))
            else:
                raise RecordProblem(f"{self._check}: the record changes argument {key}, which cannot take it")


    def _apply_trainable(self, flags, target, key):
        """Set the trainable flags of a Keras layer argument as the recorded call left them (evidence.trainable_flags:
        the layer itself first, so that its own flag, which sets every inner one, comes before theirs)."""
        if not hasattr(target, "_flatten_layers") or not isinstance(flags, list):
            raise RecordProblem(f"{self._check}: the record changes the trainable flags of argument {key}, which is "
                                f"not a Keras layer")
        inner = list(target._flatten_layers(include_self=True))
        names = [str(layer.name) for layer in inner]
        if [flag[0] if isinstance(flag, list) and len(flag) == 2 else None for flag in flags] != names or \
                not all(isinstance(flag[1], bool) for flag in flags):
            raise RecordProblem(f"{self._check}: the recorded trainable flags of argument {key} do not fit its layers")
        for layer, (_, trainable) in zip(inner, flags):
            layer.trainable = trainable


class InstanceReplayer(Replayer):
    """Stands for an object that a class handed to a check made: its calls are replayed; reading any other attribute
    of it (which the record does not hold) leaves the cell to the kernel."""

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise Unjudgeable(f"{self._check} reads {self.__name__}.{attribute}, which the record does not hold")


def _decoded(tree, arrays, check, call=None):
    """decode(tree, arrays, call=call), or the exception that says why the record cannot be used for `check`.

    call: {argument key: value} of the judge's call that returned the recorded value (a Keras graph is applied to
    its tensors; a model built around a layer it was handed gets that layer)."""
    try:
        return decode(tree, arrays, call=call)
    except Unbuildable as err:  # like a value that is not data: allowed only where a model may be opaque
        raise _opaque(check, {"type": str(err)}) from None
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise RecordProblem(f"{check}: {err}") from None


def _rebuilt_exception(call):
    """An exception like the recorded one: the first builtin class of its MRO, with the recorded message."""
    names = call.get("raised") if isinstance(call.get("raised"), list) else []
    message = str(call.get("message", ""))
    for name in names:
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception) and cls is not Exception:
            try:
                return cls(message)
            except Exception:  # noqa: BLE001 -- an exception class with another signature
                continue
    return RuntimeError(f"{names[0] if names else 'Exception'}: {message}")


def _opaque(check, spec):
    if may_be_opaque(check):
        return Unjudgeable(f"{check} was handed {spec.get('type', 'a value that is not data')}")
    return RecordProblem(f"{check}: the record holds {spec.get('type', 'a value that is not data')} where data was expected")


class Evidence:
    """The entries of one kernel folder, by (cell key, index). Unreadable or duplicated entries are kept as problems."""

    def __init__(self, folder):
        self.entries, self.problems = {}, {}
        folder = Path(folder)
        for path in sorted(folder.glob("*" + ENTRY_SUFFIX)) if folder.is_dir() else []:
            try:
                manifest, arrays = read_entry(path)
                key = (str(manifest["cell"]), int(manifest["index"]))
            except (ValueError, KeyError, TypeError) as err:
                self.problems.setdefault(path.name[:KEY_PREFIX], []).append(str(err))
                continue
            if key in self.entries:
                self.problems.setdefault(key[0][:KEY_PREFIX], []).append(f"two records of check call {key[1]}")
            self.entries[key] = (manifest, arrays)


class _Judging:
    """The state of judging one cell: its key and how many top-level check calls it has made."""

    def __init__(self, evidence, cell):
        self.evidence, self.cell, self.calls, self.depth = evidence, cell, 0, 0


def _substitute(value, spec, arrays, check):
    """What a placeholder argument becomes: the recorded data or a Replayer (spec: the argument's record)."""
    if not isinstance(spec, dict):
        raise RecordProblem(f"{check}: no record of this argument")
    kind = spec.get("kind")
    if kind == "reference":
        raise RecordProblem(f"{check} was handed the course's reference implementation")
    if kind == "function":
        return Replayer(spec, arrays, check)
    if kind == "data":
        recorded = spec.get("value")
        if isinstance(recorded, dict) and recorded.get("t") == "opaque":
            raise _opaque(check, recorded)
        return _decoded(recorded, arrays, check)
    raise RecordProblem(f"{check}: an argument of unknown kind {kind!r} in the record")


def _replaying(check, state):
    name = f"{check.__module__}.{check.__name__}"

    def replayed(*args, **kwargs):
        judging = state[0]
        if judging is None or judging.depth:
            return check(*args, **kwargs)
        index = judging.calls
        judging.calls += 1
        problems = judging.evidence.problems.get(judging.cell[:KEY_PREFIX])
        if problems:
            raise RecordProblem(f"the record of this cell is unreadable: {problems[0]}")
        entry = judging.evidence.entries.get((judging.cell, index))
        if entry is None:
            raise RecordProblem(f"no record of {name}'s run in the notebook (the check did not run there as written)")
        manifest, arrays = entry
        if manifest.get("check") != name:
            raise RecordProblem(f"the record names {manifest.get('check')!r} where the cell calls {name}")
        if manifest.get("checks_digest") != checks_digest():
            raise ChecksMismatch("the kernel ran another version of cnncourse.checks than the grader (the record's "
                                f"digest {str(manifest.get('checks_digest'))[:12]!r}, the grader's "
                                f"{checks_digest()[:12]!r}): if the course's installation changed while grading, "
                                "grade this submission again")
        specs = manifest.get("args") if isinstance(manifest.get("args"), dict) else {}
        args = [_substitute(v, specs.get(str(i)), arrays, name) if isinstance(v, Placeholder) else v
                for i, v in enumerate(args)]
        kwargs = {k: _substitute(v, specs.get(k), arrays, name) if isinstance(v, Placeholder) else v
                  for k, v in kwargs.items()}
        judging.depth += 1
        try:
            return check(*args, **kwargs)
        finally:
            judging.depth -= 1

    return replayed


@contextlib.contextmanager
def _checks_replaying(state):
    """Within the block, every check of the imported cnncourse.checks modules replays (state[0]: the _Judging)."""
    saved = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith(CHECKS_PACKAGE + ".") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith(CHECK_PREFIXES) and callable(value) and value.__module__ == module_name:
                saved.append((module, attribute, value))
                setattr(module, attribute, _replaying(value, state))
    try:
        yield
    finally:
        for module, attribute, value in saved:
            setattr(module, attribute, value)


def _imports(nb):
    """The namespace made by the import statements of the notebook's locked and grade cells."""
    namespace = {"__name__": "__judge__", "__builtins__": builtins}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                with contextlib.suppress(Exception):
                    exec(compile(ast.Module([node], []), "<judge imports>", "exec"), namespace)  # noqa: S102
    return namespace


def _free_names(tree, namespace):
    """Names the cell reads that neither it, its imports nor builtins define: the student's."""
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
               for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a is not None}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(loaded - stored - set(namespace) - set(dir(builtins)))


def _run_cell(source, namespace):
    """Run a cell's source like IPython: the value of a final expression statement is returned."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<grade cell>", "exec"), namespace)  # noqa: S102
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<grade cell>", "eval"), namespace)  # noqa: S307
    return None


def judge_cell(source, points, namespace, evidence, grade_id=""):
    """The Verdict on one grade cell (source: its trusted text; points: its maximum; namespace: from _imports)."""
    state = [_Judging(evidence, cell_key(source))]
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return Verdict(grade_id, points, None, f"the cell does not parse: {err}")
    cell_namespace = dict(namespace)
    cell_namespace.update({name: Placeholder(name) for name in _free_names(tree, namespace)})
    try:
        with _checks_replaying(state), contextlib.redirect_stdout(io.StringIO()):
            value = _run_cell(source, cell_namespace)
    except Unjudgeable as err:
        return Verdict(grade_id, points, None, str(err))
    except (RecordProblem, ReplayRunOut) as err:
        return Verdict(grade_id, points, 0.0, str(err), record_problem=True,
                       checks_mismatch=isinstance(err, ChecksMismatch))
    except Exception as err:  # noqa: BLE001 -- a failed check, or the student's recorded error
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return Verdict(grade_id, points, 0.0, f"{type(err).__name__}: {first}"[:500])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Verdict(grade_id, points, max(0.0, min(float(value), points)))
    return Verdict(grade_id, points, points)


def judge_notebook(nb, evidence):
    """[Verdict] for the grade cells of `nb` (an nbformat notebook whose grade and locked cells nbgrader restored)."""
    namespace = _imports(nb)
    verdicts = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            verdicts.append(judge_cell(cell.source, float(meta.get("points", 0)), namespace, evidence,
                                       meta.get("grade_id", "")))
    return verdicts


def judge_submission(course, chapter, student, autograded, evidence_folder):
    """Judge every autograded notebook of a submission and lower, in the gradebook, what the kernel over-scored.

    Args:
        course: the Course (its gradebook holds the kernel's scores, which nbgrader just wrote).
        chapter, student: the submission's names; autograded: the folder of its autograded notebooks.
        evidence_folder: the root the kernels recorded their checks' calls in (see evidence.kernel_folder).
    Returns (flagged, log): [[notebook, grade_id, message]] for every cell whose score the judge lowered (grade_id
    "<notebook>:not-judged" for a notebook it could not judge at all: the kernel's verdicts then stand), and a few lines for the grading log
    (cells judged, left to the kernel, lowered). A score is never raised: a kernel that
    failed its own checks keeps its failure.
    """
    import nbformat
    from nbgrader.api import MissingEntry

    started = time.monotonic()
    evidence = Evidence(kernel_folder(evidence_folder, autograded))
    flagged, judged, unjudged, lines = [], 0, 0, []
    with course.gradebook() as gb:
        for path in sorted(Path(autograded).glob("*.ipynb")):
            try:
                nb = nbformat.read(str(path), as_version=4)
            except Exception as err:  # noqa: BLE001 -- nbgrader wrote it; a notebook we cannot read changes nothing
                lines.append(f"judge: {path.name} not read: {err}")
                continue
            try:
                verdicts = judge_notebook(nb, evidence)
            except Exception as err:  # noqa: BLE001 -- a fault of the judge must not fail the submission: flag it
                lines.append(f"judge: {path.name} could not be judged: {type(err).__name__}: {err}")
                flagged.append([path.stem, f"{path.stem}:not-judged", f"not judged outside the kernel ({type(err).__name__}: {err}); "
                                               f"the kernel's verdicts stand: check this notebook by hand"])
                continue
            for verdict in verdicts:
                if verdict.score is None:
                    unjudged += 1
                    lines.append(f"judge: {path.stem}/{verdict.grade_id} left to the kernel: {verdict.message}")
                    continue
                judged += 1
                try:
                    grade = gb.find_grade(verdict.grade_id, path.stem, chapter, student)
                except MissingEntry:  # nbgrader recorded no grade for it: nothing to lower
                    lines.append(f"judge: {path.stem}/{verdict.grade_id} has no grade in the gradebook")
                    continue
                kernel = float(grade.auto_score or 0.0)
                if verdict.score < kernel - 1e-9:
                    grade.auto_score = verdict.score
                    why = "its record does not match the checks" if verdict.record_problem else "the check fails"
                    cause = ("the grading kernel and the grader ran different versions of the course" if
                             verdict.checks_mismatch else "the notebook tampered with its checks")
                    flagged.append([path.stem, verdict.grade_id,
                                    f"the notebook's own run of the checks gave {kernel:g} of {verdict.points:g} "
                                    f"points, but judged outside the kernel {why} ({verdict.message}): {cause}; "
                                    f"scored {verdict.score:g}"])
        gb.db.commit()
    lines.append(f"judge: {judged} grade cell(s) judged outside the kernel, {unjudged} left to the kernel, "
                 f"{len(flagged)} lowered, in {time.monotonic() - started:.1f} s")
    return flagged, "\n===== judge\n" + "\n".join(lines) + "\n"
