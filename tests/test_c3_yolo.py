"""Chapter 3's YOLO target tensor and decoding (cnncourse.ops.c3_yolo), on generated scenes and hand-made cases."""

import numpy as np
import pytest

from cnncourse.data.scenes import make_scenes
from cnncourse.ops.c3_boxes import filter_boxes
from cnncourse.ops.c3_yolo import yolo_decode, yolo_targets

ANCHORS = np.array([[1.0, 1.0], [1.5, 0.6], [0.6, 1.5]])  # (height, width) in cells: square, tall, wide


def test_encoding_then_decoding_gives_back_every_box_of_real_scenes():
    scenes = make_scenes(30, size=96, seed=4)
    for boxes, labels in zip(scenes["boxes"], scenes["labels"]):
        targets, conflicts = yolo_targets(boxes, labels, 3, ANCHORS, 96, 3)
        kept = [k for k in range(len(boxes)) if k not in {c[0] for c in conflicts}]
        assert targets[..., 0].sum() == len(kept)
        confidence, decoded, probs = yolo_decode(targets, 96)
        scores, found, classes = filter_boxes(confidence, decoded, probs, threshold=0.5)
        order = np.lexsort(found.T[::-1])
        want = np.lexsort(boxes[kept].T[::-1])
        np.testing.assert_allclose(found[order], boxes[kept][want], atol=1e-4)
        assert sorted(classes.tolist()) == sorted(labels[kept].tolist()) and np.all(scores == 1)


def test_each_object_takes_the_cell_of_its_centre_and_the_anchor_of_its_shape():
    boxes = np.array([[0, 0, 10, 30], [40, 70, 90, 85]], dtype=float)  # a tall box top-left, a wide one bottom-right
    targets, conflicts = yolo_targets(boxes, np.array([0, 2]), 3, ANCHORS, 96, 3)
    assert conflicts == []
    assert np.argwhere(targets[..., 0] == 1).tolist() == [[0, 0, 1], [2, 2, 2]]
    assert targets[2, 2, 2, 5:].tolist() == [0, 0, 1]


def test_two_objects_wanting_the_same_cell_and_anchor_are_reported():
    # 96 px, 3x3 grid: cells of 32 px. Two squares of about one cell, and a 0.6 x 1.5 cells tall box, all centred
    # in cell (0, 0).
    boxes = np.array([[0, 0, 32, 32], [2, 2, 30, 30], [6, 0, 25, 48]], dtype=float)
    targets, conflicts = yolo_targets(boxes, np.array([0, 1, 1]), 3, ANCHORS, 96, 2)
    assert conflicts == [(1, 0, 0, 0)]  # the second square loses cell (0, 0), anchor 0; the tall box takes anchor 1
    assert targets[..., 0].sum() == 2


@pytest.mark.parametrize("call, words", [
    (lambda: yolo_targets(np.zeros((1, 4)), np.array([3]), 3, ANCHORS, 96, 3), "labels must be in"),
    (lambda: yolo_targets(np.zeros((2, 4)), np.array([0]), 3, ANCHORS, 96, 3), "labels"),
    (lambda: yolo_targets(np.zeros((1, 4)), np.array([0]), 0, ANCHORS, 96, 3), "grid"),
    (lambda: yolo_decode(np.zeros((3, 2, 1, 8)), 96), "S, S, A"),
])
def test_bad_arguments_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()
