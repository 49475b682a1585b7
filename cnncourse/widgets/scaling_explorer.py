"""The compound-scaling explorer: move phi, alpha, beta, gamma and watch EfficientNet grow in three directions.

Pure functions (no display needed, no Keras model is built: every redraw is a few arithmetic operations):
    scaling_numbers(phi, alpha, beta, gamma) -> dict   the multipliers, the layer count and the image side
    scaling_formula(numbers) -> str                    the formula lines shown above the figure
    scaling_figure(numbers) -> Figure                  base vs scaled network as rectangles, FLOPs vs phi
The widget:
    scaling_explorer() -> Explorer                     an ipywidgets VBox; its .controls dict holds the sliders

The multipliers are those of cnncourse.models.c2_efficient.compound_scaling, recomputed here so that the
widget neither imports Keras nor depends on the student's answer.
"""

import math

import ipywidgets as widgets
import numpy as np

from cnncourse.widgets.conv_explorer import Explorer

BASE_LAYERS = 4  # layers of the schematic baseline block
BASE_RESOLUTION = 224  # EfficientNet-B0's input side
MAX_DRAWN_LAYERS = 40  # beyond this the schematic draws the first layers and says how many there are
MAX_PHI = 7

SCALING_CAPTION = (
    "<b>Try this.</b> Start at phi = 1 with the paper's alpha = 1.2, beta = 1.1, gamma = 1.15: the network gets "
    "deeper (more rectangles), wider (wider rectangles: channels) and sees larger images (taller rectangles: "
    "resolution), and the FLOPs almost double, because alpha * beta<sup>2</sup> * gamma<sup>2</sup> ~ 2. "
    "Move phi up to 7 (about EfficientNet-B7): the cost grows like 2<sup>phi</sup>. Now put all the scaling into "
    "one direction, e.g. beta = 1.41 with alpha = gamma = 1: the FLOPs still double per step (width counts "
    "squared), but the paper found the balanced mix more accurate for the same cost."
)


def scaling_numbers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """The compound-scaling multipliers and what they mean for the schematic network.

    Args:
        phi: compound coefficient >= 0; alpha, beta, gamma: depth, width and resolution bases, each >= 1.
    Returns:
        dict with the inputs and
            "depth", "width", "resolution": alpha ** phi, beta ** phi, gamma ** phi;
            "flops": (alpha * beta ** 2 * gamma ** 2) ** phi;  "flops_base": alpha * beta ** 2 * gamma ** 2;
            "layers": ceil(BASE_LAYERS * depth) (Keras's round_repeats rule);
            "side": round(BASE_RESOLUTION * resolution), the input side in pixels.
    Raises:
        ValueError: phi < 0 or a base < 1 (or not a finite number).
    """
    for name, value, minimum in (("phi", phi, 0), ("alpha", alpha, 1), ("beta", beta, 1), ("gamma", gamma, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < minimum:
            raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
    depth, width, resolution = alpha ** phi, beta ** phi, gamma ** phi
    flops_base = alpha * beta ** 2 * gamma ** 2
    return {
        "phi": float(phi), "alpha": float(alpha), "beta": float(beta), "gamma": float(gamma),
        "depth": depth, "width": width, "resolution": resolution,
        "flops": flops_base ** phi, "flops_base": flops_base,
        "layers": math.ceil(BASE_LAYERS * depth - 1e-9), "side": round(BASE_RESOLUTION * resolution),
    }


def scaling_formula(n):
    """The formula lines for the numbers of scaling_numbers, one per multiplier."""
    p = f"{n['phi']:g}"
    return "\n".join([
        f"depth       d = alpha^phi = {n['alpha']:g}^{p} = {n['depth']:.3f}   "
        f"({BASE_LAYERS} layers -> ceil({BASE_LAYERS} * {n['depth']:.3f}) = {n['layers']})",
        f"width       w = beta^phi  = {n['beta']:g}^{p} = {n['width']:.3f}   (channels x {n['width']:.3f})",
        f"resolution  r = gamma^phi = {n['gamma']:g}^{p} = {n['resolution']:.3f}   "
        f"({BASE_RESOLUTION} px -> {n['side']} px)",
        f"alpha * beta^2 * gamma^2 = {n['alpha']:g} * {n['beta']:g}^2 * {n['gamma']:g}^2 = {n['flops_base']:.3f}"
        f"   (EfficientNet asks for ~2)",
        f"FLOPs       d * w^2 * r^2 = {n['flops_base']:.3f}^{p} = {n['flops']:.3f}   (2^{p} = {2 ** n['phi']:.3f})",
    ])


def _draw_network(ax, layers, width, height, color, limits):
    """`layers` rectangles of the given width (channels) and height (resolution), side by side."""
    from matplotlib.patches import Rectangle

    gap = 0.35 * width
    drawn = min(layers, MAX_DRAWN_LAYERS)
    for i in range(drawn):
        ax.add_patch(Rectangle((i * (width + gap), -height / 2), width, height, facecolor=color,
                               edgecolor="black", linewidth=0.6, alpha=0.85))
    if layers > drawn:
        x = drawn * (width + gap)
        ax.text(x, 0, f" ... {layers} in all", va="center", fontsize=9)
    ax.set_xlim(-0.5, limits[0])
    ax.set_ylim(-limits[1] / 2, limits[1] / 2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def scaling_figure(n):
    """Base vs scaled network (same scale: width = channels, height = resolution, count = depth), FLOPs vs phi.

    Args:
        n: a dict from scaling_numbers.
    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 5.4), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.7, 1])
    ax_base, ax_scaled, ax_flops = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])

    # both networks on the scaled network's extent, so the base looks as small as it is
    drawn = min(n["layers"], MAX_DRAWN_LAYERS)
    extent_x = max(drawn * 1.35 * n["width"] + (4.0 * n["width"] if n["layers"] > drawn else 0), BASE_LAYERS * 1.35)
    limits = (extent_x + 0.5, 1.15 * n["resolution"])
    _draw_network(ax_base, BASE_LAYERS, 1.0, 1.0, "#9ecae1", limits)
    ax_base.set_title(f"base network (phi = 0): {BASE_LAYERS} layers, width x 1, {BASE_RESOLUTION} px", fontsize=10)
    _draw_network(ax_scaled, n["layers"], n["width"], n["resolution"], "#fdae6b", limits)
    ax_scaled.set_title(f"scaled (phi = {n['phi']:g}): {n['layers']} layers, width x {n['width']:.2f}, "
                        f"{n['side']} px  ->  FLOPs x {n['flops']:.3g}", fontsize=10)
    ax_scaled.set_xlabel("rectangles: one per layer; width = channels, height = image resolution")

    phis = np.linspace(0, MAX_PHI, 141)
    ax_flops.semilogy(phis, n["flops_base"] ** phis, color="#d94801", label="FLOPs (alpha beta² gamma²)^phi")
    ax_flops.semilogy(phis, 2.0 ** phis, "k--", linewidth=1, label="2^phi")
    ax_flops.semilogy(phis, n["alpha"] ** phis, color="#3182bd", linewidth=1, label="depth alpha^phi")
    ax_flops.semilogy(phis, (n["beta"] * n["gamma"]) ** (2 * phis), color="#31a354", linewidth=1,
                      label="width² x resolution² (beta gamma)^(2 phi)")
    ax_flops.plot([n["phi"]], [n["flops"]], "o", color="#d94801", markersize=8)
    offset = (-48, 6) if n["phi"] > 0.7 * MAX_PHI else (6, -12)  # stay inside the axes at the right end
    ax_flops.annotate(f"x {n['flops']:.3g}", (n["phi"], n["flops"]), textcoords="offset points", xytext=offset)
    ax_flops.set_xlabel("phi")
    ax_flops.set_ylabel("multiplier (log scale)")
    ax_flops.set_title(f"FLOPs multiplier vs phi; alpha beta² gamma² = {n['flops_base']:.3f}", fontsize=10)
    ax_flops.grid(True, which="both", alpha=0.3)
    ax_flops.legend(fontsize=8, loc="upper left")
    return fig


def scaling_explorer(phi=1.0, alpha=1.2, beta=1.1, gamma=1.15):
    """Build the compound-scaling explorer and draw it once.

    Args:
        phi: first compound coefficient, 0..7; alpha, beta, gamma: first bases, 1..2.
    Returns:
        Explorer (an ipywidgets VBox) with FloatSlider controls "phi" (0-7, step 0.5), "alpha", "beta" and
        "gamma" (1-2, step 0.01). Display it by leaving it last in a cell.
    """
    style = {"description_width": "90px"}

    def slider(value, low, high, step, description):
        return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                                   continuous_update=False, readout_format=".2f", style=style)

    controls = {
        "phi": slider(phi, 0.0, float(MAX_PHI), 0.5, "phi"),
        "alpha": slider(alpha, 1.0, 2.0, 0.01, "alpha (depth)"),
        "beta": slider(beta, 1.0, 2.0, 0.01, "beta (width)"),
        "gamma": slider(gamma, 1.0, 2.0, 0.01, "gamma (resol.)"),
    }

    def draw(values):
        numbers = scaling_numbers(values["phi"], values["alpha"], values["beta"], values["gamma"])
        return scaling_figure(numbers), scaling_formula(numbers)

    box = Explorer(
        SCALING_CAPTION,
        controls,
        draw,
        [[controls["phi"]], [controls["alpha"], controls["beta"], controls["gamma"]]],
    )
    box.update()
    return box
