"""Chapter 3's diagrams: the YOLO grid with its anchors and the target vector of one object.

Sizes come from cnncourse.models.c3_yolo (CELL pixels per cell, ANCHORS in cells) and the target from
cnncourse.ops.c3_yolo.yolo_targets, so the picture is the encoding the network is trained on.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patches

from cnncourse.models.c3_yolo import ANCHORS, CELL
from cnncourse.ops.c3_yolo import yolo_targets
from cnncourse.ops.validate import require_array, require_int

ANCHOR_COLOURS = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def yolo_grid_figure(box, label=0, image_size=96, anchors=ANCHORS, class_names=("digit", "square", "disc"), image=None):
    """Draw the S x S grid, one object's centre cell, the anchors to scale at that cell and the object's target vectors.

    Left: the image (or a blank square) cut into S x S cells of CELL pixels, S = image_size // CELL; the object's box
    (dashed), its centre (dot), the cell holding the centre (shaded) and every anchor (height x width in cells, times
    CELL pixels) centred on that cell, the anchor the object is assigned to drawn thick. Right: the A target vectors
    (p_c, b_x, b_y, b_h, b_w, one entry per class) of that cell, one row per anchor, as yolo_targets computes them.

    Args:
        box: (4,) pixel corners (x1, y1, x2, y2) of the object.
        label: its class index in 0..len(class_names)-1.
        image_size: side of the square image in pixels, a multiple of CELL.
        anchors: (A, 2) anchor (height, width) in cells.
        class_names: names of the n_classes classes (column titles of the target).
        image: optional (image_size, image_size, 3) float image in [0, 1] to draw under the grid.
    Returns:
        matplotlib Figure with two axes. The grid lines carry gid "grid", the shaded cell gid "centre_cell", anchor a's
        rectangle gid f"anchor{a}"; the figure's attribute yolo_cell holds (row, col, assigned anchor).
    """
    image_size = require_int(image_size, "image_size", CELL)
    if image_size % CELL:
        raise ValueError(f"image_size must be a multiple of {CELL}, got {image_size}")
    anchors = require_array(anchors, "anchors (A, 2)", ndim=2, shape=(None, 2))
    box = np.asarray(box, dtype=np.float64).reshape(4)
    grid, n_classes = image_size // CELL, len(class_names)
    targets, _ = yolo_targets(box[None], np.array([label]), grid, anchors, image_size, n_classes)
    row, col, assigned = (int(v[0]) for v in np.nonzero(targets[..., 0]))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
    if image is not None:
        left.imshow(image, extent=(0, image_size, image_size, 0))
    for k in range(grid + 1):
        left.axhline(k * CELL, color="white" if image is not None else "gray", lw=0.8, gid="grid")
        left.axvline(k * CELL, color="white" if image is not None else "gray", lw=0.8, gid="grid")
    left.add_patch(patches.Rectangle((col * CELL, row * CELL), CELL, CELL, color="gold", alpha=0.45,
                                     gid="centre_cell"))
    x1, y1, x2, y2 = box
    left.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec="red", ls="--", lw=1.5))
    left.plot([(x1 + x2) / 2], [(y1 + y2) / 2], "o", color="red", ms=5)
    cx, cy = (col + 0.5) * CELL, (row + 0.5) * CELL
    for a, (height, width) in enumerate(anchors):
        h, w = height * CELL, width * CELL
        name = f"anchor {a}: {height:g} x {width:g} cells" + (" (assigned)" if a == assigned else "")
        left.add_patch(patches.Rectangle((cx - w / 2, cy - h / 2), w, h, fill=False,
                                         ec=ANCHOR_COLOURS[a % len(ANCHOR_COLOURS)], lw=3 if a == assigned else 1.2,
                                         label=name, gid=f"anchor{a}"))
    left.set(xlim=(0, image_size), ylim=(image_size, 0), aspect="equal", xlabel="x (pixels)", ylabel="y (pixels)",
             title=f"{grid} x {grid} grid of {CELL}-pixel cells; centre in cell (row {row}, col {col})")
    left.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), fontsize=8, ncol=2, frameon=False)

    columns = ["p_c", "b_x", "b_y", "b_h", "b_w"] + [f"c_{name}" for name in class_names]
    cell_vector = targets[row, col]  # (A, 5 + n_classes)
    text = [[f"{v:.2f}" if a == assigned else "0" for v in vector] for a, vector in enumerate(cell_vector)]
    right.axis("off")
    table = right.table(cellText=text, colLabels=columns, rowLabels=[f"anchor {a}" for a in range(len(anchors))],
                        loc="center", cellLoc="center")
    table.scale(1, 1.6)
    for a in range(len(anchors)):
        table[a + 1, -1].get_text().set_color(ANCHOR_COLOURS[a % len(ANCHOR_COLOURS)])
    right.set_title(f"target of cell ({row}, {col}): {len(anchors)} anchors x (5 + {n_classes}) numbers\n"
                    "b_x, b_y: centre inside the cell (0..1); b_h, b_w: size in cells", fontsize=10)
    fig.yolo_cell = (row, col, assigned)
    fig.tight_layout()
    return fig
