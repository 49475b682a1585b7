"""Chapter 3's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The checks are called directly, not through nbgrader. Each function below starts with the input checks the
notebook gives (the reference's validators), as a student's cell does. One graded function calls another by name:
non_max_suppression calls `iou`. In part 3 that name is the course's vectorised twin (cnncourse.ops.twins.box_iou),
but a student may paste part 2's own iou there: the hidden check runs with the course's iou swapped in, and the
public one says where the mistake starts (one mistake, one loss).
"""

import inspect
import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnncourse.checks import c3_boxes as box_checks
from cnncourse.checks import c3_landmarks as landmark_checks
from cnncourse.checks import c3_localization as localization_checks
from cnncourse.checks import c3_sliding as sliding_checks
from cnncourse.ops import c3_boxes
from cnncourse.ops.c3_boxes import require_box, require_corner_pairs
from cnncourse.ops.twins import box_iou
from cnncourse.ops.validate import require_array, require_int
from corpus_harness import corpus_tests
from corpus_harness import fails as _fails

# The notebook's name, as part 3's student code finds it (its non_max_suppression calls iou).
iou = box_iou


# ---------------------------------------------------------------- iou
def _corners(box1, box2):
    return require_box(box1, "box1"), require_box(box2, "box2")


def _areas(box1, box2, plus=0.0):
    return ((box1[2] - box1[0] + plus) * (box1[3] - box1[1] + plus),
            (box2[2] - box2[0] + plus) * (box2[3] - box2[1] + plus))


def iou_unclamped(box1, box2):
    box1, box2 = _corners(box1, box2)
    inter = (min(box1[2], box2[2]) - max(box1[0], box2[0])) * (min(box1[3], box2[3]) - max(box1[1], box2[1]))
    union = sum(_areas(box1, box2)) - inter
    return float(inter / union) if union > 0 else 0.0


def iou_product_clamped(box1, box2):  # max(0, w * h): two negative sides make a positive area
    box1, box2 = _corners(box1, box2)
    inter = max(0.0, (min(box1[2], box2[2]) - max(box1[0], box2[0])) * (min(box1[3], box2[3]) - max(box1[1], box2[1])))
    union = sum(_areas(box1, box2)) - inter
    return float(inter / union) if union > 0 else 0.0


def iou_plus_one(box1, box2):  # the pixel-count convention of some detection codebases
    box1, box2 = _corners(box1, box2)
    inter = (max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]) + 1)
             * max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1]) + 1))
    union = sum(_areas(box1, box2, plus=1.0)) - inter
    return float(inter / union)


def iou_union_not_subtracted(box1, box2):
    box1, box2 = _corners(box1, box2)
    inter = (max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
             * max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1])))
    union = sum(_areas(box1, box2))
    return float(inter / union) if union > 0 else 0.0


def iou_over_first_area(box1, box2):
    box1, box2 = _corners(box1, box2)
    inter = (max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
             * max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1])))
    area1 = _areas(box1, box2)[0]
    return float(inter / area1) if area1 > 0 else 0.0


def iou_min_max_swapped(box1, box2):  # the smaller left edge and the larger right edge: the enclosing box
    box1, box2 = _corners(box1, box2)
    inter = (max(0.0, max(box1[2], box2[2]) - min(box1[0], box2[0]))
             * max(0.0, max(box1[3], box2[3]) - min(box1[1], box2[1])))
    union = sum(_areas(box1, box2)) - inter
    return float(inter / union) if union > 0 else 0.0


def iou_without_zero_guard(box1, box2):  # two zero-area boxes: 0 / 0
    box1, box2 = _corners(box1, box2)
    inter = (max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
             * max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1])))
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(inter / (sum(_areas(box1, box2)) - inter))


def iou_without_input_checks(box1, box2):  # the given input checks deleted: (x, y, w, h) by mistake goes through
    inter = (max(0.0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
             * max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1])))
    union = sum(_areas(box1, box2)) - inter
    return float(inter / union) if union > 0 else 0.0


def iou_numpy(box1, box2):  # vectorised over the two axes
    box1, box2 = _corners(box1, box2)
    sides = np.clip(np.minimum(box1[2:], box2[2:]) - np.maximum(box1[:2], box2[:2]), 0.0, None)
    inter = np.prod(sides)
    union = np.prod(box1[2:] - box1[:2]) + np.prod(box2[2:] - box2[:2]) - inter
    return float(inter / union) if union > 0 else 0.0


def iou_early_return(box1, box2):  # an explicit test for no overlap, unpacked names
    box1, box2 = _corners(box1, box2)
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = box1, box2
    xi1, yi1, xi2, yi2 = max(ax1, bx1), max(ay1, by1), min(ax2, bx2), min(ay2, by2)
    if xi2 <= xi1 or yi2 <= yi1:
        return 0.0
    inter = (xi2 - xi1) * (yi2 - yi1)
    return float(inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter))


# ---------------------------------------------------------------- filter_boxes
def _filter_inputs(box_confidence, boxes, box_class_probs):
    require_array(box_confidence, "box_confidence (n, 1)", ndim=2, shape=(None, 1))
    require_corner_pairs(boxes)
    require_array(box_class_probs, "box_class_probs (n, n_classes)", ndim=2, shape=(boxes.shape[0], None))


def filter_strict(box_confidence, boxes, box_class_probs, threshold=0.6):
    _filter_inputs(box_confidence, boxes, box_class_probs)
    box_scores = box_confidence * box_class_probs
    scores = np.max(box_scores, axis=-1)
    keep = scores > threshold
    return scores[keep], boxes[keep], np.argmax(box_scores, axis=-1)[keep]


def filter_by_class_probability(box_confidence, boxes, box_class_probs, threshold=0.6):  # pc forgotten in the test
    _filter_inputs(box_confidence, boxes, box_class_probs)
    box_scores = box_confidence * box_class_probs
    keep = np.max(box_class_probs, axis=-1) >= threshold
    return np.max(box_scores, axis=-1)[keep], boxes[keep], np.argmax(box_scores, axis=-1)[keep]


def filter_by_confidence(box_confidence, boxes, box_class_probs, threshold=0.6):  # the classes forgotten in the test
    _filter_inputs(box_confidence, boxes, box_class_probs)
    box_scores = box_confidence * box_class_probs
    keep = box_confidence[:, 0] >= threshold
    return np.max(box_scores, axis=-1)[keep], boxes[keep], np.argmax(box_scores, axis=-1)[keep]


def filter_sorted_by_score(box_confidence, boxes, box_class_probs, threshold=0.6):
    _filter_inputs(box_confidence, boxes, box_class_probs)
    box_scores = box_confidence * box_class_probs
    scores = np.max(box_scores, axis=-1)
    keep = np.flatnonzero(scores >= threshold)
    keep = keep[np.argsort(-scores[keep])]
    return scores[keep], boxes[keep], np.argmax(box_scores, axis=-1)[keep]


def filter_class_on_first_axis(box_confidence, boxes, box_class_probs, threshold=0.6):
    _filter_inputs(box_confidence, boxes, box_class_probs)
    box_scores = box_confidence * box_class_probs
    scores = np.max(box_scores, axis=-1)
    keep = scores >= threshold
    return scores[keep], boxes[keep], np.argmax(box_scores, axis=0)[keep]


def filter_pc_times_best_probability(box_confidence, boxes, box_class_probs, threshold=0.6):  # pc >= 0: same max
    _filter_inputs(box_confidence, boxes, box_class_probs)
    classes = np.argmax(box_class_probs, axis=1)
    scores = box_confidence[:, 0] * box_class_probs[np.arange(len(classes)), classes]
    keep = np.flatnonzero(scores >= threshold)
    return scores[keep], boxes[keep], classes[keep]


def filter_loop(box_confidence, boxes, box_class_probs, threshold=0.6):
    _filter_inputs(box_confidence, boxes, box_class_probs)
    scores, kept, classes = [], [], []
    for pc, box, probs in zip(box_confidence[:, 0], boxes, box_class_probs):
        best = int(np.argmax(pc * probs))
        if pc * probs[best] >= threshold:
            scores.append(pc * probs[best])
            kept.append(box)
            classes.append(best)
    return np.array(scores), np.array(kept).reshape(-1, 4), np.array(classes, dtype=int)


# ---------------------------------------------------------------- non_max_suppression
def _nms_inputs(boxes, scores, max_boxes):
    boxes = require_corner_pairs(boxes)
    require_array(scores, "scores (n,)", ndim=1, shape=(boxes.shape[0],))
    require_int(max_boxes, "max_boxes", 0)
    return boxes


def nms_suppress_at_threshold(boxes, scores, iou_threshold=0.5, max_boxes=10):  # < instead of <=
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order, kept = list(np.argsort(-scores, kind="stable")), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) < iou_threshold]
    return np.array(kept, dtype=int)


def nms_input_order(boxes, scores, iou_threshold=0.5, max_boxes=10):
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order, kept = list(range(len(scores))), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept, dtype=int)


def nms_ascending(boxes, scores, iou_threshold=0.5, max_boxes=10):  # np.argsort(scores): worst first
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order, kept = list(np.argsort(scores, kind="stable")), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept, dtype=int)


def nms_first_box_only(boxes, scores, iou_threshold=0.5, max_boxes=10):  # one round of suppression
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order = list(np.argsort(-scores, kind="stable"))
    if not order:
        return np.array([], dtype=int)
    best = order[0]
    kept = [best] + [i for i in order[1:] if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept[:max_boxes], dtype=int)


def nms_sorted_indices(boxes, scores, iou_threshold=0.5, max_boxes=10):
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order, kept = list(np.argsort(-scores, kind="stable")), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(sorted(kept), dtype=int)


def nms_max_boxes_plus_one(boxes, scores, iou_threshold=0.5, max_boxes=10):  # <= max_boxes in the loop's test
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order, kept = list(np.argsort(-scores, kind="stable")), []
    while order and len(kept) <= max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept, dtype=int)


def nms_alive_mask(boxes, scores, iou_threshold=0.5, max_boxes=10):  # a mask instead of a shrinking list
    boxes = _nms_inputs(boxes, scores, max_boxes)
    alive = np.ones(len(scores), dtype=bool)
    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if len(kept) == max_boxes:
            break
        if alive[i]:
            kept.append(i)
            alive &= np.array([iou(boxes[i], box) <= iou_threshold for box in boxes], dtype=bool)
    return np.array(kept, dtype=int)


def nms_python_sorted(boxes, scores, iou_threshold=0.5, max_boxes=10):  # sorted() is stable too
    boxes = _nms_inputs(boxes, scores, max_boxes)
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    kept = []
    for i in order:
        if len(kept) >= max_boxes:
            break
        if all(iou(boxes[k], boxes[i]) <= iou_threshold for k in kept):
            kept.append(i)
    return np.array(kept, dtype=int)


# ---------------------------------------------------------------- encode_box
def _encode_inputs(box, grid, image_size):
    box = require_box(box)
    grid = require_int(grid, "grid", 1)
    if not image_size > 0:
        raise ValueError(f"image_size must be > 0, got {image_size!r}")
    return box, grid, image_size / grid


def encode_row_col_swapped(box, grid, image_size):
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    return col, row, x_c - col, y_c - row, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


def encode_height_width_swapped(box, grid, image_size):
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    return row, col, x_c - col, y_c - row, (box[2] - box[0]) / cell, (box[3] - box[1]) / cell


def encode_size_in_pixels(box, grid, image_size):
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    return row, col, x_c - col, y_c - row, box[3] - box[1], box[2] - box[0]


def encode_centre_from_image_corner(box, grid, image_size):  # bx, by not relative to the cell
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    return row, col, x_c, y_c, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


def encode_far_edge_unclamped(box, grid, image_size):  # a centre on the far edge gives row or col = S
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = int(np.floor(x_c)), int(np.floor(y_c))
    return row, col, x_c - col, y_c - row, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


def encode_rounded_cell(box, grid, image_size):  # round() instead of floor()
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(round(x_c), grid - 1), min(round(y_c), grid - 1)
    return row, col, x_c - col, y_c - row, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


def encode_divmod(box, grid, image_size):  # in pixels: divmod gives the cell and the offset inside it
    box, grid, cell = _encode_inputs(box, grid, image_size)
    col, x_in = divmod((box[0] + box[2]) / 2, cell)
    row, y_in = divmod((box[1] + box[3]) / 2, cell)
    if col == grid:
        col, x_in = grid - 1, cell
    if row == grid:
        row, y_in = grid - 1, cell
    return int(row), int(col), x_in / cell, y_in / cell, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


def encode_int_cast(box, grid, image_size):  # int() truncates like floor for a centre >= 0
    box, grid, cell = _encode_inputs(box, grid, image_size)
    x_c, y_c = (box[0] + box[2]) / (2 * cell), (box[1] + box[3]) / (2 * cell)
    row, col = min(int(y_c), grid - 1), min(int(x_c), grid - 1)
    return row, col, x_c - col, y_c - row, (box[3] - box[1]) / cell, (box[2] - box[0]) / cell


# ---------------------------------------------------------------- best_anchor
def _anchor_inputs(box, anchors):
    box = require_box(box)
    require_array(anchors, "anchors (n_anchors, 2)", ndim=2, shape=(None, 2))
    return box, box[3] - box[1], box[2] - box[0]


def anchor_read_as_width_height(box, anchors):
    box, h, w = _anchor_inputs(box, anchors)
    inter = np.minimum(anchors[:, 1], h) * np.minimum(anchors[:, 0], w)
    ious = inter / (anchors[:, 0] * anchors[:, 1] + h * w - inter)
    return int(np.argmax(ious)), float(ious[np.argmax(ious)])


def anchor_union_not_subtracted(box, anchors):
    box, h, w = _anchor_inputs(box, anchors)
    ious = np.minimum(anchors[:, 0], h) * np.minimum(anchors[:, 1], w) / (anchors[:, 0] * anchors[:, 1] + h * w)
    return int(np.argmax(ious)), float(ious[np.argmax(ious)])


def anchor_argmin(box, anchors):
    box, h, w = _anchor_inputs(box, anchors)
    inter = np.minimum(anchors[:, 0], h) * np.minimum(anchors[:, 1], w)
    ious = inter / (anchors[:, 0] * anchors[:, 1] + h * w - inter)
    return int(np.argmin(ious)), float(ious[np.argmin(ious)])


def anchor_last_on_tie(box, anchors):  # >= in the loop: a later anchor of equal IoU replaces the first
    box, h, w = _anchor_inputs(box, anchors)
    best, best_iou = 0, -1.0
    for k, (a_h, a_w) in enumerate(anchors):
        inter = min(a_h, h) * min(a_w, w)
        value = inter / (a_h * a_w + h * w - inter)
        if value >= best_iou:
            best, best_iou = k, value
    return best, float(best_iou)


def anchor_at_the_origin(box, anchors):  # each anchor put at (0, 0) and compared with the box where it is
    box, h, w = _anchor_inputs(box, anchors)
    ious = [c3_boxes.iou(box, (0.0, 0.0, a_w, a_h)) for a_h, a_w in anchors]
    return int(np.argmax(ious)), float(max(ious))


def anchor_loop(box, anchors):  # a strict > keeps the first of equal IoUs
    box, h, w = _anchor_inputs(box, anchors)
    best, best_iou = 0, -1.0
    for k, (a_h, a_w) in enumerate(anchors):
        inter = min(a_h, h) * min(a_w, w)
        value = inter / (a_h * a_w + h * w - inter)
        if value > best_iou:
            best, best_iou = k, value
    return best, float(best_iou)


def anchor_same_centre_corners(box, anchors):  # both boxes written as corners around the box's centre
    box, h, w = _anchor_inputs(box, anchors)
    x_c, y_c = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    ious = [c3_boxes.iou(box, (x_c - a_w / 2, y_c - a_h / 2, x_c + a_w / 2, y_c + a_h / 2)) for a_h, a_w in anchors]
    return int(np.argmax(ious)), float(max(ious))


# ---------------------------------------------------------------- localization_target
def _target_inputs(box, label, image_size, n_classes):
    n_classes = require_int(n_classes, "n_classes", 1)
    return (require_box(box) if box is not None else None), n_classes


def _target_with(box, label, image_size, n_classes, box_part, class_offset=5):
    """localization_target with the four box numbers from box_part(box, height, width) and the one-hot at
    class_offset + label: the typical mistakes differ only there."""
    box, n_classes = _target_inputs(box, label, image_size, n_classes)
    y = np.zeros(5 + n_classes, dtype=np.float32)
    if box is None:
        return y
    height, width = image_size
    y[:5] = [1.0, *box_part(box, height, width)]
    y[class_offset + label] = 1.0
    return y


def _right_box_part(box, height, width):
    return (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height, (box[3] - box[1]) / height, \
        (box[2] - box[0]) / width


def target_height_width_swapped(box, label, image_size, n_classes):  # width, height = image_size
    return _target_with(box, label, image_size[::-1], n_classes, _right_box_part)


def target_bh_bw_swapped(box, label, image_size, n_classes):
    return _target_with(box, label, image_size, n_classes, lambda b, h, w: (
        (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h, (b[2] - b[0]) / w, (b[3] - b[1]) / h))


def target_corner_not_centre(box, label, image_size, n_classes):
    return _target_with(box, label, image_size, n_classes, lambda b, h, w: (
        b[0] / w, b[1] / h, (b[3] - b[1]) / h, (b[2] - b[0]) / w))


def target_in_pixels(box, label, image_size, n_classes):
    return _target_with(box, label, image_size, n_classes, lambda b, h, w: (
        (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[3] - b[1], b[2] - b[0]))


def target_label_one_based(box, label, image_size, n_classes):  # y[4 + label]: the one-hot shifted by one
    return _target_with(box, label, image_size, n_classes, _right_box_part, class_offset=4)


def target_concatenate(box, label, image_size, n_classes):
    box, n_classes = _target_inputs(box, label, image_size, n_classes)
    if box is None:
        return np.zeros(5 + n_classes, dtype=np.float32)
    height, width = image_size
    scale = np.array([width, height, width, height])
    x1, y1, x2, y2 = box / scale
    return np.concatenate([[1.0, (x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1],
                           np.eye(n_classes)[label]]).astype(np.float32)


# ---------------------------------------------------------------- localization_loss
def loss_unmasked(y_true, y_pred):
    return ops.mean(ops.sum(ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true)), axis=-1))


def loss_summed_over_batch(y_true, y_pred):
    squared = ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
    return ops.sum(squared[:, 0] + y_true[:, 0] * ops.sum(squared[:, 1:], axis=-1))


def loss_mean_over_entries(y_true, y_pred):
    squared = ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
    mask = ops.concatenate([ops.ones_like(y_true[:, :1]), ops.repeat(y_true[:, :1], y_true.shape[1] - 1, axis=1)], 1)
    return ops.mean(mask * squared)


def loss_pc_term_masked_too(y_true, y_pred):
    squared = ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
    return ops.mean(y_true[:, 0] * ops.sum(squared, axis=-1))


def loss_mask_from_prediction(y_true, y_pred):
    squared = ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
    return ops.mean(squared[:, 0] + y_pred[:, 0] * ops.sum(squared[:, 1:], axis=-1))


def loss_where(y_true, y_pred):
    y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
    squared = ops.square(y_pred - y_true)
    per_example = ops.where(y_true[:, 0] == 1, ops.sum(squared, axis=-1), squared[:, 0])
    return ops.mean(per_example)


def loss_weight_matrix(y_true, y_pred):  # a weight per entry: 1 for pc, pc for the rest
    y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
    pc = y_true[:, :1]
    weights = ops.concatenate([ops.ones_like(pc), ops.repeat(pc, y_true.shape[1] - 1, axis=1)], axis=1)
    return ops.sum(weights * ops.square(y_pred - y_true)) / y_true.shape[0]


# ---------------------------------------------------------------- landmark_target
def _landmark_inputs(points, image_size):
    return np.asarray(points, dtype=np.float64), image_size


def landmarks_x_y_swapped(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    return (points[:, ::-1] / [height, width]).reshape(-1).astype(np.float32)


def landmarks_divided_by_height_width(points, image_size):
    points, size = _landmark_inputs(points, image_size)
    return (points / np.array(size)).reshape(-1).astype(np.float32)


def landmarks_all_x_first(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    return (points / [width, height]).T.reshape(-1).astype(np.float32)


def landmarks_not_flattened(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    return (points / [width, height]).astype(np.float32)


def landmarks_in_place(points, image_size):  # asarray of a float64 array is the array itself: /= changes it
    points, (height, width) = _landmark_inputs(points, image_size)
    points /= [width, height]
    return points.reshape(-1).astype(np.float32)


def landmarks_float64(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    return (points / [width, height]).reshape(-1)


def landmarks_column_stack(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    return np.column_stack([points[:, 0] / width, points[:, 1] / height]).ravel().astype(np.float32)


def landmarks_loop(points, image_size):
    points, (height, width) = _landmark_inputs(points, image_size)
    values = []
    for x, y in points:
        values += [x / width, y / height]
    return np.array(values, dtype=np.float32)


# ---------------------------------------------------------------- convolutional_classifier
def _twin(classifier, kernel_of_fc1=None, output_activation="softmax", pool_strides=None, copy=True):
    """The convolutional twin with the switches that give the typical mistakes (the defaults give the right one)."""
    n_channels = classifier.inputs[0].shape[-1]
    fc1, fc2, predictions = (classifier.get_layer(name) for name in ("fc1", "fc2", "predictions"))
    inputs = keras.Input((None, None, n_channels))
    x = layers.Conv2D(16, 5, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, strides=pool_strides, name="pool1")(x)
    x = layers.Conv2D(400, 5, activation="relu", name="fc1_conv")(x)
    x = layers.Conv2D(400, 1, activation="relu", name="fc2_conv")(x)
    outputs = layers.Conv2D(predictions.units, 1, activation=output_activation, name="predictions_conv")(x)
    model = keras.Model(inputs, outputs)
    if copy:
        model.get_layer("conv1").set_weights(classifier.get_layer("conv1").get_weights())
        kernel, bias = fc1.get_weights()
        kernel = kernel_of_fc1(kernel) if kernel_of_fc1 else kernel.reshape(5, 5, 16, 400)
        model.get_layer("fc1_conv").set_weights([kernel, bias])
        for name, dense in (("fc2_conv", fc2), ("predictions_conv", predictions)):
            kernel, bias = dense.get_weights()
            model.get_layer(name).set_weights([kernel[None, None], bias])
    return model


def twin_weights_not_copied(classifier):
    return _twin(classifier, copy=False)


def twin_channels_first_reshape(classifier):  # as if Flatten read channel by channel
    return _twin(classifier, kernel_of_fc1=lambda k: k.reshape(16, 5, 5, 400).transpose(1, 2, 0, 3))


def twin_without_softmax(classifier):
    return _twin(classifier, output_activation=None)


def twin_pool_stride_one(classifier):
    return _twin(classifier, pool_strides=1)


def twin_sequential(classifier):  # Sequential, the softmax as its own layer, every kernel reshaped by np.reshape
    n_channels = classifier.inputs[0].shape[-1]
    n_classes = classifier.get_layer("predictions").units
    model = keras.Sequential([
        keras.Input((None, None, n_channels)),
        layers.Conv2D(16, 5, activation="relu", name="c1"),
        layers.MaxPooling2D(2, name="p1"),
        layers.Conv2D(400, 5, activation="relu", name="f1"),
        layers.Conv2D(400, 1, activation="relu", name="f2"),
        layers.Conv2D(n_classes, 1, name="logits"),
        layers.Softmax(axis=-1, name="probabilities"),
    ], name="twin")
    for mine, theirs in (("c1", "conv1"), ("f1", "fc1"), ("f2", "fc2"), ("logits", "predictions")):
        kernel, bias = classifier.get_layer(theirs).get_weights()
        shape = model.get_layer(mine).kernel.shape
        model.get_layer(mine).set_weights([np.reshape(kernel, shape), bias])
    return model


# ---------------------------------------------------------------- the corpus
CHECKS = {"iou": box_checks, "filter_boxes": box_checks, "non_max_suppression": box_checks,
          "encode_box": box_checks, "best_anchor": box_checks, "localization_target": localization_checks,
          "localization_loss": localization_checks, "landmark_target": landmark_checks,
          "convolutional_classifier": sliding_checks}
# name -> [(mistake, public check must fail too)]
MISTAKES = {
    "iou": [(iou_unclamped, True), (iou_product_clamped, True), (iou_plus_one, True),
            (iou_union_not_subtracted, True), (iou_over_first_area, True), (iou_min_max_swapped, True),
            (iou_without_zero_guard, False), (iou_without_input_checks, False)],
    "filter_boxes": [(filter_strict, True), (filter_by_class_probability, True), (filter_by_confidence, True),
                     (filter_sorted_by_score, True), (filter_class_on_first_axis, True)],
    "non_max_suppression": [(nms_suppress_at_threshold, True), (nms_input_order, True), (nms_ascending, True),
                            (nms_first_box_only, True), (nms_sorted_indices, True), (nms_max_boxes_plus_one, True)],
    "encode_box": [(encode_row_col_swapped, True), (encode_height_width_swapped, True), (encode_size_in_pixels, True),
                   (encode_centre_from_image_corner, True), (encode_far_edge_unclamped, False),
                   (encode_rounded_cell, True)],
    "best_anchor": [(anchor_read_as_width_height, True), (anchor_union_not_subtracted, True), (anchor_argmin, True),
                    (anchor_last_on_tie, False), (anchor_at_the_origin, True)],
    "localization_target": [(target_height_width_swapped, True), (target_bh_bw_swapped, True),
                            (target_corner_not_centre, True), (target_in_pixels, True),
                            (target_label_one_based, True)],
    "localization_loss": [(loss_unmasked, True), (loss_summed_over_batch, True), (loss_mean_over_entries, True),
                          (loss_pc_term_masked_too, True), (loss_mask_from_prediction, True)],
    "landmark_target": [(landmarks_x_y_swapped, True), (landmarks_divided_by_height_width, True),
                        (landmarks_all_x_first, True), (landmarks_not_flattened, True), (landmarks_in_place, True),
                        (landmarks_float64, True)],
    "convolutional_classifier": [(twin_weights_not_copied, True), (twin_channels_first_reshape, True),
                                 (twin_without_softmax, True), (twin_pool_stride_one, True)],
}
ALTERNATIVES = {
    "iou": [iou_numpy, iou_early_return],
    "filter_boxes": [filter_pc_times_best_probability, filter_loop],
    "non_max_suppression": [nms_alive_mask, nms_python_sorted],
    "encode_box": [encode_divmod, encode_int_cast],
    "best_anchor": [anchor_loop, anchor_same_centre_corners],
    "localization_target": [target_concatenate],
    "localization_loss": [loss_where, loss_weight_matrix],
    "landmark_target": [landmarks_column_stack, landmarks_loop],
    "convolutional_classifier": [twin_sequential],
}

# What the hidden check's message must say for a mistake it can recognise.
HINTS = {
    iou_unclamped: "not clamped at 0", iou_product_clamped: "only the product was clamped",
    iou_plus_one: "x2 - x1 + 1", iou_union_not_subtracted: "without subtracting the intersection",
    iou_over_first_area: "first box's area", iou_min_max_swapped: "min and max were swapped",
    filter_strict: "score > threshold", filter_by_class_probability: "class probability c_i alone",
    filter_by_confidence: "by pc alone", filter_sorted_by_score: "sorted by score",
    nms_suppress_at_threshold: "IoU >= iou_threshold", nms_input_order: "input order",
    nms_ascending: "worst first", nms_first_box_only: "only the first kept box", nms_sorted_indices: "sorted by index",
    encode_row_col_swapped: "row and col were swapped", encode_height_width_swapped: "bh and bw were swapped",
    encode_size_in_pixels: "left in pixels", encode_centre_from_image_corner: "from the image's corner",
    encode_far_edge_unclamped: "last cell",
    anchor_read_as_width_height: "(width, height)", anchor_union_not_subtracted: "did not subtract",
    anchor_argmin: "LOWEST IoU", anchor_last_on_tie: "tie went to the last anchor",
    target_height_width_swapped: "image_size is (height, width)", target_bh_bw_swapped: "bh and bw were swapped",
    target_corner_not_centre: "not the centre", target_in_pixels: "left in pixels",
    loss_unmasked: "pc mask was forgotten", loss_summed_over_batch: "summed, not averaged",
    loss_mean_over_entries: "over every entry", loss_pc_term_masked_too: "pc's own term",
    loss_mask_from_prediction: "from y_pred's pc",
    landmarks_x_y_swapped: "x and y are swapped", landmarks_divided_by_height_width: "divided by the height",
    landmarks_all_x_first: "all lx come first", landmarks_in_place: "changed its argument",
    twin_without_softmax: "softmax is missing", twin_channels_first_reshape: "(5, 5, 16, 400)",
}
(test_each_mistake_fails_the_hidden_check_and_the_public_one, test_each_correct_alternative_passes_both_checks,
 test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function,
 test_hidden_failures_name_the_likely_mistake) = corpus_tests(CHECKS, MISTAKES, ALTERNATIVES, HINTS)


# ---------------------------------------------------------------- one mistake, one loss; corner order
def _part3_notebook(own_iou):
    """Part 3's namespace after a student pasted part 2's iou (`own_iou`) over the course's: the NMS reference cell
    runs there, as the notebook holds it."""
    namespace = {"np": np, "require_corner_pairs": require_corner_pairs, "require_array": require_array,
                 "require_int": require_int, "iou": own_iou}
    exec(inspect.getsource(c3_boxes.non_max_suppression), namespace)  # noqa: S102 - the course's own source
    return namespace


@pytest.mark.parametrize("own_iou", [iou_unclamped, iou_union_not_subtracted, iou_plus_one],
                         ids=lambda fn: fn.__name__)
def test_a_broken_iou_costs_nms_nothing_but_shows_in_its_public_check(own_iou, capsys):
    namespace = _part3_notebook(own_iou)
    fn = namespace["non_max_suppression"]
    assert _fails(box_checks.public_non_max_suppression, fn) is None
    assert "the mistake is in your iou" in capsys.readouterr().out
    assert _fails(box_checks.hidden_non_max_suppression, fn) is None
    assert namespace["iou"] is own_iou  # the notebook's own iou is back


def test_an_nms_with_its_own_mistake_still_fails_with_the_course_iou():
    namespace = _part3_notebook(iou_unclamped)
    source = inspect.getsource(c3_boxes.non_max_suppression)
    exec(source.replace('order = list(np.argsort(-scores, kind="stable"))', "order = list(range(len(scores)))"),
         namespace)  # noqa: S102 - the course's source with the mistake of tests/mistakes.py
    message = _fails(box_checks.hidden_non_max_suppression, namespace["non_max_suppression"])
    assert "input order" in message, message
    assert _fails(box_checks.public_non_max_suppression, namespace["non_max_suppression"]) is not None
    assert namespace["iou"] is iou_unclamped


def test_a_best_anchor_that_calls_a_broken_iou_keeps_its_points(capsys):
    """Part 2: a correct best_anchor that calls the notebook's iou, next to an iou whose union counts the
    intersection twice."""
    namespace = {"np": np, "_anchor_inputs": _anchor_inputs, "iou": iou_union_not_subtracted}
    exec(inspect.getsource(anchor_same_centre_corners).replace("c3_boxes.iou", "iou"), namespace)  # noqa: S102
    fn = namespace["anchor_same_centre_corners"]
    assert _fails(box_checks.hidden_best_anchor, fn) is None
    assert _fails(box_checks.public_best_anchor, fn) is None
    assert "the mistake is in your iou" in capsys.readouterr().out
    assert namespace["iou"] is iou_union_not_subtracted


def test_filter_and_nms_accept_either_diagonal_as_tensorflow_does():
    rng = np.random.default_rng(0)
    boxes = box_checks._random_lattice_boxes(rng, 12)
    flipped = boxes[:, [2, 1, 0, 3]]  # (x2, y1, x1, y2): the other diagonal of the same boxes
    scores = rng.permutation(12) / 12 + 0.01
    for threshold in (0.0, 0.3, 0.5):
        want = box_checks._tf_nms(flipped, scores, threshold, 12)
        assert c3_boxes.non_max_suppression(flipped, scores, threshold, 12).tolist() == want.tolist()
        assert want.tolist() == box_checks._tf_nms(boxes, scores, threshold, 12).tolist()
    confidence, probs = np.ones((12, 1)), np.eye(3)[rng.integers(0, 3, 12)]
    kept = c3_boxes.filter_boxes(confidence, flipped, probs, 0.5)[1]
    assert np.array_equal(kept, flipped)  # passed through as given
    assert np.array_equal(require_corner_pairs(flipped), boxes)
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        require_corner_pairs(np.zeros((3, 5)))


def test_the_boundary_cases_are_what_their_names_say():
    """The hand-made NMS scenes hold what they claim: an IoU of exactly 0.5, touching boxes at IoU 0."""
    name, boxes, *_ = box_checks.NMS_AT_THRESHOLD
    assert math.isclose(box_checks.raster_iou(boxes[0], boxes[1]), 0.5, abs_tol=0.0), name
    name, boxes, *_ = box_checks._HIDDEN_NMS_CASES[0]  # touching boxes
    assert box_checks.raster_iou(boxes[0], boxes[1]) == 0.0 == box_checks.raster_iou(boxes[0], boxes[2]), name
    kept = box_checks._tf_nms(np.array(boxes, dtype=float), np.array([0.9, 0.8, 0.7, 0.6]), 0.0, 10)
    assert kept.tolist() == [0, 1, 2]  # the touching boxes survive; the fourth overlaps the first (IoU 1/7 > 0)
