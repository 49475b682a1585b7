"""A layer of the notebook's own class, inside a model handed to a check, travels as what it did (layer_replay.py)."""

import json

import keras
import numpy as np
import pytest

from cnncourse.grading import evidence, layer_replay


class Halve(keras.layers.Layer):
    """A layer class of the notebook's own, with a constructor argument Keras could not write (a function)."""

    def __init__(self, scale=lambda x: x * 0.5, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return self.scale(x)


def _recorded(model, inputs):
    """The model's record tree and arrays after the kernel called it on each of `inputs`, with its outputs."""
    arrays = []
    tree = evidence.encode(model, arrays)
    outputs = [keras.ops.convert_to_numpy(model(x)) for x in inputs]
    return json.loads(json.dumps(tree)), arrays, outputs  # as the entry's manifest travels


def _model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense"), Halve(name="halve")])


def test_the_judge_replays_a_notebook_layer_and_runs_keras_own_layers_itself():
    model = _model()
    xs = [np.ones((1, 3), "float32"), np.arange(6, dtype="float32").reshape(2, 3)]
    tree, arrays, outputs = _recorded(model, xs)
    assert tree["layer_calls"] == {"halve": [len(arrays) - 2, len(arrays) - 1]}  # the two eager calls, not the build
    rebuilt = evidence.decode(tree, arrays)
    assert [type(layer).__name__ for layer in rebuilt.layers] == ["Dense", "Halve"]
    assert type(rebuilt.layers[1]).__module__ == layer_replay.__name__  # a stand-in: the notebook's code never runs
    for x, want in zip(xs, outputs):
        assert np.allclose(keras.ops.convert_to_numpy(rebuilt(x)), want)
    with pytest.raises(layer_replay.ReplayRunOut, match="called more often"):
        rebuilt(xs[0])


def test_a_layer_whose_outputs_pass_the_budget_stops_its_transcript(monkeypatch):
    monkeypatch.setattr(layer_replay, "MAX_RECORDED_BYTES", 40)  # room for the weights and one output of 1 x 2
    tree, arrays, _ = _recorded(_model(), [np.ones((1, 3), "float32"), np.ones((4, 3), "float32")])
    assert tree["layer_calls"]["halve"][-1] == layer_replay.OVERFLOW
    rebuilt = evidence.decode(tree, arrays)
    rebuilt(np.ones((1, 3), "float32"))
    with pytest.raises(layer_replay.ReplayRunOut, match="too large"):
        rebuilt(np.ones((4, 3), "float32"))


def test_a_malformed_transcript_is_refused():
    config = {"class_name": "Sequential", "config": {"layers": []}}
    for transcripts in ({"halve": [99]}, {"halve": "0"}, ["halve"]):
        with pytest.raises(ValueError, match="malformed layer transcripts"):
            layer_replay.stand_in_classes(config, transcripts, [np.zeros(2)])


def test_a_notebook_layer_with_weights_is_not_replayed():
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    model = keras.Sequential([keras.Input((3,)), Scale(name="scale")])
    assert evidence.encode_or_opaque(model, [])["t"] == "opaque"
