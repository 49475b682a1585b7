"""Chapter 3: YOLO's target tensor and its decoding, in numpy.

A YOLO output for an S x S grid and A anchors is a (S, S, A, 5 + n_classes) array; the vector of cell (row, col)
and anchor a is [pc, bx, by, bh, bw, c1 .. c_n] with bx, by, bh, bw as in cnncourse.ops.c3_boxes (relative to the
cell). An object goes to the cell that holds its centre and, within it, to the anchor whose shape fits it best.
Two objects that want the same cell and anchor cannot both be encoded: the second is reported, not silently lost.
"""

import numpy as np

from cnncourse.ops.c3_boxes import require_boxes
from cnncourse.ops.twins import anchor_match, cell_of_box
from cnncourse.ops.validate import require_array, require_int


def yolo_targets(boxes, labels, grid, anchors, image_size, n_classes):
    """Encode the objects of one image as a YOLO target tensor.

    Args:
        boxes: (k, 4) float array of corner boxes in pixels.
        labels: (k,) int array of class indices in 0..n_classes-1.
        grid: S (int >= 1).
        anchors: (A, 2) float array of anchor (height, width) in cells.
        image_size: side of the square image in pixels.
        n_classes: number of classes (int >= 1).
    Returns:
        (targets, conflicts): targets a float32 (S, S, A, 5 + n_classes) array; conflicts a list of
        (object index, row, col, anchor) for the objects left out because an earlier object already holds that
        cell and anchor (the case anchors do not handle).
    """
    require_boxes(boxes)
    labels = np.asarray(labels)
    if labels.shape != (len(boxes),) or (len(labels) and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"labels must be an int array of shape ({len(boxes)},), got {labels!r}")
    grid, n_classes = require_int(grid, "grid", 1), require_int(n_classes, "n_classes", 1)
    require_array(anchors, "anchors (A, 2)", ndim=2, shape=(None, 2))
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}, got {labels.tolist()}")
    targets = np.zeros((grid, grid, len(anchors), 5 + n_classes), dtype=np.float32)
    conflicts = []
    for k, (box, label) in enumerate(zip(boxes, labels)):
        row, col, bx, by, bh, bw = cell_of_box(box, grid, image_size)
        anchor, _ = anchor_match(np.array([0.0, 0.0, bw, bh]), anchors)  # shapes compared in cells
        if targets[row, col, anchor, 0] == 1:
            conflicts.append((k, row, col, anchor))
            continue
        targets[row, col, anchor, :5] = (1.0, bx, by, bh, bw)
        targets[row, col, anchor, 5 + label] = 1.0
    return targets, conflicts


def yolo_decode(output, image_size):
    """Turn a YOLO output (or target) tensor into corner boxes in pixels with their pc and class probabilities.

    Args:
        output: (S, S, A, 5 + n_classes) float array; bx, by relative to the cell, bh, bw in cells.
        image_size: side of the square image in pixels.
    Returns:
        (box_confidence (S*S*A, 1), boxes (S*S*A, 4) corner boxes in pixels, box_class_probs (S*S*A, n_classes)),
        in the order row, col, anchor: the inputs of cnncourse.ops.c3_boxes.filter_boxes.
    """
    require_array(output, "output (S, S, A, 5 + n_classes)", ndim=4)
    grid = output.shape[0]
    if output.shape[1] != grid or output.shape[3] < 6:
        raise ValueError(f"output must have shape (S, S, A, 5 + n_classes) with n_classes >= 1, got {output.shape}")
    cell = image_size / grid
    rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    x_c = (cols[..., None] + output[..., 1]) * cell
    y_c = (rows[..., None] + output[..., 2]) * cell
    h, w = output[..., 3] * cell, output[..., 4] * cell
    boxes = np.stack([x_c - w / 2, y_c - h / 2, x_c + w / 2, y_c + h / 2], axis=-1)
    n = grid * grid * output.shape[2]
    return output[..., :1].reshape(n, 1), boxes.reshape(n, 4), output[..., 5:].reshape(n, -1)
