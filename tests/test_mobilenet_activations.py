"""MobileNet v2's activations per block (cnncourse.analysis.activations), against shapes worked out by hand from the
paper's table of stages (MOBILENET_V2_STAGES) and Keras's padding rule, on keras.applications' own network."""

import math

import keras
import pytest

from cnncourse.analysis.activations import inverted_residual_activations
from cnncourse.models.c2_mobile import MOBILENET_V2_STAGES


def expected_rows(size):
    """(input, widest, output) shapes per block for a size x size image: a stride-2 stem to 32 channels, then the
    stages; a stride-2 step gives ceil(n / 2) (Keras pads so), the expansion is t times the input's channels, and
    block 0 has none."""
    n, channels, rows = math.ceil(size / 2), 32, []
    for t, filters, repeats, first_stride in MOBILENET_V2_STAGES:
        for k in range(repeats):
            out = math.ceil(n / 2) if (first_stride == 2 and k == 0) else n
            expanded = [(n, n, t * channels)] if rows else []  # block 0 (the first row) has no expansion layer
            inside = expanded + [(out, out, t * channels)]
            widest = max(inside, key=math.prod)
            rows.append(((n, n, channels), widest, (out, out, filters)))
            n, channels = out, filters
    return rows


@pytest.mark.parametrize("size", [224, 96])
def test_rows_match_the_stage_table_on_keras_applications(size):
    model = keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3))
    got = inverted_residual_activations(model)
    want = expected_rows(size)
    assert [(r["input"], r["widest"], r["output"]) for r in got] == want
    assert [r["block"] for r in got] == list(range(17))
    for row in got:
        assert row["handed_on"] == math.prod(row["output"]) and row["widest_values"] == math.prod(row["widest"])


def test_what_blocks_hand_on_is_several_times_smaller_than_their_widest_tensors():
    rows = inverted_residual_activations(keras.applications.MobileNetV2(weights=None))
    ratio = sum(r["widest_values"] for r in rows) / sum(r["handed_on"] for r in rows)
    assert 4 < ratio < 12, ratio  # the expansion factor is 6; stride-2 blocks expand before they shrink


def test_a_model_without_blocks_is_refused_saying_what_was_expected():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs))
    with pytest.raises(ValueError, match="expanded_conv_project_BN"):
        inverted_residual_activations(model)
