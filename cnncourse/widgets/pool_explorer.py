"""The pooling explorer: pick an image, max or average, a window and a stride; watch the output shrink.

Pure functions (no display needed):
    pool_image(image, f, stride, mode) -> dict   the course's own pool_forward, channel by channel
    pool_figure(image, result) -> Figure         input and output, drawn at the same pixel scale
The widget:
    pool_explorer(size=96) -> Explorer           an ipywidgets VBox; its .controls dict holds the inputs

pool_forward loops in Python over every output pixel and channel, so the images stay small (96 px):
one redraw takes well under a second.
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.data.images import load_image
from cnncourse.ops.twins import pool2d, window_count
from cnncourse.ops.validate import require_choice, require_window_fits
from cnncourse.widgets.conv_explorer import Explorer, _label_pixels, _show_on_canvas, image_dropdown, size_formula

POOL_CAPTION = (
    "<b>Try this.</b> Start with <i>max</i>, f = 2, stride = 2 on <i>chelsea</i>: the output is half as wide "
    "and the cat still reads. Raise f and the stride together to 6: detail vanishes in blocks. Then set "
    "f = 3, stride = 2 (overlapping windows) and switch between <i>max</i> and <i>average</i>: max keeps "
    "the brightest pixel of each window (highlights in the eyes survive), average blurs them into their "
    "neighbours."
)


def pool_image(image, f=2, stride=2, mode="max"):
    """Pool one image, gray or colour, with the course's pool_forward (each channel on its own).

    Args:
        image: array (n_H_prev, n_W_prev) gray, or (n_H_prev, n_W_prev, n_C) colour.
        f: window size, int >= 1.
        stride: int >= 1.
        mode: "max" or "average".
    Returns:
        dict with
            "output": float64 array (n_H, n_W), or (n_H, n_W, n_C) for a colour image,
            "n_out": (n_H, n_W) from cnncourse.ops.conv.output_size with no padding,
            "formula": two lines, "n_H = floor((n_H_prev - f) / stride) + 1 = n_H" and the same for n_W,
            "f", "stride", "mode": the settings used.
    Raises:
        ValueError: an image that is not 2-D or 3-D, a bad mode, or a window larger than the image.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (n_H, n_W) or (n_H, n_W, n_C), got {image.shape}")
    require_choice(mode, "mode", ("max", "average"))  # the twins count and pool, they do not check
    require_window_fits(image.shape[0], f, 0, stride, "height")
    require_window_fits(image.shape[1], f, 0, stride, "width")
    n_H = window_count(image.shape[0], f, 0, stride)
    n_W = window_count(image.shape[1], f, 0, stride)
    A_prev = image.reshape(1, image.shape[0], image.shape[1], -1)  # (1, n_H_prev, n_W_prev, n_C)
    A = pool2d(A_prev, f, stride, mode)
    output = A[0, :, :, 0] if image.ndim == 2 else A[0]
    formula = "\n".join([
        size_formula("H", image.shape[0], f, stride),
        size_formula("W", image.shape[1], f, stride),
    ])
    return {"output": output, "n_out": (n_H, n_W), "formula": formula, "f": f, "stride": stride, "mode": mode}


def pool_figure(image, result):
    """Two panels, input and output, the output drawn at the input's pixel scale so the shrinkage shows.

    Args:
        image: array (n_H_prev, n_W_prev) or (n_H_prev, n_W_prev, 3) in [0, 1].
        result: the dict returned by pool_image(image, ...).
    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    f, stride, mode = result["f"], result["stride"], result["mode"]
    output = result["output"]
    gray = {"cmap": "gray"} if image.ndim == 2 else {}
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(10, 5.2), layout="constrained")

    ax_in.imshow(image, vmin=0, vmax=1, interpolation="nearest", **gray)
    ax_in.add_patch(Rectangle((-0.5, -0.5), f, f, fill=False, edgecolor="tab:red", linewidth=1.5))
    if output.shape[1] > 1:
        ax_in.add_patch(Rectangle((stride - 0.5, -0.5), f, f, fill=False, edgecolor="tab:cyan", linewidth=1.5))
    ax_in.set_title(f"input {image.shape}\nred: first window, cyan: the next one (stride {stride})", fontsize=10)
    _label_pixels(ax_in)

    _show_on_canvas(ax_out, np.clip(output, 0, 1), image.shape[:2], vmin=0, vmax=1, **gray)
    ax_out.set_title(f"{mode} pool, f={f}, stride={stride}: output {output.shape}\ndrawn at input scale",
                     fontsize=10)
    _label_pixels(ax_out)

    # the size formula is written under the controls, not repeated here
    fig.suptitle(f"{mode} pooling: each output pixel is the {mode} of one {f}x{f} window", fontsize=11)
    return fig


def pool_explorer(size=96, image="chelsea"):
    """Build the pooling explorer and draw it once.

    Args:
        size: side of the (square, colour) sample image in pixels; keep it <= 128 so redraws stay quick.
        image: the sample image shown first, one of SAMPLE_IMAGES.
    Returns:
        Explorer (an ipywidgets VBox) with controls "image", "mode" ("max" / "average"), "f" (1-6) and
        "stride" (1-6). Display it by leaving it last in a cell.
    """
    style = {"description_width": "70px"}
    controls = {
        "image": image_dropdown(image),
        "mode": widgets.ToggleButtons(options=["max", "average"], value="max", description="mode", style=style),
        "f": widgets.IntSlider(value=2, min=1, max=6, description="window f", continuous_update=False,
                               style=style),
        "stride": widgets.IntSlider(value=2, min=1, max=6, description="stride s", continuous_update=False,
                                    style=style),
    }

    def draw(values):
        img = load_image(values["image"], size=size, gray=False)
        result = pool_image(img, values["f"], values["stride"], values["mode"])
        return pool_figure(img, result), result["formula"]

    box = Explorer(
        POOL_CAPTION,
        controls,
        draw,
        [[controls["image"], controls["mode"]], [controls["f"], controls["stride"]]],
    )
    box.update()
    return box
