"""Chapter 3's box functions (cnncourse.ops.c3_boxes) and their checks: the references pass, typical mistakes fail."""

import numpy as np
import pytest

from cnncourse.checks import CheckFailed
from cnncourse.checks import c3_boxes as checks
from cnncourse.ops import c3_boxes as boxes_ops

NAMES = ["iou", "filter_boxes", "non_max_suppression", "encode_box", "best_anchor"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(getattr(boxes_ops, name))


def test_raster_iou_by_hand():
    assert checks.raster_iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert checks.raster_iou((0, 0, 1, 1), (1, 0, 2, 1)) == 0.0
    assert checks.raster_iou((0.25, 0, 0.5, 1), (0, 0, 1, 1)) == pytest.approx(0.25)


# --- typical mistakes ------------------------------------------------------------------------------------

def iou_without_clamp(box1, box2):
    """Multiplies the raw overlaps: two negative overlaps make a positive 'intersection'."""
    w = min(box1[2], box2[2]) - max(box1[0], box2[0])
    h = min(box1[3], box2[3]) - max(box1[1], box2[1])
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
    return float(w * h / (area(box1) + area(box2) - w * h))


def iou_union_without_subtraction(box1, box2):
    w = max(0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
    h = max(0, min(box1[3], box2[3]) - max(box1[1], box2[1]))
    return float(w * h / ((box1[2] - box1[0]) * (box1[3] - box1[1]) + (box2[2] - box2[0]) * (box2[3] - box2[1])))


def iou_inclusive_pixels(box1, box2):
    """The +1 convention of integer pixel boxes: wrong for the corner boxes of this course."""
    w = max(0, min(box1[2], box2[2]) - max(box1[0], box2[0]) + 1)
    h = max(0, min(box1[3], box2[3]) - max(box1[1], box2[1]) + 1)
    area = lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1)  # noqa: E731
    return float(w * h / (area(box1) + area(box2) - w * h))


def iou_swapped_axes(box1, box2):
    """Reads the boxes as (y1, x1, y2, x2) for the first and (x1, y1, x2, y2) for the second."""
    return boxes_ops.iou((box1[1], box1[0], box1[3], box1[2]), box2)


def filter_by_confidence_only(box_confidence, boxes, box_class_probs, threshold=0.6):
    keep = box_confidence[:, 0] >= threshold
    scores = (box_confidence * box_class_probs).max(axis=-1)
    return scores[keep], boxes[keep], np.argmax(box_class_probs, axis=-1)[keep]


def nms_in_index_order(boxes, scores, iou_threshold=0.5, max_boxes=10):
    """Forgets to sort by score."""
    order, kept = list(range(len(boxes))), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if boxes_ops.iou(boxes[best], boxes[i]) <= iou_threshold]
    return np.array(kept, dtype=int)


def nms_ignoring_max_boxes(boxes, scores, iou_threshold=0.5, max_boxes=10):
    return boxes_ops.non_max_suppression(boxes, scores, iou_threshold, max_boxes=len(boxes))


def nms_inverted_test(boxes, scores, iou_threshold=0.5, max_boxes=10):
    """Suppresses the boxes that do NOT overlap the kept one."""
    order, kept = list(np.argsort(-scores, kind="stable")), []
    while order and len(kept) < max_boxes:
        best = order.pop(0)
        kept.append(best)
        order = [i for i in order if boxes_ops.iou(boxes[best], boxes[i]) > iou_threshold]
    return np.array(kept, dtype=int)


def encode_row_col_swapped(box, grid, image_size):
    row, col, bx, by, bh, bw = boxes_ops.encode_box(box, grid, image_size)
    return col, row, bx, by, bh, bw


def encode_sizes_in_pixels(box, grid, image_size):
    row, col, bx, by, _, _ = boxes_ops.encode_box(box, grid, image_size)
    return row, col, bx, by, box[3] - box[1], box[2] - box[0]


def anchor_by_area(box, anchors):
    """Picks the anchor of the closest area, ignoring its shape."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    index = int(np.argmin(np.abs(anchors[:, 0] * anchors[:, 1] - area)))
    return index, boxes_ops.best_anchor(box, anchors[index:index + 1])[1]


def anchor_at_the_origin(box, anchors):
    """Compares the box where it is with anchors placed at the origin: position leaks into the choice."""
    ious = [boxes_ops.iou(box, (0, 0, w, h)) for h, w in anchors]
    return int(np.argmax(ious)), float(max(ious))


MISTAKES = [
    (checks.public_iou, iou_without_clamp, "no overlap"),
    (checks.public_iou, iou_union_without_subtraction, "partial overlap"),
    (checks.public_iou, iou_inclusive_pixels, "iou"),
    (checks.public_iou, iou_swapped_axes, "iou"),
    (checks.public_filter_boxes, filter_by_confidence_only, "filter_boxes"),
    (checks.public_non_max_suppression, nms_in_index_order, "tf.image.non_max_suppression"),
    (checks.hidden_non_max_suppression, nms_ignoring_max_boxes, "max_boxes 5"),
    (checks.public_non_max_suppression, nms_inverted_test, "kept indices"),
    (checks.public_encode_box, encode_row_col_swapped, "not in cell"),
    (checks.public_encode_box, encode_sizes_in_pixels, "height, width"),
    (checks.public_best_anchor, anchor_by_area, "chosen anchor"),
    (checks.hidden_best_anchor, anchor_at_the_origin, "anchor"),
]


@pytest.mark.parametrize("check, mistake, words", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_checks_catch_typical_mistakes(check, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        check(mistake)
    assert words.lower() in str(failure.value).lower()


# --- behaviour beyond the checks -------------------------------------------------------------------------

def test_per_class_nms_never_lets_classes_suppress_each_other():
    boxes = np.array([[0, 0, 4, 4], [0.2, 0, 4, 4], [0, 0.2, 4, 4], [10, 10, 12, 12]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    classes = np.array([0, 1, 0, 1])
    kept = boxes_ops.non_max_suppression_per_class(boxes, scores, classes, iou_threshold=0.5)
    assert kept.tolist() == [0, 1, 3]  # box 2 loses to box 0 (same class); box 1 survives box 0 (other class)
    assert boxes_ops.non_max_suppression(boxes, scores, 0.5).tolist() == [0, 3]


@pytest.mark.parametrize("call, words", [
    (lambda: boxes_ops.iou((0, 0, 1), (0, 0, 1, 1)), "4 finite numbers"),
    (lambda: boxes_ops.iou((0, 0, 1, 1), (0, 3, 1, 1)), "y2 >= y1"),
    (lambda: boxes_ops.iou("abcd", (0, 0, 1, 1)), "box1"),
    (lambda: boxes_ops.non_max_suppression(np.zeros((3, 4)), np.zeros(2)), "scores"),
    (lambda: boxes_ops.non_max_suppression(np.zeros((3, 4)), np.zeros(3), max_boxes=-1), "max_boxes"),
    (lambda: boxes_ops.filter_boxes(np.zeros((2, 1)), np.zeros((3, 4)), np.zeros((3, 5))), "same n"),
    (lambda: boxes_ops.encode_box((0, 0, 10, 10), 0, 96), "grid"),
    (lambda: boxes_ops.encode_box((0, 0, 10, 10), 3, 0), "image_size"),
    (lambda: boxes_ops.best_anchor((0, 0, 1, 1), np.array([[1.0, 0.0]])), "anchors"),
    (lambda: boxes_ops.non_max_suppression_per_class(np.zeros((2, 4)), np.zeros(2), [0.5, 1]), "classes"),
])
def test_bad_arguments_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()
