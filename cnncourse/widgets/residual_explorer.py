"""The residual explorer: how far the signal gets through a deep network, forward and backward, with and without
skip connections, at initialisation.

Pure functions (numpy only, no display, no Keras):
    digits_batch(n) -> (X, y)                    n of sklearn's 8x8 digits, standardised: 64 numbers each
    signal_by_depth(X, y, blocks, residual, scale, seed) -> dict   every layer's activation size and gradient size
    residual_text(plain, residual) -> str        the sizes at the input and at the output, and their ratio
    residual_figure(plain, residual, show) -> Figure   both, by depth, on a log scale
The widget:
    residual_explorer() -> Explorer              controls "blocks", "weight scale" and "show"

The network: `blocks` blocks of two fully connected layers of 64 units on the digits, a^[l+2] = g(z^[l+2] + a^[l])
with the skip connection (a residual block, as in c2_2) or a^[l+2] = g(z^[l+2]) without it, g = ReLU, then a
softmax over the 10 classes and the cross-entropy loss. Weights are drawn from N(0, (scale * sqrt(2 / 64))^2):
scale 1 is He initialisation. Forward and backward passes are written out here in numpy, so the widget needs no
trained model and redraws at once; tests/test_residual_explorer.py checks the gradients numerically.
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.ops.validate import require_int
from cnncourse.widgets.conv_explorer import Explorer

WIDTH = 64  # units per layer: the 8x8 digits' 64 pixels
CAPTION = (
    "<b>Try this.</b> Start at weight scale 0.5 with 15 blocks: without skip connections the gradient "
    "that reaches the first layers is many powers of ten smaller than at the last ones, so the early layers hardly "
    "learn; with them it arrives almost whole, through the identity path. Add blocks: the plain network's gradient "
    "shrinks further with every block. Then set the scale to 1 (He initialisation): the plain network now keeps its "
    "signal, and the residual one's grows block after block, one reason why real ResNets put batch normalisation in "
    "every block."
)


def digits_batch(n=256):
    """The first n of sklearn's 1,797 8x8 digits (offline), each pixel standardised over the n images.

    Returns:
        (X, y): float64 array (n, 64) and int array (n,) of labels 0..9.
    """
    from sklearn.datasets import load_digits

    n = require_int(n, "n", 2)
    X, y = load_digits(return_X_y=True)
    X, y = X[:n].astype(np.float64), y[:n]
    return (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8), y


def _weights(blocks, scale, seed, n_features, n_classes):
    rng = np.random.default_rng(seed)
    std = scale * np.sqrt(2.0 / WIDTH)
    layers = [rng.normal(0.0, scale * np.sqrt(2.0 / n_features), (n_features, WIDTH))]
    layers += [rng.normal(0.0, std, (WIDTH, WIDTH)) for _ in range(2 * blocks)]
    readout = rng.normal(0.0, np.sqrt(1.0 / WIDTH), (WIDTH, n_classes))
    return layers, readout


def signal_by_depth(X, y, blocks=15, residual=True, scale=0.5, seed=0, n_classes=10, weights=None):
    """One forward and one backward pass of the network of the module docstring, at initialisation.

    Layer 0 maps the input to 64 units (a^[0] = g(X W^[0])); blocks b = 0 .. blocks-1 follow, each with the layers
    2b + 1 and 2b + 2.

    Args:
        X: (m, n_features) inputs; y: (m,) int labels in 0..n_classes-1.
        blocks: number of two-layer blocks (int >= 1); residual: add the skip connections.
        scale: the weights' standard deviation as a multiple of He's sqrt(2 / fan_in), > 0.
        seed: seeds the weights (plain and residual networks of one seed have the same weights).
        weights: optional (layers, readout) to use instead of drawing them (tests use it).
    Returns:
        dict with "forward" (array (2 * blocks + 1,): the root mean square of a^[l], l = 0 .. 2 blocks),
        "backward" (the same length: the norm of dL/da^[l]), "weight_gradients" (list of arrays dL/dW^[l],
        l = 0 .. 2 blocks), "loss" (float, the mean cross-entropy), "residual", "blocks", "scale".
    """
    blocks = require_int(blocks, "blocks", 1)
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or len(y) != len(X):
        raise ValueError(f"X must be (m, n_features) and y (m,), got {X.shape} and {y.shape}")
    layers, readout = weights if weights is not None else _weights(blocks, scale, seed, X.shape[1], n_classes)
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731

    z0 = X @ layers[0]
    acts, cache = [relu(z0)], []
    for b in range(blocks):
        a = acts[-1]
        z1 = a @ layers[2 * b + 1]
        a1 = relu(z1)
        s = a1 @ layers[2 * b + 2] + (a if residual else 0.0)
        cache.append((a, z1, a1, s))
        acts += [a1, relu(s)]
    logits = acts[-1] @ readout
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    m = len(y)
    loss = float(-np.mean(np.log(probs[np.arange(m), y] + 1e-300)))

    dlogits = probs.copy()
    dlogits[np.arange(m), y] -= 1.0
    dlogits /= m
    da = dlogits @ readout.T
    backward = [np.linalg.norm(da)]
    grads = [None] * (2 * blocks + 1)
    for b in reversed(range(blocks)):
        a, z1, a1, s = cache[b]
        ds = da * (s > 0)
        grads[2 * b + 2] = a1.T @ ds
        da1 = ds @ layers[2 * b + 2].T
        backward.append(np.linalg.norm(da1))
        dz1 = da1 * (z1 > 0)
        grads[2 * b + 1] = a.T @ dz1
        da = dz1 @ layers[2 * b + 1].T + (ds if residual else 0.0)
        backward.append(np.linalg.norm(da))
    grads[0] = X.T @ (da * (z0 > 0))
    return {
        "forward": np.array([np.sqrt(np.mean(a ** 2)) for a in acts]),
        "backward": np.array(backward[::-1]),
        "weight_gradients": grads,
        "loss": loss,
        "residual": bool(residual),
        "blocks": blocks,
        "scale": float(scale),
    }


def residual_text(plain, residual):
    """For each network: the gradient's norm at the last and the first layer and their ratio, and the activations'
    size at both ends."""
    lines = [f"{plain['blocks']} blocks ({2 * plain['blocks'] + 1} hidden layers), weight scale "
             f"{plain['scale']:.2f} x He"]
    for name, run in (("without skips", plain), ("with skips   ", residual)):
        first, last = run["backward"][0], run["backward"][-1]
        lines.append(f"{name}: |dL/da| {last:.1e} at the last layer, {first:.1e} at the first "
                     f"(x {first / last:.1e}); activations {run['forward'][0]:.1e} -> {run['forward'][-1]:.1e}")
    return "\n".join(lines)


def residual_figure(plain, residual, show="both"):
    """Left: the size of the activations a^[l] by depth; right: the size of the gradient dL/da^[l] by depth; log
    scales, the networks chosen by `show` ("plain", "residual" or "both").

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    runs = {"plain": [("without skip connections", plain, "tab:red")],
            "residual": [("with skip connections", residual, "tab:blue")]}
    chosen = runs["plain"] + runs["residual"] if show == "both" else runs[show]
    fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(10, 3.9), layout="constrained")
    depth = np.arange(len(plain["forward"]))
    for label, run, colour in chosen:
        ax_f.semilogy(depth, run["forward"], "o-", markersize=3, color=colour, label=label)
        ax_b.semilogy(depth, run["backward"], "o-", markersize=3, color=colour, label=label)
    ax_f.set_title("forward: size of the activations a[l]", fontsize=10)
    ax_f.set_ylabel("root mean square of a[l]")
    ax_b.set_title("backward: size of the gradient dL/da[l]", fontsize=10)
    ax_b.set_ylabel("norm of dL/da[l]")
    for ax in (ax_f, ax_b):
        ax.set_xlabel("layer l (0 = first hidden layer)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(f"{plain['blocks']} blocks of two layers at initialisation, weights {plain['scale']:.2f} x He, "
                 f"on 8x8 digits", fontsize=11)
    return fig


def residual_explorer(blocks=15, scale=0.5, show="both", seed=0):
    """Build the residual explorer and draw it once.

    Args:
        blocks: first number of blocks (1-40); scale: first weight scale (0.25-1.5); show: "plain", "residual" or
        "both"; seed: seeds the weights.
    Returns:
        Explorer with controls "blocks" (IntSlider), "weight scale" (FloatSlider) and "show" (ToggleButtons).
    """
    X, y = digits_batch()
    style = {"description_width": "90px"}
    controls = {
        "blocks": widgets.IntSlider(value=blocks, min=1, max=40, description="blocks", continuous_update=False,
                                    style=style),
        "weight scale": widgets.FloatSlider(value=scale, min=0.25, max=1.5, step=0.05, description="weight scale",
                                            continuous_update=False, style=style),
        "show": widgets.ToggleButtons(options=[("both", "both"), ("without skips", "plain"),
                                               ("with skips", "residual")], value=show, description="show",
                                      style=style),
    }

    def draw(values):
        runs = [signal_by_depth(X, y, values["blocks"], residual, values["weight scale"], seed)
                for residual in (False, True)]
        return residual_figure(*runs, values["show"]), residual_text(*runs)

    box = Explorer(CAPTION, controls, draw,
                   [[controls["blocks"], controls["weight scale"]], [controls["show"]]])
    box.update()
    return box
