"""Checks of Chapter 2's residual networks: identity block, convolutional block and ResNet-50.

Oracles: Keras's own block (keras.src.applications.resnet.residual_block_v1, which ResNet50 is made of) for the
blocks, layer by layer, wire by wire (each layer's activation and inputs) and output by output with the same random
weights, in inference and training mode; keras.applications.ResNet50(weights=None) for the whole network, the same
way, with the output of every stage compared at 32x32 (the first stage that differs is the one named).
"""

from cnncourse.checks.architecture import (build_model, expect_rebuildable, expect_same_behaviour, expect_same_graph,
                                           expect_same_rows, kind_rows, layer_rows)
from cnncourse.checks.core import CheckFailed, expect_equal, fail, reference_helpers


def _course_blocks():
    """{name: the course's block}: swapped into resnet50's namespace (one mistake, one loss; see reference_helpers)."""
    from cnncourse.models import c2_resnet

    return {"identity_block": c2_resnet.identity_block, "convolutional_block": c2_resnet.convolutional_block}


def _block_models(student_block, input_shape, f, F, stride, name, conv_shortcut):
    """(student model, Keras model) wrapping one block on an input of `input_shape`; filters are (F, F, 4F)."""
    import keras
    from keras.src.applications.resnet import residual_block_v1

    inputs = keras.Input(input_shape)
    what = "convolutional_block" if conv_shortcut else "identity_block"
    try:
        if conv_shortcut:
            out = student_block(inputs, f, (F, F, 4 * F), name, stride=stride)
        else:
            out = student_block(inputs, f, (F, F, 4 * F), name)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong, not a Keras stack trace
        fail(f"{what}(x of shape {(None, *input_shape)}, f={f}, filters={(F, F, 4 * F)}, {name!r}) raised "
             f"{type(err).__name__}: {err}", hint="the Add needs two tensors of the same shape: the last BN's "
                                                  "output and the shortcut")
    if not isinstance(out, keras.KerasTensor):
        fail(f"{what} returned a {type(out).__name__}, expected the Keras tensor of its last layer",
             hint="return the output of the final ReLU")
    student = keras.Model(inputs, out)
    expect_rebuildable(student, what)
    ref_in = keras.Input(input_shape)
    reference = keras.Model(ref_in, residual_block_v1(ref_in, F, kernel_size=f, stride=stride,
                                                      conv_shortcut=conv_shortcut, name=name))
    return student, reference


def _check_block(block, what, input_shape, f, F, stride, name, conv_shortcut, outputs, hint):
    case = f"input {input_shape}, f {f}, filters {(F, F, 4 * F)}" + (f", stride {stride}" if conv_shortcut else "")
    student, reference = _block_models(block, input_shape, f, F, stride, name, conv_shortcut)
    expect_same_rows(kind_rows(layer_rows(student), student), kind_rows(layer_rows(reference), reference), what,
                     case, hint=hint)
    expect_same_graph(student, reference, what, case, hints=GRAPH_HINTS)
    if outputs:
        expect_same_behaviour(student, reference, what, case, seed=sum(input_shape) + f, training=(False, True),
                              hint="the shortcut is added to the main path after its last BatchNormalization and "
                                   "before the final ReLU; BatchNormalization(axis=3, epsilon=BN_EPSILON), called "
                                   "without a fixed training argument")


GRAPH_HINTS = {
    "_add": "Add takes the output of the last BatchNormalization (..._3_bn) and the shortcut (the block's input, or "
            "..._0_bn in the convolutional block): the shortcut is added before the final ReLU, not after it",
    "_out": "the final ReLU (..._out) takes the output of the Add",
    "_relu": "a ReLU follows the first and the second BatchNormalization; the third BN has none before the Add",
    "_bn": "each BatchNormalization follows its convolution (..._1_conv -> ..._1_bn)",
    "_conv": "the convolutions follow each other on the main path; the shortcut's 1x1 convolution (..._0_conv) takes "
             "the block's input",
}
IDENTITY_HINT = "1x1 conv F1, BN, ReLU, fxf 'same' conv F2, BN, ReLU, 1x1 conv F3, BN, Add the input, ReLU"
CONV_HINT = ("main path as the identity block with stride on the first 1x1 conv; shortcut: 1x1 conv F3 with the "
             "same stride, then BN")


def public_identity_block(identity_block):
    """One block on a (6, 6, 16) input with filters (4, 4, 16): layers, wiring and outputs as Keras's own block.

    Separates: the shortcut added after the final ReLU (the Add's inputs), a ReLU missing, BatchNormalization on
    another axis (its parameters), Keras's default epsilon 1e-3 instead of BN_EPSILON (the outputs)."""
    _check_block(identity_block, "identity_block", (6, 6, 16), 3, 4, 1, "conv2_block2", False, True, IDENTITY_HINT)


def hidden_identity_block(identity_block):
    """Other sizes, filter windows and channel counts, outputs with random weights."""
    for input_shape, f, F, name in [((5, 7, 32), 3, 8, "conv3_block3"), ((4, 4, 12), 5, 3, "conv9_block2"),
                                    ((3, 3, 8), 1, 2, "stage_x")]:
        _check_block(identity_block, "identity_block", input_shape, f, F, 1, name, False, True, IDENTITY_HINT)


def public_convolutional_block(convolutional_block):
    """One block on an (8, 8, 6) input, filters (4, 4, 16), stride 2: layers, wiring and outputs as Keras's own block.

    Separates: the shortcut without BN or with stride 1, the stride on the 3x3 convolution (ResNet v1.5), the shortcut
    read from the main path instead of the block's input."""
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
    model = build_model(resnet50, "resnet50", (input_shape, n_classes), case,
                        hint="build it from identity_block and convolutional_block, with the stage table "
                             "RESNET50_STAGES")
    reference = keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=n_classes)
    what = "resnet50 against keras.applications.ResNet50"
    expect_same_rows(kind_rows(layer_rows(model), model), kind_rows(layer_rows(reference), reference), what, case,
                     hint="stem, then per stage one convolutional block (stride 1 in conv2, 2 after) and identity "
                          "blocks named <stage>_block2, <stage>_block3...; global average pooling (avg_pool), "
                          "not AveragePooling2D and Flatten")
    expect_same_graph(model, reference, what, case,
                      hints={**GRAPH_HINTS, "_block1_0_conv": "the shortcut's 1x1 convolution takes the block's input",
                             "conv1_conv": "the stem: conv1_pad (ZeroPadding2D 3), then conv1_conv",
                             "pool1_pool": "the stem's max pool comes after pool1_pad (ZeroPadding2D 1)",
                             "_block1_1_conv": "each stage's first block takes the previous stage's last output"})
    return model, reference


# The output of every stage, then the features: the first that differs says where the network starts to differ.
STAGE_OUTPUTS = ["conv1_relu", "pool1_pool", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out",
                 "conv5_block3_out", "avg_pool"]


def _public_resnet50(resnet50):
    model, _ = _check_resnet50(resnet50, (224, 224, 3), 1000)
    expect_equal(model.count_params(), 25_636_712, "resnet50 parameter count")


def public_resnet50(resnet50):
    """The 224x224 ImageNet network against keras.applications.ResNet50(weights=None): 25,636,712 parameters, every
    layer's activation and inputs. When it fails only because of your identity_block or convolutional_block (it
    passes with the course's), it says so and passes: that mistake costs the block's points, not these."""
    try:
        _public_resnet50(resnet50)
    except CheckFailed as err:
        try:
            with reference_helpers(resnet50, **_course_blocks()):
                _public_resnet50(resnet50)
        except Exception:  # noqa: BLE001 - still wrong with the course's blocks: the mistake is in resnet50 itself
            raise err from None
        print(f"resnet50 fails with your blocks:\n  {err}\nWith the course's identity_block and convolutional_block "
              "in place it passes: the mistake starts in a block; fix that block first (its own check fails too).")


def hidden_resnet50(resnet50):
    """Other sizes and class counts against Keras's own ResNet-50, layer by layer and wire by wire; at 32x32 also
    the outputs of every stage with the same random weights, in inference and in training mode. Runs with the
    course's identity_block and convolutional_block in resnet50's namespace (one mistake, one loss)."""
    with reference_helpers(resnet50, **_course_blocks()):
        _check_resnet50(resnet50, (64, 64, 3), 7)
        _check_resnet50(resnet50, (96, 80, 1), 2)
        model, reference = _check_resnet50(resnet50, (32, 32, 3), 3)
    expect_same_behaviour(model, reference, "resnet50", "input_shape (32, 32, 3), n_classes 3", seed=50,
                          rtol=1e-3, atol=1e-3, training=(False, True), outputs=STAGE_OUTPUTS,
                          hint="the stem or the stages differ from Keras's: see the first output that differs")
