"""Comparing Keras models layer by layer, for the checks of the network chapters.

A model is described as rows (name, layer class, output shape without the batch axis, parameters), input layers
left out. Two models agree when they have the same rows, matched by layer name; the first row that differs is what
the student reads.
"""

import numpy as np

from cnncourse.checks.core import fail


def layer_rows(model):
    """list of (name, class name, output shape tuple, parameter count) of `model`'s layers, inputs left out."""
    import keras

    return [
        (layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]


def expect_model(value, what, case=None):
    """Fail unless `value` is a keras.Model."""
    import keras

    if not isinstance(value, keras.Model):
        fail(f"{what}: expected a keras.Model, got {type(value).__name__}", case, hint="return the model you built")


def expect_same_rows(got, want, what, case=None, hint=None):
    """Fail at the first layer of `want` (in its order) that `got` lacks or describes differently, or on extra layers.

    Layers are matched by name, so the order in which a student created parallel branches does not matter.
    Args:
        got, want: lists of (name, class, shape, params) rows as made by layer_rows (want may be a closed-form table).
    """
    by_name = {row[0]: row for row in got}
    for k, w in enumerate(want):
        g = by_name.get(w[0])
        if g is None:
            fail(f"{what}: no layer named {w[0]!r} (expected {w[1]} with output shape {w[2]} and {w[3]:,} parameters, "
                 f"layer {k + 1} of {len(want)}); your layers are {[r[0] for r in got][:12]}...", case, hint)
        if g != w:
            fail(f"{what}: layer {w[0]!r}: expected {w[1]} with output shape {w[2]} and {w[3]:,} parameters, "
                 f"got {g[1]} with output shape {g[2]} and {g[3]:,} parameters", case, hint)
    extra = [row[0] for row in got if row[0] not in {w[0] for w in want}]
    if extra:
        fail(f"{what}: layers that should not be there: {extra[:5]}", case, hint)


def randomise_weights(models, seed):
    """Give the layers of the same name in every model the same random weights; return nothing.

    BatchNormalization variances get values in [0.5, 1.5] so that inference-mode outputs are well scaled.
    The first model decides the names and shapes; a missing layer or a shape mismatch is a CheckFailed.
    """
    rng = np.random.default_rng(seed)
    first, *others = models
    for layer in first.layers:
        weights = []
        for variable in layer.weights:
            shape = tuple(variable.shape)
            if "variance" in variable.path:
                weights.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                weights.append((rng.standard_normal(shape) * 0.3).astype("float32"))
        if not weights:
            continue
        layer.set_weights(weights)
        for other in others:
            try:
                other.get_layer(layer.name).set_weights(weights)
            except ValueError as err:
                fail(f"layer {layer.name!r}: cannot take the weights of Keras's own layer of that name ({err})",
                     hint="use the layer names and filter counts of the docstring")


def expect_same_outputs(model, reference, what, case=None, seed=0, rtol=1e-4, atol=1e-4, hint=None):
    """Fail unless `model` and `reference` (same layer names) give the same outputs with the same random weights."""
    randomise_weights([reference, model], seed)
    x = np.random.default_rng(seed + 1).standard_normal((2, *reference.inputs[0].shape[1:])).astype("float32")
    want = np.asarray(reference(x, training=False))
    got = np.asarray(model(x, training=False))
    if got.shape != want.shape:
        fail(f"{what}: output shape {got.shape[1:]}, expected {want.shape[1:]}", case, hint)
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(f"{what}: with the same weights as Keras's own, {int(bad.sum())} of {bad.size} output values differ; "
             f"first at {index}: expected {want[index]:.5g}, got {got[index]:.5g}", case, hint)
