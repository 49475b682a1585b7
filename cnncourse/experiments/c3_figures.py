"""Chapter 3's figures: scenes with their boxes, the YOLO grid over a scene, detections next to the truth.

Boxes are pixel corner boxes (x1, y1, x2, y2) as everywhere in the chapter (cnncourse.data.scenes). Every function
returns the matplotlib Figure it drew (left open: the notebook shows it, a test closes it).
"""

import numpy as np

CLASS_COLOURS = ("tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:purple", "tab:brown")


def draw_boxes(ax, boxes, labels, class_names, scores=None, dashed=False, linewidth=2.0):
    """Draw corner boxes on an Axes showing the image, each in its class's colour, with its class (and score).

    Args:
        ax: matplotlib Axes holding the image (imshow: pixel centres at integers).
        boxes: (k, 4) pixel corner boxes; labels: (k,) class indices; class_names: names indexed by labels.
        scores: (k,) floats written after the class name, or None.
        dashed: dashed outline (used for the true boxes next to predictions).
    """
    from matplotlib.patches import Rectangle

    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    for k, (box, label) in enumerate(zip(boxes, np.asarray(labels).reshape(-1))):
        colour = CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]
        x1, y1, x2, y2 = box
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour,
                               linewidth=linewidth, linestyle="--" if dashed else "-"))
        if not dashed:
            text = class_names[int(label)] + ("" if scores is None else f" {float(scores[k]):.2f}")
            ax.text(x1, y1 - 1.5, text, color="black", fontsize=7,
                    bbox={"facecolor": colour, "edgecolor": "none", "pad": 1, "alpha": 0.85})


def show_scenes(scenes, n=6, grid=None, title="Generated scenes with their boxes"):
    """The first n scenes of a make_scenes dict with their true boxes (and a grid x grid YOLO grid if given).

    Returns:
        matplotlib Figure, one panel per scene.
    """
    import matplotlib.pyplot as plt

    n = min(n, len(scenes["images"]))
    fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 2.8), layout="constrained", squeeze=False)
    for ax, image, boxes, labels in zip(axes[0], scenes["images"], scenes["boxes"], scenes["labels"]):
        ax.imshow(image)
        if grid:
            draw_grid(ax, grid, image.shape[0])
        draw_boxes(ax, boxes, labels, scenes["class_names"])
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return fig


def draw_grid(ax, grid, image_size, colour="white"):
    """The lines of a grid x grid YOLO grid over an image of image_size pixels."""
    cell = image_size / grid
    for k in range(1, grid):
        ax.axhline(k * cell - 0.5, color=colour, linewidth=0.7, alpha=0.7)
        ax.axvline(k * cell - 0.5, color=colour, linewidth=0.7, alpha=0.7)


def plot_encoding(image, boxes, labels, class_names, grid, encodings):
    """One scene with its grid, each object's centre, and the cell that holds it shaded.

    Args:
        image: (size, size, 3); boxes, labels: the scene's objects; grid: S;
        encodings: list of (row, col, bx, by, bh, bw), one per object (encode_box's output).
    Returns:
        matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    size = image.shape[0]
    cell = size / grid
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    ax.imshow(image)
    draw_grid(ax, grid, size)
    draw_boxes(ax, boxes, labels, class_names)
    for (row, col, bx, by, _, _), label in zip(encodings, labels):
        colour = CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]
        ax.add_patch(Rectangle((col * cell - 0.5, row * cell - 0.5), cell, cell, color=colour, alpha=0.25))
        ax.plot((col + bx) * cell - 0.5, (row + by) * cell - 0.5, "o", color=colour, markeredgecolor="black")
    ax.set_title(f"{grid}x{grid} grid: each object belongs to the cell (shaded) that holds its centre (dot)")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return fig


def plot_detections(images, truths, predictions, class_names, n=6, title="Detections"):
    """Predicted boxes (solid, with scores) over the true boxes (dashed), one panel per image.

    Args:
        images: (N, size, size, 3); truths: list of dicts "boxes", "labels"; predictions: list of dicts "boxes",
            "scores", "labels" (predict_boxes's output).
    Returns:
        matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    n = min(n, len(images))
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 3.0), layout="constrained", squeeze=False)
    for ax, image, truth, pred in zip(axes[0], images, truths, predictions):
        ax.imshow(image)
        draw_boxes(ax, truth["boxes"], truth["labels"], class_names, dashed=True, linewidth=1.2)
        draw_boxes(ax, pred["boxes"], pred["labels"], class_names, scores=pred["scores"])
        ax.set_title(f"{len(pred['boxes'])} found, {len(truth['boxes'])} true", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{title} (solid: predicted, with score; dashed: true)")
    return fig


def plot_loss(history, title="Training loss"):
    """The per-epoch training loss (a list of floats). Returns a matplotlib Figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    ax.plot(np.arange(1, len(history) + 1), history, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean over the epoch's batches)")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return fig


def show_crops(crops, per_class=6, title="Pretraining crops, one row per class"):
    """The first per_class crops of each class of a scene_crops dict, one row per class, the class name on the left.

    Args:
        crops: dict with "images" (n, side, side, 3), "labels" (n,) and "class_names", from scene_crops.
        per_class: crops shown per row, int >= 1 (a class with fewer shows what it has).
    Returns:
        matplotlib Figure with len(class_names) rows of per_class panels.
    """
    import matplotlib.pyplot as plt

    names = crops["class_names"]
    fig, axes = plt.subplots(len(names), per_class, figsize=(1.3 * per_class, 1.4 * len(names)),
                             layout="constrained", squeeze=False)
    for row, name in enumerate(names):
        members = np.flatnonzero(crops["labels"] == row)[:per_class]
        for col, ax in enumerate(axes[row]):
            if col < len(members):
                ax.imshow(crops["images"][members[col]])
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name)
    fig.suptitle(title)
    return fig
