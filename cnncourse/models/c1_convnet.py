"""Chapter 1's first ConvNet: CONV -> POOL -> CONV -> POOL -> FC -> FC, built two ways.

Architecture (the notebook's table; the checks compare against it):
    input            (28, 28, 1)
    conv1  Conv2D    32 filters 3x3, stride 1, "same" padding -> (28, 28, 32)
    relu1  ReLU
    pool1  MaxPool2D 2x2, stride 2                             -> (14, 14, 32)
    conv2  Conv2D    64 filters 3x3, stride 1, "same"          -> (14, 14, 64)
    relu2  ReLU
    pool2  MaxPool2D 2x2, stride 2                             -> (7, 7, 64)
    flatten                                                    -> (3136,)
    fc1    Dense     64, ReLU
    fc2    Dense     n_classes, softmax
"""

import keras
from keras import layers

# How the chapter trains it, per mode. Full mode reaches >= 97 % on the 1,000 held-out digits
# (measured: `cnncourse bench mnist` with CNNCOURSE_MODE=full; see docs/benchmarks.md).
TRAINING = {
    "fast": {"n_images": 2000, "epochs": 3, "batch_size": 32},
    "full": {"n_images": None, "epochs": 20, "batch_size": 32},
    "grade": {"n_images": 200, "epochs": 1, "batch_size": 32},  # autograding: a smoke run (cnncourse.config)
}


def convnet_sequential(input_shape=(28, 28, 1), n_classes=10):
    """Build the ConvNet with keras.Sequential.

    Args:
        input_shape: (n_H, n_W, n_C) of one image.
        n_classes: number of output classes.
    Returns:
        keras.Sequential mapping (batch, *input_shape) to class probabilities (batch, n_classes).
    """
    ### BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, strides=1, padding="same", name="conv1"),
            layers.ReLU(name="relu1"),
            layers.MaxPooling2D(pool_size=2, strides=2, name="pool1"),
            layers.Conv2D(64, 3, strides=1, padding="same", name="conv2"),
            layers.ReLU(name="relu2"),
            layers.MaxPooling2D(pool_size=2, strides=2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.Dense(n_classes, activation="softmax", name="fc2"),
        ],
        name="convnet_sequential",
    )
    return model
    ### END SOLUTION


def convnet_functional(input_shape=(28, 28, 1), n_classes=10):
    """Build the same ConvNet with the Functional API: each layer is called on the previous tensor.

    Args:
        input_shape: (n_H, n_W, n_C) of one image.
        n_classes: number of output classes.
    Returns:
        keras.Model mapping (batch, *input_shape) to class probabilities (batch, n_classes).
    """
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, strides=1, padding="same", name="conv1")(inputs)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D(pool_size=2, strides=2, name="pool1")(x)
    x = layers.Conv2D(64, 3, strides=1, padding="same", name="conv2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.MaxPooling2D(pool_size=2, strides=2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="fc1")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="fc2")(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="convnet_functional")
    return model
    ### END SOLUTION
