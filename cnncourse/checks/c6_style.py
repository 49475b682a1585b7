"""Checks of Chapter 6's costs and optimisation step (cnncourse.ops.c6_costs, cnncourse.ops.c6_step).

Oracles, independent of the graded code: the content cost and the Gram matrices in numpy float64 from the
definitions (a Gram entry is a sum over positions of channel k times channel k', computed per channel pair with
einsum on the (n_H, n_W, n_C) activation, never through an unrolled matrix); the optimisation step against the
update rule of SGD and of Adam's first step, written out in numpy.

When a hidden case fails, its message names the typical mistakes whose formula gives what came back ("looks like
..."), computed here from the same inputs. The hidden tests of layer_style_cost and style_cost run them with the
course's gram_matrix and layer_style_cost swapped into their namespace (cnncourse.checks.core.reference_helpers): a mistake in a helper
costs the helper's points, once. The public checks run the student's own chain.
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_shape, fail

UNROLL_HINT = ("unroll to (n_H * n_W, n_C) first, then transpose to (n_C, n_H * n_W): row k must hold channel k at "
               "every position; reshaping straight to (n_C, n_H * n_W) mixes channels and positions")


def _numpy(value, what, case):
    """A graded function's result as a float64 numpy array."""
    try:
        from keras import ops

        return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)
    except Exception as err:  # noqa: BLE001 - say what came back
        fail(f"{what} must return a number or a tensor, got {type(value).__name__}: {err}", case)


def _scalar(value, what, case):
    out = _numpy(value, what, case)
    if out.size != 1:
        fail(f"{what} must return one number (a scalar), got shape {out.shape}", case,
             hint="sum over every entry: ops.sum(...) with no axis")
    return float(out.reshape(()))


def _activation(rng, n_H, n_W, n_C, dtype=np.float32):
    return rng.normal(size=(1, n_H, n_W, n_C)).astype(dtype)


def _likely(got, expected, candidates, default, rtol=1e-4, atol=1e-8):
    """A hint naming each typical mistake whose value matches what came back, then `default`.

    Args:
        got: what the student's function returned (number or array); expected: the right value.
        candidates: [(value of a wrong formula, "what it looks like")]; a candidate equal to the right value (a
            case where the mistake does not show) is never named.
    """
    def same(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=rtol, atol=atol)))

    fits = [text for value, text in candidates if same(got, value) and not same(value, expected)]
    return "; ".join([f"looks like {text}" for text in fits] + [default])


def oracle_content_cost(a_C, a_G):
    """1 / (4 n_H n_W n_C) * sum (a_C - a_G)^2, in float64."""
    _, n_H, n_W, n_C = a_C.shape
    return float(np.sum((a_C.astype(np.float64) - a_G) ** 2) / (4 * n_H * n_W * n_C))


def oracle_gram_of_activation(a):
    """Gram matrix of one activation (1, n_H, n_W, n_C): G[k, k'] = sum over positions of a[.., k] * a[.., k']."""
    a = a[0].astype(np.float64)
    return np.einsum("hwk,hwl->kl", a, a)


def oracle_layer_style_cost(a_S, a_G):
    """1 / (2 n_H n_W n_C)^2 * ||G_S - G_G||^2, in float64."""
    _, n_H, n_W, n_C = a_S.shape
    diff = oracle_gram_of_activation(a_S) - oracle_gram_of_activation(a_G)
    return float(np.sum(diff ** 2) / (2 * n_H * n_W * n_C) ** 2)


def _blame_helpers(check, fn, what, helpers):
    """Run check(fn) on the student's own chain. When it fails, run it again with the course's version of each
    graded helper in `helpers` (names in cnncourse.ops.c6_costs, the innermost first) swapped in, one at a time: if
    `fn` passes then, the mistake starts in that helper: the failure is printed with a note that says so, and the
    check passes (one mistake, one loss: the helper's own cell loses the points). Otherwise (or when the references
    are stubs, in the student edition) the first failure is raised as it was."""
    from cnncourse.checks.core import CheckFailed
    from cnncourse.checks.core import reference_helpers

    try:
        check(fn)
    except CheckFailed as err:
        for name in helpers:
            try:
                from cnncourse.ops import c6_costs

                with reference_helpers(fn, **{name: getattr(c6_costs, name)}):
                    check(fn)
            except Exception:  # noqa: BLE001 - still wrong, or no reference to compare with
                continue
            # One mistake, one loss: the helper's own grade cell loses its points; this one does not fail for it.
            print(f"{what}: NOTE: {err}\n  With the course's {name} in place of yours, your {what} passes this "
                  f"check: the mistake is in your {name}, whose own check says what is wrong. This cell keeps its "
                  f"points; fix {name} first.")
            return
        raise


def _content_cost_mistakes(a_C, a_G):
    _, n_H, n_W, n_C = a_C.shape
    d = a_C.astype(np.float64) - a_G
    s, n = float(np.sum(d ** 2)), n_H * n_W * n_C
    return [(s / n, "the 4 in 1 / (4 n_H n_W n_C) is missing (a mean of the squares is not divided by 4)"),
            (s, "the normalisation 1 / (4 n_H n_W n_C) is missing"),
            (float(np.sum(np.abs(d))) / (4 * n), "absolute differences were summed, not squared differences"),
            (np.sqrt(s) / (4 * n), "the square root of the sum was taken (a norm, not its square)"),
            (float(np.sum(d)) ** 2 / (4 * n), "the sum was squared instead of summing the squares"),
            (s / (4 * n_C), "only n_C divides: the factor is 1 / (4 n_H n_W n_C)")]


def public_content_cost(content_cost):
    """Hand-worked: a_C = 0, a_G = 1 of shape (1, 2, 2, 3): 12 squared differences of 1, over 4 * 12 = 0.25.

    Then a (1, 2, 3, 4) case with differences other than 0 and 1, where every one of these gives another value: the
    4 or the whole normalisation missing, a mean without the 4, absolute instead of squared differences, the root of
    the sum, the square of the sum, only n_C in the denominator.
    """
    a_C, a_G = np.zeros((1, 2, 2, 3), np.float32), np.ones((1, 2, 2, 3), np.float32)
    case = "a_C = 0, a_G = 1, shape (1, 2, 2, 3)"
    expect_close(_scalar(content_cost(a_C, a_G), "content_cost", case), 0.25, "content_cost", case, rtol=1e-6,
                 hint="sum of the squared differences divided by 4 * n_H * n_W * n_C")
    a_G = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4) / 10
    case = "a_C = 0, a_G = 0.0, 0.1, ..., 2.3 in shape (1, 2, 3, 4)"
    expect_close(_scalar(content_cost(np.zeros_like(a_G), a_G), "content_cost", case),
                 oracle_content_cost(np.zeros_like(a_G), a_G), "content_cost", case, rtol=1e-5,
                 hint="n_H, n_W, n_C come from the activation's shape (1, n_H, n_W, n_C)")


def hidden_content_cost(content_cost):
    """Random activations of several shapes, float32 tensors, against numpy float64; a single entry last (there the
    usual wrong normalisations coincide, so the cases before it name the mistake)."""
    import keras

    rng = np.random.default_rng(60)
    for shape in [(1, 7, 5, 3), (1, 16, 16, 64), (1, 4, 9, 512), (1, 1, 1, 1)]:
        a_C, a_G = _activation(rng, *shape[1:]), _activation(rng, *shape[1:])
        case = f"random activations of shape {shape}"
        got = _scalar(content_cost(keras.ops.convert_to_tensor(a_C), keras.ops.convert_to_tensor(a_G)),
                      "content_cost", case)
        want = oracle_content_cost(a_C, a_G)
        expect_close(got, want, "content_cost", case, rtol=1e-4, hint=_likely(
            got, want, _content_cost_mistakes(a_C, a_G), "1 / (4 n_H n_W n_C) * sum of (a_C - a_G)^2"))


def _gram_hint(got, A):
    """The likely mistake behind a wrong Gram matrix `got` of A (n_C, positions), from its shape or its values."""
    A = A.astype(np.float64)
    n_C, positions = A.shape
    default = "G = A A^T, e.g. ops.matmul(A, ops.transpose(A))"
    shape = getattr(got, "shape", None)
    if shape == (positions, positions) and positions != n_C:
        return f"looks like the Gram matrix was computed as A^T A (positions x positions); {default}"
    if shape == A.shape and positions != n_C:
        return f"looks like an element-wise product A * A, not the matrix product; {default}"
    if shape == (n_C,):
        return f"looks like only the diagonal (each channel with itself) was computed; {default}"
    return _likely(got, A @ A.T, [(A.T @ A, "the Gram matrix was computed as A^T A"),
                                  (A @ A.T / positions, "G was divided by the number of positions n_H n_W"),
                                  (A * A, "an element-wise product A * A, not the matrix product")], default)


def public_gram_matrix(gram_matrix):
    """Hand-worked: A = [[1, 2], [3, 4]] gives A A^T = [[5, 11], [11, 25]]; a (3, 4) input gives a (3, 3) matrix.

    The 2 x 2 case separates A A^T from A^T A ([[10, 14], [14, 20]]), from A A and from A * A; the (3, 4) case gives
    A^T A, A * A and the diagonal alone another shape.
    """
    A = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    case = "A = [[1, 2], [3, 4]]"
    expect_close(_numpy(gram_matrix(A), "gram_matrix", case), [[5.0, 11.0], [11.0, 25.0]], "gram_matrix", case,
                 hint="G = A A^T (rows of A are channels), not A^T A")
    A = np.arange(12, dtype=np.float32).reshape(3, 4)
    expect_shape(_numpy(gram_matrix(A), "gram_matrix", "A of shape (3, 4)"), (3, 3), "gram_matrix", "A of shape (3, 4)",
                 hint="n_C x n_C: one entry per pair of channels, G = A A^T")


def hidden_gram_matrix(gram_matrix):
    """Random unrolled activations (n_C, n_H n_W); each entry against an explicit sum over positions."""
    rng = np.random.default_rng(61)
    for n_C, positions in [(1, 1), (2, 9), (5, 3), (64, 100)]:
        A = rng.normal(size=(n_C, positions)).astype(np.float32)
        case = f"random A of shape ({n_C}, {positions})"
        original = A.copy()
        got = _numpy(gram_matrix(A), "gram_matrix", case)
        A = original
        expected = np.array([[sum(float(A[k, p]) * float(A[l, p]) for p in range(positions)) for l in range(n_C)]
                             for k in range(n_C)])
        expect_close(got, expected, "gram_matrix", case, rtol=1e-4, atol=1e-4, hint=_gram_hint(got, A))


def _layer_style_mistakes(a_S, a_G):
    _, n_H, n_W, n_C = a_S.shape
    S, G = (a[0].astype(np.float64).reshape(n_H * n_W, n_C) for a in (a_S, a_G))
    squares = float(np.sum((S.T @ S - G.T @ G) ** 2))
    raw_S, raw_G = (a.astype(np.float64).reshape(n_C, n_H * n_W) for a in (a_S, a_G))
    factor = (2.0 * n_H * n_W * n_C) ** 2
    return [(np.sum((raw_S @ raw_S.T - raw_G @ raw_G.T) ** 2) / factor,
             "the activation was reshaped straight to (n_C, n_H * n_W), without the transpose"),
            (np.sum((S @ S.T - G @ G.T) ** 2) / factor,
             "the Gram matrix of the positions was taken: the (n_H * n_W, n_C) matrix was not transposed"),
            (squares / (2.0 * n_H * n_W * n_C), "the factor 1 / (2 n_H n_W n_C) was not squared"),
            (squares / (4.0 * n_C ** 2 * n_H * n_W), "(n_H n_W)^2 in 1 / (4 n_C^2 (n_H n_W)^2) was not squared"),
            (squares, "the normalisation 1 / (4 n_C^2 (n_H n_W)^2) is missing"),
            (squares / n_C ** 2 / factor, "a mean over the n_C x n_C entries was taken instead of their sum"),
            (np.sqrt(squares) / factor, "the square root of the sum was taken (a norm, not its square)"),
            (np.sum((S - G) ** 2) / factor, "the activations were compared, not their Gram matrices")]


def public_layer_style_cost(layer_style_cost):
    """Hand-worked on shape (1, 1, 2, 2): two positions, two channels.

    a_S holds (1, 0) at the first position and (0, 1) at the second, so G_S = I; a_G = 0 gives G_G = 0. The sum of
    squared differences is 2 and (2 n_H n_W n_C)^2 = (2 * 1 * 2 * 2)^2 = 64: J = 2 / 64 = 0.03125. Then a case where
    unrolling matters: three positions of two channels, against the einsum oracle.

    Separates: the factor not squared or missing, (n_H n_W)^2 written n_H n_W, a mean instead of the sum, the root of
    the sum (first case: n_C = 2, four positions-times-channels); a reshape to (n_C, n_H * n_W) without the
    transpose, the Gram matrix of positions, the activations compared without Gram matrices (second case). The
    public checks run your own gram_matrix: if its check failed, fix it first.
    """
    _blame_helpers(_public_layer_style_cost, layer_style_cost, "layer_style_cost", ["gram_matrix"])


def _public_layer_style_cost(layer_style_cost):
    a_S = np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)
    case = "a_S with channels (1, 0) and (0, 1) at two positions, a_G = 0"
    expect_close(_scalar(layer_style_cost(a_S, np.zeros_like(a_S)), "layer_style_cost", case), 0.03125,
                 "layer_style_cost", case, rtol=1e-6, hint="||G_S - G_G||^2 / (2 n_H n_W n_C)^2; here 2 / 64")
    a_S = np.arange(6, dtype=np.float32).reshape(1, 1, 3, 2)
    a_G = np.array([[[[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]]], np.float32)
    case = "a_S = positions (0, 1), (2, 3), (4, 5); a_G = positions (1, 0), (1, 1), (0, 2)"
    expect_close(_scalar(layer_style_cost(a_S, a_G), "layer_style_cost", case), oracle_layer_style_cost(a_S, a_G),
                 "layer_style_cost", case, rtol=1e-6, hint=UNROLL_HINT)


def hidden_layer_style_cost(layer_style_cost):
    """Random activations with n_H != n_W and several channel counts, against the einsum Gram oracle."""
    import keras

    from cnncourse.checks.core import reference_helpers
    from cnncourse.ops import c6_costs

    rng = np.random.default_rng(62)
    for shape in [(1, 1, 1, 1), (1, 3, 5, 2), (1, 8, 6, 16), (1, 10, 10, 64)]:
        a_S, a_G = _activation(rng, *shape[1:]), _activation(rng, *shape[1:])
        case = f"random activations of shape {shape}"
        with reference_helpers(layer_style_cost, gram_matrix=c6_costs.gram_matrix):
            got = layer_style_cost(keras.ops.convert_to_tensor(a_S), keras.ops.convert_to_tensor(a_G))
        got, want = _scalar(got, "layer_style_cost", case), oracle_layer_style_cost(a_S, a_G)
        expect_close(got, want, "layer_style_cost", case, rtol=1e-4, hint=_likely(
            got, want, _layer_style_mistakes(a_S, a_G),
            UNROLL_HINT + "; the factor is 1 / (2 n_H n_W n_C)^2, squared"))


def _check_style_cost(style_cost, shapes, weights, seed, references=None):
    """Compare style_cost on random activations with the oracle; with `references` ({name: function}), run it with
    those helpers swapped into its namespace (the hidden test's one mistake, one loss)."""
    from cnncourse.checks.core import reference_helpers

    rng = np.random.default_rng(seed)
    a_S = [_activation(rng, *s) for s in shapes]
    a_G = [_activation(rng, *s) for s in shapes]
    originals = [a.copy() for a in a_S], [a.copy() for a in a_G]
    weights, given = list(weights), weights  # the oracle reads its own copies, made before the call
    case = f"{len(shapes)} layers of shapes {[(1, *s) for s in shapes]}, lambdas {list(weights)}"
    with reference_helpers(style_cost, **(references or {})):
        got = _scalar(style_cost(a_S, a_G, given), "style_cost", case)
    layers = [oracle_layer_style_cost(s, g) for s, g in zip(*originals)]
    expected = sum(w * j for w, j in zip(weights, layers))
    mistakes = [(sum(layers), "the lambdas were left out"),
                (sum(layers) / len(layers), "the layers were averaged instead of weighted by their lambdas"),
                (expected / sum(weights), "the sum was divided by the sum of the lambdas"),
                (sum(w * j for w, j in zip(weights[::-1], layers)), "the lambdas were used in reverse order"),
                (sum(w ** 2 * j for w, j in zip(weights, layers)), "each lambda was squared"),
                (expected - weights[-1] * layers[-1], "the last layer was left out")]
    expect_close(got, expected, "style_cost", case, rtol=1e-4, hint=_likely(
        got, expected, mistakes, "sum over the layers of lambda_l * layer_style_cost(a_S[l], a_G[l])"))


def public_style_cost(style_cost):
    """Two layers with lambdas 0.25 and 0.75, then one layer with lambda 2 (the weights must be used).

    Separates: lambdas left out, the layers averaged, the lambdas in reverse order or squared, the last layer left
    out (first case); the sum divided by the sum of the lambdas (second case). The public checks run your own
    layer_style_cost and gram_matrix: if their checks failed, fix those first.
    """
    _blame_helpers(_public_style_cost, style_cost, "style_cost", ["gram_matrix", "layer_style_cost"])


def _public_style_cost(style_cost):
    _check_style_cost(style_cost, [(4, 4, 3), (2, 2, 6)], [0.25, 0.75], seed=63)
    _check_style_cost(style_cost, [(3, 5, 2)], [2.0], seed=64)


def hidden_style_cost(style_cost):
    """Five layers of VGG-like shapes with unequal lambdas; a zero lambda must remove its layer; lambdas that do
    not sum to 1; a single non-square layer. Run with the course's layer_style_cost and gram_matrix."""
    from cnncourse.ops import c6_costs

    references = {"layer_style_cost": c6_costs.layer_style_cost, "gram_matrix": c6_costs.gram_matrix}
    shapes = [(16, 16, 8), (8, 8, 16), (4, 4, 32), (2, 2, 64), (1, 1, 64)]
    _check_style_cost(style_cost, shapes, [0.1, 0.4, 0.0, 0.3, 0.2], seed=65, references=references)
    _check_style_cost(style_cost, shapes[:3], [1.0, 0.0, 0.0], seed=66, references=references)
    _check_style_cost(style_cost, shapes[1:4], [0.5, 1.5, 3.0], seed=71, references=references)
    _check_style_cost(style_cost, [(5, 3, 4)], [0.7], seed=72, references=references)


def _total_cost_mistakes(j_c, j_s, alpha, beta):
    return [(beta * j_c + alpha * j_s, "alpha and beta were swapped"),
            (alpha * (j_c + j_s), "alpha weighs both costs"), (beta * (j_c + j_s), "beta weighs both costs"),
            (j_c + j_s, "alpha and beta were left out"),
            ((alpha * j_c + beta * j_s) / (alpha + beta) if alpha + beta else 0.0,
             "the sum was divided by alpha + beta"),
            (40 * j_c + 10 * j_s, "the defaults were swapped: alpha = 10, beta = 40")]


def public_total_cost(total_cost):
    """alpha = 10, beta = 40 (the defaults): J = 10 * 1 + 40 * 2 = 90; then alpha = 1, beta = 0.5: 1 * 3 + 0.5 * 4.

    Separates: alpha and beta swapped (in the defaults or in the formula), one weight used twice, the weights left
    out, the sum divided by alpha + beta.
    """
    expect_close(_scalar(total_cost(1.0, 2.0), "total_cost", "defaults"), 90.0, "total_cost",
                 "J_content = 1, J_style = 2 with the defaults alpha = 10, beta = 40", hint="alpha * J_content + beta * J_style")
    expect_close(_scalar(total_cost(3.0, 4.0, alpha=1.0, beta=0.5), "total_cost", "alpha 1, beta 0.5"), 5.0,
                 "total_cost", "J_content = 3, J_style = 4, alpha = 1, beta = 0.5", hint="use the alpha and beta given")


def hidden_total_cost(total_cost):
    """Tensors in, random weights, alpha or beta zero, then the default alpha and beta."""
    import keras

    rng = np.random.default_rng(67)
    for alpha, beta in [(0.0, 1.0), (1.0, 0.0), (rng.uniform(0, 100), rng.uniform(0, 1)), (None, None)]:
        j_c, j_s = (float(np.float32(x)) for x in rng.uniform(0, 10, size=2))
        J_content, J_style = (keras.ops.convert_to_tensor(np.float32(x)) for x in (j_c, j_s))
        if alpha is None:  # the defaults
            alpha, beta, default = 10, 40, "the defaults are alpha = 10, beta = 40"
            case = f"J_content {j_c:.4g}, J_style {j_s:.4g}, the default alpha and beta"
            got = total_cost(J_content, J_style)
        else:
            default = "alpha * J_content + beta * J_style"
            case = f"J_content {j_c:.4g}, J_style {j_s:.4g}, alpha {alpha:.4g}, beta {beta:.4g}"
            got = total_cost(J_content, J_style, alpha=alpha, beta=beta)
        got, want = _scalar(got, "total_cost", case), alpha * j_c + beta * j_s
        expect_close(got, want, "total_cost", case, rtol=1e-5,
                     hint=_likely(got, want, _total_cost_mistakes(j_c, j_s, alpha, beta), default))


def _quadratic_problem(rng, shape):
    """A cost with a known gradient: J = sum (image - target)^2, gradient 2 (image - target). Targets reach outside
    [0, 1] so that clipping shows."""
    from keras import ops

    start = rng.uniform(0, 1, size=shape).astype(np.float32)
    target = rng.uniform(-0.5, 1.5, size=shape).astype(np.float32)

    def cost_fn(image):
        J = ops.sum(ops.square(image - target))
        return J, 0.5 * J, 2.0 * J

    return start, target, cost_fn


def _check_step(optimisation_step, shape, optimizer_name, learning_rate, seed):
    import keras

    rng = np.random.default_rng(seed)
    start, target, cost_fn = _quadratic_problem(rng, shape)
    generated = keras.Variable(start)
    optimizer = {"SGD": keras.optimizers.SGD, "Adam": keras.optimizers.Adam}[optimizer_name](learning_rate)
    case = f"{optimizer_name}(learning_rate={learning_rate}), image {shape}, cost sum((image - target)^2)"
    result = optimisation_step(generated, cost_fn, optimizer)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"optimisation_step must return the three costs (J, J_content, J_style), got {result!r:.80}", case)
    J_before = float(np.sum((start.astype(np.float64) - target) ** 2))
    for got, factor, name in zip(result, (1.0, 0.5, 2.0), ("J", "J_content", "J_style")):
        expect_close(_scalar(got, "optimisation_step", case), factor * J_before, f"returned {name}", case,
                     rtol=1e-4, hint="return what cost_fn gave for the image BEFORE the step")
    gradient = 2.0 * (start.astype(np.float64) - target)

    def step(g):
        if optimizer_name == "SGD":
            return start - learning_rate * g
        return start - learning_rate * g / (np.abs(g) + 1e-7)  # Adam's first step: m_hat = g, v_hat = g^2

    moved = step(gradient)
    got = keras.ops.convert_to_numpy(generated)
    want = np.clip(moved, 0.0, 1.0)
    mistakes = [(moved, "the pixels were not clipped to [0, 1] after the step"),
                (np.clip(step(-gradient), 0.0, 1.0), "the image moved UP the gradient (the cost grows)"),
                (np.clip(start - 0.01 * gradient, 0.0, 1.0), "the optimizer was not used (a fixed step of 0.01)")]
    if optimizer_name == "SGD":  # Adam's first step does not depend on the gradient's scale
        mistakes += [(np.clip(step(0.5 * gradient), 0.0, 1.0), "the gradient of J_content was used, not of J"),
                     (np.clip(step(2.0 * gradient), 0.0, 1.0), "the gradient of J_style was used, not of J")]
    expect_close(got, want, "the image after one step", case, rtol=1e-4, atol=1e-5, hint=_likely(
        got, want, mistakes, atol=1e-5, default="gradient of J with respect to the image (a GradientTape), "
        "optimizer.apply_gradients([(grad, generated)]), then generated.assign(clip to [0, 1])"))


def public_optimisation_step(optimisation_step):
    """One SGD step on a cost whose gradient is known, image (1, 4, 4, 3): moved, then clipped to [0, 1].

    Separates: no clipping or clipping before the step (targets lie outside [0, 1]), the costs of the image after
    the step, a step up the gradient, the gradient of J_content or J_style instead of J (they are J / 2 and 2 J
    here), the optimizer left unused (its learning rate is 0.4).
    """
    _check_step(optimisation_step, (1, 4, 4, 3), "SGD", 0.4, seed=68)


def hidden_optimisation_step(optimisation_step):
    """Adam's first step (it moves every pixel by the learning rate), a non-square image, a large SGD step that
    pushes most pixels out of [0, 1]."""
    _check_step(optimisation_step, (1, 5, 7, 3), "Adam", 0.05, seed=69)
    _check_step(optimisation_step, (1, 3, 2, 3), "SGD", 2.0, seed=70)
