"""Independent twins of graded models, losses and targets, for the package's own machinery.

The experiments and widgets train or show what some exercises build (the U-Net, the face encoder, the triplet
loss, LeNet-5, ...). They never call the graded function: in the student edition of the package every graded body
is a stub (see cnncourse/ops/twins.py for why). They call these twins, written independently of the references
(recursion instead of loops, Sequential instead of functional, a cumulative sum instead of shifted windows) with
the same layer names, so a run and its figures are the same in both editions. `tests/test_twins.py` compares each
twin with its reference: same outputs under the same weights, same values on random cases.

| twin | graded reference |
|---|---|
| landmark_vector | cnncourse.models.c3_landmarks.landmark_target |
| localization_vector | cnncourse.models.c3_localization.localization_target |
| build_lenet5, build_alexnet, LocalResponseNorm | cnncourse.models.c2_classic.lenet5, alexnet, LocalResponseNormalization |
| build_inception_block | cnncourse.models.c2_inception.inception_block_model (around inception_module) |
| build_unet | cnncourse.models.c4_unet.unet_model |
| build_face_encoder, mean_triplet_loss, mine_triplets | cnncourse.models.c5_faces.face_encoder, triplet_loss, semi_hard_triplets |
| build_pair_model | cnncourse.models.c5_verification.pair_classifier |
| compound_multipliers | cnncourse.models.c2_efficient.compound_scaling |
| frozen_with_head, unfreeze_last | cnncourse.models.c2_transfer.add_new_head, unfreeze_top |
"""

import math

import numpy as np
import keras
from keras import layers, ops

# The table above as data: twin -> the graded reference it stands in for (see MIRRORS in cnncourse/ops/twins.py).
MIRRORS = {"landmark_vector": "cnncourse.models.c3_landmarks.landmark_target",
           "localization_vector": "cnncourse.models.c3_localization.localization_target",
           "build_lenet5": "cnncourse.models.c2_classic.lenet5", "build_alexnet": "cnncourse.models.c2_classic.alexnet",
           "build_inception_block": "cnncourse.models.c2_inception.inception_module",
           "build_unet": "cnncourse.models.c4_unet.unet_model", "build_face_encoder": "cnncourse.models.c5_faces.face_encoder",
           "mean_triplet_loss": "cnncourse.models.c5_faces.triplet_loss",
           "mine_triplets": "cnncourse.models.c5_faces.semi_hard_triplets",
           "build_pair_model": "cnncourse.models.c5_verification.pair_classifier",
           "compound_multipliers": "cnncourse.models.c2_efficient.compound_scaling",
           "frozen_with_head": "cnncourse.models.c2_transfer.add_new_head",
           "unfreeze_last": "cnncourse.models.c2_transfer.unfreeze_top"}


def landmark_vector(points, image_size):
    """(n, 2) points (x, y) in pixels of an image of (height, width) -> float32 (2n,) in [0, 1], x then y per point."""
    height, width = image_size
    scale = np.tile(np.array([width, height], dtype=np.float64), len(points))
    return (np.asarray(points, dtype=np.float64).ravel() / scale).astype(np.float32)


def localization_vector(box, label, image_size, n_classes):
    """[pc, bx, by, bh, bw, c_1 .. c_n] (float32) of a corner box in an image of (height, width); zeros for None."""
    y = np.zeros(5 + n_classes, dtype=np.float32)
    if box is not None:
        height, width = image_size
        (x1, y1), (x2, y2) = np.reshape(np.asarray(box, dtype=np.float64), (2, 2))
        y[:5] = [1.0, (x1 + x2) / (2 * width), (y1 + y2) / (2 * height), (y2 - y1) / height, (x2 - x1) / width]
        y[5 + label] = 1.0
    return y


def compound_multipliers(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """EfficientNet's multipliers for phi: {"depth", "width", "resolution", "flops"}, each a base to the power phi."""
    if isinstance(phi, bool) or not isinstance(phi, (int, float, np.integer, np.floating)) or not phi >= 0:
        raise ValueError(f"phi must be a real number >= 0, got {phi!r}")
    bases = {"depth": alpha, "width": beta, "resolution": gamma, "flops": alpha * beta * beta * gamma * gamma}
    return {name: math.pow(base, phi) for name, base in bases.items()}


def build_lenet5(input_shape=(28, 28, 1), n_classes=10):
    """LeNet-5 (tanh, average pooling), layer names as cnncourse.models.c2_classic.lenet5."""
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(6, 5, padding="same", activation="tanh", name="conv1"),
        layers.AveragePooling2D(2, name="pool1"),
        layers.Conv2D(16, 5, activation="tanh", name="conv2"),
        layers.AveragePooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation="tanh", name="fc1"),
        layers.Dense(84, activation="tanh", name="fc2"),
        layers.Dense(n_classes, activation="softmax", name="predictions"),
    ], name="lenet5")


class LocalResponseNorm(layers.Layer):
    """Local response normalization across channels, the sum of squares taken from a cumulative sum.

    out[..., d] = a[..., d] / (bias + alpha * sum of a[..., j]**2 for |j - d| <= depth_radius) ** beta.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        r, n_C = self.depth_radius, inputs.shape[-1]
        padded = ops.pad(ops.square(inputs), [[0, 0], [0, 0], [0, 0], [r + 1, r]])
        running = ops.cumsum(padded, axis=-1)  # running[k] = sum of padded[..., :k + 1]
        window_sum = running[..., 2 * r + 1:] - running[..., :n_C]
        return inputs / ops.power(self.bias + self.alpha * window_sum, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape


def build_alexnet(input_shape=(227, 227, 3), n_classes=1000, lrn_class=LocalResponseNorm):
    """AlexNet with LRN after conv1 and conv2, layer names as cnncourse.models.c2_classic.alexnet."""
    def conv(filters, f, name, **kwargs):
        return layers.Conv2D(filters, f, activation="relu", name=name, **kwargs)

    return keras.Sequential([
        keras.Input(input_shape),
        conv(96, 11, "conv1", strides=4), lrn_class(name="lrn1"), layers.MaxPooling2D(3, 2, name="pool1"),
        conv(256, 5, "conv2", padding="same"), lrn_class(name="lrn2"), layers.MaxPooling2D(3, 2, name="pool2"),
        conv(384, 3, "conv3", padding="same"), conv(384, 3, "conv4", padding="same"),
        conv(256, 3, "conv5", padding="same"), layers.MaxPooling2D(3, 2, name="pool5"),
        layers.Flatten(name="flatten"), layers.Dense(4096, activation="relu", name="fc6"),
        layers.Dropout(0.5, name="drop6"), layers.Dense(4096, activation="relu", name="fc7"),
        layers.Dropout(0.5, name="drop7"), layers.Dense(n_classes, activation="softmax", name="predictions"),
    ], name="alexnet")


INCEPTION_3A = {"1x1": 64, "3x3_reduce": 96, "3x3": 128, "5x5_reduce": 16, "5x5": 32, "pool_proj": 32}


def build_inception_block(input_shape=(28, 28, 192), filters=None, name="3a"):
    """One Inception module (four branches, concatenated) as a keras.Model; the filters of GoogLeNet's 3a."""
    filters = filters or INCEPTION_3A
    x = keras.Input(input_shape)

    def conv(inputs, suffix, f):
        return layers.Conv2D(filters[suffix], f, padding="same", activation="relu", name=f"{name}_{suffix}")(inputs)

    pooled = layers.MaxPooling2D(3, 1, padding="same", name=f"{name}_pool")(x)
    branches = [conv(x, "1x1", 1), conv(conv(x, "3x3_reduce", 1), "3x3", 3),
                conv(conv(x, "5x5_reduce", 1), "5x5", 5), conv(pooled, "pool_proj", 1)]
    return keras.Model(x, layers.Concatenate(name=f"{name}_concat")(branches), name=f"inception_{name}")


def _double_conv(x, n_filters, name, dropout):
    for k in (1, 2):
        x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                          name=f"{name}_conv{k}")(x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x


def build_unet(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4, dropout=0.3):
    """The U-Net of cnncourse.models.c4_unet.unet_model (same layer names), written as a recursion over levels.

    Returns:
        keras.Model named "unet": (batch, n_H, n_W, n_C) -> logits (batch, n_H, n_W, n_classes).
    """
    def level(x, k):  # the features at level k (1 = full size) after the U below it has been added back
        if k > depth:
            return _double_conv(x, n_filters * 2 ** depth, "bottleneck", dropout)
        skip = _double_conv(x, n_filters * 2 ** (k - 1), f"down{k}", dropout if k == depth else 0.0)
        below = level(layers.MaxPooling2D(2, name=f"down{k}_pool")(skip), k + 1)
        up = f"up{depth + 1 - k}"
        below = layers.Conv2DTranspose(n_filters * 2 ** (k - 1), 3, strides=2, padding="same",
                                       name=f"{up}_transpose")(below)
        merged = layers.Concatenate(axis=3, name=f"{up}_concat")([below, skip])
        return _double_conv(merged, n_filters * 2 ** (k - 1), up, 0.0)

    inputs = keras.Input(shape=input_size)
    logits = layers.Conv2D(n_classes, 1, padding="same", name="logits")(level(inputs, 1))
    return keras.Model(inputs, logits, name="unet")


def build_face_encoder(image_size=64, embedding_dim=128):
    """The face encoder of cnncourse.models.c5_faces.face_encoder (same layer names), as a Sequential model."""
    model = keras.Sequential([keras.Input((image_size, image_size, 3), name="image")], name="encoder")
    for stage, filters in enumerate((16, 32, 64, 128), start=1):
        model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{stage}"))
        model.add(layers.BatchNormalization(momentum=0.9, name=f"bn{stage}"))
        model.add(layers.ReLU(name=f"relu{stage}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{stage}"))
    model.add(layers.GlobalAveragePooling2D(name="gap"))
    model.add(layers.Dense(embedding_dim, name="embedding"))
    model.add(layers.UnitNormalization(axis=-1, name="l2_normalize"))
    return model


def mean_triplet_loss(anchor, positive, negative, alpha=0.2):
    """Mean over the batch of max(||a - p||^2 - ||a - n||^2 + alpha, 0), from one stacked difference."""
    stacked = ops.stack([ops.convert_to_tensor(positive), ops.convert_to_tensor(negative)]) - anchor  # (2, b, d)
    squared = ops.sum(stacked * stacked, axis=-1)
    return ops.mean(ops.relu(squared[0] - squared[1] + alpha))


def mine_triplets(embeddings, labels, alpha=0.2):
    """Semi-hard triplets as cnncourse.models.c5_faces.semi_hard_triplets, computed over a (a, p, n) cube at once.

    Returns:
        int64 (k, 3) of (anchor, positive, negative), sorted by anchor then positive.
    """
    e, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
    d = np.sum((e[:, None, :] - e[None, :, :]) ** 2, axis=-1)
    same = labels[:, None] == labels[None, :]
    d_ap, d_an = d[:, :, None], d[:, None, :]  # (a, p, 1) and (a, 1, n)
    negative = ~same[:, None, :]
    semi_hard = negative & (d_an > d_ap) & (d_an < d_ap + alpha)
    has_semi_hard = semi_hard.any(axis=-1, keepdims=True)
    pool = np.where(has_semi_hard, semi_hard, np.broadcast_to(negative, semi_hard.shape))
    chosen = np.argmin(np.where(pool, np.broadcast_to(d_an, pool.shape), np.inf), axis=-1)
    a, p = np.nonzero(same & ~np.eye(len(labels), dtype=bool) & negative.any(axis=-1))
    return np.stack([a, p, chosen[a, p]], axis=1).astype(np.int64).reshape(-1, 3)


def build_pair_model(encoder):
    """Siamese pair model: one encoder on both images, |f(a) - f(b)| -> Dense(1, sigmoid), as pair_classifier."""
    image_shape = tuple(encoder.inputs[0].shape[1:])
    image_a, image_b = keras.Input(image_shape, name="image_a"), keras.Input(image_shape, name="image_b")
    difference = layers.Subtract(name="difference")([encoder(image_a), encoder(image_b)])
    features = layers.Lambda(ops.abs, name="abs_difference")(difference)
    return keras.Model([image_a, image_b], layers.Dense(1, activation="sigmoid", name="same")(features),
                       name="pair_classifier")


def frozen_with_head(backbone, n_classes):
    """A frozen backbone with a new softmax layer "predictions" (see add_new_head), as a Sequential-free graph.

    Returns:
        keras.Model "transfer": image -> backbone(training=False) -> Dense(n_classes, softmax); only the Dense trains.
    """
    for layer in backbone._flatten_layers(include_self=True):  # every flag, the backbone's own included
        layer.trainable = False
    image = keras.Input(shape=tuple(backbone.inputs[0].shape[1:]), name="image")
    probabilities = layers.Dense(n_classes, activation="softmax", name="predictions")(backbone(image, training=False))
    return keras.Model(image, probabilities, name="transfer")


def unfreeze_last(backbone, n_layers):
    """Unfreeze the last n_layers layers of backbone that hold weights, batch normalization excepted; freeze the rest.

    Returns:
        list of their names, in the backbone's order.
    """
    weighted = [layer for layer in backbone.layers if layer.weights and "BatchNormalization" not in type(layer).__name__]
    chosen = {id(layer) for layer in weighted[::-1][:n_layers]}
    backbone.trainable = True
    for layer in backbone.layers:
        layer.trainable = id(layer) in chosen
    return [layer.name for layer in weighted if id(layer) in chosen]
