"""Checks of Chapter 4's graded functions (semantic segmentation).

Sections of this file:
    transpose convolution  transpose_output_size, conv_transpose_forward. Public: the lecture's example (a 2x2
                           input, a 3x3 filter, stride 2) worked by hand, and a stride-1 case whose numbers show
                           every overlap. Hidden: random shapes, strides 1-3 and pads 0-2 against
                           tf.nn.conv2d_transpose (padding "VALID" on the full canvas, then the crop) and against
                           keras.layers.Conv2DTranspose where its "valid" / "same" paddings apply.
    mean IoU               mean_iou. Public: a 4x4 case with exact fractions, absent classes, a batch.
                           Hidden: random masks against a brute-force count by Python loops over the pixels.
    (U-Net checks follow in their own section.)
One mistake, one loss: conv_transpose_forward may call transpose_output_size. Its hidden test runs it with the
course's transpose_output_size swapped into the notebook's namespace (core.reference_helpers); its public check runs
the student's own and, when it fails only because of it, prints where the mistake starts and passes.
Hidden failures name the likely mistake (core.likely_mistake) when what came back matches a known wrong formula.
public_*: small exact cases with hints at the likely mistake; they run in the student's notebook.
hidden_*: random cases against independent oracles; nbgrader hides their calls and runs them at grading.
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import numpy as np

from cnncourse.checks.core import (
    CheckFailed,
    expect_close,
    expect_equal,
    expect_raises,
    expect_shape,
    expect_type,
    fail,
    likely_mistake,
    reference_helpers,
)


def _rng(seed):
    return np.random.default_rng(seed)


def _tf():
    import tensorflow as tf  # imported late: the numpy checks should not pay for it

    return tf


def _call(fn, args, what, case, hint=None):
    """fn(*args); an exception becomes a failed check that names the case."""
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong, and where
        fail(f"{what} raised {type(err).__name__}: {err} (expected a result for this case)", case, hint)


# =====================================================================================================
# Transpose convolution
# =====================================================================================================

# The lecture's example: input [[1, 2], [3, 4]], filter 1..9, stride 2. Worked by hand: pixel (h, w) lays
# x[h, w] * W on the canvas at rows 2h..2h+2, columns 2w..2w+2; e.g. canvas[2, 2] gets W[2, 2] * 1 + W[2, 0] * 2
# + W[0, 2] * 3 + W[0, 0] * 4 = 9 + 14 + 9 + 4 = 36, the one cell that all four scaled filters cover.
LECTURE_INPUT = np.array([[1.0, 2.0], [3.0, 4.0]])
LECTURE_FILTER = np.arange(1.0, 10.0).reshape(3, 3)
LECTURE_CANVAS = np.array([  # pad 0: the full (2 - 1) * 2 + 3 = 5 canvas
    [1.0, 2.0, 5.0, 4.0, 6.0],
    [4.0, 5.0, 14.0, 10.0, 12.0],
    [10.0, 14.0, 36.0, 24.0, 30.0],
    [12.0, 15.0, 34.0, 20.0, 24.0],
    [21.0, 24.0, 55.0, 32.0, 36.0],
])
# The lecture draws the output of "padding 1" as 4x4: the canvas without its first row and column only (PyTorch
# calls this padding=1, output_padding=1). The course's pad crops every side: pad 1 gives the 3x3 centre.
LECTURE_OUTPUT_4X4 = np.array([[5.0, 14.0, 10.0, 12.0], [14.0, 36.0, 24.0, 30.0], [15.0, 34.0, 20.0, 24.0],
                               [24.0, 55.0, 32.0, 36.0]])
LECTURE_PAD_1 = np.array([[5.0, 14.0, 10.0], [14.0, 36.0, 24.0], [15.0, 34.0, 20.0]])
# Stride 1, a 2x2 filter whose entries are powers of ten: each output digit tells which pixel put it there.
STRIDE_1_INPUT = np.array([[1.0, 2.0], [3.0, 4.0]])
STRIDE_1_FILTER = np.array([[1.0, 10.0], [100.0, 1000.0]])
STRIDE_1_OUTPUT = np.array([[1.0, 12.0, 20.0], [103.0, 1234.0, 2040.0], [300.0, 3400.0, 4000.0]])


def _by_output_pixel(A, W, stride, pad, overwrite=False):
    """Oracle written the other way round: each output pixel sums, over the input pixels whose filter covers it,
    A[:, h, w, :] @ W[r - h * stride, c - w * stride] (with overwrite=True, the last one only: a typical mistake)."""
    m, n_H_prev, n_W_prev, _ = A.shape
    f, n_C = W.shape[0], W.shape[3]
    n_H, n_W = ((n - 1) * stride + f - 2 * pad for n in (n_H_prev, n_W_prev))
    Z = np.zeros((m, n_H, n_W, n_C))
    for r in range(n_H):
        for c in range(n_W):
            for h in range(n_H_prev):
                for w in range(n_W_prev):
                    a, k = r + pad - h * stride, c + pad - w * stride
                    if 0 <= a < f and 0 <= k < f:
                        term = A[:, h, w, :] @ W[a, k]
                        Z[:, r, c, :] = term if overwrite else Z[:, r, c, :] + term
    return Z


def _one_channel(x, W):
    return x[np.newaxis, :, :, np.newaxis], W[:, :, np.newaxis, np.newaxis], np.zeros(1)


# --- output size -------------------------------------------------------------------------------------

def public_transpose_output_size(transpose_output_size):
    """Hand-worked sizes: (n_prev, f, stride, pad) -> (n_prev - 1) * stride + f - 2 * pad."""
    cases = [((2, 3, 2, 0), 5), ((2, 3, 2, 1), 3), ((2, 2, 1, 0), 3), ((4, 4, 2, 1), 8), ((3, 3, 1, 1), 3),
             ((5, 2, 3, 0), 14), ((7, 3, 2, 2), 11)]
    for (n, f, s, p), want in cases:
        case = f"n_prev={n}, f={f}, stride={s}, pad={p}"
        got = _call(transpose_output_size, (n, f, s, p), "transpose_output_size", case)
        expect_type(got, (int, np.integer), "transpose_output_size", case, hint="return an int")
        expect_equal(got, want, "transpose_output_size", case,
                     hint="the last input pixel's filter starts at (n_prev - 1) * stride and is f wide; then "
                          "pad is cropped from BOTH sides: (n_prev - 1) * stride + f - 2 * pad")


def hidden_transpose_output_size(transpose_output_size, n_cases=200, seed=41):
    """Random sizes against the smallest n whose convolution (f, stride, pad) gives back n_prev pixels; a pad that
    crops the whole canvas must raise ValueError."""
    rng = _rng(seed)
    for _ in range(n_cases):
        f, s, p = int(rng.integers(1, 7)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        n_prev = int(rng.integers(1, 20))
        sizes = [n for n in range(0, n_prev * s + f + 1) if n + 2 * p >= f and (n + 2 * p - f) // s + 1 == n_prev]
        if not sizes or sizes[0] == 0:  # the crop leaves nothing: the function must refuse
            expect_raises(lambda: transpose_output_size(n_prev, f, s, p), ValueError, "a pad that crops everything",
                          f"n_prev={n_prev}, f={f}, stride={s}, pad={p}")
            continue
        case = f"n_prev={n_prev}, f={f}, stride={s}, pad={p}"
        got = _call(transpose_output_size, (n_prev, f, s, p), "transpose_output_size", case)
        expect_type(got, (int, np.integer), "transpose_output_size", case,
                    hint="return an int (a float such as 5.0 is not a size: use // or int arithmetic)")
        expect_equal(got, sizes[0], "transpose_output_size", case,
                     hint=_size_hint(got, sizes[0], n_prev, f, s, p))
    expect_raises(lambda: transpose_output_size(1, 1, 1, 1), ValueError, "a pad that crops everything",
                  "n_prev=1, f=1, stride=1, pad=1")


def _size_hint(got, want, n_prev, f, stride, pad):
    """The hint of the wrong size formulas that give `got` (and not the right size), or None."""
    if got == want:
        return None
    candidates = [
        ("looks like pad was not cropped: subtract 2 * pad", (n_prev - 1) * stride + f),
        ("looks like pad was cropped from one side only: subtract 2 * pad", (n_prev - 1) * stride + f - pad),
        ("looks like stride * n_prev: the last input pixel's filter starts at (n_prev - 1) * stride and is f wide",
         stride * n_prev),
        ("looks like n_prev * stride + f - 2 * pad: the last input pixel is number n_prev - 1",
         n_prev * stride + f - 2 * pad),
        ("looks like the convolution's size (n_prev + 2 pad - f) // stride + 1; the transpose goes the other way",
         (n_prev + 2 * pad - f) // stride + 1),
    ]
    return likely_mistake(got, [(hint, wrong) for hint, wrong in candidates if wrong != want])


def _blame_size(check, conv_transpose_forward):
    """Run check(conv_transpose_forward) on the student's own chain. When it fails, run it again with the course's
    transpose_output_size in the notebook's namespace: if it passes then, the mistake starts there: the failure is
    printed with a note that says so, and the check passes (one mistake, one loss). Otherwise (or where the
    reference is a stub, in the student edition) the failure is raised as it was."""
    try:
        check(conv_transpose_forward)
    except CheckFailed as err:
        from cnncourse.ops import c4_transpose

        try:
            with reference_helpers(conv_transpose_forward, transpose_output_size=c4_transpose.transpose_output_size):
                check(conv_transpose_forward)
        except Exception:  # noqa: BLE001 - still wrong, or no reference to compare with
            raise err from None
        print(f"conv_transpose_forward: NOTE: {err}\n  With the course's transpose_output_size in place of yours, "
              "your conv_transpose_forward passes this check: the mistake is in your transpose_output_size, whose "
              "own check says what is wrong. This cell keeps its points; fix transpose_output_size first.")


# --- forward ---------------------------------------------------------------------------------------------

def _check_transpose_case(conv_transpose_forward, A, W, b, stride, pad, want, case):
    """Shape, then the typical mistakes by name, then the values. `want` is the expected Z (a public case's worked
    numbers) or the oracle, oracle(A, W, b, stride, pad), called on copies made before the student's function ran:
    a hidden case's answer does not exist while it runs (it could be read from the stack)."""
    originals = A.copy(), W.copy(), b.copy()
    Z = _call(conv_transpose_forward, (A, W, b, stride, pad), "conv_transpose_forward", case)
    A, W, b = originals
    if callable(want):
        want = want(A, W, b, stride, pad)
    n_H, n_W = want.shape[1:3]
    if getattr(Z, "shape", None) == (want.shape[0], n_H + 2 * pad, n_W + 2 * pad, want.shape[3]) and pad > 0:
        fail(f"Z: expected shape {want.shape}, got {Z.shape}, the full canvas", case,
             hint=f"crop pad={pad} rows and columns from every side of the full canvas: canvas[:, pad:pad + n_H, "
                  "pad:pad + n_W, :]")
    if getattr(Z, "shape", None) == (want.shape[0], n_H + pad, n_W + pad, want.shape[3]) and pad > 0:
        fail(f"Z: expected shape {want.shape}, got {Z.shape}, the canvas cropped on one side only", case,
             hint=f"crop pad={pad} from BOTH sides: the top and the bottom, the left and the right (the usual "
                  "4x4 drawing of stride 2, padding 1 crops only the top row and the left column)")
    expect_shape(Z, want.shape, "Z", case,
                 hint="the filter of input pixel (h, w) starts at row h * stride and column w * stride, so n_H = "
                      "(n_H_prev - 1) * stride + f - 2 * pad; check that you used the stride")
    bias = b.reshape(1, 1, 1, -1)
    mistakes = [
        (_by_output_pixel(A, W, stride, pad, overwrite=True) + bias, "the overlaps hold only the last scaled filter",
         "where two scaled filters overlap, ADD their numbers (+=) instead of overwriting them (=)"),
        (_by_output_pixel(A, W[::-1, ::-1], stride, pad) + bias, "these are the values of the filter turned by 180 "
         "degrees", "lay W as it is, W[0, 0] at the top-left of its region: no flip"),
        (want - bias, "the bias is missing", "add b (n_C,) to every output pixel, once, after the crop"),
    ]
    if W.shape[2] == W.shape[3]:
        mistakes.append((_by_output_pixel(A, W.transpose(0, 1, 3, 2), stride, pad) + bias,
                         "the channels of the kernel are swapped",
                         "W[:, :, c_prev, c] carries input channel c_prev to output channel c: sum "
                         "A_prev[i, h, w, c_prev] * W[:, :, c_prev, c] over c_prev"))
    for wrong, message, hint in mistakes:
        if not np.allclose(wrong, want) and np.allclose(np.asarray(Z, dtype=float), wrong):
            fail(f"Z: not the expected values: {message}", case, hint)
    expect_close(Z, want, "Z", case, hint="lay A_prev[i, h, w, :] @ W (shape (f, f, n_C)) on the canvas at "
                                          "rows h * stride .. h * stride + f - 1 and add; crop; add b")
    return Z


def public_conv_transpose_forward(conv_transpose_forward):
    """The lecture's example worked by hand, a stride-1 case, then channels, a batch and a bias.

    Separates: overlaps overwritten instead of added (every case), the filter turned by 180 degrees (the worked
    example), the crop left out or taken from one side only (pad 1), the stride ignored (stride 2), the bias left
    out, the kernel's channel axes swapped (2 -> 2 channels). It runs your own transpose_output_size: when it fails
    only because of it, it says so and passes.
    """
    _blame_size(_public_conv_transpose_forward, conv_transpose_forward)


def _public_conv_transpose_forward(conv_transpose_forward):
    A, W, b = _one_channel(LECTURE_INPUT, LECTURE_FILTER)
    case = "the worked example: input [[1, 2], [3, 4]], filter [[1, 2, 3], [4, 5, 6], [7, 8, 9]], stride 2"
    Z = _check_transpose_case(conv_transpose_forward, A, W, b, 2, 0, LECTURE_CANVAS[None, :, :, None],
                              case + ", pad 0 (the full 5x5 canvas)")
    expect_close(Z[0, 1:, 1:, 0], LECTURE_OUTPUT_4X4, "the lecture's 4x4 (the canvas without row 0 and column 0)",
                 case + ", pad 0")
    _check_transpose_case(conv_transpose_forward, A, W, b, 2, 1, LECTURE_PAD_1[None, :, :, None],
                          case + ", pad 1 (the 3x3 centre)")
    A, W, b = _one_channel(STRIDE_1_INPUT, STRIDE_1_FILTER)
    _check_transpose_case(conv_transpose_forward, A, W, b, 1, 0, STRIDE_1_OUTPUT[None, :, :, None],
                          "input [[1, 2], [3, 4]], filter [[1, 10], [100, 1000]], stride 1, pad 0")
    rng = _rng(40)
    for shape_A, shape_W, stride, pad in (((1, 2, 3, 2), (2, 2, 2, 2), 1, 0), ((2, 3, 2, 3), (3, 3, 3, 4), 2, 1)):
        A, W = rng.integers(-3, 4, shape_A).astype(float), rng.integers(-3, 4, shape_W).astype(float)
        b = rng.integers(1, 4, shape_W[3]).astype(float)
        _check_transpose_case(conv_transpose_forward, A, W, b, stride, pad,
                              lambda A, W, b, stride, pad: _by_output_pixel(A, W, stride, pad) + b,
                              f"A_prev {A.shape}, W {W.shape}, b {b.shape}, stride {stride}, pad {pad}")


def _random_transpose_case(rng):
    while True:
        f, stride, pad = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        n_H, n_W = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        if (min(n_H, n_W) - 1) * stride + f - 2 * pad >= 1:
            break
    m, n_C_prev, n_C = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    A = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal(n_C)
    return A, W, b, stride, pad


def _tf_transpose(A, W, b, stride, pad):
    """tf.nn.conv2d_transpose on the full canvas ("VALID"), then the crop and the bias. tf's kernel is
    (f, f, n_C, n_C_prev): the last two axes of W swapped."""
    tf = _tf()
    f, n_C = W.shape[0], W.shape[3]
    full = [(n - 1) * stride + f for n in A.shape[1:3]]
    out = tf.nn.conv2d_transpose(A, W.transpose(0, 1, 3, 2), (A.shape[0], *full, n_C), stride, "VALID").numpy()
    return out[:, pad:full[0] - pad, pad:full[1] - pad, :] + b


KERAS_CASES = [  # (f, stride, keras padding, the course's pad that gives the same output)
    (3, 1, "same", 1), (4, 2, "same", 1), (2, 2, "same", 0), (5, 3, "same", 1), (3, 2, "valid", 0), (1, 1, "valid", 0)]


def hidden_conv_transpose_forward(conv_transpose_forward, n_cases=25, seed=42):
    """Random shapes, strides 1-3 and pads 0-2 against tf.nn.conv2d_transpose; Keras's Conv2DTranspose layer
    where its paddings apply ("valid": pad 0 and stride <= f; "same": pad (f - stride) / 2 when that is whole).
    Boundary cases first: a single input pixel, a batch of one, a 1x1 filter with stride 2 (gaps of zeros between
    the pixels, only the bias there), a stride larger than the filter. Runs with the course's
    transpose_output_size in the notebook's namespace (one mistake, one loss)."""
    from cnncourse.ops import c4_transpose

    with reference_helpers(conv_transpose_forward, transpose_output_size=c4_transpose.transpose_output_size):
        _hidden_conv_transpose_forward(conv_transpose_forward, n_cases, seed)


def _hidden_conv_transpose_forward(conv_transpose_forward, n_cases, seed):
    import keras

    rng = _rng(seed)
    for shape_A, f, n_C, stride, pad in (((1, 1, 1, 2), 3, 2, 2, 1), ((1, 3, 2, 1), 1, 1, 2, 0),
                                         ((2, 2, 3, 2), 2, 3, 3, 0), ((1, 4, 4, 3), 4, 2, 2, 1)):
        A, W = rng.standard_normal(shape_A), rng.standard_normal((f, f, shape_A[3], n_C))
        b = rng.standard_normal(n_C)
        _check_transpose_case(conv_transpose_forward, A, W, b, stride, pad, _tf_transpose,
                              f"A_prev {A.shape}, W {W.shape}, stride {stride}, padding {pad} (a boundary case), "
                              "against tf.nn.conv2d_transpose")
    for k in range(n_cases):
        A, W, b, stride, pad = _random_transpose_case(rng)
        if k == 0:  # a square-channel case first, so that swapped kernel axes fail on values, not on shapes
            W = rng.standard_normal((*W.shape[:2], 2, 2))
            A, b = rng.standard_normal((*A.shape[:3], 2)), rng.standard_normal(2)
        case = f"A_prev {A.shape}, W {W.shape}, stride {stride}, padding {pad}, against tf.nn.conv2d_transpose"
        _check_transpose_case(conv_transpose_forward, A, W, b, stride, pad, _tf_transpose, case)
    for f, stride, padding, pad in KERAS_CASES:
        A = rng.standard_normal((2, int(rng.integers(1, 5)), int(rng.integers(1, 5)), 3))
        W, b = rng.standard_normal((f, f, 3, 2)), rng.standard_normal(2)
        layer = keras.layers.Conv2DTranspose(2, f, strides=stride, padding=padding, dtype="float64",
                                              kernel_initializer="zeros")  # set below
        layer.build(A.shape)
        layer.set_weights([W.transpose(0, 1, 3, 2), b])
        case = (f"A_prev {A.shape}, W {W.shape}, stride {stride}, padding {pad}, against "
                f"keras.layers.Conv2DTranspose(padding={padding!r})")
        got = _call(conv_transpose_forward, (A, W, b, stride, pad), "conv_transpose_forward", case)
        expected = np.asarray(layer(A))
        # JAX computes in float32 unless x64 is switched on (KERAS_BACKEND=jax): a float32 oracle's tolerance
        tolerance = {} if expected.dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}
        expect_close(got, expected, "Z", case, **tolerance)


# =====================================================================================================
# Mean IoU
# =====================================================================================================

# Hand-worked: class 0 has 4 true and 4 predicted pixels, 3 in both -> 3 / (4 + 4 - 3) = 3/5; class 1: 6 true,
# 7 predicted, 5 in both -> 5/8; class 2: 6 true, 5 predicted, 5 in both -> 5/6; mean 247/360.
IOU_TRUE = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1], [2, 2, 2, 2]])
IOU_PRED = np.array([[0, 0, 0, 1], [0, 1, 1, 1], [2, 2, 1, 1], [2, 2, 2, 1]])
IOU_PER_CLASS = np.array([3 / 5, 5 / 8, 5 / 6])
# IOU_PRED with pixel (3, 3) predicted as class 3, which the truth never has: class 1 -> 5/7, class 3 -> 0.
IOU_PRED_EXTRA = np.where(np.arange(16).reshape(4, 4) == 15, 3, IOU_PRED)
IOU_PER_CLASS_EXTRA = np.array([3 / 5, 5 / 7, 5 / 6, 0.0])
IOU_WRONG_PER_CLASS = [  # (what a typical mistake gives on the 4x4 example, the hint)
    ([3 / 4, 5 / 6, 5 / 6], "divide by the union |true == c OR pred == c|, not by the true pixels of the class only"),
    ([3 / 4, 5 / 7, 5 / 5], "divide by the union |true == c OR pred == c|, not by the predicted pixels only"),
    ([3 / 8, 5 / 13, 5 / 11], "the union counts the pixels in both masks once: |true| + |pred| - |both|"),
    ([6 / 8, 10 / 13, 10 / 11], "this is the Dice score 2|both| / (|true| + |pred|); IoU is |both| / |either|"),
]


def _expect_iou(result, want_mean, want_per_class, case, hint=None, likely=None):
    """Compare (mean, per_class) with nan where the class is absent from both masks; `likely`, when given (the
    hint of a known mistake that gives what came back), replaces every other hint."""
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"mean_iou: expected the tuple (mean, per_class), got {type(result).__name__}", case)
    if likely:
        try:
            _expect_iou(result, want_mean, want_per_class, case)
        except CheckFailed as err:
            fail(str(err).split("\n  Hint:")[0].removesuffix(f" [case: {case}]"), case, likely)
        return
    mean, per_class = result
    want_per_class = np.asarray(want_per_class, dtype=float)
    expect_shape(per_class, want_per_class.shape, "per_class", case,
                 hint="one IoU per class, class 0 (often the background) included")
    per_class = np.asarray(per_class, dtype=float)
    for c, (got, want) in enumerate(zip(per_class, want_per_class)):
        if np.isnan(want) != np.isnan(got):
            background = " Class 0 (the background) is a class like any other." if c == 0 else ""
            fail(f"per_class[{c}]: expected {want:.6g}, got {got:.6g}", case,
                 hint="nan only for a class absent from BOTH masks (0 / 0), left out of the mean; a class in only "
                      f"one mask has IoU 0 and counts.{background}")
    absent = np.isnan(want_per_class)
    expect_close(per_class[~absent], want_per_class[~absent],
                 f"per_class at classes {np.flatnonzero(~absent).tolist()}", case,
                 hint=hint or "IoU_c = |true == c AND pred == c| / |true == c OR pred == c|")
    expect_type(mean, (float, np.floating), "mean", case, hint="return the mean as a float")
    if np.isnan(want_mean) != np.isnan(mean) or not (np.isnan(want_mean) or np.isclose(mean, want_mean)):
        fail(f"mean: expected {want_mean:.6g}, got {float(mean):.6g}", case,
             hint="the mean of per_class over the classes present in at least one mask, np.nanmean(per_class); "
                  "not the fraction of correct pixels")


def public_mean_iou(mean_iou):
    """A 4x4 case with exact fractions; absent classes; a class only predicted; a batch of two masks, whose
    pixels pool before the division."""
    case = "the 4x4 example, 3 classes"
    got = _call(mean_iou, (IOU_TRUE, IOU_PRED, 3), "mean_iou", case)
    if isinstance(got, tuple) and len(got) == 2 and np.shape(got[1]) == (3,):
        for wrong, hint in IOU_WRONG_PER_CLASS:
            if np.allclose(np.asarray(got[1], dtype=float), wrong):
                fail(f"per_class: expected {IOU_PER_CLASS.round(4).tolist()}, got {np.round(got[1], 4).tolist()}",
                     case, hint)
    _expect_iou(got, 247 / 360, IOU_PER_CLASS, "the 4x4 example, 3 classes (IoU 3/5, 5/8, 5/6)",
                hint="intersection: pixels where both say c; union: where either says c (count each pixel once)")
    shifted = (IOU_TRUE + 1, IOU_PRED + 1, 5)
    _expect_iou(_call(mean_iou, shifted, "mean_iou", "labels 1..3 of 5 classes"), 247 / 360,
                [np.nan, *IOU_PER_CLASS, np.nan], "the 4x4 example with labels 1..3 of 5 classes: classes 0 and 4 "
                "are absent from both masks")
    _expect_iou(_call(mean_iou, (IOU_TRUE, IOU_PRED_EXTRA, 4), "mean_iou", "class 3 only predicted"), 451 / 840,
                IOU_PER_CLASS_EXTRA, "pixel (3, 3) predicted as class 3, which the truth never has (4 classes)")
    batch = (np.stack([IOU_TRUE, IOU_TRUE]), np.stack([IOU_PRED, IOU_TRUE]), 3)
    _expect_iou(_call(mean_iou, batch, "mean_iou", "a batch (2, 4, 4)"), 625 / 756, [7 / 9, 11 / 14, 11 / 12],
                "a batch (2, 4, 4): the 4x4 example, then a perfect prediction (IoU 7/9, 11/14, 11/12)",
                hint="count the pixels of all images together, then divide once (not a mean of per-image IoUs)")


def brute_force_iou(y_true, y_pred, n_classes):
    """(mean, per_class) by counting pixels one at a time in Python: the definition, nothing vectorised."""
    per_class = []
    pairs = list(zip(y_true.ravel().tolist(), y_pred.ravel().tolist()))
    for c in range(n_classes):
        both = either = 0
        for t, p in pairs:
            both += t == c and p == c
            either += t == c or p == c
        per_class.append(both / either if either else float("nan"))
    present = [v for v in per_class if v == v]
    return (sum(present) / len(present) if present else float("nan")), per_class


def _iou_mistakes(y_true, y_pred, n_classes):
    """(hint, (mean, per_class)) of the usual wrong formulas on these masks, for likely_iou_mistake."""
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    cls = np.arange(n_classes)[:, None]
    both, true, pred = ((t == cls) & (p == cls)).sum(1), (t == cls).sum(1), (p == cls).sum(1)
    union = true + pred - both

    def ratio(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    right = ratio(both, union)
    present = ~np.isnan(right)

    def mean(values, where=None):
        where = ~np.isnan(values) if where is None else where
        return float(np.mean(values[where])) if np.any(where) else float("nan")

    zero = np.where(present, right, 0.0)
    one = np.where(present, right, 1.0)
    out = [
        ("looks like the intersection was divided by the true pixels of the class; divide by the union",
         (mean(ratio(both, true)), ratio(both, true))),
        ("looks like the intersection was divided by the predicted pixels of the class; divide by the union",
         (mean(ratio(both, pred)), ratio(both, pred))),
        ("looks like the union counted the pixels in both masks twice: |true| + |pred| - |both|",
         (mean(ratio(both, true + pred)), ratio(both, true + pred))),
        ("looks like the Dice score 2|both| / (|true| + |pred|); IoU is |both| / |either|",
         (mean(ratio(2 * both, true + pred)), ratio(2 * both, true + pred))),
        ("looks like a class absent from both masks got IoU 0 and counted in the mean; it is nan and left out",
         (float(np.mean(zero)), zero)),
        ("looks like a class absent from both masks got IoU 1; it is nan (0 / 0) and left out of the mean",
         (float(np.mean(one)), one)),
        ("looks like the mean left out the classes that only the prediction has; it is over every class present "
         "in either mask (np.nanmean(per_class))", (mean(right, present & (true > 0)), right)),
        ("looks like the mean was taken over all n_classes with the absent ones as 0; use np.nanmean(per_class)",
         (float(np.sum(right[present]) / n_classes), right)),
        ("looks like the mean is the fraction of correct pixels (pixel accuracy), not the mean of the IoUs",
         (float(np.mean(t == p)) if t.size else float("nan"), right)),
    ]
    return out


def likely_iou_mistake(result, y_true, y_pred, n_classes):
    """The hints of the usual wrong IoU formulas that give `result` (mean, per_class) on these masks, or None."""
    if not (isinstance(result, tuple) and len(result) == 2):
        return None
    try:
        got_mean, got = float(result[0]), np.asarray(result[1], dtype=float)
    except (TypeError, ValueError):
        return None
    want_mean, want = brute_force_iou(y_true, y_pred, n_classes)
    want = np.asarray(want, dtype=float)

    def same(a, b, x, y):
        return (np.shape(a) == np.shape(b) and np.allclose(a, b, equal_nan=True)
                and np.allclose(x, y, equal_nan=True))

    hints = [hint for hint, (mean, per_class) in _iou_mistakes(y_true, y_pred, n_classes)
             if same(got, per_class, got_mean, mean) and not same(want, per_class, want_mean, mean)]
    return "; or ".join(dict.fromkeys(hints)) or None


def hidden_mean_iou(mean_iou, n_cases=30, seed=43):
    """Random masks of several shapes, with classes missing from both masks or from one, against brute force.
    Boundary cases first: a single pixel, one class only, a batch of one, a class only in the truth; then random
    masks. A failure names the likely mistake when what came back matches a known wrong formula."""
    boundary = [
        (np.array([[2]]), np.array([[2]]), 4, "a single pixel, right (class 2 of 4)"),
        (np.array([[1]]), np.array([[3]]), 4, "a single pixel, wrong (true 1, predicted 3 of 4)"),
        (np.zeros((3, 5), np.int64), np.zeros((3, 5), np.int64), 1, "one class only, every pixel right"),
        (IOU_TRUE[None], IOU_PRED[None], 3, "a batch of one (1, 4, 4): the 4x4 example"),
        (IOU_TRUE, np.where(IOU_TRUE == 2, 0, IOU_TRUE), 4, "class 2 only in the truth, class 3 in neither"),
    ]
    for y_true, y_pred, n_classes, case in boundary:
        got = _call(mean_iou, (y_true, y_pred, n_classes), "mean_iou", case)
        want_mean, want_per_class = brute_force_iou(y_true, y_pred, n_classes)
        _expect_iou(got, want_mean, want_per_class, case, likely=likely_iou_mistake(got, y_true, y_pred, n_classes))
    rng = _rng(seed)
    shapes = [(16,), (5, 7), (3, 6, 5), (2, 4, 4, 1)]
    for k in range(n_cases):
        n_classes = int(rng.integers(1, 7))
        shape = shapes[k % len(shapes)]
        in_true = rng.choice(n_classes, size=int(rng.integers(1, n_classes + 1)), replace=False)
        in_pred = rng.choice(n_classes, size=int(rng.integers(1, n_classes + 1)), replace=False)
        y_true, y_pred = rng.choice(in_true, size=shape), rng.choice(in_pred, size=shape)
        if k % 3 == 0:  # mostly right: IoUs near 1
            y_pred = np.where(rng.random(shape) < 0.8, y_true, y_pred)
        case = f"random masks {shape}, {n_classes} classes, true uses {sorted(in_true.tolist())}, " \
               f"pred uses {sorted(in_pred.tolist())}"
        want_mean, want_per_class = brute_force_iou(y_true, y_pred, n_classes)
        got = _call(mean_iou, (y_true, y_pred, n_classes), "mean_iou", case)
        _expect_iou(got, want_mean, want_per_class, case, likely=likely_iou_mistake(got, y_true, y_pred, n_classes))
    empty = np.zeros((0, 4, 4), dtype=np.int64)
    _expect_iou(_call(mean_iou, (empty, empty, 3), "mean_iou", "no pixel at all"), float("nan"), [np.nan] * 3,
                "empty masks (0, 4, 4): every class absent")
    expect_raises(lambda: mean_iou(IOU_TRUE, IOU_PRED[:3], 3), ValueError, "masks of different shapes",
                  "y_true (4, 4), y_pred (3, 4)")
