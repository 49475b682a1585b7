"""Chapter 2, part 2: residual blocks and ResNet-50, with the layer names of keras.applications.ResNet50.

A block named "conv3_block2" holds the layers conv3_block2_1_conv, _1_bn, _1_relu, _2_conv, _2_bn, _2_relu,
_3_conv, _3_bn, (_0_conv, _0_bn on a convolutional shortcut), _add and _out, as in Keras's own ResNet-50, so the
checks can compare a student's block with the matching block of keras.applications.ResNet50(weights=None).
"""

import keras
from keras import layers

from cnncourse.models.c2_classic import require_image_shape
from cnncourse.ops.validate import require_int

BN_EPSILON = 1.001e-5  # Keras's ResNet-50 value; the checks compare outputs, so it must match

# (stage name, number of blocks, filters of the 1x1, fxf, 1x1 convolutions, stride of the first block)
RESNET50_STAGES = [
    ("conv2", 3, (64, 64, 256), 1),
    ("conv3", 4, (128, 128, 512), 2),
    ("conv4", 6, (256, 256, 1024), 2),
    ("conv5", 3, (512, 512, 2048), 2),
]


def require_block_arguments(f, filters, stage_name):
    """Check a block's filter size f >= 1, filters (F1, F2, F3) of positive ints and a non-empty name."""
    require_int(f, "f", 1)
    if not isinstance(filters, (tuple, list)) or len(filters) != 3:
        raise ValueError(f"filters must be a tuple (F1, F2, F3) of three filter counts, got {filters!r}")
    for k, value in enumerate(filters, start=1):
        require_int(value, f"filters[F{k}]", 1)
    if not isinstance(stage_name, str) or not stage_name:
        raise ValueError(f"stage_name must be a non-empty string such as 'conv2_block2', got {stage_name!r}")


def identity_block(x, f, filters, stage_name):
    """The identity block: the shortcut is the input itself, added before the last ReLU.

    Main path: 1x1 conv (F1) - BN - ReLU - fxf "same" conv (F2) - BN - ReLU - 1x1 conv (F3) - BN; then
    Add([x, main]) and ReLU. BatchNormalization uses axis 3 and epsilon BN_EPSILON.

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C) with n_C == F3 (the shapes must match for the addition).
        f: size of the middle convolution's window.
        filters: (F1, F2, F3) filter counts of the three convolutions.
        stage_name: prefix of the layer names, e.g. "conv2_block2" -> conv2_block2_1_conv, conv2_block2_1_bn,
            conv2_block2_1_relu, ..., conv2_block2_3_bn, conv2_block2_add, conv2_block2_out.
    Returns:
        Keras tensor (batch, n_H, n_W, F3).
    """
    require_block_arguments(f, filters, stage_name)
    if x.shape[-1] != filters[2]:
        raise ValueError(f"identity_block needs an input with F3 = {filters[2]} channels, got shape {tuple(x.shape)}")
    ### BEGIN SOLUTION
    F1, F2, F3 = filters
    shortcut = x
    x = layers.Conv2D(F1, 1, name=f"{stage_name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_1_relu")(x)
    x = layers.Conv2D(F2, f, padding="same", name=f"{stage_name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_2_relu")(x)
    x = layers.Conv2D(F3, 1, name=f"{stage_name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_3_bn")(x)
    x = layers.Add(name=f"{stage_name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{stage_name}_out")(x)
    ### END SOLUTION


def convolutional_block(x, f, filters, stage_name, stride=2):
    """The convolutional block: a 1x1 convolution with BN on the shortcut makes the shapes match.

    Main path: 1x1 conv (F1, stride) - BN - ReLU - fxf "same" conv (F2) - BN - ReLU - 1x1 conv (F3) - BN.
    Shortcut: 1x1 conv (F3, stride) - BN. Then Add([shortcut, main]) and ReLU.

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C), any n_C.
        f: size of the middle convolution's window.
        filters: (F1, F2, F3) filter counts of the three convolutions.
        stage_name: prefix of the layer names, e.g. "conv3_block1" -> conv3_block1_0_conv, conv3_block1_0_bn (the
            shortcut), conv3_block1_1_conv, ..., conv3_block1_add, conv3_block1_out.
        stride: stride of the first 1x1 convolution and of the shortcut (>= 1).
    Returns:
        Keras tensor (batch, ceil(n_H / stride), ceil(n_W / stride), F3).
    """
    require_block_arguments(f, filters, stage_name)
    require_int(stride, "stride", 1)
    ### BEGIN SOLUTION
    F1, F2, F3 = filters
    shortcut = layers.Conv2D(F3, 1, strides=stride, name=f"{stage_name}_0_conv")(x)
    shortcut = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_0_bn")(shortcut)
    x = layers.Conv2D(F1, 1, strides=stride, name=f"{stage_name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_1_relu")(x)
    x = layers.Conv2D(F2, f, padding="same", name=f"{stage_name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_2_relu")(x)
    x = layers.Conv2D(F3, 1, name=f"{stage_name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{stage_name}_3_bn")(x)
    x = layers.Add(name=f"{stage_name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{stage_name}_out")(x)
    ### END SOLUTION


def resnet50(input_shape=(224, 224, 3), n_classes=1000):
    """ResNet-50 from the two blocks, as keras.applications.ResNet50(weights=None) builds it.

    Stem: ZeroPadding2D 3 (conv1_pad) - 7x7 conv 64, stride 2 (conv1_conv) - BN (conv1_bn) - ReLU (conv1_relu) -
    ZeroPadding2D 1 (pool1_pad) - 3x3 max pool, stride 2 (pool1_pool). Then the stages of RESNET50_STAGES, each a
    convolutional_block (f = 3, stage "<stage>_block1") followed by identity blocks ("<stage>_block2", ...), then
    global average pooling (avg_pool) and a softmax Dense (predictions).

    Args:
        input_shape: (n_H, n_W, n_C), at least 32x32; (224, 224, 3) as in the paper.
        n_classes: number of classes (>= 2).
    Returns:
        keras.Model; 25,636,712 parameters for (224, 224, 3) and 1,000 classes.
    """
    input_shape = require_image_shape(input_shape, 32)
    require_int(n_classes, "n_classes", 2)
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, n_blocks, filters, stride in RESNET50_STAGES:
        x = convolutional_block(x, 3, filters, f"{stage}_block1", stride=stride)
        for block in range(2, n_blocks + 1):
            x = identity_block(x, 3, filters, f"{stage}_block{block}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet50")
    ### END SOLUTION
