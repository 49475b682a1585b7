"""Chapter 1's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The checks are called on the functions directly, not through nbgrader, so the file runs in seconds. The callers in
this file find their helpers by name in this module's namespace, as a notebook's functions do: the hidden checks of
conv_forward, conv_backward, pool_forward, pool_backward and conv_vs_dense_parameters swap the course's helpers in
(core.reference_helpers), the public checks do not (see the one-mistake-one-loss tests at the end).
"""

import inspect
import math

import keras
import numpy as np
import pytest
from keras import layers

from cnncourse.checks import c1_convnet, c1_convolution as checks
from cnncourse.checks.core import CheckFailed, likely_mistake, reference_helpers
from cnncourse.models import c1_convnet as models
from cnncourse.ops import conv, counting, pool

WINDOWS = np.lib.stride_tricks.sliding_window_view


# The notebook's helper names, as a student's caller finds them (swapped for the course's by the hidden checks).
output_size = conv.output_size
zero_pad = conv.zero_pad


# ---------------------------------------------------------------- output_size
def size_without_plus_one(n, f, pad, stride):
    return (n + 2 * pad - f) // stride


def size_pad_once(n, f, pad, stride):
    return (n + pad - f) // stride + 1


def size_stride_ignored(n, f, pad, stride):
    return n + 2 * pad - f + 1


def size_rounded(n, f, pad, stride):
    return round((n + 2 * pad - f) / stride) + 1


def size_ceil(n, f, pad, stride):
    return math.ceil((n + 2 * pad - f) / stride) + 1


def size_float(n, f, pad, stride):  # true division: 4.0, not 4
    return (n + 2 * pad - f) / stride + 1


def size_pad_ignored(n, f, pad, stride):
    return (n - f) // stride + 1


def size_precedence(n, f, pad, stride):  # n + 2 * pad - (f // stride) + 1
    return n + 2 * pad - f // stride + 1


def size_int_of_division(n, f, pad, stride):
    return int((n + 2 * pad - f) / stride) + 1


def size_math_floor(n, f, pad, stride):
    return math.floor((n + 2 * pad - f) / stride) + 1


def size_count_positions(n, f, pad, stride):
    return len(range(0, n + 2 * pad - f + 1, stride))


# ---------------------------------------------------------------- zero_pad
def pad_every_axis(X, pad):
    return np.pad(X, pad)


def pad_one_side(X, pad):
    return np.pad(X, ((0, 0), (0, 2 * pad), (0, 2 * pad), (0, 0)))


def pad_with_edges(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")


def pad_slice_to_minus_pad(X, pad):  # X_pad[:, pad:-pad] is empty when pad == 0
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))
    X_pad[:, pad:-pad, pad:-pad, :] = X
    return X_pad


def pad_batch_and_height(X, pad):  # axes 0 and 1 instead of 1 and 2
    return np.pad(X, ((pad, pad), (pad, pad), (0, 0), (0, 0)))


def pad_height_only(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (0, 0), (0, 0)))


def pad_zeros_and_slice(X, pad):
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=X.dtype)
    X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
    return X_pad


def pad_width_list(X, pad):
    return np.pad(X, [(0, 0), (pad, pad), (pad, pad), (0, 0)])


# ---------------------------------------------------------------- conv_single_step
def step_no_bias(a, W, b):
    return float(np.sum(a * W))


def step_bias_per_element(a, W, b):
    return float(np.sum(a * W + b))


def step_mean(a, W, b):
    return float(np.mean(a * W) + b.item())


def step_array(a, W, b):  # np.sum(...) + b keeps b's shape (1, 1, 1)
    return np.sum(a * W) + b


def step_flipped(a, W, b):  # a true convolution flips the filter; the course's layer does not
    return float(np.sum(a * W[::-1, ::-1]) + b.item())


def step_channels_only(a, W, b):
    return np.sum(a * W, axis=2) + b.item()


def step_einsum(a, W, b):
    return float(np.einsum("ijk,ijk->", a, W) + b.item())


def step_vdot(a, W, b):
    return np.vdot(a, W) + b.sum()


def step_tensordot(a, W, b):
    return float(np.tensordot(a, W, axes=3) + b[0, 0, 0])


# ---------------------------------------------------------------- conv_forward
def forward_einsum(A_prev, W, b, hparams):
    """Correct: every window at once (sliding_window_view) and one einsum; uses the notebook's zero_pad."""
    s = hparams["stride"]
    windows = WINDOWS(zero_pad(A_prev, hparams["pad"]), W.shape[:2], axis=(1, 2))[:, ::s, ::s]
    return np.einsum("mhwcij,ijcn->mhwn", windows, W) + b.reshape(-1), (A_prev, W, b, hparams)


def forward_loops(A_prev, W, b, hparams, start=lambda h, s: h * s, pad_used=True, bias=lambda b, c: b[0, 0, 0, c],
                  example=lambda i: i, swap_sizes=False, flip=False):
    """The notebook's loops (with output_size and zero_pad by name); the keywords put one mistake in."""
    if hparams["stride"] < 1:
        raise ValueError("stride must be >= 1")
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    s, p = hparams["stride"], hparams["pad"] if pad_used else 0
    n_H, n_W = output_size(n_H_prev, f, p, s), output_size(n_W_prev, f, p, s)
    if swap_sizes:
        n_H, n_W = output_size(n_W_prev, f, p, s), output_size(n_H_prev, f, p, s)
    A_pad = zero_pad(A_prev, p)
    K = W[::-1, ::-1] if flip else W
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                a = A_pad[example(i), start(h, s):start(h, s) + f, start(w, s):start(w, s) + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = np.sum(a * K[..., c]) + bias(b, c)
    return Z, (A_prev, W, b, hparams)


def forward_correct_loops(A, W, b, hp):
    return forward_loops(A, W, b, hp)


def forward_stride_ignored(A, W, b, hp):
    return forward_loops(A, W, b, hp, start=lambda h, s: h)


def forward_window_by_f(A, W, b, hp):  # vert_start = h * f
    return forward_loops(A, W, b, hp, start=lambda h, s: h * W.shape[0])


def forward_pad_ignored(A, W, b, hp):
    return forward_loops(A, W, b, hp, pad_used=False)


def forward_no_bias(A, W, b, hp):
    return forward_loops(A, W, b, hp, bias=lambda b, c: 0.0)


def forward_first_bias(A, W, b, hp):
    return forward_loops(A, W, b, hp, bias=lambda b, c: b[0, 0, 0, 0])


def forward_first_example(A, W, b, hp):
    return forward_loops(A, W, b, hp, example=lambda i: 0)


def forward_sizes_swapped(A, W, b, hp):
    return forward_loops(A, W, b, hp, swap_sizes=True)


def forward_flipped(A, W, b, hp):
    return forward_loops(A, W, b, hp, flip=True)


def forward_no_cache(A, W, b, hp):
    return forward_einsum(A, W, b, hp)[0]


def forward_tensordot(A_prev, W, b, hparams):
    """Correct: a tensordot per output position, over the window and all channels at once."""
    s, f = hparams["stride"], W.shape[0]
    if s < 1:
        raise ValueError("stride must be >= 1")
    A_pad = np.pad(A_prev, ((0, 0), (hparams["pad"],) * 2, (hparams["pad"],) * 2, (0, 0)))
    n_H = (A_pad.shape[1] - f) // s + 1
    n_W = (A_pad.shape[2] - f) // s + 1
    Z = np.empty((A_prev.shape[0], n_H, n_W, W.shape[3]))
    for h in range(n_H):
        for w in range(n_W):
            Z[:, h, w, :] = np.tensordot(A_pad[:, h * s:h * s + f, w * s:w * s + f, :], W, axes=3) + b.reshape(-1)
    return Z, (A_prev, W, b, hparams)


# ---------------------------------------------------------------- conv_backward
def backward_loops(dZ, cache, assign=(), strip="slice", unpadded=False, stride_used=True, db_scale=1.0):
    """The notebook's loops (zero_pad by name); `assign` lists the gradients written with = instead of +=."""
    A_prev, W, b, hp = cache
    f, p = W.shape[0], hp["pad"]
    s = hp["stride"] if stride_used else 1
    m, n_H, n_W, n_C = dZ.shape
    dA_pad, dW, db = zero_pad(np.zeros(A_prev.shape), p), np.zeros(W.shape), np.zeros(b.shape)
    source = np.pad(A_prev, ((0, 0), (0, 2 * p), (0, 2 * p), (0, 0))) if unpadded else zero_pad(A_prev, p)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                hs, ws = h * s, w * s
                a = source[i, hs:hs + f, ws:ws + f, :]
                for c in range(n_C):
                    for name, array, index, value in (("dA", dA_pad, (i, slice(hs, hs + f), slice(ws, ws + f)),
                                                       W[..., c] * dZ[i, h, w, c]),
                                                      ("dW", dW, (Ellipsis, c), a * dZ[i, h, w, c]),
                                                      ("db", db, (Ellipsis, c), dZ[i, h, w, c])):
                        if name in assign:
                            array[index] = value
                        else:
                            array[index] += value
    if strip == "none":
        dA = dA_pad
    elif strip == "minus":
        dA = dA_pad[:, p:-p, p:-p, :]
    else:
        dA = dA_pad[:, p:p + A_prev.shape[1], p:p + A_prev.shape[2], :]
    return dA, dW, db * db_scale


def backward_correct_loops(dZ, cache):
    return backward_loops(dZ, cache)


def backward_dA_assigned(dZ, cache):
    return backward_loops(dZ, cache, assign=("dA",))


def backward_dW_assigned(dZ, cache):
    return backward_loops(dZ, cache, assign=("dW",))


def backward_db_assigned(dZ, cache):
    return backward_loops(dZ, cache, assign=("db",))


def backward_padding_kept(dZ, cache):
    return backward_loops(dZ, cache, strip="none")


def backward_strip_minus_pad(dZ, cache):
    return backward_loops(dZ, cache, strip="minus")


def backward_unpadded_slices(dZ, cache):
    return backward_loops(dZ, cache, unpadded=True)


def backward_stride_ignored(dZ, cache):
    return backward_loops(dZ, cache, stride_used=False)


def backward_db_mean(dZ, cache):
    return backward_loops(dZ, cache, db_scale=1.0 / (dZ.shape[0] * dZ.shape[1] * dZ.shape[2]))


def backward_vectorised(dZ, cache):
    """Correct: dW and db by einsum over windows, dA_prev by scattering each position's contribution."""
    A_prev, W, b, hp = cache
    f, s, p = W.shape[0], hp["stride"], hp["pad"]
    A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
    windows = WINDOWS(A_pad, (f, f), axis=(1, 2))[:, ::s, ::s][:, :dZ.shape[1], :dZ.shape[2]]
    dW = np.einsum("mhwcij,mhwn->ijcn", windows, dZ)
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, -1)
    dA_pad = np.zeros_like(A_pad)
    for h in range(dZ.shape[1]):
        for w in range(dZ.shape[2]):
            dA_pad[:, h * s:h * s + f, w * s:w * s + f, :] += np.einsum("ijcn,mn->mijc", W, dZ[:, h, w, :])
    return dA_pad[:, p:p + A_prev.shape[1], p:p + A_prev.shape[2], :], dW, db


# ---------------------------------------------------------------- pool_forward
def pool_loops(A_prev, hparams, mode="max", stride_of=lambda f, s: s, reduce=None, swap_sizes=False,
               all_channels=False):
    """The notebook's loops (output_size by name); the keywords put one mistake in."""
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, s = hparams["f"], hparams["stride"]
    n_H, n_W = output_size(n_H_prev, f, 0, s), output_size(n_W_prev, f, 0, s)
    if swap_sizes:
        n_H, n_W = output_size(n_W_prev, f, 0, s), output_size(n_H_prev, f, 0, s)
    step = stride_of(f, s)
    reduce = reduce or (np.max if mode == "max" else np.mean)
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    channels = slice(None) if all_channels else c
                    A[i, h, w, c] = reduce(A_prev[i, h * step:h * step + f, w * step:w * step + f, channels])
    return A, (A_prev, hparams)


def pool_correct_loops(A, hp, mode="max"):
    return pool_loops(A, hp, mode)


def pool_max_only(A, hp, mode="max"):
    return pool_loops(A, hp, "max")


def pool_stride_ignored(A, hp, mode="max"):
    return pool_loops(A, hp, mode, stride_of=lambda f, s: 1)


def pool_window_by_f(A, hp, mode="max"):
    return pool_loops(A, hp, mode, stride_of=lambda f, s: f)


def pool_average_by_f(A, hp, mode="max"):  # the sum divided by f, not f * f
    return pool_loops(A, hp, mode, reduce=None if mode == "max" else lambda a: np.sum(a) / hp["f"])


def pool_sizes_swapped(A, hp, mode="max"):
    return pool_loops(A, hp, mode, swap_sizes=True)


def pool_across_channels(A, hp, mode="max"):
    return pool_loops(A, hp, mode, all_channels=True)


def pool_windows(A_prev, hparams, mode="max"):
    """Correct: sliding_window_view and one reduction over the window axes."""
    windows = WINDOWS(A_prev, (hparams["f"],) * 2, axis=(1, 2))[:, ::hparams["stride"], ::hparams["stride"]]
    return (windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))), (A_prev, hparams)


def pool_channels_at_once(A_prev, hparams, mode="max"):
    """Correct: loops over positions only, every example and channel reduced at once."""
    f, s = hparams["f"], hparams["stride"]
    n_H, n_W = output_size(A_prev.shape[1], f, 0, s), output_size(A_prev.shape[2], f, 0, s)
    reduce = np.max if mode == "max" else np.mean
    A = np.stack([np.stack([reduce(A_prev[:, h * s:h * s + f, w * s:w * s + f, :], axis=(1, 2))
                            for w in range(n_W)], axis=1) for h in range(n_H)], axis=1)
    return A, (A_prev, hparams)


# ---------------------------------------------------------------- create_mask_from_window
def mask_strict(x):
    return x > np.max(x)


def mask_argmax(x):  # one True only, also when the maximum appears twice
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


def mask_column_max(x):
    return x == np.max(x, axis=0)


def mask_min(x):
    return x == np.min(x)


def mask_older_release(x):  # the course's validator before issue 26 refused an integer window: not a mistake
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x (f, f) must have a floating dtype (float32 or float64), got {x.dtype}")
    return x == np.max(x)


def mask_refusing_integers_for_another_reason(x):
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError("integer windows are not supported")
    return x == np.max(x)


def mask_greater_equal(x):
    return x >= np.max(x)


def mask_amax_int(x):
    return (x == np.amax(x)).astype(int)


def mask_isclose(x):
    return np.isclose(x, x.max(), rtol=0.0, atol=0.0)


# ---------------------------------------------------------------- distribute_value
def spread_sum_of_sides(dz, shape):
    n_H, n_W = shape
    return np.ones(shape) * dz / (n_H + n_W)


def spread_not_divided(dz, shape):
    return np.full(shape, dz)


def spread_by_height(dz, shape):
    return np.ones(shape) * dz / shape[0]


def spread_floor_division(dz, shape):
    return np.ones(shape) * (dz // (shape[0] * shape[1]))


def spread_multiplied(dz, shape):
    return np.ones(shape) * dz * shape[0] * shape[1]


def spread_shape_swapped(dz, shape):
    n_H, n_W = shape
    return np.ones((n_W, n_H)) * dz / (n_H * n_W)


def spread_full(dz, shape):
    return np.full(shape, dz / (shape[0] * shape[1]))


def spread_prod(dz, shape):
    return np.ones(shape) * dz / np.prod(shape)


def spread_broadcast(dz, shape):
    return np.broadcast_to(np.float64(dz) / math.prod(shape), shape)


# ---------------------------------------------------------------- pool_backward
# The notebook's helper names, as pool_backward finds them.
create_mask_from_window = pool.create_mask_from_window
distribute_value = pool.distribute_value


def pool_back_loops(dA, cache, mode="max", assign=False, divisor=None, mask=None, stride_used=True, force_mode=None):
    """The notebook's loops (create_mask_from_window and distribute_value by name); keywords put one mistake in."""
    A_prev, hp = cache
    f = hp["f"]
    s = hp["stride"] if stride_used else 1
    mode = force_mode or mode
    dA_prev = np.zeros(A_prev.shape)
    for i in range(dA.shape[0]):
        for h in range(dA.shape[1]):
            for w in range(dA.shape[2]):
                for c in range(dA.shape[3]):
                    window = (i, slice(h * s, h * s + f), slice(w * s, w * s + f), c)
                    if mode == "max":
                        part = (mask or create_mask_from_window)(A_prev[window]) * dA[i, h, w, c]
                    elif divisor is None:
                        part = distribute_value(dA[i, h, w, c], (f, f))
                    else:
                        part = np.full((f, f), dA[i, h, w, c] / divisor(f))
                    if assign:
                        dA_prev[window] = part
                    else:
                        dA_prev[window] += part
    return dA_prev


def pool_back_correct_loops(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode)


def pool_back_assigned(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode, assign=True)


def pool_back_max_always(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode, force_mode="max")


def pool_back_divided_by_f_plus_f(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode, divisor=lambda f: f + f)


def pool_back_not_divided(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode, divisor=lambda f: 1)


def pool_back_stride_ignored(dA, cache, mode="max"):
    return pool_back_loops(dA, cache, mode, stride_used=False)


def pool_back_no_mask(dA, cache, mode="max"):  # max mode: the gradient to every position of the window
    return pool_back_loops(dA, cache, mode, mask=np.ones_like)


def pool_back_vectorised(dA, cache, mode="max"):
    """Correct: loops over output positions only, every example and channel at once."""
    A_prev, hp = cache
    f, s = hp["f"], hp["stride"]
    dA_prev = np.zeros(A_prev.shape)
    for h in range(dA.shape[1]):
        for w in range(dA.shape[2]):
            window = A_prev[:, h * s:h * s + f, w * s:w * s + f, :]
            g = dA[:, h:h + 1, w:w + 1, :]
            if mode == "max":
                part = (window == window.max(axis=(1, 2), keepdims=True)) * g
            else:
                part = np.broadcast_to(g / (f * f), window.shape)
            dA_prev[:, h * s:h * s + f, w * s:w * s + f, :] += part
    return dA_prev


# ---------------------------------------------------------------- conv_vs_dense_parameters
def counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, conv_bias=True, dense_bias="out", channels=True, out_size=None):
    """The notebook's counts (output_size by name); the keywords put one mistake in."""
    conv_count = f * f * (n_C_prev if channels else 1) * n_C + (n_C if conv_bias else 0)
    n_in = n_H * n_W * n_C_prev
    n_out = (out_size or (lambda: output_size(n_H, f, pad, stride) * output_size(n_W, f, pad, stride)))() * n_C
    biases = {"out": n_out, "in": n_in, None: 0}[dense_bias]
    return {"conv": conv_count, "dense": n_in * n_out + biases}


def counts_no_dense_bias(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, dense_bias=None)


def counts_no_conv_bias(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, conv_bias=False)


def counts_no_channels(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, channels=False)


def counts_stride_pad_ignored(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, out_size=lambda: (n_H - f + 1) * (n_W - f + 1))


def counts_output_as_input(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, out_size=lambda: n_H * n_W)


def counts_bias_per_input(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, dense_bias="in")


def counts_height_twice(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    return counts(n_H, n_W, n_C_prev, f, n_C, stride, pad, out_size=lambda: output_size(n_H, f, pad, stride) ** 2)


def counts_inline(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    """Correct: the output size written out inline, the dense count as (n_in + 1) * n_out."""
    n_out = ((n_H + 2 * pad - f) // stride + 1) * ((n_W + 2 * pad - f) // stride + 1) * n_C
    return {"conv": (f * f * n_C_prev + 1) * n_C, "dense": (n_H * n_W * n_C_prev + 1) * n_out}


# ---------------------------------------------------------------- convnet_sequential / convnet_functional
def _stack(input_shape, n_classes, conv=None, pool=layers.MaxPooling2D, fc1_activation="relu", relu=layers.ReLU,
           order="conv-relu-pool", flatten=layers.Flatten, head="softmax", fuse=False):
    """The table's layers as a list; the keywords put one mistake in (or choose a correct alternative)."""
    conv = conv or (lambda n, name: layers.Conv2D(n, 3, padding="same", activation="relu" if fuse else None, name=name))
    out = []
    for k, n in ((1, 32), (2, 64)):
        block = {"conv": conv(n, f"conv{k}"), "relu": None if fuse else relu(name=f"relu{k}"),
                 "pool": pool(2, 2, name=f"pool{k}")}
        out += [block[part] for part in order.split("-") if block.get(part) is not None]
    out += [flatten(name="flatten"), layers.Dense(64, activation=fc1_activation, name="fc1")]
    if head == "layer":
        out += [layers.Dense(n_classes, name="fc2"), layers.Softmax(name="softmax")]
    else:
        out += [layers.Dense(n_classes, activation=head, name="fc2")]
    return out


def sequential(**mistake):
    def build(input_shape=(28, 28, 1), n_classes=10):
        return keras.Sequential([keras.Input(input_shape), *_stack(input_shape, n_classes, **mistake)])
    return build


def functional(**mistake):
    def build(input_shape=(28, 28, 1), n_classes=10):
        inputs = keras.Input(input_shape)
        x = inputs
        for layer in _stack(input_shape, n_classes, **mistake):
            x = layer(x)
        return keras.Model(inputs, x)
    return build


def functional_pool_on_pre_activation(input_shape=(28, 28, 1), n_classes=10):
    """Wired wrong: relu2 is called, but pool2 takes conv2's output, and relu2 is applied after it."""
    inputs = keras.Input(input_shape)
    x = layers.MaxPooling2D(2, 2)(layers.ReLU()(layers.Conv2D(32, 3, padding="same")(inputs)))
    x = layers.Conv2D(64, 3, padding="same")(x)
    x = layers.MaxPooling2D(2, 2)(x)
    x = layers.ReLU()(x)
    x = layers.Dense(64, activation="relu")(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax")(x))


def _fixed_shape(build):
    return lambda input_shape=(28, 28, 1), n_classes=10: build()


KERAS_MISTAKES = {
    "valid_padding": dict(conv=lambda n, name: layers.Conv2D(n, 3, padding="valid", name=name)),
    "relu_missing": dict(relu=lambda name: None),
    "pool_before_relu": dict(order="conv-pool-relu"),
    "average_pooling": dict(pool=layers.AveragePooling2D),
    "fc1_linear": dict(fc1_activation=None),
    "no_softmax": dict(head=None),
    "sigmoid_head": dict(head="sigmoid"),
    "leaky_relu_layer": dict(relu=lambda name: layers.ReLU(negative_slope=0.1, name=name)),
    "capped_relu": dict(relu=lambda name: layers.ReLU(max_value=0.05, name=name)),
    "dilated_conv": dict(conv=lambda n, name: layers.Conv2D(n, 3, padding="same", dilation_rate=2, name=name)),
}
KERAS_ALTERNATIVES = {
    "fused_relu": dict(fuse=True),
    "activation_layers": dict(relu=lambda name: layers.Activation("relu", name=name)),
    "softmax_layer": dict(head="layer"),
    "maxpool2d_default_strides": dict(pool=lambda f, s, name: layers.MaxPool2D(f, name=name)),
    "reshape_to_flatten": dict(flatten=lambda name: layers.Reshape((-1,), name=name)),
}


# ---------------------------------------------------------------- the corpus
MISTAKES = {
    "output_size": [size_without_plus_one, size_pad_once, size_stride_ignored, size_rounded, size_ceil, size_float,
                    size_pad_ignored, size_precedence],
    "zero_pad": [pad_every_axis, pad_one_side, pad_with_edges, pad_slice_to_minus_pad, pad_batch_and_height,
                 pad_height_only],
    "conv_single_step": [step_no_bias, step_bias_per_element, step_mean, step_array, step_flipped, step_channels_only],
    "conv_forward": [forward_stride_ignored, forward_window_by_f, forward_pad_ignored, forward_no_bias,
                     forward_first_bias, forward_first_example, forward_sizes_swapped, forward_flipped,
                     forward_no_cache],
    "conv_backward": [backward_dA_assigned, backward_dW_assigned, backward_db_assigned, backward_padding_kept,
                      backward_strip_minus_pad, backward_unpadded_slices, backward_stride_ignored, backward_db_mean],
    "pool_forward": [pool_max_only, pool_stride_ignored, pool_window_by_f, pool_average_by_f, pool_sizes_swapped,
                     pool_across_channels],
    "create_mask_from_window": [mask_strict, mask_argmax, mask_column_max, mask_min,
                                mask_refusing_integers_for_another_reason],
    "distribute_value": [spread_sum_of_sides, spread_not_divided, spread_by_height, spread_floor_division,
                         spread_multiplied, spread_shape_swapped],
    "pool_backward": [pool_back_assigned, pool_back_max_always, pool_back_divided_by_f_plus_f, pool_back_not_divided,
                      pool_back_stride_ignored, pool_back_no_mask],
    "conv_vs_dense_parameters": [counts_no_dense_bias, counts_no_conv_bias, counts_no_channels,
                                 counts_stride_pad_ignored, counts_output_as_input, counts_bias_per_input,
                                 counts_height_twice],
}
# Mistakes that the public check need not catch: rare, or shown only by a boundary the hidden check probes.
PUBLIC_MAY_MISS = {mask_refusing_integers_for_another_reason}
ALTERNATIVES = {
    "output_size": [size_int_of_division, size_math_floor, size_count_positions],
    "zero_pad": [pad_zeros_and_slice, pad_width_list],
    "conv_single_step": [step_einsum, step_vdot, step_tensordot],
    "conv_forward": [forward_einsum, forward_correct_loops, forward_tensordot],
    "conv_backward": [backward_correct_loops, backward_vectorised],
    "pool_forward": [pool_windows, pool_channels_at_once, pool_correct_loops],
    "create_mask_from_window": [mask_greater_equal, mask_amax_int, mask_isclose, mask_older_release],
    "distribute_value": [spread_full, spread_prod, spread_broadcast],
    "pool_backward": [pool_back_correct_loops, pool_back_vectorised],
    "conv_vs_dense_parameters": [counts_inline],
}
NUMPY_MISTAKES = [(name, fn) for name, fns in MISTAKES.items() for fn in fns]
NUMPY_ALTERNATIVES = [(name, fn) for name, fns in ALTERNATIVES.items() for fn in fns]


def _ids(rows):
    return [f"{row[0]}-{row[1].__name__}" for row in rows]


@pytest.mark.parametrize("name,fn", NUMPY_MISTAKES, ids=_ids(NUMPY_MISTAKES))
def test_hidden_check_catches_the_mistake(name, fn):
    with pytest.raises(Exception):  # noqa: PT011,B017 -- CheckFailed, or the student's own crash (a failed cell too)
        getattr(checks, f"hidden_{name}")(fn)


@pytest.mark.parametrize("name,fn", [p for p in NUMPY_MISTAKES if p[1] not in PUBLIC_MAY_MISS],
                         ids=_ids([p for p in NUMPY_MISTAKES if p[1] not in PUBLIC_MAY_MISS]))
def test_public_check_catches_the_mistake(name, fn):
    with pytest.raises(Exception):  # noqa: PT011,B017 -- CheckFailed, or the student's own crash
        getattr(checks, f"public_{name}")(fn)


@pytest.mark.parametrize("name,fn", NUMPY_ALTERNATIVES, ids=_ids(NUMPY_ALTERNATIVES))
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_correct_alternative_keeps_full_marks(name, fn, kind):
    getattr(checks, f"{kind}_{name}")(fn)


def test_every_graded_function_has_three_mistakes_and_an_alternative():
    graded = {name[len("hidden_"):] for name in vars(checks) if name.startswith("hidden_")}
    assert graded == set(MISTAKES) == set(ALTERNATIVES)
    assert all(len(MISTAKES[n]) >= 3 and ALTERNATIVES[n] for n in MISTAKES)
    assert len(KERAS_MISTAKES) >= 3 and KERAS_ALTERNATIVES


# Hints: a hidden failure names the likely mistake where the check can tell.
HINTS = [
    ("output_size", size_without_plus_one, "+ 1 is missing"),
    ("output_size", size_pad_once, "padding was counted once"),
    ("output_size", size_float, "true division"),
    ("output_size", size_precedence, "missing parenthesis"),
    ("zero_pad", pad_one_side, "one side"),
    ("zero_pad", pad_with_edges, "border is not zero"),
    ("conv_single_step", step_no_bias, "bias is missing"),
    ("conv_single_step", step_bias_per_element, "bias was added to every element"),
    ("conv_forward", forward_stride_ignored, "stride was ignored"),
    ("conv_forward", forward_no_bias, "bias is missing"),
    ("conv_forward", forward_flipped, "flipped"),
    ("conv_backward", backward_db_assigned, "db was overwritten"),
    ("conv_backward", backward_dW_assigned, "dW was overwritten"),
    ("conv_backward", backward_db_mean, "db was averaged"),
    ("pool_forward", pool_max_only, "mode 'max' was computed"),
    ("pool_forward", pool_stride_ignored, "stride was ignored"),
    ("create_mask_from_window", mask_strict, "not >"),
    ("create_mask_from_window", mask_argmax, "not only argmax"),
    ("distribute_value", spread_sum_of_sides, "divided by n_H + n_W"),
    ("distribute_value", spread_shape_swapped, "shape is swapped"),
    ("pool_backward", pool_back_assigned, "overwritten (=)"),
    ("pool_backward", pool_back_divided_by_f_plus_f, "divided by f + f"),
    ("pool_backward", pool_back_no_mask, "every position of the window"),
    ("conv_vs_dense_parameters", counts_no_dense_bias, "dense biases are missing"),
    ("conv_vs_dense_parameters", counts_stride_pad_ignored, "stride and padding were ignored"),
]


@pytest.mark.parametrize("name,fn,hint", HINTS, ids=_ids(HINTS))
def test_hidden_failure_names_the_likely_mistake(name, fn, hint):
    with pytest.raises(CheckFailed) as info:
        getattr(checks, f"hidden_{name}")(fn)
    assert "Hint:" in str(info.value) and hint in str(info.value), str(info.value)


def test_public_distribute_value_separates_sum_from_product_of_sides():
    """The issue's example: n_H + n_W passed the 2x2-only public check; a 2x3 window now separates them."""
    with pytest.raises(CheckFailed, match=r"\(2, 3\)[\s\S]*n_H \+ n_W"):
        checks.public_distribute_value(spread_sum_of_sides)


# ---------------------------------------------------------------- Keras builders
@pytest.mark.parametrize("mistake", sorted(KERAS_MISTAKES))
@pytest.mark.parametrize("style", [sequential, functional], ids=["sequential", "functional"])
def test_convnet_checks_catch_the_mistake(style, mistake):
    build = style(**KERAS_MISTAKES[mistake])
    with pytest.raises(CheckFailed):
        c1_convnet.hidden_convnet(build, "convnet")
    with pytest.raises(CheckFailed):
        c1_convnet.public_convnet(build, "convnet")


def test_convnet_checks_catch_wiring_and_fixed_shapes():
    with pytest.raises(CheckFailed):
        c1_convnet.hidden_convnet(functional_pool_on_pre_activation, "convnet_functional")
    for build in (models.convnet_sequential, models.convnet_functional):
        c1_convnet.public_convnet(_fixed_shape(build), "convnet")  # right for MNIST, blind to its arguments
        with pytest.raises(CheckFailed):
            c1_convnet.hidden_convnet(_fixed_shape(build), "convnet")


def test_convnet_behaviour_failure_says_the_outputs_differ():
    with pytest.raises(CheckFailed, match="with the same weights, the outputs differ"):
        c1_convnet.public_convnet(sequential(**KERAS_MISTAKES["leaky_relu_layer"]), "convnet_sequential")


@pytest.mark.parametrize("alternative", sorted(KERAS_ALTERNATIVES))
@pytest.mark.parametrize("style", [sequential, functional], ids=["sequential", "functional"])
def test_convnet_alternative_keeps_full_marks(style, alternative):
    build = style(**KERAS_ALTERNATIVES[alternative])
    c1_convnet.public_convnet(build, "convnet")
    c1_convnet.hidden_convnet(build, "convnet")


# ---------------------------------------------------------------- one mistake, one loss
def _notebook(**broken):
    """The notebook's graded functions from the course's source, in one namespace, with `broken` helpers."""
    namespace = {k: v for module in (conv, pool, counting) for k, v in vars(module).items() if not k.startswith("__")}
    for module, name in ((conv, "conv_forward"), (conv, "conv_backward"), (pool, "pool_forward"),
                         (pool, "pool_backward"), (counting, "conv_vs_dense_parameters")):
        exec(compile(inspect.getsource(getattr(module, name)), f"<notebook: {name}>", "exec"), namespace)  # noqa: S102
    namespace.update(broken)
    return namespace


# (broken helper, a caller whose checks must still pass, its public check naming the helper)
CALLERS = [
    ("zero_pad", pad_height_only, "conv_forward"),
    ("zero_pad", pad_height_only, "conv_backward"),
    ("output_size", size_without_plus_one, "conv_forward"),
    ("output_size", size_without_plus_one, "pool_forward"),
    ("output_size", size_pad_once, "conv_vs_dense_parameters"),
    ("conv_single_step", step_no_bias, "conv_forward"),
    ("create_mask_from_window", mask_min, "pool_backward"),
    ("distribute_value", spread_sum_of_sides, "pool_backward"),
]


@pytest.mark.parametrize("helper,broken,caller", CALLERS, ids=[f"{h}-{c}" for h, _, c in CALLERS])
def test_a_helper_mistake_costs_the_caller_nothing(helper, broken, caller, capsys):
    namespace = _notebook(**{helper: broken})
    fn = namespace[caller]
    getattr(checks, f"hidden_{caller}")(fn)  # the course's helper in place: passes
    assert namespace[helper] is broken  # and the student's helper is back afterwards
    getattr(checks, f"public_{caller}")(fn)  # the student's own chain fails, because of the helper: passes
    printed = capsys.readouterr().out  # ... and says so
    assert f"the mistake starts in {helper}" in printed and "keeps its points" in printed, printed


def test_conv_forward_with_a_broken_zero_pad_passes_and_names_zero_pad(capsys):
    namespace = _notebook(zero_pad=pad_one_side)
    checks.hidden_conv_forward(namespace["conv_forward"])
    checks.public_conv_forward(namespace["conv_forward"])
    assert "the mistake starts in zero_pad" in capsys.readouterr().out


def test_a_callers_own_mistake_still_fails_its_hidden_check_with_the_course_helpers():
    namespace = _notebook()
    source = inspect.getsource(conv.conv_forward).replace("vert_start = h * stride", "vert_start = h")
    exec(compile(source, "<notebook: conv_forward>", "exec"), namespace)  # noqa: S102
    with pytest.raises(CheckFailed, match="stride"):
        checks.hidden_conv_forward(namespace["conv_forward"])
    with pytest.raises(CheckFailed) as info:
        checks.public_conv_forward(namespace["conv_forward"])
    assert "the mistake starts in" not in str(info.value)


class _Replayer:
    """A stand-in without __globals__, as the grader's judge hands the checks."""

    def __call__(self, *args):
        return conv.conv_forward(*args)


def test_reference_helpers_restores_names_and_ignores_objects_without_globals():
    namespace = {"zero_pad": pad_one_side, "other": 1}
    fn = type(lambda: None)((lambda: None).__code__, namespace)
    with pytest.raises(RuntimeError):
        with reference_helpers(fn, zero_pad=conv.zero_pad, output_size=conv.output_size):
            assert namespace["zero_pad"] is conv.zero_pad and "output_size" not in namespace
            raise RuntimeError("a failing check")
    assert namespace == {"zero_pad": pad_one_side, "other": 1}
    with reference_helpers(_Replayer(), zero_pad=conv.zero_pad):
        pass
    checks.hidden_conv_forward(_Replayer())  # a replaying stand-in: nothing swapped, no error


def test_likely_mistake_names_every_matching_hint():
    assert likely_mistake(np.ones(3), [("a", np.zeros(3)), ("b", lambda: np.ones(3)), ("c", np.ones(3))]) == "b; or c"
    assert likely_mistake("text", [("a", 1.0)]) is None
    assert likely_mistake(np.ones(2), [("shape", np.ones(3)), ("raises", lambda: 1 / 0)]) is None


# ---------------------------------------------------------------- integer windows (a validator rejected valid input)
def test_create_mask_from_window_accepts_an_integer_window():
    x = np.array([[1, 5], [5, 2]], dtype=np.int64)
    assert pool.create_mask_from_window(x).tolist() == [[False, True], [True, False]]
    with pytest.raises(ValueError, match="2 dimensions"):
        pool.create_mask_from_window(np.zeros((2, 2, 1)))


def test_swapped_in_references_do_not_trip_the_reference_guard(monkeypatch, capsys):
    """In the grading kernel the references are guarded (grading/tripwire.py): the helpers a hidden check swaps in
    are those guarded functions, called from the notebook's own conv_forward, which is allowed."""
    from cnncourse.grading import tripwire

    for name in ("output_size", "zero_pad", "conv_single_step"):
        monkeypatch.setattr(conv, name, tripwire._wrap(getattr(conv, name), f"cnncourse.ops.conv.{name}"))
    namespace = _notebook(zero_pad=pad_one_side)
    source = inspect.getsource(conv.conv_forward)  # compiled as a notebook cell is, so the guard sees notebook code
    exec(compile(source, "<ipython-input-3-conv>", "exec"), namespace)  # noqa: S102
    checks.hidden_conv_forward(namespace["conv_forward"])
    checks.public_conv_forward(namespace["conv_forward"])
    assert "the mistake starts in zero_pad" in capsys.readouterr().out
    with pytest.raises(tripwire.ReferenceCallError):  # the reference itself, handed to the check, is still caught
        checks.hidden_conv_single_step(conv.conv_single_step)


def test_public_pool_backward_names_the_f_plus_f_divisor():
    with pytest.raises(CheckFailed, match=r"f 3[\s\S]*divided by f \+ f"):
        checks.public_pool_backward(pool_back_divided_by_f_plus_f)


def test_the_student_edition_keeps_no_loop_solution_in_the_public_checks():
    """Hints of the public checks must not need a working pool_backward or conv_backward: the student edition keeps
    the private helpers that public checks use (grading/student.py strips only what hidden checks alone use)."""
    from cnncourse.grading.student import strip_hidden_checks

    kept, removed = strip_hidden_checks(inspect.getsource(checks))
    assert {"_pool_backward_numpy", "_conv_dA_pad", "_conv_backward_mistakes"} <= set(removed)
    assert "def _pool_backward_numpy" not in kept and "def hidden_" not in kept


def test_a_model_that_cannot_be_built_fails_with_a_readable_message():
    def broken(input_shape=(28, 28, 1), n_classes=10):  # a Conv2D on the flattened vector
        return keras.Sequential([keras.Input(input_shape), layers.Flatten(), layers.Conv2D(32, 3)])

    for check in (c1_convnet.public_convnet, c1_convnet.hidden_convnet):
        with pytest.raises(CheckFailed, match="building the model raised"):
            check(broken, "convnet_sequential")
    with pytest.raises(CheckFailed, match="expected a keras.Model, got NoneType"):
        c1_convnet.public_convnet(lambda input_shape=(28, 28, 1), n_classes=10: None, "convnet_sequential")
