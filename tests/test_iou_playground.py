"""Chapter 3's IoU playground: its pure functions against the rasterised IoU, and the widget driven by its sliders."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from cnncourse.checks.c3_boxes import raster_iou  # noqa: E402
from cnncourse.widgets.iou_playground import iou_figure, iou_formula, iou_parts, iou_playground  # noqa: E402


@pytest.mark.parametrize("box1, box2", [((20, 20, 60, 60), (40, 30, 80, 70)), ((0, 0, 10, 10), (10, 0, 20, 10)),
                                        ((0, 0, 50, 50), (10, 10, 20, 30)), ((5, 5, 25, 25), (5, 5, 25, 25))])
def test_parts_add_up_and_match_the_rasterised_iou(box1, box2):
    parts = iou_parts(box1, box2)
    assert parts["iou"] == pytest.approx(raster_iou(box1, box2))
    assert parts["union"] == pytest.approx(parts["area1"] + parts["area2"] - parts["inter_area"])
    assert parts["iou"] == pytest.approx(parts["inter_area"] / parts["union"])
    assert (parts["intersection"] is None) == (parts["inter_area"] == 0)
    text = iou_formula(parts)
    assert f"{parts['iou']:.3f}" in text and ("correct detection" in text) == (parts["iou"] >= 0.5)
    fig = iou_figure(box1, box2)
    assert len(fig.axes[0].patches) == 2 + (parts["intersection"] is not None)
    matplotlib.pyplot.close(fig)


def test_playground_follows_its_sliders():
    box = iou_playground((20, 20, 60, 60), (40, 30, 80, 70))
    assert set(box.controls) == {f"{n}{k}" for n in "xywh" for k in (1, 2)}
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and f"{raster_iou((20, 20, 60, 60), (40, 30, 80, 70)):.3f}" in box.formula.value
    with box.paused():
        box.controls["x2"].value, box.controls["y2"].value = 20, 20
    box.update()
    assert "IoU = 1600 / 1600 = 1.000" in box.formula.value and bytes(box.picture.value) != first
    box.controls["x2"].value = 60  # touching along an edge
    assert "= 0.000" in box.formula.value and "below" in box.formula.value
