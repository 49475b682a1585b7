"""The layer walker: a slider steps through the ConvNet of Chapter 1, layer by layer, with each layer's output shape
and parameter count worked out from its formula.

Pure functions (no display needed, no Keras):
    layer_rows(input_shape, padding, n_classes, spec) -> list of dicts   shape and parameters of every layer
    walk_text(rows, k) -> str                  the table up to layer k and the formulas of layer k
    walk_figure(rows, k) -> Figure             values in each output volume and parameters per layer, layer k marked
The widget:
    layer_walker(layer=1) -> Explorer          controls "layer" (IntSlider), "padding" ("same" / "valid") and
                                               "input size" (28, 32 or 64 pixels a side)

CONVNET is the network of c1_2's table (conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, fc2). The shapes
come from the output-size formula (cnncourse.ops.twins.window_count), never from a built model, so the walker runs
before the student's model exists; tests/test_layer_walker.py checks them against the Keras model itself.
"""

import math

import ipywidgets as widgets

from cnncourse.ops.twins import window_count
from cnncourse.ops.validate import require_choice, require_int
from cnncourse.widgets.conv_explorer import Explorer

# (name, kind, settings): conv (filters, f, stride), pool (f, stride), dense (units; None = n_classes)
CONVNET = (
    ("conv1", "conv", (32, 3, 1)),
    ("relu1", "relu", ()),
    ("pool1", "pool", (2, 2)),
    ("conv2", "conv", (64, 3, 1)),
    ("relu2", "relu", ()),
    ("pool2", "pool", (2, 2)),
    ("flatten", "flatten", ()),
    ("fc1", "dense", (64,)),
    ("fc2", "dense", (None,)),
)
INPUT_SIZES = (28, 32, 64)
CAPTION = (
    "<b>Try this.</b> Step the slider from layer 1 to 9 and watch the volume: height and width shrink at each POOL, "
    "the channels grow at each CONV, and the parameters pile up in fc1. Before you switch <i>padding</i> to "
    "<i>valid</i>, predict the shape after pool2 and the parameters of fc1; then check. Raise the input size to 64: "
    "which layers gain parameters, and why do the CONV layers keep exactly as many?"
)


def _shape_text(shape):
    return "(" + ", ".join(str(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"


def layer_rows(input_shape=(28, 28, 1), padding="same", n_classes=10, spec=CONVNET):
    """Every layer's input and output shape (per image) and its parameters, with the formulas that give them.

    Args:
        input_shape: (n_H, n_W, n_C) of one image.
        padding: "same" (zero padding of (f - 1) / 2, odd f and stride 1 only) or "valid" (no padding) for every
            CONV layer; POOL layers never pad.
        n_classes: units of a dense layer whose units are None in `spec`.
        spec: tuple of (name, kind, settings), kinds "conv" (filters, f, stride), "relu", "pool" (f, stride),
            "flatten", "dense" (units,).
    Returns:
        list of dicts, one per layer: "name", "kind", "input_shape", "output_shape" (tuples), "params" (int),
        "values" (numbers in the output volume), "shape_formula" and "params_formula" (strs, "" when there is
        nothing to compute).
    Raises:
        ValueError: a bad padding, a window that does not fit, or "same" with an even f or a stride above 1.
    """
    require_choice(padding, "padding", ("same", "valid"))
    require_int(n_classes, "n_classes", 1)
    shape = tuple(require_int(v, "input_shape", 1) for v in input_shape)
    rows = []
    for name, kind, settings in spec:
        before = shape
        shape_formula, params_formula, params = "", "", 0
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(f"{name}: a {kind} layer needs an (n_H, n_W, n_C) volume, got {shape}")
            n_H, n_W, n_C = shape
            if kind == "conv":
                filters, f, stride = settings
                if padding == "same" and (f % 2 == 0 or stride != 1):
                    raise ValueError(f"{name}: 'same' padding is written here for odd f and stride 1, "
                                     f"got f={f}, stride={stride}")
                pad = (f - 1) // 2 if padding == "same" else 0
                n_C_out = filters
                params = (f * f * n_C + 1) * filters
                params_formula = f"(f*f*n_C_prev + 1) * n_C = ({f}*{f}*{n_C} + 1) * {filters} = {params:,}"
            else:
                f, stride = settings
                pad, n_C_out = 0, n_C
            H, W = window_count(n_H, f, pad, stride), window_count(n_W, f, pad, stride)
            shape = (H, W, n_C_out)
            shape_formula = (f"n_H = floor(({n_H} + 2*{pad} - {f}) / {stride}) + 1 = {H}, "
                             f"n_W = floor(({n_W} + 2*{pad} - {f}) / {stride}) + 1 = {W}")
        elif kind == "relu":
            pass
        elif kind == "flatten":
            size = math.prod(shape)
            shape_formula = " * ".join(str(v) for v in shape) + f" = {size:,}"
            shape = (size,)
        elif kind == "dense":
            units = n_classes if settings[0] is None else settings[0]
            if len(shape) != 1:
                raise ValueError(f"{name}: a dense layer needs a flat vector, got {shape}")
            params = (shape[0] + 1) * units
            params_formula = f"(n_in + 1) * units = ({shape[0]:,} + 1) * {units} = {params:,}"
            shape = (units,)
        else:
            raise ValueError(f"{name}: unknown kind {kind!r}")
        rows.append({"name": name, "kind": kind, "input_shape": before, "output_shape": shape, "params": params,
                     "values": math.prod(shape), "shape_formula": shape_formula, "params_formula": params_formula})
    return rows


def walk_text(rows, k):
    """The table of layers 1..k (shape, parameters) and the formulas of layer k.

    Args:
        rows: from layer_rows; k: the current layer, 1 <= k <= len(rows).
    Returns:
        str, one line per layer, then the formulas, then the parameters so far against the total.
    """
    k = require_int(k, "layer", 1)
    if k > len(rows):
        raise ValueError(f"layer must be at most {len(rows)}, got {k}")
    total = sum(r["params"] for r in rows)
    lines = [f"{'#':>2} {'layer':<8} {'kind':<8} {'output shape':<16} {'parameters':>11}",
             f"{'':>2} {'input':<8} {'':<8} {_shape_text(rows[0]['input_shape']):<16} {'':>11}"]
    for i, r in enumerate(rows[:k], start=1):
        lines.append(f"{i:>2} {r['name']:<8} {r['kind']:<8} {_shape_text(r['output_shape']):<16} {r['params']:>11,}")
    current = rows[k - 1]
    lines.append("")
    lines.append(f"layer {k}, {current['name']}: {_shape_text(current['input_shape'])} -> "
                 f"{_shape_text(current['output_shape'])}")
    if current["shape_formula"]:
        lines.append(f"  shape:      {current['shape_formula']}")
    lines.append(f"  parameters: {current['params_formula'] or 'none (nothing is learned here)'}")
    so_far = sum(r["params"] for r in rows[:k])
    lines.append(f"parameters in layers 1..{k}: {so_far:,} of {total:,} ({so_far / total:.1%})")
    return "\n".join(lines)


def walk_figure(rows, k):
    """Two bar charts over the layers, the current one (k) dark, the ones after it faded: the numbers in each
    output volume (the activations of one image) and each layer's parameters.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    names = [r["name"] for r in rows]
    colours = {"conv": "tab:blue", "relu": "tab:gray", "pool": "tab:green", "flatten": "tab:gray",
               "dense": "tab:orange"}
    fig, (ax_values, ax_params) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for ax, key, label in ((ax_values, "values", "numbers in the output volume"),
                           (ax_params, "params", "parameters")):
        heights = [r[key] for r in rows]
        bars = ax.bar(range(len(rows)), heights, color=[colours[r["kind"]] for r in rows])
        for i, bar in enumerate(bars):
            bar.set_alpha(1.0 if i < k else 0.25)
            if i == k - 1:
                bar.set_edgecolor("black")
                bar.set_linewidth(2)
        ax.set_xticks(range(len(rows)), names, rotation=45, ha="right", fontsize=9)
        ax.set_xlabel("layer (input to output)")
        ax.set_ylabel(label)
        top = max(heights) or 1
        ax.set_ylim(0, top * 1.18)
        current = rows[k - 1][key]
        ax.annotate(f"{current:,}", (k - 1, current), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=9, fontweight="bold")
    ax_values.set_title("size of each layer's output (per image)", fontsize=10)
    ax_params.set_title("parameters of each layer (blue CONV, orange FC)", fontsize=10)
    current = rows[k - 1]
    fig.suptitle(f"layer {k} of {len(rows)}: {current['name']}, output {_shape_text(current['output_shape'])}",
                 fontsize=11)
    return fig


def layer_walker(layer=1, padding="same", input_size=28, n_classes=10):
    """Build the layer walker over CONVNET and draw it once.

    Args:
        layer: the layer shown first, 1..9; padding: "same" or "valid"; input_size: one of INPUT_SIZES (square,
        one channel); n_classes: units of fc2.
    Returns:
        Explorer (an ipywidgets VBox) with controls "layer", "padding" and "input size".
    """
    style = {"description_width": "80px"}
    controls = {
        "layer": widgets.IntSlider(value=layer, min=1, max=len(CONVNET), description="layer",
                                   continuous_update=False, style=style),
        "padding": widgets.ToggleButtons(options=["same", "valid"], value=padding, description="CONV padding",
                                         style=style),
        "input size": widgets.Dropdown(options=INPUT_SIZES, value=input_size, description="input size",
                                       style=style),
    }

    def draw(values):
        size = values["input size"]
        rows = layer_rows((size, size, 1), values["padding"], n_classes)
        return walk_figure(rows, values["layer"]), walk_text(rows, values["layer"])

    box = Explorer(CAPTION, controls, draw,
                   [[controls["layer"]], [controls["padding"], controls["input size"]]])
    box.update()
    return box
