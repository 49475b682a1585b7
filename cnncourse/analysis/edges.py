"""Edge detection, the first convolution: hand-made edge filters, cross-correlation against true convolution, and
a filter learned from examples instead of chosen.

    EDGE_FILTERS                                 vertical/horizontal, Sobel and Scharr kernels, (3, 3) float64
    step_image(n, bright, vertical)              the worked example's input: one half `bright`, the other half 0
    correlate(image, kernel, pad)                what deep learning calls convolution (no flip), (n_H, n_W)
    true_convolution(image, kernel, pad)         the mathematicians' convolution: the kernel flipped first
    same_padding(f)                              p = (f - 1) / 2, the padding that keeps the size at stride 1
    learn_filter(images, targets, f, steps)      gradient descent on the squared error recovers a kernel

Every image here is one gray image (n_H, n_W); the convolutions are those of cnncourse.ops.vectorized, stride 1.
"""

import numpy as np

from cnncourse.analysis.volume import conv_volume
from cnncourse.ops.twins import window_count

EDGE_FILTERS = {
    "vertical edge": np.array([[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]),
    "horizontal edge": np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]),
    "Sobel x": np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]),
    "Sobel y": np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]),
    "Scharr x": np.array([[3.0, 0.0, -3.0], [10.0, 0.0, -10.0], [3.0, 0.0, -3.0]]),
    "Scharr y": np.array([[3.0, 10.0, 3.0], [0.0, 0.0, 0.0], [-3.0, -10.0, -3.0]]),
}


def step_image(n=6, bright=10.0, vertical=True):
    """The worked example's input: a bright half and a dark half.

    Args:
        n: side of the square image (even, >= 2).
        bright: value of the bright half; the other half is 0.
        vertical: True for a left half bright (a vertical edge down the middle), False for a top half bright.
    Returns:
        float64 array (n, n).
    """
    if not isinstance(n, int) or n < 2 or n % 2:
        raise ValueError(f"n must be an even int >= 2, got {n!r}")
    image = np.zeros((n, n))
    if vertical:
        image[:, : n // 2] = bright
    else:
        image[: n // 2, :] = bright
    return image


def _gray(image, name="image"):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"{name} must be one gray image of shape (n_H, n_W), got shape {image.shape}")
    return image


def correlate(image, kernel, pad=0):
    """Slide the kernel over the image as it is, stride 1: the "convolution" of deep learning (cross-correlation).

    Args:
        image: array (n_H_prev, n_W_prev).
        kernel: array (f, f), not flipped.
        pad: zeros added on each side.
    Returns:
        float64 array (n_H_prev + 2 pad - f + 1, n_W_prev + 2 pad - f + 1).
    """
    image, kernel = _gray(image), _gray(kernel, "kernel")
    if kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be square (f, f), got shape {kernel.shape}")
    return conv_volume(image[:, :, None], kernel[:, :, None, None], pad=pad)[:, :, 0]


def true_convolution(image, kernel, pad=0):
    """The convolution of signal processing: the kernel is flipped up-down and left-right, then slid.

    Args and Returns as correlate.
    """
    return correlate(image, _gray(kernel, "kernel")[::-1, ::-1], pad)


def same_padding(f):
    """The padding that keeps the height and width at stride 1, p = (f - 1) / 2, and the size it gives.

    Args:
        f: filter size, int >= 1.
    Returns:
        (p, exact): p = (f - 1) // 2 zeros per side, and exact = True when (f - 1) / 2 is a whole number, i.e. f is
        odd. An even f would need (f - 1) / 2 zeros on each side: half a pixel more on one side than the other.
    """
    if not isinstance(f, int) or f < 1:
        raise ValueError(f"f must be an int >= 1, got {f!r}")
    return (f - 1) // 2, f % 2 == 1


def same_size_table(n, sizes):
    """For each filter size, the "same" padding and the output size it gives on an n-pixel axis at stride 1.

    Returns:
        list of (f, p, n_out) with p = same_padding(f)[0] and n_out = floor((n + 2p - f) / 1) + 1.
    """
    return [(f, same_padding(f)[0], window_count(n, f, same_padding(f)[0], 1)) for f in sizes]


def _windows(images, f):
    """Every f x f window of every image, flattened: (number of windows, f * f)."""
    rows = []
    for image in images:
        view = np.lib.stride_tricks.sliding_window_view(_gray(image), (f, f))  # (n_H, n_W, f, f)
        rows.append(view.reshape(-1, f * f))
    return np.concatenate(rows)


def learn_filter(images, targets, f=3, steps=300):
    """Learn the kernel that turns each image into its target, by gradient descent on the mean squared error.

    The model is target = correlate(image, K) (valid, stride 1). The loss is L(K) = mean((correlate(image, K) -
    target)^2) over every output pixel; its gradient is 2 / P * X^T (X k - y), with X the (P, f*f) windows. The step
    size is 1 / (largest eigenvalue of 2 X^T X / P), which makes every step decrease L. K starts at zeros.

    Args:
        images: list of arrays (n_H_prev, n_W_prev).
        targets: list of arrays (n_H_prev - f + 1, n_W_prev - f + 1), one per image.
        f: kernel size.
        steps: number of gradient steps, int >= 1.
    Returns:
        dict with "kernel" (f, f) after the last step, "losses" (steps + 1,) from the start to the end.
    """
    if len(images) != len(targets) or not images:
        raise ValueError(f"give as many targets as images (at least one), got {len(images)} and {len(targets)}")
    X = _windows(images, f)  # (P, f * f)
    y = np.concatenate([_gray(t, "target").ravel() for t in targets])
    if len(y) != len(X):
        raise ValueError(f"each target must have the valid output's shape (n_H_prev - {f} + 1, n_W_prev - {f} + 1)")
    hessian = 2.0 * X.T @ X / len(X)
    rate = 1.0 / np.linalg.eigvalsh(hessian)[-1]
    k = np.zeros(f * f)
    losses = [np.mean((X @ k - y) ** 2)]
    for _ in range(steps):
        k -= rate * 2.0 * X.T @ (X @ k - y) / len(X)
        losses.append(np.mean((X @ k - y) ** 2))
    return {"kernel": k.reshape(f, f), "losses": np.array(losses)}
