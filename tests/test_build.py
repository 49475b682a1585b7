"""`cnncourse build`: reference cells follow the package, release/ strips what students must not see, the build
is reproducible, and the committed source notebooks never drift from the package.

Most tests use a tiny synthetic chapter (tests/roundtrip.py) so they run in seconds; the last two check the real
course in source/.
"""

import shutil
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading.build import build
from cnncourse.grading.course import REPO, CourseError, load_course, notebook_environment
from cnncourse.grading.notebooks import check_references, reference_source, sync_references
from roundtrip import SYNTHETIC_CHAPTER, make_synthetic_repo, reference_cell, notebook, write


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A synthetic repository whose reference module is importable (a fresh module name per test)."""
    module = f"synthref_{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    root = make_synthetic_repo(tmp_path, module)
    yield root, module
    sys.modules.pop(module, None)


def _cell(nb, grade_id):
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def _tree(folder):
    """{relative path: bytes} of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_check_reports_drift_without_writing_and_sync_rewrites(repo):
    root, module = repo
    part1 = root / "source" / SYNTHETIC_CHAPTER / "part1.ipynb"
    before = part1.read_bytes()

    with pytest.raises(CourseError) as err:
        check_references([part1])
    assert "part1.ipynb" in str(err.value) and f"{module}.double" in str(err.value) and "cnncourse build" in str(err.value)
    assert part1.read_bytes() == before, "check mode wrote the notebook"

    drifts = sync_references([part1])
    assert [d.reference for d in drifts] == [f"{module}.double"]
    synced = nbformat.read(str(part1), as_version=4)
    expected = reference_source(f"{module}.double")
    assert _cell(synced, "double").source == expected
    assert expected.startswith("def double(x):") and "### BEGIN SOLUTION" in expected and not expected.endswith("\n")
    check_references([part1])  # in step now: does not raise

    # nothing to change: the file is not rewritten
    written = part1.read_bytes()
    assert sync_references([part1]) == [] and part1.read_bytes() == written

    # a hand edit of the notebook's copy is drift, and sync puts the package's version back
    _cell(synced, "double").source = expected.replace("2 * x", "x + x")
    write(synced, part1)
    assert [d.reference for d in sync_references([part1], check=True)] == [f"{module}.double"]
    sync_references([part1])
    assert _cell(nbformat.read(str(part1), as_version=4), "double").source == expected


def test_unknown_reference_names_the_notebook_and_the_cell(tmp_path):
    path = write(notebook(reference_cell("cnncourse.ops.conv.no_such_function", "broken_ref")), tmp_path / "nb.ipynb")
    with pytest.raises(CourseError) as err:
        sync_references([path])
    message = str(err.value)
    assert str(path) in message and "broken_ref" in message
    assert "cnncourse.ops.conv.no_such_function" in message and "no attribute 'no_such_function'" in message

    path = write(notebook(reference_cell("no_such_package.f", "other_ref")), tmp_path / "nb2.ipynb")
    with pytest.raises(CourseError, match="other_ref.*no module named 'no_such_package'"):
        sync_references([path])


def test_cells_without_an_id_get_a_stable_one(tmp_path):
    path = write(notebook(nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("2")), tmp_path / "nb.ipynb")
    raw = nbformat.read(str(path), as_version=4)
    text = path.read_text()
    for cell in raw.cells:
        text = text.replace(f'"id": "{cell.id}",', "")
    path.write_text(text)
    sync_references([path])
    assert [c.id for c in nbformat.read(str(path), as_version=4).cells] == ["cell-1", "cell-2"]


def test_build_releases_without_solutions_executes_solutions_and_is_reproducible(repo):
    root, module = repo
    result = build(repo=root, execute=True)
    assert result.chapters == [SYNTHETIC_CHAPTER]

    # release/: solutions and hidden tests are gone, public tests and signatures stay
    release = root / "release" / SYNTHETIC_CHAPTER
    part1 = nbformat.read(str(release / "part1.ipynb"), as_version=4)
    part2 = nbformat.read(str(release / "part2.ipynb"), as_version=4)
    double, square, cube = _cell(part1, "double").source, _cell(part1, "square").source, _cell(part2, "cube").source
    for stub in (double, square, cube):
        assert "# YOUR CODE HERE\n    raise NotImplementedError()" in stub and "BEGIN SOLUTION" not in stub
    assert double.startswith("def double(x):") and '"""Return 2 * x."""' in double and "2 * x\n" not in double
    assert "return x * x" not in square and "x ** 3" not in cube
    for grade_id in ("double_tests", "square_tests"):
        tests = _cell(part1, grade_id).source
        assert "assert" in tests and "HIDDEN" not in tests and "-1.5" not in tests and "-3)" not in tests
    assert "HIDDEN" not in _cell(part2, "cube_tests").source and "cube(-1)" not in _cell(part2, "cube_tests").source
    assert _cell(part1, "square_tests").metadata["editable"] is False
    assert all(not c.get("outputs") for c in part1.cells + part2.cells)

    # solutions/: executed in fast mode, no timing metadata, source text unchanged
    solution = nbformat.read(str(root / "solutions" / SYNTHETIC_CHAPTER / "part1.ipynb"), as_version=4)
    source = nbformat.read(str(root / "source" / SYNTHETIC_CHAPTER / "part1.ipynb"), as_version=4)
    code = [c for c in solution.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all("execution" not in c.metadata for c in solution.cells)
    assert [c.source for c in solution.cells] == [c.source for c in source.cells]
    assert [c.id for c in solution.cells] == [c.id for c in source.cells]

    # nbgrader's gradebook lives in autograder/; its working folders do not appear at the top of the repository
    assert (root / "autograder" / "gradebook.db").is_file()
    assert not any((root / name).exists() for name in ("gradebook.db", "submitted", "autograded", "feedback"))

    # a second build on the same source changes nothing, byte for byte
    first_release, first_solutions = _tree(root / "release"), _tree(root / "solutions")
    second = build(repo=root, execute=True)
    assert second.synced == []
    assert _tree(root / "release") == first_release
    assert _tree(root / "solutions") == first_solutions


def test_build_refuses_an_unknown_chapter_and_names_the_known_ones(repo):
    root, _ = repo
    with pytest.raises(CourseError, match=f"c9_nope.*{SYNTHETIC_CHAPTER}"):
        build(chapters=["c9_nope"], repo=root, execute=False)


def test_a_failing_solution_cell_stops_the_build_naming_the_notebook(repo):
    root, _ = repo
    path = root / "source" / SYNTHETIC_CHAPTER / "part2.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    _cell(nb, "cube").source = _cell(nb, "cube").source.replace("x ** 3", "x ** 2")
    write(nb, path)
    with pytest.raises(CourseError, match="part2.ipynb.*cube"):
        build(repo=root, execute=True)


# --- the real course ---------------------------------------------------------------------------------------------

REAL_CHAPTERS = load_course(REPO / "autograder").chapters()


@pytest.mark.skipif(not REAL_CHAPTERS, reason="source/ holds no chapter yet")
def test_source_notebooks_match_the_package():
    """Every reference cell of source/ is exactly the package function it names (run `cnncourse build` if not)."""
    notebooks = sorted((REPO / "source").glob("*/*.ipynb"))
    with notebook_environment():  # quiet TensorFlow start-up notices when the package is imported
        check_references(notebooks)
    print(f"reference cells in step for: {', '.join(REAL_CHAPTERS)}")


@pytest.mark.skipif(not (REPO / "release").is_dir(), reason="release/ has not been built yet")
def test_committed_release_is_what_the_build_makes(tmp_path):
    """Building source/ again (in a scratch copy) reproduces the committed release/ byte for byte."""
    shutil.copytree(REPO / "source", tmp_path / "source")
    (tmp_path / "autograder").mkdir()
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", tmp_path / "autograder")
    build(repo=tmp_path, execute=False)
    built, committed = _tree(tmp_path / "release"), _tree(REPO / "release")
    assert sorted(built) == sorted(committed), "release/ holds other files than the build makes"
    stale = [name for name in built if built[name] != committed[name]]
    assert not stale, f"release/ is not what `cnncourse build` makes of source/: {stale}"


def test_widget_model_ids_are_renumbered_the_same_way_on_every_run():
    """Executed notebooks with widgets get random model ids; the build renumbers them by order of appearance."""
    from cnncourse.grading.notebooks import _normalise_widget_ids

    def executed(ids):
        view, layout, other = ids
        nb = notebook(nbformat.v4.new_code_cell("w", id="w"), nbformat.v4.new_code_cell("v", id="v"))
        nb.cells[0].outputs = [nbformat.v4.new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": view, "version_major": 2}}
        )]
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
            other: {"model_name": "Other", "state": {}},
            view: {"model_name": "Slider", "state": {"layout": f"IPY_MODEL_{layout}"}},
            layout: {"model_name": "Layout", "state": {}},
        }, "version_major": 2, "version_minor": 0}}
        return nb

    first = _normalise_widget_ids(executed([uuid.uuid4().hex for _ in range(3)]))
    second = _normalise_widget_ids(executed([uuid.uuid4().hex for _ in range(3)]))
    assert nbformat.writes(first) == nbformat.writes(second)
    state = first.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    view_id = first.cells[0].outputs[0].data["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert state[view_id]["model_name"] == "Slider"  # references between models follow the renumbering
    assert state[state[view_id]["state"]["layout"].removeprefix("IPY_MODEL_")]["model_name"] == "Layout"


def test_executed_notebooks_keep_the_widget_state_and_stay_reproducible(tmp_path):
    """solutions/ shows the widgets' last view without a kernel: the build saves their state, with stable ids."""
    from cnncourse.grading.notebooks import execute_notebook

    src = write(notebook(nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3, description='k')",
                                                   id="w")), tmp_path / "widget.ipynb")
    first = execute_notebook(src, tmp_path / "a" / "widget.ipynb", timeout=60)
    second = execute_notebook(src, tmp_path / "b" / "widget.ipynb", timeout=60)
    assert first.read_bytes() == second.read_bytes()
    nb = nbformat.read(str(first), as_version=4)
    view = nb.cells[0].outputs[0].data["application/vnd.jupyter.widget-view+json"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    slider = state[view["model_id"]]
    assert slider["model_name"] == "IntSliderModel" and slider["state"]["value"] == 3
    assert view["model_id"] == f"{1:032x}"
