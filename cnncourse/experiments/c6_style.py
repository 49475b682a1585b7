"""Chapter 6: neural style transfer, the whole run: images in, a generated image and its cost curves out.

The network (cnncourse.models.c6_vgg) is fixed; the pixels of the generated image are optimised with Adam to
minimise alpha J_content + beta J_style. Cost functions and the step can be the student's (the notebook passes
them) or the package's reference ones (benchmarks, widgets).
"""

import functools
import time

import keras
import numpy as np

from cnncourse.data.images import load_image
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c6_vgg import CONTENT_LAYER, STYLE_LAYERS, preprocess, vgg_extractor
from cnncourse.ops import c6_costs
from cnncourse.ops import c6_step

# fast: a recognisable picture on a 2-core CPU in well under a minute; full: 512 px on a GPU.
# The costs are on VGG's 0..255 scale, where the style cost (normalised by (2 n_H n_W n_C)^2) is small: beta is
# large so that both terms pull with comparable force at the start.
NST_TRAINING = {
    "fast": {"size": 160, "steps": 150, "learning_rate": 0.02, "alpha": 1.0, "beta": 3e-3, "noise": 0.25},
    "full": {"size": 512, "steps": 600, "learning_rate": 0.01, "alpha": 1.0, "beta": 3e-3, "noise": 0.25},
    "grade": {"size": 64, "steps": 3, "learning_rate": 0.02, "alpha": 1.0, "beta": 3e-3, "noise": 0.25},
}
SETTING_KEYS = ("size", "steps", "learning_rate", "alpha", "beta", "noise")
DEFAULT_LAYER_WEIGHTS = {name: 1 / len(STYLE_LAYERS) for name in STYLE_LAYERS}
REFERENCE_COSTS = {"content_cost": c6_costs.content_cost, "style_cost": c6_costs.style_cost,
                   "total_cost": c6_costs.total_cost}


@functools.lru_cache(maxsize=4)
def cached_extractor(layer_names, weights="hed"):
    """vgg_extractor(layer_names, weights), built once per session (loading the weights takes seconds)."""
    return vgg_extractor(list(layer_names), weights)


def load_pair(content="chelsea", style="hubble_deep_field", size=160):
    """The content and style images as (size, size, 3) float32 arrays in [0, 1].

    Args:
        content, style: a sample name of cnncourse.data.images (e.g. "chelsea", "astronaut", "flower") or the path
            of the user's own image file.
        size: side in pixels (the images are centre-cropped to a square, then resized).
    """
    return (load_image(content, size, gray=False).astype(np.float32),
            load_image(style, size, gray=False).astype(np.float32))


def initial_image(content, how="content+noise", noise=0.25, seed=0):
    """The starting point of the generated image, (size, size, 3) float32 in [0, 1].

    Args:
        content: (size, size, 3) content image.
        how: "noise" (uniform random pixels, as in Gatys et al.) or "content+noise" (the content image blended with
            noise: weight `noise` on the noise), which converges in far fewer steps.
    """
    rng = np.random.default_rng(seed)
    random = rng.uniform(0, 1, content.shape).astype(np.float32)
    if how == "noise":
        return random
    if how != "content+noise":
        raise ValueError(f"how must be 'noise' or 'content+noise', got {how!r}")
    return ((1 - noise) * content + noise * random).astype(np.float32)


def make_cost_fn(content, style, layer_weights=None, alpha=1.0, beta=3e-3, content_layer=CONTENT_LAYER,
                 costs=None, weights="hed"):
    """Build cost_fn(image) -> (J, J_content, J_style) for one content and one style image.

    Args:
        content, style: (H, W, 3) images in [0, 1] (same size).
        layer_weights: {style layer name: lambda}, default the five blockN_conv1 layers at 0.2 each.
        alpha, beta: weights of the total cost.
        content_layer: the layer whose activations the content cost compares.
        costs: {"content_cost", "style_cost", "total_cost"} functions (the student's); default the package's.
        weights: the VGG weights (see cnncourse.models.c6_vgg.vgg_backbone).
    Returns:
        cost_fn: (1, H, W, 3) image in [0, 1] -> three scalar tensors. The activations of the content and style
        images are computed once, here.
    """
    costs = {**REFERENCE_COSTS, **(costs or {})}
    layer_weights = dict(DEFAULT_LAYER_WEIGHTS if layer_weights is None else layer_weights)
    style_layers = tuple(layer_weights)
    extractor = cached_extractor((content_layer, *style_layers), weights)
    a_C = extractor(preprocess(content[None]))[0]
    a_S = extractor(preprocess(style[None]))[1:]
    lambdas = [layer_weights[name] for name in style_layers]

    def cost_fn(image):
        activations = extractor(preprocess(image))
        J_content = costs["content_cost"](a_C, activations[0])
        J_style = costs["style_cost"](a_S, activations[1:], lambdas)
        return costs["total_cost"](J_content, J_style, alpha=alpha, beta=beta), J_content, J_style

    return cost_fn


def compiled_step(step_fn, generated, cost_fn, optimizer):
    """A no-argument function doing one step of step_fn, compiled where the backend allows.

    TensorFlow: step_fn wrapped in tf.function (about 3x faster). JAX: the package's step is replaced by its
    jax.jit-compiled twin (c6_step.jax_compiled_step); another step_fn runs eagerly.
    """
    backend = keras.backend.backend()
    if backend == "jax" and step_fn is c6_step.jax_optimisation_step:
        return c6_step.jax_compiled_step(generated, cost_fn, optimizer)

    def step():
        return step_fn(generated, cost_fn, optimizer)

    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(step)
    return step


def run_style_transfer(content, style, settings, layer_weights=None, init="content+noise", seed=0, costs=None,
                       step_fn=None, weights="hed", callback=None):
    """Generate an image with the content of `content` and the style of `style`.

    Args:
        content, style: (size, size, 3) float images in [0, 1], e.g. from load_pair(size=settings["size"]).
        settings: dict with the keys of NST_TRAINING["fast"] (size is only used by load_pair; steps, learning_rate,
            alpha, beta, noise are used here).
        layer_weights, costs, weights: as for make_cost_fn; init, seed: as for initial_image.
        step_fn: step(generated, cost_fn, optimizer) -> (J, J_content, J_style), e.g. the student's
            optimisation_step; default the package's for the active backend.
        callback: optional function(step_index, generated image (H, W, 3)) called every 25 steps (live display).
    Returns:
        dict with "image" ((H, W, 3) float32 in [0, 1]), "history" ({"total", "content", "style"}: per-step costs
        before each step, then the final one: steps + 1 floats each), "seconds" (optimisation time),
        "seconds_per_step" (excluding the first step, which compiles), "style_drop" (first / last style cost) and
        "settings".
    """
    require_settings(settings, SETTING_KEYS)
    keras.utils.set_random_seed(seed)
    cost_fn = make_cost_fn(content, style, layer_weights, settings["alpha"], settings["beta"], costs=costs,
                           weights=weights)
    generated = keras.Variable(initial_image(content, init, settings["noise"], seed)[None])
    optimizer = keras.optimizers.Adam(learning_rate=settings["learning_rate"])
    step = compiled_step(step_fn or c6_step.backend_step(), generated, cost_fn, optimizer)
    history = {"total": [], "content": [], "style": []}
    start = first_done = time.perf_counter()
    for index in range(settings["steps"]):
        for name, value in zip(history, step()):
            history[name].append(float(keras.ops.convert_to_numpy(value)))
        if index == 0:
            first_done = time.perf_counter()
        if callback is not None and (index + 1) % 25 == 0:
            callback(index + 1, np.asarray(keras.ops.convert_to_numpy(generated))[0])
    end = time.perf_counter()
    for name, value in zip(history, cost_fn(generated)):
        history[name].append(float(keras.ops.convert_to_numpy(value)))
    timed_steps = settings["steps"] - 1
    return {
        "image": np.asarray(keras.ops.convert_to_numpy(generated))[0],
        "history": history,
        "seconds": end - start,
        "seconds_per_step": (end - first_done) / timed_steps if timed_steps > 0 else float("nan"),
        "style_drop": history["style"][0] / max(history["style"][-1], 1e-30),
        "settings": dict(settings),
    }


def plot_triptych(content, style, result, titles=("content", "style", "result"), title=None):
    """Images side by side (content | style | result); an image given as None is left out.

    Args:
        content, style, result: (H, W, 3) arrays in [0, 1], or None.
        titles: one title per image.
        title: the figure's title.
    Returns:
        matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    shown = [(image, name) for image, name in zip((content, style, result), titles) if image is not None]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.4 * len(shown), 3.6), layout="constrained", squeeze=False)
    for ax, (image, name) in zip(axes[0], shown):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(f"{name} ({image.shape[0]}x{image.shape[1]})")
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def plot_costs(history, title=None):
    """The total, content and style costs per step, each on its own log axis.

    Args:
        history: {"total", "content", "style"}: lists of floats, as run_style_transfer returns them.
    Returns:
        matplotlib Figure with three axes.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
    for ax, (name, values), colour in zip(axes, history.items(), ("tab:purple", "tab:blue", "tab:orange")):
        ax.plot(np.arange(len(values)), values, color=colour)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(f"{name} cost")
        ax.set_title(f"{name}: {values[0]:.3g} -> {values[-1]:.3g}")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
