"""What one Keras backend sees: its version, its GPUs, the CUDA and cuDNN it was built with, and the course's mode.

`cnncourse doctor` runs `python -m cnncourse.probe` once per backend, each in a subprocess with KERAS_BACKEND set
(a process can hold one Keras backend), and reads the one JSON line it prints.
"""

import json
import sys

from cnncourse import config

CPU_BUILD = "none (CPU build)"


def _tensorflow_build():
    """Return (version, cuda, cudnn) of the installed TensorFlow, from tf.sysconfig.get_build_info()."""
    import tensorflow as tf

    info = tf.sysconfig.get_build_info()
    if not info.get("is_cuda_build"):
        return tf.__version__, CPU_BUILD, CPU_BUILD
    return tf.__version__, str(info.get("cuda_version", "unknown")), str(info.get("cudnn_version", "unknown"))


def _dotted(number, parts):
    """12090 -> "12.9" (parts=2), 92800 -> "9.28.0" (parts=3): CUDA's and cuDNN's integer versions as text."""
    if parts == 2:
        return f"{number // 1000}.{number % 1000 // 10}"
    return f"{number // 10000}.{number % 10000 // 100}.{number % 100}"


def _jax_build():
    """Return (version, cuda, cudnn) of the installed JAX: the versions its CUDA plugin was built with, if any."""
    import jax
    from jax._src import lib

    versions = getattr(lib, "cuda_versions", None)  # None without a CUDA plugin (jax[cuda12])
    if versions is None:
        return jax.__version__, CPU_BUILD, CPU_BUILD
    try:
        cuda = _dotted(versions.cuda_runtime_build_version(), 2)
        cudnn = _dotted(versions.cudnn_build_version(), 3)
    except (AttributeError, RuntimeError, OSError) as err:
        cuda = cudnn = f"CUDA plugin present, versions unreadable ({err})"
    return jax.__version__, cuda, cudnn


def probe():
    """Report on the backend named by KERAS_BACKEND (tensorflow when unset).

    Returns:
        dict with backend, version, accelerators (list of str, empty on a CPU), cuda, cudnn, mode, why.
    Raises:
        ValueError: KERAS_BACKEND names a backend the course does not run on.
        ImportError: that backend is not installed.
    """
    backend = config.require_supported_backend()
    version, cuda, cudnn = (_jax_build if backend == "jax" else _tensorflow_build)()
    mode, why = config.mode_reason()
    return {"backend": backend, "version": version, "accelerators": config.accelerators(backend),
            "cuda": cuda, "cudnn": cudnn, "mode": mode, "why": why}


if __name__ == "__main__":
    print(json.dumps(probe()))
    sys.exit(0)
