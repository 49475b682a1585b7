"""Chapter 2's diagrams: the residual blocks of ResNet-50 and GoogLeNet's Inception module.

The channel counts they label come from the package: RESNET50_STAGES (cnncourse.models.c2_resnet) for the blocks,
GOOGLENET_MODULES (cnncourse.models.c2_googlenet) for the module, so a picture cannot disagree with the code.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from cnncourse.models.c2_googlenet import GOOGLENET_MODULES, module_output_channels
from cnncourse.models.c2_resnet import RESNET50_STAGES

CONV, NORM, MERGE, DATA, POOL = "#cfe2f3", "#fff2cc", "#f4cccc", "#eeeeee", "#d9ead3"
BOX_W, BOX_H = 1.65, 0.62


def _box(ax, x, y, text, color, width=BOX_W, height=BOX_H):
    """A rounded box centred on (x, y) with `text` inside; returns the Text artist (its label)."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.03",
                                facecolor=color, edgecolor="#444444", linewidth=1))
    return ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 1})


def _line(ax, points):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color="#333333", lw=1)


def _finish(fig, ax, xlim, ylim, title):
    """Set the limits and title of a diagram's axes, hide its frame; returns the Figure."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axis("off")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _stage(name):
    for stage in RESNET50_STAGES:
        if stage[0] == name:
            return stage
    raise ValueError(f"stage must be one of {[s[0] for s in RESNET50_STAGES]}, got {name!r}")


def _block_row(ax, y, stage, block, shortcut_conv, size_in, channels_in):
    """One residual block drawn left to right at height y; returns (n_H out, channels out)."""
    _, _, (F1, F2, F3), stride = _stage(stage)
    stride = stride if shortcut_conv else 1
    size_out = -(-size_in // stride)
    prefix = f"{stage}_block{block}"
    s = f", stride {stride}" if stride > 1 else ""
    steps = [(f"1x1 conv, {F1}{s}\nBN, ReLU", CONV), (f"3x3 conv, {F2}\nBN, ReLU", CONV), (f"1x1 conv, {F3}\nBN", CONV)]
    _box(ax, 0, y, f"{prefix} input\n{size_in}x{size_in}x{channels_in}", DATA)
    xs = [2.0, 3.9, 5.8]
    for x, (text, color) in zip(xs, steps):
        _box(ax, x, y, text, color)
    for a, b in zip([0] + xs, xs):
        _arrow(ax, (a + BOX_W / 2, y), (b - BOX_W / 2, y))
    add_x, relu_x, out_x = 7.35, 8.5, 10.0
    ax.add_patch(plt.Circle((add_x, y), 0.22, facecolor=MERGE, edgecolor="#444444"))
    ax.text(add_x, y, "+", ha="center", va="center", fontsize=12)
    _arrow(ax, (xs[-1] + BOX_W / 2, y), (add_x - 0.22, y))
    _box(ax, relu_x, y, "ReLU", MERGE, width=0.8)
    _arrow(ax, (add_x + 0.22, y), (relu_x - 0.4, y))
    _box(ax, out_x, y, f"output\n{size_out}x{size_out}x{F3}", DATA, width=1.4)
    _arrow(ax, (relu_x + 0.4, y), (out_x - 0.7, y))
    low = y - 1.0
    if shortcut_conv:
        _box(ax, 3.9, low, f"shortcut: 1x1 conv, {F3}{s}\nBN", CONV, width=2.6)
        _line(ax, [(0, y - BOX_H / 2), (0, low), (3.9 - 1.3, low)])
        _line(ax, [(3.9 + 1.3, low), (add_x, low)])
    else:
        ax.text(3.9, low + 0.1, "shortcut: the input itself (identity)", ha="center", va="bottom", fontsize=8)
        _line(ax, [(0, y - BOX_H / 2), (0, low), (add_x, low)])
    _arrow(ax, (add_x, low), (add_x, y - 0.22))
    return size_out, F3


def residual_blocks_diagram(stage="conv3", input_size=56):
    """ResNet-50's two residual blocks with the filters of one stage of RESNET50_STAGES.

    Top: the identity block "<stage>_block2" (input and output of the same shape, the shortcut is the input).
    Bottom: the convolutional block "<stage>_block1" (a 1x1 convolution with the stage's stride and BN on the
    shortcut makes the shapes match). Both add the shortcut to the main path's output BEFORE the last ReLU.

    Args:
        stage: a stage name of RESNET50_STAGES ("conv2" ... "conv5").
        input_size: height (= width) of the convolutional block's input, 56 for conv3 in ResNet-50 on 224x224.
    Returns:
        matplotlib Figure with one axes; each box's label is one of the axes' texts.
    """
    names = [s[0] for s in RESNET50_STAGES]
    position = names.index(_stage(stage)[0])
    channels_in = RESNET50_STAGES[position - 1][2][2] if position else 64  # conv2's input: the stem's 64 channels
    fig, ax = plt.subplots(figsize=(11, 4.6))
    ax.text(-0.9, 3.9, "convolutional block (first of the stage): the shapes change", fontsize=10, weight="bold")
    size, channels = _block_row(ax, 3.1, stage, 1, True, input_size, channels_in)
    ax.text(-0.9, 1.3, "identity block (the rest of the stage): the shapes stay", fontsize=10, weight="bold")
    _block_row(ax, 0.5, stage, 2, False, size, channels)
    return _finish(fig, ax, (-1, 11), (-0.9, 4.2),
                   f"ResNet-50's residual blocks, stage {stage}: a[l+2] = ReLU(main path + shortcut)")


def _module(name):
    for entry in GOOGLENET_MODULES:
        if entry != "pool" and entry[0] == name:
            return entry[1]
    raise ValueError(f"name must be a module of GOOGLENET_MODULES, got {name!r}")


def _module_input(name):
    """(size, channels) of the input of module `name` in googlenet() on 224x224: 28x28x192 for 3a."""
    size, channels = 28, 192
    for entry in GOOGLENET_MODULES:
        if entry == "pool":
            size = -(-size // 2)
        elif entry[0] == name:
            return size, channels
        else:
            channels = module_output_channels(entry[1])
    raise ValueError(f"name must be a module of GOOGLENET_MODULES, got {name!r}")


def inception_module_diagram(name="3a"):
    """One Inception module of GoogLeNet, top to bottom: the input, four branches with their 1x1 reductions, the
    concatenation, with the filter counts of GOOGLENET_MODULES (3a: 64; 96 -> 128; 16 -> 32; pool -> 32).

    Args:
        name: a module of GOOGLENET_MODULES ("3a", "3b", "4a", ..., "5b").
    Returns:
        matplotlib Figure with one axes; each box's label is one of the axes' texts.
    """
    filters = _module(name)
    size, channels = _module_input(name)
    out = module_output_channels(filters)
    fig, ax = plt.subplots(figsize=(9, 5.2))
    _box(ax, 3.75, 4.0, f"input ({name})\n{size}x{size}x{channels}", DATA, width=2.2)
    branches = [
        [(f"1x1 conv, {filters['1x1']}", CONV)],
        [(f"1x1 conv, {filters['3x3_reduce']}\n(reduce)", NORM), (f"3x3 conv, {filters['3x3']}", CONV)],
        [(f"1x1 conv, {filters['5x5_reduce']}\n(reduce)", NORM), (f"5x5 conv, {filters['5x5']}", CONV)],
        [("3x3 max pool\nstride 1, same", POOL), (f"1x1 conv, {filters['pool_proj']}\n(pool proj)", CONV)],
    ]
    for k, branch in enumerate(branches):
        x = 0.75 + 2 * k
        ys = [2.8, 1.7][: len(branch)] if len(branch) == 2 else [2.25]
        _arrow(ax, (3.75, 4.0 - BOX_H / 2), (x, ys[0] + BOX_H / 2))
        for y, (text, color) in zip(ys, branch):
            _box(ax, x, y, text, color)
        if len(ys) == 2:
            _arrow(ax, (x, ys[0] - BOX_H / 2), (x, ys[1] + BOX_H / 2))
        _arrow(ax, (x, ys[-1] - BOX_H / 2), (3.75, 0.5 + BOX_H / 2))
    parts = " + ".join(str(filters[k]) for k in ("1x1", "3x3", "5x5", "pool_proj"))
    _box(ax, 3.75, 0.5, f"concatenate on the channels\n{size}x{size}x({parts}) = {size}x{size}x{out}", MERGE,
         width=3.6, height=0.7)
    return _finish(fig, ax, (-0.4, 7.9), (-0.1, 4.5),
                   f"GoogLeNet's Inception module {name}: four branches side by side, each convolution with a ReLU")
