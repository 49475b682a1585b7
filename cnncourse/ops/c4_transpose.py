"""Chapter 4: transpose convolution in numpy, the layer that makes a segmentation network's maps larger again.

Notation (as in Chapter 1's convolution, so that the two read side by side):
    A_prev: (m, n_H_prev, n_W_prev, n_C_prev)   the (small) input batch
    W:      (f, f, n_C_prev, n_C)               the filters, same layout as Chapter 1's conv_forward
    b:      (n_C,)                              one bias per output channel
    Z:      (m, n_H, n_W, n_C)                  the (larger) output
The rule: every input pixel (h, w) scales the filter by its value and lays it on the output at rows
h * stride .. h * stride + f - 1 and columns w * stride .. w * stride + f - 1; where two scaled filters overlap,
their numbers ADD. The full canvas is (n_H_prev - 1) * stride + f high (the same for the width); `pad` rows and
columns are then cropped from every side, so n_H = (n_H_prev - 1) * stride + f - 2 * pad.
Each graded function's body lies between `### BEGIN SOLUTION` and `### END SOLUTION`.
"""

import numpy as np

from cnncourse.ops.twins import transpose_size
from cnncourse.ops.validate import require_array, require_int


def require_crop_fits(n_prev, f, stride, pad, axis):
    """Raise ValueError when cropping `pad` from both sides of the full canvas would leave nothing.

    Args:
        n_prev, f, stride, pad: ints, the input size along `axis`, filter size, stride and padding.
        axis: how the message names the axis, e.g. "height".
    """
    canvas = (n_prev - 1) * stride + f
    if 2 * pad >= canvas:
        raise ValueError(f"pad={pad} crops the whole {axis}: the full canvas is (n_prev - 1) * stride + f = "
                         f"({n_prev} - 1) * {stride} + {f} = {canvas}, and 2 * pad = {2 * pad} leaves no pixel")


def transpose_output_size(n_prev, f, stride, pad):
    """Size of a transpose convolution's output along one axis.

    Args:
        n_prev: input size (height or width), int >= 1.
        f: filter size, int >= 1.
        stride: step between the places of two neighbouring input pixels' filters on the output, int >= 1.
        pad: rows (or columns) cropped from each side of the full canvas, int >= 0.
    Returns:
        int, (n_prev - 1) * stride + f - 2 * pad (always >= 1).
    Raises:
        ValueError: an argument that is not an int in its range, or a pad that would crop everything.
    """
    n_prev, f = require_int(n_prev, "n_prev", 1), require_int(f, "f", 1)  # Python ints from here on
    stride, pad = require_int(stride, "stride", 1), require_int(pad, "pad", 0)
    require_crop_fits(n_prev, f, stride, pad, "axis")
    ### BEGIN SOLUTION
    return (n_prev - 1) * stride + f - 2 * pad
    ### END SOLUTION


def conv_transpose_forward(A_prev, W, b, stride=1, pad=0):
    """Forward pass of a transpose convolution: scaled filters laid on the output, overlaps added, then cropped.

    W has Chapter 1's layout (f, f, n_C_prev, n_C): W[:, :, c_prev, c] carries input channel c_prev to output
    channel c. Keras's Conv2DTranspose stores its kernel the other way round, as (f, f, n_C, n_C_prev), and so
    does tf.nn.conv2d_transpose: transpose the last two axes to go from one to the other.

    Args:
        A_prev: float array (m, n_H_prev, n_W_prev, n_C_prev), the input batch.
        W: float array (f, f, n_C_prev, n_C), the filters.
        b: float array (n_C,), the biases, added to every output pixel after the crop.
        stride: int >= 1, how far apart the filters of two neighbouring input pixels land on the output.
        pad: int >= 0, rows and columns cropped from every side of the full canvas.
    Returns:
        Z: array (m, n_H, n_W, n_C) with n_H = transpose_output_size(n_H_prev, f, stride, pad), same for n_W.
    """
    require_array(A_prev, "A_prev (m, n_H_prev, n_W_prev, n_C_prev)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", ndim=4)
    require_array(W, "W (f, f, n_C_prev, n_C)", shape=(W.shape[0], W.shape[0], A_prev.shape[3], None))
    require_array(b, "b (n_C,)", shape=(W.shape[3],))
    require_int(stride, "stride", 1)
    require_int(pad, "pad", 0)
    require_crop_fits(A_prev.shape[1], W.shape[0], stride, pad, "height")
    require_crop_fits(A_prev.shape[2], W.shape[0], stride, pad, "width")
    ### BEGIN SOLUTION
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    canvas_H = (n_H_prev - 1) * stride + f
    canvas_W = (n_W_prev - 1) * stride + f
    canvas = np.zeros((m, canvas_H, canvas_W, n_C), dtype=np.result_type(A_prev, W, b))
    for h in range(n_H_prev):
        vert_start = h * stride
        vert_end = vert_start + f
        for w in range(n_W_prev):
            horiz_start = w * stride
            horiz_end = horiz_start + f
            # the filter scaled by this pixel's values, summed over the input channels: (m, f, f, n_C)
            scaled = np.einsum("ic,abcn->iabn", A_prev[:, h, w, :], W)
            canvas[:, vert_start:vert_end, horiz_start:horiz_end, :] += scaled
    n_H = transpose_output_size(n_H_prev, f, stride, pad)
    n_W = transpose_output_size(n_W_prev, f, stride, pad)
    Z = canvas[:, pad:pad + n_H, pad:pad + n_W, :] + b
    return Z
    ### END SOLUTION


def transpose_steps(x, W, stride, pad):
    """The transpose convolution of one channel, one input pixel at a time (for the stepper widget).

    Args:
        x: array (n_H_prev, n_W_prev), one channel of input (lists of numbers work too).
        W: array (f, f), one filter.
        stride: int >= 1.
        pad: int >= 0, cropped from every side of the full canvas.
    Returns:
        list of n_H_prev * n_W_prev dicts, one per input pixel in row-major order, each with
            "row", "col": the input pixel; "value": x[row, col];
            "region": (top, left) of its scaled filter on the full canvas (top = row * stride, left = col * stride);
            "scaled": value * W, the (f, f) block added at that region;
            "canvas": the full canvas ((n_H_prev - 1) * stride + f, (n_W_prev - 1) * stride + f) after this step;
            "cropped": the output after this step, the canvas without `pad` rows and columns on every side.
        The last step's "cropped" equals conv_transpose_forward on x with bias 0.
    """
    x = np.asarray(x, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"x must be one channel of shape (n_H_prev, n_W_prev), got shape {x.shape}")
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.size == 0:
        raise ValueError(f"W must be a square filter of shape (f, f), got shape {W.shape}")
    f = W.shape[0]
    n_H = transpose_size(x.shape[0], f, stride, pad)  # the twin: the student edition's graded size is a stub
    n_W = transpose_size(x.shape[1], f, stride, pad)
    canvas = np.zeros(((x.shape[0] - 1) * stride + f, (x.shape[1] - 1) * stride + f))
    steps = []
    for (row, col), value in np.ndenumerate(x):
        top, left = row * stride, col * stride
        scaled = value * W
        canvas[top:top + f, left:left + f] += scaled
        steps.append({"row": row, "col": col, "value": float(value), "region": (top, left), "scaled": scaled,
                      "canvas": canvas.copy(), "cropped": canvas[pad:pad + n_H, pad:pad + n_W].copy()})
    return steps
