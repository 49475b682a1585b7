"""Chapter 3: mean average precision (mAP) of a detector, as in PASCAL VOC (all-point interpolation).

For one class, over a set of images: sort every prediction of the class by score; walking down that list, a
prediction is a true positive when its IoU with a not-yet-matched true box of the same image reaches the threshold
(it takes the best such box), otherwise a false positive. Precision and recall after each prediction make a curve;
the precision is made monotone (p_interp(r) = max precision at any recall >= r) and AP is the area under it.
mAP is the mean of AP over the classes that have at least one true box.
"""

import numpy as np

from cnncourse.ops.c3_boxes import require_boxes
from cnncourse.ops.twins import box_iou


def _match(pred_boxes, pred_scores, true_boxes, iou_threshold):
    """(scores, is_true_positive) of every prediction, best score first, and the number of true boxes."""
    entries = []  # (score, image index, box)
    for image, (boxes, scores) in enumerate(zip(pred_boxes, pred_scores)):
        entries.extend((float(s), image, b) for b, s in zip(boxes, scores))
    entries.sort(key=lambda e: -e[0])
    matched = [np.zeros(len(t), dtype=bool) for t in true_boxes]
    hits = []
    for _, image, box in entries:
        truths = true_boxes[image]
        overlaps = [box_iou(box, t) if not matched[image][j] else -1.0 for j, t in enumerate(truths)]
        best = int(np.argmax(overlaps)) if overlaps else -1
        hit = best >= 0 and overlaps[best] >= iou_threshold
        if hit:
            matched[image][best] = True
        hits.append(hit)
    return np.array([e[0] for e in entries]), np.array(hits, dtype=bool), sum(len(t) for t in true_boxes)


def average_precision(pred_boxes, pred_scores, true_boxes, iou_threshold=0.5):
    """AP of one class.

    Args:
        pred_boxes: list over images of (k_i, 4) float arrays of predicted corner boxes.
        pred_scores: list over images of (k_i,) float arrays, the predictions' scores.
        true_boxes: list over images of (m_i, 4) float arrays of true corner boxes (same number of images).
        iou_threshold: a prediction counts when its IoU with an unmatched true box is >= this.
    Returns:
        float in [0, 1]; 0 when there are true boxes but no true positive, nan when there is no true box.
    """
    if not (len(pred_boxes) == len(pred_scores) == len(true_boxes)):
        raise ValueError(f"pred_boxes, pred_scores and true_boxes must list the same images, got "
                         f"{len(pred_boxes)}, {len(pred_scores)} and {len(true_boxes)}")
    for i, (boxes, scores, truths) in enumerate(zip(pred_boxes, pred_scores, true_boxes)):
        require_boxes(np.asarray(boxes, dtype=float).reshape(-1, 4), f"pred_boxes[{i}]")
        require_boxes(np.asarray(truths, dtype=float).reshape(-1, 4), f"true_boxes[{i}]")
        if len(scores) != len(boxes):
            raise ValueError(f"pred_scores[{i}] has {len(scores)} scores for {len(boxes)} boxes")
    _, hits, n_true = _match(pred_boxes, pred_scores, true_boxes, iou_threshold)
    if n_true == 0:
        return float("nan")
    if len(hits) == 0:
        return 0.0
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / n_true
    # monotone envelope from the right, then the area under the step function of recall
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope))


def mean_average_precision(predictions, truths, n_classes, iou_threshold=0.5):
    """mAP over classes for a set of images.

    Args:
        predictions: list over images of dicts with "boxes" (k, 4), "scores" (k,) and "labels" (k,) ints.
        truths: list over images of dicts with "boxes" (m, 4) and "labels" (m,) ints.
        n_classes: number of classes (labels in 0..n_classes-1).
        iou_threshold: as in average_precision (0.5 for mAP@0.5).
    Returns:
        (mAP, per_class): mAP a float (nan when no class has a true box), per_class a list of n_classes APs
        (nan for a class without true boxes).
    """
    if len(predictions) != len(truths):
        raise ValueError(f"predictions and truths must list the same images, got {len(predictions)} and {len(truths)}")
    per_class = []
    for c in range(n_classes):
        pred_boxes = [np.asarray(p["boxes"], dtype=float).reshape(-1, 4)[np.asarray(p["labels"]) == c] for p in predictions]
        pred_scores = [np.asarray(p["scores"], dtype=float)[np.asarray(p["labels"]) == c] for p in predictions]
        true_boxes = [np.asarray(t["boxes"], dtype=float).reshape(-1, 4)[np.asarray(t["labels"]) == c] for t in truths]
        per_class.append(average_precision(pred_boxes, pred_scores, true_boxes, iou_threshold))
    valid = [ap for ap in per_class if not np.isnan(ap)]
    return (float(np.mean(valid)) if valid else float("nan")), per_class
