"""Chapter 2's residual explorer: its gradients against finite differences, its forward pass against a loop written
here, the claims of its caption on the digits, and the widget's controls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import residual_explorer  # noqa: E402
from cnncourse.widgets.residual_explorer import (  # noqa: E402
    WIDTH,
    digits_batch,
    residual_figure,
    residual_text,
    signal_by_depth,
)


def small_problem(seed, blocks):
    """Inputs >= 0 and an identity first layer, so that a^[0] = X and dL/da^[0] = dL/dX."""
    rng = np.random.default_rng(seed)
    X = rng.random((6, WIDTH))
    y = rng.integers(0, 3, 6)
    layers = [np.eye(WIDTH)] + [rng.normal(0, 0.25, (WIDTH, WIDTH)) for _ in range(2 * blocks)]
    readout = rng.normal(0, 0.3, (WIDTH, 3))
    return X, y, (layers, readout)


def loss_of(X, y, weights, residual, blocks):
    return signal_by_depth(X, y, blocks, residual, weights=weights, n_classes=3)["loss"]


@pytest.mark.parametrize("residual", [False, True])
def test_gradients_match_finite_differences(residual):
    blocks, eps = 2, 1e-6
    X, y, weights = small_problem(1, blocks)
    run = signal_by_depth(X, y, blocks, residual, weights=weights, n_classes=3)
    rng = np.random.default_rng(2)
    numeric = np.zeros_like(X)  # dL/dX = dL/da^[0], every entry
    for idx in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[idx] += eps
        down[idx] -= eps
        difference = loss_of(up, y, weights, residual, blocks) - loss_of(down, y, weights, residual, blocks)
        numeric[idx] = difference / (2 * eps)
    assert run["backward"][0] == pytest.approx(np.linalg.norm(numeric), rel=1e-5)
    layers, readout = weights
    for layer in range(1, 2 * blocks + 1):  # a few entries of each weight matrix
        for _ in range(4):
            i, j = rng.integers(0, WIDTH, 2)
            bumped = []
            for sign in (1, -1):
                changed = [w.copy() for w in layers]
                changed[layer][i, j] += sign * eps
                bumped.append(loss_of(X, y, (changed, readout), residual, blocks))
            numeric_w = (bumped[0] - bumped[1]) / (2 * eps)
            assert run["weight_gradients"][layer][i, j] == pytest.approx(numeric_w, rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("residual", [False, True])
def test_forward_sizes_match_a_loop(residual):
    X, y, weights = small_problem(3, 3)
    layers, _ = weights
    run = signal_by_depth(X, y, 3, residual, weights=weights, n_classes=3)
    a = np.maximum(X @ layers[0], 0)
    want = [np.sqrt(np.mean(a ** 2))]
    for b in range(3):
        inner = np.maximum(a @ layers[2 * b + 1], 0)
        out = inner @ layers[2 * b + 2]
        a = np.maximum(out + a if residual else out, 0)
        want += [np.sqrt(np.mean(inner ** 2)), np.sqrt(np.mean(a ** 2))]
    np.testing.assert_allclose(run["forward"], want, rtol=1e-12)
    assert len(run["backward"]) == len(run["forward"]) == 7


def test_the_caption_holds_on_the_digits():
    X, y = digits_batch()
    assert X.shape == (256, 64) and set(np.unique(y)) == set(range(10))
    plain, residual = (signal_by_depth(X, y, 15, r, 0.5) for r in (False, True))
    assert plain["backward"][0] / plain["backward"][-1] < 1e-4  # vanishes through 30 plain layers
    assert residual["backward"][0] / residual["backward"][-1] > 0.1  # arrives almost whole with the skips
    deeper = signal_by_depth(X, y, 25, False, 0.5)
    assert deeper["backward"][0] / deeper["backward"][-1] < plain["backward"][0] / plain["backward"][-1]
    he_plain, he_residual = (signal_by_depth(X, y, 15, r, 1.0) for r in (False, True))
    assert he_residual["forward"][-1] > 10 * he_plain["forward"][-1]  # the skips make it grow at He scale
    text = residual_text(plain, residual)
    assert "15 blocks" in text and f"{plain['backward'][0]:.1e} at the first" in text
    fig = residual_figure(plain, residual, "plain")
    assert len(fig.axes[0].lines) == 1 and all(ax.get_yscale() == "log" for ax in fig.axes)
    matplotlib.pyplot.close(fig)


def test_bad_input_is_a_value_error():
    X, y = digits_batch(8)
    with pytest.raises(ValueError, match="scale"):
        signal_by_depth(X, y, 2, True, 0.0)
    with pytest.raises(ValueError, match="blocks"):
        signal_by_depth(X, y, 0, True, 0.5)
    with pytest.raises(ValueError, match="y"):
        signal_by_depth(X, y[:-1], 2, True, 0.5)


def test_explorer_follows_its_controls():
    box = residual_explorer()
    assert set(box.controls) == {"blocks", "weight scale", "show"} and "Try" in box.caption.value
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and "15 blocks" in box.formula.value
    assert len(box.figure.axes[1].lines) == 2
    box.controls["show"].value = "residual"
    assert len(box.figure.axes[1].lines) == 1 and bytes(box.picture.value) != first
    box.controls["blocks"].value = 4
    assert "4 blocks (9 hidden layers)" in box.formula.value
    box.controls["weight scale"].value = 1.0
    assert "1.00 x He" in box.formula.value and box.message.value == ""
