"""The diagrams of chapters 3 and 4 draw, and their labels are the package's sizes (worked out by hand here)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnncourse.diagrams.c3 import yolo_grid_figure
from cnncourse.diagrams.c4 import unet_figure, unet_levels
from cnncourse.models.c3_yolo import ANCHORS
from cnncourse.models.c4_unet import unet_model


def _gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def test_yolo_grid_figure_shows_the_cell_the_anchors_and_the_target():
    # Box (19, 42)-(46, 69): centre (32.5, 55.5) px, i.e. (4.06, 6.94) cells of 8 px -> row 6, col 4; 27 px = 3.375 cells.
    # IoU of its 3.375-cell square with the anchors (centres shared): 2.6x2.6 -> 6.76/11.39 = 0.593;
    # 4.4x4.4 -> 11.39/19.36 = 0.588; 4.0x2.6 (h x w) -> 8.775/(11.39 + 10.4 - 8.775) = 0.674: anchor 2.
    fig = yolo_grid_figure([19, 42, 46, 69], label=2, image_size=96)
    left, right = fig.axes
    assert fig.yolo_cell == (6, 4, 2)
    assert len(_gid(left.lines, "grid")) == 2 * (12 + 1)  # 96 / 8 = 12 cells a side: 13 horizontal + 13 vertical lines
    cell = _gid(left.patches, "centre_cell")[0]
    assert (cell.get_x(), cell.get_y(), cell.get_width()) == (32, 48, 8)
    for a, (h, w) in enumerate([(2.6, 2.6), (4.4, 4.4), (4.0, 2.6)]):  # ANCHORS typed in, in pixels = cells * 8
        rect = _gid(left.patches, f"anchor{a}")[0]
        assert rect.get_height() == pytest.approx(8 * h) and rect.get_width() == pytest.approx(8 * w)
        assert rect.get_x() + rect.get_width() / 2 == pytest.approx(36)  # centred on the cell's centre (4.5 cells)
        assert rect.get_y() + rect.get_height() / 2 == pytest.approx(52)
    assert len(ANCHORS) == 3
    assert "12 x 12 grid" in left.get_title()
    table = right.tables[0]
    header = [table[0, j].get_text().get_text() for j in range(8)]
    assert header == ["p_c", "b_x", "b_y", "b_h", "b_w", "c_digit", "c_square", "c_disc"]
    row = [table[3, j].get_text().get_text() for j in range(8)]  # anchor 2 is the table's third data row
    assert row == ["1.00", "0.06", "0.94", "3.38", "3.38", "0.00", "0.00", "1.00"]  # 32.5/8-4, 55.5/8-6, 27/8
    assert all(table[1, j].get_text().get_text() == "0" for j in range(8))
    plt.close(fig)


def test_yolo_grid_figure_rejects_an_image_size_off_the_grid():
    with pytest.raises(ValueError, match="multiple of 8"):
        yolo_grid_figure([0, 0, 10, 10], image_size=100)


def _texts(fig, gid):
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]


def test_unet_figure_labels_the_sizes_of_the_default_unet():
    model = unet_model((64, 64, 3), n_filters=16, n_classes=5)
    fig = unet_figure(model)
    sizes = _texts(fig, "size")
    # Hand count: 64 -> 32 -> 16 -> 8 -> 4 pixels, 16 filters doubling per level, 256 at the bottleneck.
    for label in ["input 64x64x3", "down1 64x64x16", "down2 32x32x32", "down3 16x16x64", "down4 8x8x128",
                  "bottleneck 4x4x256", "up1 8x8x128", "up2 16x16x64", "up3 32x32x32", "up4 64x64x16",
                  "logits 64x64x5"]:
        assert label in sizes
    assert sorted(_texts(fig, "concat")) == sorted(f"concat {c} + {c} = {2 * c} channels" for c in (16, 32, 64, 128))
    plt.close(fig)


def test_unet_levels_follow_the_doubling_rule_on_another_shape():
    levels = unet_levels(unet_model((32, 48, 1), n_filters=4, n_classes=3, depth=2))
    assert levels["down"] == [(32, 48, 4), (16, 24, 8)]
    assert levels["bottleneck"] == (8, 12, 16)
    assert [u["concat"] for u in levels["up"]] == [(16, 24, 16), (32, 48, 8)]  # 8 + 8, 4 + 4
    assert levels["logits"] == (32, 48, 3)


def test_unet_levels_refuses_a_model_without_its_layer_names():
    import keras

    inputs = keras.Input((8, 8, 1))
    with pytest.raises(ValueError, match="down1_conv2"):
        unet_levels(keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs)))
