"""What a grading kernel records of its checks, so that the verdict can be reached outside the kernel (judge.py).

A check (public_* / hidden_* of cnncourse.checks) runs in the student's kernel, where the student's code can replace
it, numpy, builtins or anything else. So during grading the sandboxed kernel (sandbox.py) calls `install(folder)`:
every check, as its module is imported, is wrapped so that each top-level call writes one ENTRY file to `folder`:

- which check ran, in which grade cell (the SHA-256 of the cell's source) and as that cell's how-many-th check call,
  and the digest of the checks package the kernel ran (`checks_digest`);
- for each argument: its data (arrays, numbers, strings, tuples, lists, dicts), or, for a function (the student's),
  the TRANSCRIPT of every call the check made to it: what it returned (encoded the same way) or what it raised.

The judge then runs the grade cell's own source again in the grader's process, where the student's names stand
for their recorded data and transcripts, and takes that verdict. Nothing in an entry is trusted: a forged entry can
only claim outputs, and outputs that pass are outputs a correct function computes.

Entry files are .npz archives read with allow_pickle=False: the arrays, plus one JSON manifest (a 0-d unicode array).
A Keras model is recorded as its configuration (JSON) and, up to MAX_MODEL_WEIGHTS parameters, its weights; the judge
builds it again (larger models get fresh weights: their checks must not depend on the student's weights), in
Keras's safe mode and from Keras's own classes only (checks.architecture.rebuild_model, whose rule the checks
of models tell the student): no Lambda layer, no class of the notebook's.
What a student's function returns is recorded against the arguments the check handed it (encode_returned):
- a block (called with Keras tensors, returning Keras tensors) travels as the functional model from those input
  tensors to the returned ones, a KERAS GRAPH; the judge applies copies of its layers, with the recorded weights,
  to its own input tensors (so its layers join the check's graph as the block's layers joined the kernel's);
- a model built around a model or layer the check handed in (a given encoder) names that layer, and the judge puts
  its own object in its place;
- an object made by a CLASS handed to a check (a layer class of the notebook's) travels as the transcript of the
  check's calls to that object (an INSTANCE transcript): the check is handed a recording stand-in for it.
Any other value that is not data (a layer, a symbolic tensor made otherwise, a model of the notebook's own layer
classes) is recorded as OPAQUE with its type.
"""

import functools
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from cnncourse.grading import layer_replay
from cnncourse.grading.import_hooks import CHECKS_PACKAGE, on_checks_import
CHECK_PREFIXES = ("public_", "hidden_")
ENTRY_SUFFIX = ".npz"
MAX_ENTRY_BYTES = 256 * 2**20  # larger entries are refused when read: a transcript is a few MB at most
MAX_DEPTH = 32  # nesting of containers in one value
MAX_MODEL_WEIGHTS = 2_000_000  # parameters of a model whose weights are recorded (larger ones: fresh weights)
KEY_PREFIX = 20  # characters of the cell key that start an entry's file name


class Opaque(Exception):
    """A value that the codec cannot write as plain data (its type is kept for the message)."""


def cell_key(source):
    """The key of a grade cell: SHA-256 of its source text (str), as hex."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def checks_digest():
    """SHA-256 (hex) of the source files of the cnncourse.checks package, as this process imports them.

    Every entry carries it, and the judge compares it with its own: a kernel that ran other checks than the grader's
    (a grader whose installation changed mid-run, a worktree whose kernels import another copy) makes calls in
    another order, and its record would otherwise read as a wrong answer.
    """
    import cnncourse.checks

    digest = hashlib.sha256()
    for path in sorted(Path(cnncourse.checks.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# --- codec: values <-> (JSON tree, arrays) ---------------------------------------------------------------------

def _is_symbolic(value):
    """True for a Keras symbolic tensor (keras.KerasTensor): what a block is called with and returns."""
    return type(value).__name__ == "KerasTensor" and (type(value).__module__ or "").startswith("keras")


def _is_keras_layer(value):
    """True for a Keras layer or model object (what a check may hand a student's function to build around)."""
    return (type(value).__module__ or "").startswith("keras") and hasattr(value, "get_config") and \
        hasattr(value, "weights") and hasattr(value, "name")


class _Graph:
    """What encode needs to record values built on a call's own arguments: {id: argument key} of its Keras layers,
    and the symbolic tensors met in the returned value (appended as found; a tree names them by position)."""

    def __init__(self, layers=None):
        self.layers, self.outputs = dict(layers or {}), []


def encode(value, arrays, depth=0, graph=None):
    """A JSON-able tree for `value`; its arrays are appended to `arrays` (list). Raises Opaque for anything else.

    Handles None, bool, int, float, complex, str, numpy scalars and arrays (not of object dtype), tuples, lists,
    dicts with str keys, and eager tensors (TensorFlow, JAX: anything with .numpy() or __array__ that is not
    symbolic), which come back as TensorFlow tensors when TensorFlow made them; Keras models (see _encode_model).
    graph (a _Graph, from encode_returned): symbolic tensors are then collected in graph.outputs, and a model's
    layers that are the call's arguments are named as such.
    """
    if depth > MAX_DEPTH:
        raise Opaque("a value nested too deep")
    if value is None or isinstance(value, (bool, str)):
        return {"t": "py", "v": value}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, complex):
        return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise Opaque("a numpy array of objects")
        arrays.append(np.array(array, copy=True))
        return {"t": "ndarray" if isinstance(value, np.ndarray) else "npscalar", "a": len(arrays) - 1}
    if isinstance(value, (tuple, list)):
        return {"t": type(value).__name__, "v": [encode(v, arrays, depth + 1, graph) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Opaque("a dict whose keys are not all strings")
        return {"t": "dict", "k": list(value), "v": [encode(v, arrays, depth + 1, graph) for v in value.values()]}
    if graph is not None and _is_symbolic(value):
        graph.outputs.append(value)
        return {"t": "symbolic", "o": len(graph.outputs) - 1}
    module = type(value).__module__ or ""
    if module.startswith("keras") and hasattr(value, "to_json") and hasattr(value, "layers"):
        return _encode_model(value, arrays, graph)
    if module.startswith(("tensorflow", "jax", "jaxlib")) and hasattr(value, "numpy") or module.startswith("jax"):
        try:
            array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        except Exception as err:  # noqa: BLE001 -- a symbolic tensor has no value
            raise Opaque(f"a {type(value).__name__} without a value ({type(err).__name__})") from None
        arrays.append(array)
        return {"t": "tensor" if module.startswith("tensorflow") else "ndarray", "a": len(arrays) - 1}
    raise Opaque(f"a {module}.{type(value).__name__}".lstrip("."))


def _encode_model(model, arrays, graph=None):
    """A model travels as its configuration, and its weights when small: the judge builds it again.

    Layers of the model that are arguments of the call (graph.layers) are named in "substitutes": the judge puts
    the object it handed in their place. Layers of a class of the notebook's own travel as the transcript of their
    calls ("layer_calls", filled as the check calls them: layer_replay.py).
    """
    own = layer_replay.own_layers(model, notebook_layer_stand_ins())
    if any(layer.weights for layer in own):
        raise Opaque("a Keras model holding a layer of the notebook's own class with weights")
    try:
        with layer_replay.plain_configs(own):
            tree = {"t": "keras_model", "config": model.to_json(), "weights": None}
        # an unbuilt model (a Sequential of preprocessing layers without an Input) holds no weights yet
        if not model.built or model.count_params() <= MAX_MODEL_WEIGHTS:  # a check may read trained or copied weights
            weights = model.get_weights()
            arrays.extend(np.array(w, copy=True) for w in weights)
            tree["weights"] = list(range(len(arrays) - len(weights), len(arrays)))
    except Exception as err:  # noqa: BLE001 -- a layer of the notebook's own class, a Lambda, ...
        raise Opaque(f"a Keras model whose configuration cannot be written ({type(err).__name__})") from None
    if own:
        tree["layer_calls"] = {layer.name: layer_replay.record_calls(layer, arrays) for layer in own}
    if graph is not None and graph.layers:
        substitutes = {layer.name: graph.layers[id(layer)] for layer in model.layers if id(layer) in graph.layers}
        if substitutes:
            tree["substitutes"] = substitutes
    return tree


def _argument_layers(arguments):
    """{id(layer): key} of the call's Keras layer arguments ("0", "encoder", ...) and of the layers inside those
    that are models ("0/conv1": a model built on backbone.input and backbone.output holds the backbone's layers, not
    the backbone)."""
    found = {}
    for key, value in arguments:
        if _is_keras_layer(value):
            found[id(value)] = key
            for inner in getattr(value, "layers", None) or []:
                found.setdefault(id(inner), f"{key}/{inner.name}")
    return found


def encode_returned(result, args, kwargs, arrays):
    """encode_or_opaque of what a student's function returned when called with (args, kwargs) by a check.

    Keras tensors returned by a block called with Keras tensors become a "keras_graph": the functional model from
    the call's symbolic arguments (by key, see call_arguments) to the returned tensors, and the returned value's tree
    with each tensor named by its position among the model's outputs. A returned model that holds a layer or model
    the call was handed names it (see _encode_model).
    """
    arguments = call_arguments(args, kwargs)
    symbolic = [(key, value) for key, value in arguments if _is_symbolic(value)]
    graph = _Graph(_argument_layers(arguments))
    mark = len(arrays)
    try:
        tree = encode(result, arrays, graph=graph)
        if not graph.outputs:
            return tree
        if not symbolic:
            raise Opaque("Keras tensors that are not built on the call's arguments")
        import keras

        try:
            model = keras.Model([value for _, value in symbolic], list(graph.outputs))
        except Exception as err:  # noqa: BLE001 -- outputs not reachable from the inputs alone
            raise Opaque(f"Keras tensors that are not a graph of the call's Keras tensors ({type(err).__name__})") \
                from None
        return {"t": "keras_graph", "inputs": [key for key, _ in symbolic], "model": _encode_model(model, arrays),
                "value": tree}
    except Opaque as err:
        del arrays[mark:]
        return {"t": "opaque", "type": str(err)}


def decode(tree, arrays, depth=0, call=None):
    """The value that `encode` wrote as `tree` (arrays: the list or archive of arrays). Raises ValueError if malformed."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise ValueError("malformed value in the record")
    kind = tree.get("t")
    if kind == "py":
        if not (tree["v"] is None or isinstance(tree["v"], (bool, str))):
            raise ValueError("malformed plain value in the record")
        return tree["v"]
    if kind == "int":
        return int(tree["v"])
    if kind == "float":
        return float(tree["v"])
    if kind == "complex":
        return complex(float(tree["v"][0]), float(tree["v"][1]))
    if kind in ("ndarray", "npscalar", "tensor"):
        array = np.array(arrays[int(tree["a"])], copy=True)  # a fresh copy: a check may write into what it gets
        if kind == "npscalar":
            return array[()]
        if kind == "tensor":
            import tensorflow as tf

            return tf.constant(array)
        return array
    if kind == "keras_model":
        model = _model_with_weights(tree, arrays)
        substitutes = tree.get("substitutes")
        if substitutes is None:
            return model
        if not isinstance(substitutes, dict) or call is None:
            raise ValueError("malformed substitutes in the record")
        replaced = {}
        for name, key in substitutes.items():
            argument, _, inner = str(key).partition("/") if isinstance(key, str) else (None, "", "")
            layer = call.get(argument) if _is_keras_layer(call.get(argument)) else None
            if layer is not None and inner:  # a layer inside a model argument, by name
                layer = next((found for found in getattr(layer, "layers", None) or [] if found.name == inner), None)
            if layer is None:
                raise ValueError(f"the record puts argument {key!r} in the model, which is not a layer of the call")
            replaced[str(name)] = layer
        import keras

        inputs = [keras.Input(batch_shape=tuple(x.shape), dtype=x.dtype, name=x.name) for x in model.inputs]
        rebuilt = keras.Model(inputs, _replayed_graph(model, inputs, replaced), name=model.name)
        from cnncourse.checks.architecture import REBUILT

        setattr(rebuilt, REBUILT, True)
        return rebuilt
    if kind == "keras_graph":
        if call is None or not isinstance(tree.get("inputs"), list) or not isinstance(tree.get("model"), dict):
            raise ValueError("malformed Keras graph in the record")
        inputs = [call.get(key) if isinstance(key, str) else None for key in tree["inputs"]]
        if not all(_is_symbolic(x) for x in inputs):
            raise ValueError("the record takes a Keras graph's inputs from arguments that are not Keras tensors")
        model = _model_with_weights(tree["model"], arrays)
        if "substitutes" in tree["model"] or len(model.inputs) != len(inputs):
            raise ValueError("the recorded Keras graph does not fit the call's arguments")
        outputs = _replayed_graph(model, inputs)
        return _decode_symbolic(tree.get("value"), outputs, depth)
    if kind in ("tuple", "list"):
        items = [decode(v, arrays, depth + 1, call) for v in tree["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        if len(tree["k"]) != len(tree["v"]) or not all(isinstance(k, str) for k in tree["k"]):
            raise ValueError("malformed dict in the record")
        return {k: decode(v, arrays, depth + 1, call) for k, v in zip(tree["k"], tree["v"])}
    raise ValueError(f"unknown kind of value in the record: {kind!r}")


def _decode_symbolic(tree, outputs, depth):
    """The returned value of a Keras graph: its tree (tuples, lists, dicts of "symbolic") with the judge's tensors."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise ValueError("malformed value in the record")
    kind = tree.get("t")
    if kind == "symbolic":
        index = tree.get("o")
        if not isinstance(index, int) or not 0 <= index < len(outputs):
            raise ValueError("the record names an output its Keras graph does not have")
        return outputs[index]
    if kind in ("tuple", "list") and isinstance(tree.get("v"), list):
        items = [_decode_symbolic(v, outputs, depth + 1) for v in tree["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "py" and tree.get("v") is None:
        return None
    raise ValueError("the record returns from a Keras graph something other than its tensors")


def _model_with_weights(tree, arrays):
    """The model of a "keras_model" tree: rebuilt from its configuration, with its recorded weights if any, and its
    layers of the notebook's own classes replaced by stand-ins that replay their recorded calls."""
    model = _rebuilt_model(tree.get("config"), tree.get("layer_calls"), arrays)
    if tree.get("weights") is not None:
        try:
            model.set_weights([np.asarray(arrays[int(i)]) for i in tree["weights"]])
        except Exception as err:  # noqa: BLE001 -- weights that do not fit the configuration
            raise ValueError(f"the recorded weights do not fit the recorded model ({str(err)[:200]})") from None
    return model


def _copied_layer(layer):
    """A new layer of `layer`'s class and configuration (fresh weights). A Lambda layer of the rebuilt model holds the
    keras.ops function that rebuild_model resolved: its copy gets that same function back by name."""
    import keras

    function = getattr(layer, "function", None) if isinstance(layer, keras.layers.Lambda) else None
    known = {function.__name__: function} if callable(function) and hasattr(function, "__name__") else {}
    with keras.saving.CustomObjectScope(known):
        return type(layer).from_config(layer.get_config())


def _replayed_graph(model, inputs, replaced=None):
    """model's graph applied to `inputs` (the judge's tensors) with copies of its layers, holding its weights.

    Copies, not the rebuilt model's own layers: a layer called on the judge's tensors as well would have two
    inbound nodes, and a check that reads a layer's input or output would read the rebuilt model's. Layers named in
    `replaced` ({name: object}) are not copied: that object (the check's own) is called instead. Returns the list of
    output tensors.
    """
    replaced, copies = replaced or {}, {}

    def operation(layer):
        if layer.name in replaced:
            return replaced[layer.name]
        if id(layer) not in copies:
            copies[id(layer)] = (layer, _copied_layer(layer))
        return copies[id(layer)][1]

    graph = model if hasattr(model, "_run_through_graph") else getattr(model, "_functional", None)  # a Sequential's
    try:
        outputs = graph._run_through_graph(list(inputs), operation_fn=operation)
        for layer, copy in copies.values():
            if getattr(layer, "weights", None):  # a keras.ops operation in the graph has none
                copy.set_weights(layer.get_weights())
    except Exception as err:  # noqa: BLE001 -- a graph that does not fit the judge's tensors or objects
        raise ValueError(f"the recorded Keras graph cannot be applied to the check's tensors "
                         f"({type(err).__name__}: {str(err)[:200]})") from None
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


@functools.lru_cache(maxsize=1)
def notebook_layer_stand_ins():
    """{class name: class}: the layer classes a graded notebook defines, which the judge builds as the course's twin.

    Chapter 2's AlexNet holds the notebook's own LocalResponseNormalization class, which the grader does not run. Its
    record names the class and its constructor's numbers (Keras writes them into the configuration), and the judge
    builds the course's independent twin (cnncourse.models.twins.LocalResponseNorm) under the same name. That grades
    AlexNet on its wiring, as the kernel's check does with the student's own class on both sides (one mistake, one
    loss): the class itself is graded by its own exercise, which stays the kernel's (judge.OPAQUE_CHECKS).
    """
    from cnncourse.models.twins import LocalResponseNorm

    twin = type("LocalResponseNormalization", (LocalResponseNorm,),
                {"__doc__": "The judge's stand-in for a notebook's LocalResponseNormalization class.",
                 "__module__": __name__})
    return {"LocalResponseNormalization": twin}


class Unbuildable(ValueError):
    """A recorded Keras model configuration that Keras cannot build again (unknown layer class, bad config)."""


def _rebuilt_model(config, transcripts=None, arrays=()):
    """The Keras model of a recorded configuration, with fresh weights: only Keras's own classes, in Keras's safe mode
    (cnncourse.checks.architecture.rebuild_model: the rule the checks tell the student about), the course's twins
    (notebook_layer_stand_ins) and, for the layers named in `transcripts`, stand-ins that replay them from `arrays`."""
    from cnncourse.checks.architecture import REBUILT, rebuild_model

    if not isinstance(config, str) or len(config) > 2**22:
        raise ValueError("malformed model configuration in the record")
    try:
        parsed = json.loads(config)
    except ValueError:
        raise ValueError("malformed model configuration in the record") from None
    stand_ins = dict(notebook_layer_stand_ins())
    if transcripts is not None:
        stand_ins.update(layer_replay.stand_in_classes(parsed, transcripts, arrays))
    try:
        model = rebuild_model(parsed, stand_ins)
    except ValueError as err:
        raise Unbuildable(f"the recorded model cannot be built again: {err}") from None
    if not transcripts:  # its checks need not test again that it can be rebuilt; one of replayed layers cannot be
        setattr(model, REBUILT, True)  # (a check that asks for Keras's own classes fails it here as in the kernel)
    return model


def encode_or_opaque(value, arrays):
    """encode(value), or {"t": "opaque", "type": ...} when it is not data."""
    mark = len(arrays)
    try:
        return encode(value, arrays)
    except Opaque as err:
        del arrays[mark:]
        return {"t": "opaque", "type": str(err)}


def write_entry(path, manifest, arrays):
    """Write one entry (manifest: JSON-able dict; arrays: list of numpy arrays) to `path` atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, manifest=np.array(json.dumps(manifest)), **{f"a{i}": a for i, a in enumerate(arrays)})
    tmp = Path(str(path) + ".part")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def read_entry(path):
    """(manifest dict, arrays list) of an entry file. Raises ValueError for anything that is not a well-formed entry."""
    path = Path(path)
    if path.stat().st_size > MAX_ENTRY_BYTES:
        raise ValueError(f"{path.name}: larger than {MAX_ENTRY_BYTES} bytes")
    try:
        with np.load(path, allow_pickle=False) as archive:
            manifest = json.loads(str(archive["manifest"][()]))
            arrays = [archive[f"a{i}"] for i in range(len(archive.files) - 1)]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{path.name}: not a readable record ({type(err).__name__}: {err})") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path.name}: the manifest is not an object")
    return manifest, arrays


# --- the kernel's side: record every top-level check call ---------------------------------------------------------

class _Recorder:
    """Per-kernel state: the folder, the grade cell being run, the count of check calls in it, the nesting depth."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cell, self.calls, self.depth = cell_key(""), 0, 0

    def start_cell(self, source):
        self.cell, self.calls = cell_key(source), 0


class RecordingFunction:
    """Stands for a function handed to a check: calls it and adds each outcome to the entry's transcript."""

    def __init__(self, function, transcript):
        self.__wrapped__ = function
        self._transcript = transcript
        functools.update_wrapper(self, function, updated=())

    def __call__(self, *args, **kwargs):
        before = {key: _fingerprint(value) for key, value in call_arguments(args, kwargs)}
        flags = {key: trainable_flags(value) for key, value in call_arguments(args, kwargs) if _is_keras_layer(value)}
        try:
            result = self.__wrapped__(*args, **kwargs)
        except BaseException as err:
            self._transcript.append({"raised": [c.__name__ for c in type(err).__mro__], "message": str(err)[:2000],
                                     "effects": self._effects(args, kwargs, before, flags)})
            raise
        if isinstance(self.__wrapped__, type) and isinstance(result, self.__wrapped__) and callable(result):
            # a class handed to a check (Chapter 2's LRN layer): the object it made is what the check calls next,
            # so the check gets a recording stand-in for it, whose calls are this call's INSTANCE transcript
            calls = _Transcript(self._transcript.arrays)
            self._transcript.append({"returned": {"t": "instance", "calls": calls},
                                     "effects": self._effects(args, kwargs, before, flags)})
            return RecordingFunction(result, calls)
        self._transcript.append({"returned": encode_returned(result, args, kwargs, self._transcript.arrays),
                                 "effects": self._effects(args, kwargs, before, flags)})
        return result

    def _effects(self, args, kwargs, before, flags):
        """{argument: its new value} for the arrays and variables the call changed in place (the index of the new
        contents in the entry's arrays), and {argument: {"trainable": trainable_flags}} for the Keras layers and models
        whose trainable flags it changed (a backbone frozen or unfrozen for transfer learning)."""
        arrays, effects = self._transcript.arrays, {}
        for key, value in call_arguments(args, kwargs):
            if before.get(key) is not None and _fingerprint(value) != before[key]:
                arrays.append(np.array(_contents(value), copy=True))
                effects[key] = len(arrays) - 1
            elif key in flags and trainable_flags(value) != flags[key]:
                effects[key] = {"trainable": trainable_flags(value)}
        return effects

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


def trainable_flags(layer):
    """[[name, trainable], ...] of a Keras layer or model and of every layer inside it, the layer itself first."""
    return [[str(inner.name), bool(inner.trainable)] for inner in layer._flatten_layers(include_self=True)]


def call_arguments(args, kwargs):
    """(key, value) of a call's arguments: "0", "1", ... for positional ones, the name for keyword ones."""
    return [(str(i), v) for i, v in enumerate(args)] + list(kwargs.items())


def _contents(value):
    """The array an argument holds, when a call can change it in place (a numpy array, a Keras or TF variable)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "assign") and hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return None


def _fingerprint(value):
    """A digest of an argument's contents, or None for one a call cannot change in place."""
    contents = _contents(value)
    if contents is None or contents.dtype.hasobject:
        return None
    return hashlib.sha1(np.ascontiguousarray(contents).tobytes()).hexdigest() + str(contents.shape) + str(contents.dtype)


class _Transcript(list):
    """The calls of one function argument, plus the entry's shared list of arrays."""

    def __init__(self, arrays):
        super().__init__()
        self.arrays = arrays


def _record_argument(value, arrays):
    """(spec, stand-in) of one argument of a check: data is encoded, a function gets a RecordingFunction."""
    if getattr(value, "__cnncourse_reference__", None):  # the tripwire's guarded reference: left as it is
        return {"kind": "reference"}, value
    if callable(value) and not isinstance(value, (np.ndarray, np.generic)):
        transcript = _Transcript(arrays)
        return {"kind": "function", "name": str(getattr(value, "__name__", ""))[:200], "calls": transcript}, \
            RecordingFunction(value, transcript)
    return {"kind": "data", "value": encode_or_opaque(value, arrays)}, value


def _recording(check, recorder):
    """Wrap one check so that a top-level call writes its entry."""
    name = f"{check.__module__}.{check.__name__}"

    @functools.wraps(check)
    def recorded(*args, **kwargs):
        if recorder.depth:  # a check called by another check is part of the outer one's record
            return check(*args, **kwargs)
        arrays, specs, call_args, call_kwargs = [], {}, [], {}
        for i, value in enumerate(args):
            specs[str(i)], stand_in = _record_argument(value, arrays)
            call_args.append(stand_in)
        for key, value in kwargs.items():
            specs[key], call_kwargs[key] = _record_argument(value, arrays)
        index = recorder.calls
        recorder.calls += 1
        recorder.depth += 1
        verdict = "failed"
        try:
            result = check(*call_args, **call_kwargs)
            verdict = "passed"
            return result
        finally:
            recorder.depth -= 1
            manifest = {"check": name, "cell": recorder.cell, "index": index, "args": specs, "verdict": verdict,
                        "checks_digest": checks_digest()}
            write_entry(recorder.folder / f"{recorder.cell[:KEY_PREFIX]}-{index:04d}-{os.getpid()}{ENTRY_SUFFIX}",
                        manifest, arrays)

    recorded.__cnncourse_recorded__ = name
    return recorded


def instrument(module, recorder):
    """Wrap the checks defined in `module` (a cnncourse.checks module) in place."""
    for attribute, value in list(vars(module).items()):
        if (attribute.startswith(CHECK_PREFIXES) and callable(value) and getattr(value, "__module__", None) ==
                module.__name__ and not hasattr(value, "__cnncourse_recorded__")):
            setattr(module, attribute, _recording(value, recorder))


def kernel_folder(root, working_folder):
    """Where a kernel started in `working_folder` (the notebook's folder) records: a sub-folder of `root`.

    One autograde run may grade many submissions, each in its own folder; their records must not mix.
    """
    return Path(root) / hashlib.sha256(os.path.realpath(working_folder).encode()).hexdigest()[:24]


def install(folder, shell=None):
    """Record every check call of this process to `folder` (made if missing); returns the recorder.

    shell: the IPython shell, whose pre_run_cell event tells which cell runs (without one, every call counts as
    made by one unnamed cell). Modules of cnncourse.checks imported already are instrumented now; later ones as
    they are imported.
    """
    recorder = _Recorder(folder)
    on_checks_import(lambda module: instrument(module, recorder))
    if shell is not None:
        shell.events.register("pre_run_cell", lambda info: recorder.start_cell(info.raw_cell or ""))
    return recorder
