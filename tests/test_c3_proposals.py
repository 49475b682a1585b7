"""Region-proposal pieces (cnncourse.ops.c3_proposals) against hand computations."""

import numpy as np
import pytest

from cnncourse.ops.c3_proposals import anchor_proposals, roi_max_pool


def test_anchor_proposals_count_order_and_one_box_by_hand():
    anchors = np.array([[1.0, 1.0], [2.0, 1.0]])
    boxes = anchor_proposals(64, 16, anchors)
    assert boxes.shape == (4 * 4 * 2, 4)  # 64 / 16 = 4 cells a side, 2 anchors
    # cell (row 1, col 2): centre (x, y) = (40, 24); anchor 1 is 32 px tall, 16 px wide.
    assert boxes[(1 * 4 + 2) * 2 + 1] == pytest.approx([32, 8, 48, 40])
    # cell (0, 0), anchor 1 reaches above the image (y1 = 8 - 16 = -8): clipped to 0.
    assert boxes[1] == pytest.approx([0, 0, 16, 24])


def test_anchor_proposals_rejects_a_size_off_the_grid():
    with pytest.raises(ValueError, match="multiple"):
        anchor_proposals(50, 16, np.ones((1, 2)))


def test_roi_max_pool_matches_a_hand_computation():
    feature_map = np.arange(36, dtype=float).reshape(6, 6, 1)  # value = 6 * row + col
    # Stride 4: box x 4..20, y 8..24 -> feature columns 1..4, rows 2..5; bins of 2 x 2 feature pixels.
    pooled = roi_max_pool(feature_map, [4, 8, 20, 24], stride=4, bins=2)
    # Maxima at the bottom-right of each bin: (row 3, col 2), (3, 4), (5, 2), (5, 4).
    assert pooled[..., 0] == pytest.approx(np.array([[6 * 3 + 2, 6 * 3 + 4], [6 * 5 + 2, 6 * 5 + 4]]))


def test_roi_max_pool_gives_one_size_for_boxes_of_any_size_and_rounds_outward():
    rng = np.random.default_rng(0)
    feature_map = rng.normal(size=(8, 8, 3))
    small, large = roi_max_pool(feature_map, [0, 0, 8, 8], 4), roi_max_pool(feature_map, [0, 0, 32, 32], 4)
    assert small.shape == large.shape == (2, 2, 3)
    assert small == pytest.approx(feature_map[:2, :2])  # two feature pixels a side: each bin is one pixel
    # x 5..11 with stride 4 covers feature columns floor(5/4) = 1 .. ceil(11/4) - 1 = 2 (partly covered pixels count).
    one = roi_max_pool(feature_map, [5, 5, 11, 11], 4, bins=1)
    assert one[0, 0] == pytest.approx(feature_map[1:3, 1:3].max(axis=(0, 1)))
    with pytest.raises(ValueError, match="fewer than bins"):
        roi_max_pool(feature_map, [0, 0, 4, 4], 4, bins=2)


def test_counted_network_counts_passes_and_rows():
    from cnncourse.experiments.c3_proposals import CountedNetwork

    class Doubler:
        def __call__(self, batch, training=False):
            return batch * 2

    net = CountedNetwork(Doubler())
    for n in (1, 3, 5):
        out = net(np.ones((n, 2), dtype="float32"))
    assert (net.calls, net.images) == (3, 9) and out.shape == (5, 2)


def test_rcnn_and_fast_rcnn_agree_on_a_whole_image_box_and_their_passes_are_counted():
    import keras

    from cnncourse.experiments.c3_proposals import (CountedNetwork, compare_detector_costs, fast_rcnn_scores,
                                                    proposal_networks, rcnn_scores)

    image = np.random.default_rng(1).uniform(size=(16, 16, 3)).astype("float32")
    backbone, head, classifier = (CountedNetwork(m) for m in proposal_networks(n_classes=3))
    whole = np.array([[0, 0, 16, 16]])  # a 16 x 16 crop needs no resizing, and 'same' padding sees the same borders
    assert rcnn_scores(classifier, image, whole) == pytest.approx(fast_rcnn_scores(backbone, head, image, whole),
                                                                  abs=1e-5)
    inputs = keras.Input((32, 32, 3))
    tiny_yolo = keras.Model(inputs, keras.layers.Conv2D(2, 16, strides=16)(inputs))
    proposals = np.array([[0, 0, 16, 16], [8, 8, 32, 32], [0, 12, 20, 32]])
    costs = {row["method"]: row for row in compare_detector_costs(np.zeros((32, 32, 3)), proposals, tiny_yolo, 1)}
    # By hand: one classifier pass per region; one backbone and one (batched) head pass; one YOLO pass.
    assert [costs[m]["evaluations"] for m in ("R-CNN", "Fast R-CNN", "YOLO")] == [3, 2, 1]
    assert all(costs[m]["seconds"] > 0 for m in costs)
