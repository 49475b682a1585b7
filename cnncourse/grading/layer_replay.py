"""Layers of a class of the notebook's own, inside a model that a student's function hands to a check.

The judge rebuilds a recorded model from its configuration with Keras's own classes only (evidence.py); it does not
run the notebook's code. A layer class that the notebook defines (Chapter 2's augmentation pipeline may hold a
hand-written mirror, a correct answer there) therefore travels as what it DID: in the kernel, each such layer of the
returned model records the outputs of its eager calls, in order (record_calls); in the judge, the model is rebuilt
with a stand-in of that class name in its place (stand_in_classes), whose calls hand back those outputs in the same
order. The check then runs outside the kernel on the student's own outputs, as it does for a recorded function.

Only the layers' base fields travel in the configuration (plain_configs): the stand-in needs no more, and a class
whose own configuration cannot be written (an __init__ argument Keras cannot serialise) still travels.
Classes that the judge builds as the course's twin (evidence.notebook_layer_stand_ins: AlexNet's LRN) are not
recorded: those are graded on their own exercise.
"""

import contextlib

import numpy as np

OVERFLOW = -1  # the last entry of a transcript whose recording stopped: the outputs were too large, or not arrays
MAX_RECORDED_BYTES = 96 * 2**20  # what one record entry may hold once a layer's output is added to it


class ReplayRunOut(BaseException):
    """A replayed layer was called more often than the kernel's layer, or its transcript stopped (OVERFLOW).

    A BaseException, so that a check's `except Exception` around the call does not take it for the student's error.
    """


def own_layers(model, twinned=()):
    """The layers inside `model` (any depth) whose class is neither Keras's own nor one of `twinned` (class names)."""
    return [layer for layer in model._flatten_layers(include_self=False)
            if not (type(layer).__module__ or "").startswith("keras") and type(layer).__name__ not in twinned]


@contextlib.contextmanager
def plain_configs(layers):
    """Within the block, each of `layers` writes only its name and trainable flag as its configuration."""
    for layer in layers:
        layer.get_config = (lambda layer=layer: {"name": layer.name, "trainable": bool(layer.trainable)})
    try:
        yield
    finally:
        for layer in layers:
            del layer.get_config


def _symbolic(value):
    import keras

    return isinstance(value, keras.KerasTensor)


def record_calls(layer, arrays):
    """Make `layer` record its eager calls from now on; returns its transcript.

    Args:
        layer: a Keras layer of the notebook's own class.
        arrays: the record entry's list of arrays; each output is appended to it.
    Returns:
        the transcript: the index in `arrays` of each call's output, in call order; OVERFLOW ends it once the entry's
        arrays would pass MAX_RECORDED_BYTES or an output is not an array (the judge cannot replay later calls).
    """
    import keras

    transcript, run = [], layer.call

    def call(*args, **kwargs):
        outputs = run(*args, **kwargs)
        if (transcript and transcript[-1] == OVERFLOW) or any(_symbolic(v) for v in (*args, *kwargs.values())):
            return outputs
        try:
            array = np.array(keras.ops.convert_to_numpy(outputs), copy=True)
        except Exception:  # noqa: BLE001 -- a traced (symbolic) call of another backend: nothing to replay
            return outputs
        if array.dtype.hasobject or sum(a.nbytes for a in arrays) + array.nbytes > MAX_RECORDED_BYTES:
            transcript.append(OVERFLOW)
        else:
            arrays.append(array)
            transcript.append(len(arrays) - 1)
        return outputs

    layer.call = call
    return transcript


def stand_in_classes(config, transcripts, arrays):
    """{class name: stand-in class} for the layers of `config` (a parsed model configuration) named in `transcripts`
    ({layer name: transcript}): each stand-in layer hands back, call by call, the outputs its transcript points to in
    `arrays`. Those layers' entries in `config` (the judge's own copy) lose the notebook's module name, which the
    stand-in replaces. Raises ValueError for a malformed transcript."""
    import keras

    if not isinstance(transcripts, dict) or not all(
            isinstance(t, list) and all(isinstance(i, int) and (i == OVERFLOW or 0 <= i < len(arrays)) for i in t)
            for t in transcripts.values()):
        raise ValueError("malformed layer transcripts in the record")
    classes, stack = {}, [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
            if isinstance(node.get("class_name"), str) and name in transcripts:
                classes.setdefault(node["class_name"], None)
                node["module"], node["registered_name"] = None, node["class_name"]  # found among the stand-ins
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)

    class ReplayedLayer(keras.layers.Layer):
        """A notebook layer's stand-in: its eager calls return what the kernel's layer returned, in order."""

        def __init__(self, name=None, trainable=True, **ignored):
            super().__init__(name=name, trainable=trainable)
            self._calls = list(transcripts.get(name, []))
            self._next = 0

        def call(self, inputs, training=None):
            if self._next >= len(self._calls) or self._calls[self._next] == OVERFLOW:
                raise ReplayRunOut(f"layer {self.name!r} ({type(self).__name__}) was called more often than the "
                                   f"record shows, or its outputs were too large to record")
            index = self._calls[self._next]
            self._next += 1
            return keras.ops.convert_to_tensor(np.array(arrays[index], copy=True))

        def compute_output_spec(self, inputs, *args, **kwargs):  # a symbolic call: no recorded output to spend
            return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

        def compute_output_shape(self, input_shape):
            return input_shape

    return {class_name: type(class_name, (ReplayedLayer,), {"__module__": __name__}) for class_name in classes}
