"""A vectorized convolution forward pass (Chapter 1 bonus): the loops of conv_forward become f * f matmuls.

The output at (h, w) sums, over the filter offsets (i, j), the input pixel at
(h * stride + i, w * stride + j) times the matrix W[i, j] (n_C_prev x n_C). For one offset that is a
single matrix product of a strided view of the whole padded batch with W[i, j], so the Python loop runs
f * f times (9 for a 3x3 filter) instead of m * n_H * n_W * n_C times.
"""

import numpy as np

from cnncourse.ops.twins import window_count
from cnncourse.ops.validate import require_array, require_hparams

MIRRORS = {"conv_forward_vectorized": "cnncourse.ops.conv.conv_forward"}  # as in cnncourse/ops/twins.py


def conv_forward_vectorized(A_prev, W, b, hparams):
    """Same contract as cnncourse.ops.conv.conv_forward, with f * f matrix products instead of loops.

    Args:
        A_prev: (m, n_H_prev, n_W_prev, n_C_prev); W: (f, f, n_C_prev, n_C); b: (1, 1, 1, n_C);
        hparams: {"stride": s, "pad": p}.
    Returns:
        Z: (m, n_H, n_W, n_C); cache: (A_prev, W, b, hparams).
    """
    require_array(A_prev, "A_prev (m, n_H_prev, n_W_prev, n_C_prev)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", shape=(W.shape[0], W.shape[0], A_prev.shape[3], None))
    require_array(b, "b (1, 1, 1, n_C)", shape=(1, 1, 1, W.shape[3]))
    require_hparams(hparams, {"stride": 1, "pad": 0})
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparams["stride"], hparams["pad"]
    n_H = window_count(n_H_prev, f, pad, stride)
    n_W = window_count(n_W_prev, f, pad, stride)
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C), dtype=np.result_type(A_prev, W))
    for i in range(f):
        for j in range(f):
            # every window's (i, j) pixel at once: (m, n_H, n_W, n_C_prev) @ (n_C_prev, n_C)
            Z += A_pad[:, i:i + stride * n_H:stride, j:j + stride * n_W:stride, :] @ W[i, j]
    Z += b.reshape(n_C)
    return Z, (A_prev, W, b, hparams)
