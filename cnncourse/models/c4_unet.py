"""Chapter 4: the U-Net (Ronneberger et al., 2015), small enough for 64x64 scenes, with keras.layers only.

Layer names, which the checks compare layer by layer:
    contracting block "down1": down1_conv1, down1_conv2, (down1_dropout), down1_pool;
    bottleneck "bottleneck": bottleneck_conv1, bottleneck_conv2, bottleneck_dropout (no pooling);
    expanding block "up1": up1_transpose, up1_concat, up1_conv1, up1_conv2;
    the last layer "logits": a 1x1 convolution to n_classes scores per pixel, no softmax.
With depth d the blocks are down1 .. down<d>, bottleneck, up1 .. up<d>; up<k> takes the skip of down<d + 1 - k>.
"""

import numbers

import keras
from keras import layers

from cnncourse.models.c2_classic import require_image_shape
from cnncourse.ops.validate import require_int

UNET_DROPOUT = 0.3  # on the last contracting block and on the bottleneck


def require_block_name(name):
    """Check a block name is a non-empty string such as "down1"; return it."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string such as 'down1', got {name!r}")
    return name


def require_dropout(dropout):
    """Check a dropout rate is a number in [0, 1); return it as a float."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    return float(dropout)


def require_unet_size(input_size, depth):
    """Check (n_H, n_W, n_C) with n_H and n_W divisible by 2**depth (each pooling halves them); return the tuple."""
    depth = require_int(depth, "depth", 1)
    input_size = require_image_shape(input_size, 2 ** depth, name="input_size")
    if input_size[0] % 2 ** depth or input_size[1] % 2 ** depth:
        raise ValueError(f"input_size {input_size}: height and width must be divisible by 2**depth = {2 ** depth}, "
                         f"so that every expanding block finds a skip of its size")
    return input_size


def conv_block(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    """A contracting block: two 3x3 "same" convolutions with ReLU, optional dropout, then 2x2 max pooling.

    Args:
        inputs: Keras tensor (batch, n_H, n_W, n_C).
        n_filters: number of filters of both convolutions (he_normal initialised).
        dropout: rate of a Dropout layer after the second convolution, or 0 for none.
        max_pooling: end with MaxPooling2D(2) (a contracting block) or not (the bottleneck).
        name: prefix of the layer names: <name>_conv1, <name>_conv2, <name>_dropout, <name>_pool.
    Returns:
        (next_layer, skip): next_layer (batch, n_H / 2, n_W / 2, n_filters) after pooling, or the same tensor as
        skip without pooling; skip (batch, n_H, n_W, n_filters), the output before pooling, for the expanding path.
    """
    require_int(n_filters, "n_filters", 1)
    require_dropout(dropout)
    require_block_name(name)
    if not isinstance(max_pooling, bool):
        raise ValueError(f"max_pooling must be True or False, got {max_pooling!r}")
    ### BEGIN SOLUTION
    conv = layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                         name=f"{name}_conv1")(inputs)
    conv = layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                         name=f"{name}_conv2")(conv)
    if dropout > 0:
        conv = layers.Dropout(dropout, name=f"{name}_dropout")(conv)
    next_layer = layers.MaxPooling2D(2, name=f"{name}_pool")(conv) if max_pooling else conv
    return next_layer, conv
    ### END SOLUTION


def upsampling_block(expansive_input, contractive_input, n_filters, name="up1"):
    """An expanding block: a 3x3 transposed convolution of stride 2, the skip concatenated, two 3x3 convolutions.

    The concatenation is [the transposed convolution's output, contractive_input], in that order, on the channels.

    Args:
        expansive_input: Keras tensor (batch, n_H, n_W, n_C) from the layer below.
        contractive_input: the skip, Keras tensor (batch, 2 n_H, 2 n_W, n_C_skip) of the contracting block.
        n_filters: filters of the transposed convolution and of both convolutions (ReLU, he_normal, "same").
        name: prefix of the layer names: <name>_transpose, <name>_concat, <name>_conv1, <name>_conv2.
    Returns:
        Keras tensor (batch, 2 n_H, 2 n_W, n_filters).
    """
    require_int(n_filters, "n_filters", 1)
    require_block_name(name)
    below, skip = tuple(expansive_input.shape[1:3]), tuple(contractive_input.shape[1:3])
    if skip != (2 * below[0], 2 * below[1]):
        raise ValueError(f"the skip (contractive_input) must be twice the height and width of expansive_input; got "
                         f"{skip} and {below}")
    ### BEGIN SOLUTION
    up = layers.Conv2DTranspose(n_filters, 3, strides=2, padding="same", name=f"{name}_transpose")(expansive_input)
    merged = layers.Concatenate(axis=3, name=f"{name}_concat")([up, contractive_input])
    conv = layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                         name=f"{name}_conv1")(merged)
    return layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                         name=f"{name}_conv2")(conv)
    ### END SOLUTION


def unet_model(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
    """The U-Net: depth contracting blocks, a bottleneck, depth expanding blocks, per-pixel class scores.

    down<k> (k = 1 .. depth) has n_filters * 2**(k-1) filters, dropout UNET_DROPOUT on down<depth> only; the
    bottleneck has n_filters * 2**depth filters, dropout UNET_DROPOUT and no pooling; up<k> has
    n_filters * 2**(depth-k) filters and the skip of down<depth+1-k>; "logits" is a 1x1 Conv2D to n_classes with no
    activation (train with SparseCategoricalCrossentropy(from_logits=True); argmax gives the predicted class).

    Args:
        input_size: (n_H, n_W, n_C), n_H and n_W divisible by 2**depth.
        n_filters: filters of the first block (>= 1).
        n_classes: classes per pixel, background included (>= 2).
        depth: number of poolings (>= 1).
    Returns:
        keras.Model named "unet", (batch, n_H, n_W, n_C) -> logits (batch, n_H, n_W, n_classes); 2,158,773
        parameters with the defaults.
    """
    input_size = require_unet_size(input_size, depth)
    require_int(n_filters, "n_filters", 1)
    require_int(n_classes, "n_classes", 2)
    ### BEGIN SOLUTION
    inputs = keras.Input(shape=input_size)
    x, skips = inputs, []
    for k in range(1, depth + 1):
        dropout = UNET_DROPOUT if k == depth else 0.0
        x, skip = conv_block(x, n_filters * 2 ** (k - 1), dropout=dropout, name=f"down{k}")
        skips.append(skip)
    x, _ = conv_block(x, n_filters * 2 ** depth, dropout=UNET_DROPOUT, max_pooling=False, name="bottleneck")
    for k in range(1, depth + 1):
        x = upsampling_block(x, skips[depth - k], n_filters * 2 ** (depth - k), name=f"up{k}")
    outputs = layers.Conv2D(n_classes, 1, padding="same", name="logits")(x)
    return keras.Model(inputs, outputs, name="unet")
    ### END SOLUTION
