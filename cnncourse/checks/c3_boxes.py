"""Checks of Chapter 3's box functions: IoU, score filtering, non-max suppression, cell encoding, anchor choice.

Oracles: a rasterised IoU that counts lattice cells inside both boxes (exact for corners on the lattice) for iou and
best_anchor; tf.image.non_max_suppression for NMS; a plain loop over boxes for filtering; decoding the student's
encoding back to the box for encode_box.
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_equal, expect_raises, expect_type, fail

LATTICE = 4  # the rasterised IoU counts cells of 1/LATTICE units: exact for corners that are multiples of 1/LATTICE


def raster_iou(box1, box2):
    """IoU by counting the cells of a 1/LATTICE lattice covered by each box (independent of any formula)."""
    boxes = np.round(np.array([box1, box2], dtype=float) * LATTICE).astype(int)
    low = boxes.min()
    boxes -= low
    side = boxes.max() + 1
    masks = np.zeros((2, side, side), dtype=bool)
    for mask, (x1, y1, x2, y2) in zip(masks, boxes):
        mask[y1:y2, x1:x2] = True
    union = np.logical_or(*masks).sum()
    return float(np.logical_and(*masks).sum() / union) if union else 0.0


def _random_lattice_boxes(rng, n, extent=8.0):
    """(n, 4) corner boxes whose coordinates are multiples of 1/LATTICE in [0, extent)."""
    corners = rng.integers(0, int(extent * LATTICE), size=(n, 2, 2)) / LATTICE
    low, high = corners.min(axis=1), corners.max(axis=1)  # (n, 2) each: (x, y)
    return np.column_stack([low[:, 0], low[:, 1], high[:, 0], high[:, 1]])


def _as_tuple(box):
    return tuple(float(v) for v in box)


# --- IoU ----------------------------------------------------------------------------------------------

IOU_CASES = [  # (name, box1, box2)
    ("partial overlap", (2, 1, 4, 3), (1, 2, 3, 4)),
    ("no overlap", (0, 0, 1, 1), (2, 2, 3, 3)),
    ("touching edges", (0, 0, 2, 2), (2, 0, 4, 2)),
    ("touching corners", (0, 0, 2, 2), (2, 2, 4, 4)),
    ("containment", (0, 0, 4, 4), (1, 1, 2, 3)),
    ("identical boxes", (1, 2, 3, 5), (1, 2, 3, 5)),
    ("overlap only in x", (0, 0, 3, 1), (1, 2, 2, 4)),
]


def _check_iou(fn, box1, box2, case):
    got = fn(box1, box2)
    expect_type(got, (float, np.floating), "iou", case, hint="return one number")
    expect_close(got, raster_iou(box1, box2), "iou", case, atol=1e-9,
                 hint="intersection width and height are max(0, min(x2, x2') - max(x1, x1')), and likewise in y; "
                      "union = area1 + area2 - intersection")


def public_iou(iou):
    """The lecture's cases: overlap, none, touching edges and corners, containment, identical boxes."""
    for name, box1, box2 in IOU_CASES:
        _check_iou(iou, box1, box2, f"{name}: {box1} and {box2}")


def hidden_iou(iou):
    """Both argument orders, random boxes on a lattice against the rasterised count, zero-area boxes, bad input."""
    for name, box1, box2 in IOU_CASES:
        _check_iou(iou, box2, box1, f"{name}, arguments swapped: {box2} and {box1}")
    rng = np.random.default_rng(3)
    boxes = _random_lattice_boxes(rng, 80)
    for k in range(0, 80, 2):
        box1, box2 = _as_tuple(boxes[k]), _as_tuple(boxes[k + 1])
        _check_iou(iou, box1, box2, f"random boxes {box1} and {box2}")
    _check_iou(iou, (1, 1, 1, 3), (0, 0, 2, 2), "a zero-width box")
    _check_iou(iou, (1, 1, 1, 1), (1, 1, 1, 1), "two single points")
    expect_raises(lambda: iou((2, 0, 1, 1), (0, 0, 1, 1)), ValueError, "iou with x2 < x1",
                  hint="keep the input checks at the top of the function")


# --- score filtering ------------------------------------------------------------------------------------

def _loop_filter(confidence, boxes, probs, threshold):
    kept = [(max(confidence[i, 0] * probs[i]), boxes[i], int(np.argmax(confidence[i, 0] * probs[i])))
            for i in range(len(boxes)) if max(confidence[i, 0] * probs[i]) >= threshold]
    if not kept:
        return np.zeros(0), np.zeros((0, 4)), np.zeros(0, dtype=int)
    scores, kept_boxes, classes = zip(*kept)
    return np.array(scores), np.array(kept_boxes), np.array(classes)


def _check_filter(fn, n, n_classes, threshold, seed):
    rng = np.random.default_rng(seed)
    confidence = rng.random((n, 1)) ** 0.3  # skewed towards 1, so that a fair share of boxes pass the threshold
    boxes = _random_lattice_boxes(rng, n)
    probs = rng.dirichlet(np.ones(n_classes) * 0.1, size=n)  # peaked, as a trained classifier's often are
    case = f"{n} boxes, {n_classes} classes, threshold {threshold}"
    got = fn(confidence, boxes, probs, threshold)
    if not isinstance(got, tuple) or len(got) != 3:
        fail("filter_boxes must return a tuple (scores, boxes, classes)", case)
    want = _loop_filter(confidence, boxes, probs, threshold)
    expect_equal(len(got[0]), len(want[0]), "filter_boxes: number of kept boxes", case,
                 hint="score of a box = pc * c_i for its best class i; keep it when that score >= threshold")
    for value, expected, what in zip(got, want, ("scores", "boxes", "classes")):
        expect_close(value, expected, f"filter_boxes {what}", case)


def public_filter_boxes(filter_boxes):
    """Twenty boxes, five classes, the lecture's threshold 0.6."""
    _check_filter(filter_boxes, 20, 5, 0.6, seed=0)


def hidden_filter_boxes(filter_boxes):
    """Other sizes and thresholds, including one that keeps nothing and one that keeps everything."""
    for n, n_classes, threshold, seed in [(50, 3, 0.75, 1), (7, 80, 0.5, 2), (30, 4, 1.01, 3), (12, 2, 0.0, 4)]:
        _check_filter(filter_boxes, n, n_classes, threshold, seed)


# --- non-max suppression ----------------------------------------------------------------------------------

def _tf_nms(boxes, scores, iou_threshold, max_boxes):
    import tensorflow as tf

    yx = boxes[:, [1, 0, 3, 2]].astype(np.float32)  # tf wants (y1, x1, y2, x2)
    return np.asarray(tf.image.non_max_suppression(yx, scores.astype(np.float32), max_boxes, iou_threshold))


def _check_nms(fn, n, iou_threshold, max_boxes, seed, extent=8.0):
    rng = np.random.default_rng(seed)
    boxes = _random_lattice_boxes(rng, n, extent)
    scores = rng.permutation(n) / n + 0.01  # distinct scores: no tie to break
    case = f"{n} random boxes, iou_threshold {iou_threshold}, max_boxes {max_boxes}"
    got = np.asarray(fn(boxes, scores, iou_threshold, max_boxes))
    want = _tf_nms(boxes, scores, iou_threshold, max_boxes)
    expect_equal(got.tolist(), want.tolist(), "kept indices (best first) against tf.image.non_max_suppression", case,
                 hint="take the best box left, drop every box whose IoU with it is > iou_threshold, repeat")


def public_non_max_suppression(non_max_suppression):
    """Fifteen random boxes, IoU threshold 0.5, at most 10 kept."""
    _check_nms(non_max_suppression, 15, 0.5, 10, seed=0)


def hidden_non_max_suppression(non_max_suppression):
    """Crowded and sparse scenes, other thresholds, max_boxes that stops early, against TensorFlow's NMS."""
    for n, threshold, max_boxes, seed, extent in [(40, 0.5, 40, 1, 6.0), (60, 0.3, 5, 2, 10.0), (25, 0.7, 25, 3, 4.0),
                                                   (1, 0.5, 3, 4, 8.0), (30, 0.0, 30, 5, 12.0)]:
        _check_nms(non_max_suppression, n, threshold, max_boxes, seed, extent)


# --- cell encoding --------------------------------------------------------------------------------------

def _check_encode(fn, box, grid, image_size):
    case = f"box {box}, {grid}x{grid} grid, image {image_size} px"
    got = fn(box, grid, image_size)
    if not isinstance(got, tuple) or len(got) != 6:
        fail("encode_box must return (row, col, bx, by, bh, bw)", case)
    row, col, bx, by, bh, bw = got
    cell = image_size / grid
    x_c, y_c = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    if not (0 <= row < grid and 0 <= col < grid):
        fail(f"row {row}, col {col} is not a cell of a {grid}x{grid} grid", case)
    if not (col * cell <= x_c <= (col + 1) * cell and row * cell <= y_c <= (row + 1) * cell):
        fail(f"the box's centre ({x_c:g}, {y_c:g}) px is not in cell row {row}, col {col}", case,
             hint="row comes from the y of the centre, col from its x: floor(centre / cell size)")
    decoded = np.array([(col + bx) * cell, (row + by) * cell, bh * cell, bw * cell])
    expect_close(decoded, [x_c, y_c, box[3] - box[1], box[2] - box[0]], "decoded centre x, y and height, width", case,
                 atol=1e-9, hint="bx, by are fractions of the cell; bh, bw are in cells, not in pixels")


def public_encode_box(encode_box):
    """A box in the middle cell of a 3x3 grid on a 96 px image, and one in a corner cell."""
    _check_encode(encode_box, (40.0, 36.0, 56.0, 60.0), 3, 96)
    _check_encode(encode_box, (2.0, 70.0, 20.0, 90.0), 3, 96)


def hidden_encode_box(encode_box):
    """Random boxes and grids, boxes wider than a cell, a centre on a cell border and on the image's far edge."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        grid, size = int(rng.integers(1, 20)), float(rng.choice([64, 96, 100, 416]))
        x1, y1 = rng.uniform(0, size * 0.8, size=2)
        box = _as_tuple((x1, y1, x1 + rng.uniform(1, size - x1), y1 + rng.uniform(1, size - y1)))
        _check_encode(encode_box, box, grid, size)
    _check_encode(encode_box, (16.0, 0.0, 48.0, 64.0), 2, 64)  # centre on the border between two cells
    _check_encode(encode_box, (60.0, 60.0, 64.0, 64.0), 4, 62)  # centre on the image's far edge


# --- anchors --------------------------------------------------------------------------------------------

def _shape_iou(box, anchor):
    # Two rectangles on the same centre overlap exactly as much as on the same top-left corner, and corners at 0
    # keep the sizes on the lattice.
    h, w = box[3] - box[1], box[2] - box[0]
    return raster_iou((0, 0, w, h), (0, 0, anchor[1], anchor[0]))


def _check_anchor(fn, box, anchors, case):
    got = fn(box, anchors)
    if not isinstance(got, tuple) or len(got) != 2:
        fail("best_anchor must return (index, iou)", case)
    ious = [_shape_iou(box, a) for a in anchors]
    best = int(np.argmax(ious))
    expect_equal(int(got[0]), best, "chosen anchor", case,
                 hint="compare shapes only: put the box and each anchor on the same centre, take the highest IoU")
    expect_close(got[1], ious[best], "IoU of the chosen anchor", case, atol=1e-9)


def public_best_anchor(best_anchor):
    """A tall and a wide object with the lecture's two anchors (tall for people, wide for cars)."""
    anchors = np.array([[3.0, 1.0], [1.0, 3.0]])
    _check_anchor(best_anchor, (0, 0, 1, 3), anchors, "a tall 1x3 box, anchors (3, 1) and (1, 3)")
    _check_anchor(best_anchor, (2, 2, 5, 3), anchors, "a wide 3x1 box, anchors (3, 1) and (1, 3)")


def hidden_best_anchor(best_anchor):
    """Five anchors (YOLO-like shapes) against random boxes; shapes are compared, positions do not matter."""
    rng = np.random.default_rng(9)
    anchors = np.array([[1.0, 1.0], [2.0, 1.0], [1.0, 2.0], [3.0, 3.0], [4.0, 1.5]])
    boxes = _random_lattice_boxes(rng, 40, extent=6.0)
    for box in boxes:
        if box[2] > box[0] and box[3] > box[1]:
            _check_anchor(best_anchor, _as_tuple(box), anchors, f"box {_as_tuple(box)}, anchors {anchors.tolist()}")
    _check_anchor(best_anchor, (10, 10, 12, 11), anchors, "the same shape far from the origin")
