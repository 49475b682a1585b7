"""Source notebooks: render reference cells from the package, and execute notebooks reproducibly.

A *reference cell* is a code cell whose metadata holds {"cnncourse": {"reference": "<dotted path>"}}, e.g.
"cnncourse.ops.conv.zero_pad". Its source is, by definition, `inspect.getsource` of that function (trailing
newlines stripped): the package is the one source of truth, and the function's body between
`### BEGIN SOLUTION` and `### END SOLUTION` is what nbgrader removes from the student's copy.
`sync_references` writes that source into the cells (or, with check=True, only reports where it differs).
"""

import importlib
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnncourse.grading.course import CourseError, notebook_environment

REFERENCE_KEY = "cnncourse"


@dataclass(frozen=True)
class Drift:
    """A reference cell whose source differs from the package function it names."""

    notebook: Path
    cell: str  # the cell's id, else its index
    reference: str

    def __str__(self):
        return f"{self.notebook}: cell {self.cell} differs from {self.reference}"


def read_notebook(path, stable_ids=False):
    """Read a notebook file as nbformat v4; raises CourseError naming the file when it cannot.

    nbformat invents a random id for a v4.5 cell that has none; with stable_ids=True such cells get a stable
    id instead (derived from the grade_id or the position). Returns the notebook (and, with stable_ids, the
    number of ids it set, as a second value).
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        added = _ensure_cell_ids(raw) if stable_ids else 0
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:
        raise CourseError(f"{path}: cannot read this notebook: {err}") from err
    return (nb, added) if stable_ids else nb


def write_notebook(nb, path):
    """Write `nb` to `path` (nbformat's layout), only when the bytes change; returns True if it wrote."""
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def cell_label(cell, index):
    """How messages name a cell: its id and grade_id when it has them, else its position."""
    label = f"'{cell['id']}'" if cell.get("id") else f"#{index + 1}"
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"{label} (grade_id {grade_id})" if grade_id else label


def resolve(dotted):
    """Return the object named by a dotted path such as "cnncourse.ops.conv.zero_pad".

    The longest importable module prefix is imported and the rest are attributes. Raises LookupError with a
    message saying which part is missing; an ImportError raised *inside* an existing module propagates.
    """
    importlib.invalidate_caches()  # a module written since start-up (tests, a fresh checkout) is found too
    parts = dotted.split(".")
    if not dotted or not all(p.isidentifier() for p in parts):
        raise LookupError(f"{dotted!r} is not a dotted path like 'cnncourse.ops.conv.zero_pad'")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name is not None and not module_name.startswith(err.name):
                raise  # the module exists but imports something that does not
            continue
        for depth, attr in enumerate(parts[i:], start=i):
            if not hasattr(obj, attr):
                raise LookupError(f"{'.'.join(parts[:depth])} has no attribute {attr!r}")
            obj = getattr(obj, attr)
        return obj
    raise LookupError(f"no module named {parts[0]!r}")


def reference_source(dotted):
    """The source that a reference cell naming `dotted` must hold: inspect.getsource, trailing newlines stripped."""
    obj = resolve(dotted)
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        raise LookupError(f"{dotted} is a {type(obj).__name__}, not a function or class")
    return inspect.getsource(obj).rstrip("\n")


def references(nb):
    """(index, cell, dotted path) for every reference cell of a notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        ref = cell.get("metadata", {}).get(REFERENCE_KEY, {})
        if isinstance(ref, dict) and "reference" in ref:
            found.append((index, cell, ref["reference"]))
    return found


def _ensure_cell_ids(raw):
    """Give the cells of a raw v4.5+ notebook dict that have no id a stable one; returns how many it set."""
    if not isinstance(raw, dict) or (raw.get("nbformat"), raw.get("nbformat_minor", 0)) < (4, 5):
        return 0
    cells = raw.get("cells", [])
    taken = {cell.get("id") for cell in cells if isinstance(cell, dict)}
    added = 0
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("id"):
            continue
        grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        base = re.sub(r"[^A-Za-z0-9-]+", "-", grade_id).strip("-")[:60] or f"cell-{index + 1}"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        cell["id"] = candidate
        taken.add(candidate)
        added += 1
    return added


def sync_notebook(path, check=False):
    """Render the reference cells of one notebook; returns the list of Drift found (fixed unless check).

    Also gives stable ids to cells that have none. With check=True nothing is written.
    Raises CourseError naming the notebook and cell when a reference cannot be resolved or is not a code cell.
    """
    path = Path(path)
    nb, ids_added = read_notebook(path, stable_ids=True)
    drifts = []
    for index, cell, dotted in references(nb):
        where = f"{path}, cell {cell_label(cell, index)}"
        if cell.cell_type != "code":
            raise CourseError(f"{where}: a reference cell must be a code cell, this one is {cell.cell_type}")
        if not isinstance(dotted, str):
            raise CourseError(f"{where}: the reference must be a dotted path string, got {dotted!r}")
        try:
            expected = reference_source(dotted)
        except (LookupError, OSError, TypeError) as err:
            raise CourseError(f"{where}: reference {dotted!r} cannot be rendered: {err}") from err
        if cell.source != expected:
            drifts.append(Drift(path, cell.get("id") or f"#{index + 1}", dotted))
            cell.source = expected
    if not check and (drifts or ids_added):
        write_notebook(nb, path)
    return drifts


def sync_references(notebooks, check=False):
    """Render the reference cells of every notebook in `notebooks` (paths); returns all Drift found."""
    drifts = []
    for path in notebooks:
        drifts.extend(sync_notebook(path, check=check))
    return drifts


def check_references(notebooks):
    """Raise CourseError listing every reference cell that differs from the package (nothing is written)."""
    drifts = sync_references(notebooks, check=True)
    if drifts:
        lines = "\n  ".join(str(d) for d in drifts)
        raise CourseError(f"{len(drifts)} reference cell(s) differ from the package; run `cnncourse build`:\n  {lines}")


# --- execution ---------------------------------------------------------------------------------------------------

_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _normalise_widget_ids(nb):
    """Replace the random ids of widget models by ids numbered in order of first appearance.

    Widgets get uuid4 model ids, so an executed notebook with a widget would change on every run. The order of
    appearance (outputs in cell order, then the saved widget state in creation order) is the same run to run,
    so the renumbered notebook is too. Every occurrence is replaced, including references between models.
    """
    order = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(_WIDGET_VIEW)
            if isinstance(view, dict) and view.get("model_id"):
                order.append(view["model_id"])
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    order.extend(state.keys())
    mapping = {}
    for model_id in order:
        if model_id not in mapping:
            mapping[model_id] = f"{len(mapping) + 1:032x}"
    if not mapping:
        return nb
    pattern = re.compile("|".join(re.escape(m) for m in sorted(mapping, key=len, reverse=True)))
    text = pattern.sub(lambda m: mapping[m.group(0)], json.dumps(nb))
    return nbformat.from_dict(json.loads(text))


KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]


def execute_notebook(src, dest, timeout=300, startup_timeout=120, extra_arguments=KERNEL_ARGUMENTS):
    """Run the notebook `src` top to bottom in fast mode and write the executed copy to `dest`.

    The kernel is python3 of this interpreter; its working folder is the notebook's folder. No timing metadata
    is recorded and widget ids are renumbered, so that running twice gives the same file where the notebook's
    own outputs allow. The widgets' state is saved in the notebook's metadata, so JupyterLab (in a trusted
    notebook), nbviewer and nbconvert's HTML show their last view without a kernel. Raises CourseError naming the notebook and cell when a cell fails or times out.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    src, dest = Path(src), Path(dest)
    nb = read_notebook(src)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=startup_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(src.parent)}},
        record_timing=False,
        shutdown_kernel="immediate",  # all outputs are in; an orderly exit only costs TensorFlow's teardown
        store_widget_state=True,  # saved notebooks show the widgets' last view without a kernel
        extra_arguments=list(extra_arguments),
    )
    try:
        with notebook_environment():
            client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        failed = [(i, c) for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        where = f"cell {cell_label(failed[0][1], failed[0][0])}" if failed else "a cell"
        if isinstance(err, CellExecutionError):
            what = f"{err.ename}: {err.evalue}"
        else:
            what = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CourseError(f"{src}: {where} failed while executing the solutions in fast mode: {what}") from err
    nb = _normalise_widget_ids(nb)
    write_notebook(nb, dest)
    return dest
