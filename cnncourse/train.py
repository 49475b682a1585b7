"""Fit loops shared by the chapters, with the GPU and mixed-precision switches in one place.

The package's only custom gradient step that is not a Keras `fit` (the triplet step of Chapter 5) lives here too,
with one version per Keras backend: TensorFlow (GradientTape in a tf.function) and JAX (jax.value_and_grad over
Keras' stateless calls, in jax.jit). Chapter 6's pixel step has its twins in cnncourse.ops.c6_step.
"""

import time

import keras
import numpy as np

from cnncourse import config


def mixed_precision_policy(backend=None):
    """The mixed-precision policy for a backend on a GPU: "mixed_bfloat16" on JAX (no loss scaling needed, and
    XLA's fast path on recent GPUs), "mixed_float16" on TensorFlow (with Keras' loss scaling)."""
    return "mixed_bfloat16" if (backend or keras.backend.backend()) == "jax" else "mixed_float16"


def use_mixed_precision_on_gpu():
    """Switch Keras to mixed_precision_policy() when a GPU is present (full mode); return the policy name.

    On a CPU the policy stays float32: neither half type is faster there, and fast mode's figures stay exact."""
    if config.gpu_available():
        keras.mixed_precision.set_dtype_policy(mixed_precision_policy())
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


def triplet_gradient_step(encoder, optimizer, mine, loss):
    """A compiled step(images, labels) -> (loss, number of triplets) for the active Keras backend.

    One step embeds the batch, mines triplets from those embeddings (outside the gradient: the indices carry
    none, the gathers that follow do) and takes one optimizer step on the loss of the mined triplets.

    Args:
        encoder: keras.Model mapping images (batch, H, W, C) to embeddings (batch, d).
        optimizer: a keras optimizer; it updates encoder.trainable_variables.
        mine: numpy function (embeddings (batch, d), labels (batch,)) -> int64 (k, 3) of (anchor, positive,
            negative) rows into the batch.
        loss: function (anchor, positive, negative), each (k, d) -> scalar tensor.
    Returns:
        step(images float32 (batch, H, W, C), labels int (batch,)) -> (scalar loss, k).
    Raises:
        RuntimeError on a backend other than tensorflow and jax, saying which ones are supported.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_triplet_step(encoder, optimizer, mine, loss)
    if backend == "jax":
        return _jax_triplet_step(encoder, optimizer, mine, loss)
    raise RuntimeError(f"the triplet training step is written for the tensorflow and jax backends, but Keras runs "
                       f"on {backend!r}: set KERAS_BACKEND=tensorflow or jax before Python starts")


def _tensorflow_triplet_step(encoder, optimizer, mine, loss):
    """TensorFlow: tf.function, GradientTape, and tf.numpy_function to run the numpy mining inside the graph."""
    import tensorflow as tf

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            embeddings = encoder(images, training=True)
            triplets = tf.numpy_function(mine, [tf.stop_gradient(embeddings), labels], tf.int64)
            triplets = tf.reshape(triplets, (-1, 3))
            value = loss(*(tf.gather(embeddings, triplets[:, k]) for k in range(3)))
        gradients = tape.gradient(value, encoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, encoder.trainable_variables))
        return value, tf.shape(triplets)[0]

    return step


def _jax_triplet_step(encoder, optimizer, mine, loss):
    """JAX: a jitted forward pass for mining, then a jitted value_and_grad and stateless optimizer update.

    The mining pass reads the same variables (and the same dropout seed state) as the update pass, so it sees
    the embeddings the loss is taken on. The new weights, batch-norm statistics and optimizer state are written
    back to the Keras variables after every step, so the encoder is ready to use at any point.
    """
    import jax

    trainable, non_trainable = encoder.trainable_variables, encoder.non_trainable_variables
    optimizer.build(trainable)

    @jax.jit
    def embed(trainable_values, non_trainable_values, images):
        return encoder.stateless_call(trainable_values, non_trainable_values, images, training=True)[0]

    def loss_of(trainable_values, non_trainable_values, images, triplets):
        embeddings, non_trainable_values = encoder.stateless_call(trainable_values, non_trainable_values, images,
                                                                  training=True)
        value = loss(*(embeddings[triplets[:, k]] for k in range(3)))
        return value, non_trainable_values

    @jax.jit
    def update(trainable_values, non_trainable_values, optimizer_values, images, triplets):
        (value, non_trainable_values), gradients = jax.value_and_grad(loss_of, has_aux=True)(
            trainable_values, non_trainable_values, images, triplets)
        trainable_values, optimizer_values = optimizer.stateless_apply(optimizer_values, gradients, trainable_values)
        return value, trainable_values, non_trainable_values, optimizer_values

    def step(images, labels):
        values = [v.value for v in trainable]
        fixed = [v.value for v in non_trainable]
        triplets = mine(np.asarray(embed(values, fixed, images)), np.asarray(labels)).reshape(-1, 3)
        value, values, fixed, state = update(values, fixed, [v.value for v in optimizer.variables], images,
                                             triplets)
        for variable, new in zip((*trainable, *non_trainable, *optimizer.variables), (*values, *fixed, *state)):
            variable.assign(new)
        return value, len(triplets)

    return step
