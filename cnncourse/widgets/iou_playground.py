"""The IoU playground: move and resize two boxes, see their intersection, union and IoU.

Pure functions (no display needed):
    iou_parts(box1, box2) -> dict        intersection box (or None), its area, both areas, union, IoU
    iou_formula(parts) -> str            the numbers of the formula, one line each
    iou_figure(box1, box2, size) -> Figure   both boxes on a size x size canvas, the intersection shaded
The widget:
    iou_playground() -> Explorer         controls x1, y1, w1, h1, x2, y2, w2, h2 (pixels)
"""

import ipywidgets as widgets

from cnncourse.ops.c3_boxes import require_box
from cnncourse.ops.twins import box_iou
from cnncourse.widgets.conv_explorer import Explorer

CANVAS = 100  # side of the drawing area in pixels
CAPTION = (
    "<b>Try this.</b> Slide the second box over the first: when do they reach IoU 0.5, the usual threshold for "
    "'the detection is right'? Make the boxes touch along an edge (IoU 0), put one inside the other, and make them "
    "identical (IoU 1). How far can a 20x20 box be shifted before it drops below 0.5?"
)


def iou_parts(box1, box2):
    """The pieces of IoU for two corner boxes (x1, y1, x2, y2).

    Returns:
        dict with "intersection" (the corner box where both overlap, or None), "inter_area", "area1", "area2",
        "union" (area1 + area2 - inter_area) and "iou" (cnncourse.ops.c3_boxes.iou).
    """
    box1, box2 = require_box(box1, "box1"), require_box(box2, "box2")
    x1, y1 = max(box1[0], box2[0]), max(box1[1], box2[1])
    x2, y2 = min(box1[2], box2[2]), min(box1[3], box2[3])
    overlap = x2 > x1 and y2 > y1
    inter_area = float((x2 - x1) * (y2 - y1)) if overlap else 0.0
    area1 = float((box1[2] - box1[0]) * (box1[3] - box1[1]))
    area2 = float((box2[2] - box2[0]) * (box2[3] - box2[1]))
    return {"intersection": (x1, y1, x2, y2) if overlap else None, "inter_area": inter_area, "area1": area1,
            "area2": area2, "union": area1 + area2 - inter_area, "iou": box_iou(box1, box2)}


def iou_formula(parts):
    """The formula with the numbers of `parts` (from iou_parts), as text lines."""
    verdict = "counts as a correct detection" if parts["iou"] >= 0.5 else "below the 0.5 threshold"
    return "\n".join([
        f"intersection = {parts['inter_area']:g} px²",
        f"union = {parts['area1']:g} + {parts['area2']:g} - {parts['inter_area']:g} = {parts['union']:g} px²",
        f"IoU = {parts['inter_area']:g} / {parts['union']:g} = {parts['iou']:.3f}  ({verdict})",
    ])


def iou_figure(box1, box2, size=CANVAS):
    """Both boxes on a size x size canvas (y downwards, as in images), the intersection filled.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    parts = iou_parts(box1, box2)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    for box, colour, name in ((box1, "tab:blue", "box 1"), (box2, "tab:orange", "box 2")):
        ax.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False, edgecolor=colour,
                               linewidth=2, label=name))
    if parts["intersection"] is not None:
        x1, y1, x2, y2 = parts["intersection"]
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, color="tab:green", alpha=0.4, label="intersection"))
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    ax.set_aspect("equal")
    ax.set_title(f"IoU = {parts['iou']:.3f}")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def iou_playground(box1=(20, 20, 60, 60), box2=(40, 30, 80, 70)):
    """Build the IoU playground and draw it once.

    Args:
        box1, box2: the first corner boxes (x1, y1, x2, y2), inside the CANVAS x CANVAS area.
    Returns:
        Explorer (an ipywidgets VBox) with IntSlider controls x1, y1, w1, h1 and x2, y2, w2, h2 (top-left corner,
        width and height of each box, in pixels).
    """
    def slider(value, description, low=0):
        return widgets.IntSlider(value=int(value), min=low, max=CANVAS, description=description,
                                 continuous_update=False)

    controls = {}
    for k, box in ((1, require_box(box1, "box1")), (2, require_box(box2, "box2"))):
        controls[f"x{k}"], controls[f"y{k}"] = slider(box[0], f"x{k}"), slider(box[1], f"y{k}")
        controls[f"w{k}"], controls[f"h{k}"] = slider(box[2] - box[0], f"w{k}"), slider(box[3] - box[1], f"h{k}")

    def draw(values):
        first = [(values[f"x{k}"], values[f"y{k}"], values[f"x{k}"] + values[f"w{k}"], values[f"y{k}"] + values[f"h{k}"])
                 for k in (1, 2)]
        return iou_figure(*first), iou_formula(iou_parts(*first))

    rows = [[controls[f"{name}{k}"] for name in ("x", "y", "w", "h")] for k in (1, 2)]
    box = Explorer(CAPTION, controls, draw, rows)
    box.update()
    return box
