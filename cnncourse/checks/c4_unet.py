"""Checks of Chapter 4's U-Net: the contracting block, the expanding block and the whole model.

Oracles: closed-form layer tables (name, class, output shape, parameters (3 * 3 * n_C_prev + 1) * n_C) written from
the paper's description, and models wired here from a plan of those layers, whose outputs must equal the student's
once both have the same random weights (so ReLU, "same" padding, the skip and the order of the concatenation
[upsampled, skip] all matter). The shape of every level of the U-Net is checked by name before anything else.
The model returns logits: a softmax inside it (on the last layer or as an extra layer) fails, with a hint that the
loss takes from_logits=True. The convolutions must be he_normal initialised (read from their configuration).
"""

import numpy as np

from cnncourse.checks.architecture import expect_model, expect_same_rows, layer_rows
from cnncourse.checks.core import expect_equal, fail

SKIP_HINT = "the skip must be taken BEFORE pooling: it is the output of the second convolution (after dropout)"
CONCAT_HINT = ("concatenate (layers.Concatenate, not Add) [the transposed convolution's output, the skip] on the "
               "channel axis (axis=3 or -1)")
BLOCK_HINT = "two 3x3 'same' Conv2D with ReLU, Dropout only if dropout > 0, then MaxPooling2D(2) if max_pooling"
UP_HINT = "Conv2DTranspose(n_filters, 3, strides=2, padding='same'), Concatenate, two 3x3 'same' Conv2D with ReLU"
LOGITS_HINT = ("the last layer is a 1x1 Conv2D to n_classes WITHOUT activation: the model returns logits (no "
               "softmax; the loss uses from_logits=True)")


def _conv3(name, hw, c_in, c_out):
    return (name, "Conv2D", (*hw, c_out), (9 * c_in + 1) * c_out)


def down_rows(hw, c_in, F, dropout, pool, name):
    """Rows of a contracting block on an input of height, width `hw` and c_in channels."""
    rows = [_conv3(f"{name}_conv1", hw, c_in, F), _conv3(f"{name}_conv2", hw, F, F)]
    rows += [(f"{name}_dropout", "Dropout", (*hw, F), 0)] if dropout else []
    return rows + ([(f"{name}_pool", "MaxPooling2D", (hw[0] // 2, hw[1] // 2, F), 0)] if pool else [])


def up_rows(hw, c_in, c_skip, F, name):
    """Rows of an expanding block whose input is (hw, c_in) and whose skip has c_skip channels."""
    big = (2 * hw[0], 2 * hw[1])
    return [(f"{name}_transpose", "Conv2DTranspose", (*big, F), (9 * c_in + 1) * F),
            (f"{name}_concat", "Concatenate", (*big, F + c_skip), 0),
            _conv3(f"{name}_conv1", big, F + c_skip, F), _conv3(f"{name}_conv2", big, F, F)]


def unet_rows(input_size, n_filters, n_classes, depth):
    """Rows of the whole U-Net, and the expected shape of every level {level: (skip or output shape)}."""
    (h, w, c), rows, levels = input_size, [], {}
    for k in range(1, depth + 1):
        F = n_filters * 2 ** (k - 1)
        rows += down_rows((h, w), c, F, k == depth, True, f"down{k}")
        levels[f"down{k}"] = (h, w, F)
        h, w, c = h // 2, w // 2, F
    rows += down_rows((h, w), c, 2 * c, True, False, "bottleneck")
    levels["bottleneck"] = (h, w, 2 * c)
    c *= 2
    for k in range(1, depth + 1):
        F = n_filters * 2 ** (depth - k)
        rows += up_rows((h, w), c, F, F, f"up{k}")
        h, w, c = 2 * h, 2 * w, F
        levels[f"up{k}"] = (h, w, F)
    levels["logits"] = (h, w, n_classes)
    return rows + [("logits", "Conv2D", (h, w, n_classes), (c + 1) * n_classes)], levels


def _oracle(input_shapes, rows):
    """A functional model with one layer per row, each fed by the row before; a Concatenate also takes input 2."""
    import keras
    from keras import layers

    inputs = [keras.Input(shape) for shape in input_shapes]
    x, skips = inputs[0], list(inputs[1:])
    outputs = {}
    for name, kind, shape, _ in rows:
        if kind == "Conv2D":
            size = 1 if name == "logits" else 3
            x = layers.Conv2D(shape[-1], size, padding="same", activation=None if size == 1 else "relu", name=name)(x)
        elif kind == "Conv2DTranspose":
            x = layers.Conv2DTranspose(shape[-1], 3, strides=2, padding="same", name=name)(x)
        elif kind == "Concatenate":
            x = layers.Concatenate(axis=-1, name=name)([x, skips.pop()])
        elif kind == "MaxPooling2D":
            skips.append(x)
            x = layers.MaxPooling2D(2, name=name)(x)
        else:
            x = layers.Dropout(0.5, name=name)(x)
        outputs[name] = x
    return (inputs[0] if len(inputs) == 1 else inputs), x, outputs


def _randomise(models, seed):
    """Give the layers of the same name the same random weights, He-scaled so that deep outputs stay near 1."""
    rng = np.random.default_rng(seed)
    first, *others = models
    for layer in first.layers:
        weights = [rng.standard_normal(v.shape) * (np.sqrt(2 / np.prod(v.shape[:-1])) if len(v.shape) > 1 else 0.1)
                   for v in layer.weights]
        if weights:
            layer.set_weights([w.astype("float32") for w in weights])
            for other in others:
                other.get_layer(layer.name).set_weights([w.astype("float32") for w in weights])


def _outputs(model, x):
    out = model(x if len(x) > 1 else x[0], training=False)
    return [np.asarray(v) for v in (out if isinstance(out, (list, tuple)) else [out])]


def _same_outputs(student, oracle, what, case, seed, hint):
    """Fail unless the two models give the same outputs (every one) with the same random weights."""
    _randomise([oracle, student], seed)
    rng = np.random.default_rng(seed + 1)
    x = [rng.standard_normal((2, *t.shape[1:])).astype("float32") for t in oracle.inputs]
    for k, (got, want) in enumerate(zip(_outputs(student, x), _outputs(oracle, x))):
        bad = ~np.isclose(got, want, rtol=1e-4, atol=1e-4 * (1 + np.abs(want).max()))
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            fail(f"{what}: with the same weights as the reference, output {k + 1} differs in {int(bad.sum())} of "
                 f"{bad.size} values; first at {index}: expected {want[index]:.5g}, got {got[index]:.5g}", case, hint)


def _expect_settings(model, what, case, dropout=None):
    """he_normal on every 3x3 convolution, and the dropout rate on every Dropout layer."""
    for layer in model.layers:
        config = layer.get_config()
        if type(layer).__name__ == "Conv2D" and layer.name != "logits":
            init = config["kernel_initializer"]
            expect_equal(init.get("class_name") if isinstance(init, dict) else str(init), "HeNormal",
                         f"{what}: kernel_initializer of {layer.name}", case,
                         hint="kernel_initializer='he_normal' on every 3x3 convolution")
        if type(layer).__name__ == "Dropout" and dropout is not None:
            expect_equal(round(float(config["rate"]), 6), dropout, f"{what}: rate of {layer.name}", case)


def _shape(tensor):
    return tuple(tensor.shape[1:])


def _call(fn, what, case, hint, *args, **kwargs):
    import keras

    try:
        out = fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - a shape clash inside Keras: tell the student where
        fail(f"{what} raised {type(err).__name__}: {err}", case, hint)
    flat = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if not all(isinstance(t, keras.KerasTensor) for t in flat):
        fail(f"{what} returned {type(out).__name__}, expected Keras tensors", case)
    return out


def _check_conv_block(fn, hw, c_in, F, dropout, max_pooling, name, seed):
    import keras

    case = f"input {(*hw, c_in)}, n_filters {F}, dropout {dropout}, max_pooling {max_pooling}, name {name!r}"
    inputs = keras.Input((*hw, c_in))
    out = _call(fn, "conv_block", case, BLOCK_HINT, inputs, F, dropout=dropout, max_pooling=max_pooling, name=name)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"conv_block must return (next_layer, skip), got {type(out).__name__}", case)
    next_layer, skip = out
    pooled = (hw[0] // 2, hw[1] // 2, F) if max_pooling else (*hw, F)
    expect_equal(_shape(skip), (*hw, F), "conv_block skip shape", case, SKIP_HINT)
    expect_equal(_shape(next_layer), pooled, "conv_block next_layer shape", case,
                 BLOCK_HINT if max_pooling else "without max_pooling, next_layer is the skip itself")
    student = keras.Model(inputs, [next_layer, skip])
    rows = down_rows(hw, c_in, F, dropout > 0, max_pooling, name)
    expect_same_rows(layer_rows(student), rows, "conv_block", case, BLOCK_HINT)
    _expect_settings(student, "conv_block", case, dropout)
    ins, _, outs = _oracle([(*hw, c_in)], rows)
    oracle = keras.Model(ins, [outs[rows[-1][0]], outs[f"{name}_conv2" if not dropout else f"{name}_dropout"]])
    _same_outputs(student, oracle, "conv_block (next_layer, skip)", case, seed, BLOCK_HINT + "; " + SKIP_HINT)


def public_conv_block(conv_block):
    """A (16, 16, 3) input, 8 filters, with pooling; and the bottleneck form (dropout, no pooling)."""
    _check_conv_block(conv_block, (16, 16), 3, 8, 0.0, True, "down1", seed=0)
    _check_conv_block(conv_block, (4, 4), 16, 32, 0.3, False, "bottleneck", seed=1)


def hidden_conv_block(conv_block):
    """Non-square inputs, other channels, dropout with pooling, odd names."""
    for hw, c_in, F, dropout, pool, name, seed in [((8, 12), 5, 4, 0.3, True, "down4", 2),
                                                   ((6, 10), 2, 3, 0.0, False, "middle", 3),
                                                   ((32, 16), 1, 6, 0.5, True, "enc_a", 4)]:
        _check_conv_block(conv_block, hw, c_in, F, dropout, pool, name, seed)


def _check_upsampling_block(fn, hw, c_in, c_skip, F, name, seed):
    import keras

    case = f"expansive_input {(*hw, c_in)}, contractive_input {(2 * hw[0], 2 * hw[1], c_skip)}, n_filters {F}"
    below, skip = keras.Input((*hw, c_in)), keras.Input((2 * hw[0], 2 * hw[1], c_skip))
    out = _call(fn, "upsampling_block", case, CONCAT_HINT, below, skip, F, name=name)
    student = keras.Model([below, skip], out)
    rows = up_rows(hw, c_in, c_skip, F, name)
    names = {row[0]: row for row in layer_rows(student)}
    got = names.get(f"{name}_concat")
    if got != rows[1]:
        fail(f"upsampling_block: expected a Concatenate named {name}_concat with output shape {rows[1][2]}, got "
             + (f"{got[1]} with output shape {got[2]}" if got else "no such layer"), case, CONCAT_HINT)
    expect_equal(_shape(out), (2 * hw[0], 2 * hw[1], F), "upsampling_block output shape", case, UP_HINT)
    expect_same_rows(layer_rows(student), rows, "upsampling_block", case, UP_HINT)
    _expect_settings(student, "upsampling_block", case)
    ins, x, _ = _oracle([(*hw, c_in), (2 * hw[0], 2 * hw[1], c_skip)], rows)
    _same_outputs(student, keras.Model(ins, x), "upsampling_block", case, seed, CONCAT_HINT)


def public_upsampling_block(upsampling_block):
    """An (8, 8, 32) input with a (16, 16, 16) skip and 16 filters."""
    _check_upsampling_block(upsampling_block, (8, 8), 32, 16, 16, "up1", seed=0)


def hidden_upsampling_block(upsampling_block):
    """Non-square inputs and skips with another number of channels than n_filters."""
    for hw, c_in, c_skip, F, name, seed in [((4, 6), 8, 5, 3, "up3", 1), ((2, 2), 4, 4, 2, "dec", 2),
                                            ((5, 3), 3, 7, 6, "up2", 3)]:
        _check_upsampling_block(upsampling_block, hw, c_in, c_skip, F, name, seed)


def _check_unet(unet_model, input_size, n_filters, n_classes, depth, seed, verbose=False):
    import keras

    case = f"input_size {input_size}, n_filters {n_filters}, n_classes {n_classes}, depth {depth}"
    model = unet_model(input_size, n_filters, n_classes, depth)
    expect_model(model, "unet_model", case)
    rows, levels = unet_rows(input_size, n_filters, n_classes, depth)
    for level, want in levels.items():
        layer = "logits" if level == "logits" else f"{level}_conv2"
        try:
            got = _shape(model.get_layer(layer).output)
        except ValueError:
            fail(f"level {level}: no layer named {layer!r}", case, "name the blocks down1.., bottleneck, up1..")
        if verbose:
            print(f"level {level:>10}: expected {want}, got {got}{'' if got == want else '  <-- differs'}")
        expect_equal(got, want, f"unet_model: shape at level {level} ({layer})", case,
                     "down<k> has n_filters * 2**(k-1) filters; the bottleneck doubles the last; up<k> takes the "
                     "skip of down<depth+1-k> and halves the filters")
    expect_same_rows(layer_rows(model), rows, "unet_model", case,
                     "only the layers of the blocks (down<k>, bottleneck, up<k>) and one 1x1 Conv2D 'logits'; "
                     "dropout 0.3 on the last contracting block and on the bottleneck, nowhere else")
    _expect_settings(model, "unet_model", case, 0.3)
    ins, x, _ = _oracle([input_size], rows)
    _same_outputs(model, keras.Model(ins, x), "unet_model", case, seed, LOGITS_HINT)
    return model


def public_unet_model(unet_model):
    """The default U-Net on 64x64 RGB scenes: the shape of every level, every layer, 2,158,773 parameters."""
    model = _check_unet(unet_model, (64, 64, 3), 16, 5, 4, seed=0, verbose=True)
    expect_equal(model.count_params(), 2_158_773, "unet_model parameter count")


def hidden_unet_model(unet_model):
    """Other depths (1 to 5), non-square and gray inputs, other class counts; outputs with random weights."""
    for args, seed in [(((32, 48, 1), 4, 3, 2), 1), (((16, 16, 3), 2, 2, 1), 2), (((64, 32, 3), 2, 6, 5), 3)]:
        _check_unet(unet_model, *args, seed=seed)
