"""Chapter 4's diagrams: the U-Net's shape, read from a built model.

The sizes are the output shapes of the model's own layers (named as cnncourse.models.c4_unet names them: down<k>_conv2,
bottleneck_conv2, up<k>_transpose, up<k>_concat, up<k>_conv2, logits), so the picture is the network that runs.
"""

import matplotlib.pyplot as plt
from matplotlib import patches


def unet_levels(model):
    """The sizes of a U-Net built by cnncourse.models.c4_unet.unet_model, level by level.

    Args:
        model: the keras.Model; its depth is the number of layers named down<k>_conv2.
    Returns:
        dict with "input" (H, W, C), "down" a list of (H, W, C) of down1..down<depth> before pooling (the skips),
        "bottleneck" (H, W, C), "up" a list, for up1..up<depth>, of dicts with "transpose", "concat" and "out"
        (H, W, C), and "logits" (H, W, n_classes).
    """
    names = {layer.name for layer in model.layers}

    def shape(name):
        return tuple(int(v) for v in model.get_layer(name).output.shape[1:])

    depth = sum(f"down{k}_conv2" in names for k in range(1, len(model.layers)))
    if depth == 0:
        raise ValueError("model has no layer named down1_conv2: is it built by unet_model?")
    return {
        "input": tuple(int(v) for v in model.inputs[0].shape[1:]),
        "down": [shape(f"down{k}_conv2") for k in range(1, depth + 1)],
        "bottleneck": shape("bottleneck_conv2"),
        "up": [{part: shape(f"up{k}_{layer}") for part, layer in
                (("transpose", "transpose"), ("concat", "concat"), ("out", "conv2"))} for k in range(1, depth + 1)],
        "logits": shape("logits"),
    }


def _size(hwc):
    return f"{hwc[0]}x{hwc[1]}x{hwc[2]}"


def unet_figure(model):
    """Draw a U-Net's contracting path, bottleneck, expanding path and skip connections with its sizes.

    Each block is a box labelled height x width x channels (its output); red arrows down are 2x2 max pools, green
    arrows up are stride-2 transpose convolutions, gray arrows across are the skip connections, labelled with the
    concatenation's channels (transpose + skip = total).

    Args:
        model: a keras.Model built by cnncourse.models.c4_unet.unet_model (or the notebook's unet_model).
    Returns:
        matplotlib Figure; every size label is a text artist with gid "size", every concatenation label gid "concat".
    """
    levels = unet_levels(model)
    depth = len(levels["down"])
    fig, ax = plt.subplots(figsize=(11, 1.2 * depth + 2.5))
    box_w, box_h, gap = 2.2, 0.55, 1.0

    def block(x, level, text, colour):
        y = -level * gap
        ax.add_patch(patches.FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                            boxstyle="round,pad=0.03", fc=colour, ec="black"))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5, gid="size")
        return x, y

    def arrow(start, end, colour, text=None, gid=None, **text_kw):
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color=colour, lw=1.6))
        if text:
            ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, text, color=colour, fontsize=8, gid=gid,
                    zorder=5, bbox=dict(fc="white", ec="none", pad=0.5), **text_kw)

    left, right = 0.0, 2 * depth + 4.0
    inp = block(left - 1.0, -1, f"input {_size(levels['input'])}", "white")
    out = block(right + 1.0, -1, f"logits {_size(levels['logits'])}", "white")
    downs = []
    for k, hwc in enumerate(levels["down"], start=1):
        downs.append(block(left + (k - 1), k - 1, f"down{k} {_size(hwc)}", "lightsteelblue"))
    arrow((inp[0], inp[1] - box_h / 2), (downs[0][0], downs[0][1] + box_h / 2), "black")
    bottom = block((left + right) / 2, depth, f"bottleneck {_size(levels['bottleneck'])}", "lightyellow")
    ups = []
    for k, part in enumerate(levels["up"], start=1):
        ups.append(block(right - (depth - k), depth - k, f"up{k} {_size(part['out'])}", "honeydew"))
    ups = ups[::-1]  # ups[i] is at the level of downs[i]
    for i in range(depth):
        below = downs[i + 1] if i + 1 < depth else bottom
        arrow((downs[i][0], downs[i][1] - box_h / 2), (below[0] - box_w / 3, below[1] + box_h / 2), "tab:red",
              "2x2 max pool" if i == 0 else None, ha="right")
        source = ups[i + 1] if i + 1 < depth else bottom
        arrow((source[0] + box_w / 3, source[1] + box_h / 2), (ups[i][0], ups[i][1] - box_h / 2), "tab:green",
              "transpose conv, stride 2" if i == 0 else None, ha="left")
        concat = levels["up"][depth - 1 - i]["concat"]
        skip = levels["down"][i][2]
        arrow((downs[i][0] + box_w / 2, downs[i][1]), (ups[i][0] - box_w / 2, ups[i][1]), "dimgray",
              f"concat {concat[2] - skip} + {skip} = {concat[2]} channels", gid="concat", ha="center", va="bottom")
    arrow((ups[0][0] + 0.4, ups[0][1] + box_h / 2), (out[0], out[1] - box_h / 2), "black", "1x1 conv", ha="left")
    ax.set(xlim=(left - 2.5, right + 2.5), ylim=(-depth * gap - 0.6, 1.7), aspect="auto")
    ax.axis("off")
    ax.set_title(f"U-Net of depth {depth}: contracting path (left), expanding path (right), skip connections "
                 "(across); boxes: height x width x channels")
    fig.tight_layout()
    return fig
