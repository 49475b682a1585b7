"""Numerical gradients and the relative error used to check backward passes (CS231n style).

Threshold used in the course: relative error below 1e-7 in float64 means the backward pass is right.
"""

import numpy as np


def rel_error(x, y):
    """Largest relative error between two arrays of the same shape: max |x-y| / max(1e-12, |x|+|y|)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-12, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, df, h=1e-5):
    """Central-difference gradient of sum(f(x) * df) with respect to x.

    Args:
        f: function of x returning an array shaped like df (x is changed in place and restored).
        x: float64 array, the point.
        df: upstream gradient, shaped like f(x).
        h: step.
    Returns:
        grad: array shaped like x.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad
