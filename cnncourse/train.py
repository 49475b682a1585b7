"""Fit loops shared by the chapters, with the GPU and mixed-precision switches in one place."""

import time

import keras
import numpy as np

from cnncourse import config


def use_mixed_precision_on_gpu():
    """Switch Keras to mixed_float16 when a GPU is present (full mode); return the policy name."""
    if config.gpu_available():
        keras.mixed_precision.set_dtype_policy("mixed_float16")
    return keras.mixed_precision.dtype_policy().name


def digit_augmentation(rotation=0.05, shift=0.08, zoom=0.08, name="augment"):
    """Random rotations, shifts and zooms of images, as Keras layers that act only in training.

    Args:
        rotation: largest rotation as a fraction of a full turn (0.05: 18 degrees either way).
        shift: largest shift as a fraction of the height and of the width.
        zoom: largest zoom in or out, as a fraction.
        name: the Sequential's name.
    Returns:
        keras.Sequential mapping (batch, n_H, n_W, n_C) to the same shape; the identity at inference.
    """
    from keras import layers

    return keras.Sequential([
        layers.RandomRotation(rotation, fill_mode="constant"),
        layers.RandomTranslation(shift, shift, fill_mode="constant"),
        layers.RandomZoom(zoom, fill_mode="constant"),
    ], name=name)


def train_classifier(model, train, test, epochs, batch_size=64, learning_rate=1e-3, seed=0, verbose=0,
                     augmentation=None, cosine_decay=False):
    """Compile `model` for sparse categorical cross-entropy, fit it and measure held-out accuracy.

    Args:
        model: a Keras model mapping images to class probabilities (batch, n_classes).
        train, test: (x, y) pairs; x (N, n_H, n_W, n_C) float32, y (N,) integer labels.
        epochs, batch_size, learning_rate: of the Adam optimiser.
        seed: seeds Keras, numpy and the backend so a run can be repeated.
        verbose: passed on to model.fit.
        augmentation: None, or Keras layers (such as digit_augmentation()) put in front of `model` while it
            trains; `model` itself is left without them.
        cosine_decay: let the learning rate fall from learning_rate to 0 along a cosine over the whole run.
    Returns:
        dict with "history" (per-epoch loss and accuracy lists), "test_accuracy" (float),
        "seconds" (fit time) and "images_per_second" (training throughput).
    """
    keras.utils.set_random_seed(seed)
    trained = model
    if augmentation is not None:
        trained = keras.Sequential([keras.Input(model.inputs[0].shape[1:]), augmentation, model], name="augmented")
    rate = learning_rate
    if cosine_decay:
        rate = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * -(-len(train[1]) // batch_size))
    trained.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    start = time.perf_counter()
    history = trained.fit(train[0], train[1], epochs=epochs, batch_size=batch_size, validation_data=test,
                          verbose=verbose)
    seconds = time.perf_counter() - start
    probabilities = model.predict(test[0], verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == test[1]))
    return {
        "history": history.history,
        "test_accuracy": accuracy,
        "seconds": seconds,
        "images_per_second": epochs * len(train[1]) / seconds,
    }
