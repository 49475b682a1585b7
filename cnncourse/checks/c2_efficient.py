"""Checks of Chapter 2's compound_scaling (EfficientNet).

public_compound_scaling: phi = 0 (everything 1) and phi = 1 (the bases themselves), with hints.
hidden_compound_scaling: random phi, alpha, beta, gamma against exp(phi * log(base)), an independent
    computation of the powers; every key is checked on its own so the message names the wrong one.
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_raises, expect_type, fail, likely_mistake

KEYS = ("depth", "width", "resolution", "flops")

HINTS = {
    "depth": "depth multiplies the number of layers: alpha ** phi (a power, not alpha * phi)",
    "width": "width multiplies the number of channels: beta ** phi",
    "resolution": "resolution multiplies the image side: gamma ** phi",
    "flops": "a convolution's cost grows with depth, width squared and resolution squared: "
             "(alpha * beta ** 2 * gamma ** 2) ** phi",
}


def _oracle(phi, alpha, beta, gamma):
    """The four multipliers as exponentials of logarithms, independent of Python's ** operator."""
    return {
        "depth": np.exp(phi * np.log(alpha)),
        "width": np.exp(phi * np.log(beta)),
        "resolution": np.exp(phi * np.log(gamma)),
        "flops": np.exp(phi * (np.log(alpha) + 2 * np.log(beta) + 2 * np.log(gamma))),
    }


def _mistakes(key, phi, alpha, beta, gamma):
    """(hint, wrong value) of the usual mistakes for one key of compound_scaling, for likely_mistake."""
    bases = {"depth": ("alpha", alpha), "width": ("beta", beta), "resolution": ("gamma", gamma)}
    if key in bases:
        name, base = bases[key]
        return [(f"{key} was computed as {name} * phi: it is a power, {name} ** phi", base * phi)]
    return [("the FLOPs grow with width SQUARED and resolution SQUARED: (alpha * beta ** 2 * gamma ** 2) ** phi",
             (alpha * beta * gamma) ** phi),
            ("2 ** phi is the paper's approximation: compute (alpha * beta ** 2 * gamma ** 2) ** phi", 2.0 ** phi),
            ("the square is on alpha instead of gamma: depth enters the FLOPs once, resolution twice",
             (alpha ** 2 * beta ** 2 * gamma) ** phi),
            ("the square is on alpha instead of beta: depth enters the FLOPs once, width twice",
             (alpha ** 2 * beta * gamma ** 2) ** phi)]


def _call(fn, phi, alpha, beta, gamma, case):
    try:
        return fn(phi, alpha=alpha, beta=beta, gamma=gamma)
    except Exception as err:  # noqa: BLE001 - report the error as a failed case
        fail(f"compound_scaling raised {type(err).__name__}: {err}", case)


def _compare(fn, phi, alpha, beta, gamma, rtol=1e-9):
    case = f"phi={phi!r}, alpha={alpha!r}, beta={beta!r}, gamma={gamma!r}"
    got = _call(fn, phi, alpha, beta, gamma, case)
    expect_type(got, dict, "compound_scaling(...)", case, hint='return a dict with keys "depth", "width", '
                                                                 '"resolution" and "flops"')
    missing = [k for k in KEYS if k not in got]
    if missing:
        fail(f"compound_scaling(...): expected the keys {list(KEYS)}, the keys {missing} are missing "
             f"(got {sorted(got)})", case)
    want = _oracle(phi, alpha, beta, gamma)
    for key in KEYS:
        value = got[key]
        if isinstance(value, bool) or not np.isscalar(value) or not np.isreal(value):
            fail(f'compound_scaling(...)["{key}"]: expected a number, got {type(value).__name__} {value!r}', case)
        hint = likely_mistake(value, _mistakes(key, phi, alpha, beta, gamma), rtol=rtol, atol=0) or HINTS[key]
        expect_close(value, want[key], f'compound_scaling(...)["{key}"]', case, hint, rtol=rtol, atol=0)


def public_compound_scaling(compound_scaling):
    """phi = 0 gives all 1, phi = 1 gives the bases 1.2 / 1.1 / 1.15 and flops 1.2 * 1.1**2 * 1.15**2 ~ 1.92."""
    _compare(compound_scaling, 0, 1.2, 1.1, 1.15)
    _compare(compound_scaling, 1, 1.2, 1.1, 1.15)
    case = "phi=1 with the default alpha, beta, gamma"
    try:
        got = compound_scaling(1)
    except Exception as err:  # noqa: BLE001
        fail(f"compound_scaling(1) raised {type(err).__name__}: {err}", case)
    for key, want in (("depth", 1.2), ("width", 1.1), ("resolution", 1.15), ("flops", 1.2 * 1.1 ** 2 * 1.15 ** 2)):
        expect_close(got[key], want, f'compound_scaling(1)["{key}"]', case, HINTS[key], rtol=1e-9, atol=0)
    if not abs(got["flops"] - 2.0) < 0.1:
        fail(f'compound_scaling(1)["flops"]: expected about 2 (EfficientNet\'s constraint), got {got["flops"]:.6g}',
             case, HINTS["flops"])
    _compare(compound_scaling, 2, 1.2, 1.1, 1.15)
    _compare(compound_scaling, 3, 1.5, 1.0, 1.3)
    expect_raises(lambda: compound_scaling(-1), ValueError, "compound_scaling(-1)", "phi=-1",
                  hint="keep the input checks above ### BEGIN SOLUTION")


def hidden_compound_scaling(compound_scaling, n_cases=50, seed=21):
    """Random phi in [0, 8] (integers and fractions) and bases in [1, 2] against exp(phi * log(base))."""
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        phi = int(rng.integers(0, 9)) if k % 2 == 0 else round(float(rng.uniform(0, 8)), 3)
        alpha, beta, gamma = (round(float(v), 4) for v in rng.uniform(1.0, 2.0, size=3))
        _compare(compound_scaling, phi, alpha, beta, gamma)
    _compare(compound_scaling, 5, 1.0, 1.0, 1.0)  # no scaling at all
    for bad in ({"phi": -0.5}, {"alpha": 0.9}, {"beta": 0.5}, {"gamma": 0.99}):
        args = {"phi": 1, "alpha": 1.2, "beta": 1.1, "gamma": 1.15, **bad}
        expect_raises(lambda a=args: compound_scaling(**a), ValueError, f"compound_scaling({bad})",
                      ", ".join(f"{k}={v}" for k, v in args.items()))
