"""The nbgrader round trip of every real chapter in source/ (tests/roundtrip.py does the work).

For each chapter, ONE autograde run grades these submissions:
- "source": the instructor notebooks (reference cells rendered from the package) -> full marks on every grade cell;
- "release": the student notebooks, untouched -> 0 on every grade cell, and the run completes;
- the entries of tests/mistakes.py for the chapter, packed into as few submissions as they can share (see
  group_mistakes) -> 0 on exactly the cells in the `loses` of its mistakes (exactly the points of `keeps` on
  partial-credit cells), full marks elsewhere in the notebooks that carry a mistake. A mistake submission holds
  only those notebooks: an unchanged notebook would be the "source" submission's again (each notebook runs in a
  kernel of its own), so the others are left out and score 0, as nbgrader scores a notebook that was not submitted.
Real chapters train Keras models in fast mode, so a chapter takes a minute or two.
The terminal summary lists the chapters that ran and the planned chapters that are not in source/ yet.
"""

import ast
import re

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
    groups = group_mistakes(mistakes, rt.source_notebooks())
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
    roundtrip.RAN.append(f"{chapter} ({len(rt.grade_ids)} grade cells, {len(mistakes)} mistakes in {len(groups)} submission{'' if len(groups) == 1 else 's'})")


def group_mistakes(mistakes, notebooks):
    """Pack mistakes into as few submissions as possible, keeping each one's proof intact.

    Two mistakes share a submission when they lie in different notebooks (each runs in a kernel of its own), or in
    one notebook when neither can reach the other's grade cells: neither edits a solution cell that the other's
    solution cell or lost grade cells use, directly or through other solution cells (`reaches`). So a helper's
    mistake (zero_pad) never shares a submission with its caller's (conv_forward): the caller's grade cell must be
    seen to keep its points under the helper's mistake (one mistake, one loss). Fewer submissions mean fewer
    executions of the chapter's notebooks in the round trip.
    Args:
        mistakes: list of Mistake of one chapter.
        notebooks: {notebook name: source notebook}, the chapter's (read, not changed).
    Returns:
        list of lists of Mistake, in the order of `mistakes`.
    """
    uses = {}  # notebook name -> cell_uses, read once per notebook

    def clashes(a, b):
        if a.notebook != b.notebook:
            return False
        nb = notebooks[a.notebook]
        known = uses.setdefault(a.notebook, cell_uses(nb))
        return a.cell_grade_id in reaches(nb, b, known) or b.cell_grade_id in reaches(nb, a, known)

    groups = []
    for mistake in mistakes:
        for group in groups:
            if not any(clashes(mistake, other) for other in group):
                group.append(mistake)
                break
        else:
            groups.append([mistake])
    return groups


def cell_uses(nb):
    """What each graded cell of a notebook names and what each solution cell defines.

    Returns:
        (names, defined): names {grade_id: identifiers its code names}, defined {grade_id of a solution cell: names
        of the functions and classes it defines}.
    """
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")]
    names = {c.metadata["nbgrader"]["grade_id"]: _names(c.source) for c in graded}
    defined = {c.metadata["nbgrader"]["grade_id"]: set(re.findall(r"^\s*(?:def|class)\s+(\w+)", c.source, re.M))
               for c in graded if c.metadata["nbgrader"].get("solution")}
    return names, defined


def reaches(nb, mistake, uses=None):
    """grade_ids of the solution cells whose definitions the mistake's cell or its lost grade cells use.

    A cell uses a solution cell when its code (not its strings or comments) names a function or class that the
    solution cell defines; the use is followed through solution cells (conv_backward's cell uses zero_pad's). The
    mistake's own cell is included.
    Args:
        nb: the source notebook; uses: its cell_uses(nb), when already computed.
    Returns:
        set of grade_ids.
    """
    names, defined = uses or cell_uses(nb)
    reached, todo = set(), [mistake.cell_grade_id, *mistake.expected]
    while todo:
        gid = todo.pop()
        words = names.get(gid, set())
        for other, names_defined in defined.items():
            if other not in reached and (other == gid or names_defined & words):
                reached.add(other)
                todo.append(other)
    return reached


def _names(source):
    """The identifiers that a cell's code names (attributes included), without those in strings and comments."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a magic or a stub that does not parse: every word counts, which can only keep mistakes apart
        return set(re.findall(r"\w+", source))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


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


def test_mistakes_share_a_submission_unless_one_can_reach_the_others_grade_cells():
    helper = "def pad(x):\n    return x"
    caller = "def conv(x):\n    return pad(x) * 2"
    alone = "def ratio(f):\n    return 1 / f"
    nbs = {"a": notebook(solution_cell(helper, "pad"), grade_cell("assert pad(1) == 1", "pad_tests", 1),
                         solution_cell(caller, "conv"), grade_cell("assert conv(1) == 2", "conv_tests", 1),
                         solution_cell(alone, "ratio"), grade_cell("assert ratio(2) == 0.5", "ratio_tests", 1)),
           "b": notebook(solution_cell("def cube(x):\n    return x ** 3", "cube"),
                         grade_cell("assert cube(2) == 8 and pad(1) == 1", "cube_tests", 1))}
    pad, conv, ratio = (Mistake("c0", "a", gid, old="x", new="y", loses={gid + "_tests"}) for gid in ("pad", "conv", "ratio"))
    cube = Mistake("c0", "b", "cube", old="x", new="y", loses={"cube_tests"})
    # conv calls pad: apart. ratio reaches neither: with the first. cube is in another notebook: with the first.
    assert group_mistakes([pad, conv, ratio, cube], nbs) == [[pad, ratio, cube], [conv]]
    assert reaches(nbs["a"], conv) == {"conv", "pad"}
    assert reaches(nbs["a"], pad) == {"pad"}
    # a grade cell that uses another notebook's names reaches nothing there (kernels are apart)
    assert reaches(nbs["b"], cube) == {"cube"}
    # two mistakes in one cell never share a submission
    again = Mistake("c0", "a", "ratio", old="1", new="2", loses={"ratio_tests"})
    assert group_mistakes([ratio, again], nbs) == [[ratio], [again]]
