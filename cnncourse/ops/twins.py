"""Independent twins of graded numpy functions, for the package's own machinery.

The widgets, the data generators, the YOLO pipeline and the experiments need what some graded functions compute
(an output size, an IoU, a cell encoding, non-max suppression). They never call the graded function itself: in the
student edition of the package (`cnncourse student`) every graded body is a stub, and a widget that called one
would stop with NotImplementedError. They call these twins instead, written independently of the references:
vectorised, or counted another way, never the loops that the exercises ask for. `tests/test_twins.py` checks every
twin against its graded reference on random cases, so the two cannot drift apart.

| twin | graded reference |
|---|---|
| window_count | cnncourse.ops.conv.output_size |
| transpose_size | cnncourse.ops.c4_transpose.transpose_output_size |
| pool2d | cnncourse.ops.pool.pool_forward (the output only) |
| iou_matrix, box_iou | cnncourse.ops.c3_boxes.iou |
| best_class_scores | cnncourse.ops.c3_boxes.filter_boxes |
| greedy_nms | cnncourse.ops.c3_boxes.non_max_suppression |
| cell_of_box | cnncourse.ops.c3_boxes.encode_box |
| anchor_match | cnncourse.ops.c3_boxes.best_anchor |
| crop_views | cnncourse.ops.c2_multicrop.multi_crop |
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# The table above as data: twin -> the graded reference it stands in for. The grader (grading/tripwire.py) guards each
# twin under its reference's name, so a graded function that merely calls its own twin scores 0, like one that calls
# the reference. Calling another exercise's twin stays allowed (the NMS exercise uses box_iou for its IoU).
MIRRORS = {"window_count": "cnncourse.ops.conv.output_size",
           "transpose_size": "cnncourse.ops.c4_transpose.transpose_output_size",
           "pool2d": "cnncourse.ops.pool.pool_forward", "iou_matrix": "cnncourse.ops.c3_boxes.iou",
           "box_iou": "cnncourse.ops.c3_boxes.iou", "best_class_scores": "cnncourse.ops.c3_boxes.filter_boxes",
           "greedy_nms": "cnncourse.ops.c3_boxes.non_max_suppression", "cell_of_box": "cnncourse.ops.c3_boxes.encode_box",
           "anchor_match": "cnncourse.ops.c3_boxes.best_anchor", "crop_views": "cnncourse.ops.c2_multicrop.multi_crop"}

from cnncourse.ops.validate import require_choice, require_int, require_window_fits


def window_count(n, f, pad, stride):
    """How many positions a window of size f takes along an axis of n values padded by `pad` on each side.

    Args:
        n, f, pad, stride: ints, n + 2 * pad >= f >= 1, stride >= 1.
    Returns:
        int, the number of window positions (the output size of a convolution or pooling along that axis).
    """
    for value, name, low in ((n, "n", 1), (f, "f", 1), (pad, "pad", 0), (stride, "stride", 1)):
        require_int(value, name, low)
    require_window_fits(n, f, pad, stride, "input")
    return len(range(0, n + 2 * pad - f + 1, stride))


def transpose_size(n_prev, f, stride, pad):
    """Output size of a transpose convolution: the canvas that n_prev stamped windows cover, less the crop.

    Args:
        n_prev, f, stride: ints >= 1; pad: int >= 0, cropped from each side of the canvas.
    Returns:
        int.
    """
    last_start = stride * (n_prev - 1)  # where the last window is stamped
    return last_start + f - 2 * pad


def pool2d(A_prev, f, stride, mode="max"):
    """Max or average pooling without padding, vectorised with a sliding-window view.

    Args:
        A_prev: array (m, n_H_prev, n_W_prev, n_C).
        f, stride: window size and step (ints >= 1).
        mode: "max" or "average".
    Returns:
        array (m, n_H, n_W, n_C), the dtype of A_prev.
    """
    require_choice(mode, "mode", ("max", "average"))
    windows = sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]  # (m, n_H, n_W, n_C, f, f)
    reduce = np.max if mode == "max" else np.mean
    return reduce(windows, axis=(-2, -1)).astype(A_prev.dtype)


def iou_matrix(a, b):
    """IoU of every corner box in a (A, 4) with every corner box in b (B, 4).

    Returns:
        float64 array (A, B); 0 where the union is empty (both boxes of zero area).
    """
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lower = np.maximum(a[:, None, :2], b[None, :, :2])
    upper = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(upper - lower, 0, None), axis=-1)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=-1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_iou(box1, box2):
    """IoU of two corner boxes (x1, y1, x2, y2), as a float."""
    return float(iou_matrix(box1, box2)[0, 0])


def best_class_scores(box_confidence, boxes, box_class_probs, threshold):
    """Score each box by its best class (pc * c_i) and keep those that reach the threshold.

    Args:
        box_confidence: (n, 1); boxes: (n, 4); box_class_probs: (n, n_classes).
    Returns:
        (scores (k,), boxes (k, 4), classes (k,) int), kept boxes in input order.
    """
    scored = np.asarray(box_confidence) * np.asarray(box_class_probs)
    classes = scored.argmax(axis=-1)
    scores = np.take_along_axis(scored, classes[:, None], axis=-1)[:, 0]
    keep = np.flatnonzero(scores >= threshold)
    return scores[keep], np.asarray(boxes)[keep], classes[keep]


def greedy_nms(boxes, scores, iou_threshold=0.5, max_boxes=10):
    """Greedy non-max suppression of the boxes of one class, with the overlaps computed once as a matrix.

    Returns:
        (k,) int array of kept indices, best score first; ties keep the lower index first.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    overlaps = iou_matrix(boxes, boxes)
    alive = np.ones(len(order), dtype=bool)
    kept = []
    for i in order:
        if len(kept) == max_boxes:
            break
        if alive[i]:
            kept.append(i)
            alive &= overlaps[i] <= iou_threshold
    return np.array(kept, dtype=int)


def cell_of_box(box, grid, image_size):
    """The grid cell that holds a box's centre, and the box relative to it (see encode_box).

    Returns:
        (row, col, bx, by, bh, bw): ints row, col in 0..grid-1; floats.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    centre = np.array([(y1 + y2) / 2, (x1 + x2) / 2]) * grid / image_size  # (y, x) in cells
    row, col = np.minimum(np.floor(centre), grid - 1).astype(int)
    offset = centre - (row, col)
    cells_per_pixel = grid / image_size
    return int(row), int(col), float(offset[1]), float(offset[0]), (y2 - y1) * cells_per_pixel, (x2 - x1) * cells_per_pixel


def anchor_match(box, anchors):
    """The anchor (height, width) whose shape overlaps the box's most when both share a centre.

    Returns:
        (index, iou): the first best anchor and its IoU with the box's shape.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    shape = np.array([[0.0, 0.0, x2 - x1, y2 - y1]])
    anchor_boxes = np.concatenate([np.zeros((len(anchors), 2)), np.asarray(anchors, dtype=np.float64)[:, ::-1]], axis=1)
    ious = iou_matrix(shape, anchor_boxes)[0]
    index = int(np.argmax(ious))
    return index, float(ious[index])


def crop_views(images, crop_size, mirror=True):
    """The multi-crops of a batch of images, gathered by one index grid instead of slices (see multi_crop).

    Args:
        images: numpy array (m, H, W, C); crop_size: int, 1 <= crop_size <= min(H, W); mirror: bool.
    Returns:
        numpy array (m, k, crop_size, crop_size, C), k = 10 with mirror, 5 without: top-left, top-right,
        bottom-left, bottom-right, centre (starting at ((H - crop_size) // 2, (W - crop_size) // 2)), then the same
        five with their columns reversed.
    """
    images = np.asarray(images)
    n_H, n_W = images.shape[1:3]
    c = require_int(crop_size, "crop_size", 1)
    if c > min(n_H, n_W):
        raise ValueError(f"crop_size must be at most min(H, W) = {min(n_H, n_W)}, got {c}")
    tops = np.array([0, 0, n_H - c, n_H - c, (n_H - c) // 2])
    lefts = np.array([0, n_W - c, 0, n_W - c, (n_W - c) // 2])
    rows = tops[:, None] + np.arange(c)  # (5, c): the row indices of each crop
    cols = lefts[:, None] + np.arange(c)
    if mirror:
        rows, cols = np.concatenate([rows, rows]), np.concatenate([cols, cols[:, ::-1]])
    return images[:, rows[:, :, None], cols[:, None, :], :]  # (m, k, c, c, C)
