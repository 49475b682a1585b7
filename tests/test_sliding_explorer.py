"""Chapter 3's sliding-window explorer: its grid against loops, its probabilities against the convolutional twin
(stride 2) and the classifier on hand-cut crops (other strides), its detections, and the widget's controls."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import sliding_explorer  # noqa: E402
from cnncourse.widgets.sliding_explorer import (  # noqa: E402
    WINDOW,
    detections,
    sliding_figure,
    sliding_text,
    window_grid,
    window_probabilities,
)

NAMES = ["background", "digit", "square", "disc"]


@pytest.fixture(scope="module")
def classifier():
    import keras

    from cnncourse.models.c3_sliding import window_classifier

    keras.utils.set_random_seed(3)
    return window_classifier(n_classes=len(NAMES))


def test_window_is_the_classifiers_window():
    from cnncourse.models import c3_sliding

    assert WINDOW == c3_sliding.WINDOW


@pytest.mark.parametrize("n_H,n_W,stride", [(48, 48, 1), (48, 48, 2), (48, 40, 3), (30, 17, 4), (14, 14, 5)])
def test_grid_lists_every_window_that_fits(n_H, n_W, stride):
    grid = window_grid(n_H, n_W, stride)
    want = [(top, left) for top in range(0, n_H - WINDOW + 1, stride) for left in range(0, n_W - WINDOW + 1, stride)]
    assert [tuple(c) for c in grid["corners"]] == want
    assert grid["rows"] * grid["cols"] == len(want)
    rows, cols, total = grid["formula"].split("\n")
    for line, value in ((rows, grid["rows"]), (cols, grid["cols"])):
        lhs, rhs = line.split(" = ")[1:]
        assert eval(lhs, {"floor": math.floor}) == int(rhs) == value  # noqa: S307 - our own formula text
    assert f"= {len(want):,}:" in total


def test_stride_2_agrees_with_the_convolutional_twin(classifier):
    from cnncourse.models.c3_sliding import convolutional_classifier

    image = np.random.default_rng(0).random((30, 26, 3)).astype(np.float32)
    got = window_probabilities(classifier, image, 2)
    twin = np.asarray(convolutional_classifier(classifier).predict(image[None], verbose=0))[0]
    assert got.shape == twin.shape
    np.testing.assert_allclose(got, twin, atol=1e-5)


@pytest.mark.parametrize("stride", [1, 3, 5])
def test_other_strides_agree_with_crops_cut_by_hand(classifier, stride):
    image = np.random.default_rng(stride).random((24, 29, 3)).astype(np.float32)
    got = window_probabilities(classifier, image, stride)
    grid = window_grid(24, 29, stride)
    crops = np.stack([image[t:t + WINDOW, s:s + WINDOW] for t, s in grid["corners"]])
    want = np.asarray(classifier.predict(crops, verbose=0)).reshape(grid["rows"], grid["cols"], -1)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_detections_are_the_windows_at_or_above_the_threshold():
    grid = window_grid(20, 22, 3)
    probabilities = np.random.default_rng(1).dirichlet(np.ones(4), size=(grid["rows"], grid["cols"]))
    found = detections(grid, probabilities, 2, 0.3)
    want = {(r, c) for r in range(grid["rows"]) for c in range(grid["cols"]) if probabilities[r, c, 2] >= 0.3}
    assert {(d["row"], d["col"]) for d in found} == want
    assert [d["score"] for d in found] == sorted((d["score"] for d in found), reverse=True)
    for d in found:
        assert d["box"] == (3 * d["col"], 3 * d["row"], 3 * d["col"] + WINDOW, 3 * d["row"] + WINDOW)
    text = sliding_text(grid, found, "square", 0.3)
    assert f"{len(want)} of them say square with probability >= 0.30" in text
    fig = sliding_figure(np.zeros((20, 22, 3)), grid, probabilities, 2, NAMES, 0.3)
    assert f"{grid['rows'] * grid['cols']:,} windows" in fig.axes[0].get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes[:2])
    matplotlib.pyplot.close(fig)


def test_explorer_follows_its_controls(classifier):
    from cnncourse.data.scenes import make_scenes

    images = make_scenes(3, size=40, seed=5)["images"]
    box = sliding_explorer(classifier, images, NAMES)
    assert set(box.controls) == {"scene", "stride", "class", "threshold"} and "Try" in box.caption.value
    first = bytes(box.picture.value)
    n = (40 - WINDOW) // 2 + 1
    assert first.startswith(b"\x89PNG") and f"windows = {n} * {n} = {n * n:,}" in box.formula.value
    box.controls["stride"].value = 8
    n = (40 - WINDOW) // 8 + 1
    assert f"windows = {n} * {n} = {n * n:,}" in box.formula.value and bytes(box.picture.value) != first
    box.controls["class"].value = "disc"
    assert "say disc" in box.formula.value and "P(disc)" in box.figure.axes[1].get_title()
    box.controls["threshold"].value = 0.95
    box.controls["scene"].value = 2
    assert "probability &gt;= 0.95" in box.formula.value and box.message.value == ""
    with pytest.raises(ValueError, match="images must have shape"):
        sliding_explorer(classifier, images[:, :10, :10], NAMES)
