"""The JAX tier: the package on KERAS_BACKEND=jax, on the CPU, as on a GPU machine that has JAX and no TensorFlow.

Each test runs tests/jax_tier.py (or a notebook) in a fresh process with KERAS_BACKEND=jax and CNNCOURSE_MODE=grade.
The package parts run with TensorFlow made unimportable; the solution notebooks run with TensorFlow present, since a
notebook may teach a TensorFlow op, and TensorFlow stays the tests' oracle library. These tests execute; they do
not compare figures with the TensorFlow backend's (the trainings are smoke runs; their results are printed).
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cnncourse.bench import BENCHMARKS

REPO = Path(__file__).resolve().parent.parent
TIER = REPO / "tests" / "jax_tier.py"
# grade, grade-dask and grade-chapters measure nbgrader and Dask, not the backend: the round trips test those.
BENCHES = [name for name in BENCHMARKS if not name.startswith("grade")]
SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))


def jax_environment():
    """os.environ with KERAS_BACKEND=jax, grade mode and quiet TensorFlow logs."""
    return {**os.environ, "KERAS_BACKEND": "jax", "CNNCOURSE_MODE": "grade", "TF_CPP_MIN_LOG_LEVEL": "2",
            "JAX_PLATFORMS": "cpu"}


def run_tier(*args, timeout=900):
    """Run tests/jax_tier.py ARGS in a fresh process; fail with its output unless it exits 0. Return stdout."""
    done = subprocess.run([sys.executable, str(TIER), *args], cwd=REPO, env=jax_environment(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"jax_tier.py {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def test_every_module_imports_without_tensorflow():
    out = run_tier("imports")
    assert "without TensorFlow" in out


def test_every_training_runs_a_step():
    out = run_tier("trainings")
    print(out)
    assert out.count(" s; ") == 10, out  # one line per training


@pytest.mark.parametrize("name", BENCHES)
def test_bench_runs_at_grade_size(name):
    print(run_tier("bench", name, *(["1"] if name in ("nets", "residual", "transfer") else [])))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    for key, value in jax_environment().items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import keras\nprint('ran on', keras.backend.backend())"))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   startup_timeout=120).execute()  # raises CellExecutionError, with the cell, if one fails
    last = notebook.cells[-1].outputs
    assert last and last[0].get("text", "").strip() == "ran on jax", last
