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
import numpy as np
import pytest
from nbclient import NotebookClient

from cnncourse.bench import BENCHMARKS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jax_tier import twin_steps  # noqa: E402  (tests/ is not a package)

REPO = Path(__file__).resolve().parent.parent
TIER = REPO / "tests" / "jax_tier.py"
# grade, grade-dask and grade-chapters measure nbgrader and Dask, not the backend: the round trips test those.
BENCHES = [name for name in BENCHMARKS if not name.startswith("grade")]
SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))


# JAX compiles a program per new shape, even to draw a layer's initial weights (0.3 s on a 2-core CPU, against none on
# TensorFlow): building ResNet-50 takes 4 s the first time and 0.8 s once its programs are in JAX's compilation
# cache. The tier's processes share one cache on disk, so the shapes that the notebooks, the checks and the benches
# have in common compile once per run. Every program is kept, however quick to compile (JAX keeps those of 1 s and
# more by default). The cache lives under build/, which a fresh clone does not have: each run starts cold.
JAX_CACHE = REPO / "build" / "jax-compilation-cache"


def jax_environment():
    """os.environ with KERAS_BACKEND=jax, grade mode, quiet TensorFlow logs and the tier's compilation cache."""
    return {**os.environ, "KERAS_BACKEND": "jax", "CNNCOURSE_MODE": "grade", "TF_CPP_MIN_LOG_LEVEL": "2",
            "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": str(JAX_CACHE),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def run_tier(*args, timeout=900):
    """Run tests/jax_tier.py ARGS in a fresh process; fail with its output unless it exits 0. Return stdout."""
    done = subprocess.run([sys.executable, str(TIER), *args], cwd=REPO, env=jax_environment(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"jax_tier.py {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def test_jax_twins_take_the_same_steps_as_tensorflow(tmp_path):
    """The JAX triplet step and both JAX pixel steps (eager, jitted) against TensorFlow's, from the same start."""
    import keras

    from cnncourse.models.twins import build_face_encoder
    from cnncourse.ops.c6_step import optimisation_step
    from cnncourse.train import triplet_gradient_step

    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(7)
    weights = build_face_encoder(32, 16).get_weights()
    inputs = {f"weights_{k}": w for k, w in enumerate(weights)}
    inputs.update(images=rng.random((12, 32, 32, 3), dtype=np.float32), labels=np.repeat(np.arange(4), 3),
                  pixels=rng.uniform(0, 1, (1, 6, 5, 3)).astype(np.float32),
                  target=rng.uniform(-1, 1, (1, 6, 5, 3)).astype(np.float32))
    np.savez(tmp_path / "in.npz", **inputs)
    run_tier("twins", str(tmp_path / "in.npz"), str(tmp_path / "out.npz"))
    on_jax = dict(np.load(tmp_path / "out.npz"))
    on_tf = twin_steps(inputs, triplet_gradient_step,
                       {"tape": lambda g, c, o: (lambda: optimisation_step(g, c, o))})
    assert on_jax["triplet_count"] == on_tf["triplet_count"] == 4 * 3 * 2  # every (anchor, positive) pair
    np.testing.assert_allclose(on_jax["triplet_loss"], on_tf["triplet_loss"], rtol=1e-4)
    moved = [k for k in range(len(weights)) if not np.allclose(on_tf[f"weights_{k}"], weights[k])]
    assert len(moved) >= 5, "the TensorFlow step should have moved the trainable weights"
    for k in range(len(weights)):
        np.testing.assert_allclose(on_jax[f"weights_{k}"], on_tf[f"weights_{k}"], rtol=1e-3, atol=1e-5,
                                   err_msg=f"weight {k} after one triplet step")
    assert not np.allclose(on_tf["tape_pixels"], inputs["pixels"])
    for name in ("eager", "compiled"):
        np.testing.assert_allclose(on_jax[f"{name}_pixels"], on_tf["tape_pixels"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(on_jax[f"{name}_costs"], on_tf["tape_costs"], rtol=1e-4)


def test_every_module_imports_without_tensorflow():
    out = run_tier("imports")
    assert "without TensorFlow" in out


def test_every_training_no_bench_runs_takes_its_steps():
    out = run_tier("trainings")
    print(out)
    assert out.count(" s; ") == 4, out  # one line per training


def test_every_bench_runs_at_grade_size():
    specs = [f"{name}:1" if name in ("nets", "residual", "transfer", "ensemble") else name for name in BENCHES]
    out = run_tier("bench", *specs, timeout=1800)
    print(out)
    ran = [line.split(":")[0].removeprefix("bench ") for line in out.splitlines()
           if line.startswith("bench ") and ": ok in " in line]
    assert ran == BENCHES, out


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    for key, value in jax_environment().items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import keras\nprint('ran on', keras.backend.backend())"))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   startup_timeout=120, shutdown_kernel="immediate").execute()  # raises CellExecutionError, with the cell, if one fails
    last = notebook.cells[-1].outputs
    assert last and last[0].get("text", "").strip() == "ran on jax", last
