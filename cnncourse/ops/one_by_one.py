"""A 1x1 convolution in numpy: a fully connected layer applied to the channels of every pixel."""

import numpy as np

from cnncourse.ops.validate import require_array


def conv1x1_forward(A_prev, W, b, relu=True):
    """1x1 convolution (stride 1, no padding), then ReLU unless relu is False.

    Each output pixel is W^T times that pixel's channel vector plus b: the channels change from n_C_prev to n_C
    while height and width stay.

    Args:
        A_prev: (m, n_H, n_W, n_C_prev) float array.
        W: (n_C_prev, n_C) float array, the weights (Keras stores them as (1, 1, n_C_prev, n_C)).
        b: (n_C,) float array, the biases.
        relu: apply max(0, z) to the result.
    Returns:
        (m, n_H, n_W, n_C) float array.
    """
    require_array(A_prev, "A_prev (m, n_H, n_W, n_C_prev)", ndim=4)
    require_array(W, "W (n_C_prev, n_C)", ndim=2, shape=(A_prev.shape[3], None))
    require_array(b, "b (n_C,)", ndim=1, shape=(W.shape[1],))
    ### BEGIN SOLUTION
    Z = np.tensordot(A_prev, W, axes=([3], [0])) + b  # (m, n_H, n_W, n_C_prev) . (n_C_prev, n_C)
    return np.maximum(Z, 0) if relu else Z
    ### END SOLUTION
