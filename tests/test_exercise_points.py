"""The points that an exercise heading promises are the points its grade cells give.

Every graded function of a source notebook is introduced by an exercise heading, "### Exercise 4 — `conv_forward`
(3 points)" or "**Exercise 1 — `lenet5` (2 points).**". An exercise owns the cells from its heading up to the next
heading: the solution cell that defines the named function (or class, for `Class.method`) and the grade cells
whose nbgrader metadata holds the points. The heading's number must equal the sum of those points, and no grade
cell may stand outside an exercise.
"""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "source").glob("*/*.ipynb"))
HEADING = re.compile(r"(?:^### |\*\*)Exercise (\d+) — `([^`]+)`(?: \((\d+) points?\b[^)]*\))?", re.M)


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def exercises(path):
    """(heading text, promised points or None, name, graded points, defines the name?) per exercise heading, and
    the grade_ids of the grade cells before the first heading."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    found, orphans, current = [], [], None
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown":
            for match in HEADING.finditer(_source(cell)):
                current = {"heading": match.group(0), "promised": match.group(3) and int(match.group(3)),
                           "name": match.group(2), "graded": 0, "defined": False}
                found.append(current)
        if meta.get("grade"):
            if current is None:
                orphans.append(meta.get("grade_id"))
            else:
                current["graded"] += meta.get("points", 0)
        if current is not None and meta.get("solution") and cell["cell_type"] == "code":
            top = current["name"].split(".")[0]
            if re.search(rf"^(def|class) {re.escape(top)}\b", _source(cell), re.M):
                current["defined"] = True
    return found, orphans


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_heading_states_the_points_of_its_grade_cells(path):
    found, orphans = exercises(path)
    graded = sum(e["graded"] for e in found)
    assert not orphans, f"{path.name}: grade cells {orphans} come before any exercise heading"
    if not found:
        pytest.skip(f"{path.name} has no graded exercise")
    for e in found:
        assert e["promised"] is not None, f"{path.name}: {e['heading']!r} does not say its points"
        assert e["promised"] == e["graded"], (
            f"{path.name}: {e['heading']!r} promises {e['promised']} points, its grade cells give {e['graded']:g}")
        assert e["defined"], f"{path.name}: no solution cell after {e['heading']!r} defines {e['name']}"
    assert graded > 0


def test_every_notebook_with_grade_cells_has_exercise_headings():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in cells):
            assert exercises(path)[0], f"{path.name} has grade cells but no exercise heading"
