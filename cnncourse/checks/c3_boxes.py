"""Checks of Chapter 3's box functions: IoU, score filtering, non-max suppression, cell encoding, anchor choice.

Oracles: a rasterised IoU that counts lattice cells inside both boxes (exact for corners on the lattice) for iou and
best_anchor; tf.image.non_max_suppression for NMS; a plain loop over boxes for filtering; decoding the student's
encoding back to the box for encode_box.

When a case fails, the message names the typical mistakes whose formula gives what came back ("looks like ..."),
computed here from the same inputs (cnncourse.checks.core.likely_mistake). non_max_suppression calls `iou`: its hidden
test runs it with the course's IoU (cnncourse.ops.twins.box_iou) swapped into its namespace, and its public check
says so when a failure comes from an `iou` of the student's own (one mistake, one loss). The same holds for a
best_anchor that calls the notebook's `iou` (with cnncourse.ops.c3_boxes.iou).
"""

import numpy as np

from cnncourse.checks.core import (CheckFailed, expect_close, expect_equal, expect_raises, expect_type, fail,
                                   likely_mistake, reference_helpers)

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


def _with_rule(likely, rule):
    """The hint of a failure: the likely mistake when one matched, then the rule."""
    return f"{likely}; {rule}" if likely else rule


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


def _iou_from(box1, box2, clamp="sides", plus_one=0.0, subtract=True, denominator="union", edges="inner"):
    """IoU by the formula, with the switches that give the typical mistakes (the defaults give the right one)."""
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = (np.asarray(b, dtype=float) for b in (box1, box2))
    pick_low, pick_high = (max, min) if edges == "inner" else (min, max)
    w = pick_high(ax2, bx2) - pick_low(ax1, bx1) + plus_one
    h = pick_high(ay2, by2) - pick_low(ay1, by1) + plus_one
    inter = max(0.0, w) * max(0.0, h) if clamp == "sides" else (max(0.0, w * h) if clamp == "product" else w * h)
    area1 = (ax2 - ax1 + plus_one) * (ay2 - ay1 + plus_one)
    area2 = (bx2 - bx1 + plus_one) * (by2 - by1 + plus_one)
    below = {"union": area1 + area2 - (inter if subtract else 0.0), "area1": area1}[denominator]
    return inter / below if below > 0 else 0.0


def _iou_mistakes(box1, box2):
    return [
        ("looks like the intersection's width and height were not clamped at 0: for boxes apart in x or in y, "
         "min(x2, x2') - max(x1, x1') is negative; use max(0, ...) for each",
         lambda: _iou_from(box1, box2, clamp=None)),
        ("looks like only the product was clamped, max(0, w * h): two negative sides (boxes apart in x AND in y) "
         "give a positive 'intersection'; clamp the width and the height each",
         lambda: _iou_from(box1, box2, "product")),
        ("looks like widths were computed as x2 - x1 + 1 (the pixel-count convention); here a box's width is x2 - x1",
         lambda: _iou_from(box1, box2, plus_one=1.0)),
        ("looks like the union is area1 + area2 without subtracting the intersection (counted twice)",
         lambda: _iou_from(box1, box2, subtract=False)),
        ("looks like the intersection was divided by the first box's area, not by the union",
         lambda: _iou_from(box1, box2, denominator="area1")),
        ("looks like min and max were swapped: the intersection's left edge is the LARGER of the two left edges and "
         "its right edge the SMALLER of the right edges", lambda: _iou_from(box1, box2, edges="outer")),
    ]


def _check_iou(fn, box1, box2, case):
    got = fn(box1, box2)
    expect_type(got, (float, np.floating), "iou", case, hint="return one number")
    want = raster_iou(box1, box2)
    if not np.isfinite(float(got)):
        fail(f"iou: expected {want:.6g}, got {float(got)}", case,
             hint="two boxes of zero area have a union of 0: return 0.0 then instead of dividing")
    hint = None
    if not np.isclose(float(got), want, rtol=1e-6, atol=1e-9):
        hint = likely_mistake(got, _iou_mistakes(box1, box2))
    expect_close(got, want, "iou", case, atol=1e-9, hint=_with_rule(
        hint, "intersection width and height are max(0, min(x2, x2') - max(x1, x1')), and likewise in y; union = "
              "area1 + area2 - intersection"))


def public_iou(iou):
    """The lecture's cases: overlap, none, touching edges and corners, containment, identical boxes.

    Separates: the intersection not clamped at 0 ("overlap only in x": negative height), only the product clamped
    ("no overlap": boxes apart in x and y), x2 - x1 + 1 widths and the union without subtracting the intersection
    (every overlapping case), the first box's area as the denominator and min and max swapped ("partial overlap").
    """
    for name, box1, box2 in IOU_CASES:
        _check_iou(iou, box1, box2, f"{name}: {box1} and {box2}")


def hidden_iou(iou):
    """Both argument orders, random boxes on a lattice against the rasterised count, zero-area boxes, boxes that touch
    or share an edge line without overlapping, negative and fractional coordinates, bad input."""
    for name, box1, box2 in IOU_CASES:
        _check_iou(iou, box2, box1, f"{name}, arguments swapped: {box2} and {box1}")
    rng = np.random.default_rng(3)
    boxes = _random_lattice_boxes(rng, 80)
    for k in range(0, 80, 2):
        box1, box2 = _as_tuple(boxes[k]), _as_tuple(boxes[k + 1])
        _check_iou(iou, box1, box2, f"random boxes {box1} and {box2}")
    _check_iou(iou, (1, 1, 1, 3), (0, 0, 2, 2), "a zero-width box")
    _check_iou(iou, (1, 1, 1, 1), (1, 1, 1, 1), "two single points")
    _check_iou(iou, (0, 0, 2, 2), (0, 2, 2, 4), "touching along a horizontal edge")
    _check_iou(iou, (0, 0, 1, 1), (3, 3, 5, 5), "apart in x and in y (both sides negative)")
    _check_iou(iou, (-2.5, -1.0, 0.5, 1.0), (-1.0, -2.0, 1.0, 0.0), "negative and fractional coordinates")
    _check_iou(iou, (0, 0, 2, 6), (0, 3, 2, 5), "a box inside another, in y only")
    expect_raises(lambda: iou((2, 0, 1, 1), (0, 0, 1, 1)), ValueError, "iou with x2 < x1",
                  hint="keep the input checks at the top of the function")


# --- score filtering ------------------------------------------------------------------------------------

def _loop_filter(confidence, boxes, probs, threshold, strict=False, score_of=None, order=None):
    """Score filtering by a loop over the boxes; the switches give the typical mistakes (the defaults: the right one).

    strict: keep when score > threshold. score_of: "probs" (the class probability alone) or "confidence" (pc alone)
    decides which boxes pass (the scores returned are still pc * c_i). order: "score" returns them best first.
    """
    kept = []
    for i in range(len(boxes)):
        scores = confidence[i, 0] * probs[i]
        test = {None: max(scores), "probs": max(probs[i]), "confidence": confidence[i, 0]}[score_of]
        if test > threshold or (not strict and test == threshold):
            kept.append((max(scores), boxes[i], int(np.argmax(scores))))
    if order == "score":
        kept.sort(key=lambda k: -k[0])
    if not kept:
        return np.zeros(0), np.zeros((0, 4)), np.zeros(0, dtype=int)
    scores, kept_boxes, classes = zip(*kept)
    return np.array(scores), np.array(kept_boxes), np.array(classes)


def _filter_mistakes(confidence, boxes, probs, threshold):
    def scores_of(**kwargs):
        return lambda: _loop_filter(confidence, boxes, probs, threshold, **kwargs)[0]

    return [
        ("looks like the test was score > threshold: a score equal to the threshold must be kept (>=)",
         scores_of(strict=True)),
        ("looks like the boxes were kept by their class probability c_i alone: the score is pc * c_i",
         scores_of(score_of="probs")),
        ("looks like the boxes were kept by pc alone: the score is pc * c_i, for the box's best class",
         scores_of(score_of="confidence")),
        ("looks like the kept boxes were sorted by score: return them in their input order (NMS sorts later)",
         scores_of(order="score")),
    ]


def _check_filter_on(fn, confidence, boxes, probs, threshold, case):
    got = fn(confidence, boxes, probs, threshold)
    if not isinstance(got, tuple) or len(got) != 3:
        fail("filter_boxes must return a tuple (scores, boxes, classes)", case)
    want = _loop_filter(confidence, boxes, probs, threshold)
    hint = None
    right_length = np.ndim(got[0]) == 1 and len(got[0]) == len(want[0])
    if not right_length or not np.allclose(np.asarray(got[0], dtype=float), want[0]):
        hint = likely_mistake(got[0], _filter_mistakes(confidence, boxes, probs, threshold))
    base = "score of a box = pc * c_i for its best class i; keep it when that score >= threshold"
    expect_equal(len(got[0]), len(want[0]), "filter_boxes: number of kept boxes", case, hint=_with_rule(hint, base))
    for value, expected, what in zip(got, want, ("scores", "boxes", "classes")):
        expect_close(value, expected, f"filter_boxes {what}", case, hint=_with_rule(hint, (
            "the class is the argmax over the LAST axis (the classes), one per box" if what == "classes" else base)))


def _check_filter(fn, n, n_classes, threshold, seed, at_threshold=0, flip=False):
    """Random boxes; `at_threshold` of them get a best score of exactly `threshold` (pc = 1, c_i = threshold: exact
    in floating point); `flip`: every other box given by its other diagonal (x2, y1, x1, y2), passed through as is."""
    rng = np.random.default_rng(seed)
    confidence = rng.random((n, 1)) ** 0.3  # skewed towards 1, so that a fair share of boxes pass the threshold
    boxes = _random_lattice_boxes(rng, n)
    probs = rng.dirichlet(np.ones(n_classes) * 0.1, size=n)  # peaked, as a trained classifier's often are
    for i in rng.choice(n, size=at_threshold, replace=False):
        confidence[i, 0] = 1.0
        probs[i] = (1.0 - threshold) / max(n_classes - 1, 1)
        probs[i, int(rng.integers(n_classes))] = threshold  # the best class when threshold >= 1 / n_classes
    if flip:
        boxes[::2] = boxes[::2][:, [2, 1, 0, 3]]
    case = (f"{n} boxes, {n_classes} classes, threshold {threshold}"
            + (f", {at_threshold} with a score exactly at the threshold" if at_threshold else "")
            + (", every other box given by its other diagonal (x2, y1, x1, y2)" if flip else ""))
    _check_filter_on(fn, confidence, boxes, probs, threshold, case)


def public_filter_boxes(filter_boxes):
    """Twenty boxes, five classes, the lecture's threshold 0.6, three boxes with a score of exactly 0.6.

    Separates: > instead of >= (the three boxes at the threshold), keeping boxes by c_i or by pc alone, sorting the
    kept boxes by score, the class taken along the wrong axis.
    """
    _check_filter(filter_boxes, 20, 5, 0.6, seed=0, at_threshold=3)


def hidden_filter_boxes(filter_boxes):
    """Other sizes and thresholds, including one that keeps nothing and one that keeps everything, scores exactly at
    the threshold, a single box, zero boxes, and boxes given by their other diagonal (returned as they came)."""
    for n, n_classes, threshold, seed in [(50, 3, 0.75, 1), (7, 80, 0.5, 2), (30, 4, 1.01, 3), (12, 2, 0.0, 4)]:
        _check_filter(filter_boxes, n, n_classes, threshold, seed)
    _check_filter(filter_boxes, 40, 4, 0.5, seed=6, at_threshold=10)
    _check_filter(filter_boxes, 1, 3, 0.4, seed=7, at_threshold=1)
    _check_filter(filter_boxes, 1, 3, 0.99, seed=8)
    _check_filter(filter_boxes, 16, 3, 0.3, seed=9, flip=True)
    _check_filter_on(filter_boxes, np.zeros((0, 1)), np.zeros((0, 4)), np.zeros((0, 5)), 0.6, "zero boxes")


# --- non-max suppression ----------------------------------------------------------------------------------

def _tf_nms(boxes, scores, iou_threshold, max_boxes):
    import tensorflow as tf

    yx = boxes[:, [1, 0, 3, 2]].astype(np.float32)  # tf wants (y1, x1, y2, x2)
    return np.asarray(tf.image.non_max_suppression(yx, scores.astype(np.float32), max_boxes, iou_threshold))


def _course_iou():
    from cnncourse.ops.twins import box_iou

    return box_iou


def _blame_iou(check, fn, what, course_iou):
    """Run check(fn) on the student's own chain (fn may call an `iou` of the student's). When it fails, run it again
    with the course's iou swapped into fn's namespace: if fn passes then, the mistake is in the student's iou, whose
    own cell loses the points (one mistake, one loss): print the failure with a note saying so, and pass. Otherwise
    raise the first failure as it was."""
    try:
        check(fn)
    except CheckFailed as err:
        try:
            with reference_helpers(fn, iou=course_iou):
                check(fn)
        except Exception:  # noqa: BLE001 - still wrong with the course's iou: the mistake is in this function
            raise err from None
        print(f"{what}: NOTE: {err}\n  With the course's iou in place of yours, your {what} passes this check: the "
              f"mistake is in your iou (part 2's iou check says what is wrong). This cell keeps its points; fix iou "
              f"first.")


def _greedy(boxes, scores, iou_threshold, max_boxes, strict=True, order="best", against="each", output="best"):
    """Greedy NMS by a loop; the switches give the typical mistakes (the defaults give the right one).

    strict=False suppresses at IoU >= threshold; order "input" or "worst" visits the boxes in input order or worst
    first; against="first" suppresses only the neighbours of the first kept box; output="index" returns the kept
    indices sorted by index.
    """
    boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
    visit = {"best": np.argsort(-scores, kind="stable"), "input": np.arange(len(scores)),
             "worst": np.argsort(scores, kind="stable")}[order]
    left, kept = list(visit), []
    while left and len(kept) < max_boxes:
        best = left.pop(0)
        kept.append(best)
        if against == "each" or len(kept) == 1:
            overlaps = {i: raster_iou(boxes[best], boxes[i]) for i in left}
            left = [i for i in left if (overlaps[i] <= iou_threshold if strict else overlaps[i] < iou_threshold)]
    return np.array(sorted(kept) if output == "index" else kept, dtype=int)


def _nms_mistakes(boxes, scores, iou_threshold, max_boxes):
    def run(**kwargs):
        return lambda: _greedy(boxes, scores, iou_threshold, max_boxes, **kwargs)

    return [
        ("looks like a box was suppressed at IoU >= iou_threshold: only an IoU ABOVE the threshold suppresses",
         run(strict=False)),
        ("looks like the boxes were taken in their input order: sort by score, best first", run(order="input")),
        ("looks like the boxes were sorted worst first: np.argsort sorts ascending; sort by -scores",
         run(order="worst")),
        ("looks like only the first kept box suppressed its neighbours: after keeping a box, drop ITS overlapping "
         "boxes too, every time", run(against="first")),
        ("looks like the kept indices came back sorted by index: return them best score first", run(output="index")),
    ]


def _check_nms_on(fn, boxes, scores, iou_threshold, max_boxes, case):
    got = np.asarray(fn(boxes, scores, iou_threshold, max_boxes))
    want = _tf_nms(boxes, scores, iou_threshold, max_boxes)
    hint = None
    if got.shape != want.shape or not np.array_equal(got, want):
        hint = likely_mistake(got, _nms_mistakes(boxes, scores, iou_threshold, max_boxes))
    expect_equal(got.tolist(), want.tolist(), "kept indices (best first) against tf.image.non_max_suppression", case,
                 hint=_with_rule(hint, "take the best box left, drop every box whose IoU with it is > iou_threshold, "
                                       "repeat"))


def _check_nms(fn, n, iou_threshold, max_boxes, seed, extent=8.0, flip=False):
    rng = np.random.default_rng(seed)
    boxes = _random_lattice_boxes(rng, n, extent)
    scores = rng.permutation(n) / n + 0.01  # distinct scores: no tie to break
    if flip:
        boxes[1::2] = boxes[1::2][:, [0, 3, 2, 1]]  # (x1, y2, x2, y1): the other diagonal
    case = (f"{n} random boxes, iou_threshold {iou_threshold}, max_boxes {max_boxes}"
            + (", every other box given by its other diagonal (x1, y2, x2, y1)" if flip else ""))
    _check_nms_on(fn, boxes, scores, iou_threshold, max_boxes, case)


# Hand-made scenes: (name, boxes, scores, iou_threshold, max_boxes). IoUs are exact in floating point.
NMS_AT_THRESHOLD = ("IoU exactly at the threshold keeps the box: (0, 0, 4, 4) and (0, 0, 4, 2) have IoU 8 / 16",
                    [[0, 0, 4, 4], [0, 0, 4, 2], [1, 0, 5, 4]], [0.9, 0.8, 0.7], 0.5, 10)
NMS_CHAIN = ("a chain: A suppresses B, so C (which only B overlaps) survives",
             [[0, 0, 4, 4], [1, 0, 5, 4], [2, 0, 6, 4], [3, 0, 7, 4]], [0.9, 0.8, 0.7, 0.6], 0.5, 10)
_HIDDEN_NMS_CASES = [
    ("touching boxes (IoU 0) at threshold 0", [[0, 0, 2, 2], [2, 0, 4, 2], [0, 2, 2, 4], [1, 1, 3, 3]],
     [0.9, 0.8, 0.7, 0.6], 0.0, 10),
    ("equal scores: the lower index first", [[0, 0, 2, 2], [5, 5, 7, 7], [0, 0, 2, 2.5], [5, 5, 7, 7]],
     [0.5, 0.5, 0.5, 0.5], 0.5, 10),
    ("a single box", [[1, 1, 3, 2]], [0.3], 0.5, 10),
    ("max_boxes 0", [[0, 0, 1, 1], [2, 2, 3, 3]], [0.9, 0.8], 0.5, 0),
]


def _nms_hand_case(fn, name, boxes, scores, iou_threshold, max_boxes):
    _check_nms_on(fn, np.array(boxes, dtype=float), np.array(scores, dtype=float), iou_threshold, max_boxes,
                  f"{name}: boxes {boxes}, scores {scores}, iou_threshold {iou_threshold}, max_boxes {max_boxes}")


def public_non_max_suppression(non_max_suppression):
    """Fifteen random boxes (IoU threshold 0.5, at most 10 kept), a box whose IoU with a better one is exactly 0.5,
    and a chain of four overlapping boxes.

    Separates: suppressing at IoU >= threshold (the second case), boxes taken in input order or worst first, indices
    returned sorted by index (the first case), only the first kept box suppressing (the chain). The public check
    runs your own `iou` if you defined one: when it fails only because of that `iou`, it says so and passes (fix part
    2's iou).
    """
    def public(fn):
        _check_nms(fn, 15, 0.5, 10, seed=0)
        _nms_hand_case(fn, *NMS_AT_THRESHOLD)
        _nms_hand_case(fn, *NMS_CHAIN)

    _blame_iou(public, non_max_suppression, "non_max_suppression", _course_iou())


def hidden_non_max_suppression(non_max_suppression):
    """Crowded and sparse scenes, other thresholds, max_boxes that stops early, boxes given by their other diagonal,
    against TensorFlow's NMS; hand-made scenes: an IoU exactly at the threshold, touching boxes, equal scores, a
    chain of overlaps, a single box, zero boxes, max_boxes 0. Run with the course's iou (one mistake, one loss)."""
    with reference_helpers(non_max_suppression, iou=_course_iou()):
        for n, threshold, max_boxes, seed, extent in [(40, 0.5, 40, 1, 6.0), (60, 0.3, 5, 2, 10.0),
                                                       (25, 0.7, 25, 3, 4.0), (1, 0.5, 3, 4, 8.0),
                                                       (30, 0.0, 30, 5, 12.0)]:
            _check_nms(non_max_suppression, n, threshold, max_boxes, seed, extent)
        _check_nms(non_max_suppression, 30, 0.4, 30, seed=6, extent=6.0, flip=True)
        for case in [NMS_AT_THRESHOLD, NMS_CHAIN, *_HIDDEN_NMS_CASES]:
            _nms_hand_case(non_max_suppression, *case)
        _check_nms_on(non_max_suppression, np.zeros((0, 4)), np.zeros(0), 0.5, 10, "zero boxes")


# --- cell encoding --------------------------------------------------------------------------------------

def _encode_mistakes(box, grid, image_size):
    """(hint, (row, col, bx, by, bh, bw)) of the typical mistakes, from the formulas (the right ones inverted)."""
    cell = image_size / grid
    x_c, y_c = (box[0] + box[2]) / 2 / cell, (box[1] + box[3]) / 2 / cell
    col, row = min(int(np.floor(x_c)), grid - 1), min(int(np.floor(y_c)), grid - 1)
    h, w = (box[3] - box[1]) / cell, (box[2] - box[0]) / cell
    return [
        ("looks like row and col were swapped: row comes from the centre's y, col from its x",
         (col, row, x_c - col, y_c - row, h, w)),
        ("looks like bh and bw were swapped: bh is the height (y2 - y1), bw the width (x2 - x1)",
         (row, col, x_c - col, y_c - row, w, h)),
        ("looks like bh and bw were left in pixels: divide them by the cell's size",
         (row, col, x_c - col, y_c - row, h * cell, w * cell)),
        ("looks like bx and by are the centre in cells from the image's corner: subtract the cell's col and row",
         (row, col, x_c, y_c, h, w)),
        ("looks like bx and by are in pixels from the cell's corner: divide them by the cell's size",
         (row, col, (x_c - col) * cell, (y_c - row) * cell, h, w)),
        ("looks like the corner (x1, y1) was encoded instead of the box's centre",
         (row, col, box[0] / cell - col, box[1] / cell - row, h, w)),
    ]


def _check_encode(fn, box, grid, image_size):
    case = f"box {box}, {grid}x{grid} grid, image {image_size} px"
    got = fn(box, grid, image_size)
    if not isinstance(got, tuple) or len(got) != 6:
        fail("encode_box must return (row, col, bx, by, bh, bw)", case)
    row, col, bx, by, bh, bw = got
    cell = image_size / grid
    x_c, y_c = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hint = likely_mistake(got, _encode_mistakes(box, grid, image_size))
    want_col, want_row = min(int(np.floor(x_c / cell)), grid - 1), min(int(np.floor(y_c / cell)), grid - 1)
    if not (0 <= row < grid and 0 <= col < grid):
        fail(f"expected row and col in 0..{grid - 1} ({grid}x{grid} grid), got row {row}, col {col}", case,
             hint=_with_rule(hint, "a centre exactly on the image's far edge belongs to the last cell: "
                                   "min(floor(...), S - 1)"))
    if not (col * cell <= x_c <= (col + 1) * cell and row * cell <= y_c <= (row + 1) * cell):
        fail(f"the box's centre ({x_c:g}, {y_c:g}) px is not in cell row {row}, col {col}: expected row {want_row}, "
             f"col {want_col}", case,
             hint=_with_rule(hint, "row comes from the y of the centre, col from its x: floor(centre / cell size)"))
    decoded = np.array([(col + bx) * cell, (row + by) * cell, bh * cell, bw * cell])
    expect_close(decoded, [x_c, y_c, box[3] - box[1], box[2] - box[0]], "decoded centre x, y and height, width", case,
                 atol=1e-9, hint=_with_rule(hint, "bx, by are fractions of the cell; bh, bw are in cells, not in "
                                                  "pixels"))


def public_encode_box(encode_box):
    """A box in the middle cell of a 3x3 grid on a 96 px image, and one in a corner cell.

    Separates: row and col swapped (the corner cell: row 2, col 0), bh and bw swapped (16 px wide, 24 px tall), bh
    and bw in pixels, bx and by from the image's corner or in pixels, the corner encoded instead of the centre.
    """
    _check_encode(encode_box, (40.0, 36.0, 56.0, 60.0), 3, 96)
    _check_encode(encode_box, (2.0, 70.0, 20.0, 90.0), 3, 96)


def hidden_encode_box(encode_box):
    """Random boxes and grids, boxes wider than a cell, a centre on a cell border and on the image's far edge, a 1x1
    grid, a zero-size box at the origin."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        grid, size = int(rng.integers(1, 20)), float(rng.choice([64, 96, 100, 416]))
        x1, y1 = rng.uniform(0, size * 0.8, size=2)
        box = _as_tuple((x1, y1, x1 + rng.uniform(1, size - x1), y1 + rng.uniform(1, size - y1)))
        _check_encode(encode_box, box, grid, size)
    _check_encode(encode_box, (16.0, 0.0, 48.0, 64.0), 2, 64)  # centre on the border between two cells
    _check_encode(encode_box, (60.0, 60.0, 64.0, 64.0), 4, 62)  # centre on the image's far edge
    _check_encode(encode_box, (10.0, 20.0, 50.0, 30.0), 1, 64)  # a single cell: row = col = 0
    _check_encode(encode_box, (0.0, 0.0, 0.0, 0.0), 5, 100)  # a point at the image's origin


# --- anchors --------------------------------------------------------------------------------------------

def _shape_iou(box, anchor):
    # Two rectangles on the same centre overlap exactly as much as on the same top-left corner, and corners at 0
    # keep the sizes on the lattice.
    h, w = box[3] - box[1], box[2] - box[0]
    return raster_iou((0, 0, w, h), (0, 0, anchor[1], anchor[0]))


def _anchor_mistakes(box, anchors, ious):
    h, w = box[3] - box[1], box[2] - box[0]

    def pick(values, report):  # the anchor a wrong measure picks, and the IoU that the wrong code reports for it
        index = int(np.argmax(values))
        return index, float(report[index])

    swapped = [_shape_iou(box, (a[1], a[0])) for a in anchors]
    no_subtract = [min(a[0], h) * min(a[1], w) / (a[0] * a[1] + h * w) for a in anchors]
    last = len(ious) - 1 - int(np.argmax(np.asarray(ious)[::-1]))
    return [
        ("looks like each anchor was read as (width, height): anchors are (height, width)",
         lambda: (int(np.argmax(swapped)), float(swapped[int(np.argmax(swapped))]))),
        ("looks like the union did not subtract the intersection", lambda: pick(no_subtract, no_subtract)),
        ("looks like the anchor with the LOWEST IoU was chosen (argmin)", lambda: pick(-np.asarray(ious), ious)),
        ("looks like a tie went to the last anchor: on a tie keep the first (np.argmax, or a strict > in a loop)",
         lambda: (last, float(ious[last]))),
    ]


def _check_anchor(fn, box, anchors, case):
    got = fn(box, anchors)
    if not isinstance(got, tuple) or len(got) != 2:
        fail("best_anchor must return (index, iou)", case)
    ious = [_shape_iou(box, a) for a in anchors]
    best = int(np.argmax(ious))
    hint = None
    if int(got[0]) != best or not np.isclose(float(got[1]), ious[best], atol=1e-9):
        hint = likely_mistake(got, _anchor_mistakes(box, anchors, ious))
    rule = ("compare shapes only: put the box and each anchor on the same centre, take the highest IoU (the first on "
            "a tie)")
    expect_equal(int(got[0]), best, "chosen anchor", case, hint=_with_rule(hint, rule))
    expect_close(got[1], ious[best], "IoU of the chosen anchor", case, atol=1e-9, hint=_with_rule(hint, rule))


def public_best_anchor(best_anchor):
    """A tall and a wide object with the lecture's two anchors (tall for people, wide for cars), and three anchors
    where the box's own shape is neither the largest nor the first.

    Separates: anchors read as (width, height) (the tall and wide boxes), each anchor compared where it lies at the
    origin (the wide box), the union without subtracting the intersection and argmin (the third case). If your
    best_anchor calls your own iou and only that iou is wrong, the check says so and passes.
    """
    def public(fn):
        anchors = np.array([[3.0, 1.0], [1.0, 3.0]])
        _check_anchor(fn, (0, 0, 1, 3), anchors, "a tall 1x3 box, anchors (3, 1) and (1, 3)")
        _check_anchor(fn, (2, 2, 5, 3), anchors, "a wide 3x1 box, anchors (3, 1) and (1, 3)")
        three = np.array([[0.5, 0.5], [2.0, 2.0], [4.0, 4.0]])
        _check_anchor(fn, (1, 1, 3, 3), three, "a 2x2 box, anchors (0.5, 0.5), (2, 2) and (4, 4)")

    from cnncourse.ops import c3_boxes

    _blame_iou(public, best_anchor, "best_anchor", c3_boxes.iou)


def hidden_best_anchor(best_anchor):
    """Five anchors (YOLO-like shapes) against random boxes; shapes are compared, positions do not matter; a tie
    between two anchors (the first wins); a single anchor; a box far from the origin. A best_anchor that calls `iou`
    runs with the course's iou (one mistake, one loss)."""
    from cnncourse.ops import c3_boxes

    with reference_helpers(best_anchor, iou=c3_boxes.iou):
        _hidden_best_anchor(best_anchor)


def _hidden_best_anchor(best_anchor):
    rng = np.random.default_rng(9)
    anchors = np.array([[1.0, 1.0], [2.0, 1.0], [1.0, 2.0], [3.0, 3.0], [4.0, 1.5]])
    boxes = _random_lattice_boxes(rng, 40, extent=6.0)
    for box in boxes:
        if box[2] > box[0] and box[3] > box[1]:
            _check_anchor(best_anchor, _as_tuple(box), anchors, f"box {_as_tuple(box)}, anchors {anchors.tolist()}")
    _check_anchor(best_anchor, (10, 10, 12, 11), anchors, "the same shape far from the origin")
    _check_anchor(best_anchor, (0, 0, 1, 1), np.array([[2.0, 1.0], [1.0, 2.0], [4.0, 4.0]]),
                  "a tie: a 1x1 box has IoU 0.5 with both (2, 1) and (1, 2); the first wins")
    _check_anchor(best_anchor, (0, 0, 2, 2), np.array([[3.0, 3.0], [1.0, 1.0], [3.0, 3.0]]),
                  "the same anchor twice, (3, 3) at index 0 and 2: the first wins")
    _check_anchor(best_anchor, (0, 0, 3, 1), np.array([[1.5, 2.0]]), "a single anchor")
