"""Chapter 3's anchor explorer: its assignments agree with yolo_targets, and the widget follows its controls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from cnncourse.data.scenes import make_scenes  # noqa: E402
from cnncourse.ops.c3_yolo import yolo_targets  # noqa: E402
from cnncourse.widgets.anchor_explorer import anchor_explorer, assignment_text, assignments  # noqa: E402


def test_assignments_agree_with_yolo_targets_on_generated_scenes():
    anchors = np.array([[1.5, 1.5], [2.2, 1.2], [1.2, 2.2]])
    scenes = make_scenes(40, seed=6, max_objects=6)
    for boxes, labels in zip(scenes["boxes"], scenes["labels"]):
        for grid in (3, 6):
            scaled = anchors * grid / 6
            rows = assignments(boxes, labels, grid, scaled, 96)
            targets, conflicts = yolo_targets(boxes, labels, grid, scaled, 96, 3)
            assert [k for k, r in enumerate(rows) if r["lost"]] == [c[0] for c in conflicts]
            for r in rows:
                if not r["lost"]:
                    assert targets[r["row"], r["col"], r["anchor"], 0] == 1


def test_text_counts_the_lost_objects():
    rows = assignments(np.array([[0, 0, 32, 32], [2, 2, 30, 30]], dtype=float), np.array([1, 2]), 3,
                       np.array([[1.0, 1.0]]), 96)
    text = assignment_text(rows, ["digit", "square", "disc"])
    assert text.startswith("2 objects, 1 lost") and text.count("LOST") == 1 and "square" in text


def test_explorer_follows_its_controls():
    box = anchor_explorer(scene=3, grid=3, anchors="one square anchor")
    assert {"scene", "grid", "anchors"} <= set(box.controls)
    first_text, first_picture = box.formula.value, bytes(box.picture.value)
    assert first_picture.startswith(b"\x89PNG") and "objects" in first_text
    box.controls["grid"].value = 12
    assert "12x12" in box.figure.axes[0].get_title() and bytes(box.picture.value) != first_picture
    box.controls["anchors"].value = "square, tall, wide"
    assert len(box.figure.axes[1].patches) == 3
    box.controls["scene"].value = 7
    assert box.formula.value != first_text
