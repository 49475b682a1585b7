"""The installation: pins agree between pyproject.toml, environment*.yml, the constraints and what is installed;
the pins resolve for every Python and install type of the matrix (pip's dry run against the registry, nothing
installed); extensions enabled; doctor's per-backend report."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.markers import Marker

from cnncourse.doctor import check_backends, check_extensions, check_pins, pinned_requirements

REPO = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")  # pyproject.toml's requires-python; cnncourse/preflight.py's SUPPORTED
# the release each resolution is for: 3.11.2 is Debian 12's python3.11, older than soupsieve 4.1.3 allows (3.11.5),
# so constraints.txt pins soupsieve by python_full_version; 3.11.5 and later resolve as 3.12 and 3.13 do
FULL_VERSION = {"3.11": "3.11.2", "3.12": "3.12.1", "3.13": "3.13.0"}
INSTALLS = {"cpu": ("constraints.txt",), "gpu": ("constraints.txt", "constraints-gpu.txt")}
ENVIRONMENT_FILES = {"cpu": "environment.yml", "gpu": "environment-gpu.yml"}
# The registry serves no separate metadata files, so a plain dry run downloads every wheel (the GPU install's CUDA
# wheels are gigabytes); pip's fast-deps reads each wheel's metadata with HTTP range requests instead.
FAST_DEPS = ("--use-feature=fast-deps",)
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "linux_x86_64")


def canonical(name):
    """PEP 503's normal form of a distribution name: "Jinja2" -> "jinja2", "tensorflow_cpu" -> "tensorflow-cpu"."""
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_yml_pins(name="environment.yml"):
    """The `name==version` lines of an environment file's pip section, as {name: version} (pip extras kept)."""
    pins = {}
    for line in (REPO / name).read_text().splitlines():
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+(?:\[[A-Za-z0-9_,\-]+\])?)==(\S+)\s*", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def constraint_pins(files, python="3.11"):
    """{canonical name: version} of constraint files, keeping the lines whose marker holds for `python`.

    pip evaluates markers against the interpreter it runs on, not --python-version; so the dry runs below get
    constraint files with the markers already evaluated here, for the version they resolve for.
    """
    env = {"python_version": python, "python_full_version": FULL_VERSION[python]}
    pins = {}
    for file in files:
        for line in (REPO / file).read_text().splitlines():
            requirement, _, marker = line.split("#", 1)[0].partition(";")
            if not requirement.strip() or (marker.strip() and not Marker(marker.strip()).evaluate(env)):
                continue
            name, _, version = requirement.partition("==")
            pins[canonical(name.strip())] = version.strip()
    return pins


@pytest.mark.parametrize("extra", sorted(INSTALLS))
def test_environment_files_and_pyproject_pin_the_same_packages(extra):
    assert environment_yml_pins(ENVIRONMENT_FILES[extra]) == pinned_requirements(extra=extra)


@pytest.mark.parametrize("extra", sorted(INSTALLS))
def test_constraints_agree_with_pyproject(extra):
    constraints = constraint_pins(INSTALLS[extra])
    for requirement, version in pinned_requirements(extra=extra).items():
        name = canonical(requirement.partition("[")[0])
        assert constraints.get(name) == version, f"{requirement}=={version}: constraints say {constraints.get(name)}"


def test_installed_versions_are_the_pinned_ones():
    wrong = [message for ok, message in check_pins() if not ok]
    assert not wrong, wrong


def test_nbgrader_jupyterlab_and_server_extensions_are_enabled():
    results = list(check_extensions())
    assert len(results) == 5
    failed = [message for ok, message in results if not ok]
    assert not failed, failed


def dry_run(python, extra, folder):
    """pip's dry run of `pip install -c CONSTRAINTS '.[extra]'`'s requirements for a Linux x86_64 CPython `python`.

    Args:
        python: "3.11", "3.12" or "3.13"; extra: "cpu" or "gpu"; folder: a scratch folder.
    Returns:
        (returncode, pip's output, {canonical name: version} that pip would install).
    """
    requirements = Path(folder) / f"requirements-{python}-{extra}.txt"
    requirements.write_text("\n".join(f"{r}=={v}" for r, v in pinned_requirements(extra=extra).items()) + "\n")
    constraints = Path(folder) / f"constraints-{python}-{extra}.txt"
    constraints.write_text("\n".join(f"{n}=={v}" for n, v in constraint_pins(INSTALLS[extra], python).items()) + "\n")
    report = Path(folder) / f"report-{python}-{extra}.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", *FAST_DEPS,
               "--only-binary=:all:", "--implementation", "cp", "--python-version", FULL_VERSION[python],
               *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
               "-c", str(constraints), "-r", str(requirements), "--report", str(report)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        return done.returncode, done.stdout + done.stderr, {}
    installs = json.loads(report.read_text())["install"]
    return 0, "", {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


@pytest.fixture(scope="module")
def resolutions():
    """{(python, extra): dry_run(...)} for the whole matrix, all six pip processes at once (mostly network waits)."""
    matrix = [(python, extra) for python in PYTHONS for extra in INSTALLS]
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(len(matrix)) as pool:
        results = pool.map(lambda case: dry_run(*case, folder), matrix)
        return dict(zip(matrix, results))


@pytest.mark.parametrize("extra", sorted(INSTALLS))
@pytest.mark.parametrize("python", PYTHONS)
def test_pins_resolve_for_every_python_and_install_type(resolutions, python, extra):
    """Every package the install would bring is pinned, at the pinned version, for this Python and install type."""
    returncode, output, installs = resolutions[(python, extra)]
    assert returncode == 0, f"Python {python}, {extra} install: pip could not resolve the pins:\n{output[-3000:]}"
    pins = constraint_pins(INSTALLS[extra], python)
    unpinned = {name: version for name, version in installs.items() if pins.get(name) != version}
    assert not unpinned, (f"Python {python}, {extra} install: pip would install these unpinned (or at another "
                          f"version than {', '.join(INSTALLS[extra])} says): {unpinned}")
    assert ("tensorflow" in installs) == (extra == "gpu") and ("tensorflow-cpu" in installs) == (extra == "cpu")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a machine with an NVIDIA driver: not the CPU case")
def test_doctor_reports_each_backend_on_this_cpu_machine():
    """Both backends start in their own process and report their version, no GPU, CPU builds, and fast mode."""
    # `make test` sets CNNCOURSE_MODE=fast: then that variable is the reason given
    why = "set by CNNCOURSE_MODE" if os.environ.get("CNNCOURSE_MODE") else "no GPU found"
    results = list(check_backends())
    assert all(ok for ok, _ in results), results
    lines = [message for _, message in results]
    for backend, version in (("tensorflow", "2.21.0"), ("jax", "0.10.2")):
        line = next(m for m in lines if m.startswith(f"backend {backend} "))
        assert line == (f"backend {backend} {version}: GPUs none (CPU only); CUDA none (CPU build), cuDNN none "
                        f"(CPU build); notebooks run in fast mode ({why})"), line
    assert lines[-1].startswith("GPU: none (this machine, CPU install)"), lines[-1]
