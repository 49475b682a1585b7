"""Checks of Chapter 2's residual networks: identity block, convolutional block and ResNet-50.

Oracles: Keras's own block (keras.src.applications.resnet.residual_block_v1, which ResNet50 is made of) for the
blocks, layer by layer and output by output with the same random weights; keras.applications.ResNet50(weights=None)
for the whole network, layer by layer.
"""

from cnncourse.checks.architecture import expect_model, expect_same_outputs, expect_same_rows, layer_rows
from cnncourse.checks.core import expect_equal, fail


def _block_models(student_block, input_shape, f, F, stride, name, conv_shortcut):
    """(student model, Keras model) wrapping one block on an input of `input_shape`; filters are (F, F, 4F)."""
    import keras
    from keras.src.applications.resnet import residual_block_v1

    inputs = keras.Input(input_shape)
    if conv_shortcut:
        out = student_block(inputs, f, (F, F, 4 * F), name, stride=stride)
    else:
        out = student_block(inputs, f, (F, F, 4 * F), name)
    if not isinstance(out, keras.KerasTensor):
        fail(f"the block returned a {type(out).__name__}, expected the Keras tensor of its last layer",
             hint="return the output of the final ReLU")
    student = keras.Model(inputs, out)
    ref_in = keras.Input(input_shape)
    reference = keras.Model(ref_in, residual_block_v1(ref_in, F, kernel_size=f, stride=stride,
                                                      conv_shortcut=conv_shortcut, name=name))
    return student, reference


def _check_block(block, what, input_shape, f, F, stride, name, conv_shortcut, outputs, hint):
    case = f"input {input_shape}, f {f}, filters {(F, F, 4 * F)}" + (f", stride {stride}" if conv_shortcut else "")
    student, reference = _block_models(block, input_shape, f, F, stride, name, conv_shortcut)
    expect_same_rows(layer_rows(student), layer_rows(reference), what, case, hint=hint)
    if outputs:
        expect_same_outputs(student, reference, what, case, seed=sum(input_shape) + f,
                            hint="the shortcut is added to the main path after its last BatchNormalization and "
                                 "before the final ReLU")


IDENTITY_HINT = "1x1 conv F1, BN, ReLU, fxf 'same' conv F2, BN, ReLU, 1x1 conv F3, BN, Add the input, ReLU"
CONV_HINT = ("main path as the identity block with stride on the first 1x1 conv; shortcut: 1x1 conv F3 with the "
             "same stride, then BN")


def public_identity_block(identity_block):
    """One block on a (6, 6, 16) input with filters (4, 4, 16): layers and outputs as Keras's own block."""
    _check_block(identity_block, "identity_block", (6, 6, 16), 3, 4, 1, "conv2_block2", False, True, IDENTITY_HINT)


def hidden_identity_block(identity_block):
    """Other sizes, filter windows and channel counts, outputs with random weights."""
    for input_shape, f, F, name in [((5, 7, 32), 3, 8, "conv3_block3"), ((4, 4, 12), 5, 3, "conv9_block2"),
                                    ((3, 3, 8), 1, 2, "stage_x")]:
        _check_block(identity_block, "identity_block", input_shape, f, F, 1, name, False, True, IDENTITY_HINT)


def public_convolutional_block(convolutional_block):
    """One block on an (8, 8, 6) input, filters (4, 4, 16), stride 2: layers and outputs as Keras's own block."""
    _check_block(convolutional_block, "convolutional_block", (8, 8, 6), 3, 4, 2, "conv3_block1", True, True,
                 CONV_HINT)


def hidden_convolutional_block(convolutional_block):
    """Strides 1, 2 and 3, odd sizes, other windows and channels, outputs with random weights."""
    for input_shape, f, F, stride in [((7, 7, 5), 3, 3, 2), ((6, 5, 8), 5, 2, 1), ((9, 9, 4), 3, 4, 3),
                                      ((4, 6, 3), 1, 5, 2)]:
        _check_block(convolutional_block, "convolutional_block", input_shape, f, F, stride, "conv4_block1", True,
                     True, CONV_HINT)


def _check_resnet50(resnet50, input_shape, n_classes):
    import keras

    case = f"input_shape {input_shape}, n_classes {n_classes}"
    model = resnet50(input_shape, n_classes)
    expect_model(model, "resnet50", case)
    reference = keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=n_classes)
    expect_same_rows(layer_rows(model), layer_rows(reference), "resnet50 against keras.applications.ResNet50", case,
                     hint="stem, then per stage one convolutional block (stride 1 in conv2, 2 after) and identity "
                          "blocks named <stage>_block2, <stage>_block3...")
    return model


def public_resnet50(resnet50):
    """The 224x224 ImageNet network against keras.applications.ResNet50(weights=None): 25,636,712 parameters."""
    model = _check_resnet50(resnet50, (224, 224, 3), 1000)
    expect_equal(model.count_params(), 25_636_712, "resnet50 parameter count")


def hidden_resnet50(resnet50):
    """Other sizes and class counts against Keras's own ResNet-50, layer by layer."""
    _check_resnet50(resnet50, (64, 64, 3), 7)
    _check_resnet50(resnet50, (96, 80, 1), 2)
    _check_resnet50(resnet50, (32, 32, 3), 3)
