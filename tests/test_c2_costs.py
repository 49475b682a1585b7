"""Counting parameters and multiplications layer by layer (cnncourse.analysis.costs) and the architecture explorer.

Oracles: counts worked out by hand for small layers, the closed forms of cnncourse.ops.c2_costs, Keras's own
count_params, and the multiply-add totals published with the networks (VGG-16 15.5 G, ResNet-50 3.9 G,
MobileNet 569 M, EfficientNet-B0 0.39 G).
"""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import pytest  # noqa: E402
from keras import layers  # noqa: E402

from cnncourse.analysis.costs import format_table, layer_multiplications, layer_table, totals  # noqa: E402
from cnncourse.models.c2_inception import inception_block_model  # noqa: E402
from cnncourse.ops.c2_costs import conv_multiplications  # noqa: E402
from cnncourse.widgets.architecture_explorer import (  # noqa: E402
    NETWORKS,
    architecture_explorer,
    architecture_figure,
    network_summary,
    summary_text,
)


def one_layer(layer, input_shape):
    inputs = keras.Input(input_shape)
    keras.Model(inputs, layer(inputs))
    return layer


@pytest.mark.parametrize("layer, input_shape, want", [
    (layers.Conv2D(5, 3), (6, 6, 2), 4 * 4 * 5 * 3 * 3 * 2),
    (layers.Conv2D(4, 3, strides=2, padding="same"), (7, 7, 3), 4 * 4 * 4 * 9 * 3),
    (layers.Conv2D(6, (1, 3), groups=2), (5, 5, 4), 5 * 3 * 6 * 3 * 2),
    (layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (5, 5, 3), 5 * 5 * 3 * 2 * 9),
    (layers.SeparableConv2D(8, 3), (6, 6, 3), 4 * 4 * 3 * 9 + 4 * 4 * 3 * 8),
    (layers.Dense(7), (10,), 70),
    (layers.Dense(7), (3, 3, 10), 9 * 70),
    (layers.Conv2DTranspose(4, 3, strides=2, padding="same"), (5, 5, 3), 5 * 5 * 3 * 9 * 4),  # per input value
    (layers.Conv2DTranspose(2, (2, 3)), (4, 6, 5), 4 * 6 * 5 * 6 * 2),
    (layers.MaxPooling2D(2), (4, 4, 3), 0),
    (layers.BatchNormalization(), (4, 4, 3), 0),
])
def test_layer_multiplications_by_hand(layer, input_shape, want):
    assert layer_multiplications(one_layer(layer, input_shape)) == want


def test_inception_costs_of_the_lecture():
    """28x28x192 to 28x28x32 with 5x5 filters: 120 M directly, 12.4 M through a 16-channel bottleneck."""
    def five_by_five(bottleneck):
        inputs = keras.Input((28, 28, 192))
        x = layers.Conv2D(bottleneck, 1)(inputs) if bottleneck else inputs
        return keras.Model(inputs, layers.Conv2D(32, 5, padding="same")(x))

    direct, reduced = totals(five_by_five(None)), totals(five_by_five(16))
    assert direct["multiplications"] == conv_multiplications(28, 28, 5, 192, 32) == 120_422_400
    assert reduced["multiplications"] == conv_multiplications(28, 28, 5, 192, 32, bottleneck=16) == 12_443_648


def test_layer_table_rows_and_totals_match_keras():
    model = inception_block_model()
    rows = layer_table(model)
    assert [r["name"] for r in rows] == [layer.name for layer in model.layers[1:]]
    assert sum(r["params"] for r in rows) == model.count_params() == totals(model)["params"]
    assert rows[-1]["output_shape"] == (28, 28, 256) and rows[-1]["kind"] == "Concatenate"
    text = format_table(rows, max_rows=3)
    assert rows[0]["name"] in text and f"{model.count_params():,}" in text and f"{len(rows) - 3} more layers" in text


PUBLISHED = {  # network: (parameters, multiply-adds as published, relative tolerance)
    "VGG-16": (138_357_544, 15.5e9, 0.02),
    "ResNet-50": (25_636_712, 3.9e9, 0.03),
    "MobileNet v1": (4_253_864, 569e6, 0.01),
    "EfficientNet-B0": (5_330_571, 0.39e9, 0.03),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_network_totals_match_the_papers(name):
    params, mults, tolerance = PUBLISHED[name]
    summary = network_summary(name)
    assert summary["params"] == params
    assert summary["multiplications"] == pytest.approx(mults, rel=tolerance)
    assert summary["input_shape"] == (224, 224, 3)


def test_summary_text_and_figure():
    summary = network_summary("AlexNet")
    text = summary_text(summary, "params", top=3)
    assert "fc6" in text.splitlines()[2], "AlexNet's first fully connected layer holds the most weights"
    text = summary_text(summary, "multiplications", top=3)
    assert "conv" in text.splitlines()[2], "a convolution does the most work"
    fig = architecture_figure(summary, "multiplications")
    bars = fig.axes[0].patches
    assert len(bars) == sum(1 for r in summary["rows"] if r["params"]) == 8
    assert max(b.get_height() for b in bars) == max(r["multiplications"] for r in summary["rows"])
    matplotlib.pyplot.close(fig)


def test_unknown_network_names_the_choices():
    with pytest.raises(ValueError, match="VGG-16"):
        network_summary("VGG-19")


def test_architecture_explorer_follows_its_controls():
    box = architecture_explorer("LeNet-5", "params")
    assert {"network", "quantity"} <= set(box.controls) and set(NETWORKS) == set(box.controls["network"].options)
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and "LeNet-5" in box.formula.value and "61,706" in box.formula.value
    assert "all 8 layers of LeNet-5" in box.table.value and "(5, 5, 16)" in box.table.value  # pool2's output
    box.controls["network"].value = "Inception (3a) module"
    assert "Inception" in box.formula.value and bytes(box.picture.value) != first
    assert "3a_concat" in box.table.value and "(28, 28, 256)" in box.table.value
    box.controls["quantity"].value = "multiplications"
    assert "by multiplications" in box.formula.value and "3a_3x3" in box.formula.value


def test_bench_nets_rows_pair_each_network_with_keras():
    from cnncourse.bench.nets import _networks, training_throughput
    from cnncourse.models.c2_classic import lenet5

    names = [name for name, _, _ in _networks()]
    assert {"VGG-16", "ResNet-50", "MobileNet v1", "MobileNet v2", "EfficientNet-B0"} <= {
        name for name, _, keras_build in _networks() if keras_build}
    assert set(NETWORKS) - {"Inception (3a) module"} <= set(names)
    assert training_throughput(lenet5(), batch_size=4, steps=1) > 0
