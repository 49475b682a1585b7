"""The anchor explorer: which grid cell and which anchor take each object of a generated scene.

Pure functions (no display needed):
    assignments(boxes, labels, grid, anchors, image_size) -> list of dicts, one per object
    anchor_figure(image, rows, grid, anchors, image_size, class_names) -> Figure
The widget:
    anchor_explorer() -> Explorer        controls "scene" (seed), "grid" (S) and "anchors" (a preset)
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.ops.twins import anchor_match, cell_of_box
from cnncourse.widgets.conv_explorer import Explorer

IMAGE_SIZE = 96
ANCHOR_SETS = {  # (height, width) in cells of a 6x6 grid on 96 px (16 px cells); rescaled for other grids
    "one square anchor": [[1.7, 1.7]],
    "square, tall, wide": [[1.5, 1.5], [2.2, 1.2], [1.2, 2.2]],
    "small, large, tall": [[1.3, 1.3], [2.2, 2.2], [2.0, 1.3]],
}
CAPTION = (
    "<b>Try this.</b> With a 3x3 grid and one anchor, objects often want the same cell: the ones that come second "
    "are lost (red). Add anchors of other shapes, or a finer grid: how many objects are lost now? Which shapes take "
    "the digits, which the squares?"
)


def assignments(boxes, labels, grid, anchors, image_size=IMAGE_SIZE):
    """Cell and anchor of every object, in order, as yolo_targets assigns them.

    Args:
        boxes: (k, 4) corner boxes in pixels; labels: (k,) ints.
        grid: S; anchors: (A, 2) (height, width) in cells; image_size: side in pixels.
    Returns:
        list of dicts with "box", "label", "row", "col", "anchor", "iou" (shape IoU with the anchor) and "lost"
        (True when an earlier object already holds that cell and anchor).
    """
    taken, rows = set(), []
    for box, label in zip(boxes, labels):
        row, col, _, _, bh, bw = cell_of_box(box, grid, image_size)
        anchor, shape_iou = anchor_match(np.array([0.0, 0.0, bw, bh]), np.asarray(anchors, dtype=float))
        lost = (row, col, anchor) in taken
        taken.add((row, col, anchor))
        rows.append({"box": tuple(float(v) for v in box), "label": int(label), "row": row, "col": col,
                     "anchor": anchor, "iou": shape_iou, "lost": lost})
    return rows


def assignment_text(rows, class_names):
    """One line per object: class, cell, anchor, shape IoU, and whether it is lost."""
    lines = [f"{len(rows)} objects, {sum(r['lost'] for r in rows)} lost to a (cell, anchor) already taken"]
    for k, r in enumerate(rows):
        lines.append(f"  object {k}: {class_names[r['label']]:<7} cell (row {r['row']}, col {r['col']})  "
                     f"anchor {r['anchor']} (shape IoU {r['iou']:.2f})" + ("  LOST" if r["lost"] else ""))
    return "\n".join(lines)


def anchor_figure(image, rows, grid, anchors, image_size, class_names):
    """The scene with its grid, each object's box and centre, and the chosen anchor drawn on that centre.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    cell = image_size / grid
    fig, (ax, ax_anchors) = plt.subplots(1, 2, figsize=(9, 4.5), layout="constrained",
                                         gridspec_kw={"width_ratios": [2, 1]})
    ax.imshow(image)
    for k in range(1, grid):
        ax.axhline(k * cell - 0.5, color="white", linewidth=0.6, alpha=0.6)
        ax.axvline(k * cell - 0.5, color="white", linewidth=0.6, alpha=0.6)
    colours = plt.get_cmap("tab10")
    for r in rows:
        x1, y1, x2, y2 = r["box"]
        colour = "red" if r["lost"] else colours(r["anchor"])
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour, linewidth=2))
        x_c, y_c = (x1 + x2) / 2, (y1 + y2) / 2
        h, w = anchors[r["anchor"]][0] * cell, anchors[r["anchor"]][1] * cell
        ax.add_patch(Rectangle((x_c - w / 2, y_c - h / 2), w, h, fill=False, edgecolor=colour, linestyle="--"))
        ax.plot(x_c, y_c, "o", color=colour, markersize=4)
        ax.text(x1, y1 - 2, f"{class_names[r['label']]} a{r['anchor']}", color=colour, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{grid}x{grid} grid: solid = object, dashed = its anchor, red = lost")
    for a, (h, w) in enumerate(anchors):
        ax_anchors.add_patch(Rectangle((-w / 2, a * 3 - h / 2), w, h, fill=False, edgecolor=colours(a), linewidth=2))
        ax_anchors.text(1.6, a * 3, f"anchor {a}: {h:g} x {w:g} cells", va="center", fontsize=9)
    ax_anchors.set_xlim(-1.5, 6)
    ax_anchors.set_ylim(len(anchors) * 3 - 1, -2)
    ax_anchors.set_aspect("equal")
    ax_anchors.axis("off")
    ax_anchors.set_title("anchor shapes (height x width)")
    return fig


def anchor_explorer(scene=0, grid=3, anchors="one square anchor"):
    """Build the anchor explorer on generated scenes and draw it once.

    Args:
        scene: seed of the scene shown first; grid: S, one of 2, 3, 4, 6, 8, 12; anchors: a key of ANCHOR_SETS.
    Returns:
        Explorer with controls "scene" (IntSlider 0-49), "grid" (Dropdown) and "anchors" (Dropdown).
    """
    from cnncourse.data.scenes import make_scenes

    controls = {
        "scene": widgets.IntSlider(value=scene, min=0, max=49, description="scene", continuous_update=False),
        "grid": widgets.Dropdown(options=[2, 3, 4, 6, 8, 12], value=grid, description="grid S"),
        "anchors": widgets.Dropdown(options=list(ANCHOR_SETS), value=anchors, description="anchors"),
    }

    def draw(values):
        scenes = make_scenes(1, size=IMAGE_SIZE, seed=values["scene"], max_objects=6)
        scale = values["grid"] / 6  # the presets are in cells of a 6x6 grid
        anchor_shapes = [[h * scale, w * scale] for h, w in ANCHOR_SETS[values["anchors"]]]
        rows = assignments(scenes["boxes"][0], scenes["labels"][0], values["grid"], anchor_shapes, IMAGE_SIZE)
        figure = anchor_figure(scenes["images"][0], rows, values["grid"], anchor_shapes, IMAGE_SIZE,
                               scenes["class_names"])
        return figure, assignment_text(rows, scenes["class_names"])

    box = Explorer(CAPTION, controls, draw, [[controls["scene"], controls["grid"], controls["anchors"]]])
    box.update()
    return box
