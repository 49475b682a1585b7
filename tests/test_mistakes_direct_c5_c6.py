"""tests/mistakes.py's Chapter 5 and 6 entries, checked without nbgrader: each mistake is applied to the source of
the package's reference (which is what the notebook's solution cell holds), the chapter's graded functions are
defined again in one namespace, as a notebook defines them, and every grade cell's public and hidden checks run.
The cells that fail must be exactly the entry's `loses`, and each failure must name its `message`. The nbgrader
round trip (test_roundtrip_chapters.py) proves the same through the grader; this keeps the file honest in seconds.
"""


import pytest

from cnncourse.checks import c5_faces, c5_verification, c6_style
from cnncourse.models import c5_faces as faces
from cnncourse.models import c5_verification as verification
from cnncourse.ops import c6_costs, c6_step
from mistakes import MISTAKES

# grade cell -> (module of the reference, checks module); one notebook's functions share one namespace
GRADED = {
    "c5_1_triplet_loss": {name: (faces, c5_faces) for name in ("face_encoder", "triplet_loss", "semi_hard_triplets")},
    "c5_2_verification": {name: (verification, c5_verification) for name in ("verify", "who_is_it", "pair_classifier")},
    "c6_1_neural_style_transfer": {
        **{name: (c6_costs, c6_style) for name in ("content_cost", "gram_matrix", "layer_style_cost", "style_cost",
                                                     "total_cost")},
        "optimisation_step": (c6_step, c6_style)},
}
ENTRIES = [m for m in MISTAKES if m.notebook in GRADED]


def _notebook(graded, mistake):
    return mistake.namespace({name: module for name, (module, _) in graded.items()})


def _failed_cells(mistake, run_public=True):
    graded = GRADED[mistake.notebook]
    namespace = _notebook(graded, mistake)
    failed = {}
    for name, (_, checks) in graded.items():
        try:
            for kind in ("public", "hidden") if run_public else ("hidden",):
                getattr(checks, f"{kind}_{name}")(namespace[name])
        except Exception as err:  # noqa: BLE001 - any error fails the grade cell
            failed[f"{name}_tests"] = str(err)
    return failed


@pytest.mark.parametrize("mistake", ENTRIES, ids=[f"{m.notebook}:{m.cell_grade_id}" for m in ENTRIES])
def test_a_mistake_fails_exactly_the_grade_cells_it_is_expected_to_lose(mistake):
    failed = _failed_cells(mistake)
    assert set(failed) == set(mistake.loses) and not mistake.keeps, (mistake.label, sorted(failed))
    assert all(mistake.message in text for text in failed.values()), failed


def test_a_gram_mistake_costs_only_gram_matrix_also_when_the_public_checks_run(capsys):
    """A^T A instead of A A^T. The hidden tests of layer_style_cost and style_cost run with the course's gram_matrix;
    their public checks run the student's chain, find that it passes with the course's gram_matrix, say so, and pass:
    the mistake costs gram_matrix's 2 points of 13, once."""
    from mistakes import Mistake

    gram = Mistake("c6_style_transfer", "c6_1_neural_style_transfer", "gram_matrix",
                   old="ops.matmul(A, ops.transpose(A))", new="ops.matmul(ops.transpose(A), A)",
                   loses={"gram_matrix_tests"})
    assert set(_failed_cells(gram, run_public=False)) == {"gram_matrix_tests"}
    assert set(_failed_cells(gram)) == {"gram_matrix_tests"}
    assert "the mistake is in your gram_matrix" in capsys.readouterr().out
