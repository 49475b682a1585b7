"""Chapter 2's networks: parameters and multiplications of the package's builds next to keras.applications',
and training throughput on this machine.

For each network the package's model (cnncourse.models.c2_*) and, where one exists, keras.applications' model
(weights=None) are counted by the same counter (cnncourse.analysis.costs). Throughput is measured by training the
package's model on random images of its input size (the data do not change the speed): one warm-up step, then
`repeats` timed steps of Adam with sparse categorical cross-entropy. With a GPU the models train in mixed precision
(bfloat16 on JAX, float16 on TensorFlow) and in batches of 256, as published GPU throughputs are measured; on a CPU
in float32 and batches of 8. In grade mode (a smoke run: cnncourse.config) only the networks on inputs of at most
64 px are timed; the others are built and counted, and their speed is left out (None), since compiling a training
step of a 224 px network is what takes the time there.
"""

import time

import keras
import numpy as np

from cnncourse import config
from cnncourse.analysis.costs import totals
from cnncourse.models.shapes_only import shapes_only
from cnncourse.train import use_mixed_precision_on_gpu

GRADE_MODE_LARGEST_TIMED = 64  # px: in grade mode, larger networks are counted but not timed


def _networks():
    """(name, package builder, keras.applications builder or None), in the chapter's order."""
    from cnncourse.models.c2_classic import alexnet, lenet5, vgg16
    from cnncourse.models.c2_efficient import efficientnet
    from cnncourse.models.c2_inception import inception_block_model
    from cnncourse.models.c2_mobile import mobilenet_v1, mobilenet_v2
    from cnncourse.models.c2_resnet import resnet50

    apps = keras.applications
    return [
        ("LeNet-5", lenet5, None),
        ("AlexNet", alexnet, None),
        ("VGG-16", vgg16, lambda: apps.VGG16(weights=None)),
        ("ResNet-50", resnet50, lambda: apps.ResNet50(weights=None)),
        ("Inception 3a module", inception_block_model, None),
        ("MobileNet v1", mobilenet_v1, lambda: apps.MobileNet(weights=None)),
        ("MobileNet v2", mobilenet_v2, lambda: apps.MobileNetV2(weights=None)),
        ("EfficientNet-B0", lambda: efficientnet(0), lambda: apps.EfficientNetB0(weights=None)),
    ]


def training_throughput(model, batch_size, steps):
    """Images per second of `steps` training steps of `model` on random data, after one warm-up step.

    Args:
        model: a Keras model mapping (batch, n_H, n_W, n_C) images to (batch, n_classes) probabilities, or any
            output whose last axis is the classes.
        batch_size: images per step.
        steps: timed steps (>= 1).
    Returns:
        float, batch_size * steps / seconds.
    """
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, *model.inputs[0].shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.outputs[0].shape[-1], size=(batch_size, *model.outputs[0].shape[1:-1]))
    x, y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)  # on the device once, not every step
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)  # compiles the step
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch_size * steps / (time.perf_counter() - start)


def run(repeats=3):
    """Count and time every network; print a table and return its rows (a list of dicts).

    Args:
        repeats: timed training steps per network.
    Returns:
        list of dicts with "network", "params", "keras_params", "multiplications", "keras_multiplications"
        (None where keras.applications has no such network), "batch_size" and "images_per_second" (None where
        grade mode left it out).
    """
    precision = use_mixed_precision_on_gpu()
    batch_size = 256 if config.gpu_available() else 8
    steps = max(1, int(repeats))
    print(config.describe_mode())
    print(f"dtype policy {precision}; training throughput over {steps} steps of batch {batch_size}, random images")
    header = (f"{'network':<20} {'input':<14} {'parameters':>12} {'keras.applications':>19} "
              f"{'multiplications':>16} {'keras.applications':>19} {'images/s':>9}")
    print(header)
    rows = []
    for name, build, build_keras in _networks():
        with shapes_only():  # counted only: no weight drawn (on JAX, drawing compiles a program per shape)
            bare = build()
            ours = totals(bare)
            theirs = totals(build_keras()) if build_keras else None
        input_shape = tuple(bare.inputs[0].shape[1:])
        timed = config.mode() != "grade" or max(input_shape[:2]) <= GRADE_MODE_LARGEST_TIMED
        speed = training_throughput(build(), batch_size, steps) if timed else None
        row = {"network": name, "input_shape": input_shape, "params": ours["params"],
               "keras_params": theirs["params"] if theirs else None, "multiplications": ours["multiplications"],
               "keras_multiplications": theirs["multiplications"] if theirs else None, "batch_size": batch_size,
               "images_per_second": speed}
        rows.append(row)

        def cell(value):
            return f"{value:,}" if value is not None else "-"

        print(f"{name:<20} {str(row['input_shape']):<14} {cell(row['params']):>12} {cell(row['keras_params']):>19} "
              f"{cell(row['multiplications']):>16} {cell(row['keras_multiplications']):>19} "
              f"{'-' if speed is None else f'{speed:.1f}':>9}")
        keras.backend.clear_session()
    return rows
