"""Chapter 2: what a convolution costs, counted in multiplications (Inception's bottleneck, MobileNet's separable
convolutions).

A normal convolution of n_C filters of size f x f x n_C_prev computes, at each of the n_H_out x n_W_out output
positions and for each filter, f * f * n_C_prev products. A depthwise separable convolution splits it in two:
    depthwise: one f x f filter per input channel, n_H_out * n_W_out * n_C_prev * f * f products;
    pointwise: n_C filters of size 1 x 1 x n_C_prev,  n_H_out * n_W_out * n_C_prev * n_C products.
Worked example (the notebook's): a 6x6x3 input, 3x3 filters, 5 filters, a 4x4x5 output:
    normal 4*4*5 * 3*3*3 = 2160;  separable 4*4*3*3*3 + 4*4*3*5 = 432 + 240 = 672;
    ratio 672 / 2160 = 1/5 + 1/3**2 = 0.3111...
"""

from cnncourse.ops.validate import require_int


def conv_multiplications(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):
    """Multiplications of a normal convolution with n_C filters of size f x f x n_C_prev, for one image.

    With a bottleneck (Inception's trick), a 1x1 convolution first brings the n_C_prev channels down to `bottleneck`
    (n_H_out * n_W_out * bottleneck * n_C_prev products, "same" size), and the f x f convolution then reads
    `bottleneck` channels instead of n_C_prev.

    Args:
        n_H_out, n_W_out: height and width of the output volume (ints >= 1).
        f: filter size (int >= 1).
        n_C_prev: channels of the input volume (int >= 1).
        n_C: number of filters, i.e. channels of the output (int >= 1).
        bottleneck: channels of the 1x1 bottleneck (int >= 1), or None for the direct convolution.
    Returns:
        int, n_H_out * n_W_out * n_C * f * f * n_C_prev without a bottleneck (e.g. 2160 for a 4x4x5 output of 3x3x3
        filters; 120,422,400 for 28x28x192 to 28x28x32 with 5x5 filters, 12,443,648 through a bottleneck of 16).
    """
    for name, value in (("n_H_out", n_H_out), ("n_W_out", n_W_out), ("f", f), ("n_C_prev", n_C_prev), ("n_C", n_C)):
        require_int(value, name, 1)
    if bottleneck is not None:
        require_int(bottleneck, "bottleneck", 1)
    ### BEGIN SOLUTION
    if bottleneck is None:
        return int(n_H_out * n_W_out * n_C * f * f * n_C_prev)
    shrink = n_H_out * n_W_out * bottleneck * n_C_prev
    return int(shrink + n_H_out * n_W_out * n_C * f * f * bottleneck)
    ### END SOLUTION


def depthwise_separable_multiplications(n_H_out, n_W_out, f, n_C_prev, n_C):
    """Multiplications of a depthwise separable convolution with the same input and output as conv_multiplications.

    Args:
        n_H_out, n_W_out: height and width of the output volume (ints >= 1).
        f: size of the depthwise filters (int >= 1).
        n_C_prev: channels of the input volume (int >= 1), one depthwise filter each.
        n_C: number of 1x1 pointwise filters, i.e. channels of the output (int >= 1).
    Returns:
        int, depthwise n_H_out * n_W_out * n_C_prev * f * f plus pointwise n_H_out * n_W_out * n_C_prev * n_C
        (e.g. 432 + 240 = 672 for a 4x4x5 output from a 3-channel input with 3x3 filters).
    """
    for name, value in (("n_H_out", n_H_out), ("n_W_out", n_W_out), ("f", f), ("n_C_prev", n_C_prev), ("n_C", n_C)):
        require_int(value, name, 1)
    ### BEGIN SOLUTION
    depthwise = n_H_out * n_W_out * n_C_prev * f * f
    pointwise = n_H_out * n_W_out * n_C_prev * n_C
    return int(depthwise + pointwise)
    ### END SOLUTION


def separable_cost_ratio(f, n_C):
    """The cost of a depthwise separable convolution as a fraction of the normal one's.

    The output size and the input channels cancel out of the ratio of the two counts above.

    Args:
        f: filter size (int >= 1).
        n_C: number of filters (output channels, int >= 1).
    Returns:
        float, 1 / n_C + 1 / f ** 2 (e.g. 1/5 + 1/9 = 0.3111 for 3x3 filters and 5 output channels).
    """
    require_int(f, "f", 1)
    require_int(n_C, "n_C", 1)
    ### BEGIN SOLUTION
    return 1.0 / n_C + 1.0 / f ** 2
    ### END SOLUTION
