"""Convolution layer, forward and backward, with explicit loops (Chapter 1).

Notation (as in the notebooks):
    A_prev: (m, n_H_prev, n_W_prev, n_C_prev)   the input batch
    W:      (f, f, n_C_prev, n_C)               n_C filters of size f x f x n_C_prev
    b:      (1, 1, 1, n_C)                      one bias per filter
    Z:      (m, n_H, n_W, n_C)                  the output, before the activation
    hparams: {"stride": s, "pad": p}
Each graded function's body lies between `### BEGIN SOLUTION` and `### END SOLUTION`.
"""

import numpy as np

from cnncourse.ops.validate import require_array, require_hparams, require_int, require_window_fits


def output_size(n, f, pad, stride):
    """Size of a convolution or pooling output along one axis.

    Args:
        n: input size (height or width), int >= 1.
        f: window (filter) size, int >= 1.
        pad: zero padding on each side, int >= 0.
        stride: step between windows, int >= 1.
    Returns:
        int, floor((n + 2 * pad - f) / stride) + 1.
    """
    require_int(n, "n", 1)
    require_int(f, "f", 1)
    require_int(pad, "pad", 0)
    require_int(stride, "stride", 1)
    require_window_fits(n, f, pad, stride, "input")
    ### BEGIN SOLUTION
    return (n + 2 * pad - f) // stride + 1
    ### END SOLUTION


def zero_pad(X, pad):
    """Pad every image of a batch with zeros around its height and width.

    Args:
        X: array (m, n_H, n_W, n_C), a batch of m images.
        pad: int >= 0, zeros added on each side of the height and the width.
    Returns:
        X_pad: array (m, n_H + 2 * pad, n_W + 2 * pad, n_C), same dtype as X.
    """
    require_array(X, "X (m, n_H, n_W, n_C)", ndim=4)
    require_int(pad, "pad", 0)
    ### BEGIN SOLUTION
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)
    return X_pad
    ### END SOLUTION


def conv_single_step(a_slice_prev, W, b):
    """Apply one filter to one slice of the input: the sum of the element-wise product, plus the bias.

    Args:
        a_slice_prev: array (f, f, n_C_prev), the slice of the input under the filter.
        W: array (f, f, n_C_prev), the weights of one filter.
        b: array (1, 1, 1), the bias of that filter.
    Returns:
        Z: float, the value of the output at this position.
    """
    require_array(a_slice_prev, "a_slice_prev (f, f, n_C_prev)", ndim=3)
    require_array(W, "W (f, f, n_C_prev)", shape=a_slice_prev.shape)
    require_array(b, "b (1, 1, 1)", shape=(1, 1, 1))
    ### BEGIN SOLUTION
    s = a_slice_prev * W
    Z = float(np.sum(s) + b.item())
    return Z
    ### END SOLUTION


def conv_forward(A_prev, W, b, hparams):
    """Forward pass of a convolution layer, with loops over the examples, positions and filters.

    Args:
        A_prev: array (m, n_H_prev, n_W_prev, n_C_prev), the input batch.
        W: array (f, f, n_C_prev, n_C), the filters.
        b: array (1, 1, 1, n_C), the biases.
        hparams: dict {"stride": int >= 1, "pad": int >= 0}.
    Returns:
        Z: array (m, n_H, n_W, n_C) with n_H = output_size(n_H_prev, f, pad, stride), same for n_W.
        cache: (A_prev, W, b, hparams), what conv_backward needs.
    """
    require_array(A_prev, "A_prev (m, n_H_prev, n_W_prev, n_C_prev)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", shape=(W.shape[0], W.shape[0], A_prev.shape[3], None))
    require_array(b, "b (1, 1, 1, n_C)", shape=(1, 1, 1, W.shape[3]))
    require_hparams(hparams, {"stride": 1, "pad": 0})
    ### BEGIN SOLUTION
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparams["stride"], hparams["pad"]
    n_H = output_size(n_H_prev, f, pad, stride)
    n_W = output_size(n_W_prev, f, pad, stride)
    Z = np.zeros((m, n_H, n_W, n_C), dtype=np.result_type(A_prev, W))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    cache = (A_prev, W, b, hparams)
    return Z, cache
    ### END SOLUTION


def relu(Z):
    """Rectified linear unit, element-wise: max(Z, 0). Takes and returns arrays of any shape."""
    return np.maximum(Z, 0)


def conv_backward(dZ, cache):
    """Backward pass of a convolution layer.

    Args:
        dZ: array (m, n_H, n_W, n_C), gradient of the cost with respect to the output Z.
        cache: (A_prev, W, b, hparams) as returned by conv_forward.
    Returns:
        dA_prev: array (m, n_H_prev, n_W_prev, n_C_prev), gradient with respect to A_prev.
        dW: array (f, f, n_C_prev, n_C), gradient with respect to W.
        db: array (1, 1, 1, n_C), gradient with respect to b.
    """
    require_array(dZ, "dZ (m, n_H, n_W, n_C)", ndim=4)
    ### BEGIN SOLUTION
    A_prev, W, b, hparams = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparams["stride"], hparams["pad"]
    m, n_H, n_W, n_C = dZ.shape
    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(A_prev, dZ))
    dW = np.zeros(W.shape, dtype=np.result_type(W, dZ))
    db = np.zeros(b.shape, dtype=np.result_type(b, dZ))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice = A_prev_pad[i, vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    dA_prev_pad[i, vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db
    ### END SOLUTION
