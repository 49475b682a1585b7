"""Chapter 3's figures: every one draws what it is given (boxes, grid, detections) and has a title."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnncourse.data.scenes import make_scenes  # noqa: E402
from cnncourse.data.scene_crops import scene_crops  # noqa: E402
from cnncourse.experiments.c3_figures import plot_detections, plot_encoding, plot_loss, show_crops, show_scenes  # noqa: E402
from cnncourse.ops.c3_boxes import encode_box  # noqa: E402


def outlines(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def test_show_scenes_draws_one_outline_per_object():
    scenes = make_scenes(3, seed=2)
    fig = show_scenes(scenes, n=3, grid=3, title="three scenes")
    assert fig._suptitle.get_text() == "three scenes"
    for ax, boxes in zip(fig.axes, scenes["boxes"]):
        assert len(outlines(ax)) == len(boxes)
        assert len(ax.lines) == 4  # two horizontal and two vertical lines of a 3x3 grid
    plt.close(fig)


def test_plot_encoding_shades_the_cell_of_each_centre():
    scenes = make_scenes(1, seed=5)
    boxes, labels = scenes["boxes"][0], scenes["labels"][0]
    encodings = [encode_box(b, 3, 96) for b in boxes]
    fig = plot_encoding(scenes["images"][0], boxes, labels, scenes["class_names"], 3, encodings)
    ax = fig.axes[0]
    shaded = [p for p in ax.patches if p.get_fill()]
    assert len(shaded) == len(boxes) and "3x3" in ax.get_title()
    for patch, (row, col, *_) in zip(shaded, encodings):
        assert np.isclose(patch.get_x(), col * 32 - 0.5) and np.isclose(patch.get_y(), row * 32 - 0.5)
    plt.close(fig)


def test_plot_detections_draws_predicted_and_true_boxes():
    scenes = make_scenes(2, seed=1)
    truths = [{"boxes": b, "labels": lab} for b, lab in zip(scenes["boxes"], scenes["labels"])]
    predictions = [{"boxes": np.array([[1, 1, 20, 20]], float), "scores": np.array([0.8]), "labels": np.array([2])},
                   {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}]
    fig = plot_detections(scenes["images"], truths, predictions, scenes["class_names"], n=2)
    first, second = fig.axes[:2]
    assert len(outlines(first)) == len(truths[0]["boxes"]) + 1 and any("0.80" in t.get_text() for t in first.texts)
    assert len(outlines(second)) == len(truths[1]["boxes"]) and second.get_title().startswith("0 found")
    plt.close(fig)


def test_plot_loss_has_one_point_per_epoch():
    fig = plot_loss([4.0, 2.0, 1.0], "loss")
    x, y = fig.axes[0].lines[0].get_data()
    assert list(x) == [1, 2, 3] and list(y) == [4.0, 2.0, 1.0] and fig.axes[0].get_xlabel() == "epoch"
    plt.close(fig)


def test_show_crops_puts_each_class_in_its_row():
    crops = scene_crops(make_scenes(10, seed=4), side=32, seed=0)
    fig = show_crops(crops, per_class=3, title="crops")
    assert fig._suptitle.get_text() == "crops"
    rows = np.array(fig.axes).reshape(4, 3)
    for label, row in enumerate(rows):
        assert row[0].get_ylabel() == crops["class_names"][label]
        members = np.flatnonzero(crops["labels"] == label)[:3]
        shown = [ax.images[0].get_array() for ax in row if ax.images]
        assert len(shown) == len(members)
        for image, index in zip(shown, members):
            np.testing.assert_array_equal(image, crops["images"][index])
    plt.close(fig)
