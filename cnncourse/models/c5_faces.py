"""Chapter 5: face recognition — an encoder f(x) to a unit vector, the triplet loss and semi-hard triplet mining.

A Siamese network applies ONE encoder to both images of a pair and compares the embeddings: two images show the
same person when ||f(x1) - f(x2)||^2 is below a threshold. The encoder ends in a linear Dense layer (no softmax,
no activation) followed by L2 normalisation, so every embedding lies on the unit sphere and squared distances are
in [0, 4]. It is trained with the triplet loss on (anchor, positive, negative) triplets: anchor and positive show
the same person, the negative another one. Random triplets are mostly already satisfied (loss 0, no gradient), so
triplets are mined within each batch from the current embeddings. Written with keras.layers and keras.ops, so the
encoder and the loss run on the TensorFlow and the JAX backends; the mining is numpy.
"""

import keras
import numpy as np
from keras import layers, ops

from cnncourse.ops.validate import require_int


def face_encoder(image_size=64, embedding_dim=128):
    """The encoder f: an image to an L2-normalised embedding.

    Layers, in order: for each stage s = 1..4 with filters 16, 32, 64, 128: Conv2D(filters, 3, padding="same",
    use_bias=False, name=f"conv{s}"), BatchNormalization(momentum=0.9, name=f"bn{s}"), ReLU(name=f"relu{s}"),
    MaxPooling2D(2, name=f"pool{s}"); then GlobalAveragePooling2D(name="gap"), Dense(embedding_dim, no activation,
    name="embedding") and UnitNormalization(axis=-1, name="l2_normalize").

    Args:
        image_size: side of the square RGB input in pixels, int >= 16.
        embedding_dim: length of the embedding, int >= 1 (128 in FaceNet).
    Returns:
        keras.Model named "encoder" mapping (batch, image_size, image_size, 3) to (batch, embedding_dim) rows of
        Euclidean norm 1.
    """
    image_size = require_int(image_size, "image_size", 16)
    embedding_dim = require_int(embedding_dim, "embedding_dim", 1)
    ### BEGIN SOLUTION
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for stage, filters in enumerate((16, 32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{stage}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{stage}")(x)
        x = layers.ReLU(name=f"relu{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(embedding_dim, name="embedding")(x)  # linear: no softmax, no ReLU
    outputs = layers.UnitNormalization(axis=-1, name="l2_normalize")(x)
    return keras.Model(inputs, outputs, name="encoder")
    ### END SOLUTION


def triplet_loss(anchor, positive, negative, alpha=0.2):
    """The triplet loss, averaged over the batch.

    Per example: max(||a - p||^2 - ||a - n||^2 + alpha, 0), squared Euclidean distances. FaceNet writes the SUM
    over the triplets; this returns the MEAN, so the learning rate does not depend on the batch size.

    Args:
        anchor, positive, negative: (batch, d) tensors or arrays, the embeddings of the three images.
        alpha: the margin, a number >= 0.
    Returns:
        scalar tensor, the mean over the batch of the per-example loss.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or alpha < 0:
        raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")
    ### BEGIN SOLUTION
    anchor, positive, negative = (ops.convert_to_tensor(t) for t in (anchor, positive, negative))
    positive_distance = ops.sum(ops.square(anchor - positive), axis=-1)
    negative_distance = ops.sum(ops.square(anchor - negative), axis=-1)
    return ops.mean(ops.maximum(positive_distance - negative_distance + alpha, 0.0))
    ### END SOLUTION


def semi_hard_triplets(embeddings, labels, alpha=0.2):
    """Mine one triplet per (anchor, positive) pair of a batch, with a semi-hard negative.

    For every ordered pair a != p with labels[a] == labels[p], the negative n (labels[n] != labels[a]) is the
    closest semi-hard one: d(a, p) < d(a, n) < d(a, p) + alpha, smallest d(a, n); when there is none, the hardest
    negative (smallest d(a, n)). d is the squared Euclidean distance. Anchors without any negative (every label
    the same) give no triplet.

    Args:
        embeddings: (batch, d) float array.
        labels: (batch,) integer array, the identity of each row.
        alpha: the margin, a number >= 0.
    Returns:
        int64 array (k, 3) of (anchor, positive, negative) row indices, sorted by anchor then positive.
    """
    embeddings, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
    if embeddings.ndim != 2 or labels.shape != embeddings.shape[:1]:
        raise ValueError(f"embeddings must be (batch, d) and labels (batch,), "
                         f"got {embeddings.shape} and {labels.shape}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or alpha < 0:
        raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")
    ### BEGIN SOLUTION
    squared = np.sum(embeddings ** 2, axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2 * embeddings @ embeddings.T, 0.0)
    triplets = []
    for a in range(len(labels)):
        negatives = np.flatnonzero(labels != labels[a])
        if len(negatives) == 0:
            continue
        for p in np.flatnonzero(labels == labels[a]):
            if p == a:
                continue
            d_an = distances[a, negatives]
            window = (d_an > distances[a, p]) & (d_an < distances[a, p] + alpha)
            candidates = np.flatnonzero(window) if window.any() else np.arange(len(negatives))
            triplets.append((a, p, negatives[candidates[np.argmin(d_an[candidates])]]))
    return np.array(triplets, dtype=np.int64).reshape(-1, 3)
    ### END SOLUTION
