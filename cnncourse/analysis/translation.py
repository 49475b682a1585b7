"""Translation equivariance against invariance, measured on one gray image.

A convolution is EQUIVARIANT to translation: shift the input by (dy, dx) and its output shifts by (dy, dx) too (away
from the borders, where zeros come in). Pooling over a window, and finally over the whole image, throws positions
away, so features after global pooling are approximately INVARIANT: a shifted input gives nearly the same numbers.

    shift(image, dy, dx)                        move the content down dy and right dx, zeros coming in
    conv_maps(image, kernels)                   ReLU(correlate(image, kernel)) for each kernel, (n_H, n_W, K)
    shift_report(image, kernels, dy, dx, pool)  the numbers that tell equivariance from invariance
    max_pool_blocks(maps, pool)                 max pooling with stride = window, as a reshape
"""

import numpy as np

from cnncourse.analysis.volume import conv_volume


def max_pool_blocks(maps, pool):
    """Max pooling over non-overlapping pool x pool windows (stride = pool), as a reshape.

    Not the graded pool_forward of Chapter 1: the student edition leaves that one out, and this module runs there too.
    Args:
        maps: (n_H, n_W, K) array; pool: the window side.
    Returns:
        (n_H // pool, n_W // pool, K) array; rows and columns that do not fill a window are dropped, as
        pool_forward does with f = stride = pool.
    """
    n_H, n_W, K = maps.shape
    h, w = n_H // pool, n_W // pool
    return maps[:h * pool, :w * pool].reshape(h, pool, w, pool, K).max(axis=(1, 3))


def shift(image, dy, dx):
    """The image moved down by dy and right by dx pixels (negative: up, left); zeros fill what comes in.

    Args:
        image: array (n_H, n_W) or (n_H, n_W, n_C).
        dy, dx: ints with |dy| < n_H and |dx| < n_W.
    Returns:
        array of the same shape and dtype.
    """
    image = np.asarray(image)
    n_H, n_W = image.shape[:2]
    if abs(dy) >= n_H or abs(dx) >= n_W:
        raise ValueError(f"shift ({dy}, {dx}) moves everything out of an image of {n_H} x {n_W}")
    out = np.zeros_like(image)
    out[max(dy, 0):n_H + min(dy, 0), max(dx, 0):n_W + min(dx, 0)] = \
        image[max(-dy, 0):n_H - max(dy, 0), max(-dx, 0):n_W - max(dx, 0)]
    return out


def conv_maps(image, kernels):
    """One conv layer on one gray image: valid correlation with each kernel, stride 1, bias 0, then ReLU.

    Args:
        image: array (n_H_prev, n_W_prev).
        kernels: array (K, f, f).
    Returns:
        float64 array (n_H_prev - f + 1, n_W_prev - f + 1, K).
    """
    image, kernels = np.asarray(image, dtype=np.float64), np.asarray(kernels, dtype=np.float64)
    if image.ndim != 2 or kernels.ndim != 3:
        raise ValueError(f"image must be (n_H, n_W) and kernels (K, f, f), got {image.shape} and {kernels.shape}")
    W = np.transpose(kernels, (1, 2, 0))[:, :, None, :]  # (f, f, 1, K)
    return np.maximum(conv_volume(image[:, :, None], W), 0.0)


def _relative_change(a, b):
    """||a - b|| / ||a||: 0 when b equals a, about 1.4 for two unrelated maps of the same size."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12))


def shift_report(image, kernels, dy, dx, pool=2):
    """What a shift of the input does at three depths of a small ConvNet: conv, conv + max pool, + global pooling.

    The conv maps are compared on their inner part, a margin of max(|dy|, |dx|) + f pixels away from the borders,
    where no zero that the shift brought in is seen. Pooling and global pooling read the whole maps: give an image
    whose content stays inside the frame when shifted (a dark border wider than the shift) and nothing is lost.

    Args:
        image: array (n_H, n_W), the input; kernels: array (K, f, f), the conv layer's filters.
        dy, dx: the shift, in pixels.
        pool: window and stride of the max pooling layer.
    Returns:
        dict of floats, relative changes ||a - b|| / ||a|| (0: unchanged, about 1.4: unrelated):
            "conv_same_place":   conv(shift(x)) against conv(x), pixel by pixel: large, the maps moved;
            "conv_shifted_back": conv(shift(x)) against shift(conv(x)): 0, the maps moved exactly with the input
                                 (equivariance);
            "pool_same_place":   the max-pooled maps, pixel by pixel: still large, they moved by about dy / pool;
            "global_average":    global average pooling of the pooled maps, one number per filter: small
                                 (approximate invariance: a shift that is not a multiple of `pool` regroups the
                                 windows);
            "global_max":        global max pooling instead: 0 while the content stays inside the frame;
        and "features", "features_shifted": the two (K,) vectors after global average pooling.
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    moved = shift(image, dy, dx)
    maps, maps_moved = conv_maps(image, kernels), conv_maps(moved, kernels)
    m = max(abs(dy), abs(dx)) + kernels.shape[1]
    inner = (slice(m, -m), slice(m, -m))
    pooled, pooled_moved = max_pool_blocks(maps, pool), max_pool_blocks(maps_moved, pool)  # (n_H // pool, n_W // pool, K)
    features, features_moved = pooled.mean(axis=(0, 1)), pooled_moved.mean(axis=(0, 1))  # (K,)
    return {
        "conv_same_place": _relative_change(maps[inner], maps_moved[inner]),
        "conv_shifted_back": _relative_change(shift(maps, dy, dx)[inner], maps_moved[inner]),
        "pool_same_place": _relative_change(pooled, pooled_moved),
        "global_average": _relative_change(features, features_moved),
        "global_max": _relative_change(pooled.max(axis=(0, 1)), pooled_moved.max(axis=(0, 1))),
        "features": features,
        "features_shifted": features_moved,
    }
