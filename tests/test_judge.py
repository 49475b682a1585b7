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


def record(tmp_path, source, namespace):
    """Run `source` with the checks recording to tmp_path (as a grading kernel does); returns the Evidence."""
    recorder = evidence._Recorder(tmp_path)
    recorder.start_cell(source)
    wrapped = {name: evidence._recording(getattr(checks, name), recorder)
               for name in dir(checks) if name.startswith(evidence.CHECK_PREFIXES)}
    fake_checks = type("RecordedChecks", (), {**wrapped, "PartialCredit": checks.PartialCredit})
    try:
        exec(source, {**IMPORTS, **namespace, "checks": fake_checks})  # noqa: S102
    except Exception:  # noqa: BLE001 -- a failing check is recorded like a passing one
        pass
    return judge.Evidence(tmp_path)


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


def test_a_check_handed_a_model_is_left_to_the_kernel_only_where_that_is_allowed(tmp_path):
    opaque = {"kind": "data", "value": {"t": "opaque", "type": "a keras.Model"}}
    for check, allowed in (("cnncourse.checks.c1_convnet.public_convnet", True),
                           ("cnncourse.checks.c1_convolution.public_output_size", False)):
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


def test_a_model_that_cannot_be_built_again_is_opaque_only_where_models_may_be():
    tree = {"t": "keras_model", "config": '{"class_name": "NoSuchLayer", "config": {}}'}
    with pytest.raises(judge.Unjudgeable):
        judge._decoded(tree, [], "cnncourse.checks.c1_convnet.public_convnet")
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
