"""The one switch between fast mode (CI, laptops) and full mode (a GPU, published quality).

Every notebook prints `describe_mode()` near its top, so the mode is never hidden. The mode changes
data sizes and epochs only: every graded function is run and checked in both modes.

A third mode, "grade", is set by the autograder (nbgrader autograde through `cnncourse grade`): no grade depends
on a training run, so trainings and experiments shrink to a smoke run of a few seconds each, and a class is
graded in a fraction of the time. It is never the default; pick() treats it as fast.
"""

import os

MODES = ("fast", "full", "grade")
ENV_VAR = "CNNCOURSE_MODE"
BACKENDS = ("tensorflow", "jax")  # the Keras backends the course runs on (docs/architecture.md, "Two backends")


def require_supported_backend():
    """Raise ValueError, saying what is supported, when KERAS_BACKEND names a backend the course does not run on.

    Reads the environment only (before Keras is imported, which would fail less clearly). Unset means tensorflow.
    Returns the backend's name.
    """
    value = os.environ.get("KERAS_BACKEND", "").strip()
    if value and value not in BACKENDS:
        raise ValueError(f"KERAS_BACKEND={value!r} is not a backend this course runs on; set it to one of "
                         f"{', '.join(BACKENDS)} (or leave it unset for tensorflow) before Python starts")
    return value or "tensorflow"


def active_backend():
    """The Keras backend this process uses: KERAS_BACKEND, else Keras' own default ("tensorflow").

    Raises ValueError (require_supported_backend) for a backend the course does not run on."""
    require_supported_backend()
    import keras

    return keras.backend.backend()


def accelerators(backend=None):
    """The GPUs a backend sees, without importing the other backend.

    Args:
        backend: "tensorflow" or "jax"; None: the active Keras backend.
    Returns:
        list of str, one per GPU, e.g. ["GPU:0 NVIDIA H200"] (empty on a CPU, or when that backend is not
        installed).
    """
    backend = backend or active_backend()
    try:
        if backend == "jax":
            import jax

            return [f"GPU:{d.id} {getattr(d, 'device_kind', d.platform)}" for d in jax.devices()
                    if d.platform in ("gpu", "cuda", "rocm")]
        if backend == "tensorflow":
            import tensorflow as tf

            return [f"GPU:{k} {d.name}" for k, d in enumerate(tf.config.list_physical_devices("GPU"))]
    except (ImportError, RuntimeError):  # not installed, or no platform could start
        return []
    return []


def gpu_available():
    """Return True when the active Keras backend sees at least one GPU."""
    return bool(accelerators())


def mode():
    """Return "fast", "full" or "grade".

    CNNCOURSE_MODE wins when set; otherwise full on a GPU, fast on a CPU.
    Raises ValueError for any other value of CNNCOURSE_MODE.
    """
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if not value:
        return "full" if gpu_available() else "fast"
    if value not in MODES:
        raise ValueError(f"{ENV_VAR} must be one of {MODES}, got {value!r}")
    return value


def pick(fast, full):
    """Return `fast` in fast (and grade) mode and `full` in full mode (e.g. pick(fast=2, full=15) epochs)."""
    return full if mode() == "full" else fast


def mode_reason():
    """Return (mode(), why): why is "set by CNNCOURSE_MODE", "a GPU was found" or "no GPU found"."""
    m = mode()
    why = f"set by {ENV_VAR}" if os.environ.get(ENV_VAR) else ("a GPU was found" if m == "full" else "no GPU found")
    return m, why


def describe_mode():
    """One line that says the mode, why, and how to change it."""
    require_supported_backend()
    m, why = mode_reason()
    return f"cnncourse mode: {m} ({why}); set {ENV_VAR}=fast or full before starting Jupyter to change it."
