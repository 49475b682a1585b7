"""Checks of Chapter 6's costs and optimisation step (cnncourse.ops.c6_costs, cnncourse.ops.c6_step).

Oracles, independent of the graded code: the content cost and the Gram matrices in numpy float64 from the
definitions (a Gram entry is a sum over positions of channel k times channel k', computed per channel pair with
einsum on the (n_H, n_W, n_C) activation, never through an unrolled matrix); the optimisation step against the
update rule of SGD and of Adam's first step, written out in numpy.
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


def public_content_cost(content_cost):
    """Hand-worked: a_C = 0, a_G = 1 of shape (1, 2, 2, 3): 12 squared differences of 1, over 4 * 12 = 0.25."""
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
    """Random activations of several shapes, float32 tensors, against numpy float64."""
    import keras

    rng = np.random.default_rng(60)
    for shape in [(1, 1, 1, 1), (1, 7, 5, 3), (1, 16, 16, 64), (1, 4, 9, 512)]:
        a_C, a_G = _activation(rng, *shape[1:]), _activation(rng, *shape[1:])
        case = f"random activations of shape {shape}"
        got = content_cost(keras.ops.convert_to_tensor(a_C), keras.ops.convert_to_tensor(a_G))
        expect_close(_scalar(got, "content_cost", case), oracle_content_cost(a_C, a_G), "content_cost", case,
                     rtol=1e-4, hint="1 / (4 n_H n_W n_C) * sum of (a_C - a_G)^2")


def public_gram_matrix(gram_matrix):
    """Hand-worked: A = [[1, 2], [3, 4]] gives A A^T = [[5, 11], [11, 25]]; a (3, 4) input gives a (3, 3) matrix."""
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
        expected = np.array([[sum(float(A[k, p]) * float(A[l, p]) for p in range(positions)) for l in range(n_C)]
                             for k in range(n_C)])
        case = f"random A of shape ({n_C}, {positions})"
        expect_close(_numpy(gram_matrix(A), "gram_matrix", case), expected, "gram_matrix", case, rtol=1e-4,
                     atol=1e-4, hint="G = A A^T, e.g. ops.matmul(A, ops.transpose(A))")


def public_layer_style_cost(layer_style_cost):
    """Hand-worked on shape (1, 1, 2, 2): two positions, two channels.

    a_S holds (1, 0) at the first position and (0, 1) at the second, so G_S = I; a_G = 0 gives G_G = 0. The sum of
    squared differences is 2 and (2 n_H n_W n_C)^2 = (2 * 1 * 2 * 2)^2 = 64: J = 2 / 64 = 0.03125. Then a case where
    unrolling matters: three positions of two channels, against the einsum oracle.
    """
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

    rng = np.random.default_rng(62)
    for shape in [(1, 1, 1, 1), (1, 3, 5, 2), (1, 8, 6, 16), (1, 10, 10, 64)]:
        a_S, a_G = _activation(rng, *shape[1:]), _activation(rng, *shape[1:])
        case = f"random activations of shape {shape}"
        got = layer_style_cost(keras.ops.convert_to_tensor(a_S), keras.ops.convert_to_tensor(a_G))
        expect_close(_scalar(got, "layer_style_cost", case), oracle_layer_style_cost(a_S, a_G), "layer_style_cost",
                     case, rtol=1e-4, hint=UNROLL_HINT + "; the factor is 1 / (2 n_H n_W n_C)^2, squared")


def _check_style_cost(style_cost, shapes, weights, seed):
    rng = np.random.default_rng(seed)
    a_S = [_activation(rng, *s) for s in shapes]
    a_G = [_activation(rng, *s) for s in shapes]
    expected = sum(w * oracle_layer_style_cost(s, g) for w, s, g in zip(weights, a_S, a_G))
    case = f"{len(shapes)} layers of shapes {[(1, *s) for s in shapes]}, lambdas {list(weights)}"
    expect_close(_scalar(style_cost(a_S, a_G, weights), "style_cost", case), expected, "style_cost", case,
                 rtol=1e-4, hint="sum over the layers of lambda_l * layer_style_cost(a_S[l], a_G[l])")


def public_style_cost(style_cost):
    """Two layers with lambdas 0.5 and 0.5, then one layer with lambda 2 (the weights must be used)."""
    _check_style_cost(style_cost, [(4, 4, 3), (2, 2, 6)], [0.5, 0.5], seed=63)
    _check_style_cost(style_cost, [(3, 5, 2)], [2.0], seed=64)


def hidden_style_cost(style_cost):
    """Five layers of VGG-like shapes with unequal lambdas; a zero lambda must remove its layer."""
    shapes = [(16, 16, 8), (8, 8, 16), (4, 4, 32), (2, 2, 64), (1, 1, 64)]
    _check_style_cost(style_cost, shapes, [0.1, 0.4, 0.0, 0.3, 0.2], seed=65)
    _check_style_cost(style_cost, shapes[:3], [1.0, 0.0, 0.0], seed=66)


def public_total_cost(total_cost):
    """alpha = 10, beta = 40 (the defaults): J = 10 * 1 + 40 * 2 = 90; then alpha = 1, beta = 0.5: 1 * 3 + 0.5 * 4."""
    expect_close(_scalar(total_cost(1.0, 2.0), "total_cost", "defaults"), 90.0, "total_cost",
                 "J_content = 1, J_style = 2 with the defaults alpha = 10, beta = 40", hint="alpha * J_content + beta * J_style")
    expect_close(_scalar(total_cost(3.0, 4.0, alpha=1.0, beta=0.5), "total_cost", "alpha 1, beta 0.5"), 5.0,
                 "total_cost", "J_content = 3, J_style = 4, alpha = 1, beta = 0.5", hint="use the alpha and beta given")


def hidden_total_cost(total_cost):
    """Tensors in, random weights, alpha or beta zero."""
    import keras

    rng = np.random.default_rng(67)
    for alpha, beta in [(0.0, 1.0), (1.0, 0.0), (rng.uniform(0, 100), rng.uniform(0, 1))]:
        j_c, j_s = rng.uniform(0, 10, size=2)
        case = f"J_content {j_c:.4g}, J_style {j_s:.4g}, alpha {alpha:.4g}, beta {beta:.4g}"
        got = total_cost(keras.ops.convert_to_tensor(np.float32(j_c)), keras.ops.convert_to_tensor(np.float32(j_s)),
                         alpha=alpha, beta=beta)
        expect_close(_scalar(got, "total_cost", case), alpha * j_c + beta * j_s, "total_cost", case, rtol=1e-5)


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
    if optimizer_name == "SGD":
        moved = start - learning_rate * gradient
    else:  # Adam's first step: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + epsilon)
        moved = start - learning_rate * gradient / (np.abs(gradient) + 1e-7)
    expect_close(keras.ops.convert_to_numpy(generated), np.clip(moved, 0.0, 1.0), "the image after one step", case,
                 rtol=1e-4, atol=1e-5, hint="gradient of J with respect to the image (a GradientTape), "
                 "optimizer.apply_gradients([(grad, generated)]), then generated.assign(clip to [0, 1])")


def public_optimisation_step(optimisation_step):
    """One SGD step on a cost whose gradient is known, image (1, 4, 4, 3): moved, then clipped to [0, 1]."""
    _check_step(optimisation_step, (1, 4, 4, 3), "SGD", 0.4, seed=68)


def hidden_optimisation_step(optimisation_step):
    """Adam's first step (it moves every pixel by the learning rate), a non-square image, a large SGD step that
    pushes most pixels out of [0, 1]."""
    _check_step(optimisation_step, (1, 5, 7, 3), "Adam", 0.05, seed=69)
    _check_step(optimisation_step, (1, 3, 2, 3), "SGD", 2.0, seed=70)
