"""Why convolutions: parameter counts of a conv layer against a fully connected layer (Chapter 1)."""

from cnncourse.ops.conv import output_size
from cnncourse.ops.validate import require_int


def conv_vs_dense_parameters(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    """Count the parameters of a conv layer and of a dense layer that maps the same input to the same output.

    Args:
        n_H, n_W, n_C_prev: the input volume's height, width and channels.
        f: filter size; n_C: number of filters; stride, pad: as in conv_forward.
    Returns:
        dict with
            "conv":  weights and biases of the conv layer, (f * f * n_C_prev + 1) * n_C;
            "dense": weights and biases of a dense layer from the flattened input
                     (n_H * n_W * n_C_prev values) to the flattened conv output (n_H_out * n_W_out * n_C).
    """
    for name, value, minimum in (("n_H", n_H, 1), ("n_W", n_W, 1), ("n_C_prev", n_C_prev, 1),
                                 ("f", f, 1), ("n_C", n_C, 1), ("stride", stride, 1), ("pad", pad, 0)):
        require_int(value, name, minimum)
    ### BEGIN SOLUTION
    conv = (f * f * n_C_prev + 1) * n_C
    n_in = n_H * n_W * n_C_prev
    n_out = output_size(n_H, f, pad, stride) * output_size(n_W, f, pad, stride) * n_C
    dense = n_in * n_out + n_out
    return {"conv": conv, "dense": dense}
    ### END SOLUTION
