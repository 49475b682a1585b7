"""Max and average pooling, forward and backward, with explicit loops (Chapter 1).

Pooling works on each channel on its own: the number of channels does not change.
    A_prev: (m, n_H_prev, n_W_prev, n_C)
    A:      (m, n_H, n_W, n_C), n_H = floor((n_H_prev - f) / stride) + 1 (no padding)
    hparams: {"f": window size, "stride": s}
"""

import numpy as np

from cnncourse.ops.conv import output_size
from cnncourse.ops.validate import require_array, require_choice, require_hparams


def pool_forward(A_prev, hparams, mode="max"):
    """Forward pass of a pooling layer.

    Args:
        A_prev: array (m, n_H_prev, n_W_prev, n_C), the input batch.
        hparams: dict {"f": int >= 1, "stride": int >= 1}.
        mode: "max" or "average".
    Returns:
        A: array (m, n_H, n_W, n_C).
        cache: (A_prev, hparams), what pool_backward needs.
    """
    require_array(A_prev, "A_prev (m, n_H_prev, n_W_prev, n_C)", ndim=4)
    require_hparams(hparams, {"f": 1, "stride": 1})
    require_choice(mode, "mode", ("max", "average"))
    ### BEGIN SOLUTION
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparams["f"], hparams["stride"]
    n_H = output_size(n_H_prev, f, 0, stride)
    n_W = output_size(n_W_prev, f, 0, stride)
    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_slice)
                    else:
                        A[i, h, w, c] = np.mean(a_slice)
    cache = (A_prev, hparams)
    return A, cache
    ### END SOLUTION


def create_mask_from_window(x):
    """Mask of the maximum of a window: True where x equals its maximum.

    Args:
        x: array (f, f), floating or integer (a window of an integer image is a valid input).
    Returns:
        mask: bool array (f, f); every position equal to the maximum is True (all of them when it appears twice).
    """
    require_array(x, "x (f, f)", ndim=2, floating=False)
    ### BEGIN SOLUTION
    mask = x == np.max(x)
    return mask
    ### END SOLUTION


def distribute_value(dz, shape):
    """Spread a gradient evenly over the window it was averaged from.

    Args:
        dz: float, the gradient of one output of an average pool.
        shape: (n_H, n_W), the window's shape.
    Returns:
        a: array of `shape`, every entry dz / (n_H * n_W).
    """
    if len(shape) != 2:
        raise ValueError(f"shape must be (n_H, n_W), got {shape!r}")
    ### BEGIN SOLUTION
    n_H, n_W = shape
    average = dz / (n_H * n_W)
    a = np.ones(shape) * average
    return a
    ### END SOLUTION


def pool_backward(dA, cache, mode="max"):
    """Backward pass of a pooling layer.

    Args:
        dA: array (m, n_H, n_W, n_C), gradient of the cost with respect to the pooling output.
        cache: (A_prev, hparams) as returned by pool_forward.
        mode: "max" or "average".
    Returns:
        dA_prev: array (m, n_H_prev, n_W_prev, n_C), gradient with respect to A_prev.
    """
    require_array(dA, "dA (m, n_H, n_W, n_C)", ndim=4)
    require_choice(mode, "mode", ("max", "average"))
    ### BEGIN SOLUTION
    A_prev, hparams = cache
    f, stride = hparams["f"], hparams["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(A_prev, dA))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    if mode == "max":
                        a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(
                            dA[i, h, w, c], (f, f)
                        )
    return dA_prev
    ### END SOLUTION
