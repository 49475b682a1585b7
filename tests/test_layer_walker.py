"""Chapter 1's layer walker: its shapes and parameter counts against the Keras model of c1_2's table, its formulas
evaluated, and the widget driven through its controls."""

import math
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from cnncourse.widgets import layer_walker  # noqa: E402
from cnncourse.widgets.layer_walker import CONVNET, layer_rows, walk_figure, walk_text  # noqa: E402


def keras_convnet(input_shape, padding, n_classes):
    """The network of c1_2's table, built with Keras layers here (not by the course's builders)."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, 3, padding=padding, name="conv1"),
        layers.ReLU(name="relu1"),
        layers.MaxPooling2D(2, 2, name="pool1"),
        layers.Conv2D(64, 3, padding=padding, name="conv2"),
        layers.ReLU(name="relu2"),
        layers.MaxPooling2D(2, 2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(64, activation="relu", name="fc1"),
        layers.Dense(n_classes, activation="softmax", name="fc2"),
    ])


@pytest.mark.parametrize("input_shape,padding,n_classes", [
    ((28, 28, 1), "same", 10), ((28, 28, 1), "valid", 10), ((64, 64, 1), "same", 10), ((32, 40, 3), "valid", 3),
    ((17, 23, 2), "same", 5),
])
def test_rows_match_the_keras_model_layer_by_layer(input_shape, padding, n_classes):
    model = keras_convnet(input_shape, padding, n_classes)
    rows = layer_rows(input_shape, padding, n_classes)
    assert [r["name"] for r in rows] == [layer.name for layer in model.layers]
    previous = tuple(input_shape)
    for row, layer in zip(rows, model.layers):
        want = tuple(layer.output.shape[1:])
        assert row["input_shape"] == previous and row["output_shape"] == want, row["name"]
        assert row["params"] == layer.count_params(), row["name"]
        assert row["values"] == math.prod(want)
        previous = want
    assert sum(r["params"] for r in rows) == model.count_params()


def evaluate_formula(text):
    """Each "lhs = value" piece of a formula: the left side, evaluated, equals the value written after it."""
    checked = 0
    for piece in re.split(r", (?=n_)", text):
        parts = [p.strip() for p in piece.split(" = ")]
        lhs, rhs = parts[-2], parts[-1]
        assert eval(lhs.replace(",", ""), {"floor": math.floor}) == int(rhs.replace(",", "")), piece  # noqa: S307
        checked += 1
    return checked


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_every_formula_evaluates_to_the_number_it_shows(padding):
    rows = layer_rows((32, 32, 3), padding, 7)
    for row in rows:
        if row["kind"] in ("conv", "pool"):
            assert evaluate_formula(row["shape_formula"]) == 2
            assert row["shape_formula"].endswith(str(row["output_shape"][1]))
        if row["params"]:
            evaluate_formula(row["params_formula"])
            assert row["params_formula"].endswith(f"{row['params']:,}")
        else:
            assert row["params_formula"] == ""


def test_walk_text_lists_the_layers_so_far_and_the_share_of_parameters():
    rows = layer_rows()
    total = sum(r["params"] for r in rows)
    text = walk_text(rows, 4)
    assert "conv2" in text and "relu2" not in text.split("\n\n")[0]
    so_far = rows[0]["params"] + rows[3]["params"]
    assert f"parameters in layers 1..4: {so_far:,} of {total:,} ({so_far / total:.1%})" in text
    assert "(3*3*32 + 1) * 64" in text
    assert "none (nothing is learned here)" in walk_text(rows, 3)
    with pytest.raises(ValueError, match="at most 9"):
        walk_text(rows, 10)
    fig = walk_figure(rows, 4)
    assert "conv2" in fig.get_suptitle() and len(fig.axes) == 2
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    matplotlib.pyplot.close(fig)


def test_layer_rows_rejects_bad_settings():
    with pytest.raises(ValueError, match="padding"):
        layer_rows(padding="full")
    with pytest.raises(ValueError, match="does not fit"):
        layer_rows((4, 4, 1), "valid")
    with pytest.raises(ValueError, match="odd f"):
        layer_rows(spec=(("c", "conv", (8, 2, 1)),))


def test_walker_follows_its_controls():
    box = layer_walker()
    assert set(box.controls) == {"layer", "padding", "input size"}
    assert box.controls["layer"].max == len(CONVNET) and "Try" in box.caption.value
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and "conv1" in box.formula.value
    box.controls["layer"].value = 8
    assert "fc1" in box.figure.get_suptitle() and bytes(box.picture.value) != first
    assert "200,768" in box.formula.value
    box.controls["padding"].value = "valid"
    fc1 = layer_rows((28, 28, 1), "valid")[7]["params"]
    assert f"{fc1:,}" in box.formula.value and "200,768" not in box.formula.value
    box.controls["input size"].value = 64
    assert "(64, 64, 1)" in box.formula.value and box.message.value == ""
