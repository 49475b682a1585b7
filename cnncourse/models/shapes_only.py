"""Build Keras models for their shapes and counts only, without drawing a single weight.

The course builds many networks just to count them (parameter and multiplication tables, the architecture explorer,
EfficientNet's scaling table). Drawing their initial weights is most of the cost, and on JAX by far: each weight
shape compiles its own random-number program, so keras.applications.EfficientNetB0(weights=None) takes about 10 s
on a 2-core CPU with JAX (1 s with TensorFlow), and 0.2 s on either inside shapes_only().

Inside shapes_only(), Keras's own stateless scope defers every variable: layers are built, shapes and
count_params() are exact, but the variables hold no value. Such a model can be measured (layer.output.shape,
count_params, cnncourse.analysis.costs.layer_table), not called, trained or saved.
"""

import contextlib


@contextlib.contextmanager
def shapes_only():
    """A context in which Keras models are built without weight values. Yields nothing.

    On leaving, the deferred variables are dropped from Keras's list of variables to initialise later (a
    private global list, keras.src.backend.common.global_state "uninitialized_variables"), so that no later
    stateless scope, such as one of JAX's training steps, draws the weights of a model built here.
    """
    import keras
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    waiting = list(global_state.get_global_attribute(key, [], set_to_default=True))
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, waiting)
