"""What a student reads holds no marker meant for CI or the grader (issue 24).

nbval's instruction to skip comparing a cell's output is the cell tag `nbval-ignore-output` (cell metadata), not the
comment `# NBVAL_IGNORE_OUTPUT` at the top of the code a student reads; the grader's own words ("autograder", its
"smoke run") stay out of the notebooks' text too.
"""

import json
import re
from pathlib import Path

import pytest
from nbval.plugin import find_comment_markers, find_metadata_tags

REPO = Path(__file__).resolve().parent.parent
SOURCE = sorted((REPO / "source").glob("*/*.ipynb"))
RELEASE = sorted((REPO / "release").glob("*/*.ipynb"))
GRADER_WORDS = re.compile(r"NBVAL|autograder|smoke run", re.IGNORECASE)


def cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", SOURCE + RELEASE, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_no_cell_carries_an_nbval_comment_or_a_grader_word(path):
    found = [(k, GRADER_WORDS.search(text(c)).group(0)) for k, c in enumerate(cells(path)) if GRADER_WORDS.search(text(c))]
    found += [(k, "nbval comment marker") for k, c in enumerate(cells(path)) if list(find_comment_markers(text(c)))]
    assert not found, f"{path.name}: cells with words meant for CI or the grader (cell, word): {found}"


@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.stem)
def test_the_ignore_tag_is_one_nbval_reads_and_sits_on_code_cells(path):
    tagged = [(k, c) for k, c in enumerate(cells(path)) if "nbval-ignore-output" in c.get("metadata", {}).get("tags", [])]
    for k, cell in tagged:
        assert cell["cell_type"] == "code", f"{path.name} cell {k}: nbval-ignore-output on a {cell['cell_type']} cell"
        assert dict(find_metadata_tags(cell["metadata"])) == {"check": False}, f"{path.name} cell {k}"


def test_the_cells_that_print_measurements_are_tagged():
    """Every training run of the course prints a measurement (seconds, accuracy): those cells are tagged."""
    untagged = [f"{p.name} cell {k}" for p in SOURCE for k, c in enumerate(cells(p))
                if c["cell_type"] == "code" and re.search(r"\['seconds'\]|\[\"seconds\"\]", text(c))
                and "nbval-ignore-output" not in c.get("metadata", {}).get("tags", [])]
    assert not untagged, f"cells that print a training time without the nbval-ignore-output tag: {untagged}"
