"""The sliding-window explorer: a trained window classifier slid over a scene with a stride of your choice, the grid
of windows it reads, the windows it calls an object, and what that costs.

Pure functions (no display needed):
    window_grid(n_H, n_W, stride, window) -> dict        the window positions and how many there are, with the formula
    window_probabilities(classifier, image, stride) -> array (rows, cols, n_classes)   crop by crop
    detections(grid, probabilities, class_index, threshold) -> list of dicts   the windows at or above the threshold
    sliding_figure(image, grid, probabilities, class_index, class_names, threshold) -> Figure
The widget:
    sliding_explorer(classifier, images, class_names) -> Explorer   controls "scene", "stride", "class", "threshold"

The classifier reads WINDOW x WINDOW crops (cnncourse.models.c3_sliding). Crop by crop, any stride works and every
window costs one run of the classifier; the convolutional twin of c3_1 gives stride 2 in one pass.
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.ops.twins import window_count
from cnncourse.ops.validate import require_int
from cnncourse.widgets.conv_explorer import Explorer

WINDOW = 14  # the side of the window the classifier reads (cnncourse.models.c3_sliding.WINDOW, checked by a test)
STRIDES = (1, 2, 3, 4, 6, 8, 12)
CAPTION = (
    "<b>Try this.</b> Start at stride 2 (the convolutional twin's stride): the small squares on the image mark the "
    "centre of every window the classifier reads, the boxes the windows it calls the chosen class. Raise the stride "
    "to 8 or 12: far fewer windows to classify, and objects that fall between two windows are missed or boxed off "
    "centre. Drop it to 1: every object is found by many overlapping windows at once, the problem non-max "
    "suppression solves in part 3. What does the count of classifier runs do as the stride halves?"
)


def window_grid(n_H, n_W, stride, window=WINDOW):
    """Every window position of a window x window classifier slid over an n_H x n_W image with `stride`.

    Args:
        n_H, n_W: image height and width in pixels, at least `window`.
        stride: step between windows (int >= 1); window: side of the window.
    Returns:
        dict with "rows", "cols" (ints), "corners" (int array (rows * cols, 2): (top, left) of each window, row by
        row), "stride", "window" and "formula" (the count written out, one line per axis and the product).
    """
    stride = require_int(stride, "stride", 1)
    rows, cols = window_count(n_H, window, 0, stride), window_count(n_W, window, 0, stride)
    top, left = np.meshgrid(np.arange(rows) * stride, np.arange(cols) * stride, indexing="ij")
    formula = "\n".join([
        f"rows = floor(({n_H} - {window}) / {stride}) + 1 = {rows}",
        f"cols = floor(({n_W} - {window}) / {stride}) + 1 = {cols}",
        f"windows = {rows} * {cols} = {rows * cols:,}: one run of the classifier each, crop by crop",
    ])
    return {"rows": rows, "cols": cols, "corners": np.stack([top.ravel(), left.ravel()], axis=1),
            "stride": stride, "window": window, "formula": formula}


def window_probabilities(classifier, image, stride):
    """The classifier's probabilities for every window of `image` at `stride`, crop by crop.

    Args:
        classifier: a trained window classifier, (batch, WINDOW, WINDOW, n_C) -> (batch, n_classes).
        image: (n_H, n_W, n_C) float array, n_H and n_W >= WINDOW.
        stride: int >= 1.
    Returns:
        float array (rows, cols, n_classes): row r, column c is the window whose top-left corner is
        (stride * r, stride * c).
    """
    from cnncourse.models.c3_sliding import sliding_window_predictions  # imports Keras, which the widgets avoid

    return np.asarray(sliding_window_predictions(classifier, np.asarray(image, dtype=np.float32), stride))


def detections(grid, probabilities, class_index, threshold):
    """The windows whose probability of class `class_index` is at least `threshold`.

    Returns:
        list of dicts with "box" (x1, y1, x2, y2 in pixels), "row", "col" and "score", highest score first.
    """
    scores = np.asarray(probabilities)[..., class_index].ravel()
    found = []
    for k in np.flatnonzero(scores >= threshold):
        top, left = (int(v) for v in grid["corners"][k])
        found.append({"box": (left, top, left + grid["window"], top + grid["window"]), "row": int(k // grid["cols"]),
                      "col": int(k % grid["cols"]), "score": float(scores[k])})
    return sorted(found, key=lambda d: -d["score"])


def sliding_text(grid, found, class_name, threshold):
    """The window count with its formula, and how many windows reach the threshold for the class."""
    best = f", the best at {found[0]['score']:.2f}" if found else ""
    return (grid["formula"] + f"\n{len(found)} of them say {class_name} with probability >= {threshold:.2f}{best}")


def sliding_figure(image, grid, probabilities, class_index, class_names, threshold):
    """Left: the image, a small mark at the centre of every window, a box on every window at or above the threshold
    (the best one thicker) and the outline of the first window. Right: the class's probability at every window,
    drawn at the window's centre.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    window, stride = grid["window"], grid["stride"]
    found = detections(grid, probabilities, class_index, threshold)
    fig, (ax, ax_map) = plt.subplots(1, 2, figsize=(9.5, 4.6), layout="constrained")
    ax.imshow(np.clip(image, 0, 1))
    centres = grid["corners"] + window / 2 - 0.5
    ax.plot(centres[:, 1], centres[:, 0], "s", color="white", markersize=max(1.0, 4.0 - len(centres) / 400),
            alpha=0.6, linestyle="none")
    ax.add_patch(Rectangle((-0.5, -0.5), window, window, fill=False, edgecolor="white", linestyle=":", linewidth=1.2))
    for rank, d in enumerate(found):
        x1, y1, x2, y2 = d["box"]
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor="tab:red",
                               linewidth=2.5 if rank == 0 else 1.0, alpha=1.0 if rank == 0 else 0.6))
    ax.set_xlim(-0.5, image.shape[1] - 0.5)
    ax.set_ylim(image.shape[0] - 0.5, -0.5)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_title(f"{len(centres):,} windows of {window}x{window} (stride {stride}); red: "
                 f"P({class_names[class_index]}) >= {threshold:.2f}", fontsize=9)
    half = window / 2 - 0.5
    rows, cols = grid["rows"], grid["cols"]
    extent = (half - stride / 2, half + stride * (cols - 0.5), half + stride * (rows - 0.5), half - stride / 2)
    shown = ax_map.imshow(np.asarray(probabilities)[..., class_index], vmin=0, vmax=1, cmap="viridis", extent=extent)
    ax_map.set_xlim(-0.5, image.shape[1] - 0.5)
    ax_map.set_ylim(image.shape[0] - 0.5, -0.5)
    ax_map.set_xlabel("x of the window's centre (pixels)")
    ax_map.set_ylabel("y of the window's centre (pixels)")
    ax_map.set_title(f"P({class_names[class_index]}) of every window: a {rows}x{cols} map", fontsize=9)
    fig.colorbar(shown, ax=ax_map, label="probability", shrink=0.8)
    fig.suptitle(f"Sliding a {window}x{window} classifier with stride {stride}", fontsize=11)
    return fig


def sliding_explorer(classifier, images, class_names, stride=2, class_name=None, threshold=0.5):
    """Build the sliding-window explorer and draw it once.

    Args:
        classifier: a trained window classifier (WINDOW x WINDOW crops to class probabilities, class 0 background).
        images: (n, n_H, n_W, 3) scenes, n_H and n_W >= WINDOW.
        class_names: the classifier's class names, background first.
        stride: first stride, one of STRIDES; class_name: the class shown first (default: the first after the
            background); threshold: first value of the threshold slider.
    Returns:
        Explorer with controls "scene" (IntSlider over the images), "stride" (SelectionSlider over STRIDES),
        "class" (Dropdown over the object classes) and "threshold" (FloatSlider).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or min(images.shape[1:3]) < WINDOW:
        raise ValueError(f"images must have shape (n, n_H, n_W, n_C) with n_H, n_W >= {WINDOW}, got {images.shape}")
    class_names = list(class_names)
    if len(class_names) < 2:
        raise ValueError(f"class_names must name the background and at least one class, got {class_names}")
    style = {"description_width": "70px"}
    controls = {
        "scene": widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="scene", continuous_update=False,
                                   style=style),
        "stride": widgets.SelectionSlider(options=STRIDES, value=stride, description="stride",
                                          continuous_update=False, style=style),
        "class": widgets.Dropdown(options=class_names[1:], value=class_name or class_names[1], description="class",
                                  style=style),
        "threshold": widgets.FloatSlider(value=threshold, min=0.05, max=0.95, step=0.05, description="threshold",
                                         continuous_update=False, style=style),
    }
    cache = {}

    def draw(values):
        image = images[values["scene"]]
        key = (values["scene"], values["stride"])
        if key not in cache:  # the classifier runs once per scene and stride
            cache[key] = window_probabilities(classifier, image, values["stride"])
        grid = window_grid(image.shape[0], image.shape[1], values["stride"])
        index = class_names.index(values["class"])
        found = detections(grid, cache[key], index, values["threshold"])
        figure = sliding_figure(image, grid, cache[key], index, class_names, values["threshold"])
        return figure, sliding_text(grid, found, values["class"], values["threshold"])

    box = Explorer(CAPTION, controls, draw,
                   [[controls["scene"], controls["stride"]], [controls["class"], controls["threshold"]]])
    box.update()
    return box
