"""Chapter 3's mean average precision (cnncourse.ops.c3_map): hand-worked cases and the definition, by loops."""

import numpy as np
import pytest

from cnncourse.ops.c3_boxes import iou
from cnncourse.ops.c3_map import average_precision, mean_average_precision

TRUTHS = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)]


def test_hand_worked_average_precision():
    # hit (0.9), miss (0.8), hit (0.7): precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; envelope 1, 2/3, 2/3
    preds = [np.array([[0, 0, 10, 10], [50, 50, 60, 60], [21, 20, 31, 30]], dtype=float)]
    scores = [np.array([0.9, 0.8, 0.7])]
    assert average_precision(preds, scores, TRUTHS) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_perfect_missing_duplicate_and_empty():
    assert average_precision([TRUTHS[0]], [np.array([0.5, 0.4])], TRUTHS) == 1.0
    assert average_precision([np.zeros((0, 4))], [np.zeros(0)], TRUTHS) == 0.0
    assert np.isnan(average_precision([TRUTHS[0]], [np.array([0.5, 0.4])], [np.zeros((0, 4))]))
    # the same box predicted twice: the second is a false positive; recall stops at 1/2
    twice = [np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)]
    assert average_precision(twice, [np.array([0.9, 0.8])], TRUTHS) == pytest.approx(0.5)
    # IoU just below the threshold does not count
    shifted = [np.array([[0, 0, 10, 10 * 2 / 3 - 1e-6]])]
    assert iou(shifted[0][0], TRUTHS[0][0]) < 2 / 3
    assert average_precision(shifted, [np.array([1.0])], TRUTHS, iou_threshold=2 / 3) == 0.0


def definition_ap(hits, n_true):
    """AP from its definition, by loops: sum over the true positives of (recall step) x (best precision at any
    recall >= this one)."""
    precisions, recalls, tp = [], [], 0
    for k, hit in enumerate(hits, start=1):
        tp += hit
        precisions.append(tp / k)
        recalls.append(tp / n_true)
    ap, previous_recall = 0.0, 0.0
    for k, hit in enumerate(hits):
        if hit:
            ap += (recalls[k] - previous_recall) * max(p for p, r in zip(precisions, recalls) if r >= recalls[k])
            previous_recall = recalls[k]
    return ap


@pytest.mark.parametrize("seed", range(5))
def test_random_detections_match_the_definition(seed):
    rng = np.random.default_rng(seed)
    truths, preds, scores, hits_by_score = [], [], [], []
    for image in range(6):
        n_true = int(rng.integers(0, 4))
        true = np.array([[30 * j, 0, 30 * j + 10, 10] for j in range(n_true)], dtype=float).reshape(-1, 4)
        truths.append(true)
        boxes, s = [], []
        for j in range(n_true):  # each true box found or not
            if rng.random() < 0.7:
                boxes.append(true[j] + [0, 0, 1, 0]), s.append(rng.random())  # IoU 10/11: a hit
        for _ in range(int(rng.integers(0, 3))):  # false positives far from every true box
            boxes.append(np.array([200, 200, 210, 210], dtype=float) + rng.integers(0, 50)), s.append(rng.random())
        preds.append(np.array(boxes, dtype=float).reshape(-1, 4))
        scores.append(np.array(s))
        hits_by_score.extend((sc, b[1] < 100) for b, sc in zip(boxes, s))
    hits = [hit for _, hit in sorted(hits_by_score, key=lambda e: -e[0])]
    n_true = sum(len(t) for t in truths)
    assert average_precision(preds, scores, truths) == pytest.approx(definition_ap(hits, n_true))


def test_map_keeps_classes_apart():
    truths = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "labels": np.array([0, 1])}]
    right = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "scores": np.array([0.9, 0.8]),
              "labels": np.array([0, 1])}]
    swapped = [{**right[0], "labels": np.array([1, 0])}]
    assert mean_average_precision(right, truths, 3) == (1.0, [1.0, 1.0, pytest.approx(float("nan"), nan_ok=True)])
    value, per_class = mean_average_precision(swapped, truths, 3)
    assert value == 0.0 and per_class[:2] == [0.0, 0.0] and np.isnan(per_class[2])


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="same images"):
        average_precision([np.zeros((0, 4))], [], TRUTHS)
    with pytest.raises(ValueError, match="pred_scores\\[0\\] has 1 scores for 2 boxes"):
        average_precision([TRUTHS[0]], [np.array([0.5])], TRUTHS)
    with pytest.raises(ValueError, match="x2 >= x1"):
        average_precision([np.array([[5.0, 0, 1, 1]])], [np.array([0.5])], TRUTHS)
