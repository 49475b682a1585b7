"""Checks of Chapter 1's graded functions.

public_*: small cases whose answers are exact, with hints at the likely mistake. They run in the
          student's notebook as they work.
hidden_*: random shapes, strides and paddings against independent oracles (tf.nn.conv2d,
          tf.nn.max_pool2d / avg_pool2d, TensorFlow's gradients, numerical gradients, Keras's own
          parameter counts). nbgrader hides their calls in the student's copy and runs them at grading.
Each function takes the student's function and raises CheckFailed on the first failure.

One mistake, one loss: a hidden check of a graded function that calls other graded functions (conv_forward calls
output_size, zero_pad and conv_single_step) runs it with the course's versions of those helpers swapped into its
namespace (core.reference_helpers), so a helper's mistake costs the helper's points only. Public checks run the
student's own chain, and when it fails but passes with the course's helpers, they say in which helper the mistake
starts. Hidden failures add a hint when what came back matches a known wrong formula.
"""

import numpy as np

from cnncourse.checks.core import (CheckFailed, PartialCredit, expect_close, expect_equal,  # noqa: F401
                                   expect_raises, expect_shape, expect_type, fail, likely_mistake,
                                   reference_helpers)  # PartialCredit: used as checks.PartialCredit by the grade cells
from cnncourse.ops import conv as _conv
from cnncourse.ops import pool as _pool
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


def _helpers(*names):
    """{name: the course's version} of Chapter 1's graded helpers, looked up now (see reference_helpers)."""
    modules = {"output_size": _conv, "zero_pad": _conv, "conv_single_step": _conv,
               "create_mask_from_window": _pool, "distribute_value": _pool}
    return {name: getattr(modules[name], name) for name in names}


CONV_HELPERS = ("output_size", "zero_pad", "conv_single_step")
POOL_BACKWARD_HELPERS = ("create_mask_from_window", "distribute_value")


def _starts_in_helper(fn, check, names):
    """When `check()` fails with the student's own helpers but passes with the course's, name the helpers.

    What it tries depends only on what `fn` returns, never on `fn`'s namespace: the judge (grading/judge.py) replays
    these calls from the kernel's record, with a stand-in that has no namespace.
    """
    helpers = _helpers(*names)

    def passes(**swapped):
        try:
            with reference_helpers(fn, **swapped):
                check()
        except Exception:  # noqa: BLE001 -- still wrong with these helpers
            return False
        return True

    if not passes(**helpers):
        return None
    alone = [n for n, h in helpers.items() if len(helpers) > 1 and passes(**{n: h})]
    used = alone or list(helpers)
    return (f"with the course's {', '.join(used)} in place this function gives the right answer: the mistake starts "
            f"in {' or '.join(used)}; fix that function first (its own check fails too)")


def _public_chain(fn, names, run):
    """Run the public cases `run()` on the student's chain. When they fail only because of a graded helper (they
    pass with the course's helpers in place), print the failure with a note naming the helper, and pass: one
    mistake, one loss (the helper's own grade cell loses the points). Otherwise the failure is raised."""
    try:
        run()
    except Exception as err:  # noqa: BLE001
        where = _starts_in_helper(fn, run, names)
        if where is None:
            raise
        text = str(err) if isinstance(err, CheckFailed) else f"{type(err).__name__}: {err}"
        print(f"NOTE: {text}\n  {where}. This cell keeps its points: the helper's own check is the one that fails.")


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

def _output_size_mistakes(n, f, p, s):
    """(hint, what the wrong formula gives) for the usual wrong output-size formulas."""
    return [
        ("looks like the + 1 is missing: floor((n + 2 * pad - f) / stride) + 1", (n + 2 * p - f) // s),
        ("looks like the padding was counted once: it is added on both sides, 2 * pad", (n + p - f) // s + 1),
        ("looks like the stride was ignored", n + 2 * p - f + 1),
        ("looks like the division was rounded up or to nearest: use floor division //", -(-(n + 2 * p - f) // s) + 1),
        ("looks like the padding was left out", (n - f) // s + 1 if n >= f else None),
        ("looks like true division /: use floor division // so the size is a whole number", (n + 2 * p - f) / s + 1),
        ("looks like a missing parenthesis: (n + 2 * pad - f) // stride, then + 1", n + 2 * p - f // s + 1),
    ]


def public_output_size(output_size):
    """Hand-worked sizes: (n, f, pad, stride) -> floor((n + 2p - f) / s) + 1.

    Separates: the + 1 forgotten, the padding counted once or not at all, the stride ignored (strides 1, 2 and 3),
    rounding up or to nearest instead of down ((8 + 2 - 3) / 2 = 3.5), a float instead of an int, and a window that
    exactly fills the input (one position).
    """
    cases = [((6, 3, 0, 1), 4), ((5, 3, 1, 1), 5), ((7, 3, 0, 2), 3), ((8, 3, 1, 2), 4), ((32, 5, 2, 3), 11),
             ((3, 3, 0, 1), 1)]
    for (n, f, p, s), want in cases:
        got = output_size(n, f, p, s)
        expect_type(got, (int, np.integer), "output_size", f"n={n}, f={f}, pad={p}, stride={s}",
                    hint="use floor division // so the size is an integer")
        expect_equal(got, want, "output_size", f"n={n}, f={f}, pad={p}, stride={s}",
                     hint="floor((n + 2 * pad - f) / stride) + 1: padding counts twice, and do not forget the + 1")


def hidden_output_size(output_size, n_cases=200, seed=11):
    """Random sizes against the length of the sliding-window axis that numpy computes; then the boundaries: a window
    that exactly fills the padded input, a stride larger than the input, a 1x1 window."""
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        f, p, s = int(rng.integers(1, 8)), int(rng.integers(0, 4)), int(rng.integers(1, 5))
        cases.append((int(rng.integers(max(1, f - 2 * p), 40)), f, p, s))
    cases += [(3, 3, 0, 1), (1, 3, 1, 1), (1, 3, 1, 2), (4, 5, 1, 3), (5, 1, 0, 7), (9, 1, 0, 2), (10, 4, 0, 3)]
    for n, f, p, s in cases:
        padded = np.zeros(n + 2 * p)
        want = np.lib.stride_tricks.sliding_window_view(padded, f)[::s].shape[0]
        got = output_size(n, f, p, s)
        if got != want:
            hint = likely_mistake(got, [(h, w) for h, w in _output_size_mistakes(n, f, p, s) if w is not None])
            expect_equal(got, want, "output_size", f"n={n}, f={f}, pad={p}, stride={s}", hint=hint)


# --- zero_pad -----------------------------------------------------------------------------------

def public_zero_pad(zero_pad):
    """Shape, zero border and untouched interior on a small batch with height != width (3 x 5).

    Separates: padding the batch or channel axes, padding one side only, height and width swapped, a border that is
    not zero (mode="edge"), and pad = 0 (an `X_pad[:, pad:-pad]` slice is empty there).
    """
    rng = _rng(1)
    X = rng.standard_normal((4, 3, 5, 2))
    for pad in (1, 2):
        X_pad = zero_pad(X, pad)
        expect_shape(X_pad, (4, 3 + 2 * pad, 5 + 2 * pad, 2), "zero_pad(X, pad)", f"X {X.shape}, pad {pad}",
                     hint="pad only the height and width (axes 1 and 2), by `pad` on each side")
        expect_close(X_pad[:, pad:-pad, pad:-pad, :], X, "the inside of X_pad", f"pad {pad}",
                     hint="the original values should sit unchanged in the middle")
        border = X_pad.copy()
        border[:, pad:-pad, pad:-pad, :] = 0
        expect_close(border, np.zeros_like(border), "the border of X_pad", f"pad {pad}",
                     hint="pad with zeros (np.pad's mode='constant', constant_values=0)")
    expect_close(zero_pad(X, 0), X, "zero_pad(X, 0)", f"X {X.shape}, pad 0",
                 hint="pad 0 returns X unchanged; a slice [pad:-pad] is empty when pad is 0, use [pad:pad + n_H]")


def _zero_pad_mistakes(X, pad):
    return [
        ("looks like every axis was padded, the batch and channel axes too", lambda: np.pad(X, pad)),
        ("looks like only one side of each axis was padded (2 * pad at the end)",
         lambda: np.pad(X, ((0, 0), (0, 2 * pad), (0, 2 * pad), (0, 0)))),
        ("the border is not zero: pad with zeros (mode='constant')",
         lambda: np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")),
        ("looks like height and width were swapped", lambda: np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
         .transpose(0, 2, 1, 3)),
    ]


def hidden_zero_pad(zero_pad, n_cases=20, seed=12):
    """Random shapes and pads against tf.pad; then pad 0, a batch of one 1x1 image, and a float32 batch."""
    tf = _tf()
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        X = rng.standard_normal(tuple(int(v) for v in rng.integers(1, 6, size=4)))
        cases.append((X, int(rng.integers(0, 4))))
    cases += [(rng.standard_normal((2, 3, 4, 2)), 0), (rng.standard_normal((1, 1, 1, 1)), 2),
              (rng.standard_normal((1, 2, 5, 3)).astype(np.float32), 1)]
    for X, pad in cases:
        original = X.copy()
        got = zero_pad(X, pad)
        want = tf.pad(original, [[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy()
        expect_close(got, want, "zero_pad", f"X {X.shape}, pad {pad}",
                     hint=likely_mistake(got, _zero_pad_mistakes(X, pad)))


# --- conv_single_step ---------------------------------------------------------------------------

def public_conv_single_step(conv_single_step):
    """One 3x3x4 slice against the sum of the product plus the bias, then a 1x1x1 slice.

    Separates: the bias missing, the bias added to every element, the mean instead of the sum, an array returned
    instead of a number, the filter flipped (a true convolution), and a sum over one axis only.
    """
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
                 hint=likely_mistake(got, _conv_single_step_mistakes(a, W, b))
                 or "multiply element-wise (*), sum everything, then add the bias")
    a1, W1, b1 = np.array([[[2.0]]]), np.array([[[-3.0]]]), np.array([[[0.5]]])
    expect_close(conv_single_step(a1, W1, b1), -5.5, "conv_single_step", "a 1x1x1 slice: 2 * -3 + 0.5",
                 hint="multiply element-wise (*), sum everything, then add the bias")


def _conv_single_step_mistakes(a, W, b):
    return [
        ("looks like the bias is missing", (a * W).sum()),
        ("looks like the bias was added to every element before the sum: add it once", (a * W + b.item()).sum()),
        ("looks like the mean was taken instead of the sum", (a * W).mean() + b.item()),
        ("looks like the filter was flipped: multiply element-wise, position by position",
         (a * W[::-1, ::-1]).sum() + b.item()),
    ]


def hidden_conv_single_step(conv_single_step, n_cases=20, seed=13):
    """Random slices against a tf.nn.conv2d of a window of exactly the filter's size; then a 1x1x1 slice."""
    tf = _tf()
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        f, c = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        cases.append((rng.standard_normal((f, f, c)), rng.standard_normal((f, f, c)), rng.standard_normal((1, 1, 1))))
    cases.append((rng.standard_normal((1, 1, 1)), rng.standard_normal((1, 1, 1)), rng.standard_normal((1, 1, 1))))
    for a, W, b in cases:
        originals = a.copy(), W.copy(), b.copy()
        got = conv_single_step(a, W, b)
        a0, W0, b0 = originals
        want = tf.nn.conv2d(a0[None], W0[..., None], 1, "VALID").numpy().item() + b0.item()
        expect_type(got, (float, np.floating), "conv_single_step", f"slice {a.shape}",
                    hint="return a number (float(...)), not an array")
        expect_close(got, want, "conv_single_step", f"slice {a.shape}",
                     hint=likely_mistake(got, _conv_single_step_mistakes(a, W, b)))


# --- conv_forward -------------------------------------------------------------------------------

def _conv_forward_mistakes(A, W, b, stride, pad):
    return [
        ("looks like the bias is missing", lambda: _conv_oracle_numpy(A, W, np.zeros_like(b), stride, pad)),
        ("looks like stride was ignored (the window starts at h, not h * stride)",
         lambda: _conv_oracle_numpy(A, W, b, 1, pad)[:, :_conv.output_size(A.shape[1], W.shape[0], pad, stride),
                                                     :_conv.output_size(A.shape[2], W.shape[0], pad, stride)]),
        ("looks like the filter was flipped: conv_forward computes a cross-correlation, W as it is",
         lambda: _conv_oracle_numpy(A, W[::-1, ::-1], b, stride, pad)),
        ("looks like the bias of filter 0 was used for every filter: use b[:, :, :, c]",
         lambda: _conv_oracle_numpy(A, W, np.full_like(b, b.reshape(-1)[0]), stride, pad)),
        ("looks like every example was computed from the first one: use A_prev_pad[i]",
         lambda: np.broadcast_to(_conv_oracle_numpy(A[:1], W, b, stride, pad),
                                 _conv_oracle_numpy(A, W, b, stride, pad).shape)),
    ]


def public_conv_forward(conv_forward):
    """Shapes for several strides and paddings, then values against an einsum formulation.

    A 5x7 input (height != width) with 4 channels, a batch of 2 and 8 filters, strides 1, 2 and 3, paddings 0, 1
    and 2. Separates: stride ignored, padding ignored, height and width swapped, the bias missing or the same for
    every filter, the filter flipped, one example reused for the batch, the cache missing. When the student's chain
    fails but passes with the course's output_size, zero_pad and conv_single_step, the failure says so.
    """
    def run():
        rng = _rng(3)
        A = rng.standard_normal((2, 5, 7, 4))
        W = rng.standard_normal((3, 3, 4, 8))
        b = rng.standard_normal((1, 1, 1, 8))
        for stride, pad, shape in ((1, 0, (2, 3, 5, 8)), (1, 1, (2, 5, 7, 8)), (2, 1, (2, 3, 4, 8)),
                                   (3, 2, (2, 3, 3, 8))):
            case = f"A_prev {A.shape}, W {W.shape}, stride {stride}, pad {pad}"
            out = conv_forward(A, W, b, {"stride": stride, "pad": pad})
            if not (isinstance(out, tuple) and len(out) == 2):
                fail(f"conv_forward: expected the pair (Z, cache), got {type(out).__name__}", case,
                     hint="return Z, cache")
            Z, cache = out
            expect_shape(Z, shape, "Z", case, hint="n_H = floor((n_H_prev + 2 * pad - f) / stride) + 1, same for n_W")
            want = _conv_oracle_numpy(A, W, b, stride, pad)
            if stride > 1 and np.allclose(Z.sum(), _conv_oracle_numpy(A, W, b, 1, pad).sum()):
                fail("Z: the values are those of stride 1", case, hint="the window starts at h * stride and w * stride")
            expect_close(Z, want, "Z", case,
                         hint=likely_mistake(Z, _conv_forward_mistakes(A, W, b, stride, pad)) or
                         "slice a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] and use W[..., c], b[..., c]")
            if not (isinstance(cache, tuple) and len(cache) == 4):
                fail("cache: expected the tuple (A_prev, W, b, hparams)", case)

    _public_chain(conv_forward, CONV_HELPERS, run)


def hidden_conv_forward(conv_forward, n_cases=25, seed=14):
    """Random shapes, strides and paddings against tf.nn.conv2d (explicit padding); then a batch of one with a
    single window, a 1x1 filter with stride 2, and stride 0 refused. Runs with the course's output_size, zero_pad
    and conv_single_step in conv_forward's namespace (one mistake, one loss)."""
    tf = _tf()
    rng = _rng(seed)
    cases = [_random_conv_case(rng) for _ in range(n_cases)]
    A_last, W_last, b_last, _, _ = _random_conv_case(rng)
    for shape_A, shape_W, hp in (((1, 3, 3, 2), (3, 3, 2, 3), {"stride": 1, "pad": 0}),
                                 ((1, 4, 6, 3), (1, 1, 3, 2), {"stride": 2, "pad": 0}),
                                 ((2, 2, 3, 1), (3, 3, 1, 2), {"stride": 2, "pad": 1})):
        A, W = rng.standard_normal(shape_A), rng.standard_normal(shape_W)
        b = rng.standard_normal((1, 1, 1, shape_W[3]))
        cases.append((A, W, b, hp, f"A_prev {A.shape}, W {W.shape}, stride {hp['stride']}, pad {hp['pad']}"))
    with reference_helpers(conv_forward, **_helpers(*CONV_HELPERS)):
        for A, W, b, hp, case in cases:
            p = hp["pad"]
            want = tf.nn.conv2d(A, W, hp["stride"], [[0, 0], [p, p], [p, p], [0, 0]]).numpy() + b.reshape(-1)
            out = conv_forward(A, W, b, hp)
            if not (isinstance(out, tuple) and len(out) == 2):
                fail(f"conv_forward: expected the pair (Z, cache), got {type(out).__name__}", case)
            Z = out[0]
            expect_close(Z, want, "Z", case, hint=likely_mistake(Z, _conv_forward_mistakes(A, W, b, hp["stride"], p)))
        expect_raises(lambda: conv_forward(A_last, W_last, b_last, {"stride": 0, "pad": 0}), Exception,
                      "stride 0 must be refused", "hparams {'stride': 0}")


# --- conv_backward ------------------------------------------------------------------------------

def _conv_backward_grads(conv_backward, A, W, b, hp, dZ):
    dA, dW, db = conv_backward(dZ, (A, W, b, hp))
    return dA, dW, db


def public_conv_backward(conv_backward, conv_forward_reference=None, grads=("dA_prev", "dW", "db")):
    """Numerical gradients on one small case (float64); relative error must be below 1e-7.

    grads: which of the three gradients to check (the grade cell gives a point to each).
    A 4x5 input (height != width), 3 channels, a batch of 2, two filters; stride 1 with pad 1, stride 2 with pad 1,
    and stride 1 with pad 0. Separates: overwriting (=) instead of adding (+=) where windows overlap, the stride
    ignored, the padding not stripped from dA_prev, a `[pad:-pad]` strip (empty at pad 0), slices of the unpadded
    A_prev in dW, db averaged instead of summed. When the student's chain fails but passes with the course's
    zero_pad, the failure says so.
    """
    def run():
        rng = _rng(4)
        A = rng.standard_normal((2, 4, 5, 3))
        W = rng.standard_normal((3, 3, 3, 2))
        b = rng.standard_normal((1, 1, 1, 2))
        for hp in ({"stride": 1, "pad": 1}, {"stride": 2, "pad": 1}, {"stride": 1, "pad": 0}):
            case = f"A_prev {A.shape}, W {W.shape}, stride {hp['stride']}, pad {hp['pad']}"
            forward = lambda A_, W_, b_: _conv_oracle_numpy(A_, W_, b_, hp["stride"], hp["pad"])  # noqa: E731
            dZ = rng.standard_normal(forward(A, W, b).shape)
            dA, dW, db = _conv_backward_grads(conv_backward, A, W, b, hp, dZ)
            num = {
                "dA_prev": lambda: numerical_gradient(lambda x: forward(x, W, b), A.copy(), dZ),
                "dW": lambda: numerical_gradient(lambda x: forward(A, x, b), W.copy(), dZ),
                "db": lambda: numerical_gradient(lambda x: forward(A, W, x), b.copy(), dZ),
            }
            hints = {
                "dA_prev": "add W[:, :, :, c] * dZ[i, h, w, c] into the padded window, then strip the padding",
                "dW": "add a_slice * dZ[i, h, w, c] into dW[:, :, :, c]",
                "db": "db[..., c] is the sum of dZ[..., c] over examples and positions",
            }
            for name, got in (("dA_prev", dA), ("dW", dW), ("db", db)):
                if name not in grads:
                    continue
                want = num[name]()
                expect_shape(got, want.shape, name, case, hint=f"{name} has the shape of what it is the gradient of")
                err = rel_error(got, want)
                if err > GRAD_TOLERANCE:
                    fail(f"{name}: relative error {err:.2e} against the numerical gradient (must be < 1e-7)",
                         case, hint=hints[name])

    _public_chain(conv_backward, ("zero_pad",), run)


def _conv_backward_mistakes(name, A, W, dZ, hp, want):
    f, s, p = W.shape[0], hp["stride"], hp["pad"]
    m, n_H, n_W, n_C = dZ.shape
    A_pad = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
    last = A_pad[m - 1, (n_H - 1) * s:(n_H - 1) * s + f, (n_W - 1) * s:(n_W - 1) * s + f, :]
    if name == "db":
        return [("looks like db was overwritten (=) instead of added up (+=)", dZ[-1, -1, -1, :].reshape(1, 1, 1, -1)),
                ("looks like db was averaged: it is the SUM of dZ over examples and positions", want / (m * n_H * n_W)),
                ("looks like db was summed over examples only", lambda: dZ.sum(axis=0)[None, :1, :1] * 0 + want / m)]
    if name == "dW":
        return [("looks like dW was overwritten (=) instead of added up (+=)",
                 lambda: last[..., None] * dZ[m - 1, n_H - 1, n_W - 1, :]),
                ("looks like dW was not summed over the batch (only the last example counts)",
                 lambda: np.einsum("hwijc,hwn->ijcn", np.lib.stride_tricks.sliding_window_view(
                     A_pad[m - 1], (f, f), axis=(0, 1))[::s, ::s].transpose(0, 1, 3, 4, 2), dZ[m - 1]))]
    return [("looks like the padding was not stripped from dA_prev", lambda: _conv_dA_pad(W, dZ, A_pad.shape, s)),
            ("looks like dA_prev was divided or averaged over the filters", want / n_C)]


def _conv_dA_pad(W, dZ, padded_shape, s):
    f = W.shape[0]
    out = np.zeros(padded_shape)
    for h in range(dZ.shape[1]):
        for w in range(dZ.shape[2]):
            out[:, h * s:h * s + f, w * s:w * s + f, :] += np.einsum("ijcn,mn->mijc", W, dZ[:, h, w, :])
    return out


def hidden_conv_backward(conv_backward, n_cases=15, seed=15, grads=("dA_prev", "dW", "db")):
    """Random shapes, strides and paddings against TensorFlow's gradients of tf.nn.conv2d (the gradients `grads`);
    then a batch of one with a single window and pad 0, and stride 2 with pad 2. Runs with the course's zero_pad
    and output_size in conv_backward's namespace (one mistake, one loss)."""
    tf = _tf()
    rng = _rng(seed)
    cases = [_random_conv_case(rng)[:4] for _ in range(n_cases)]
    for shape_A, shape_W, hp in (((1, 3, 3, 2), (3, 3, 2, 2), {"stride": 1, "pad": 0}),
                                 ((2, 3, 5, 2), (2, 2, 2, 3), {"stride": 2, "pad": 2})):
        cases.append((rng.standard_normal(shape_A), rng.standard_normal(shape_W),
                      rng.standard_normal((1, 1, 1, shape_W[3])), hp))
    with reference_helpers(conv_backward, **_helpers("zero_pad", "output_size")):
        for A, W, b, hp in cases:
            case = f"A_prev {A.shape}, W {W.shape}, stride {hp['stride']}, pad {hp['pad']}"
            p = hp["pad"]
            tA, tW, tb = (tf.constant(x) for x in (A, W, b))
            with tf.GradientTape() as tape:
                tape.watch([tA, tW, tb])
                Z = tf.nn.conv2d(tA, tW, hp["stride"], [[0, 0], [p, p], [p, p], [0, 0]]) + tb
                dZ = tf.constant(rng.standard_normal(Z.shape))
                loss = tf.reduce_sum(Z * dZ)
            got = conv_backward(dZ.numpy(), (A, W, b, hp))
            want = [g.numpy() for g in tape.gradient(loss, [tA, tW, tb])]
            for name, g, w in zip(("dA_prev", "dW", "db"), got, want):
                if name in grads:
                    expect_close(g, w, name, case, rtol=1e-7, atol=1e-9,
                                 hint=likely_mistake(g, _conv_backward_mistakes(name, A, W, dZ.numpy(), hp, w)))


# --- pooling ------------------------------------------------------------------------------------

def _pool_forward_mistakes(A, f, s, mode):
    other = "average" if mode == "max" else "max"
    n_H, n_W = (A.shape[1] - f) // s + 1, (A.shape[2] - f) // s + 1
    return [
        (f"looks like mode {other!r} was computed where {mode!r} was asked for",
         lambda: _pool_oracle_numpy(A, f, s, other)),
        ("looks like stride was ignored (the window starts at h, not h * stride)",
         lambda: _pool_oracle_numpy(A, f, 1, mode)[:, :n_H, :n_W]),
        ("looks like the window moved by f, not by stride", lambda: _pool_oracle_numpy(A, f, f, mode)),
        ("looks like height and width were swapped",
         lambda: _pool_oracle_numpy(A.transpose(0, 2, 1, 3), f, s, mode).transpose(0, 2, 1, 3)),
        ("looks like the pooling mixed the channels: pool each channel c on its own",
         lambda: np.broadcast_to(_pool_oracle_numpy(A, f, s, mode).max(axis=3, keepdims=True) if mode == "max"
                                 else _pool_oracle_numpy(A, f, s, mode).mean(axis=3, keepdims=True),
                                 (A.shape[0], n_H, n_W, A.shape[3]))),
    ]


def public_pool_forward(pool_forward):
    """A 4x4 ramp whose maxima and means are worked out by hand, channel independence, then a 5x7 input with a 3x3
    window and stride 2, and with a 2x2 window and stride 1.

    Separates: max and average confused, the stride ignored, the window moved by f instead of stride (f == stride
    on the ramp, not on the 5x7 input), height and width swapped (5 != 7), channels pooled together.
    When the student's chain fails but passes with the course's output_size, the failure says so.
    """
    def run():
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
        expect_close(out[..., 1], [[[-0.0, -2.0], [-8.0, -10.0]]], "channel 1 of max pooling",
                     "channels 0..15 and 0..-15",
                     hint="pool each channel on its own: slice with c, do not take the max over channels")
        B = _rng(6).standard_normal((2, 5, 7, 2))
        for f, s in ((3, 2), (2, 1)):
            for mode in ("max", "average"):
                case = f"A_prev {B.shape}, f {f}, stride {s}"
                out, _ = pool_forward(B, {"f": f, "stride": s}, mode)
                expect_close(out, _pool_oracle_numpy(B, f, s, mode), f"pool_forward(mode={mode!r})", case,
                             hint=likely_mistake(out, _pool_forward_mistakes(B, f, s, mode))
                             or "n_H = floor((n_H_prev - f) / stride) + 1; the window starts at h * stride")

    _public_chain(pool_forward, ("output_size",), run)


def hidden_pool_forward(pool_forward, n_cases=25, seed=16):
    """Random shapes, windows and strides against tf.nn.max_pool2d and tf.nn.avg_pool2d; then a single window, a
    batch of one 1x1 image, and a stride larger than the window. Runs with the course's output_size in
    pool_forward's namespace (one mistake, one loss)."""
    tf = _tf()
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        cases.append((rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(f, 9)), int(rng.integers(f, 9)),
                                           int(rng.integers(1, 4)))), f, s))
    cases += [(rng.standard_normal((1, 3, 3, 2)), 3, 1), (rng.standard_normal((1, 1, 1, 1)), 1, 1),
              (rng.standard_normal((2, 7, 5, 1)), 2, 3)]
    with reference_helpers(pool_forward, **_helpers("output_size")):
        for A, f, s in cases:
            for mode, op in (("max", tf.nn.max_pool2d), ("average", tf.nn.avg_pool2d)):
                want = op(A, f, s, "VALID").numpy()
                got, _ = pool_forward(A, {"f": f, "stride": s}, mode)
                expect_close(got, want, f"pool_forward(mode={mode!r})", f"A_prev {A.shape}, f {f}, stride {s}",
                             hint=likely_mistake(got, _pool_forward_mistakes(A, f, s, mode)))


def public_create_mask_from_window(create_mask_from_window):
    """The mask of the maximum of a 2x3 window worked out by hand, then a window whose maximum appears twice.

    Separates: > instead of == (all False), the maximum along one axis instead of the whole window, the minimum,
    and a one-hot mask at np.argmax (only the first of two equal maxima).
    """
    x = np.array([[1.0, -3.0, 4.0], [2.0, 0.5, -1.0]])
    got = create_mask_from_window(x)
    want = np.array([[False, False, True], [False, False, False]])
    expect_shape(got, want.shape, "mask", "x = [[1, -3, 4], [2, 0.5, -1]]")
    if not np.array_equal(np.asarray(got, dtype=bool), want):
        fail(f"mask: expected {want.tolist()}, got {np.asarray(got).tolist()}", "x = [[1, -3, 4], [2, 0.5, -1]]",
             hint=_mask_hint(x, got) or "True exactly where x equals np.max(x)")
    x = np.array([[3.0, -1.0], [0.0, 3.0]])
    got = create_mask_from_window(x)
    want = np.array([[True, False], [False, True]])
    if not np.array_equal(np.asarray(got, dtype=bool), want):
        fail(f"mask: expected {want.tolist()}, got {np.asarray(got).tolist()}", "x = [[3, -1], [0, 3]], a tie",
             hint=_mask_hint(x, got) or "True exactly where x equals np.max(x): every position of the maximum")


def _mask_hint(x, got):
    try:
        got = np.asarray(got, dtype=bool)
    except (TypeError, ValueError):
        return None
    if got.shape != x.shape:
        return "the mask has the shape of the window"
    if not got.any():
        return "nothing is True: compare with == (or >=) against np.max(x), not >"
    if np.array_equal(got, x == np.min(x)):
        return "the mask marks the minimum: use np.max(x)"
    if np.array_equal(got, x == np.max(x, axis=0)) or np.array_equal(got, x == np.max(x, axis=1, keepdims=True)):
        return "the maximum was taken along one axis: use np.max(x) over the whole window"
    if got.sum() == 1 and (x == np.max(x)).sum() > 1 and got[x == np.max(x)].any():
        return "when the maximum appears more than once, every position that equals it is True (not only argmax)"
    return None


def hidden_create_mask_from_window(create_mask_from_window, n_cases=30, seed=17):
    """Random windows: exactly one True, at np.argmax; then the boundaries: a 1x1 window, a constant window, a tie
    between two maxima, negative values only, and an integer window. The course's validator refused integer windows
    until issue 26 and sits above the solution region, so a cell from an older release may refuse it ("must have a
    floating dtype"): that is the course's line, not the student's mistake, and it costs nothing."""
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        cases.append(rng.standard_normal((int(rng.integers(1, 5)), int(rng.integers(1, 5)))))
    cases += [np.array([[0.7]]), np.full((2, 3), -1.5), np.array([[1.0, 2.0, 0.0], [2.0, -4.0, 1.9]]),
              -np.abs(rng.standard_normal((3, 2))) - 1.0, np.array([[1, 5, 2], [5, 0, 3]], dtype=np.int64)]
    for x in cases:
        original = x.copy()
        try:
            got = create_mask_from_window(x)
        except ValueError as err:
            if not np.issubdtype(x.dtype, np.floating) and "must have a floating dtype" in str(err):
                continue  # the validator of an older release (see the docstring)
            raise
        expect_shape(got, x.shape, "mask", f"window {x.shape}")
        want = original == np.max(original)
        if not np.array_equal(np.asarray(got, dtype=bool), want):
            fail(f"mask: expected {want.tolist()}, got {np.asarray(got).tolist()}",
                 f"window {x.shape}, dtype {x.dtype}", hint=_mask_hint(x, got))


def public_distribute_value(distribute_value):
    """dz = 2 over a 2x2 window gives 0.5 everywhere; dz = 3 over a 2x3 window gives 0.5 everywhere.

    Separates: dividing by n_H + n_W (the same as n_H * n_W for 2x2 only), by n_H or n_W alone, not dividing,
    height and width swapped (2x3), and integer division.
    """
    got = distribute_value(2.0, (2, 2))
    expect_close(got, np.full((2, 2), 0.5), "distribute_value(2, (2, 2))", "dz=2, shape (2, 2)",
                 hint="each of the n_H * n_W entries receives dz / (n_H * n_W)")
    got = distribute_value(3.0, (2, 3))
    expect_close(got, np.full((2, 3), 0.5), "distribute_value(3, (2, 3))", "dz=3, shape (2, 3)",
                 hint=_distribute_hint(3.0, (2, 3), got) or "each of the n_H * n_W entries receives dz / (n_H * n_W)")


def _distribute_hint(dz, shape, got):
    n_H, n_W = shape
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got.shape == (n_W, n_H) and got.shape != tuple(shape):
        return "the shape is swapped: np.ones(shape), with shape = (n_H, n_W)"
    if got.shape != tuple(shape):
        return None
    for hint, wrong in (("looks like the gradient was divided by n_H + n_W: divide by n_H * n_W", dz / (n_H + n_W)),
                        ("looks like the gradient was not divided: divide by n_H * n_W", dz),
                        ("looks like the gradient was divided by n_H only: divide by n_H * n_W", dz / n_H),
                        ("looks like the gradient was divided by n_W only: divide by n_H * n_W", dz / n_W),
                        ("looks like the gradient was multiplied by n_H * n_W: divide", dz * n_H * n_W),
                        ("looks like integer division //: use /", dz // (n_H * n_W))):
        if np.allclose(got, wrong):
            return hint
    return None


def hidden_distribute_value(distribute_value, n_cases=20, seed=18):
    """Random values and shapes: constant, and sums back to dz; then a 1x1 window, dz = 0, a 1xN row and an
    integer dz."""
    rng = _rng(seed)
    cases = [(float(rng.standard_normal()), (int(rng.integers(1, 6)), int(rng.integers(1, 6)))) for _ in range(n_cases)]
    cases += [(1.25, (1, 1)), (0.0, (3, 2)), (-2.0, (1, 4)), (3, (2, 3))]
    for dz, shape in cases:
        case = f"dz={dz:.3f}, shape {shape}"
        got = distribute_value(dz, shape)
        hint = _distribute_hint(dz, shape, got)
        expect_shape(got, shape, "distribute_value", case, hint=hint)
        expect_close(np.sum(got), dz, "sum of the distributed values", case, hint=hint)
        expect_close(got, np.full(shape, np.mean(got)), "distributed values", case, hint=hint)


def _pool_backward_numpy(A, dA, f, s, mode, accumulate=True, divisor=None, mask=None):
    """pool_backward by loops, with switches for the usual mistakes (overwrite, another divisor, another mask)."""
    out = np.zeros(A.shape)
    divisor = f * f if divisor is None else divisor
    for i in range(dA.shape[0]):
        for h in range(dA.shape[1]):
            for w in range(dA.shape[2]):
                for c in range(dA.shape[3]):
                    window = A[i, h * s:h * s + f, w * s:w * s + f, c]
                    if mode == "max":
                        part = (mask or (lambda x: x == x.max()))(window) * dA[i, h, w, c]
                    else:
                        part = np.full(window.shape, dA[i, h, w, c] / divisor)
                    if accumulate:
                        out[i, h * s:h * s + f, w * s:w * s + f, c] += part
                    else:
                        out[i, h * s:h * s + f, w * s:w * s + f, c] = part
    return out


def _pool_backward_mistakes(A, dA, f, s, mode):
    other = "average" if mode == "max" else "max"
    out = [
        ("looks like gradients of overlapping windows were overwritten (=) instead of added up (+=)",
         lambda: _pool_backward_numpy(A, dA, f, s, mode, accumulate=False)),
        (f"looks like the gradient of mode {other!r} was computed where {mode!r} was asked for",
         lambda: _pool_backward_numpy(A, dA, f, s, other)),
        ("looks like stride was ignored (the window starts at h, not h * stride)",
         lambda: _pool_backward_numpy(A, dA, f, 1, mode)),
    ]
    if mode == "average":
        out += [("looks like the gradient was divided by f + f (n_H + n_W): divide by f * f",
                 lambda: _pool_backward_numpy(A, dA, f, s, mode, divisor=2 * f)),
                ("looks like the gradient was not divided by the window's size f * f",
                 lambda: _pool_backward_numpy(A, dA, f, s, mode, divisor=1))]
    else:
        out += [("looks like the gradient went to every position of the window, not only to its maximum",
                 lambda: _pool_backward_numpy(A, dA, f, s, mode, mask=lambda x: np.ones_like(x))),
                ("looks like the gradient went to the minimum: the mask is x == np.max(x)",
                 lambda: _pool_backward_numpy(A, dA, f, s, mode, mask=lambda x: x == x.min()))]
    return out


def public_pool_backward(pool_backward):
    """Numerical gradients of both pooling modes on one small case; relative error below 1e-7.

    A 5x4 input (height != width), 2 channels, a batch of 2; a 2x2 window with strides 1 and 2, and a 3x3 window
    with stride 1. Separates: overwriting (=) instead of adding (+=) where windows overlap (stride 1), the stride
    ignored (stride 2), dividing by f + f instead of f * f (3x3 only: 2 + 2 == 2 * 2), max and average confused.
    When the student's chain fails but passes with the course's create_mask_from_window and distribute_value,
    the failure says so.
    """
    def run():
        rng = _rng(5)
        A = rng.standard_normal((2, 5, 4, 2))
        for mode in ("max", "average"):
            for hp in ({"f": 2, "stride": 1}, {"f": 2, "stride": 2}, {"f": 3, "stride": 1}):
                case = f"A_prev {A.shape}, mode {mode!r}, f {hp['f']}, stride {hp['stride']}"
                forward = lambda x: _pool_oracle_numpy(x, hp["f"], hp["stride"], mode)  # noqa: E731
                dA = rng.standard_normal(forward(A).shape)
                got = pool_backward(dA, (A, hp), mode)
                want = numerical_gradient(forward, A.copy(), dA)
                expect_shape(got, A.shape, "dA_prev", case, hint="dA_prev has the shape of A_prev")
                err = rel_error(got, want)
                if err > GRAD_TOLERANCE:
                    f = hp["f"]  # the average-pool gradient is linear in 1 / (f * f): other divisors scale it
                    scaled = [("looks like the gradient was divided by f + f (n_H + n_W): divide by f * f",
                               want * (f * f) / (f + f)),
                              ("looks like the gradient was not divided by the window's size f * f", want * f * f)]
                    hint = likely_mistake(got, scaled if mode == "average" else [], rtol=1e-5) or (
                        "route each gradient to the max of its window (mask * dA[i, h, w, c]) and ADD (+=): windows "
                        "can overlap" if mode == "max" else
                        "spread dA[i, h, w, c] evenly over its f x f window with +=")
                    fail(f"dA_prev: relative error {err:.2e} against the numerical gradient (must be < 1e-7)", case,
                         hint)

    _public_chain(pool_backward, POOL_BACKWARD_HELPERS, run)


def _pool_oracle_numpy(A, f, stride, mode):
    windows = np.lib.stride_tricks.sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))


def hidden_pool_backward(pool_backward, n_cases=15, seed=19):
    """Random shapes, windows and strides against TensorFlow's gradients of max_pool2d / avg_pool2d; then a single
    window, a 3x3 window with stride 1 on a non-square input, and a stride larger than the window. Runs with the
    course's create_mask_from_window and distribute_value in pool_backward's namespace (one mistake, one loss)."""
    tf = _tf()
    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        f, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        cases.append((rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(f, 8)), int(rng.integers(f, 8)),
                                           int(rng.integers(1, 3)))), f, s))
    cases += [(rng.standard_normal((1, 3, 3, 1)), 3, 1), (rng.standard_normal((1, 4, 6, 2)), 3, 1),
              (rng.standard_normal((2, 5, 7, 1)), 2, 3)]
    with reference_helpers(pool_backward, **_helpers(*POOL_BACKWARD_HELPERS)):
        for A, f, s in cases:
            for mode, op in (("max", tf.nn.max_pool2d), ("average", tf.nn.avg_pool2d)):
                tA = tf.constant(A)
                with tf.GradientTape() as tape:
                    tape.watch(tA)
                    out = op(tA, f, s, "VALID")
                    dA = tf.constant(rng.standard_normal(out.shape))
                    loss = tf.reduce_sum(out * dA)
                got = pool_backward(dA.numpy(), (A, {"f": f, "stride": s}), mode)
                want = tape.gradient(loss, tA).numpy()
                expect_close(got, want, "dA_prev", f"A_prev {A.shape}, mode {mode!r}, f {f}, stride {s}",
                             hint=likely_mistake(got, _pool_backward_mistakes(A, dA.numpy(), f, s, mode)))


# --- why convolutions: parameter counts ----------------------------------------------------------

def _counts_mistakes(n_H, n_W, n_C_prev, f, n_C, s, p):
    out_H, out_W = (n_H + 2 * p - f) // s + 1, (n_W + 2 * p - f) // s + 1
    n_in, n_out = n_H * n_W * n_C_prev, out_H * out_W * n_C
    return {
        "conv": [("looks like the conv biases are missing: one per filter", f * f * n_C_prev * n_C),
                 ("looks like the input channels were left out: a filter has f * f * n_C_prev weights",
                  (f * f + 1) * n_C),
                 ("looks like one bias per weight: one per filter", 2 * f * f * n_C_prev * n_C)],
        "dense": [("looks like the dense biases are missing: one per output", n_in * n_out),
                  ("looks like stride and padding were ignored in the output size",
                   n_in * (n_H - f + 1) * (n_W - f + 1) * n_C + (n_H - f + 1) * (n_W - f + 1) * n_C),
                  ("looks like the output was taken as big as the input (n_H * n_W * n_C)",
                   n_in * n_H * n_W * n_C + n_H * n_W * n_C),
                  ("looks like one bias per input, not per output", n_in * n_out + n_in)],
    }


def public_conv_vs_dense_parameters(conv_vs_dense_parameters):
    """The lecture's example: 32x32x3 -> 28x28x6 with six 5x5 filters; then a 28x20x3 input with 5x5 filters,
    stride 2 and pad 2.

    Separates: a bias missing from either count, the input channels left out of a filter, the output taken as big
    as the input, and (second case) the stride or the padding ignored, the padding counted once, height and width
    mixed up (28 != 20). When the student's chain fails but passes with the course's output_size, it says so.
    """
    def run():
        got = conv_vs_dense_parameters(32, 32, 3, 5, 6)
        expect_type(got, dict, "conv_vs_dense_parameters", "32x32x3, six 5x5 filters")
        expect_equal(got.get("conv"), (5 * 5 * 3 + 1) * 6, 'result["conv"]', "32x32x3, six 5x5 filters",
                     hint="each filter has f * f * n_C_prev weights and one bias")
        expect_equal(got.get("dense"), 3072 * 4704 + 4704, 'result["dense"]', "32x32x3 -> 28x28x6",
                     hint="every one of the 3072 inputs connects to every one of the 4704 outputs, plus one bias "
                          "per output")
        got = conv_vs_dense_parameters(28, 20, 3, 5, 8, stride=2, pad=2)
        case = "28x20x3, eight 5x5 filters, stride 2, pad 2 -> 14x10x8"
        expect_type(got, dict, "conv_vs_dense_parameters", case)
        expect_equal(got.get("conv"), (5 * 5 * 3 + 1) * 8, 'result["conv"]', case,
                     hint="each filter has f * f * n_C_prev weights and one bias")
        expect_equal(got.get("dense"), 1680 * 1120 + 1120, 'result["dense"]', case,
                     hint=likely_mistake(got.get("dense"), _counts_mistakes(28, 20, 3, 5, 8, 2, 2)["dense"])
                     or "the output is output_size(n_H, f, pad, stride) x output_size(n_W, ...) x n_C = 1120 values")

    _public_chain(conv_vs_dense_parameters, ("output_size",), run)


def hidden_conv_vs_dense_parameters(conv_vs_dense_parameters, n_cases=12, seed=20):
    """Random layers against the parameter counts of real Keras Conv2D and Dense layers; then a 1x1 filter and a
    filter as big as the padded input (one output position). Runs with the course's output_size in the function's
    namespace (one mistake, one loss)."""
    import keras

    rng = _rng(seed)
    cases = []
    for _ in range(n_cases):
        f, s, p = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        n_H, n_W = int(rng.integers(max(f, 2), 16)), int(rng.integers(max(f, 2), 16))
        cases.append((n_H, n_W, int(rng.integers(1, 5)), f, int(rng.integers(1, 9)), s, p))
    cases += [(5, 7, 2, 1, 3, 1, 0), (4, 4, 1, 6, 2, 3, 1)]
    with reference_helpers(conv_vs_dense_parameters, **_helpers("output_size")):
        for n_H, n_W, n_C_prev, f, n_C, s, p in cases:
            x = keras.Input((n_H + 2 * p, n_W + 2 * p, n_C_prev))
            conv = keras.layers.Conv2D(n_C, f, strides=s, kernel_initializer="zeros")  # counted, never run
            out = conv(x)
            n_out = int(np.prod(out.shape[1:]))
            dense = keras.layers.Dense(n_out, kernel_initializer="zeros")
            dense.build((None, n_H * n_W * n_C_prev))
            case = f"{n_H}x{n_W}x{n_C_prev}, {n_C} filters {f}x{f}, stride {s}, pad {p}"
            got = conv_vs_dense_parameters(n_H, n_W, n_C_prev, f, n_C, stride=s, pad=p)
            mistakes = _counts_mistakes(n_H, n_W, n_C_prev, f, n_C, s, p)
            expect_equal(got.get("conv"), conv.count_params(), 'result["conv"]', case,
                         hint=likely_mistake(got.get("conv"), mistakes["conv"]))
            expect_equal(got.get("dense"), dense.count_params(), 'result["dense"]', case,
                         hint=likely_mistake(got.get("dense"), mistakes["dense"]))
