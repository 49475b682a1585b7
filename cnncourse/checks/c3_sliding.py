"""Checks of Chapter 3's convolutional sliding windows: the twin must equal the classifier run on every crop.

Oracle: cnncourse.models.c3_sliding.sliding_window_predictions (crop each window, classify the crops) with the
same classifier, which has random weights so that a wrong reshape of the dense kernels cannot pass by chance. The
weights are scaled by 1 / sqrt(fan-in), so that the softmax stays far from one-hot: with saturated probabilities a
twin that reads fc1's kernel in the wrong order (channels first) would still pick the same class everywhere and
match to the last digit.
"""

import numpy as np

from cnncourse.checks.architecture import expect_model
from cnncourse.checks.core import expect_shape, fail


def _unsaturated_weights(model, seed):
    """Kernels ~ N(0, 1 / fan_in), biases ~ N(0, 0.1^2): every layer keeps its inputs' scale, the logits stay O(1)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) == 2:
            kernel, bias = weights
            fan_in = int(np.prod(kernel.shape[:-1]))
            layer.set_weights([(rng.standard_normal(kernel.shape) / np.sqrt(fan_in)).astype("float32"),
                               (rng.standard_normal(bias.shape) * 0.1).astype("float32")])


def _check_twin(fn, n_classes, n_channels, image_shapes, seed):
    import keras

    from cnncourse.models.c3_sliding import sliding_window_predictions, window_classifier

    classifier = window_classifier(n_classes, n_channels)
    _unsaturated_weights(classifier, seed)
    twin = fn(classifier)
    case = f"{n_classes} classes, {n_channels} channels"
    expect_model(twin, "convolutional_classifier", case)
    dense = [layer.name for layer in twin.layers if isinstance(layer, keras.layers.Dense)]
    if dense:
        fail(f"convolutional_classifier still has Dense layers {dense}", case,
             hint="fc1 becomes a 5x5 convolution with 400 filters, fc2 and predictions 1x1 convolutions")
    rng = np.random.default_rng(seed)
    for shape in image_shapes:
        image = rng.random((*shape, n_channels)).astype("float32")
        where = f"{case}, image {shape}"
        want = sliding_window_predictions(classifier, image)
        got = np.asarray(twin(image[None], training=False))
        expect_shape(got, (1, *want.shape), "convolutional_classifier output", where,
                     hint="(n - 14) // 2 + 1 windows per axis: keep every layer 'valid' and the pool's stride 2")
        bad = ~np.isclose(got[0], want, rtol=1e-4, atol=1e-5)
        if bad.any():
            r, c, k = (int(i) for i in np.argwhere(bad)[0])
            rule = "copy the weights: fc1's kernel (400, 400) reshaped to (5, 5, 16, 400), the others to (1, 1, ...)"
            if not np.allclose(got[0].sum(axis=-1), 1.0, atol=1e-4):
                rule = ("looks like the softmax is missing: the outputs do not sum to 1 over the classes; the last "
                        "1x1 convolution needs activation='softmax'; " + rule)
            fail(f"convolutional_classifier: {int(bad.sum())} of {bad.size} probabilities differ from the classifier "
                 f"run on each crop; first at window row {r}, col {c} (top-left pixel ({2 * r}, {2 * c})), class {k}: "
                 f"expected {want[r, c, k]:.5g}, got {got[0, r, c, k]:.5g}", where,
                 hint=rule)


def public_convolutional_classifier(convolutional_classifier):
    """The lecture's sizes: a 14x14 window (one output) and a 16x16 image (2x2 windows), 4 classes."""
    _check_twin(convolutional_classifier, 4, 3, [(14, 14), (16, 16)], seed=0)


def hidden_convolutional_classifier(convolutional_classifier):
    """Larger and non-square images, odd sizes, other class and channel counts, other random weights."""
    _check_twin(convolutional_classifier, 4, 3, [(28, 28), (21, 30)], seed=1)
    _check_twin(convolutional_classifier, 7, 1, [(14, 20), (33, 17)], seed=2)
