"""Checks of Chapter 1's graded functions.

public_*: small cases whose answers are exact, with hints at the likely mistake. They run in the
          student's notebook as they work.
hidden_*: random shapes, strides and paddings against independent oracles (tf.nn.conv2d,
          tf.nn.max_pool2d / avg_pool2d, TensorFlow's gradients, numerical gradients, Keras's own
          parameter counts). nbgrader hides their calls in the student's copy and runs them at grading.
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import numpy as np

from cnncourse.checks.core import (PartialCredit, expect_close, expect_equal, expect_raises, expect_shape,  # noqa: F401
                                   expect_type, fail)  # PartialCredit: used as checks.PartialCredit by the grade cells
from cnncourse.ops.gradcheck import numerical_gradient, rel_error

GRAD_TOLERANCE = 1e-7  # relative error, float64


def _rng(seed):
    return np.random.default_rng(seed)


def _conv_oracle_numpy(A, W, b, stride, pad):
    """Convolution by einsum over sliding windows: independent of the loop version."""
    A = np.pad(A, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f = W.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("mhwcij,ijcn->mhwn", windows, W) + b.reshape(-1)


def _tf():
    import tensorflow as tf  # imported late: the numpy checks should not pay for it

    return tf


def _random_conv_case(rng):
    m = int(rng.integers(1, 4))
    n_C_prev, n_C = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    f = int(rng.integers(1, 5))
    pad = int(rng.integers(0, 3))
    stride = int(rng.integers(1, 4))
    n_H, n_W = int(rng.integers(max(1, f - 2 * pad), 9)), int(rng.integers(max(1, f - 2 * pad), 9))
    A = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    case = f"A_prev {A.shape}, W {W.shape}, stride {stride}, pad {pad}"
    return A, W, b, {"stride": stride, "pad": pad}, case


# --- output size --------------------------------------------------------------------------------

def public_output_size(output_size):
    """Hand-worked sizes: (n, f, pad, stride) -> floor((n + 2p - f) / s) + 1."""
    cases = [((6, 3, 0, 1), 4), ((5, 3, 1, 1), 5), ((7, 3, 0, 2), 3), ((8, 3, 1, 2), 4), ((32, 5, 2, 3), 11)]
    for (n, f, p, s), want in cases:
        got = output_size(n, f, p, s)
        expect_type(got, (int, np.integer), "output_size", f"n={n}, f={f}, pad={p}, stride={s}",
                    hint="use floor division // so the size is an integer")
        expect_equal(got, want, "output_size", f"n={n}, f={f}, pad={p}, stride={s}",
                     hint="floor((n + 2 * pad - f) / stride) + 1: padding counts twice, and do not forget the + 1")


def hidden_output_size(output_size, n_cases=200, seed=11):
    """Random sizes against the length of the sliding-window axis that numpy computes."""
    rng = _rng(seed)
    for _ in range(n_cases):
        f, p, s = int(rng.integers(1, 8)), int(rng.integers(0, 4)), int(rng.integers(1, 5))
        n = int(rng.integers(max(1, f - 2 * p), 40))
        padded = np.zeros(n + 2 * p)
        want = np.lib.stride_tricks.sliding_window_view(padded, f)[::s].shape[0]
        expect_equal(output_size(n, f, p, s), want, "output_size", f"n={n}, f={f}, pad={p}, stride={s}")


# --- zero_pad -----------------------------------------------------------------------------------

def public_zero_pad(zero_pad):
    """Shape, zero border and untouched interior on one small batch."""
    rng = _rng(1)
    X = rng.standard_normal((4, 3, 3, 2))
    for pad in (1, 2):
        X_pad = zero_pad(X, pad)
        expect_shape(X_pad, (4, 3 + 2 * pad, 3 + 2 * pad, 2), "zero_pad(X, pad)", f"X {X.shape}, pad {pad}",
                     hint="pad only the height and width (axes 1 and 2), by `pad` on each side")
        expect_close(X_pad[:, pad:-pad, pad:-pad, :], X, "the inside of X_pad", f"pad {pad}",
                     hint="the original values should sit unchanged in the middle")
        border = X_pad.copy()
        border[:, pad:-pad, pad:-pad, :] = 0
        expect_close(border, np.zeros_like(border), "the border of X_pad", f"pad {pad}",
                     hint="pad with zeros (np.pad's mode='constant', constant_values=0)")


def hidden_zero_pad(zero_pad, n_cases=20, seed=12):
    """Random shapes and pads against tf.pad."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        X = rng.standard_normal(tuple(int(v) for v in rng.integers(1, 6, size=4)))
        pad = int(rng.integers(0, 4))
        want = tf.pad(X, [[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy()
        expect_close(zero_pad(X, pad), want, "zero_pad", f"X {X.shape}, pad {pad}")


# --- conv_single_step ---------------------------------------------------------------------------

def public_conv_single_step(conv_single_step):
    """One 3x3x4 slice against the sum of the product plus the bias."""
    rng = _rng(2)
    a = rng.standard_normal((3, 3, 4))
    W = rng.standard_normal((3, 3, 4))
    b = rng.standard_normal((1, 1, 1))
    got = conv_single_step(a, W, b)
    expect_type(got, (float, np.floating), "conv_single_step", "a 3x3x4 slice",
                hint="return a number (float(...)), not an array")
    want = float((a * W).sum() + b.item())
    if np.isclose(got, want - b.item()):
        fail("conv_single_step: the bias is missing", "a 3x3x4 slice", hint="add b once, after the sum")
    expect_close(got, want, "conv_single_step", "a 3x3x4 slice",
                 hint="multiply element-wise (*), sum everything, then add the bias")


def hidden_conv_single_step(conv_single_step, n_cases=20, seed=13):
    """Random slices against a tf.nn.conv2d of a window of exactly the filter's size."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        f, c = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        a, W, b = rng.standard_normal((f, f, c)), rng.standard_normal((f, f, c)), rng.standard_normal((1, 1, 1))
        want = tf.nn.conv2d(a[None], W[..., None], 1, "VALID").numpy().item() + b.item()
        expect_close(conv_single_step(a, W, b), want, "conv_single_step", f"slice {a.shape}")


# --- conv_forward -------------------------------------------------------------------------------

def public_conv_forward(conv_forward):
    """Shapes for several strides and paddings, then values against an einsum formulation."""
    rng = _rng(3)
    A = rng.standard_normal((2, 5, 7, 4))
    W = rng.standard_normal((3, 3, 4, 8))
    b = rng.standard_normal((1, 1, 1, 8))
    for stride, pad, shape in ((1, 0, (2, 3, 5, 8)), (1, 1, (2, 5, 7, 8)), (2, 1, (2, 3, 4, 8)), (3, 2, (2, 3, 3, 8))):
        case = f"A_prev {A.shape}, W {W.shape}, stride {stride}, pad {pad}"
        Z, cache = conv_forward(A, W, b, {"stride": stride, "pad": pad})
        expect_shape(Z, shape, "Z", case, hint="n_H = floor((n_H_prev + 2 * pad - f) / stride) + 1, same for n_W")
        want = _conv_oracle_numpy(A, W, b, stride, pad)
        if stride > 1 and np.allclose(Z.sum(), _conv_oracle_numpy(A, W, b, 1, pad).sum()):
            fail("Z: the values are those of stride 1", case, hint="the window starts at h * stride and w * stride")
        expect_close(Z, want, "Z", case,
                     hint="slice a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] and use W[..., c], b[..., c]")
        if not (isinstance(cache, tuple) and len(cache) == 4):
            fail("cache: expected the tuple (A_prev, W, b, hparams)", case)


def hidden_conv_forward(conv_forward, n_cases=25, seed=14):
    """Random shapes, strides and paddings against tf.nn.conv2d (explicit padding)."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        A, W, b, hp, case = _random_conv_case(rng)
        p = hp["pad"]
        want = tf.nn.conv2d(A, W, hp["stride"], [[0, 0], [p, p], [p, p], [0, 0]]).numpy() + b.reshape(-1)
        Z, _ = conv_forward(A, W, b, hp)
        expect_close(Z, want, "Z", case)
    A, W, b, hp, case = _random_conv_case(rng)
    expect_raises(lambda: conv_forward(A, W, b, {"stride": 0, "pad": 0}), Exception, "stride 0 must be refused",
                  "hparams {'stride': 0}")


# --- conv_backward ------------------------------------------------------------------------------

def _conv_backward_grads(conv_backward, A, W, b, hp, dZ):
    dA, dW, db = conv_backward(dZ, (A, W, b, hp))
    return dA, dW, db


def public_conv_backward(conv_backward, conv_forward_reference=None, grads=("dA_prev", "dW", "db")):
    """Numerical gradients on one small case (float64); relative error must be below 1e-7.

    grads: which of the three gradients to check (the grade cell gives a point to each).
    """
    rng = _rng(4)
    A = rng.standard_normal((2, 4, 5, 3))
    W = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal((1, 1, 1, 2))
    for hp in ({"stride": 1, "pad": 1}, {"stride": 2, "pad": 1}):
        case = f"A_prev {A.shape}, W {W.shape}, stride {hp['stride']}, pad {hp['pad']}"
        forward = lambda A_, W_, b_: _conv_oracle_numpy(A_, W_, b_, hp["stride"], hp["pad"])  # noqa: E731
        dZ = rng.standard_normal(forward(A, W, b).shape)
        dA, dW, db = _conv_backward_grads(conv_backward, A, W, b, hp, dZ)
        num = {
            "dA_prev": numerical_gradient(lambda x: forward(x, W, b), A.copy(), dZ),
            "dW": numerical_gradient(lambda x: forward(A, x, b), W.copy(), dZ),
            "db": numerical_gradient(lambda x: forward(A, W, x), b.copy(), dZ),
        }
        hints = {
            "dA_prev": "add W[:, :, :, c] * dZ[i, h, w, c] into the padded window, then strip the padding",
            "dW": "add a_slice * dZ[i, h, w, c] into dW[:, :, :, c]",
            "db": "db[..., c] is the sum of dZ[..., c] over examples and positions",
        }
        for name, got in (("dA_prev", dA), ("dW", dW), ("db", db)):
            if name not in grads:
                continue
            expect_shape(got, num[name].shape, name, case, hint=f"{name} has the shape of what it is the gradient of")
            err = rel_error(got, num[name])
            if err > GRAD_TOLERANCE:
                fail(f"{name}: relative error {err:.2e} against the numerical gradient (must be < 1e-7)",
                     case, hint=hints[name])


def hidden_conv_backward(conv_backward, n_cases=15, seed=15, grads=("dA_prev", "dW", "db")):
    """Random shapes, strides and paddings against TensorFlow's gradients of tf.nn.conv2d (the gradients `grads`)."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        A, W, b, hp, case = _random_conv_case(rng)
        p = hp["pad"]
        tA, tW, tb = (tf.constant(x) for x in (A, W, b))
        with tf.GradientTape() as tape:
            tape.watch([tA, tW, tb])
            Z = tf.nn.conv2d(tA, tW, hp["stride"], [[0, 0], [p, p], [p, p], [0, 0]]) + tb
            dZ = tf.constant(rng.standard_normal(Z.shape))
            loss = tf.reduce_sum(Z * dZ)
        want = [g.numpy() for g in tape.gradient(loss, [tA, tW, tb])]
        got = conv_backward(dZ.numpy(), (A, W, b, hp))
        for name, g, w in zip(("dA_prev", "dW", "db"), got, want):
            if name in grads:
                expect_close(g, w, name, case, rtol=1e-7, atol=1e-9)


# --- pooling ------------------------------------------------------------------------------------

def public_pool_forward(pool_forward):
    """A 4x4 ramp whose maxima and means are worked out by hand, then channel independence."""
    A = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    hp = {"f": 2, "stride": 2}
    cases = {"max": [[5, 7], [13, 15]], "average": [[2.5, 4.5], [10.5, 12.5]]}
    for mode, want in cases.items():
        out, cache = pool_forward(A, hp, mode)
        expect_close(out, np.array(want, dtype=np.float64).reshape(1, 2, 2, 1), f"pool_forward(mode={mode!r})",
                     "4x4 ramp 0..15, f=2, stride=2",
                     hint="take np.max / np.mean of A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]")
    out, _ = pool_forward(A, {"f": 2, "stride": 1}, "max")
    expect_shape(out, (1, 3, 3, 1), "pool_forward output", "4x4 input, f=2, stride=1",
                 hint="n_H = floor((n_H_prev - f) / stride) + 1 (no padding in pooling)")
    two = np.concatenate([A, -A], axis=3)
    out, _ = pool_forward(two, hp, "max")
    expect_close(out[..., 1], [[[-0.0, -2.0], [-8.0, -10.0]]], "channel 1 of max pooling", "channels 0..15 and 0..-15",
                 hint="pool each channel on its own: slice with c, do not take the max over channels")


def hidden_pool_forward(pool_forward, n_cases=25, seed=16):
    """Random shapes, windows and strides against tf.nn.max_pool2d and tf.nn.avg_pool2d."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        A = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(f, 9)), int(rng.integers(f, 9)),
                                 int(rng.integers(1, 4))))
        for mode, op in (("max", tf.nn.max_pool2d), ("average", tf.nn.avg_pool2d)):
            want = op(A, f, s, "VALID").numpy()
            got, _ = pool_forward(A, {"f": f, "stride": s}, mode)
            expect_close(got, want, f"pool_forward(mode={mode!r})", f"A_prev {A.shape}, f {f}, stride {s}")


def public_create_mask_from_window(create_mask_from_window):
    """The mask of the maximum of a 2x3 window worked out by hand."""
    x = np.array([[1.0, -3.0, 4.0], [2.0, 0.5, -1.0]])
    got = create_mask_from_window(x)
    want = np.array([[False, False, True], [False, False, False]])
    expect_shape(got, want.shape, "mask", "x = [[1, -3, 4], [2, 0.5, -1]]")
    if not np.array_equal(np.asarray(got, dtype=bool), want):
        fail(f"mask: expected {want.tolist()}, got {np.asarray(got).tolist()}", "x = [[1, -3, 4], [2, 0.5, -1]]",
             hint="True exactly where x equals np.max(x)")


def hidden_create_mask_from_window(create_mask_from_window, n_cases=30, seed=17):
    """Random windows: exactly one True, at np.argmax."""
    rng = _rng(seed)
    for _ in range(n_cases):
        x = rng.standard_normal((int(rng.integers(1, 5)), int(rng.integers(1, 5))))
        want = np.zeros(x.shape, dtype=bool)
        want[np.unravel_index(np.argmax(x), x.shape)] = True
        if not np.array_equal(np.asarray(create_mask_from_window(x), dtype=bool), want):
            fail("mask: not True exactly at the maximum", f"window {x.shape}")


def public_distribute_value(distribute_value):
    """dz = 2 over a 2x2 window gives 0.5 everywhere."""
    got = distribute_value(2.0, (2, 2))
    expect_close(got, np.full((2, 2), 0.5), "distribute_value(2, (2, 2))", "dz=2, shape (2, 2)",
                 hint="each of the n_H * n_W entries receives dz / (n_H * n_W)")


def hidden_distribute_value(distribute_value, n_cases=20, seed=18):
    """Random values and shapes: constant, and sums back to dz."""
    rng = _rng(seed)
    for _ in range(n_cases):
        dz, shape = float(rng.standard_normal()), (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        got = distribute_value(dz, shape)
        expect_shape(got, shape, "distribute_value", f"dz={dz:.3f}, shape {shape}")
        expect_close(np.sum(got), dz, "sum of the distributed values", f"dz={dz:.3f}, shape {shape}")
        expect_close(got, np.full(shape, np.mean(got)), "distributed values", f"dz={dz:.3f}, shape {shape}")


def public_pool_backward(pool_backward):
    """Numerical gradients of both pooling modes on one small case; relative error below 1e-7."""
    rng = _rng(5)
    A = rng.standard_normal((2, 5, 4, 2))
    for mode in ("max", "average"):
        for hp in ({"f": 2, "stride": 1}, {"f": 2, "stride": 2}):
            case = f"A_prev {A.shape}, mode {mode!r}, f {hp['f']}, stride {hp['stride']}"
            forward = lambda x: _pool_oracle_numpy(x, hp["f"], hp["stride"], mode)  # noqa: E731
            dA = rng.standard_normal(forward(A).shape)
            got = pool_backward(dA, (A, hp), mode)
            want = numerical_gradient(forward, A.copy(), dA)
            expect_shape(got, A.shape, "dA_prev", case, hint="dA_prev has the shape of A_prev")
            err = rel_error(got, want)
            if err > GRAD_TOLERANCE:
                hint = ("route each gradient to the max of its window (mask * dA[i, h, w, c]) and ADD (+=): windows "
                        "can overlap" if mode == "max" else "spread dA[i, h, w, c] evenly over its f x f window with +=")
                fail(f"dA_prev: relative error {err:.2e} against the numerical gradient (must be < 1e-7)", case, hint)


def _pool_oracle_numpy(A, f, stride, mode):
    windows = np.lib.stride_tricks.sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))


def hidden_pool_backward(pool_backward, n_cases=15, seed=19):
    """Random shapes, windows and strides against TensorFlow's gradients of max_pool2d / avg_pool2d."""
    tf = _tf()
    rng = _rng(seed)
    for _ in range(n_cases):
        f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        A = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(f, 8)), int(rng.integers(f, 8)),
                                 int(rng.integers(1, 3))))
        for mode, op in (("max", tf.nn.max_pool2d), ("average", tf.nn.avg_pool2d)):
            tA = tf.constant(A)
            with tf.GradientTape() as tape:
                tape.watch(tA)
                out = op(tA, f, s, "VALID")
                dA = tf.constant(rng.standard_normal(out.shape))
                loss = tf.reduce_sum(out * dA)
            want = tape.gradient(loss, tA).numpy()
            got = pool_backward(dA.numpy(), (A, {"f": f, "stride": s}), mode)
            expect_close(got, want, "dA_prev", f"A_prev {A.shape}, mode {mode!r}, f {f}, stride {s}")


# --- why convolutions: parameter counts ----------------------------------------------------------

def public_conv_vs_dense_parameters(conv_vs_dense_parameters):
    """The lecture's example: 32x32x3 -> 28x28x6 with six 5x5 filters."""
    got = conv_vs_dense_parameters(32, 32, 3, 5, 6)
    expect_type(got, dict, "conv_vs_dense_parameters", "32x32x3, six 5x5 filters")
    expect_equal(got.get("conv"), (5 * 5 * 3 + 1) * 6, 'result["conv"]', "32x32x3, six 5x5 filters",
                 hint="each filter has f * f * n_C_prev weights and one bias")
    expect_equal(got.get("dense"), 3072 * 4704 + 4704, 'result["dense"]', "32x32x3 -> 28x28x6",
                 hint="every one of the 3072 inputs connects to every one of the 4704 outputs, plus one bias per output")


def hidden_conv_vs_dense_parameters(conv_vs_dense_parameters, n_cases=12, seed=20):
    """Random layers against the parameter counts of real Keras Conv2D and Dense layers."""
    import keras

    rng = _rng(seed)
    for _ in range(n_cases):
        f, s, p = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        n_H, n_W = int(rng.integers(max(f, 2), 16)), int(rng.integers(max(f, 2), 16))
        n_C_prev, n_C = int(rng.integers(1, 5)), int(rng.integers(1, 9))
        x = keras.Input((n_H + 2 * p, n_W + 2 * p, n_C_prev))
        conv = keras.layers.Conv2D(n_C, f, strides=s)
        out = conv(x)
        n_out = int(np.prod(out.shape[1:]))
        dense = keras.layers.Dense(n_out)
        dense.build((None, n_H * n_W * n_C_prev))
        case = f"{n_H}x{n_W}x{n_C_prev}, {n_C} filters {f}x{f}, stride {s}, pad {p}"
        got = conv_vs_dense_parameters(n_H, n_W, n_C_prev, f, n_C, stride=s, pad=p)
        expect_equal(got.get("conv"), conv.count_params(), 'result["conv"]', case)
        expect_equal(got.get("dense"), dense.count_params(), 'result["dense"]', case)
