"""Chapter 3: landmark detection — a network that outputs the positions of n landmarks as (lx, ly) pairs.

For an image of height H and width W with landmarks at pixel positions (x_1, y_1), ..., (x_n, y_n) the target is
    y = [lx_1, ly_1, lx_2, ly_2, ..., lx_n, ly_n]     lx_i = x_i / W,  ly_i = y_i / H,  all in [0, 1]
x before y for each landmark, the landmarks always in the same order (landmark i is always the same point of
the face: "left eye" is always entry 0 and 1). The network ends in a Dense layer of 2n sigmoid units, one per
entry, and is trained with the squared error. Written with keras.layers, so it runs on the TensorFlow and the JAX
backends.
"""

import keras
import numpy as np
from keras import layers

from cnncourse.ops.validate import require_int

# Keras's default 0.99 lets the moving statistics that inference uses lag behind the weights for hundreds of steps:
# after a 375-step run they doubled the held-out error (4.0 against 2.2 pixels). 0.9 follows within a few dozen.
BN_MOMENTUM = 0.9


def landmark_target(points, image_size):
    """The target vector y of one image: the landmarks' (x, y) as fractions of the width and height, flattened.

    Args:
        points: (n_landmarks, 2) pixel positions (x, y), n_landmarks >= 1, inside 0 <= x <= width, 0 <= y <= height.
        image_size: (height, width) of the image in pixels, both > 0.
    Returns:
        float32 array (2 * n_landmarks,): [lx_1, ly_1, lx_2, ly_2, ...] with lx = x / width and ly = y / height.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 1:
        raise ValueError(f"points must be an (n_landmarks, 2) array of (x, y), n_landmarks >= 1, "
                         f"got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite, got NaN or inf")
    numbers = (int, float, np.integer, np.floating)
    if (np.shape(image_size) != (2,)
            or not all(isinstance(s, numbers) and not isinstance(s, bool) for s in image_size) or min(image_size) <= 0):
        raise ValueError(f"image_size must be (height, width), two numbers > 0, got {image_size!r}")
    outside = (points[:, 0] < 0) | (points[:, 0] > image_size[1]) | (points[:, 1] < 0) | (points[:, 1] > image_size[0])
    if np.any(outside):
        raise ValueError(f"points must lie inside the image, 0 <= x <= width and 0 <= y <= height with "
                         f"(height, width) = {tuple(image_size)}; got {points[np.argmax(outside)].tolist()}")
    ### BEGIN SOLUTION
    height, width = image_size
    normalised = points / np.array([width, height], dtype=np.float64)  # column 0 is x, column 1 is y
    return normalised.reshape(-1).astype(np.float32)  # row by row: lx_1, ly_1, lx_2, ly_2, ...
    ### END SOLUTION


def decode_landmarks(vector, image_size):
    """The inverse of landmark_target: a target or prediction vector back to pixel positions.

    Args:
        vector: (2 * n_landmarks,) array [lx_1, ly_1, ...], or a batch (batch, 2 * n_landmarks).
        image_size: (height, width) of the image in pixels.
    Returns:
        float64 array (n_landmarks, 2) of pixel (x, y), or (batch, n_landmarks, 2) for a batch.
    """
    vector = np.asarray(vector, dtype=np.float64)
    if vector.ndim not in (1, 2) or vector.shape[-1] == 0 or vector.shape[-1] % 2:
        raise ValueError(f"vector must be (2 * n_landmarks,) or (batch, 2 * n_landmarks), got shape {vector.shape}")
    if np.shape(image_size) != (2,) or min(image_size) <= 0:
        raise ValueError(f"image_size must be (height, width) with both > 0, got {image_size!r}")
    height, width = image_size
    return vector.reshape(*vector.shape[:-1], -1, 2) * np.array([width, height], dtype=np.float64)


def landmark_model(image_size=64, n_landmarks=5):
    """A small regression network: four conv-BN-ReLU-pool stages, flatten, a hidden Dense, 2n sigmoid outputs.

    The features are flattened rather than globally pooled: averaging over the image would throw away where
    things are, which is exactly what the output must say.

    Args:
        image_size: side of the square RGB input in pixels, int >= 16.
        n_landmarks: number of landmarks, int >= 1.
    Returns:
        keras.Model mapping (batch, image_size, image_size, 3) to (batch, 2 * n_landmarks) in (0, 1), in the layout
        of landmark_target.
    """
    image_size = require_int(image_size, "image_size", 16)
    n_landmarks = require_int(n_landmarks, "n_landmarks", 1)
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for stage, filters in enumerate((16, 32, 64, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{stage}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{stage}")(x)
        x = layers.ReLU(name=f"relu{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="hidden")(x)
    outputs = layers.Dense(2 * n_landmarks, activation="sigmoid", name="landmarks")(x)
    return keras.Model(inputs, outputs, name="landmark_net")
