"""No hidden check holds its answer while the student's function runs (issue 26: the expected value from memory).

The checks run in the student's kernel, so a graded function's body can walk up the stack
(`inspect.currentframe().f_back.f_locals`) and return what the check has already worked out, say its `want`. The
judge replays that output outside the kernel and finds it right. So every hidden check calls the student's function
FIRST and works out its expected value after the call returns, from copies of the inputs made before it.

The "stack thief" below proves it for every graded function of the six mistake corpora: wrapped around each correct
alternative, it looks, during every call a hidden check makes, through the locals of every frame of
cnncourse.checks above it (and the items of their lists, tuples and dicts) for a value equal to the answer that it is
about to return: an equal number or array, or, for a builder or a block, another Keras model or an oracle's output
tensor of the same shape. The inputs of the call (and the tensors they were built from) and the student's own
earlier answers do not count: reading those gains nothing. What it cannot see is the rest of the process (gc.get_objects(), the checks' module globals: the public
cases' worked numbers, which the student reads in the notebook anyway); docs/architecture.md says what stays open.
"""

import importlib
import sys

import keras
import numpy as np
import pytest

CHAPTERS = ("c1", "c2", "c3", "c4", "c5", "c6")


def _corpus(chapter):
    """[(graded function's name, its hidden check, [correct alternatives])] of tests/test_mistake_corpus_<chapter>."""
    corpus = importlib.import_module(f"test_mistake_corpus_{chapter}")
    modules = getattr(corpus, "CHECKS", None) or {name: corpus.checks for name in corpus.ALTERNATIVES}
    return [(name, getattr(modules[name], f"hidden_{name}"), rights) for name, rights in corpus.ALTERNATIVES.items()]


def _numbers(value):
    """value as a numpy array of numbers, or None (models, strings, None, functions)."""
    if value is None or isinstance(value, (str, bytes, keras.Model)) or callable(value):
        return None
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else value)
    except Exception:  # noqa: BLE001 -- ragged lists and other objects are not numbers
        return None
    return array if array.dtype.kind in "fiub" else None


def _same(value, answer):
    """True when value equals answer: numbers to float32 round-off, sequences item by item; for a model (a graded
    builder's answer), any other Keras model, such as an oracle built before the call, which could be handed back."""
    if isinstance(answer, keras.Model):
        return isinstance(value, keras.Model) and value is not answer
    if isinstance(answer, keras.KerasTensor):  # a graded block's output: an oracle's output tensor of that shape
        return isinstance(value, keras.KerasTensor) and value is not answer and value.shape == answer.shape
    if isinstance(answer, (tuple, list)) and not isinstance(value, np.ndarray):
        return (isinstance(value, (tuple, list)) and len(value) == len(answer) > 0
                and all(_same(v, a) for v, a in zip(value, answer)))
    want, got = _numbers(answer), _numbers(value)
    return (want is not None and got is not None and got.shape == want.shape
            and np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-6, atol=1e-9))


def _same_data(value, known):
    """_same for numbers only: an input tensor of a block's shape is not the same as an oracle's output tensor."""
    return not isinstance(value, (keras.Model, keras.KerasTensor)) and _same(value, known)


def _upstream(tensors):
    """ids of the Keras tensors among `tensors` and of every tensor their graph was built from (what a block could
    reach from its own input, and so gains nothing by reading)."""
    seen, stack = set(), [t for t in tensors if isinstance(t, keras.KerasTensor)]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            node = history.operation._inbound_nodes[history.node_index]
            stack.extend(t for t in node.input_tensors if isinstance(t, keras.KerasTensor))
    return seen


def _telling(answer):
    """False for answers that equal many innocent values by chance: small integers (a count of 4, an IoU of 0 or
    1, a flag), and arrays of one repeated value."""
    if isinstance(answer, (keras.Model, keras.KerasTensor)):
        return True
    numbers = _numbers(answer)
    if numbers is None:
        return isinstance(answer, (tuple, list)) and any(_telling(a) for a in answer)
    flat = numbers.ravel()
    if flat.size == 0 or np.all(flat == flat[0]):
        return flat.size == 1 and not (float(flat[0]).is_integer() and abs(float(flat[0])) < 1000)
    return True


def _held(frame_locals):
    """(name, value) of every local and of the items of local lists, tuples and dicts."""
    for name, value in list(frame_locals.items()):
        yield name, value
        if isinstance(value, (list, tuple)) and len(value) < 10_000:
            yield from ((f"{name}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict) and len(value) < 10_000:
            yield from ((f"{name}[{key!r}]", item) for key, item in value.items())


def stack_thief(right, found):
    """`right` wrapped: before returning its answer, it adds to `found` each "function:name" of a frame of
    cnncourse.checks that holds that answer already (not an input, not one of its own earlier answers)."""
    given = []

    def thief(*args, **kwargs):
        answer = right(*args, **kwargs)
        if _telling(answer):
            known = list(args) + list(kwargs.values()) + given
            upstream = _upstream(known)
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_globals.get("__name__", "").startswith("cnncourse.checks"):
                    for name, value in _held(frame.f_locals):
                        if (_same(value, answer) and id(value) not in upstream
                                and not any(value is k or _same_data(value, k) for k in known)):
                            found.add(f"{frame.f_code.co_name}:{name}")
                frame = frame.f_back
        given.append(answer)
        return answer

    thief.__name__ = right.__name__
    return thief


def _convnet_case():
    """Chapter 1's Keras convnet, whose corpus holds its alternatives as keyword variants of two builders, and whose
    checks also take the notebook's name for it."""
    corpus = importlib.import_module("test_mistake_corpus_c1")
    from cnncourse.checks import c1_convnet

    def check(build):
        c1_convnet.hidden_convnet(build, "convnet")

    check.__module__, check.__name__ = c1_convnet.__name__, "hidden_convnet"  # the check it runs, for the census
    rights = [style(**corpus.KERAS_ALTERNATIVES[name]) for name in sorted(corpus.KERAS_ALTERNATIVES)
              for style in (corpus.sequential, corpus.functional)]
    return ("c1", "convnet", check, rights)


CASES = [(chapter, name, check, rights) for chapter in CHAPTERS for name, check, rights in _corpus(chapter)]
CASES.append(_convnet_case())


@pytest.mark.parametrize("chapter, name, check, rights", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_no_hidden_check_holds_its_answer_while_the_student_runs(chapter, name, check, rights):
    for right in rights:
        found = set()
        check(stack_thief(right, found))  # the alternative is right, so the check passes: every case is asked
        assert not found, f"hidden_{name} holds the answer for {right.__name__} while it runs: {sorted(found)}"


def test_the_thief_finds_an_answer_worked_out_before_the_call():
    """The test above can fail: a check written the old way (want first) is caught, the fixed order is not."""
    import types

    module = types.ModuleType("cnncourse.checks.leaky_example")
    exec(  # noqa: S102 -- a check module of two functions, written here so that its frames count as cnncourse.checks
        "import numpy as np\n"
        "def hidden_old_order(fn):\n"
        "    x = np.arange(6.0).reshape(2, 3)\n"
        "    want = x.T @ x\n"
        "    got = fn(x)\n"
        "    assert np.allclose(got, want)\n"
        "def hidden_new_order(fn):\n"
        "    x = np.arange(6.0).reshape(2, 3)\n"
        "    original = x.copy()\n"
        "    got = fn(x)\n"
        "    want = original.T @ original\n"
        "    assert np.allclose(got, want)\n"
        "def hidden_old_block(fn):\n"
        "    import keras\n"
        "    x = keras.Input((3,))\n"
        "    want = keras.layers.Dense(3, name='oracle')(x)\n"
        "    got = fn(x)\n"
        "    assert got.shape == want.shape\n", module.__dict__)

    def gram(x):
        return x.T @ x

    found = set()
    module.hidden_old_order(stack_thief(gram, found))
    assert found == {"hidden_old_order:want"}
    found.clear()
    module.hidden_old_block(stack_thief(lambda x: keras.layers.Dense(3, name="student")(x), found))
    assert found == {"hidden_old_block:want"}
    found.clear()
    module.hidden_old_order(stack_thief(gram, found))
    assert found == {"hidden_old_order:want"}
    found.clear()
    module.hidden_new_order(stack_thief(gram, found))
    assert found == set()


def test_every_hidden_check_of_the_course_is_searched():
    """A new graded function's hidden check joins the search above through its chapter's corpus."""
    import pkgutil

    import cnncourse.checks as package

    hidden = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        hidden |= {(module.__name__, name) for name, value in vars(module).items()
                   if name.startswith("hidden_") and getattr(value, "__module__", None) == module.__name__}
    assert hidden == {(check.__module__, check.__name__) for _, _, check, _ in CASES}
