"""Chapter 2: data augmentation as Keras preprocessing layers.

The layers draw new random transformations at every call in training mode and pass images through unchanged in
inference mode (`model(x, training=False)`, `predict`, `evaluate`), so a network that starts with them augments only
while it is trained.
"""

import keras
from keras import layers


def data_augmenter():
    """The course's augmentation pipeline, as in the Coursera version plus a random crop.

    A keras.Sequential of three preprocessing layers, in this order (any order is accepted, the three draws are
    independent):
    - RandomFlip("horizontal"): a mirror image, left and right swapped, for half of the images; never upside down
      (a photo seen upside down is not a photo of the same scene);
    - RandomRotation(0.2): a rotation by a random angle in [-0.2, 0.2] of a full turn, i.e. up to 72 degrees either
      way (the factor is a fraction of 2 pi, not degrees);
    - RandomZoom((-0.2, 0.0)): zoom IN by up to 20 %, the same on both axes: a random crop of 80 % to 100 % of each
      side, resized back to the input size (a negative factor zooms in; a positive one would zoom out and invent
      borders).
    The pipeline takes images of any size, shape (m, n_H, n_W, n_C), floats, and keeps the shape.
    Colour shifts are the job of pca_color_augment.

    Returns:
        keras.Sequential; model(x, training=True) augments, model(x, training=False) returns x unchanged.
    """
    ### BEGIN SOLUTION
    return keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.2),
        layers.RandomZoom(height_factor=(-0.2, 0.0)),
    ])
    ### END SOLUTION
