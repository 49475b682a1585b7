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


def expect_model(value, what, case=None, rebuildable=True):
    """Fail unless `value` is a keras.Model and, if `rebuildable`, one that the grader can build again from its
    configuration (expect_rebuildable; not for a model that holds a layer class of the notebook's)."""
    import keras

    if not isinstance(value, keras.Model):
        fail(f"{what}: expected a keras.Model, got {type(value).__name__}", case, hint="return the model you built")
    if rebuildable:
        expect_rebuildable(value, what, case)


# Grading rebuilds a student's model from its configuration (model.to_json()) outside the notebook
# (cnncourse.grading.evidence), where no code of the notebook's may run: only Keras's own classes and functions.
UNSAFE_CLASSES = frozenset({"TFSMLayer", "__lambda__"})
REBUILD_HINT = ("build the model from Keras's own layers and operations: call keras.ops on Keras tensors directly "
                "(e.g. ops.abs(x)), or wrap a keras.ops function itself (layers.Lambda(ops.abs)), but no Python "
                "lambda or function of your own in layers.Lambda, and no layer class of your own")


def _lambda_op(node):
    """The keras.ops function a Lambda layer's configuration names (its "function": a function by name, of no
    module but Keras's or builtins, with no output_shape or mask function), or None when it names anything else."""
    from keras import ops

    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    function = config.get("function")
    if not (isinstance(function, dict) and function.get("class_name") == "function"):
        return None
    name, module = function.get("config"), function.get("module")
    if not (isinstance(name, str) and isinstance(module, str) and (module in ("builtins", "keras")
                                                                  or module.startswith("keras."))):
        return None
    if any(isinstance(config.get(key), dict) for key in ("output_shape", "mask")):
        return None
    op = getattr(ops, name, None) if not name.startswith("_") else None
    return op if callable(op) else None


def unsafe_in_config(config):
    """Why the model configuration `config` (a dict parsed from model.to_json()) cannot be rebuilt safely, or None.

    Every object in it that names a class (a dict with "class_name") must come from a module of Keras, or name no
    module (Keras's own tensors, tuples, dtypes); none may be a Lambda layer (its function would run in the grader's
    process: a Python lambda is code, and Keras cannot even locate most named functions again) or an object
    registered by the notebook.
    """
    stack = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > 256:
            return "its configuration is nested too deep"
        if isinstance(node, dict):
            name, module = node.get("class_name"), node.get("module")
            if name == "Lambda":
                if _lambda_op(node) is None:
                    return ("it holds a Lambda layer whose function is not a keras.ops function: the grader does "
                            "not run the notebook's own code")
                node = {**node, "config": {k: v for k, v in node["config"].items() if k != "function"}}
            if name is not None:
                if not isinstance(name, str) or name in UNSAFE_CLASSES:
                    return f"it holds a {name!r}, which the grader does not build (it would run the notebook's code)"
                if module is not None and not (isinstance(module, str) and (module == "keras" or
                                                                            module.startswith("keras."))):
                    return f"it holds a {name!r} of module {module!r}: the grader builds only Keras's own classes"
                registered = node.get("registered_name")
                if isinstance(registered, str) and ">" in registered:
                    return f"it holds {registered!r}, an object registered by the notebook"
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    return None


def rebuild_model(config, stand_ins=None):
    """The keras.Model of `config` (parsed JSON of model.to_json()) with fresh weights, built in Keras's safe mode.

    stand_ins: {class name: class} for layer classes that a notebook defines and the grader builds as the course's
        own class of that name (grading/evidence.py, NOTEBOOK_LAYER_STAND_INS); None: Keras's own classes only.
    Raises ValueError saying why when unsafe_in_config refuses it or Keras cannot build it.
    """
    import keras
    from keras.src.saving import serialization_lib

    reason = unsafe_in_config(config)
    if reason:
        raise ValueError(reason)
    ops = dict(stand_ins or {})  # and the keras.ops functions that Lambda layers name, which Keras cannot find itself
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                ops[node["config"]["function"]["config"]] = _lambda_op(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    try:
        with serialization_lib.SafeModeScope(True):
            model = serialization_lib.deserialize_keras_object(config, custom_objects=ops, safe_mode=True)
    except Exception as err:  # noqa: BLE001 -- Keras raises many kinds for a config it cannot build
        raise ValueError(f"Keras cannot build it again from its configuration ({type(err).__name__}: "
                         f"{str(err).strip().splitlines()[0][:200] if str(err).strip() else ''})") from None
    if not isinstance(model, keras.Model):
        raise ValueError(f"its configuration is a {type(model).__name__}, not a Keras model")
    return model


REBUILT = "_cnncourse_rebuilt"  # set by the grader on a model it rebuilt: the rule held, no need to build it again
REBUILD_PARAMS = 2_000_000  # larger models: the rule only (building ResNet-50 again costs seconds per check call)


def expect_rebuildable(model, what, case=None):
    """Fail, saying why, unless `model` can be rebuilt from its configuration as the grader does (rebuild_model).

    Models of more than REBUILD_PARAMS parameters are held to the rule (unsafe_in_config) without being built again.
    A model the grader rebuilt itself (marked REBUILT) passes: a student's kernel that sets the mark skips only this
    message, not the grader's own rule."""
    import json

    if getattr(model, REBUILT, False):
        return
    try:
        config = json.loads(model.to_json())
        if model.count_params() > REBUILD_PARAMS:
            reason = unsafe_in_config(config)
            if reason:
                raise ValueError(reason)
            return
        rebuild_model(config)
    except Exception as err:  # noqa: BLE001 -- to_json of a layer class of the notebook's, or rebuild_model's reason
        fail(f"{what}: the model must be one that the grader can build again from its configuration, outside the "
             f"notebook, and this one is not: {err}", case, hint=REBUILD_HINT)


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
    """Fail unless `model` and `reference` (same layer names) give the same outputs with the same random weights,
    in inference mode (expect_same_behaviour with its defaults)."""
    expect_same_behaviour(model, reference, what, case, seed=seed, rtol=rtol, atol=atol, hint=hint)


def build_model(builder, what, args, case=None, hint=None, rebuildable=True):
    """builder(*args), which must return a keras.Model (rebuildable: see expect_model); an exception or another type
    is a CheckFailed."""
    try:
        model = builder(*args)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong, not a Keras stack trace
        fail(f"{what}{tuple(args)} raised {type(err).__name__}: {err}", case, hint)
    expect_model(model, what, case, rebuildable)
    return model


# --- the graph: activations and wiring ---------------------------------------------------------------

ACTIVATION_CLASSES = ("Activation", "ReLU", "Softmax", "ELU", "LeakyReLU")
COMMUTATIVE_CLASSES = ("Add", "Multiply", "Average", "Maximum", "Minimum")  # their inputs' order does not matter
CONFIG_KEYS = ("strides", "padding", "dilation_rate", "kernel_size", "pool_size", "depth_multiplier", "use_bias",
               "axis", "epsilon", "momentum", "center", "scale", "rate")


def activation_of(layer):
    """The function `layer` applies after its own operation: "relu", "relu6", "tanh", "softmax"...; None when none.

    A ReLU layer and Activation("relu") both give "relu"; ReLU(6.0) and Activation("relu6") both give "relu6".
    """
    import keras

    if isinstance(layer, keras.layers.ReLU):
        if float(layer.negative_slope) or float(layer.threshold):
            return f"relu(negative_slope={layer.negative_slope}, threshold={layer.threshold})"
        if layer.max_value is None:
            return "relu"
        return "relu6" if float(layer.max_value) == 6.0 else f"relu(max_value={layer.max_value})"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    name = getattr(function, "__name__", type(function).__name__)
    return None if name == "linear" else name


def kind_rows(rows, model):
    """`rows` of layer_rows(model) with the class of every activation layer written "Activation".

    Activation("relu") and ReLU() are one kind of layer; which function it applies is compared by expect_same_graph.
    """
    classes = {layer.name: type(layer).__name__ for layer in model.layers}
    return [(name, "Activation" if classes.get(name) in ACTIVATION_CLASSES else kind, *rest)
            for name, kind, *rest in rows]


def inbound_names(layer):
    """Names of the layers whose outputs `layer` takes (inputs written "<input>"), in the order of its call."""
    import keras

    names = []
    for node in layer._inbound_nodes[:1]:
        for tensor in node.input_tensors:
            source = tensor._keras_history.operation
            names.append("<input>" if isinstance(source, keras.layers.InputLayer) else source.name)
    return names


def graph_rows(model):
    """{layer name: (activation, inbound layer names)} of `model`; inputs of Add-like layers sorted."""
    import keras

    rows = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inbound = inbound_names(layer)
        if type(layer).__name__ in COMMUTATIVE_CLASSES:
            inbound = sorted(inbound)
        rows[layer.name] = (activation_of(layer), inbound)
    return rows


def expect_same_graph(model, reference, what, case=None, hints=None):
    """Fail at the first layer of `reference` whose activation or inputs differ in `model` (layers matched by name).

    Args:
        hints: optional {name suffix: hint}: a failure at a layer whose name ends with the suffix gets that hint.
    Run it after expect_same_rows (the names are then known to match).
    """
    got, want = graph_rows(model), graph_rows(reference)

    def hint_for(name):
        return next((h for suffix, h in (hints or {}).items() if name.endswith(suffix)), None)

    for name, (activation, inbound) in want.items():
        if name not in got:
            fail(f"{what}: no layer named {name!r}", case, hint_for(name))
        g_activation, g_inbound = got[name]
        if g_activation != activation:
            fail(f"{what}: layer {name!r} applies {activation or 'no activation'}, yours applies "
                 f"{g_activation or 'no activation'}", case, hint_for(name))
        if g_inbound != inbound:
            fail(f"{what}: layer {name!r} takes the output of {inbound}, yours takes {g_inbound}", case,
                 hint_for(name))


def config_difference(model, reference):
    """The first setting (stride, padding, epsilon, axis...) in which a layer of `model` differs from the layer of
    the same name in `reference`, as a sentence; None when none does. A hint for outputs that differ."""
    for layer in reference.layers:
        try:
            other = model.get_layer(layer.name)
        except ValueError:
            continue
        want, got = layer.get_config(), other.get_config()
        for key in CONFIG_KEYS:
            if key in want and got.get(key) != want[key]:
                return f"layer {layer.name!r} has {key}={got.get(key)!r}, the reference's has {key}={want[key]!r}"
    return None


def _outputs(model, x, training, what, case):
    try:
        return [np.asarray(y) for y in _as_list(model(x, training=training))]
    except Exception as err:  # noqa: BLE001 - a model that cannot run is a failed check, with its reason
        fail(f"{what}: calling the model on a batch of shape {x.shape} raised {type(err).__name__}: {err}", case)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def expect_same_behaviour(model, reference, what, case=None, seed=0, rtol=1e-4, atol=1e-4, hint=None,
                          training=(False,), outputs=None):
    """Fail unless `model` and `reference` compute the same, with the same random weights (copied by layer name).

    Args:
        training: the modes to compare in: False (inference: BN's moving statistics, no dropout), True (training:
            BN's batch statistics; leave it out for models with dropout, whose masks are random).
        outputs: names of layers whose outputs are compared, in order, before the model's own output; the first that
            differs is the one reported (it says where the computation starts to differ).
    When the outputs differ and a layer's settings (config_difference) differ from the reference's, that is the hint.
    """
    import keras

    randomise_weights([reference, model], seed)
    x = np.random.default_rng(seed + 1).standard_normal((2, *reference.inputs[0].shape[1:])).astype("float32")
    names = list(outputs or [])
    if names:
        probes = []
        for m in (reference, model):
            try:
                inputs = m.inputs[0] if len(m.inputs) == 1 else m.inputs
                probes.append(keras.Model(inputs, [m.get_layer(n).output for n in names] + _as_list(m.outputs)))
            except ValueError as err:
                fail(f"{what}: cannot read the outputs of the layers {names} ({err})", case, hint)
        reference, model = probes
    names.append("the model's output")
    for mode in training:
        wants = _outputs(reference, x, mode, what, case)
        gots = _outputs(model, x, mode, what, case)
        for name, want, got in zip(names, wants, gots):
            where = f"{what}, {name}, {'training' if mode else 'inference'} mode"
            if got.shape != want.shape:
                fail(f"{where}: output shape {got.shape[1:]}, expected {want.shape[1:]}", case, hint)
            bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
            if bad.any():
                index = tuple(int(i) for i in np.argwhere(bad)[0])
                fail(f"{where}: with the same weights as the reference, {int(bad.sum())} of {bad.size} values "
                     f"differ; first at {index}: expected {want[index]:.5g}, got {got[index]:.5g}", case,
                     config_difference(model, reference) or hint)
