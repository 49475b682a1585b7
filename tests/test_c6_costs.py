"""Chapter 6's costs and optimisation step: the references pass their checks, typical mistakes fail them with a
message that says what went wrong, and bad inputs get a clear ValueError."""

import numpy as np
import pytest
from keras import ops

from cnncourse.checks import c6_style as checks
from cnncourse.ops import c6_costs, c6_step

GRADED = ["content_cost", "gram_matrix", "layer_style_cost", "style_cost", "total_cost"]


@pytest.mark.parametrize("name", GRADED)
def test_references_pass_public_and_hidden_checks(name):
    getattr(checks, f"public_{name}")(getattr(c6_costs, name))
    getattr(checks, f"hidden_{name}")(getattr(c6_costs, name))


def test_reference_step_passes_its_checks():
    checks.public_optimisation_step(c6_step.optimisation_step)
    checks.hidden_optimisation_step(c6_step.optimisation_step)


def _unrolled_without_transpose(a_S, a_G):
    _, n_H, n_W, n_C = a_G.shape
    S, G = ops.reshape(a_S, (n_C, n_H * n_W)), ops.reshape(a_G, (n_C, n_H * n_W))
    return ops.sum(ops.square(c6_costs.gram_matrix(S) - c6_costs.gram_matrix(G))) / (2.0 * n_H * n_W * n_C) ** 2


def _normalised_without_square(a_S, a_G):
    return c6_costs.layer_style_cost(a_S, a_G) * (2.0 * np.prod(a_G.shape[1:]))


def _step_without_clipping(generated, cost_fn, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        costs = cost_fn(generated)
    optimizer.apply_gradients([(tape.gradient(costs[0], generated), generated)])
    return costs


def _step_returning_costs_after(generated, cost_fn, optimizer):
    c6_step.optimisation_step(generated, cost_fn, optimizer)
    return cost_fn(generated)


MISTAKES = [
    ("content_cost", lambda a_C, a_G: ops.sum(ops.square(a_C - a_G)) / np.prod(a_G.shape[1:]), "content_cost"),
    ("content_cost", lambda a_C, a_G: ops.mean(ops.abs(a_C - a_G)), "content_cost"),
    ("gram_matrix", lambda A: ops.matmul(ops.transpose(A), A), "not A^T A"),
    ("layer_style_cost", _unrolled_without_transpose, "unroll"),
    ("layer_style_cost", _normalised_without_square, "layer_style_cost"),
    ("style_cost", lambda s, g, w: sum(c6_costs.layer_style_cost(a, b) for a, b in zip(s, g)) / len(s), "lambda"),
    ("total_cost", lambda j_c, j_s, alpha=10, beta=40: alpha * j_c + alpha * j_s, "total_cost"),
]


@pytest.mark.parametrize("name, wrong, words", MISTAKES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
def test_typical_mistakes_fail_the_checks_with_a_useful_message(name, wrong, words):
    with pytest.raises(AssertionError) as caught:
        getattr(checks, f"public_{name}")(wrong)
        getattr(checks, f"hidden_{name}")(wrong)
    assert words in str(caught.value)
    assert "expected" in str(caught.value)


@pytest.mark.parametrize("wrong, words", [(_step_without_clipping, "clip"), (_step_returning_costs_after, "BEFORE")])
def test_step_mistakes_fail_the_checks(wrong, words):
    with pytest.raises(AssertionError, match=words):
        checks.public_optimisation_step(wrong)
        checks.hidden_optimisation_step(wrong)


def test_layer_style_cost_is_zero_for_the_same_style_and_invariant_to_moving_positions():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1, 4, 6, 5)).astype(np.float32)
    shuffled = a.reshape(24, 5)[rng.permutation(24)].reshape(1, 4, 6, 5)  # same pixels, other places: same style
    assert float(c6_costs.layer_style_cost(a, shuffled)) == pytest.approx(0.0, abs=1e-6)
    assert float(c6_costs.content_cost(a, shuffled)) > 0.1  # but not the same content


@pytest.mark.parametrize("call, words", [
    (lambda: c6_costs.content_cost(np.zeros((2, 3, 3, 4)), np.zeros((2, 3, 3, 4))), "one image"),
    (lambda: c6_costs.content_cost(np.zeros((1, 3, 3, 4)), np.zeros((1, 3, 3, 8))), "same layer"),
    (lambda: c6_costs.layer_style_cost(np.zeros((3, 3, 4)), np.zeros((3, 3, 4))), "(1, n_H, n_W, n_C)"),
    (lambda: c6_costs.gram_matrix(np.zeros((1, 3, 3, 4))), "(n_C, n_H * n_W)"),
    (lambda: c6_costs.style_cost([np.zeros((1, 2, 2, 3))], [], [1.0]), "same length"),
    (lambda: c6_costs.total_cost(1.0, 2.0, alpha=-1), ">= 0"),
    (lambda: c6_step.optimisation_step(np.zeros((1, 4, 4, 3)), None, None), "keras.Variable"),
])
def test_bad_inputs_say_what_was_expected(call, words):
    with pytest.raises(ValueError) as caught:
        call()
    assert words in str(caught.value)
