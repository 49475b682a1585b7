"""The nbgrader round trip of every real chapter in source/ (tests/roundtrip.py does the work).

For each chapter, ONE autograde run grades these submissions:
- "source": the instructor notebooks (reference cells rendered from the package) -> full marks on every grade cell;
- "release": the student notebooks, untouched -> 0 on every grade cell, and the run completes;
- the entries of tests/mistakes.py for the chapter, at most one per notebook in each submission -> 0 on exactly the
  cells in the `loses` of its mistakes (exactly the points of `keeps` on partial-credit cells), full marks elsewhere
  in the notebooks that carry a mistake. A mistake submission holds only those notebooks: an unchanged notebook would
  be the "source" submission's again (each notebook runs in a kernel of its own), so the others are left out and
  score 0, as nbgrader scores a notebook that was not submitted.
Real chapters train Keras models in fast mode, so a chapter takes a minute or two.
The terminal summary lists the chapters that ran and the planned chapters that are not in source/ yet.
"""

import pytest

import roundtrip
from cnncourse.grading.course import REPO, load_course
from mistakes import MISTAKES, Mistake
from roundtrip import RoundTrip, error_text, grade_cell, notebook, solution_cell

CHAPTERS = load_course(REPO / "autograder").chapters()


@pytest.mark.parametrize(
    "chapter",
    CHAPTERS or [pytest.param(None, marks=pytest.mark.skip(reason="source/ holds no chapter yet: no round trip ran"))],
)
def test_round_trip(chapter, tmp_path):
    rt = RoundTrip(REPO / "source" / chapter, tmp_path)
    mistakes = [m for m in MISTAKES if m.chapter == chapter]
    submissions = {"source": rt.source_notebooks(), "release": rt.release_notebooks()}
    expected = {"source": {}, "release": {gid: 0.0 for gid in rt.grade_ids}}  # {student: {grade_id: score}}
    groups = group_by_notebook(mistakes)
    for i, group in enumerate(groups):
        notebooks = rt.source_notebooks()
        for mistake in group:
            if mistake.notebook not in notebooks:
                raise AssertionError(f"{mistake.label}: {chapter} has no notebook {mistake.notebook!r} ({sorted(notebooks)})")
            unknown = set(mistake.expected) - set(roundtrip.grade_ids(notebooks[mistake.notebook]))
            if unknown:
                raise AssertionError(f"{mistake.label}: `loses` or `keeps` name grade cells that its notebook does not have: {sorted(unknown)}")
            mistake.apply(notebooks[mistake.notebook])
        carried = {m.notebook for m in group}
        submissions[f"mistakes{i}"] = {name: nb for name, nb in notebooks.items() if name in carried}
        not_submitted = {gid: 0.0 for name, nb in notebooks.items() if name not in carried for gid in roundtrip.grade_ids(nb)}
        expected[f"mistakes{i}"] = {**not_submitted, **{gid: score for m in group for gid, score in m.expected.items()}}

    scores = rt.grade(submissions)
    print(rt.judge_log)  # shown when the test fails: what the judge decided outside the kernels
    assert rt.grade_ids, f"{chapter} has no grade cell"
    problems = []
    for student, changed in expected.items():
        got = scores[student]
        missing = set(rt.grade_ids) - set(got)
        if missing:
            problems.append(f"{student}: no grade recorded for {sorted(missing)}")
        for grade_id in rt.grade_ids:
            score, maximum = got.get(grade_id, (None, None))
            want = changed.get(grade_id, maximum)
            if score != want:
                problems.append(f"{student}: {grade_id} scored {score}/{maximum}, expected {want}")
    for i, group in enumerate(groups):
        for mistake in group:
            if not mistake.message:
                continue
            for grade_id in sorted(mistake.expected):
                text = error_text(rt.autograded(f"mistakes{i}", mistake.notebook), grade_id, streams=True)
                if mistake.message not in text:
                    problems.append(f"{mistake.label}: the error of {grade_id} does not mention {mistake.message!r}: {text[-300:]!r}")
    assert not problems, f"{chapter} round trip:\n  " + "\n  ".join(problems)
    roundtrip.RAN.append(f"{chapter} ({len(rt.grade_ids)} grade cells, {len(mistakes)} mistakes in {len(groups)} submissions)")


def group_by_notebook(mistakes):
    """Pack mistakes into as few submissions as possible, at most one mistake per notebook in each.

    Notebooks run in separate kernels, so a mistake in one cannot change the grades of another: one submission can
    carry one mistake per notebook and still prove that each loses exactly its own points. This keeps the number of
    graded submissions (each runs every notebook of the chapter) small.
    Returns:
        list of lists of Mistake, in the order of `mistakes`.
    """
    groups = []
    for mistake in mistakes:
        for group in groups:
            if all(m.notebook != mistake.notebook for m in group):
                group.append(mistake)
                break
        else:
            groups.append([mistake])
    return groups


def test_a_mistake_that_no_longer_matches_its_notebook_fails_loudly():
    nb = notebook(solution_cell("def f(x):\n    return x + 1", "f"), grade_cell("assert f(1) == 2", "f_tests", 1))
    Mistake("c0", "nb.ipynb", "f", old="x + 1", new="x + 2", loses={"f_tests"}).apply(nb)
    assert nb.cells[0].source == "def f(x):\n    return x + 2"
    with pytest.raises(ValueError, match="occurs 0 times"):
        Mistake("c0", "nb", "f", old="x + 1", new="x", loses={"f_tests"}).apply(nb)
    with pytest.raises(ValueError, match="not a solution cell"):
        Mistake("c0", "nb", "f_tests", old="f(1)", new="f(2)", loses={"f_tests"}).apply(nb)
    with pytest.raises(ValueError, match="`loses` is empty"):
        Mistake("c0", "nb", "f", old="x", new="y", loses=set())


def test_mistakes_share_a_submission_only_across_notebooks():
    a1, a2, b1 = (Mistake("c0", nb, gid, old="x", new="y", loses={gid + "_tests"})
                  for nb, gid in (("a", "f"), ("a", "g"), ("b", "h")))
    assert group_by_notebook([a1, a2, b1]) == [[a1, b1], [a2]]
