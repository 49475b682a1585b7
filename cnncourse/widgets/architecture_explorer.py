"""The architecture explorer: pick a network, see its layers' shapes, parameters and multiplications.

Pure functions (no display needed):
    network_summary(name) -> dict       the layer table (cnncourse.analysis.costs) and totals, cached per network
    architecture_figure(summary, quantity) -> Figure   cost per layer as bars, in the network's order
    layers_html(summary) -> str         every layer's output shape, parameters and multiplications, folded
The widget:
    architecture_explorer(network="VGG-16") -> Explorer   controls "network" and "quantity"

The networks are the course's twins of the exercises (cnncourse.models.twins: LeNet-5, AlexNet, Inception 3a) and
keras.applications builds (VGG-16, ResNet-50, MobileNet v1/v2, EfficientNet-B0), built for their shapes only
(cnncourse.models.shapes_only: no weight is drawn), in a fraction of a second each.
"""

import functools
import html

import ipywidgets as widgets

from cnncourse.analysis.costs import format_table, layer_table
from cnncourse.models.shapes_only import shapes_only
from cnncourse.widgets.conv_explorer import Explorer

CAPTION = (
    "<b>Try this.</b> Look at AlexNet and VGG-16 with <i>parameters</i>, then with <i>multiplications</i>: the first "
    "fully connected layer holds most of the weights, the convolutions do most of the work. Then compare VGG-16 "
    "with ResNet-50 and MobileNet: how many multiplications per image does each need?"
)


def _builders():
    import keras

    # Twins and Keras's own builds, never the graded builders: the student edition's are stubs.
    from cnncourse.models.twins import build_alexnet, build_inception_block, build_lenet5

    return {
        "LeNet-5": build_lenet5,
        "AlexNet": build_alexnet,
        "VGG-16": lambda: keras.applications.VGG16(weights=None),
        "ResNet-50": lambda: keras.applications.ResNet50(weights=None),
        "Inception (3a) module": build_inception_block,
        "MobileNet v1": lambda: keras.applications.MobileNet(weights=None),
        "MobileNet v2": lambda: keras.applications.MobileNetV2(weights=None),
        "EfficientNet-B0": lambda: keras.applications.EfficientNetB0(weights=None),
    }


NETWORKS = ("LeNet-5", "AlexNet", "VGG-16", "ResNet-50", "Inception (3a) module", "MobileNet v1", "MobileNet v2",
            "EfficientNet-B0")


@functools.lru_cache(maxsize=None)
def network_summary(name):
    """Build network `name` (one of NETWORKS) and measure it.

    Returns:
        dict with "name", "input_shape" (tuple), "rows" (layer_table rows: name, kind, output_shape, params,
        multiplications) and the totals "params" and "multiplications" (per image).
    Raises:
        ValueError for an unknown name.
    """
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {name!r}")
    with shapes_only():
        model = _builders()[name]()
    rows = layer_table(model)
    return {
        "name": name,
        "input_shape": tuple(model.inputs[0].shape[1:]),
        "rows": rows,
        "params": sum(r["params"] for r in rows),
        "multiplications": sum(r["multiplications"] for r in rows),
    }


def summary_text(summary, quantity, top=6):
    """Totals and the `top` costliest layers for `quantity` ("params" or "multiplications"), as text lines."""
    rows = sorted(summary["rows"], key=lambda r: r[quantity], reverse=True)[:top]
    total = summary[quantity] or 1
    lines = [f"{summary['name']} on {summary['input_shape']}: {summary['params']:,} parameters, "
             f"{summary['multiplications']:,} multiplications per image",
             f"costliest layers by {quantity}:"]
    for r in rows:
        lines.append(f"  {r['name']:<24} {r['kind']:<18} {str(r['output_shape']):<16} "
                     f"{r[quantity]:>15,}  ({r[quantity] / total:.0%})")
    return "\n".join(lines)


def layers_html(summary):
    """Every layer of `summary` as a table (name, kind, output shape, parameters, multiplications), in a folded
    HTML <details> block that scrolls when long."""
    table = html.escape(format_table(summary["rows"]))
    return (f"<details><summary>all {len(summary['rows'])} layers of {html.escape(summary['name'])}: output shapes, "
            f"parameters, multiplications</summary><pre style='max-height: 320px; overflow: auto; font-size: 85%'>"
            f"{table}</pre></details>")


def architecture_figure(summary, quantity):
    """Bars of `quantity` per layer (layers with none left out), in the order of the network.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    rows = [r for r in summary["rows"] if r["params"] or r["multiplications"]]
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    colours = ["tab:orange" if r["kind"] == "Dense" else "tab:blue" for r in rows]
    ax.bar(range(len(rows)), [r[quantity] for r in rows], color=colours)
    if len(rows) <= 24:
        ax.set_xticks(range(len(rows)), [r["name"] for r in rows], rotation=60, ha="right", fontsize=8)
    else:
        ax.set_xlabel(f"layer with weights (1 .. {len(rows)}, input to output)")
    ax.set_ylabel(quantity)
    ax.set_title(f"{summary['name']}: {quantity} per layer (blue: convolutions, orange: fully connected)")
    return fig


def architecture_explorer(network="VGG-16", quantity="multiplications"):
    """Build the architecture explorer and draw it once.

    Args:
        network: the network shown first, one of NETWORKS.
        quantity: "multiplications" or "params".
    Returns:
        Explorer (an ipywidgets VBox) with controls "network" and "quantity", and `table` (widgets.HTML) listing
        every layer.
    """
    controls = {
        "network": widgets.Dropdown(options=NETWORKS, value=network, description="network"),
        "quantity": widgets.ToggleButtons(options=["multiplications", "params"], value=quantity,
                                          description="per layer"),
    }

    table = widgets.HTML()

    def draw(values):
        summary = network_summary(values["network"])
        table.value = layers_html(summary)
        return architecture_figure(summary, values["quantity"]), summary_text(summary, values["quantity"])

    box = Explorer(CAPTION, controls, draw, [[controls["network"], controls["quantity"]]])
    box.table = table  # the folded list of all layers, under the figure
    box.children = (*box.children, table)
    box.update()
    return box
