"""`cnncourse student`: the student edition of the package, made from the same source as the grader's.

The full package holds every answer (the bodies between `### BEGIN SOLUTION` and `### END SOLUTION`) and every
hidden check. A class's students get an edition made by ONE transformation of that source, the way nbgrader makes
the student notebooks:
- every solution region becomes nbgrader's code stub, `# YOUR CODE HERE` and a `raise NotImplementedError(...)`
  whose message names the exercise (cnncourse.edition.stub_message), indented like the region;
- every `hidden_*` function of cnncourse/checks is removed, and so are the private helpers that only they used;
- the instructor's tools are left out: cnncourse/grading (build, grade, this module) and cnncourse/bench;
- cnncourse/edition.py says EDITION = "student" and maps each stubbed function to its notebook.
The package's own machinery (widgets, experiments, data) never calls a graded function (it uses the twins of
cnncourse/ops/twins.py and cnncourse/models/twins.py), so every release notebook runs on the student edition.

`--reveal CHAPTER` keeps that chapter's answers, for example after its deadline.

Output, in `out` (default dist/student/): the wheel `cnncourse-<version>+student-py3-none-any.whl`, the release
notebooks (release/<chapter>/), the pins to install with (constraints.txt, constraints-gpu.txt,
requirements-nodeps.txt), the students' nbgrader_config.py (course id and exchange, from
autograder/student_nbgrader_config.py), README.md for students, and MANIFEST.json (what was stubbed, removed and
revealed).
"""

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cnncourse.grading.course import REPO, CourseError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError(stub_message())"
STUB_IMPORT = "from cnncourse.edition import stub_message  # student edition: graded bodies are stubs"
LEFT_OUT = ("grading", "bench")  # sub-packages of instructor tools, not in the student edition
HIDDEN_PREFIX = "hidden_"


def solution_regions(text):
    """Line ranges of the solution regions of a module's source.

    Args:
        text: Python source.
    Returns:
        list of (begin, end) 0-based line indices of the BEGIN and END marker lines.
    Raises:
        CourseError on a nested or unclosed region (a marker must stand alone on its line).
    """
    regions, begin = [], None
    for i, line in enumerate(text.split("\n")):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise CourseError(f"line {i + 1}: {BEGIN} inside another solution region (opened on line {begin + 1})")
            begin = i
        elif marker == END:
            if begin is None:
                raise CourseError(f"line {i + 1}: {END} without {BEGIN}")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise CourseError(f"line {begin + 1}: {BEGIN} is never closed by {END}")
    return regions


def stub_regions(text, stub=CODE_STUB):
    """Replace each solution region (markers included) by the stub, indented like the BEGIN marker.

    Returns:
        (new text, number of regions replaced).
    """
    lines = text.split("\n")
    regions = solution_regions(text)
    for begin, end in reversed(regions):
        indent = re.match(r"\s*", lines[begin]).group(0)
        lines[begin:end + 1] = [indent + s for s in stub.split("\n")]
    return "\n".join(lines), len(regions)


def _owner(tree, line):
    """Qualified name of the innermost top-level function or class (method: Class) holding a 1-based line."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.lineno <= line <= node.end_lineno:
            return node.name
    return None


def graded_functions(package_dir=REPO / "cnncourse"):
    """Every top-level function or class of the package that holds a solution region.

    Returns:
        {name: dotted module} (the class for a method's region, e.g. LocalResponseNormalization).
    """
    package_dir = Path(package_dir)
    graded = {}
    for path in sorted(package_dir.rglob("*.py")):
        text = path.read_text()
        regions = solution_regions(text)
        if not regions:
            continue
        tree = ast.parse(text)
        module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
        for begin, _ in regions:
            owner = _owner(tree, begin + 1)
            if owner is None:
                raise CourseError(f"{path}: the solution region on line {begin + 1} is not inside a function or class")
            graded[owner] = module
    return graded


def _top_level_spans(tree):
    """{name: (first line, last line)} (1-based, decorators included) of the module's top-level defs and assigns."""
    spans = {}
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            spans[node.name] = (first, node.end_lineno)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            spans[node.targets[0].id] = (first, node.end_lineno)
    return spans


def _names_used(tree, skip):
    """Names read anywhere in the module outside the top-level definitions listed in skip."""
    used = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in skip:
            continue
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in skip for t in node.targets):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                used.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                used.add(sub.attr)
    return used


def strip_hidden_checks(text):
    """Remove the hidden_* functions, then every private top-level helper that nothing left uses.

    Returns:
        (new text, sorted list of the names removed).
    """
    tree = ast.parse(text)
    spans = _top_level_spans(tree)
    removed = {name for name in spans if name.startswith(HIDDEN_PREFIX)}
    while True:  # a helper used only by removed code goes too; repeat until nothing changes
        used = _names_used(tree, removed)
        orphans = {n for n in spans if n.startswith("_") and not n.startswith("__") and n not in removed and n not in used}
        if not orphans:
            break
        removed |= orphans
    lines = text.split("\n")
    for name in sorted(removed, key=lambda n: spans[n][0], reverse=True):
        first, last = spans[name]
        del lines[first - 1:last]
    cleaned = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines))
    return cleaned, sorted(removed)


def _add_stub_import(text):
    """Insert STUB_IMPORT after the module's docstring and `from __future__` imports."""
    tree = ast.parse(text)
    after = 0
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)
        if is_doc or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = node.end_lineno
        else:
            break
    lines = text.split("\n")
    return "\n".join(lines[:after] + ["", STUB_IMPORT] + lines[after:])


def exercise_notebooks(source_dir=REPO / "source"):
    """{dotted reference: "<chapter>/<notebook>.ipynb"} from the reference cells of the source notebooks."""
    exercises = {}
    for path in sorted(Path(source_dir).glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            reference = cell.get("metadata", {}).get("cnncourse", {}).get("reference")
            if reference:
                exercises[reference] = f"{path.parent.name}/{path.name}"
    return exercises


def transform_package(package_dir, staged_dir, exercises, reveal=()):
    """Write the student edition of package_dir into staged_dir (a new folder named cnncourse).

    Args:
        package_dir: the full package's folder.
        staged_dir: where to write; must not exist.
        exercises: {dotted name: "<chapter>/<notebook>"} (exercise_notebooks()).
        reveal: chapters whose solution regions are kept.
    Returns:
        dict with "stubbed" ({dotted name: notebook}), "revealed" (dotted names kept), "removed_checks" (names).
    """
    package_dir, staged_dir = Path(package_dir), Path(staged_dir)
    graded = graded_functions(package_dir)
    unknown = [f"{module}.{name}" for name, module in graded.items() if f"{module}.{name}" not in exercises]
    if unknown:
        raise CourseError(f"graded functions without a reference cell in any source notebook: {', '.join(unknown)}")
    shutil.copytree(package_dir, staged_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *LEFT_OUT))
    report = {"stubbed": {}, "revealed": [], "removed_checks": []}
    for path in sorted(staged_dir.rglob("*.py")):
        text, changed = path.read_text(), False
        module = "cnncourse." + ".".join(path.relative_to(staged_dir).with_suffix("").parts)
        owners = {name for name, mod in graded.items() if mod == module}
        revealed = {n for n in owners if exercises[f"{module}.{n}"].split("/")[0] in reveal}
        if owners and not revealed:
            text, _ = stub_regions(text)
            text, changed = _add_stub_import(text), True
            report["stubbed"].update({f"{module}.{n}": exercises[f"{module}.{n}"] for n in sorted(owners)})
        elif revealed and revealed != owners:
            raise CourseError(f"{module} holds exercises of several chapters; --reveal cannot split it")
        else:
            report["revealed"].extend(f"{module}.{n}" for n in sorted(revealed))
        if path.parent.name == "checks":
            text, removed = strip_hidden_checks(text)
            report["removed_checks"].extend(f"{module}.{n}" for n in removed)
            changed = changed or bool(removed)
        if changed:
            path.write_text(text)
    edition = staged_dir / "edition.py"
    text = edition.read_text()
    text = text.replace('EDITION = "full"', 'EDITION = "student"')
    text = text.replace("REVEALED = ()", f"REVEALED = {tuple(sorted(reveal))!r}")
    text = re.sub(r"EXERCISES = \{\}.*", "EXERCISES = " + json.dumps(report["stubbed"], indent=4), text)
    edition.write_text(text)
    return report


STUDENT_README = """# cnncourse, student edition

This folder holds the course for students: the notebooks (`release/<chapter>/`) and the `cnncourse` package they
import, **without the answers**: every function you write in an exercise is a stub in this package, and the hidden
tests are not here. Your own code in the notebook is what runs.

Install (Python {python}, a fresh virtual environment; your instructor may have done this in your image already):

    python -m pip install -c constraints.txt "{wheel}[cpu]"
    python -m pip install --no-deps -r requirements-nodeps.txt
    jupyter lab release/

On a machine with an NVIDIA GPU (`nvidia-smi` lists it; a driver for CUDA 12), the GPU install instead of the first
line: `python -m pip install -c constraints.txt -c constraints-gpu.txt "{wheel}[gpu]"` (a few gigabytes).

Write your code between `# YOUR CODE HERE` markers, run the checks under each exercise, and press **Validate**
before you submit. Fast mode (the default on a CPU) keeps every notebook to minutes on a laptop.
"""


def build_student_edition(out=REPO / "dist" / "student", reveal=(), repo=REPO):
    """Make the student edition in `out` (replaced if it exists).

    Args:
        out: output folder.
        reveal: chapters whose answers are kept (names of folders of source/).
        repo: the repository (its cnncourse/, source/, release/, pyproject.toml and pins).
    Returns:
        dict: MANIFEST.json's content, with "wheel" the wheel's path.
    Raises:
        CourseError for an unknown chapter in reveal, or when the wheel cannot be built (with pip's output).
    """
    repo, out = Path(repo), Path(out)
    chapters = sorted(p.name for p in (repo / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    unknown = sorted(set(reveal) - set(chapters))
    if unknown:
        raise CourseError(f"--reveal: unknown chapter(s) {', '.join(unknown)}; the chapters are: {', '.join(chapters)}")
    with tempfile.TemporaryDirectory(prefix="cnncourse-student-") as tmp:
        stage = Path(tmp) / "project"
        stage.mkdir()
        report = transform_package(repo / "cnncourse", stage / "cnncourse", exercise_notebooks(repo / "source"),
                                   reveal)
        pyproject = (repo / "pyproject.toml").read_text()
        version = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
        pyproject = pyproject.replace(f'version = "{version}"', f'version = "{version}+student"', 1)
        pyproject = re.sub(r'^readme = .*\n', "", pyproject, flags=re.M)
        (stage / "pyproject.toml").write_text(pyproject)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                              "--no-index", "--wheel-dir", str(out), str(stage)], capture_output=True, text=True)
        if run.returncode != 0:
            raise CourseError(f"building the student wheel failed:\n{run.stdout}{run.stderr}")
    wheel = next(out.glob("cnncourse-*.whl"))
    shutil.copytree(repo / "release", out / "release", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for pins in ("constraints.txt", "constraints-gpu.txt", "requirements-nodeps.txt"):
        shutil.copy2(repo / pins, out / pins)
    shutil.copy2(repo / "autograder" / "student_nbgrader_config.py", out / "nbgrader_config.py")
    python = re.search(r'^requires-python = "([^"]+)"', pyproject, re.M).group(1)
    (out / "README.md").write_text(STUDENT_README.format(wheel=wheel.name, python=python))
    manifest = {"version": f"{version}+student", "wheel": wheel.name, "revealed_chapters": sorted(reveal), **report}
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"student edition: {out} ({wheel.name}; {len(report['stubbed'])} graded functions stubbed, "
          f"{len(report['removed_checks'])} hidden checks and helpers removed"
          + (f", answers of {', '.join(sorted(reveal))} kept" if reveal else "") + ")")
    return {**manifest, "wheel": wheel}
