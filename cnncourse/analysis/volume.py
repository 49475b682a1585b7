"""Convolution over volume: an RGB input, filters with one f x f slice per input channel, one output channel each.

    channel_filter(kernel, channels, n_C_prev)   a (f, f, n_C_prev) filter: the 2-D kernel on the listed channels
    stack_filters(filters)                       n_C filters (f, f, n_C_prev) -> the layer's W (f, f, n_C_prev, n_C)
    conv_volume(image, W, b, pad)                one image (n_H_prev, n_W_prev, n_C_prev) -> (n_H, n_W, n_C)
    channel_terms(image, filter3d, pad)          each input channel's share of ONE output channel, (n_H, n_W, n_C_prev)
    volume_parameters(f, n_C_prev, n_C)          (f * f * n_C_prev + 1) * n_C: weights plus one bias per filter
    two_colour_image(n, left, right)             left half one colour, right half another, (n, n, 3)

The convolution is the one of cnncourse.ops.vectorized, stride 1.
"""

import numpy as np

from cnncourse.ops.vectorized import conv_forward_vectorized


def channel_filter(kernel, channels, n_C_prev=3):
    """A filter for an n_C_prev-channel input that applies one 2-D kernel to some channels and ignores the others.

    Args:
        kernel: array (f, f), e.g. the vertical-edge filter.
        channels: iterable of channel indices in [0, n_C_prev) that get the kernel (0 = red, 1 = green, 2 = blue);
            a dict {channel: sign} scales the kernel by the sign on that channel (e.g. {0: 1, 1: -1}).
        n_C_prev: number of input channels, int >= 1.
    Returns:
        float64 array (f, f, n_C_prev), zero on the channels not listed.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be a square (f, f) array, got shape {kernel.shape}")
    signs = channels if isinstance(channels, dict) else {c: 1.0 for c in channels}
    filter3d = np.zeros(kernel.shape + (n_C_prev,))
    for channel, sign in signs.items():
        if not 0 <= channel < n_C_prev:
            raise ValueError(f"channel {channel} is not in [0, {n_C_prev})")
        filter3d[:, :, channel] = sign * kernel
    return filter3d


def stack_filters(filters):
    """Stack n_C filters of one shape along a last axis: the weights W of a conv layer.

    Args:
        filters: sequence of n_C >= 1 arrays (f, f, n_C_prev).
    Returns:
        float64 array (f, f, n_C_prev, n_C); W[:, :, :, c] is filters[c].
    """
    filters = [np.asarray(w, dtype=np.float64) for w in filters]
    if not filters or any(w.ndim != 3 or w.shape != filters[0].shape for w in filters):
        raise ValueError(f"filters must be one or more arrays (f, f, n_C_prev) of one shape, got "
                         f"{[w.shape for w in filters]}")
    return np.stack(filters, axis=-1)


def conv_volume(image, W, b=None, pad=0):
    """Convolve one image volume with a bank of filters, stride 1.

    Output channel c at (h, w) is the sum over i, j and ALL input channels k of image[h + i, w + j, k] * W[i, j, k, c],
    plus b[c]: each filter gives one channel, whatever the number of input channels.

    Args:
        image: array (n_H_prev, n_W_prev, n_C_prev), e.g. an RGB image (n_C_prev = 3).
        W: array (f, f, n_C_prev, n_C), n_C filters.
        b: array (n_C,) of biases, or None for zeros.
        pad: zeros added on each side of the height and width, int >= 0.
    Returns:
        float64 array (n_H, n_W, n_C), n_H = n_H_prev + 2 pad - f + 1 (same for n_W).
    """
    image = np.asarray(image, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    if image.ndim != 3:
        raise ValueError(f"image must be one volume (n_H_prev, n_W_prev, n_C_prev), got shape {image.shape}")
    n_C = W.shape[-1] if W.ndim == 4 else None
    b = np.zeros(n_C) if b is None else np.asarray(b, dtype=np.float64)
    Z, _ = conv_forward_vectorized(image[None], W, b.reshape(1, 1, 1, -1), {"stride": 1, "pad": pad})
    return Z[0]


def channel_terms(image, filter3d, pad=0):
    """Split one output channel into what each input channel contributes: the terms that the filter sums.

    Args:
        image: array (n_H_prev, n_W_prev, n_C_prev).
        filter3d: array (f, f, n_C_prev), one filter.
    Returns:
        float64 array (n_H, n_W, n_C_prev); term k is the 2-D correlation of channel k with slice k of the filter,
        and the sum over the last axis is conv_volume(image, filter3d[..., None], pad)[..., 0].
    """
    image = np.asarray(image, dtype=np.float64)
    filter3d = np.asarray(filter3d, dtype=np.float64)
    if image.ndim != 3 or filter3d.ndim != 3 or image.shape[2] != filter3d.shape[2]:
        raise ValueError(f"image (n_H_prev, n_W_prev, n_C_prev) and filter (f, f, n_C_prev) must have the same "
                         f"number of channels, got {image.shape} and {filter3d.shape}")
    return np.stack([conv_volume(image[:, :, k:k + 1], filter3d[:, :, k:k + 1, None], pad=pad)[:, :, 0]
                     for k in range(image.shape[2])], axis=-1)


def volume_parameters(f, n_C_prev, n_C):
    """Parameters of a conv layer with n_C filters of size f x f x n_C_prev: f * f * n_C_prev weights and one bias each.

    Returns:
        int, (f * f * n_C_prev + 1) * n_C; it does not depend on the height and width of the input.
    """
    for name, value in (("f", f), ("n_C_prev", n_C_prev), ("n_C", n_C)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int((f * f * n_C_prev + 1) * n_C)


def two_colour_image(n=6, left=(1.0, 0.0, 0.0), right=(0.0, 1.0, 0.0)):
    """A colour edge: the left half one RGB colour, the right half another.

    Args:
        n: side of the square image, an even int >= 2.
        left, right: RGB triples in [0, 1].
    Returns:
        float64 array (n, n, 3).
    """
    if not isinstance(n, int) or n < 2 or n % 2:
        raise ValueError(f"n must be an even int >= 2, got {n!r}")
    image = np.empty((n, n, 3))
    image[:, : n // 2] = np.asarray(left, dtype=np.float64)
    image[:, n // 2:] = np.asarray(right, dtype=np.float64)
    return image
