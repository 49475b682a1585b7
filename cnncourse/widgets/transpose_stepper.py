"""The transpose-convolution stepper: lay the filter, scaled by one input pixel at a time, and watch the sums grow.

Pure functions (no display needed):
    stepper_state(x, W, stride, pad, step) -> dict   the canvas and output after `step` pixels, and that pixel
    size_lines(x, W, stride, pad) -> list of str     the output-size formulas with their numbers
    stepper_text(x, W, stride, pad, step) -> str     which pixel, its value, where its scaled filter lands, sizes
    stepper_figure(x, W, stride, pad, step) -> Figure   input, filter, full canvas, cropped output
The widget:
    transpose_stepper(step=0, stride=2, pad=1) -> Explorer   controls "step", "stride" and "pad"
The numbers come from cnncourse.ops.c4_transpose.transpose_steps, whose last step is the layer's output.
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.ops.c4_transpose import require_crop_fits, transpose_steps
from cnncourse.ops.twins import transpose_size
from cnncourse.widgets.conv_explorer import Explorer

INPUT = np.array([[1.0, 2.0], [3.0, 4.0]])  # the lecture's example
FILTER = np.arange(1.0, 10.0).reshape(3, 3)  # distinct entries: every sum on the canvas can be traced back
CAPTION = (
    "<b>Try this.</b> Move <i>step</i> from 0 to 4: each input pixel lays its own copy of the filter, multiplied by "
    "its value, on the canvas (red frame); where copies overlap, the numbers <i>add</i>, and the middle cell ends up "
    "with a part of all four. Set the stride to 1: the copies overlap more. Set it to 3: they no longer touch and "
    "rows of zeros appear between them. Raise the padding: a wider grey border of the canvas is thrown away. "
    "Find two settings that turn the 2x2 input into a 4x4 output. (The usual drawing shows stride 2, padding 1 as 4x4: "
    "that is this canvas with only its top row and left column thrown away.)"
)


def stepper_state(x, W, stride, pad, step):
    """The transpose convolution after the first `step` input pixels (row-major order).

    Args:
        x: array (n_H_prev, n_W_prev), one channel; W: array (f, f); stride: int >= 1; pad: int >= 0.
        step: int in 0..n_H_prev * n_W_prev (0: nothing laid yet).
    Returns:
        dict with "canvas" (the full canvas so far), "cropped" (the output so far), "current" (the dict of
        transpose_steps for pixel number `step`, or None at step 0), "n_steps", "f", "stride", "pad".
    """
    steps = transpose_steps(x, W, stride, pad)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step <= len(steps):
        raise ValueError(f"step must be an integer in 0..{len(steps)}, got {step!r}")
    last = steps[-1]
    current = steps[step - 1] if step else None
    canvas = current["canvas"] if current else np.zeros_like(last["canvas"])
    cropped = current["cropped"] if current else np.zeros_like(last["cropped"])
    return {"canvas": canvas, "cropped": cropped, "current": current, "n_steps": len(steps),
            "f": np.shape(W)[0], "stride": stride, "pad": pad, "final": last["canvas"]}


def size_lines(x, W, stride, pad):
    """The sizes written out, e.g. "n_H = (n_H_prev - 1) * s + f - 2p = (2 - 1) * 2 + 3 - 2*1 = 3"."""
    f = np.shape(W)[0]
    lines = []
    for axis, n in zip("HW", np.shape(x)):
        require_crop_fits(int(n), f, stride, pad, "axis")
        out = transpose_size(int(n), f, stride, pad)
        lines.append(f"n_{axis} = (n_{axis}_prev - 1) * s + f - 2p = ({n} - 1) * {stride} + {f} - 2*{pad} = {out}"
                     f"   (full canvas {(n - 1) * stride + f})")
    return lines


def stepper_text(x, W, stride, pad, step):
    """What the current step does, in words and numbers, then the output sizes (lines separated by newlines)."""
    state = stepper_state(x, W, stride, pad, step)
    current, f = state["current"], state["f"]
    if current is None:
        lines = [f"step 0 of {state['n_steps']}: nothing laid yet; move the step slider to lay the first filter"]
    else:
        (top, left), v = current["region"], current["value"]
        lines = [
            f"step {step} of {state['n_steps']}: input pixel (row {current['row']}, column {current['col']}), "
            f"value {v:g}",
            f"{v:g} x W lands on the canvas at rows {top}..{top + f - 1}, columns {left}..{left + f - 1} "
            f"(top = {current['row']} * {stride}, left = {current['col']} * {stride}); overlaps add",
        ]
    return "\n".join(lines + size_lines(x, W, stride, pad))


def _numbers(ax, values, colour_of, size):
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=size, color=colour_of(r, c, v))


def _grid(ax, shape):
    ax.set_xticks(range(shape[1]))
    ax.set_yticks(range(shape[0]))
    ax.set_xticks(np.arange(-0.5, shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, shape[0]), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)


def stepper_figure(x, W, stride, pad, step):
    """Four panels: the input (current pixel framed), the filter, the full canvas (current region framed, cells
    just added in bold), the output (the canvas with its cropped border greyed).

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    x, W = np.asarray(x, dtype=float), np.asarray(W, dtype=float)
    state = stepper_state(x, W, stride, pad, step)
    canvas, current, f = state["canvas"], state["current"], state["f"]
    limit = float(np.max(np.abs(state["final"]))) or 1.0
    cmap = "Blues" if np.all(state["final"] >= 0) and np.all(x >= 0) else "RdBu_r"
    low = 0.0 if cmap == "Blues" else -limit
    size = 10 if canvas.shape[1] <= 7 else 7
    ink = lambda v: "white" if abs(v) > 0.6 * limit else "black"  # noqa: E731
    width = [x.shape[1], W.shape[1], canvas.shape[1], canvas.shape[1]]
    fig, (ax_x, ax_w, ax_c, ax_o) = plt.subplots(1, 4, figsize=(14, 4.2), layout="constrained",
                                                 gridspec_kw={"width_ratios": [max(w, 2) for w in width]})

    x_limit = float(np.max(np.abs(x))) or 1.0
    ax_x.imshow(x, cmap="Purples" if np.all(x >= 0) else "RdBu_r", vmin=0 if np.all(x >= 0) else -x_limit,
                vmax=x_limit)
    _numbers(ax_x, x, lambda r, c, v: "white" if abs(v) > 0.6 * x_limit else "black", 12)
    if current:
        ax_x.add_patch(Rectangle((current["col"] - 0.5, current["row"] - 0.5), 1, 1, fill=False,
                                 edgecolor="tab:red", linewidth=3, zorder=4))
    ax_x.set_title(f"input {x.shape}\nred: the pixel of this step", fontsize=10)

    w_limit = float(np.max(np.abs(W))) or 1.0
    ax_w.imshow(W, cmap="Greens" if np.all(W >= 0) else "RdBu_r", vmin=0 if np.all(W >= 0) else -w_limit,
                vmax=w_limit)
    _numbers(ax_w, W, lambda r, c, v: "white" if abs(v) > 0.6 * w_limit else "black", 12)
    ax_w.set_title(f"filter W {W.shape}", fontsize=10)

    ax_c.imshow(canvas, cmap=cmap, vmin=low, vmax=limit)
    region = np.zeros(canvas.shape, dtype=bool)
    if current:
        top, left = current["region"]
        region[top:top + f, left:left + f] = True
        ax_c.add_patch(Rectangle((left - 0.5, top - 0.5), f, f, fill=False, edgecolor="tab:red", linewidth=3, zorder=4))
    for (r, c), v in np.ndenumerate(canvas):
        ax_c.text(c, r, f"{v:g}", ha="center", va="center", fontsize=size, color=ink(v),
                  fontweight="bold" if region[r, c] else "normal")
    ax_c.set_title(f"full canvas {canvas.shape}\nred: where {current['value']:g} x W was added" if current
                   else f"full canvas {canvas.shape}\n(empty at step 0)", fontsize=10)

    ax_o.imshow(canvas, cmap=cmap, vmin=low, vmax=limit)
    border = np.ones(canvas.shape + (4,)) * np.array([0.75, 0.75, 0.75, 1.0])
    border[pad:canvas.shape[0] - pad, pad:canvas.shape[1] - pad, 3] = 0.0
    ax_o.imshow(border)
    kept = lambda r, c: pad <= r < canvas.shape[0] - pad and pad <= c < canvas.shape[1] - pad  # noqa: E731
    _numbers(ax_o, canvas, lambda r, c, v: ink(v) if kept(r, c) else "#888888", size)
    n_H, n_W = state["cropped"].shape
    ax_o.add_patch(Rectangle((pad - 0.5, pad - 0.5), n_W, n_H, fill=False, edgecolor="black", linewidth=2.5, zorder=4))
    ax_o.set_title(f"output {state['cropped'].shape}: the canvas without\n{pad} row(s)/column(s) on every side "
                   "(grey)", fontsize=10)
    for ax, shape in ((ax_x, x.shape), (ax_w, W.shape), (ax_c, canvas.shape), (ax_o, canvas.shape)):
        _grid(ax, shape)
    fig.suptitle(f"transpose convolution, stride s={stride}, padding p={pad}: step {step} of {state['n_steps']}",
                 fontsize=11)
    return fig


def transpose_stepper(step=0, stride=2, pad=1, x=INPUT, W=FILTER):
    """Build the transpose-convolution stepper and draw it once.

    Args:
        step: input pixels laid so far, 0..x.size; stride: 1..3; pad: 0..2.
        x: array (n_H_prev, n_W_prev), the input (default the lecture's [[1, 2], [3, 4]]).
        W: array (f, f), the filter (default 1..9).
    Returns:
        Explorer (an ipywidgets VBox) with IntSlider controls "step", "stride" and "pad".
    """
    x, W = np.asarray(x, dtype=float), np.asarray(W, dtype=float)
    controls = {
        "step": widgets.IntSlider(value=step, min=0, max=x.size, description="step", continuous_update=False),
        "stride": widgets.IntSlider(value=stride, min=1, max=3, description="stride s", continuous_update=False),
        "pad": widgets.IntSlider(value=pad, min=0, max=2, description="padding p", continuous_update=False),
    }

    def draw(values):
        args = (x, W, values["stride"], values["pad"], values["step"])
        return stepper_figure(*args), stepper_text(*args)

    box = Explorer(CAPTION, controls, draw, [[controls["step"]], [controls["stride"], controls["pad"]]])
    box.update()
    return box
