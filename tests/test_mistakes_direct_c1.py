"""tests/mistakes.py's Chapter 1 entries, checked without nbgrader: each mistake is applied to the source of the
package's reference (which is what the notebook's solution cell holds), the notebook's graded functions are defined
again in one namespace, as the notebook defines them, and every grade cell's public and hidden checks run as the cell
runs them (conv_backward's with partial credit). The cells that lose points must be exactly the entry's `loses` and
`keeps`, and each failure must name its `message`. The nbgrader round trip (test_roundtrip_chapters.py) proves the
same through the grader; this keeps the file honest in seconds.
"""

import contextlib
import io

import keras
import pytest
from keras import layers

from cnncourse.checks import c1_convnet, c1_convolution
from cnncourse.models import c1_convnet as convnet_models
from cnncourse.ops import conv, counting, pool
from mistakes import MISTAKES, Mistake

NUMPY_CELLS = {  # grade cell -> (module of the reference, graded function), in the notebook's order
    name: module for module, names in ((conv, ("output_size", "zero_pad", "conv_single_step", "conv_forward")),
                                       (pool, ("pool_forward",)), (conv, ("conv_backward",)),
                                       (pool, ("create_mask_from_window", "distribute_value", "pool_backward")),
                                       (counting, ("conv_vs_dense_parameters",)))
    for name in names
}
KERAS_CELLS = {"convnet_sequential": convnet_models, "convnet_functional": convnet_models}
GRADED = {"c1_1_convolution_numpy": (NUMPY_CELLS, c1_convolution), "c1_2_convnet_keras": (KERAS_CELLS, c1_convnet)}
ENTRIES = [m for m in MISTAKES if m.chapter == "c1_convolution"]


def _notebook(cells, mistake):
    return mistake.namespace(cells, base={"keras": keras, "layers": layers})


def _run_cell(checks, name, fn, kinds):
    """(points lost or None, the cell's output) of one grade cell, as the notebook runs it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if name == "conv_backward":
            credit = checks.PartialCredit("conv_backward", {"dA_prev": 1, "dW": 1, "db": 1})
            for kind in kinds:
                for part in credit:
                    credit.run(part, getattr(checks, f"{kind}_conv_backward"), fn, grads=(part,))
            try:
                return 3 - credit.total(), out.getvalue()
            except checks.CheckFailed as err:
                return 3, f"{out.getvalue()}{err}"
        try:
            for kind in kinds:
                if checks is c1_convnet:
                    getattr(checks, f"{kind}_convnet")(fn, name)
                else:
                    getattr(checks, f"{kind}_{name}")(fn)
        except Exception as err:  # noqa: BLE001 - any error fails the grade cell
            return "all", f"{out.getvalue()}{type(err).__name__}: {err}"
    return None, out.getvalue()


def _graded(mistake, kinds=("public", "hidden")):
    """{grade cell: (lost, output)} of the cells that lost points."""
    cells, checks = GRADED[mistake.notebook]
    namespace = _notebook(cells, mistake)
    results = {f"{name}_tests": _run_cell(checks, name, namespace[name], kinds) for name in cells}
    return {cell: result for cell, result in results.items() if result[0]}


@pytest.mark.parametrize("mistake", ENTRIES, ids=[f"{m.notebook}:{m.cell_grade_id}" for m in ENTRIES])
def test_a_mistake_loses_exactly_the_grade_cells_it_is_expected_to_lose(mistake):
    lost = _graded(mistake)
    partial = {cell: 3 - lost[cell][0] for cell in lost if lost[cell][0] != "all" and lost[cell][0] != 3}
    assert {cell for cell in lost if cell not in partial} == set(mistake.loses), (mistake.label, lost)
    assert partial == dict(mistake.keeps), (mistake.label, lost)
    assert all(mistake.message in output for _, output in lost.values()), lost


ZERO_PAD = Mistake("c1_convolution", "c1_1_convolution_numpy", "zero_pad", old="(pad, pad), (pad, pad)",
                   new="(0, 0), (pad, pad)", loses={"zero_pad_tests"})
OUTPUT_SIZE = Mistake("c1_convolution", "c1_1_convolution_numpy", "output_size", old="// stride + 1",
                      new="// stride", loses={"output_size_tests"})


@pytest.mark.parametrize("mistake", [ZERO_PAD, OUTPUT_SIZE], ids=["zero_pad", "output_size"])
def test_a_helper_mistake_costs_only_the_helper_and_its_callers_say_where_it_starts(mistake):
    """The docstring's example of tests/mistakes.py, and an output_size without its + 1. Only the helper's cell loses
    points: its callers' hidden tests run with the course's helper, and their public checks, which run the student's
    chain, find that it passes with the course's helper, say so, and pass."""
    own = f"{mistake.cell_grade_id}_tests"
    assert set(_graded(mistake, kinds=("hidden",))) == {own}
    assert set(_graded(mistake)) == {own} == set(mistake.loses)
    cells, checks = GRADED[mistake.notebook]
    namespace = _notebook(cells, mistake)
    printed = "".join(_run_cell(checks, name, namespace[name], ("public",))[1] for name in cells)
    assert f"the mistake starts in {mistake.cell_grade_id}" in printed
