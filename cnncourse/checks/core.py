"""Assertions whose messages say what was expected, what came back, and in which case."""

import contextlib

import numpy as np


class CheckFailed(AssertionError):
    """A check of a student's function failed; the message is meant for the student."""


def _where(case):
    return f" [case: {case}]" if case else ""


def fail(message, case=None, hint=None):
    """Raise CheckFailed with the case that failed and, when known, a hint at the likely mistake."""
    text = message + _where(case)
    if hint:
        text += f"\n  Hint: {hint}"
    raise CheckFailed(text)


def expect_type(value, types, what, case=None, hint=None):
    """Fail unless `value` is an instance of `types`."""
    if not isinstance(value, types):
        names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        fail(f"{what}: expected a {names}, got {type(value).__name__}", case, hint)


def expect_shape(value, shape, what, case=None, hint=None):
    """Fail unless `value` is an array of exactly `shape`."""
    got = getattr(value, "shape", None)
    if got is None:
        fail(f"{what}: expected an array of shape {tuple(shape)}, got {type(value).__name__}", case, hint)
    if tuple(got) != tuple(shape):
        fail(f"{what}: expected shape {tuple(shape)}, got {tuple(got)}", case, hint)


def expect_equal(value, expected, what, case=None, hint=None):
    """Fail unless value == expected (for scalars, tuples, dicts)."""
    if value != expected:
        fail(f"{what}: expected {expected!r}, got {value!r}", case, hint)


def expect_close(value, expected, what, case=None, hint=None, rtol=1e-6, atol=1e-8):
    """Fail unless `value` matches the array `expected` in shape and within tolerance.

    The message gives the first differing element, its index and both values.
    """
    expected = np.asarray(expected)
    if np.ndim(expected) > 0:
        expect_shape(value, expected.shape, what, case, hint)
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        fail(f"{what}: contains NaN or inf", case, hint)
    close = np.isclose(value, expected, rtol=rtol, atol=atol)
    if not np.all(close):
        if np.ndim(expected) == 0:
            fail(f"{what}: expected {float(expected):.6g}, got {float(value):.6g}", case, hint)
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        n_bad = int(np.sum(~close))
        fail(
            f"{what}: {n_bad} of {close.size} values differ; first at index {index}: "
            f"expected {expected[index]:.6g}, got {value[index]:.6g}",
            case,
            hint,
        )


def expect_raises(fn, exception, what, case=None, hint=None):
    """Fail unless calling fn() raises `exception`."""
    try:
        fn()
    except exception:
        return
    except Exception as err:  # noqa: BLE001 - report what came instead
        fail(f"{what}: expected {exception.__name__}, got {type(err).__name__}: {err}", case, hint)
    fail(f"{what}: expected {exception.__name__}, nothing was raised", case, hint)


_ABSENT = object()


@contextlib.contextmanager
def reference_helpers(fn, **references):
    """One mistake, one loss: run `fn` with the course's versions of the graded helpers it calls.

    A notebook's `conv_forward` calls the notebook's own `zero_pad` by name, through the notebook's namespace (the
    function's `__globals__`). A hidden check wraps its calls in this block, so that a mistake in `zero_pad` costs
    zero_pad's points and not also those of every graded function that calls it. Public checks do not swap: the
    student sees the whole chain, and the error where it starts.

    Args:
        fn: the student's function. When it has no `__globals__` dict (a callable object, a stand-in that replays
            recorded outputs), nothing is replaced and no error is raised.
        **references: name -> the reference to bind while the block runs. Only names that `fn.__globals__`
            already holds are replaced (a function cannot call a name its namespace lacks).
    Yields:
        None. Every replaced name gets its old value back on the way out, also when the block raises.

    Example:
        with reference_helpers(conv_forward, zero_pad=conv.zero_pad, output_size=conv.output_size):
            Z, _ = conv_forward(A, W, b, hparams)  # the course's zero_pad; the notebook's is back afterwards
    """
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    saved = {name: namespace.get(name, _ABSENT) for name in references if name in namespace}
    try:
        for name in saved:
            namespace[name] = references[name]
        yield
    finally:
        for name, old in saved.items():
            namespace[name] = old


class PartialCredit:
    """The points of one grade cell, split between named parts of a function (nbgrader's partial credit).

    A grade cell that ends with `credit.total()` scores what it returns: nbgrader reads a number left as the cell's
    value as the points earned (at most the cell's points). Every check of a part must pass for the part to earn its
    points; a part that failed is not checked again. Example (Chapter 1's conv_backward, 1 point per gradient):

        credit = PartialCredit("conv_backward", {"dA_prev": 1, "dW": 1, "db": 1})
        for part in credit:
            credit.run(part, checks.public_conv_backward, conv_backward, grads=(part,))
        credit.total()
    """

    def __init__(self, what, parts):
        if not parts or any(points <= 0 for points in parts.values()):
            raise ValueError(f"parts must map each part's name to its points (> 0), got {parts!r}")
        self.what, self.parts = what, dict(parts)
        self.failures = {}  # part -> message of its first failure
        self.checked = set()  # parts that at least one check ran for

    def __iter__(self):
        return iter(self.parts)

    def run(self, part, check, *args, **kwargs):
        """Run check(*args, **kwargs) for `part`; a failure (any exception) is recorded and printed, not raised."""
        if part not in self.parts:
            raise KeyError(f"{self.what}: no part named {part!r}; the parts are {', '.join(self.parts)}")
        if part in self.failures:
            return
        self.checked.add(part)
        try:
            check(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 -- a student's TypeError costs this part, not the whole cell
            if type(err).__name__ == "ReferenceCallError":
                raise  # the course's own solution: the whole cell fails, and the grader flags it
            message = str(err) if isinstance(err, CheckFailed) else f"{type(err).__name__}: {err}"
            self.failures[part] = message
            print(f"{self.what}, part {part}: FAILED, 0 of {self.parts[part]:g} point(s)\n  {message}")

    def earned(self):
        """Points of the parts that were checked and passed every check (an unchecked part earns nothing)."""
        return sum(points for part, points in self.parts.items() if part in self.checked and part not in self.failures)

    def total(self):
        """The points earned (the grade cell's value); raises CheckFailed when no part earned any."""
        total = sum(self.parts.values())
        if not self.earned():
            raise CheckFailed(f"{self.what}: every part failed, 0 of {total:g} points:\n"
                              + "\n".join(f"- {part}: {message}" for part, message in self.failures.items()))
        print(f"{self.what}: {self.earned():g} of {total:g} points from the checks so far")
        return float(self.earned())


def likely_mistake(got, candidates, rtol=1e-6, atol=1e-8):
    """The hints of the known-wrong answers that `got` matches ("; or " between them when several do), or None.

    Args:
        got: what the student's function returned.
        candidates: iterable of (hint, wrong) pairs: `wrong` is what a known mistake returns for the same input
            (an array or a number), or a callable that computes it lazily (it is called only when reached).
    Returns:
        The hints (str) of the candidates whose answer equals `got` in shape and within tolerance, in their order;
        None when none does or `got` is not numeric. A candidate that cannot be computed is skipped.
    """
    try:
        value = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    matches = []
    for hint, wrong in candidates:
        try:
            wrong = np.asarray(wrong() if callable(wrong) else wrong, dtype=np.float64)
        except Exception:  # noqa: BLE001 -- a candidate that does not apply to this case is no match
            continue
        finite = np.all(np.isfinite(value))
        if wrong.shape == value.shape and finite and np.allclose(value, wrong, rtol=rtol, atol=atol):
            matches.append(hint)
    return "; or ".join(dict.fromkeys(matches)) or None
