"""Chapter 3's NMS explorer: its steps against filter_boxes and non-max suppression, candidate_boxes against
predict_boxes, a hand-made case known exactly, and the widget driven by its sliders."""

import re

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.data.scenes import make_scenes  # noqa: E402
from cnncourse.models.c3_yolo import ANCHORS, CELL, candidate_boxes, predict_boxes, yolo_model  # noqa: E402
from cnncourse.ops.c3_boxes import filter_boxes, iou, non_max_suppression_per_class  # noqa: E402
from cnncourse.widgets.nms_explorer import nms_explorer, nms_figure, nms_steps, nms_text  # noqa: E402

NAMES = ["digit", "square", "disc"]
GROUPS = ("below_threshold", "suppressed", "kept", "over_limit")


def random_boxes(seed, n=40, size=64):
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, size, (n, 2))
    sides = rng.uniform(6, 30, (n, 2))
    boxes = np.concatenate([corners, corners + sides], axis=1)
    return boxes, rng.random(n), rng.integers(0, 3, n)


def assert_partition(steps, n):
    together = np.concatenate([steps[g] for g in GROUPS])
    assert sorted(together.tolist()) == list(range(n))  # every index in exactly one group


@pytest.mark.parametrize("seed, score_threshold, iou_threshold", [(0, 0.3, 0.5), (1, 0.1, 0.2), (2, 0.6, 0.05),
                                                                 (3, 0.0, 0.9), (4, 0.99, 0.5)])
def test_steps_agree_with_filter_boxes_and_per_class_nms(seed, score_threshold, iou_threshold):
    boxes, scores, labels = random_boxes(seed)
    steps = nms_steps(boxes, scores, labels, score_threshold, iou_threshold, max_boxes=len(boxes))
    assert_partition(steps, len(boxes))
    assert len(steps["over_limit"]) == 0 and set(steps["suppressed_by"]) == set(steps["suppressed"].tolist())

    # the same boxes through filter_boxes (pc = score, one-hot class probabilities) and the per-class NMS
    kept_scores, kept_boxes, kept_labels = filter_boxes(scores[:, None], boxes, np.eye(3)[labels], score_threshold)
    assert len(steps["below_threshold"]) == len(boxes) - len(kept_scores)
    keep = non_max_suppression_per_class(kept_boxes, kept_scores, kept_labels, iou_threshold, len(boxes))
    np.testing.assert_array_equal(boxes[steps["kept"]], kept_boxes[keep])
    np.testing.assert_array_equal(scores[steps["kept"]], kept_scores[keep])
    np.testing.assert_array_equal(labels[steps["kept"]], kept_labels[keep])

    for index, (by, overlap) in steps["suppressed_by"].items():
        assert by in steps["kept"] and labels[by] == labels[index] and scores[by] >= scores[index]
        assert overlap == pytest.approx(iou(boxes[by], boxes[index])) and overlap > iou_threshold
    for a in steps["kept"]:  # what NMS guarantees: no two kept boxes of one class overlap above the threshold
        for b in steps["kept"]:
            if a != b and labels[a] == labels[b]:
                assert iou(boxes[a], boxes[b]) <= iou_threshold


def test_raising_the_score_threshold_only_removes_kept_boxes():
    boxes, scores, labels = random_boxes(5, n=60)
    low = nms_steps(boxes, scores, labels, 0.2, 0.4)
    for high in (0.3, 0.5, 0.7, 0.9):
        steps = nms_steps(boxes, scores, labels, high, 0.4)
        assert set(steps["kept"].tolist()) == {k for k in low["kept"].tolist() if scores[k] >= high}


def test_boxes_past_max_boxes_are_left_out_not_suppressed():
    boxes, scores, labels = random_boxes(6, n=60)
    steps = nms_steps(boxes, scores, labels, 0.0, 0.9, max_boxes=3)
    assert_partition(steps, len(boxes))
    assert len(steps["over_limit"]) > 0 and np.bincount(labels[steps["kept"]], minlength=3).tolist() == [3, 3, 3]
    for index in steps["over_limit"]:
        same = steps["kept"][labels[steps["kept"]] == labels[index]]
        assert all(iou(boxes[k], boxes[index]) <= 0.9 for k in same)
    assert "left out (at most 3 kept per class)" in nms_text(steps, scores, labels, NAMES)


# two overlapping digits, a square on top of them, a faint digit on the background
HAND_BOXES = np.array([[10, 10, 40, 40], [12, 12, 42, 42], [14, 14, 44, 44], [50, 50, 60, 60]], dtype=float)
HAND_SCORES = np.array([0.9, 0.8, 0.7, 0.2])
HAND_LABELS = np.array([0, 0, 1, 0])


def test_hand_made_case_is_known_exactly():
    steps = nms_steps(HAND_BOXES, HAND_SCORES, HAND_LABELS, 0.3, 0.5)
    assert steps["below_threshold"].tolist() == [3] and steps["passed"].tolist() == [0, 1, 2]
    assert steps["kept"].tolist() == [0, 2] and steps["suppressed"].tolist() == [1]
    by, overlap = steps["suppressed_by"][1]
    assert by == 0 and overlap == pytest.approx(28 * 28 / (900 + 900 - 28 * 28))  # 0.772: the square is not touched
    text = nms_text(steps, HAND_SCORES, HAND_LABELS, NAMES)
    assert text.split("\n") == [
        "4 boxes proposed; 3 with score >= 0.30, 1 below",
        "NMS (suppress IoU > 0.50 with a kept box of the same class): 1 suppressed, 2 kept",
        "  kept #0: digit 0.90  suppressed 1: #1 (0.80, IoU 0.77)",
        "  kept #2: square 0.70",
    ]
    assert nms_steps(HAND_BOXES, HAND_SCORES, HAND_LABELS, 0.3, 0.8)["kept"].tolist() == [0, 1, 2]  # duplicate survives
    assert nms_steps(HAND_BOXES, HAND_SCORES, HAND_LABELS, 0.1, 0.5)["kept"].tolist() == [0, 2, 3]
    assert nms_steps(HAND_BOXES, HAND_SCORES, HAND_LABELS, 0.95, 0.5)["kept"].tolist() == []
    truths = {"boxes": HAND_BOXES[[0, 2]], "labels": np.array([0, 1])}
    fig = nms_figure(np.zeros((64, 64, 3)), HAND_BOXES, HAND_SCORES, HAND_LABELS, steps, NAMES, truths)
    before, after = fig.axes
    assert len(before.patches) == 3 + 2 and len(after.patches) == 2 + 2  # boxes, then the dashed truths
    assert [t.get_text() for t in after.texts] == ["digit 0.90", "square 0.70"]
    assert "3 of 4" in before.get_title() and "2 kept" in after.get_title()
    matplotlib.pyplot.close(fig)


def test_a_low_iou_threshold_merges_two_objects_of_one_class():
    boxes = np.array([[10, 10, 40, 40], [30, 30, 60, 60]], dtype=float)  # IoU 100 / 1700 = 0.059
    assert nms_steps(boxes, np.array([0.9, 0.8]), np.array([2, 2]), 0.3, 0.5)["kept"].tolist() == [0, 1]
    assert nms_steps(boxes, np.array([0.9, 0.8]), np.array([2, 2]), 0.3, 0.05)["kept"].tolist() == [0]
    assert nms_steps(boxes, np.array([0.9, 0.8]), np.array([2, 1]), 0.3, 0.05)["kept"].tolist() == [0, 1]


@pytest.fixture(scope="module")
def untrained():
    keras.utils.set_random_seed(0)
    scenes = make_scenes(3, size=64, seed=4)
    model = yolo_model(64)
    return model, scenes, candidate_boxes(model, scenes["images"])


def test_candidates_and_steps_reproduce_predict_boxes(untrained):
    model, scenes, candidates = untrained
    n = (64 // CELL) ** 2 * len(ANCHORS)  # every anchor of every cell of the 8 x 8 grid
    assert len(candidates) == 3
    for c in candidates:
        assert c["boxes"].shape == (n, 4) and c["scores"].shape == (n,) and c["labels"].shape == (n,)
        assert np.issubdtype(c["labels"].dtype, np.integer) and np.all((c["scores"] >= 0) & (c["scores"] <= 1))
    all_scores = np.concatenate([c["scores"] for c in candidates])
    for score_threshold, iou_threshold in ((0.0, 0.5), (float(np.median(all_scores)), 0.3),
                                           (float(np.quantile(all_scores, 0.9)), 0.7)):
        predictions = predict_boxes(model, scenes["images"], score_threshold=score_threshold,
                                    iou_threshold=iou_threshold)
        for c, p in zip(candidates, predictions):
            steps = nms_steps(c["boxes"], c["scores"], c["labels"], score_threshold, iou_threshold)
            assert len(steps["kept"]) > 0
            np.testing.assert_array_equal(c["boxes"][steps["kept"]], p["boxes"])
            np.testing.assert_array_equal(c["scores"][steps["kept"]], p["scores"])
            np.testing.assert_array_equal(c["labels"][steps["kept"]], p["labels"])


def kept_count(box):
    return int(re.search(r"(\d+) kept", box.formula.value).group(1))


def test_explorer_follows_its_controls(untrained):
    _, scenes, candidates = untrained
    truths = [{"boxes": b, "labels": lab} for b, lab in zip(scenes["boxes"], scenes["labels"])]
    box = nms_explorer(scenes["images"], candidates, scenes["class_names"], truths, score_threshold=0.05)
    assert set(box.controls) == {"image", "score", "iou"} and box.controls["image"].max == 2
    first_picture, first_text = bytes(box.picture.value), box.formula.value
    assert first_picture.startswith(b"\x89PNG") and "192 boxes proposed" in first_text and box.message.value == ""
    assert len(box.figure.axes[1].patches) == kept_count(box) + len(truths[0]["boxes"])

    counts = [kept_count(box)]
    for value in (0.15, 0.2, 0.25, 0.3, 0.5, 0.95):
        box.controls["score"].value = value
        counts.append(kept_count(box))
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert bytes(box.picture.value) != first_picture and box.formula.value != first_text

    box.controls["score"].value = 0.05
    loose = box.formula.value
    box.controls["iou"].value = 0.95
    assert box.formula.value != loose and "IoU &gt; 0.95" in box.formula.value
    picture = bytes(box.picture.value)
    box.controls["image"].value = 2
    assert bytes(box.picture.value) != picture and box.message.value == ""


def test_explorer_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="one entry per image"):
        nms_explorer(np.zeros((2, 64, 64, 3)), [{"boxes": HAND_BOXES, "scores": HAND_SCORES, "labels": HAND_LABELS}],
                     NAMES)
