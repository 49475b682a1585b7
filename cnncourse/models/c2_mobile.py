"""Chapter 2, part 3: MobileNet v1 and v2, with the layer names of keras.applications.MobileNet / MobileNetV2.

The blocks use Keras's own layer names so that the checks can compare a student's block, layer by layer and output
by output, with the block Keras builds (width multiplier alpha = 1, depth multiplier 1).

MobileNet v1 block `block_id` (depthwise_separable_block):
    [conv_pad_{id} ZeroPadding2D ((0, 1), (0, 1)), stride 2 only] - conv_dw_{id} DepthwiseConv2D 3x3 -
    conv_dw_{id}_bn - conv_dw_{id}_relu ReLU6 - conv_pw_{id} Conv2D 1x1 - conv_pw_{id}_bn - conv_pw_{id}_relu ReLU6
MobileNet v2 block `block_id` (inverted_residual_block), prefix "block_{id}_" ("expanded_conv_" for block 0):
    [{p}expand Conv2D 1x1 (expansion * n_C_in) - {p}expand_BN - {p}expand_relu ReLU6, not in block 0] -
    [{p}pad ZeroPadding2D, stride 2 only] - {p}depthwise DepthwiseConv2D 3x3 - {p}depthwise_BN - {p}depthwise_relu -
    {p}project Conv2D 1x1 (filters), linear - {p}project_BN -
    [{p}add Add with the input, only when stride == 1 and n_C_in == filters]
ReLU6 is keras.layers.ReLU(6.0); no convolution has a bias (each is followed by BatchNormalization).
"""

import keras
from keras import layers

from cnncourse.models.c2_classic import require_feature_map, require_image_shape
from cnncourse.ops.validate import require_choice, require_int

# MobileNet v1 after the stem: (pointwise filters, stride) of blocks 1..13
MOBILENET_V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                       (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
# MobileNet v2 after the stem: (expansion, filters, number of blocks, stride of the first block)
MOBILENET_V2_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def depthwise_separable_block(x, filters, stride, block_id):
    """MobileNet v1's depthwise separable block, as keras.applications.mobilenet._depthwise_conv_block builds it.

    Depthwise 3x3 convolution (stride `stride`, no bias) - BN - ReLU6, then pointwise 1x1 convolution (`filters`,
    no bias) - BN - ReLU6, where BN is BatchNormalization with Keras's defaults and ReLU6 is layers.ReLU(6.0).
    With stride 1 the depthwise convolution pads "same"; with stride 2 a ZeroPadding2D adds one row at the bottom
    and one column at the right and the convolution is "valid".

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C_prev).
        filters: number of pointwise filters n_C (int >= 1).
        stride: 1 or 2, the stride of the depthwise convolution.
        block_id: int >= 1, used in the layer names conv_pad_{id}, conv_dw_{id}, conv_dw_{id}_bn, conv_dw_{id}_relu,
            conv_pw_{id}, conv_pw_{id}_bn, conv_pw_{id}_relu.
    Returns:
        Keras tensor (batch, n_H // stride, n_W // stride, filters).
    """
    require_feature_map(x)
    require_int(filters, "filters", 1)
    require_choice(require_int(stride, "stride", 1), "stride", (1, 2))
    require_int(block_id, "block_id", 1)
    if stride == 2 and min(x.shape[1] or 2, x.shape[2] or 2) < 2:
        raise ValueError(f"a stride-2 block needs a feature map of at least 2x2, got shape {tuple(x.shape)}")
    ### BEGIN SOLUTION
    if stride == 2:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)
    ### END SOLUTION


def mobilenet_v1(input_shape=(224, 224, 3), n_classes=1000):
    """MobileNet v1 (Howard et al., 2017), as keras.applications.MobileNet(weights=None) builds it (alpha = 1).

    Stem: conv1 Conv2D 32 3x3 stride 2 "same" no bias - conv1_bn - conv1_relu ReLU6; then the 13 blocks of
    MOBILENET_V1_BLOCKS; top: global average pooling (keepdims) - dropout 1e-3 (dropout) - conv_preds Conv2D 1x1
    n_classes - reshape_2 Reshape (n_classes,) - predictions softmax Activation.

    Args:
        input_shape: (n_H, n_W, n_C), height and width >= 32.
        n_classes: number of classes, >= 1.
    Returns:
        keras.Model; 4,253,864 parameters for (224, 224, 3) and 1,000 classes.
    """
    input_shape = require_image_shape(input_shape, 32)
    n_classes = require_int(n_classes, "n_classes", 1)
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = depthwise_separable_block(x, filters, stride, block_id)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
    x = layers.Dropout(1e-3, name="dropout")(x)
    x = layers.Conv2D(n_classes, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((n_classes,), name="reshape_2")(x)
    outputs = layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_1.00_{input_shape[0]}")


def inverted_residual_block(x, expansion, filters, stride, block_id):
    """MobileNet v2's inverted residual block, as keras.applications.mobilenet_v2._inverted_res_block builds it.

    Expand: 1x1 convolution to expansion * n_C_prev channels - BN - ReLU6 (left out in block 0, Keras's
    "expanded_conv_" block, whose expansion is 1). Depthwise: 3x3 convolution (stride `stride`) - BN - ReLU6; with
    stride 2 a ZeroPadding2D first pads ((n_H % 2, 1), (n_W % 2, 1)) and the convolution is "valid", else "same".
    Project: 1x1 convolution to `filters` channels - BN, with no activation (a linear bottleneck). Then, when
    stride == 1 and n_C_prev == filters, Add([x, projected]) (the residual connection). No convolution has a bias;
    every BatchNormalization has epsilon 1e-3 and momentum 0.999; ReLU6 is layers.ReLU(6.0).

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C_prev).
        expansion: int >= 1, the expansion factor t of the first 1x1 convolution (1 for block 0).
        filters: int >= 1, channels of the output.
        stride: 1 or 2, the stride of the depthwise convolution.
        block_id: int >= 0, names the layers block_{id}_expand, block_{id}_expand_BN, block_{id}_expand_relu,
            block_{id}_pad, block_{id}_depthwise, block_{id}_depthwise_BN, block_{id}_depthwise_relu,
            block_{id}_project, block_{id}_project_BN, block_{id}_add ("expanded_conv_..." for block 0).
    Returns:
        Keras tensor (batch, ceil(n_H / stride), ceil(n_W / stride), filters).
    """
    n_C_prev = require_feature_map(x)
    require_int(expansion, "expansion", 1)
    require_int(filters, "filters", 1)
    require_choice(require_int(stride, "stride", 1), "stride", (1, 2))
    require_int(block_id, "block_id", 0)
    if block_id == 0 and expansion != 1:
        raise ValueError(f"block 0 (expanded_conv_) has no expansion layer, so expansion must be 1, got {expansion}")
    ### BEGIN SOLUTION
    inputs = x
    if block_id == 0:
        prefix = "expanded_conv_"
    else:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(expansion * n_C_prev, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    if stride == 2:
        n_H, n_W = x.shape[1], x.shape[2]
        top = n_H % 2 if n_H is not None else 0
        left = n_W % 2 if n_W is not None else 0
        x = layers.ZeroPadding2D(((top, 1), (left, 1)), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(x)
    if stride == 1 and n_C_prev == filters:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x
    ### END SOLUTION


def mobilenet_v2(input_shape=(224, 224, 3), n_classes=1000):
    """MobileNet v2 (Sandler et al., 2018), as keras.applications.MobileNetV2(weights=None) builds it (alpha = 1).

    Stem: Conv1 Conv2D 32 3x3 stride 2 "same" no bias - bn_Conv1 - Conv1_relu ReLU6; then the 17 inverted residual
    blocks of MOBILENET_V2_STAGES (block ids 0..16); then Conv_1 Conv2D 1280 1x1 no bias - Conv_1_bn - out_relu
    ReLU6; top: global average pooling and a softmax Dense (predictions).

    Args:
        input_shape: (n_H, n_W, n_C), height and width >= 32.
        n_classes: number of classes, >= 1.
    Returns:
        keras.Model; 3,538,984 parameters for (224, 224, 3) and 1,000 classes.
    """
    input_shape = require_image_shape(input_shape, 32)
    n_classes = require_int(n_classes, "n_classes", 1)
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for expansion, filters, n_blocks, first_stride in MOBILENET_V2_STAGES:
        for k in range(n_blocks):
            x = inverted_residual_block(x, expansion, filters, first_stride if k == 0 else 1, block_id)
            block_id += 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"mobilenetv2_1.00_{input_shape[0]}")
