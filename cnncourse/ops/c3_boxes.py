"""Chapter 3: boxes, in numpy — IoU, score filtering, non-max suppression, YOLO cell encoding and anchor choice.

Conventions used throughout the chapter:
    corner box   (x1, y1, x2, y2), x to the right and y downwards, x2 >= x1 and y2 >= y1, in any unit (pixels or
                 fractions of the image); its area is (x2 - x1) * (y2 - y1). filter_boxes and non_max_suppression
                 also take a box by its other diagonal (x2 < x1 or y2 < y1), as tf.image.non_max_suppression does
                 (require_corner_pairs); iou, encode_box and best_anchor reject it.
    YOLO box     (bx, by, bh, bw) relative to a grid cell: bx, by the centre's position inside the cell, in [0, 1]
                 (1 only for a centre on the far edge of the image);
                 bh, bw the height and width as multiples of the cell's size (may exceed 1).
    anchor       (height, width) of a prior box shape, in the same unit as the boxes.
"""

import numpy as np

from cnncourse.ops.twins import greedy_nms
from cnncourse.ops.validate import require_array, require_int


def require_box(box, name="box"):
    """Check a corner box: 4 finite numbers (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1; return it as a float array."""
    values = np.asarray(box, dtype=float) if not isinstance(box, str) else None
    if values is None or values.shape != (4,) or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be 4 finite numbers (x1, y1, x2, y2), got {box!r}")
    if values[2] < values[0] or values[3] < values[1]:
        raise ValueError(f"{name} must have x2 >= x1 and y2 >= y1 (corners (x1, y1, x2, y2)), got {box!r}")
    return values


def require_boxes(boxes, name="boxes"):
    """Check an (n, 4) float array of corner boxes with x2 >= x1 and y2 >= y1; return it."""
    require_array(boxes, f"{name} (n, 4)", ndim=2, shape=(None, 4))
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError(f"every row of {name} must be corners (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1")
    return boxes


def require_corner_pairs(boxes, name="boxes"):
    """Check an (n, 4) float array of boxes, each given by two opposite corners in either diagonal order.

    tf.image.non_max_suppression accepts "any diagonal pair of box corners": (x1, y1, x2, y2) with x2 < x1 or
    y2 < y1 is the same box as (min x, min y, max x, max y). So do filter_boxes and non_max_suppression.

    Returns:
        A new (n, 4) array of the same boxes as corners (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1.
    """
    require_array(boxes, f"{name} (n, 4)", ndim=2, shape=(None, 4))
    return np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)


def iou(box1, box2):
    """Intersection over union of two corner boxes.

    Args:
        box1, box2: (x1, y1, x2, y2) each, x2 >= x1 and y2 >= y1 (lists, tuples or arrays of 4 numbers).
    Returns:
        float in [0, 1]: area of the intersection / area of the union; 0 when the boxes do not overlap or only
        touch along an edge, and 0 when both boxes have zero area.
    """
    box1, box2 = require_box(box1, "box1"), require_box(box2, "box2")
    ### BEGIN SOLUTION
    inter_w = max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
    inter_h = max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1]))
    inter = inter_w * inter_h
    union = (box1[2] - box1[0]) * (box1[3] - box1[1]) + (box2[2] - box2[0]) * (box2[3] - box2[1]) - inter
    return float(inter / union) if union > 0 else 0.0
    ### END SOLUTION


def filter_boxes(box_confidence, boxes, box_class_probs, threshold=0.6):
    """Keep the boxes whose best class score pc * c_i reaches the threshold.

    Args:
        box_confidence: (n, 1) float array, pc of each box.
        boxes: (n, 4) float array of boxes, each two opposite corners (x1, y1, x2, y2) in either diagonal order.
        box_class_probs: (n, n_classes) float array, class probabilities c_1 .. c_n of each box.
        threshold: keep a box when max_i(pc * c_i) >= threshold (a score equal to the threshold is kept).
    Returns:
        (scores (k,), boxes (k, 4), classes (k,) int): the best score, the box (as given) and the argmax class of
        each kept box, in the input order.
    """
    require_array(box_confidence, "box_confidence (n, 1)", ndim=2, shape=(None, 1))
    require_corner_pairs(boxes)
    require_array(box_class_probs, "box_class_probs (n, n_classes)", ndim=2, shape=(boxes.shape[0], None))
    if box_confidence.shape[0] != boxes.shape[0]:
        raise ValueError(f"box_confidence and boxes must have the same n, got {box_confidence.shape[0]} and "
                         f"{boxes.shape[0]}")
    ### BEGIN SOLUTION
    box_scores = box_confidence * box_class_probs  # (n, n_classes)
    classes = np.argmax(box_scores, axis=-1)
    scores = np.max(box_scores, axis=-1)
    keep = scores >= threshold
    return scores[keep], boxes[keep], classes[keep]
    ### END SOLUTION


def non_max_suppression(boxes, scores, iou_threshold=0.5, max_boxes=10):
    """Greedy non-max suppression for the boxes of ONE class.

    Repeatedly keep the box with the highest score left, then discard every remaining box whose IoU with it is
    above iou_threshold; stop when no box is left or max_boxes are kept. Ties in score keep the lower index first.

    Args:
        boxes: (n, 4) float array of boxes, each two opposite corners (x1, y1, x2, y2) in either diagonal order,
            as tf.image.non_max_suppression accepts them; the check below reorders each to x2 >= x1, y2 >= y1.
        scores: (n,) float array.
        iou_threshold: a box is suppressed when its IoU with a kept box is > iou_threshold (an IoU equal to the
            threshold keeps the box).
        max_boxes: the most boxes to keep (int >= 0).
    Returns:
        (k,) int array: indices into boxes of the kept boxes, best score first (as tf.image.non_max_suppression).
    """
    boxes = require_corner_pairs(boxes)
    require_array(scores, "scores (n,)", ndim=1, shape=(boxes.shape[0],))
    require_int(max_boxes, "max_boxes", 0)
    ### BEGIN SOLUTION
    order = list(np.argsort(-scores, kind="stable"))
    kept = []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept, dtype=int)
    ### END SOLUTION


def non_max_suppression_per_class(boxes, scores, classes, iou_threshold=0.5, max_boxes=10):
    """Non-max suppression run separately for each class: boxes of different classes never suppress each other.

    Args:
        boxes: (n, 4) corner boxes; scores: (n,) floats; classes: (n,) ints.
        iou_threshold, max_boxes: as non_max_suppression, max_boxes per class.
    Returns:
        (k,) int array of kept indices, sorted by decreasing score.
    """
    require_boxes(boxes)
    classes = np.asarray(classes)
    if classes.shape != (boxes.shape[0],) or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"classes must be an int array of shape ({boxes.shape[0]},), got {classes!r}")
    kept = []
    for c in np.unique(classes):
        members = np.flatnonzero(classes == c)
        kept.extend(members[greedy_nms(boxes[members], scores[members], iou_threshold, max_boxes)])
    kept = np.array(kept, dtype=int)
    return kept[np.argsort(-scores[kept], kind="stable")]


def encode_box(box, grid, image_size):
    """The grid cell responsible for a box (the one holding its centre) and the box relative to that cell.

    Args:
        box: corner box (x1, y1, x2, y2) in pixels whose centre lies in the image (0 <= centre <= image_size).
        grid: S, the image is cut into S x S cells (int >= 1).
        image_size: side of the square image in pixels (> 0).
    Returns:
        (row, col, bx, by, bh, bw): row and col of the cell (ints in 0..S-1; a centre exactly on the far edge goes
        to the last cell), bx and by the centre inside the cell as fractions of the cell in [0, 1], bh and bw the
        box's height and width in cells.
    """
    box = require_box(box)
    grid = require_int(grid, "grid", 1)
    if not image_size > 0:
        raise ValueError(f"image_size must be > 0, got {image_size!r}")
    ### BEGIN SOLUTION
    cell = image_size / grid
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell  # the centre, in cells
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    return row, col, float(x_c - col), float(y_c - row), float((box[3] - box[1]) / cell), float((box[2] - box[0]) / cell)
    ### END SOLUTION


def best_anchor(box, anchors):
    """The anchor whose shape matches a box best: the highest IoU when both are centred on the same point.

    Args:
        box: corner box (x1, y1, x2, y2).
        anchors: (n_anchors, 2) float array of (height, width) shapes, in the box's unit.
    Returns:
        (index, iou): the chosen anchor's index (the first one on a tie) and its shape IoU with the box.
    """
    box = require_box(box)
    require_array(anchors, "anchors (n_anchors, 2)", ndim=2, shape=(None, 2))
    if anchors.shape[0] == 0 or np.any(anchors <= 0):
        raise ValueError(f"anchors must hold at least one (height, width) pair, all > 0, got {anchors!r}")
    ### BEGIN SOLUTION
    h, w = box[3] - box[1], box[2] - box[0]
    inter = np.minimum(anchors[:, 0], h) * np.minimum(anchors[:, 1], w)
    union = anchors[:, 0] * anchors[:, 1] + h * w - inter
    ious = inter / union
    index = int(np.argmax(ious))
    return index, float(ious[index])
    ### END SOLUTION
