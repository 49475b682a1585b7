"""Chapter 6 diagrams: the costs of neural style transfer.

    style_transfer_costs(content_layer, style_layers)   C, S and G through the fixed VGG-16; J_content at one layer,
                                                        J_style from Gram matrices at several layers; alpha, beta;
                                                        the gradient of J(G) flowing back to the pixels of G

The layer names default to cnncourse.models.c6_vgg.CONTENT_LAYER and STYLE_LAYERS, the layers the package uses.
"""

import matplotlib.pyplot as plt

from cnncourse.diagrams.flow import finish, link, node
from cnncourse.models.c6_vgg import CONTENT_LAYER, STYLE_LAYERS


def style_transfer_costs(content_layer=CONTENT_LAYER, style_layers=STYLE_LAYERS, layer_weights=None):
    """Draw how the total cost J(G) = alpha J_content(C, G) + beta J_style(S, G) is computed and minimised.

    Args:
        content_layer: name of the VGG-16 layer of the content cost.
        style_layers: sequence of 1 to 6 names of the layers of the style cost.
        layer_weights: dict name -> lambda of each style layer; None for equal weights 1 / len(style_layers).
    Returns:
        matplotlib Figure; the content layer and every style layer appear as text labels.
    """
    style_layers = tuple(style_layers)
    if not 1 <= len(style_layers) <= 6:
        raise ValueError(f"give 1 to 6 style layers to draw, got {len(style_layers)}")
    fig, ax = plt.subplots(figsize=(12, 6.2))
    rows = {"C": (5.6, "content image C", "#d9ead3"), "G": (3.2, "generated image G\n(the only variable)", "#fce5cd"),
            "S": (0.8, "style image S", "#d9d2e9")}
    for key, (y, text, colour) in rows.items():
        node(ax, 1.2, y, text, colour, width=2.2, height=0.9)
        node(ax, 4.2, y, "VGG-16\n(fixed weights)", "#cfe2f3", width=1.8, height=0.9)
        link(ax, (2.35, y), (3.25, y))
    node(ax, 7.6, 4.4, f"$J_{{content}}$ at {content_layer}\n$\\frac{{1}}{{4 n_H n_W n_C}}"
                       f"\\sum (a^{{(C)}} - a^{{(G)}})^2$", "#d9ead3", width=3.2, height=1.1)
    link(ax, (5.15, 5.6), (6.0, 4.75), f"a(C) at {content_layer}", fontsize=7)
    link(ax, (5.15, 3.35), (6.0, 4.2), fontsize=7)
    if layer_weights is None:
        layer_weights = {name: 1 / len(style_layers) for name in style_layers}
    layer_lines = "\n".join(f"$\\lambda$ = {layer_weights[name]:.2g}: {name}" for name in style_layers)
    node(ax, 7.6, 1.6, f"$J_{{style}} = \\sum_l \\lambda_l J^{{[l]}}_{{style}}$, Gram matrices\n"
                       f"$G^{{[l]}} = A A^T$ of S and of G at\n{layer_lines}", "#d9d2e9", width=3.4, height=2.4,
         fontsize=8)
    link(ax, (5.15, 3.05), (5.9, 2.2))
    link(ax, (5.15, 0.8), (5.9, 1.2), "a(S) at each style layer", fontsize=7)
    node(ax, 11.3, 3.2, "$J(G) = \\alpha\\, J_{content}$\n$+ \\beta\\, J_{style}$", "#f4cccc", width=2.4, height=1.1)
    link(ax, (9.2, 4.4), (10.1, 3.5), "$\\alpha$")
    link(ax, (9.3, 1.8), (10.1, 2.9), "$\\beta$")
    # the gradient's path: down from J, left under everything, up into G
    ax.plot([11.3, 11.3, -0.05, -0.05], [2.6, -0.3, -0.3, 3.2], color="#cc0000", linestyle="--", linewidth=1.2)
    link(ax, (-0.05, 3.2), (0.05, 3.2), colour="#cc0000")
    ax.text(5.6, -0.25, "gradient $\\partial J / \\partial G$: the pixels of G take a step (Adam); "
                        "VGG's weights never change", color="#cc0000", ha="center", va="bottom", fontsize=9)
    title = f"Neural style transfer: content cost at {content_layer}, style cost at {len(style_layers)} layers"
    return finish(fig, ax, title, (-0.3, 12.8), (-0.5, 6.4))
