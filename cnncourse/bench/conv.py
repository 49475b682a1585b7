"""Why frameworks exist: the same convolution as loops, as vectorized numpy, and as tf.nn.conv2d."""

import platform
import time

import numpy as np

from cnncourse.ops.conv import conv_forward
from cnncourse.ops.vectorized import conv_forward_vectorized

SHAPE = (16, 32, 32, 16)  # m, n_H, n_W, n_C_prev
FILTERS = (3, 3, 16, 32)  # f, f, n_C_prev, n_C
HPARAMS = {"stride": 1, "pad": 1}


def _best_time(fn, repeats):
    fn()  # warm-up (TensorFlow builds its kernel on the first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def run(repeats=20):
    """Time the three versions in float32 and print a table; return {name: median seconds}."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    A = rng.standard_normal(SHAPE).astype(np.float32)
    W = rng.standard_normal(FILTERS).astype(np.float32)
    b = rng.standard_normal((1, 1, 1, FILTERS[3])).astype(np.float32)
    pad = HPARAMS["pad"]

    def with_tf():
        return tf.nn.conv2d(A, W, 1, [[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy() + b.reshape(-1)

    reference = with_tf()
    vectorized, _ = conv_forward_vectorized(A, W, b, HPARAMS)
    worst = float(np.max(np.abs(vectorized - reference)))
    results = {
        "loops": _best_time(lambda: conv_forward(A, W, b, HPARAMS), max(1, repeats // 10)),
        "vectorized numpy": _best_time(lambda: conv_forward_vectorized(A, W, b, HPARAMS), repeats),
        "tf.nn.conv2d": _best_time(with_tf, repeats),
    }
    tf_median = results["tf.nn.conv2d"][1]
    print(f"conv forward, input {SHAPE}, filters {FILTERS}, stride 1, pad 1, float32")
    print(f"machine: {platform.processor() or platform.machine()}, TensorFlow {tf.__version__}")
    print(f"{'version':<18}{'best (ms)':>12}{'median (ms)':>14}{'x tf.nn.conv2d':>16}")
    for name, (best, median) in results.items():
        print(f"{name:<18}{best * 1e3:>12.2f}{median * 1e3:>14.2f}{median / tf_median:>16.1f}")
    print(f"largest difference between vectorized numpy and tf.nn.conv2d: {worst:.2e}")
    return {name: median for name, (best, median) in results.items()}
