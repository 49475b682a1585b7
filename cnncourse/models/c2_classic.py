"""Chapter 2's classic networks: LeNet-5, AlexNet (with local response normalization) and VGG-16.

All three are channels-last Keras models whose layer names are part of the contract: the checks look
layers up by name. Architecture tables (output shapes for the default input):

LeNet-5, input (28, 28, 1):
    conv1 Conv2D 6 5x5 "same" tanh (28, 28, 6)   pool1 AvgPool 2x2 s2 (14, 14, 6)
    conv2 Conv2D 16 5x5 "valid" tanh (10, 10, 16) pool2 AvgPool 2x2 s2 (5, 5, 16)
    flatten (400,)  fc1 Dense 120 tanh  fc2 Dense 84 tanh  predictions Dense n_classes softmax
    61,706 parameters for 10 classes.
AlexNet, input (227, 227, 3):
    conv1 96 11x11 s4 relu (55, 55, 96)  lrn1 LRN  pool1 MaxPool 3 s2 (27, 27, 96)
    conv2 256 5x5 "same" relu (27, 27, 256)  lrn2 LRN  pool2 MaxPool 3 s2 (13, 13, 256)
    conv3 384 3x3 "same" relu  conv4 384 3x3 "same" relu  conv5 256 3x3 "same" relu  pool5 (6, 6, 256)
    flatten (9216,)  fc6 4096 relu  drop6 0.5  fc7 4096 relu  drop7 0.5  predictions n_classes softmax
    62,378,344 parameters for 1000 classes (58,281,344 + 4,097 per class).
VGG-16, input (224, 224, 3): as keras.applications.VGG16: block{b}_conv{i} 3x3 "same" relu with
    64, 128, 256, 512, 512 filters (2, 2, 3, 3, 3 convolutions), block{b}_pool 2x2 s2, flatten,
    fc1 4096 relu, fc2 4096 relu, predictions; 138,357,544 parameters for 1000 classes.
"""

import numbers

import keras
from keras import layers

from cnncourse.ops.validate import require_int


# --- input checks shared by the Chapter 2 builders --------------------------------------------------

def require_image_shape(input_shape, min_size, name="input_shape"):
    """Check an image shape (n_H, n_W, n_C): three integers, height and width >= min_size, n_C >= 1.

    Returns:
        the shape as a tuple of Python ints.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"{name} must be a tuple (n_H, n_W, n_C), got {input_shape!r}")
    n_H = require_int(input_shape[0], f"{name}[0] (n_H)", min_size)
    n_W = require_int(input_shape[1], f"{name}[1] (n_W)", min_size)
    n_C = require_int(input_shape[2], f"{name}[2] (n_C)", 1)
    return n_H, n_W, n_C


def require_int_tuple(values, name, length, minimum=1):
    """Check a tuple (or list) of `length` integers, each >= minimum; return it as a tuple of ints."""
    if not isinstance(values, (tuple, list)) or len(values) != length:
        raise ValueError(f"{name} must be a tuple of {length} integers >= {minimum}, got {values!r}")
    return tuple(require_int(v, f"{name}[{k}]", minimum) for k, v in enumerate(values))


def require_feature_map(x, name="x"):
    """Check a batch of feature maps (batch, n_H, n_W, n_C) whose channel count is known; return n_C."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 4 or shape[-1] is None:
        raise ValueError(f"{name} must be a 4-D tensor (batch, n_H, n_W, n_C) with a known n_C, got shape {shape}")
    return int(shape[-1])


def require_number(value, name, minimum):
    """Check a real number (not a bool) >= minimum; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}, got {value!r}")
    return float(value)


# --- LeNet-5 ------------------------------------------------------------------------------------------

# Training of LeNet-5 on the shipped MNIST digits, per mode (n_images None: all 5,000). Full mode needs augmentation
# and a decaying learning rate to pass 98 % from 4,000 training digits (96.5 % with neither, measured).
LENET_TRAINING = {
    "fast": {"n_images": 2000, "epochs": 3, "batch_size": 32, "learning_rate": 1e-3, "augment": False,
             "cosine_decay": False},
    "full": {"n_images": None, "epochs": 60, "batch_size": 32, "learning_rate": 2e-3, "augment": True,
             "cosine_decay": True},
    "grade": {"n_images": 200, "epochs": 1, "batch_size": 32, "learning_rate": 1e-3, "augment": False,
              "cosine_decay": False},  # autograding: a smoke run (cnncourse.config)
}


def lenet5(input_shape=(28, 28, 1), n_classes=10):
    """LeNet-5 (LeCun et al., 1998) in its modern form: average pooling, tanh, a softmax output.

    conv1 uses "same" padding so that a 28x28 digit gives conv2 the 14x14 maps of the original 32x32 input.

    Args:
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 12.
        n_classes: number of output classes, >= 1.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    """
    input_shape = require_image_shape(input_shape, 12)
    n_classes = require_int(n_classes, "n_classes", 1)
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(6, 5, padding="same", activation="tanh", name="conv1")(inputs)
    x = layers.AveragePooling2D(pool_size=2, strides=2, name="pool1")(x)
    x = layers.Conv2D(16, 5, padding="valid", activation="tanh", name="conv2")(x)
    x = layers.AveragePooling2D(pool_size=2, strides=2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation="tanh", name="fc1")(x)
    x = layers.Dense(84, activation="tanh", name="fc2")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="lenet5")
    ### END SOLUTION


# --- AlexNet ------------------------------------------------------------------------------------------

class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalization across channels, with tf.nn.local_response_normalization's definition.

    For each position and channel d of a (batch, n_H, n_W, n_C) input a:
        sqr_sum[..., d] = sum of a[..., j] ** 2 for j in [d - depth_radius, d + depth_radius] (inside 0..n_C-1)
        out[..., d] = a[..., d] / (bias + alpha * sqr_sum[..., d]) ** beta
    The defaults are AlexNet's n = 5 neighbouring channels (depth_radius 2), k = 2, alpha = 1e-4, beta = 0.75.
    alpha multiplies the sum itself (the paper's convention; some libraries divide alpha by n first).

    Args:
        depth_radius: int >= 0, how many channels on each side enter the sum.
        bias: k >= 0, keeps the denominator away from zero.
        alpha: scale of the sum of squares, >= 0.
        beta: exponent of the denominator, >= 0.
    Input and output shapes: (batch, n_H, n_W, n_C), the same.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = require_int(depth_radius, "depth_radius", 0)
        self.bias = require_number(bias, "bias", 0)
        self.alpha = require_number(alpha, "alpha", 0)
        self.beta = require_number(beta, "beta", 0)

    def call(self, inputs):
        ### BEGIN SOLUTION
        n_C = inputs.shape[-1]
        r = self.depth_radius
        squares = keras.ops.square(inputs)
        padded = keras.ops.pad(squares, [[0, 0], [0, 0], [0, 0], [r, r]])  # zeros beyond the first and last channel
        sqr_sum = padded[..., 0:n_C]
        for shift in range(1, 2 * r + 1):
            sqr_sum = sqr_sum + padded[..., shift:shift + n_C]
        return inputs / keras.ops.power(self.bias + self.alpha * sqr_sum, self.beta)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta)
        return config


def alexnet(input_shape=(227, 227, 3), n_classes=1000):
    """AlexNet (Krizhevsky et al., 2012) on one device: five convolutions, two LRNs, three max pools, three dense.

    Args:
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 67.
        n_classes: number of output classes, >= 1.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    Needs LocalResponseNormalization (this module) for lrn1 and lrn2.
    """
    input_shape = require_image_shape(input_shape, 67)
    n_classes = require_int(n_classes, "n_classes", 1)
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)
    x = LocalResponseNormalization(name="lrn1")(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2, name="pool1")(x)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)
    x = LocalResponseNormalization(name="lrn2")(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2, name="pool2")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc6")(x)
    x = layers.Dropout(0.5, name="drop6")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)
    x = layers.Dropout(0.5, name="drop7")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="alexnet")
    ### END SOLUTION


# --- VGG-16 -------------------------------------------------------------------------------------------

def vgg16(input_shape=(224, 224, 3), n_classes=1000):
    """VGG-16 (Simonyan and Zisserman, 2014; ICLR 2015): five blocks of 3x3 "same" convolutions, each closed by a 2x2
    max pool.

    Layer names and shapes are those of keras.applications.VGG16(weights=None).

    Args:
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 32.
        n_classes: number of output classes, >= 1.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    """
    input_shape = require_image_shape(input_shape, 32)
    n_classes = require_int(n_classes, "n_classes", 1)
    ### BEGIN SOLUTION
    blocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]  # (filters, convolutions) per block
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for b, (filters, n_convs) in enumerate(blocks, start=1):
        for i in range(1, n_convs + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{b}_conv{i}")(x)
        x = layers.MaxPooling2D(pool_size=2, strides=2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg16")
    ### END SOLUTION
