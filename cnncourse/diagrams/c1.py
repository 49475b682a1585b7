"""Chapter 1 diagrams: convolution over volume.

    convolution_volume(n_H_prev, n_W_prev, n_C_prev, f, n_C, pad)   input cube * n_C filter cubes -> output slices

The output sizes are computed with cnncourse.ops.twins.window_count, the parameter count with
cnncourse.analysis.volume.volume_parameters, so the labels are the package's own figures.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon

from cnncourse.analysis.volume import volume_parameters
from cnncourse.diagrams.flow import finish
from cnncourse.ops.twins import window_count

_CHANNEL_COLOURS = ("#e06666", "#6aa84f", "#6fa8dc")  # red, green, blue slices of an RGB volume
_FILTER_COLOURS = ("#f6b26b", "#8e7cc3", "#76a5af", "#c27ba0", "#93c47d", "#ffd966")


def _box(ax, x, y, width, height, depth, face, label=None):
    """Draw a box in oblique projection: front face at (x, y), depth going up and right. Returns the top-right x."""
    dx, dy = 0.5 * depth, 0.35 * depth
    front = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    top = [(x, y + height), (x + width, y + height), (x + width + dx, y + height + dy), (x + dx, y + height + dy)]
    side = [(x + width, y), (x + width + dx, y + dy), (x + width + dx, y + height + dy), (x + width, y + height)]
    for points, shade in ((side, 0.75), (top, 0.9), (front, 1.0)):
        ax.add_patch(Polygon(points, closed=True, facecolor=face, edgecolor="black", linewidth=0.8,
                             alpha=shade))
    if label:
        ax.text(x + width / 2, y - 0.35, label, ha="center", va="top", fontsize=9)
    return x + width + dx


def _layered_box(ax, x, y, width, height, colours, label):
    """A volume drawn as one thin slab per channel, back to front; returns the rightmost x used."""
    depth_step = 0.55
    right = x
    for k in reversed(range(len(colours))):
        right = max(right, _box(ax, x + 0.5 * depth_step * k, y + 0.35 * depth_step * k, width, height,
                                depth_step, colours[k]))
    ax.text(x + width / 2, y - 0.35, label, ha="center", va="top", fontsize=9)
    return right


def convolution_volume(n_H_prev=64, n_W_prev=64, n_C_prev=3, f=3, n_C=2, pad=0):
    """Draw an input volume, n_C filters of depth n_C_prev, and the output volume of n_C stacked channels.

    Args:
        n_H_prev, n_W_prev, n_C_prev: the input's height, width and channels (ints >= 1; 3 for RGB).
        f: filter size (int >= 1, f <= n_H_prev + 2 pad).
        n_C: number of filters, 1 to 6.
        pad: zero padding, int >= 0 (stride 1).
    Returns:
        matplotlib Figure, with the shapes (n_H_prev, n_W_prev, n_C_prev) * (f, f, n_C_prev, n_C) -> (n_H, n_W, n_C)
        and the parameter count (f * f * n_C_prev + 1) * n_C in its title.
    """
    if not 1 <= n_C <= len(_FILTER_COLOURS):
        raise ValueError(f"n_C must be between 1 and {len(_FILTER_COLOURS)} to be drawn, got {n_C!r}")
    n_H, n_W = window_count(n_H_prev, f, pad, 1), window_count(n_W_prev, f, pad, 1)
    input_colours = _CHANNEL_COLOURS if n_C_prev == 3 else ("#cccccc",) * n_C_prev
    fig, ax = plt.subplots(figsize=(11, 4.6))
    right = _layered_box(ax, 0.0, 1.0, 3.0, 3.0, input_colours,
                         f"input\n({n_H_prev}, {n_W_prev}, {n_C_prev})")
    ax.text(right + 0.5, 2.6, "*", fontsize=26, ha="center", va="center")
    x = right + 1.1
    for c in range(n_C):
        y = 3.2 - 1.9 * c if n_C <= 2 else 3.6 - 3.6 * c / (n_C - 1)
        filter_colours = tuple(np.array(plt.matplotlib.colors.to_rgb(colour)) * 0.5
                               + 0.5 * np.array(plt.matplotlib.colors.to_rgb(_FILTER_COLOURS[c]))
                               for colour in input_colours)
        _layered_box(ax, x, y, 1.0, 1.0, filter_colours, "")
        ax.text(x + 1.9, y + 0.5, f"filter {c + 1}\n({f}, {f}, {n_C_prev})", fontsize=9, va="center")
        ax.annotate("", xy=(x + 6.2 + 0.9 * c + 0.2, 1.0 + 0.6 * c + 2.4), xytext=(x + 3.3, y + 0.5),
                    arrowprops={"arrowstyle": "-|>", "mutation_scale": 18, "color": _FILTER_COLOURS[c],
                                "linewidth": 1.5}, zorder=5)
    ax.text(x + 4.6, 5.3, f"sum over the {n_C_prev} channels\n+ bias = ONE channel per filter", fontsize=9,
            ha="center")
    out_x = x + 6.2
    for c in reversed(range(n_C)):  # channel 1 in front, the others behind it, drawn apart
        _box(ax, out_x + 0.9 * c, 1.0 + 0.6 * c, 2.6, 2.6, 0.3, _FILTER_COLOURS[c])
        ax.text(out_x + 0.9 * c + 2.75, 1.0 + 0.6 * c + 0.15, f"channel {c + 1}", fontsize=8, va="bottom")
    ax.text(out_x + 1.3, 0.65, f"output\n({n_H}, {n_W}, {n_C})", ha="center", va="top", fontsize=9)
    parameters = volume_parameters(f, n_C_prev, n_C)
    title = (f"Convolution over volume: ({n_H_prev}, {n_W_prev}, {n_C_prev}) * ({f}, {f}, {n_C_prev}, {n_C}) "
             f"-> ({n_H}, {n_W}, {n_C});  parameters ({f}*{f}*{n_C_prev} + 1) * {n_C} = {parameters}")
    return finish(fig, ax, title, (-0.5, out_x + 0.9 * n_C + 4.5), (-0.6, max(5.9, 4.2 + 0.6 * n_C)))
