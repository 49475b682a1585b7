"""Input checks shared by the reference layers: each raises ValueError naming what was expected."""

import numbers

import numpy as np


def require_array(x, name, ndim=None, shape=None, floating=True):
    """Check that `x` is a numpy array with the expected rank, shape and dtype.

    Args:
        x: the value to check.
        name: how the error message calls it, e.g. "A_prev (m, n_H, n_W, n_C)".
        ndim: required number of dimensions, or None.
        shape: required shape as a tuple; None entries match any size.
        floating: require a floating dtype (float32 or float64).
    Returns:
        x, unchanged.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    if shape is not None:
        if len(shape) != x.ndim or any(s is not None and s != g for s, g in zip(shape, x.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {x.shape}")
    if floating and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must have a floating dtype (float32 or float64), got {x.dtype}")
    return x


def require_int(value, name, minimum=0):
    """Check that `value` is an integer (not a bool) >= minimum; return it as a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def require_hparams(hparams, minimums):
    """Check a hyperparameter dict such as {"stride": 1, "pad": 0}.

    Args:
        hparams: dict of hyperparameters.
        minimums: dict key -> smallest allowed integer value, e.g. {"stride": 1, "pad": 0}.
    Returns:
        hparams, unchanged.
    """
    if not isinstance(hparams, dict):
        raise ValueError(f"hparams must be a dict with keys {sorted(minimums)}, got {type(hparams).__name__}")
    missing = sorted(set(minimums) - set(hparams))
    if missing:
        raise ValueError(f"hparams must have keys {sorted(minimums)}; missing {missing}")
    for key, minimum in minimums.items():
        require_int(hparams[key], f'hparams["{key}"]', minimum)
    return hparams


def require_window_fits(n, f, pad, stride, axis):
    """Raise ValueError when a window of size f does not fit in an input of size n padded by pad."""
    if n + 2 * pad < f:
        raise ValueError(f"window of size f={f} does not fit the {axis} of size {n} with pad={pad}")


def require_choice(value, name, choices):
    """Check that `value` is one of `choices`; return it."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
