"""A graded function that merely calls the course's reference implementation scores 0 and is flagged.

Graded with `cnncourse grade` on a scratch course of the real Chapter 1 (its first notebook only: the second is
reported missing): one student submits the solution, one lets `zero_pad` call cnncourse.ops.conv.zero_pad, one
binds `conv_single_step` to the package's function outright, and one lets `output_size` call the package's twin of it
(cnncourse.ops.twins.window_count). The solution proves the guard flags none of the course's own code. Then Chapter 2's
ResNet notebook with a resnet50 that returns keras.applications.ResNet50 (the checks' own oracle, which passed every
check before it was guarded): only that exercise scores 0, and it is flagged.
"""

import copy
import shutil

import pytest

from cnncourse.grading.course import REPO, load_course, notebook_environment, run_nbgrader, write_course_config
from cnncourse.grading.grade import GRADED, grade
from roundtrip import edit_cell, put_submission, read_folder

CH = "c1_convolution"
NB = "c1_1_convolution_numpy"
# conv_forward and conv_backward call the student's zero_pad, which calls the reference. One mistake, one loss: their
# hidden tests run with the course's zero_pad, and their public checks find that the chain passes with it, so they keep
# their points and only zero_pad loses. Using the package's conv_single_step inside one's own conv_forward is allowed
# too (only the copied function loses its points).
CALLERS = {"zero_pad_tests": set(), "conv_single_step_tests": set(), "output_size_tests": set(),
           "conv_forward_tests": set()}


def _course_with(tmp_path_factory, chapter):
    """A course folder holding only `chapter`'s source, its assignment generated: returns (root, source notebooks)."""
    root = tmp_path_factory.mktemp(chapter)
    shutil.copytree(REPO / "source" / chapter, root / "source" / chapter,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    write_course_config(root / "course", root / "source", root / "release")
    with notebook_environment():
        run = run_nbgrader("generate_assignment", load_course(root / "course"), chapter, force=True)
    assert run.success, run.log
    return root, read_folder(root / "source" / chapter)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root, src = _course_with(tmp_path_factory, CH)
    mine = {NB: src[NB]}
    calls = edit_cell(mine, "zero_pad", "### BEGIN SOLUTION\n",
                      "### BEGIN SOLUTION\n    import cnncourse.ops.conv\n    return cnncourse.ops.conv.zero_pad(X, pad)\n")
    alias = copy.deepcopy(mine)
    for cell in alias[NB].cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv_single_step":
            cell.source = "from cnncourse.ops.conv import conv_single_step"
    twin = edit_cell(mine, "output_size", "### BEGIN SOLUTION\n",  # the package's own version, not the reference
                     "### BEGIN SOLUTION\n    from cnncourse.ops.twins import window_count\n"
                     "    return window_count(n, f, pad, stride)\n")
    oracle = edit_cell(mine, "conv_forward", "### BEGIN SOLUTION\n",  # the checks' own oracle, not a reference
                       "### BEGIN SOLUTION\n    from cnncourse.checks.c1_convolution import _conv_oracle_numpy\n"
                       "    Z = _conv_oracle_numpy(A_prev, W, b, hparams['stride'], hparams['pad'])\n"
                       "    return Z, (A_prev, W, b, hparams)\n")
    incoming = tmp_path_factory.mktemp("in")
    put_submission(incoming, "solution", {f"{NB}.ipynb": mine[NB]}, chapter=CH)
    put_submission(incoming, "calls", {f"{NB}.ipynb": calls[NB]}, chapter=CH)
    put_submission(incoming, "alias", {f"{NB}.ipynb": alias[NB]}, chapter=CH)
    put_submission(incoming, "twin", {f"{NB}.ipynb": twin[NB]}, chapter=CH)
    put_submission(incoming, "oracle", {f"{NB}.ipynb": oracle[NB]}, chapter=CH)
    return grade(incoming, course_dir=root / "course", workers=2), src


def _points(src):
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
            for c in src[NB].cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def test_the_solution_is_not_flagged_and_gets_every_point_of_its_notebook(graded):
    report, src = graded
    solution = report.get("solution", CH)
    assert solution.status == GRADED and not solution.flagged, solution.line()
    assert {gid: s for (nb, gid), (s, _) in solution.cells.items() if nb == NB} == _points(src)


@pytest.mark.parametrize("student, function, said", [
    ("calls", "zero_pad_tests", "reference implementation cnncourse.ops.conv.zero_pad"),
    ("alias", "conv_single_step_tests", "reference implementation cnncourse.ops.conv.conv_single_step"),
    ("twin", "output_size_tests", "own version of output_size, cnncourse.ops.twins.window_count"),
    ("oracle", "conv_forward_tests", "checks' own code cnncourse.checks.c1_convolution._conv_oracle_numpy"),
])
def test_calling_the_reference_scores_zero_for_it_and_is_flagged(graded, student, function, said):
    report, src = graded
    result = report.get(student, CH)
    assert result.status == GRADED and not result.ok, result.line()
    flagged = {gid for _, gid, _ in result.flagged}
    # each imports the course's package in its own code, which the grader's reading of the code names too
    assert f"{NB}:code" in flagged, result.line()
    flagged.discard(f"{NB}:code")
    assert function in flagged and flagged <= {function} | CALLERS[function], result.line()
    assert said in " ".join(m for _, _, m in result.flagged)
    points = _points(src)
    for gid, full in points.items():
        expected = 0 if gid in {function} | CALLERS[function] else full
        assert result.cell_score(gid, NB) == expected, f"{student} {gid}: {result.line()}"
    assert "FLAGGED" in report.summary()


# --- Keras's own network handed in as the student's (Chapter 2's ResNet-50) -----------------------------------------

CH2 = "c2_classic_nets"


# A data_augmenter whose mirror is a layer class of the notebook's own (axis 2: right; axis 1: upside down, wrong).
MIRROR_CLASS = """    class Mirror(keras.layers.Layer):
        def call(self, images, training=None):
            if not training:
                return images
            coin = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1)) < 0.5
            return keras.ops.where(coin, keras.ops.flip(images, axis={axis}), images)

    return keras.Sequential([Mirror(), keras.layers.RandomRotation(0.2),
                             keras.layers.RandomZoom(height_factor=(-0.2, 0.0))])
"""
# ... and a function body that also makes the kernel's flip test a no-op, so that the kernel passes the wrong mirror.
FORGERY = "    import cnncourse.checks.c2_augment as _checks\n    _checks._flips = lambda *args, **kwargs: None\n"


@pytest.fixture(scope="module")
def graded_keras(tmp_path_factory):
    """Chapter 2's ResNet notebook, its resnet50 returning keras.applications.ResNet50, graded by `cnncourse grade`."""
    root, src = _course_with(tmp_path_factory, CH2)
    name = next(n for n in src if n.startswith("c2_2"))
    keras_own = edit_cell({name: src[name]}, "resnet50", "### BEGIN SOLUTION\n",
                          "### BEGIN SOLUTION\n    return keras.applications.ResNet50(weights=None, "
                          "input_shape=input_shape, classes=n_classes)\n")
    incoming = tmp_path_factory.mktemp("in2")
    put_submission(incoming, "keras", {f"{name}.ipynb": keras_own[name]}, chapter=CH2)
    augment = next(n for n in src if n.startswith("c2_3"))
    for student, axis, tamper in (("mirror", 2, ""), ("forger", 1, FORGERY)):
        own = edit_cell({augment: src[augment]}, "data_augmenter", "### BEGIN SOLUTION\n",
                        f"### BEGIN SOLUTION\n{tamper}{MIRROR_CLASS.format(axis=axis)}")
        put_submission(incoming, student, {f"{augment}.ipynb": own[augment]}, chapter=CH2)
    return grade(incoming, course_dir=root / "course", workers=2), src, name


def test_kerass_own_resnet50_scores_zero_for_it_and_is_flagged(graded_keras):
    report, sources, name = graded_keras
    src = sources[name]
    result = report.get("keras", CH2)
    assert result.status == GRADED, result.line()
    assert {gid for _, gid, _ in result.flagged} == {"resnet50_tests"}, result.line()
    assert "Keras's own version of resnet50" in " ".join(m for _, _, m in result.flagged)
    for cell in src.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):  # every other exercise of the notebook keeps its points
            expected = 0 if meta["grade_id"] == "resnet50_tests" else float(meta["points"])
            assert result.cell_score(meta["grade_id"], name) == expected, (meta["grade_id"], result.line())


def test_a_layer_class_of_the_notebooks_own_is_judged_outside_the_kernel(graded_keras):
    """Graded through nbgrader's kernel in the sandbox: the right hand-written mirror keeps its points, judged outside
    the kernel; the wrong one, whose kernel check was made a no-op, loses them there, and the lowered cell is flagged."""
    report, sources, _ = graded_keras
    augment = next(n for n in sources if n.startswith("c2_3"))
    right, forger = report.get("mirror", CH2), report.get("forger", CH2)
    assert right.status == GRADED and not right.flagged, right.line()
    assert right.cell_score("data_augmenter_tests", augment) == 2.0
    assert "data_augmenter_tests left to the kernel" not in right.log.read_text()
    assert forger.status == GRADED and forger.cell_score("data_augmenter_tests", augment) == 0.0, forger.line()
    # lowered by the judge, and its code (the checks module imported and patched) named by the code scan
    assert {gid for _, gid, _ in forger.flagged} == {"data_augmenter_tests", f"{augment}:code"}, forger.line()
