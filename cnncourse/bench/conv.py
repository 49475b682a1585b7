"""Why frameworks exist: the same convolution as loops, as vectorized numpy, and as the Keras backend's own
(keras.ops.conv: tf.nn.conv2d on TensorFlow, jax.lax.conv_general_dilated on JAX)."""

import platform
import time

import numpy as np

from cnncourse.ops.conv import conv_forward
from cnncourse.ops.vectorized import conv_forward_vectorized

SHAPE = (16, 32, 32, 16)  # m, n_H, n_W, n_C_prev
FILTERS = (3, 3, 16, 32)  # f, f, n_C_prev, n_C
HPARAMS = {"stride": 1, "pad": 1}


def _best_time(fn, repeats):
    fn()  # warm-up (the backend builds or compiles its kernel on the first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def run(repeats=20):
    """Time the three versions in float32 and print a table; return {name: median seconds}.

    The third version is keras.ops.conv on the active backend, named after it (e.g. "tensorflow conv").
    """
    import keras

    rng = np.random.default_rng(0)
    A = rng.standard_normal(SHAPE).astype(np.float32)
    W = rng.standard_normal(FILTERS).astype(np.float32)
    b = rng.standard_normal((1, 1, 1, FILTERS[3])).astype(np.float32)
    assert HPARAMS["pad"] == FILTERS[0] // 2 and HPARAMS["stride"] == 1  # "same" padding is pad (f - 1) / 2
    backend = f"{keras.backend.backend()} conv"

    def with_backend():
        return keras.ops.convert_to_numpy(keras.ops.conv(A, W, strides=1, padding="same")) + b.reshape(-1)

    reference = with_backend()
    vectorized, _ = conv_forward_vectorized(A, W, b, HPARAMS)
    worst = float(np.max(np.abs(vectorized - reference)))
    results = {
        "loops": _best_time(lambda: conv_forward(A, W, b, HPARAMS), max(1, repeats // 10)),
        "vectorized numpy": _best_time(lambda: conv_forward_vectorized(A, W, b, HPARAMS), repeats),
        backend: _best_time(with_backend, repeats),
    }
    backend_median = results[backend][1]
    print(f"conv forward, input {SHAPE}, filters {FILTERS}, stride 1, pad 1, float32")
    print(f"machine: {platform.processor() or platform.machine()}, Keras {keras.__version__} on {backend}")
    print(f"{'version':<18}{'best (ms)':>12}{'median (ms)':>14}{'x ' + backend:>20}")
    for name, (best, median) in results.items():
        print(f"{name:<18}{best * 1e3:>12.2f}{median * 1e3:>14.2f}{median / backend_median:>20.1f}")
    print(f"largest difference between vectorized numpy and {backend}: {worst:.2e}")
    return {name: median for name, (best, median) in results.items()}
