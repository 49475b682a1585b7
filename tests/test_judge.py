"""The record a grading kernel keeps of its checks (grading/evidence.py) and the judge that replays it (judge.py).

Records are made here in-process with the recording wrapper itself (no kernel), so that each test states the
record it needs; tests/test_judge_red_team.py grades real notebooks in sandboxed kernels.
"""

import importlib

import numpy as np
import pytest

from cnncourse.checks import c1_convolution as checks
from cnncourse.grading import evidence, judge
from cnncourse.ops.conv import output_size as reference_output_size

CELL = "checks.public_output_size(output_size)\nchecks.hidden_output_size(output_size)"
IMPORTS = {"__builtins__": __builtins__, "checks": checks, "np": np}


def good_output_size(n, f, pad, stride):
    return (n + 2 * pad - f) // stride + 1


def wrong_output_size(n, f, pad, stride):
    return (n + pad - f) // stride + 1


def record(tmp_path, source, namespace, module=checks):
    """Run `source` with the checks of `module` recording to tmp_path (as a grading kernel does); returns the
    Evidence. The kernel's verdict (None when the cell passed, else the exception) is kept as .kernel_error."""
    recorder = evidence._Recorder(tmp_path)
    recorder.start_cell(source)
    wrapped = {name: evidence._recording(getattr(module, name), recorder)
               for name in dir(module) if name.startswith(evidence.CHECK_PREFIXES)}
    fake_checks = type("RecordedChecks", (), {**wrapped, "PartialCredit": checks.PartialCredit})
    error = None
    try:
        exec(source, {**IMPORTS, **namespace, "checks": fake_checks})  # noqa: S102
    except Exception as err:  # noqa: BLE001 -- a failing check is recorded like a passing one
        error = err
    found = judge.Evidence(tmp_path)
    found.kernel_error = error
    return found


@pytest.mark.parametrize("value", [
    None, True, 3, 2**80, -1.5, float("inf"), 1 + 2j, "text", (1, [2.0, "x"]), {"a": np.arange(6).reshape(2, 3)},
    np.float32(2.5), np.int64(-3), np.zeros((0, 3)), np.array([[True, False]]),
])
def test_codec_gives_back_what_it_was_given(value):
    arrays = []
    tree = evidence.encode(value, arrays)
    got = evidence.decode(tree, arrays)
    if isinstance(value, dict):
        assert list(got) == list(value) and np.array_equal(got["a"], value["a"])
    elif isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value)
    else:
        assert type(got) is type(value) and (got == value or got != got)


def test_codec_turns_a_value_that_only_claims_to_be_an_int_into_a_plain_int():
    class Liar(int):
        def __eq__(self, other):
            return True

    arrays = []
    got = evidence.decode(evidence.encode(Liar(0), arrays), arrays)
    assert type(got) is int and got != 3


@pytest.mark.parametrize("value", [object(), np.array([object()]), {1: 2}, lambda: 0])
def test_codec_calls_what_is_not_data_opaque(value):
    spec = evidence.encode_or_opaque(value, [])
    assert spec["t"] == "opaque"


def test_decode_refuses_malformed_trees():
    for tree in ({"t": "py", "v": [1]}, {"t": "nope"}, "x", {"t": "dict", "k": [1], "v": []}):
        with pytest.raises(ValueError):
            evidence.decode(tree, [])


def test_entry_files_round_trip_and_refuse_garbage(tmp_path):
    evidence.write_entry(tmp_path / "a.npz", {"cell": "c", "index": 0}, [np.arange(3)])
    manifest, arrays = evidence.read_entry(tmp_path / "a.npz")
    assert manifest == {"cell": "c", "index": 0} and np.array_equal(arrays[0], np.arange(3))
    (tmp_path / "b.npz").write_bytes(b"PK garbage")
    with pytest.raises(ValueError, match="not a readable record"):
        evidence.read_entry(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", manifest=np.array([object()], dtype=object))  # a pickle: never loaded
    with pytest.raises(ValueError):
        evidence.read_entry(tmp_path / "c.npz")


def test_a_correct_function_is_judged_as_passing(tmp_path):
    found = record(tmp_path, CELL, {"output_size": good_output_size})
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert (verdict.score, verdict.record_problem) == (1.0, False), verdict


def test_a_wrong_function_fails_with_the_checks_message(tmp_path):
    found = record(tmp_path, CELL, {"output_size": wrong_output_size})
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert verdict.score == 0.0 and not verdict.record_problem
    assert "output_size" in verdict.message and "expected" in verdict.message


def test_a_wrong_function_fails_even_when_its_record_says_the_kernel_passed(tmp_path):
    found = record(tmp_path, CELL, {"output_size": wrong_output_size})
    for manifest, _ in found.entries.values():
        manifest["verdict"] = "passed"
    assert judge.judge_cell(CELL, 1.0, IMPORTS, found, "t").score == 0.0


def test_a_missing_record_fails_the_cell_as_a_record_problem(tmp_path):
    found = record(tmp_path, "checks.public_output_size(output_size)", {"output_size": good_output_size})
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")  # the hidden check never ran in the "kernel"
    assert (verdict.score, verdict.record_problem) == (0.0, True)
    assert "no record" in verdict.message


def test_a_record_with_fewer_calls_than_the_check_makes_is_a_record_problem(tmp_path):
    found = record(tmp_path, CELL, {"output_size": good_output_size})
    manifest, _ = found.entries[(evidence.cell_key(CELL), 1)]
    del manifest["args"]["0"]["calls"][5:]
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert (verdict.score, verdict.record_problem) == (0.0, True) and "more often" in verdict.message


def test_a_record_of_another_check_is_a_record_problem(tmp_path):
    found = record(tmp_path, CELL, {"output_size": good_output_size})
    manifest, _ = found.entries[(evidence.cell_key(CELL), 1)]
    manifest["check"] = "cnncourse.checks.c1_convolution.public_output_size"
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert verdict.record_problem and "names" in verdict.message


def test_an_unreadable_record_fails_its_cell(tmp_path):
    record(tmp_path, CELL, {"output_size": good_output_size})
    for path in tmp_path.glob("*.npz"):
        path.write_bytes(b"PK forged")
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, judge.Evidence(tmp_path), "t")
    assert verdict.record_problem and "unreadable" in verdict.message


def test_recorded_errors_are_raised_again_as_the_same_builtin_class(tmp_path):
    def refuses(n, f, pad, stride):
        raise ValueError("no")

    source = "checks.public_output_size(output_size)"
    found = record(tmp_path, source, {"output_size": refuses})
    verdict = judge.judge_cell(source, 1.0, IMPORTS, found, "t")
    assert verdict.score == 0.0 and verdict.message.startswith("ValueError")


def test_partial_credit_is_judged_part_by_part(tmp_path):
    source = ('credit = checks.PartialCredit("f", {"public": 1, "hidden": 2})\n'
              'credit.run("public", checks.public_output_size, output_size)\n'
              'credit.run("hidden", checks.hidden_output_size, output_size)\n'
              'credit.total()')

    def right_on_small_inputs(n, f, pad, stride):  # the public cases are small; the hidden ones go up to 40
        return good_output_size(n, f, pad, stride) if n <= 32 else 0

    found = record(tmp_path, source, {"output_size": right_on_small_inputs})
    assert judge.judge_cell(source, 3.0, IMPORTS, found, "t").score == 1.0


ALLOWED = "cnncourse.checks.c2_augment.public_data_augmenter"  # made opaque-allowed by the tests that need one


def test_a_check_handed_a_model_is_left_to_the_kernel_only_where_that_is_allowed(monkeypatch):
    monkeypatch.setattr(judge, "OPAQUE_CHECKS", frozenset({ALLOWED}))
    opaque = {"kind": "data", "value": {"t": "opaque", "type": "a keras.Model"}}
    for check, allowed in ((ALLOWED, True), ("cnncourse.checks.c1_convolution.public_output_size", False)):
        with pytest.raises(judge.Unjudgeable if allowed else judge.RecordProblem):
            judge._substitute(judge.Placeholder("x"), opaque, [], check)


def test_every_opaque_check_names_a_check_that_exists():
    for entry in judge.OPAQUE_CHECKS:
        module_name, _, name = entry.rpartition(".")
        module = importlib.import_module(module_name)
        assert name == "*" or callable(getattr(module, name, None)), entry


def test_the_course_reference_handed_to_a_check_fails_it(tmp_path):
    guarded = lambda *a: reference_output_size(*a)  # noqa: E731 -- stands for the tripwire's wrapper
    guarded.__cnncourse_reference__ = "cnncourse.ops.conv.output_size"
    source = "checks.public_output_size(output_size)"
    found = record(tmp_path, source, {"output_size": guarded})
    verdict = judge.judge_cell(source, 1.0, IMPORTS, found, "t")
    assert verdict.record_problem and "reference" in verdict.message


@pytest.mark.parametrize("use", ["x[0]", "x + 1", "len(x)", "float(x)", "np.asarray(x)", "x == 1", "list(x)", "x.shape"])
def test_a_cell_that_computes_with_a_notebook_value_outside_a_check_is_left_to_the_kernel(tmp_path, use):
    source = f"checks.public_output_size(output_size)\ny = {use}"
    found = record(tmp_path, source, {"output_size": good_output_size, "x": np.arange(3)})
    verdict = judge.judge_cell(source, 1.0, IMPORTS, found, "t")
    assert verdict.score is None and "x" in verdict.message


def test_a_keras_model_travels_as_its_configuration_and_is_built_again():
    import keras

    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax", name="d")])
    arrays = []
    tree = evidence.encode(model, arrays)
    assert tree["t"] == "keras_model" and len(arrays) == len(model.weights)  # a small model keeps its weights
    rebuilt = evidence.decode(tree, arrays)
    assert [(type(l).__name__, l.name, tuple(l.output.shape), l.count_params()) for l in rebuilt.layers] == \
        [(type(l).__name__, l.name, tuple(l.output.shape), l.count_params()) for l in model.layers]
    x = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float32")
    assert np.allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_model_that_cannot_be_built_again_is_opaque_only_where_models_may_be(monkeypatch):
    monkeypatch.setattr(judge, "OPAQUE_CHECKS", frozenset({ALLOWED}))
    tree = {"t": "keras_model", "config": '{"class_name": "NoSuchLayer", "config": {}}'}
    with pytest.raises(judge.Unjudgeable):
        judge._decoded(tree, [], ALLOWED)
    with pytest.raises(judge.RecordProblem):
        judge._decoded(tree, [], "cnncourse.checks.c1_convolution.public_output_size")


def test_a_call_that_changes_its_argument_in_place_is_replayed_with_that_change():
    import keras

    def step(variable, array):  # an optimiser-like step: both arguments change in place
        variable.assign(variable.numpy() + 1.0)
        array *= 2
        return 0.0

    transcript = evidence._Transcript([])
    recording = evidence.RecordingFunction(step, transcript)
    recording(keras.Variable(np.zeros((2, 2), "float32")), np.ones(3))
    replayer = judge.Replayer({"name": "step", "calls": list(transcript)}, transcript.arrays, "check")
    variable, array = keras.Variable(np.zeros((2, 2), "float32")), np.ones(3)
    assert replayer(variable, array) == 0.0
    assert np.array_equal(variable.numpy(), np.ones((2, 2))) and np.array_equal(array, np.full(3, 2.0))
    unchanged = evidence._Transcript([])
    evidence.RecordingFunction(lambda a: float(a.sum()), unchanged)(np.ones(3))
    assert unchanged[0]["effects"] == {}


class _FakeGrade:
    def __init__(self, score):
        self.auto_score = score


class _FakeGradebook:
    """The part of nbgrader's Gradebook that judge_submission uses: grades by (grade_id, notebook)."""

    def __init__(self, grades):
        self.grades, self.db, self.committed = grades, self, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_grade(self, grade_id, notebook, chapter, student):
        from nbgrader.api import MissingEntry

        if (grade_id, notebook) not in self.grades:
            raise MissingEntry()
        return self.grades[(grade_id, notebook)]

    def commit(self):
        self.committed = True


def _autograded(tmp_path, cells):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("from cnncourse.checks import c1_convolution as checks",
                                           metadata={"nbgrader": {"locked": True, "grade_id": "setup"}})])
    nb.cells += [new_code_cell(src, metadata={"nbgrader": {"grade": True, "grade_id": gid, "points": 1}})
                 for gid, src in cells]
    folder = tmp_path / "autograded"
    folder.mkdir()
    nbformat.write(nb, str(folder / "nb.ipynb"))
    return folder


def test_judge_submission_lowers_a_forged_pass_and_flags_it(tmp_path):
    folder = _autograded(tmp_path, [("a_tests", CELL), ("b_tests", "checks.public_output_size(output_size)")])
    evidence_root = tmp_path / "evidence"
    record(evidence.kernel_folder(evidence_root, folder), CELL, {"output_size": wrong_output_size})
    grades = {("a_tests", "nb"): _FakeGrade(1.0), ("b_tests", "nb"): _FakeGrade(1.0)}  # the kernel was fooled
    book = _FakeGradebook(grades)
    course = type("Course", (), {"gradebook": lambda self: book})()
    flagged, log = judge.judge_submission(course, "c1", "s", folder, evidence_root)
    assert grades[("a_tests", "nb")].auto_score == 0.0 and grades[("b_tests", "nb")].auto_score == 0.0
    assert [f[1] for f in flagged] == ["a_tests", "b_tests"] and book.committed
    assert "no record" in flagged[1][2] and "2 grade cell(s) judged outside the kernel" in log


def test_judge_submission_flags_a_notebook_it_cannot_judge_and_keeps_the_kernels_scores(tmp_path, monkeypatch):
    folder = _autograded(tmp_path, [("a_tests", CELL)])
    grades = {("a_tests", "nb"): _FakeGrade(1.0)}
    course = type("Course", (), {"gradebook": lambda self: _FakeGradebook(grades)})()

    def broken(nb, found):
        raise RuntimeError("a fault of the judge")

    monkeypatch.setattr(judge, "judge_notebook", broken)
    flagged, log = judge.judge_submission(course, "c1", "s", folder, tmp_path / "evidence")
    assert grades[("a_tests", "nb")].auto_score == 1.0
    assert flagged == [["nb", "nb:not-judged", flagged[0][2]]] and "could not be judged" in log and "by hand" in flagged[0][2]


def test_a_record_made_by_another_version_of_the_checks_fails_and_says_so(tmp_path):
    found = record(tmp_path, CELL, {"output_size": good_output_size})
    assert all(m["checks_digest"] == evidence.checks_digest() for m, _ in found.entries.values())
    manifest, _ = found.entries[(evidence.cell_key(CELL), 1)]
    manifest["checks_digest"] = "0" * 64  # a kernel that imported another copy of cnncourse.checks
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert (verdict.score, verdict.record_problem, verdict.checks_mismatch) == (0.0, True, True)
    assert "another version of cnncourse.checks" in verdict.message and "grade this submission again" in verdict.message


def test_a_record_without_a_checks_digest_is_a_record_problem(tmp_path):
    found = record(tmp_path, CELL, {"output_size": good_output_size})
    for manifest, _ in found.entries.values():
        del manifest["checks_digest"]  # a forged entry that leaves the digest out cannot keep the kernel's verdict
    verdict = judge.judge_cell(CELL, 1.0, IMPORTS, found, "t")
    assert (verdict.score, verdict.record_problem) == (0.0, True)


def test_checks_digest_follows_the_checks_sources(tmp_path, monkeypatch):
    import cnncourse.checks

    real = evidence.checks_digest()
    copy = tmp_path / "checks"
    copy.mkdir()
    for path in sorted(evidence.Path(cnncourse.checks.__file__).parent.glob("*.py")):
        (copy / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(cnncourse.checks, "__file__", str(copy / "__init__.py"))
    evidence.checks_digest.cache_clear()
    try:
        same = evidence.checks_digest()
        (copy / "core.py").write_text((copy / "core.py").read_text() + "\n# changed\n")
        evidence.checks_digest.cache_clear()
        changed = evidence.checks_digest()
    finally:
        evidence.checks_digest.cache_clear()
    assert same == real  # a byte-for-byte copy of the package has the package's digest
    assert changed != same and len(changed) == 64


# --- Keras models and blocks judged outside the kernel -------------------------------------------------------------

def _conv_block(relu_on_second=True):
    """Chapter 4's conv_block, or the same with no ReLU on its second convolution (a typical mistake)."""
    from keras import layers

    def conv_block(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
        conv = layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                             name=f"{name}_conv1")(inputs)
        conv = layers.Conv2D(n_filters, 3, padding="same", activation="relu" if relu_on_second else None,
                             kernel_initializer="he_normal", name=f"{name}_conv2")(conv)
        if dropout > 0:
            conv = layers.Dropout(dropout, name=f"{name}_dropout")(conv)
        return (layers.MaxPooling2D(2, name=f"{name}_pool")(conv) if max_pooling else conv), conv

    return conv_block


def _pair_classifier(features="abs"):
    """Chapter 5's pair_classifier around the given encoder; features: "abs" (right), "lambda" (|.| in a Python
    lambda: right, but not rebuildable), "difference" (no abs: a mistake), "own encoder" (a copy, not shared)."""
    import keras
    from keras import layers, ops

    def pair_classifier(encoder):
        shape = tuple(encoder.inputs[0].shape[1:])
        a, b = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
        used = encoder
        if features == "own encoder":
            used = keras.models.clone_model(encoder)
            used.set_weights(encoder.get_weights())
        difference = layers.Subtract()([used(a), used(b)])
        x = {"abs": lambda: ops.abs(difference), "own encoder": lambda: ops.abs(difference),
             "lambda": lambda: layers.Lambda(lambda t: ops.abs(t))(difference), "difference": lambda: difference}
        return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same")(x[features]()))

    return pair_classifier


def _judged(tmp_path, module, source, namespace):
    """(the kernel's error or None, the judge's Verdict) of `source` run with the checks of `module`."""
    found = record(tmp_path, source, namespace, module)
    return found.kernel_error, judge.judge_cell(source, 1.0, {**IMPORTS, "checks": module}, found, "t")


UNET_CELL = "checks.public_conv_block(conv_block)\nchecks.hidden_conv_block(conv_block)"
PAIR_CELL = "checks.public_pair_classifier(pair_classifier)\nchecks.hidden_pair_classifier(pair_classifier)"


@pytest.mark.parametrize("right", [True, False])
def test_a_block_is_judged_outside_the_kernel_as_the_kernel_judged_it(tmp_path, right):
    from cnncourse.checks import c4_unet

    assert not judge.may_be_opaque("cnncourse.checks.c4_unet.public_conv_block")
    error, verdict = _judged(tmp_path, c4_unet, UNET_CELL, {"conv_block": _conv_block(relu_on_second=right)})
    assert (error is None) == right
    assert (verdict.score, verdict.record_problem) == ((1.0 if right else 0.0), False), verdict
    if not right:  # the check's own failure, with the kernel's message
        assert str(error).splitlines()[0][:200] in verdict.message


def test_a_block_records_the_graph_from_the_checks_tensors_to_what_it_returned(tmp_path):
    from cnncourse.checks import c4_unet

    found = record(tmp_path, UNET_CELL, {"conv_block": _conv_block()}, c4_unet)
    manifest, _ = found.entries[(evidence.cell_key(UNET_CELL), 0)]
    returned = manifest["args"]["0"]["calls"][0]["returned"]
    assert returned["t"] == "keras_graph" and returned["inputs"] == ["0"]  # the block's input tensor
    assert returned["value"] == {"t": "tuple", "v": [{"t": "symbolic", "o": 0}, {"t": "symbolic", "o": 1}]}


@pytest.mark.parametrize("features, passes", [("abs", True), ("difference", False), ("own encoder", False)])
def test_a_model_built_around_the_checks_encoder_is_judged_with_the_judges_encoder(tmp_path, features, passes):
    from cnncourse.checks import c5_verification

    error, verdict = _judged(tmp_path, c5_verification, PAIR_CELL, {"pair_classifier": _pair_classifier(features)})
    assert (error is None) == passes
    assert (verdict.score, verdict.record_problem) == ((1.0 if passes else 0.0), False), verdict


def test_a_model_with_a_lambda_fails_in_the_kernel_with_a_readable_message_and_in_the_judge(tmp_path):
    from cnncourse.checks import c5_verification

    error, verdict = _judged(tmp_path, c5_verification, PAIR_CELL, {"pair_classifier": _pair_classifier("lambda")})
    assert "build again from its configuration" in str(error) and "ops.abs" in str(error)  # the student is told how
    assert verdict.score == 0.0 and "Lambda" in verdict.message


def test_a_lambda_of_a_keras_op_is_rebuilt_and_judged(tmp_path):
    import keras
    from keras import layers, ops

    from cnncourse.checks import c5_verification

    def pair_classifier(encoder):
        shape = tuple(encoder.inputs[0].shape[1:])
        a, b = keras.Input(shape), keras.Input(shape)
        features = layers.Lambda(ops.abs)(layers.Subtract()([encoder(a), encoder(b)]))
        return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same")(features))

    error, verdict = _judged(tmp_path, c5_verification, PAIR_CELL, {"pair_classifier": pair_classifier})
    assert error is None and (verdict.score, verdict.record_problem) == (1.0, False), verdict


ALEXNET_CELL = "checks.hidden_alexnet(alexnet)"


def _notebook_alexnet(lrn_after_pool=False, fc7_activation="relu", lrn_call=None):
    """Chapter 2's alexnet with a LocalResponseNormalization class as a notebook defines it (module __main__, whose
    configuration Keras writes without a module); lrn_after_pool and a linear fc7 are typical mistakes, and
    lrn_call replaces the class's computation (a wrong LRN, graded by its own exercise only)."""
    import keras
    from keras import layers

    from cnncourse.models.c2_classic import LocalResponseNormalization as Reference

    notebook_class = type("LocalResponseNormalization", (Reference,), {"__module__": "__main__"})
    if lrn_call is not None:
        notebook_class.call = lrn_call

    def alexnet(input_shape=(227, 227, 3), n_classes=1000):
        inputs = keras.Input(shape=input_shape, name="image")
        x = inputs
        for k, (filters, f, kwargs) in enumerate(((96, 11, {"strides": 4}), (256, 5, {"padding": "same"})), start=1):
            x = layers.Conv2D(filters, f, activation="relu", name=f"conv{k}", **kwargs)(x)
            pool = layers.MaxPooling2D(pool_size=3, strides=2, name=f"pool{k}")
            lrn = notebook_class(name=f"lrn{k}")
            x = lrn(pool(x)) if lrn_after_pool else pool(lrn(x))
        for k, filters in ((3, 384), (4, 384), (5, 256)):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k}")(x)
        x = layers.Flatten(name="flatten")(layers.MaxPooling2D(pool_size=3, strides=2, name="pool5")(x))
        x = layers.Dropout(0.5, name="drop6")(layers.Dense(4096, activation="relu", name="fc6")(x))
        x = layers.Dropout(0.5, name="drop7")(layers.Dense(4096, activation=fc7_activation, name="fc7")(x))
        return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))

    return alexnet


@pytest.mark.parametrize("mistake", ["none", "lrn after pool", "fc7 linear", "wrong lrn"])
def test_alexnet_with_the_notebooks_lrn_class_is_judged_outside_the_kernel(tmp_path, mistake):
    from cnncourse.checks import c2_classic

    assert not judge.may_be_opaque("cnncourse.checks.c2_classic.hidden_alexnet")
    alexnet = _notebook_alexnet(lrn_after_pool=mistake == "lrn after pool",
                                fc7_activation=None if mistake == "fc7 linear" else "relu",
                                lrn_call=(lambda self, inputs: inputs * 2.0) if mistake == "wrong lrn" else None)
    error, verdict = _judged(tmp_path, c2_classic, ALEXNET_CELL, {"alexnet": alexnet})
    wiring_right = mistake in ("none", "wrong lrn")  # a wrong LRN costs the LRN exercise only (one mistake, one loss)
    assert (error is None) == wiring_right, error
    assert (verdict.score, verdict.record_problem) == ((1.0 if wiring_right else 0.0), False), verdict


LRN_CELL = "checks.public_local_response_normalization(LocalResponseNormalization)\n" \
           "checks.hidden_local_response_normalization(LocalResponseNormalization)"


def _notebook_lrn(kind):
    """Chapter 2's LocalResponseNormalization as a notebook defines it: "right", "tf.nn" (calls the library's LRN,
    which the exercise forbids), "alpha / n" (another library's convention) or "wraps around" (np.roll's window)."""
    import keras

    from cnncourse.models.c2_classic import LocalResponseNormalization as Reference

    def call(self, inputs):
        import tensorflow as tf

        if kind == "tf.nn":
            return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha, self.beta)
        squares, r = keras.ops.square(inputs), self.depth_radius
        if kind == "wraps around":
            total = sum(keras.ops.roll(squares, shift, axis=-1) for shift in range(-r, r + 1))
        else:  # zeros beyond the first and last channel
            padded, n_C = keras.ops.pad(squares, [[0, 0], [0, 0], [0, 0], [r, r]]), inputs.shape[-1]
            total = sum(padded[..., shift:shift + n_C] for shift in range(2 * r + 1))
        alpha = self.alpha / (2 * r + 1) if kind == "alpha / n" else self.alpha
        return inputs / keras.ops.power(self.bias + alpha * total, self.beta)

    return type("LocalResponseNormalization", (Reference,), {"__module__": "__main__", "call": call})


@pytest.mark.parametrize("kind", ["right", "tf.nn", "alpha / n", "wraps around"])
def test_the_lrn_layer_class_is_judged_from_the_calls_to_the_layers_it_made(tmp_path, kind):
    from cnncourse.checks import c2_classic

    assert not judge.may_be_opaque("cnncourse.checks.c2_classic.hidden_local_response_normalization")
    error, verdict = _judged(tmp_path, c2_classic, LRN_CELL, {"LocalResponseNormalization": _notebook_lrn(kind)})
    assert (error is None) == (kind == "right"), error
    assert (verdict.score, verdict.record_problem) == ((1.0 if kind == "right" else 0.0), False), verdict
    manifest, _ = next(iter(_entries(tmp_path)))
    made = manifest["args"]["0"]["calls"][0]["returned"]
    assert made["t"] == "instance" and len(made["calls"]) == 1  # the layer it made, called once on the check's input


def _entries(tmp_path):
    return judge.Evidence(tmp_path).entries.values()


def test_an_object_of_a_handed_class_read_beyond_its_calls_leaves_the_cell_to_the_kernel():
    replayer = judge.InstanceReplayer({"name": "LRN object", "calls": []}, [], "cnncourse.checks.c2_classic.x")
    with pytest.raises(judge.Unjudgeable):
        replayer.depth_radius
    with pytest.raises(judge.RecordProblem):  # called more often than recorded
        replayer(np.zeros(3))


def test_only_a_notebook_class_of_the_exercises_name_gets_the_courses_stand_in():
    import json

    from cnncourse.checks.architecture import rebuild_model

    model = _notebook_alexnet()((67, 67, 3), 5)
    config = json.loads(model.to_json())
    rebuilt = evidence._rebuilt_model(json.dumps(config))
    assert type(rebuilt.get_layer("lrn1")) is evidence.notebook_layer_stand_ins()["LocalResponseNormalization"]
    with pytest.raises(ValueError):  # the kernel's own rule (expect_rebuildable) still refuses the notebook's class
        rebuild_model(config)
    renamed = json.loads(json.dumps(config).replace('"LocalResponseNormalization"', '"MyNormalization"'))
    with pytest.raises(evidence.Unbuildable):
        evidence._rebuilt_model(json.dumps(renamed))


def _forge(found, cell, index, change):
    """Apply change(returned, arrays) to the first recorded call of argument 0 of the cell's index-th check call."""
    manifest, arrays = found.entries[(evidence.cell_key(cell), index)]
    change(manifest["args"]["0"]["calls"][0]["returned"], arrays)


def _with_kernel_verdict_passed(found):
    for manifest, _ in found.entries.values():
        manifest["verdict"] = "passed"


def test_forged_model_records_gain_nothing(tmp_path):
    import json

    from cnncourse.checks import c5_verification

    wrong = _pair_classifier("difference")
    right_config = json.loads(_pair_classifier("abs")(c5_verification.tiny_encoder()).to_json())

    def lambda_config(returned, arrays):  # a Python lambda: Keras would run its bytecode if it built it
        config = json.loads(returned["config"])
        config["config"]["layers"].insert(3, {"module": "keras.layers", "class_name": "Lambda", "config": {
            "name": "x", "function": {"class_name": "__lambda__", "config": {"code": "", "defaults": None,
                                                                              "closure": None}}}})
        returned["config"] = json.dumps(config)

    def foreign_class(returned, arrays):  # a class from outside Keras
        config = json.loads(returned["config"])
        config["config"]["layers"][-1].update(module="os", class_name="system")
        returned["config"] = json.dumps(config)

    def wrong_weights(returned, arrays):  # weights that do not fit the model
        arrays[returned["weights"][0]] = np.zeros((1, 1, 1))

    def right_model_without_the_encoder(returned, arrays):  # the right model, claimed without the given encoder
        returned["config"] = json.dumps(right_config)
        returned["weights"] = None
        returned.pop("substitutes", None)

    def substitute_a_number(returned, arrays):  # "the encoder" put in place of a layer is not a layer
        returned["config"] = json.dumps(right_config)
        returned["weights"], returned["substitutes"] = None, {"tiny_encoder": "1"}

    outcomes = {}
    for forgery in (lambda_config, foreign_class, wrong_weights, right_model_without_the_encoder, substitute_a_number):
        folder = tmp_path / forgery.__name__
        found = record(folder, PAIR_CELL, {"pair_classifier": wrong}, c5_verification)
        assert found.kernel_error is not None
        _forge(found, PAIR_CELL, 0, forgery)
        _with_kernel_verdict_passed(found)
        verdict = judge.judge_cell(PAIR_CELL, 1.0, {**IMPORTS, "checks": c5_verification}, found, "t")
        outcomes[forgery.__name__] = (verdict.score, verdict.message)
    assert all(score == 0.0 for score, _ in outcomes.values()), outcomes
    assert "Lambda" in outcomes["lambda_config"][1] and "'os'" in outcomes["foreign_class"][1]
    assert "do not fit" in outcomes["wrong_weights"][1] and "not a layer" in outcomes["substitute_a_number"][1]


def test_a_forged_block_record_gains_nothing(tmp_path):
    from cnncourse.checks import c4_unet

    def inputs_from_a_number(returned, arrays):
        returned["inputs"] = ["1"]  # n_filters, not a tensor

    def more_outputs_than_the_graph(returned, arrays):
        returned["value"]["v"][1]["o"] = 7

    for forgery in (inputs_from_a_number, more_outputs_than_the_graph):
        found = record(tmp_path / forgery.__name__, UNET_CELL, {"conv_block": _conv_block(False)}, c4_unet)
        _forge(found, UNET_CELL, 0, forgery)
        _with_kernel_verdict_passed(found)
        verdict = judge.judge_cell(UNET_CELL, 1.0, {**IMPORTS, "checks": c4_unet}, found, "t")
        assert (verdict.score, verdict.record_problem) == (0.0, True), (forgery.__name__, verdict)


@pytest.mark.parametrize("node, refused", [
    ({"module": "keras.layers", "class_name": "Dense", "config": {}}, None),
    ({"class_name": "__keras_tensor__", "config": {}}, None),
    ({"module": "keras.layers", "class_name": "Lambda", "config": {}}, "Lambda"),
    ({"module": "keras.layers", "class_name": "Lambda", "config": {"function": {  # a keras.ops function, by name
        "module": "builtins", "class_name": "function", "config": "abs", "registered_name": "function"}}}, None),
    ({"module": "keras.layers", "class_name": "Lambda", "config": {"function": {  # a function of the notebook's
        "module": "__main__", "class_name": "function", "config": "abs", "registered_name": "function"}}}, "Lambda"),
    ({"module": "keras.layers", "class_name": "Lambda", "config": {"function": {  # not a keras.ops function
        "module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function"}}}, "Lambda"),
    ({"module": "__main__", "class_name": "MyLayer", "config": {}}, "__main__"),
    ({"module": "kerasevil", "class_name": "Dense", "config": {}}, "kerasevil"),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "notebook>Dense"}, "registered"),
    ({"module": "keras.layers", "class_name": "X", "config": {"f": {"class_name": "__lambda__"}}}, "__lambda__"),
])
def test_the_rebuild_rule_admits_only_kerass_own_classes(node, refused):
    from cnncourse.checks.architecture import unsafe_in_config

    reason = unsafe_in_config({"class_name": "Functional", "module": "keras", "config": {"layers": [node]}})
    assert (reason is None) if refused is None else (refused in reason)
