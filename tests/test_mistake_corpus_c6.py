"""Chapter 6's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The functions are called by the checks directly, not through nbgrader, so the whole file runs in seconds. A mistake
in a helper (gram_matrix, layer_style_cost) must cost only the helper: the hidden checks of its callers run them
with the reference helpers swapped into their globals (cnncourse.checks.core.reference_helpers), the public checks do not.
"""

import inspect

import numpy as np
import pytest
from keras import ops

from cnncourse.checks import c6_style as checks
from cnncourse.checks.core import CheckFailed
from cnncourse.checks.core import reference_helpers
from cnncourse.ops import c6_costs
from test_c6_costs import _step_returning_costs_after, _step_without_clipping

# The notebook's names, as a student's code finds them (its functions call gram_matrix and layer_style_cost by name).
gram_matrix = c6_costs.gram_matrix
layer_style_cost = c6_costs.layer_style_cost


def _sizes(a):
    _, n_H, n_W, n_C = a.shape
    return int(n_H), int(n_W), int(n_C)


# ---------------------------------------------------------------- content_cost
def content_no_four(a_C, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    return ops.sum(ops.square(a_C - a_G)) / (n_H * n_W * n_C)


def content_mean_no_four(a_C, a_G):  # mean of the squares: the 4 forgotten
    return ops.mean(ops.square(a_C - a_G))


def content_no_normalisation(a_C, a_G):
    return ops.sum(ops.square(a_C - a_G))


def content_abs(a_C, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    return ops.sum(ops.abs(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_norm_not_squared(a_C, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    return ops.sqrt(ops.sum(ops.square(a_C - a_G))) / (4 * n_H * n_W * n_C)


def content_square_of_sum(a_C, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    return ops.square(ops.sum(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_channels_only(a_C, a_G):  # 1 / (4 n_C): n_H and n_W forgotten
    n_C = _sizes(a_G)[2]
    return ops.sum(ops.square(a_C - a_G)) / (4 * n_C)


def content_mean_over_four(a_C, a_G):
    return ops.mean(ops.square(a_C - a_G)) / 4


def content_numpy(a_C, a_G):
    a_C, a_G = np.asarray(a_C, np.float64), np.asarray(a_G, np.float64)
    return np.sum((a_C - a_G) ** 2) / (4 * a_C.size)


def content_unrolled(a_C, a_G):  # Coursera's unrolling first: the same sum
    n_H, n_W, n_C = _sizes(a_G)
    C, G = ops.reshape(a_C, (-1, n_C)), ops.reshape(a_G, (-1, n_C))
    return ops.sum(ops.square(ops.subtract(C, G))) / (4.0 * n_H * n_W * n_C)


# ---------------------------------------------------------------- gram_matrix
def gram_AtA(A):
    return ops.matmul(ops.transpose(A), A)


def gram_elementwise(A):
    return A * A


def gram_AA(A):
    return ops.matmul(A, A)


def gram_over_positions(A):  # normalised by the number of positions (another course's convention)
    return ops.matmul(A, ops.transpose(A)) / A.shape[1]


def gram_diagonal_only(A):
    return ops.sum(ops.square(A), axis=1)


def gram_einsum(A):
    return ops.einsum("kp,lp->kl", A, A)


def gram_transpose_b(A):
    import tensorflow as tf

    return tf.linalg.matmul(A, A, transpose_b=True)


def gram_numpy(A):
    A = np.asarray(A)
    return A @ A.T


def gram_tensordot(A):
    return ops.tensordot(A, A, axes=[[1], [1]])


# ---------------------------------------------------------------- layer_style_cost
def _style(S, G, n_H, n_W, n_C):
    return ops.sum(ops.square(gram_matrix(S) - gram_matrix(G))) / (2.0 * n_H * n_W * n_C) ** 2


def style_reshape_without_transpose(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    return _style(ops.reshape(a_S, (n_C, n_H * n_W)), ops.reshape(a_G, (n_C, n_H * n_W)), n_H, n_W, n_C)


def style_positions_gram(a_S, a_G):  # (n_H n_W, n_C) passed on untransposed: a Gram of positions
    n_H, n_W, n_C = _sizes(a_G)
    return _style(ops.reshape(a_S, (n_H * n_W, n_C)), ops.reshape(a_G, (n_H * n_W, n_C)), n_H, n_W, n_C)


def style_factor_not_squared(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    S, G = ops.transpose(ops.reshape(a_S, (-1, n_C))), ops.transpose(ops.reshape(a_G, (-1, n_C)))
    return ops.sum(ops.square(gram_matrix(S) - gram_matrix(G))) / (2.0 * n_H * n_W * n_C)


def style_positions_not_squared(a_S, a_G):  # 1 / (4 n_C^2 n_H n_W): (n_H n_W)^2 written n_H n_W
    n_H, n_W, n_C = _sizes(a_G)
    S, G = ops.transpose(ops.reshape(a_S, (-1, n_C))), ops.transpose(ops.reshape(a_G, (-1, n_C)))
    return ops.sum(ops.square(gram_matrix(S) - gram_matrix(G))) / (4.0 * n_C ** 2 * n_H * n_W)


def style_no_normalisation(a_S, a_G):
    n_C = _sizes(a_G)[2]
    S, G = ops.transpose(ops.reshape(a_S, (-1, n_C))), ops.transpose(ops.reshape(a_G, (-1, n_C)))
    return ops.sum(ops.square(gram_matrix(S) - gram_matrix(G)))


def style_mean(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    S, G = ops.transpose(ops.reshape(a_S, (-1, n_C))), ops.transpose(ops.reshape(a_G, (-1, n_C)))
    return ops.mean(ops.square(gram_matrix(S) - gram_matrix(G))) / (2.0 * n_H * n_W * n_C) ** 2


def style_frobenius_not_squared(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    S, G = ops.transpose(ops.reshape(a_S, (-1, n_C))), ops.transpose(ops.reshape(a_G, (-1, n_C)))
    return ops.sqrt(ops.sum(ops.square(gram_matrix(S) - gram_matrix(G)))) / (2.0 * n_H * n_W * n_C) ** 2


def style_difference_of_activations(a_S, a_G):  # no Gram at all: the content cost's formula
    n_H, n_W, n_C = _sizes(a_G)
    return ops.sum(ops.square(a_S - a_G)) / (2.0 * n_H * n_W * n_C) ** 2


def style_transpose_whole_then_reshape(a_S, a_G):  # (n_C, n_W, n_H) then rows: positions in another order
    n_H, n_W, n_C = _sizes(a_G)
    S, G = ops.reshape(ops.transpose(a_S[0]), (n_C, -1)), ops.reshape(ops.transpose(a_G[0]), (n_C, -1))
    return _style(S, G, n_H, n_W, n_C)


def style_einsum(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    GS, GG = ops.einsum("bhwk,bhwl->kl", a_S, a_S), ops.einsum("bhwk,bhwl->kl", a_G, a_G)
    return ops.sum((GS - GG) ** 2) / (4 * n_C ** 2 * (n_H * n_W) ** 2)


def style_numpy(a_S, a_G):
    n_H, n_W, n_C = _sizes(a_G)
    S, G = np.asarray(a_S, np.float64).reshape(-1, n_C).T, np.asarray(a_G, np.float64).reshape(-1, n_C).T
    return np.sum((S @ S.T - G @ G.T) ** 2) / (2 * n_H * n_W * n_C) ** 2


def style_transpose_first(a_S, a_G):  # channels to the front, then unroll: the same rows
    n_H, n_W, n_C = _sizes(a_G)
    S = ops.reshape(ops.transpose(a_S, (3, 0, 1, 2)), (n_C, n_H * n_W))
    G = ops.reshape(ops.transpose(a_G, (3, 0, 1, 2)), (n_C, n_H * n_W))
    return _style(S, G, n_H, n_W, n_C)


# ---------------------------------------------------------------- style_cost
def weights_ignored(S, G, w):
    return sum(layer_style_cost(a, b) for a, b in zip(S, G))


def layers_averaged(S, G, w):
    return sum(layer_style_cost(a, b) for a, b in zip(S, G)) / len(S)


def divided_by_weight_sum(S, G, w):
    return sum(lam * layer_style_cost(a, b) for a, b, lam in zip(S, G, w)) / sum(w)


def weights_reversed(S, G, w):
    return sum(lam * layer_style_cost(a, b) for a, b, lam in zip(S, G, reversed(list(w))))


def weights_squared(S, G, w):
    return sum(lam ** 2 * layer_style_cost(a, b) for a, b, lam in zip(S, G, w))


def last_layer_dropped(S, G, w):
    return sum(w[i] * layer_style_cost(S[i], G[i]) for i in range(len(S) - 1)) + 0.0 * layer_style_cost(S[0], G[0])


def style_sum_generator(S, G, w):
    return sum(lam * layer_style_cost(a, b) for a, b, lam in zip(S, G, w))


def style_stacked(S, G, w):
    costs = ops.stack([layer_style_cost(a, b) for a, b in zip(S, G)])
    return ops.sum(costs * ops.convert_to_tensor(np.asarray(w, np.float32)))


def style_arguments_swapped(S, G, w):  # the layer cost is symmetric in S and G
    J = 0.0
    for i in range(len(w)):
        J = J + w[i] * layer_style_cost(G[i], S[i])
    return J


# ---------------------------------------------------------------- total_cost
def total_alpha_twice(J_content, J_style, alpha=10, beta=40):
    return alpha * J_content + alpha * J_style


def total_swapped(J_content, J_style, alpha=10, beta=40):
    return beta * J_content + alpha * J_style


def total_unweighted(J_content, J_style, alpha=10, beta=40):
    return J_content + J_style


def total_defaults_swapped(J_content, J_style, alpha=40, beta=10):
    return alpha * J_content + beta * J_style


def total_normalised(J_content, J_style, alpha=10, beta=40):
    return (alpha * J_content + beta * J_style) / (alpha + beta)


def total_ops(J_content, J_style, alpha=10, beta=40):
    return ops.add(ops.multiply(alpha, J_content), ops.multiply(beta, J_style))


def total_reordered(J_content, J_style, alpha=10, beta=40):
    return J_style * beta + J_content * alpha


# ---------------------------------------------------------------- optimisation_step
# the step without clipping and the step that returns the costs after it: test_c6_costs.py's own two
step_without_clipping, step_returns_costs_after = _step_without_clipping, _step_returning_costs_after


def step_ascent(generated, cost_fn, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        costs = cost_fn(generated)
    optimizer.apply_gradients([(-tape.gradient(costs[0], generated), generated)])
    generated.assign(ops.clip(generated, 0.0, 1.0))
    return costs


def step_content_gradient(generated, cost_fn, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        J, J_content, J_style = cost_fn(generated)
    optimizer.apply_gradients([(tape.gradient(J_content, generated), generated)])
    generated.assign(ops.clip(generated, 0.0, 1.0))
    return J, J_content, J_style


def step_clip_before(generated, cost_fn, optimizer):
    import tensorflow as tf

    generated.assign(ops.clip(generated, 0.0, 1.0))
    with tf.GradientTape() as tape:
        costs = cost_fn(generated)
    optimizer.apply_gradients([(tape.gradient(costs[0], generated), generated)])
    return costs


def step_fixed_rate(generated, cost_fn, optimizer):  # the optimizer ignored: plain gradient descent with lr 0.01
    import tensorflow as tf

    with tf.GradientTape() as tape:
        costs = cost_fn(generated)
    generated.assign(ops.clip(generated - 0.01 * tape.gradient(costs[0], generated), 0.0, 1.0))
    return costs


def step_keras_apply(generated, cost_fn, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        J, J_content, J_style = cost_fn(generated)
    optimizer.apply([tape.gradient(J, generated)], [generated])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J, J_content, J_style


def step_assign_min_max(generated, cost_fn, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        costs = cost_fn(generated)
    grads = tape.gradient(costs[0], [generated])
    optimizer.apply_gradients(zip(grads, [generated]))
    generated.assign(ops.minimum(ops.maximum(generated, 0.0), 1.0))
    return tuple(costs)


# ---------------------------------------------------------------- the corpus
# (function, callable, public must fail too)
MISTAKES = {
    "content_cost": [(content_no_four, True), (content_mean_no_four, True), (content_no_normalisation, True),
                     (content_abs, True), (content_norm_not_squared, True), (content_square_of_sum, True),
                     (content_channels_only, True)],
    "gram_matrix": [(gram_AtA, True), (gram_elementwise, True), (gram_AA, True), (gram_over_positions, True),
                    (gram_diagonal_only, True)],
    "layer_style_cost": [(style_reshape_without_transpose, True), (style_positions_gram, True),
                         (style_factor_not_squared, True), (style_positions_not_squared, True),
                         (style_no_normalisation, True), (style_mean, True), (style_frobenius_not_squared, True),
                         (style_difference_of_activations, True)],
    "style_cost": [(weights_ignored, True), (layers_averaged, True), (divided_by_weight_sum, True),
                   (weights_reversed, True), (weights_squared, True), (last_layer_dropped, True)],
    "total_cost": [(total_alpha_twice, True), (total_swapped, True), (total_unweighted, True),
                   (total_defaults_swapped, True), (total_normalised, True)],
    "optimisation_step": [(step_without_clipping, True), (step_returns_costs_after, True), (step_ascent, True),
                          (step_content_gradient, True), (step_clip_before, True), (step_fixed_rate, True)],
}
ALTERNATIVES = {
    "content_cost": [content_mean_over_four, content_numpy, content_unrolled],
    "gram_matrix": [gram_einsum, gram_transpose_b, gram_numpy, gram_tensordot],
    "layer_style_cost": [style_transpose_whole_then_reshape, style_einsum, style_numpy, style_transpose_first],
    "style_cost": [style_sum_generator, style_stacked, style_arguments_swapped],
    "total_cost": [total_ops, total_reordered],
    "optimisation_step": [step_keras_apply, step_assign_min_max],
}
_MISTAKE_CASES = [(name, fn, public) for name, cases in MISTAKES.items() for fn, public in cases]
_ALTERNATIVE_CASES = [(name, fn) for name, cases in ALTERNATIVES.items() for fn in cases]


def _fails(check, fn):
    """How check(fn) failed, or None when it passed. A mistake may also crash in its own code (A A for a non-square
    A): the grade cell fails with the student's own traceback, which is fair. A CheckFailed must say what was
    expected."""
    try:
        check(fn)
    except CheckFailed as err:
        assert "expected" in str(err), str(err)
        return str(err)
    except Exception as err:  # noqa: BLE001 - raised by the student's code, not by the check
        assert "cnncourse/checks" not in "".join(__import__("traceback").format_tb(err.__traceback__)[-1:]), err
        return f"{type(err).__name__}: {err}"
    return None


@pytest.mark.parametrize("name, wrong, public", _MISTAKE_CASES, ids=[f"{n}-{f.__name__}" for n, f, _ in _MISTAKE_CASES])
def test_each_mistake_fails_the_hidden_check_and_the_public_one(name, wrong, public):
    message = _fails(getattr(checks, f"hidden_{name}"), wrong)
    assert message is not None, f"{wrong.__name__} passed hidden_{name}"
    if public:
        assert _fails(getattr(checks, f"public_{name}"), wrong) is not None, f"{wrong.__name__} passed public_{name}"


@pytest.mark.parametrize("name, right", _ALTERNATIVE_CASES, ids=[f"{n}-{f.__name__}" for n, f in _ALTERNATIVE_CASES])
def test_each_correct_alternative_passes_both_checks(name, right):
    assert _fails(getattr(checks, f"public_{name}"), right) is None
    assert _fails(getattr(checks, f"hidden_{name}"), right) is None


def test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function():
    graded = {"content_cost", "gram_matrix", "layer_style_cost", "style_cost", "total_cost", "optimisation_step"}
    assert set(MISTAKES) == set(ALTERNATIVES) == graded
    assert all(len(MISTAKES[name]) >= 3 and len(ALTERNATIVES[name]) >= 1 for name in graded)


# What the hidden check's hint must say for a mistake it can recognise from the value that came back.
HINTS = {
    content_no_four: "the 4 in 1 / (4 n_H n_W n_C) is missing", content_no_normalisation: "normalisation",
    content_abs: "absolute differences", content_norm_not_squared: "square root", content_square_of_sum: "squared",
    content_channels_only: "only n_C",
    gram_AtA: "A^T A", gram_elementwise: "element-wise", gram_over_positions: "number of positions",
    gram_diagonal_only: "diagonal",
    style_reshape_without_transpose: "without the transpose", style_positions_gram: "Gram matrix of the positions",
    style_factor_not_squared: "was not squared", style_positions_not_squared: "(n_H n_W)^2",
    style_no_normalisation: "1 / (4 n_C^2 (n_H n_W)^2) is missing", style_mean: "mean",
    style_frobenius_not_squared: "square root", style_difference_of_activations: "not their Gram matrices",
    weights_ignored: "lambdas were left out", layers_averaged: "averaged", divided_by_weight_sum: "sum of the lambdas",
    weights_reversed: "reverse order", weights_squared: "squared", last_layer_dropped: "last layer",
    total_alpha_twice: "alpha weighs both", total_swapped: "swapped", total_unweighted: "left out",
    total_defaults_swapped: "defaults were swapped", total_normalised: "alpha + beta",
    step_without_clipping: "not clipped", step_ascent: "UP the gradient", step_content_gradient: "J_content",
    step_clip_before: "not clipped", step_fixed_rate: "optimizer was not used",
    step_returns_costs_after: "BEFORE the step",
}
_HINT_CASES = [(name, fn) for name, fn, _ in _MISTAKE_CASES if fn in HINTS]


@pytest.mark.parametrize("name, wrong", _HINT_CASES, ids=[f"{n}-{f.__name__}" for n, f in _HINT_CASES])
def test_hidden_failures_name_the_likely_mistake(name, wrong):
    message = _fails(getattr(checks, f"hidden_{name}"), wrong)
    assert HINTS[wrong] in message.split("Hint:", 1)[-1], message


def test_a_hint_never_names_a_mistake_that_gives_the_right_value():
    hint = checks._likely(2.0, 1.0, [(1.0, "coincides"), (2.0, "fits"), (3.0, "does not fit")], "the rule")
    assert hint == "looks like fits; the rule"


# ---------------------------------------------------------------- one mistake, one loss
def _notebook(**broken):
    """A notebook's namespace: the reference cells of Chapter 6 run in one dict, then the `broken` helpers."""
    namespace = {"ops": ops, "np": np, "require_same_activations": c6_costs.require_same_activations}
    for fn in (c6_costs.gram_matrix, c6_costs.layer_style_cost, c6_costs.style_cost):
        exec(inspect.getsource(fn), namespace)  # noqa: S102 - the course's own source, as a notebook cell holds it
    namespace.update(broken)
    return namespace


@pytest.mark.parametrize("caller, broken", [
    ("layer_style_cost", {"gram_matrix": gram_AtA}),
    ("layer_style_cost", {"gram_matrix": gram_over_positions}),
    ("style_cost", {"gram_matrix": gram_AtA}),
    ("style_cost", {"layer_style_cost": style_reshape_without_transpose}),
    ("style_cost", {"layer_style_cost": style_factor_not_squared}),
], ids=["layer_style_cost-gram_AtA", "layer_style_cost-gram_over_positions", "style_cost-gram_AtA",
        "style_cost-layer_unrolled_without_transpose", "style_cost-layer_factor_not_squared"])
def test_a_broken_helper_costs_the_caller_nothing_but_shows_in_the_public_check(caller, broken, capsys):
    namespace = _notebook(**broken)
    fn = namespace[caller]
    assert fn.__globals__ is namespace
    assert _fails(getattr(checks, f"hidden_{caller}"), fn) is None
    assert _fails(getattr(checks, f"public_{caller}"), fn) is None
    assert "the mistake is in your" in capsys.readouterr().out  # the student sees where the chain's error starts
    assert all(namespace[name] is helper for name, helper in broken.items())  # the notebook's own helpers are back


def test_a_caller_with_its_own_mistake_still_fails_with_the_reference_helpers():
    namespace = _notebook()
    exec(inspect.getsource(weights_reversed), namespace)  # noqa: S102 - a corpus mistake defined in the notebook
    assert "reverse order" in _fails(checks.hidden_style_cost, namespace["weights_reversed"])


def test_reference_helpers_swaps_and_restores_names_even_when_the_block_raises():
    namespace = {"gram_matrix": gram_AtA}
    exec("def caller(A):\n    return gram_matrix(A)\n", namespace)  # noqa: S102
    caller = namespace["caller"]
    with reference_helpers(caller, gram_matrix=c6_costs.gram_matrix, extra=len):  # only names it has are swapped
        assert namespace["gram_matrix"] is c6_costs.gram_matrix and "extra" not in namespace
    assert namespace["gram_matrix"] is gram_AtA and "extra" not in namespace
    with pytest.raises(ZeroDivisionError), reference_helpers(caller, gram_matrix=c6_costs.gram_matrix):
        1 / 0
    assert namespace["gram_matrix"] is gram_AtA


def test_reference_helpers_does_nothing_for_a_function_without_globals():
    class Replay:  # a stand-in that replays recorded outputs has no namespace to swap in
        def __call__(self, *args):
            return 0.0

    replay = Replay()
    with reference_helpers(replay, gram_matrix=c6_costs.gram_matrix):
        assert replay() == 0.0
    assert not hasattr(replay, "__globals__")


def test_the_swapped_in_references_do_not_trip_the_guard_on_reference_calls(monkeypatch):
    """As in a graded kernel: the references guarded (tripwire), the notebook's functions compiled as ipykernel
    cells. Swapping a guarded helper into an honest caller is not reuse; passing the reference off still is."""
    from cnncourse.grading import tripwire

    for name in ("gram_matrix", "layer_style_cost"):
        monkeypatch.setattr(c6_costs, name, tripwire._wrap(getattr(c6_costs, name), f"cnncourse.ops.c6_costs.{name}"))
    namespace = {"ops": ops, "np": np, "require_same_activations": c6_costs.require_same_activations}
    for fn in (c6_costs.gram_matrix, c6_costs.layer_style_cost, c6_costs.style_cost):
        source = inspect.getsource(inspect.unwrap(fn))
        exec(compile(source, "/tmp/ipykernel_1/cell.py", "exec"), namespace)  # noqa: S102
    checks.hidden_layer_style_cost(namespace["layer_style_cost"])
    checks.hidden_style_cost(namespace["style_cost"])
    with pytest.raises(tripwire.ReferenceCallError):
        checks.hidden_layer_style_cost(c6_costs.layer_style_cost)


@pytest.mark.parametrize("caller, broken, blamed", [
    ("layer_style_cost", {"gram_matrix": gram_AtA}, "mistake is in your gram_matrix"),
    ("style_cost", {"gram_matrix": gram_over_positions}, "mistake is in your gram_matrix"),
    ("style_cost", {"layer_style_cost": style_factor_not_squared}, "mistake is in your layer_style_cost"),
], ids=["layer_style_cost-gram_AtA", "style_cost-gram_over_positions", "style_cost-layer_factor_not_squared"])
def test_a_public_failure_caused_by_a_helper_says_where_the_mistake_starts_and_passes(caller, broken, blamed, capsys):
    assert _fails(getattr(checks, f"public_{caller}"), _notebook(**broken)[caller]) is None
    printed = capsys.readouterr().out
    assert blamed in printed and "expected" in printed and "keeps its points" in printed, printed


def test_a_public_failure_of_the_callers_own_mistake_blames_no_helper():
    assert "mistake is in your" not in _fails(checks.public_layer_style_cost, style_reshape_without_transpose)
    assert "mistake is in your" not in _fails(checks.public_style_cost, weights_reversed)


def test_without_a_reference_to_compare_with_the_public_failure_stays_as_it_was(monkeypatch):
    def stub(A):  # the student edition's gram_matrix: its answer left out
        raise NotImplementedError("cnncourse.ops.c6_costs.gram_matrix is an exercise")

    caller = _notebook(gram_matrix=gram_AtA)["layer_style_cost"]
    monkeypatch.setattr(c6_costs, "gram_matrix", stub)
    message = _fails(checks.public_layer_style_cost, caller)
    assert "expected" in message and "mistake is in your" not in message and "NotImplementedError" not in message
