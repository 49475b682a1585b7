"""Chapter 3: sliding windows, first crop by crop, then as one convolution over the whole image.

The window classifier (the lecture's 14x14x3 example, any number of classes):
    conv1   Conv2D 16 5x5 valid ReLU      (10, 10, 16)
    pool1   MaxPooling2D 2                (5, 5, 16)
    flatten Flatten                       (400,)
    fc1     Dense 400 ReLU                (400,)
    fc2     Dense 400 ReLU                (400,)
    predictions Dense n_classes softmax   (n_classes,)
Its convolutional twin replaces flatten + fc1 by a 5x5 convolution with 400 filters (the 5x5x16 volume is exactly
one window of it), fc2 by a 1x1 convolution with 400 filters, predictions by a 1x1 convolution with n_classes
filters and a softmax over the channels. Run on a larger image it computes the classifier for every 14x14 window
with stride 2 (the pool's stride) in one pass, sharing the work of overlapping windows.
"""

import keras
import numpy as np
from keras import layers

from cnncourse.ops.validate import require_array, require_int

WINDOW = 14  # side of the window the classifier reads
STRIDE = 2  # stride of the windows of the convolutional twin (the product of the strides inside it)


def window_classifier(n_classes=4, n_channels=3):
    """The classifier of one WINDOW x WINDOW window (layers in the module docstring).

    Returns:
        keras.Model mapping (batch, 14, 14, n_channels) to class probabilities (batch, n_classes).
    """
    require_int(n_classes, "n_classes", 1)
    require_int(n_channels, "n_channels", 1)
    inputs = keras.Input((WINDOW, WINDOW, n_channels), name="window")
    x = layers.Conv2D(16, 5, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(400, activation="relu", name="fc1")(x)
    x = layers.Dense(400, activation="relu", name="fc2")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="window_classifier")


def convolutional_classifier(classifier):
    """The convolutional twin of a trained window_classifier, holding the same weights.

    Args:
        classifier: a built window_classifier (layers conv1, pool1, flatten, fc1, fc2, predictions).
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_channels) with n_H, n_W >= 14 to (batch, (n_H - 14) // 2 + 1,
        (n_W - 14) // 2 + 1, n_classes): at [b, i, j] the classifier's probabilities for the window whose top-left
        corner is (2 i, 2 j). On a 14x14 input its single output equals classifier's output.
    """
    names = [layer.name for layer in classifier.layers]
    for name in ("conv1", "pool1", "flatten", "fc1", "fc2", "predictions"):
        if name not in names:
            raise ValueError(f"classifier must be a window_classifier with a layer named {name!r}; it has {names}")
    n_channels = classifier.inputs[0].shape[-1]
    ### BEGIN SOLUTION
    conv1, fc1 = classifier.get_layer("conv1"), classifier.get_layer("fc1")
    fc2, predictions = classifier.get_layer("fc2"), classifier.get_layer("predictions")
    n_classes = predictions.units
    pooled_shape = classifier.get_layer("pool1").output.shape[1:]  # (5, 5, 16): one window of fc1_conv
    inputs = keras.Input((None, None, n_channels), name="image")
    x = layers.Conv2D(16, 5, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(400, pooled_shape[:2], activation="relu", name="fc1_conv")(x)
    x = layers.Conv2D(400, 1, activation="relu", name="fc2_conv")(x)
    outputs = layers.Conv2D(n_classes, 1, activation="softmax", name="predictions_conv")(x)
    model = keras.Model(inputs, outputs, name="convolutional_classifier")
    model.get_layer("conv1").set_weights(conv1.get_weights())
    # Flatten reads the (5, 5, 16) volume row by row, channel last: the Dense kernel (400_in, 400) reshapes to the
    # (5, 5, 16, 400) kernel of a convolution that sees the whole volume.
    kernel, bias = fc1.get_weights()
    model.get_layer("fc1_conv").set_weights([kernel.reshape(*pooled_shape, fc1.units), bias])
    kernel, bias = fc2.get_weights()
    model.get_layer("fc2_conv").set_weights([kernel.reshape(1, 1, *kernel.shape), bias])
    kernel, bias = predictions.get_weights()
    model.get_layer("predictions_conv").set_weights([kernel.reshape(1, 1, *kernel.shape), bias])
    return model
    ### END SOLUTION


def sliding_window_predictions(classifier, image, stride=STRIDE):
    """The slow way: crop every WINDOW x WINDOW window with `stride` and classify the crops.

    Args:
        classifier: a window_classifier.
        image: (n_H, n_W, n_channels) float array, n_H and n_W >= WINDOW.
        stride: step between windows in pixels (int >= 1).
    Returns:
        (rows, cols, n_classes) float array: the probabilities for the window at (stride * row, stride * col).
    """
    require_array(image, "image (n_H, n_W, n_channels)", ndim=3)
    if min(image.shape[:2]) < WINDOW:
        raise ValueError(f"image must be at least {WINDOW}x{WINDOW} pixels (one window), got shape {image.shape}")
    stride = require_int(stride, "stride", 1)
    rows, cols = (image.shape[0] - WINDOW) // stride + 1, (image.shape[1] - WINDOW) // stride + 1
    crops = np.stack([image[r * stride:r * stride + WINDOW, c * stride:c * stride + WINDOW]
                      for r in range(rows) for c in range(cols)])
    probabilities = classifier.predict(crops, batch_size=256, verbose=0)
    return probabilities.reshape(rows, cols, -1)
