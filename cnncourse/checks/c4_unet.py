"""Checks of Chapter 4's U-Net: the contracting block, the expanding block and the whole model.

Oracles: closed-form layer tables (name, class, output shape, parameters (3 * 3 * n_C_prev + 1) * n_C) written from
the paper's description, and models wired here from a plan of those layers, whose outputs must equal the student's
once both have the same random weights (so ReLU, "same" padding, the skip and the order of the concatenation
[upsampled, skip] all matter). The shape of every level of the U-Net is checked by name before anything else.
The model returns logits: a softmax inside it (on the last layer or as an extra layer) fails, with a hint that the
loss takes from_logits=True. The convolutions must be he_normal initialised (read from their configuration).

Outputs are compared in inference mode and in training mode: there the Dropout layers of the same name in both
models draw the same mask (their seed generators are set alike), so a pooling fed from before the dropout, or a
dropout on the skip only, fails although its layer table is right. A ReLU written as its own layer
(layers.ReLU() or layers.Activation("relu")) instead of Conv2D(activation="relu") is the same network: such layers
are left out of the table, and the outputs decide. When the outputs differ, the check tries the usual wrong
wirings (the concatenation order swapped, a ReLU missing or added) and names the one that matches.

One mistake, one loss: unet_model calls conv_block and upsampling_block. Its hidden test runs it with the course's
blocks swapped into the notebook's namespace (cnncourse.checks.core.reference_helpers); its public check runs the
student's own blocks and, when it fails only because of one of them, prints where the mistake starts and passes.
"""

import numpy as np

from cnncourse.checks.architecture import expect_model, expect_rebuildable, expect_same_rows, layer_rows
from cnncourse.checks.core import expect_equal, fail

SKIP_HINT = "the skip must be taken BEFORE pooling: it is the output of the second convolution (after dropout)"
CONCAT_HINT = ("concatenate (layers.Concatenate, not Add) [the transposed convolution's output, the skip] on the "
               "channel axis (axis=3 or -1)")
BLOCK_HINT = "two 3x3 'same' Conv2D with ReLU, Dropout only if dropout > 0, then MaxPooling2D(2) if max_pooling"
UP_HINT = "Conv2DTranspose(n_filters, 3, strides=2, padding='same'), Concatenate, two 3x3 'same' Conv2D with ReLU"
STUB_HINT = "write the function's body: it still raises NotImplementedError (or calls a block that does)"
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


def _oracle(input_shapes, rows, rate=0.5, swap=False, relu=True, no_relu_on=(), transpose_relu=False, softmax=False):
    """A functional model with one layer per row, each fed by the row before; a Concatenate also takes input 2.

    rate is the rate of every Dropout layer (the masks of training mode depend on it). The other keyword arguments
    build the usual wrong wirings, for hints only: swap (the concatenation [skip, upsampled]), relu=False (no ReLU
    on the 3x3 convolutions), no_relu_on (the name endings of the 3x3 convolutions without one), transpose_relu (a
    ReLU on the transposed convolution), softmax (a softmax on the logits)."""
    import keras
    from keras import layers

    inputs = [keras.Input(shape) for shape in input_shapes]
    x, skips = inputs[0], list(inputs[1:])
    outputs = {}
    for name, kind, shape, _ in rows:
        if kind == "Conv2D":
            size = 1 if name == "logits" else 3
            plain = not relu or name.endswith(tuple(no_relu_on))
            activation = ("softmax" if softmax else None) if size == 1 else (None if plain else "relu")
            x = layers.Conv2D(shape[-1], size, padding="same", activation=activation, name=name)(x)
        elif kind == "Conv2DTranspose":
            x = layers.Conv2DTranspose(shape[-1], 3, strides=2, padding="same", name=name,
                                       activation="relu" if transpose_relu else None)(x)
        elif kind == "Concatenate":
            pair = [x, skips.pop()]
            x = layers.Concatenate(axis=-1, name=name)(pair[::-1] if swap else pair)
        elif kind == "MaxPooling2D":
            skips.append(x)
            x = layers.MaxPooling2D(2, name=name)(x)
        else:
            x = layers.Dropout(rate, name=name)(x)
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


def _seed_dropouts(model, seed):
    """Set the seed generator of every Dropout layer to a state given by the seed and the layer's name, so that
    the layers of the same name in two models draw the same masks in training mode."""
    for layer in model.layers:
        generator = getattr(layer, "seed_generator", None)
        if generator is not None and hasattr(generator, "state"):
            offset = sum(layer.name.encode()) % 10_000
            generator.state.assign(np.array([seed + offset, 0], dtype=generator.state.dtype))


def _outputs(model, x, training=False, seed=0):
    import keras

    _seed_dropouts(model, seed)
    out = model(x if len(x) > 1 else x[0], training=training)
    return [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64)
            for v in (out if isinstance(out, (list, tuple)) else [out])]


def _differs(got, want):
    """The mask of the values of `got` that differ from `want` (False everywhere when they match); None when the
    shapes differ."""
    if got.shape != want.shape:
        return None
    return ~np.isclose(got, want, rtol=1e-4, atol=1e-4 * (1 + np.abs(want).max()))


def _matches(got, want):
    bad = _differs(got, want)
    return bad is not None and not bad.any()


def _same_outputs(student, oracle, what, case, seed, hint, variants=()):
    """Fail unless the two models give the same outputs (every one) with the same random weights, in inference mode
    and in training mode (the same dropout masks in both).

    Args:
        variants: (wrong oracle, hint) pairs: a wrong wiring built like the oracle; when the student's outputs match
            one of them, its hint is the one given.
    """
    _randomise([oracle, student], seed)
    for wrong, _ in variants:
        _randomise([oracle, wrong], seed)
    rng = np.random.default_rng(seed + 1)
    x = [rng.standard_normal((2, *t.shape[1:])).astype("float32") for t in oracle.inputs]
    for training in (False, True):
        mode = "training" if training else "inference"
        got_all, want_all = _outputs(student, x, training, seed), _outputs(oracle, x, training, seed)
        for k, (got, want) in enumerate(zip(got_all, want_all)):
            bad = _differs(got, want)
            if bad is None:
                fail(f"{what}: output {k + 1} has shape {got.shape[1:]}, expected {want.shape[1:]}", case, hint)
            if not bad.any():
                continue
            likely = [text for wrong, text in variants if _matches(got, _outputs(wrong, x, training, seed)[k])]
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            fail(f"{what}: with the same weights as the reference, in {mode} mode, output {k + 1} differs in "
                 f"{int(bad.sum())} of {bad.size} values; first at {index}: expected {want[index]:.5g}, got "
                 f"{got[index]:.5g}", case, "; or ".join(f"looks like {text}" for text in likely) or hint)


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


def _is_relu_layer(layer):
    """A ReLU written as its own layer: layers.ReLU() with its defaults, or layers.Activation("relu")."""
    import keras

    if isinstance(layer, keras.layers.ReLU):
        config = layer.get_config()
        return not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold")
    return isinstance(layer, keras.layers.Activation) and layer.get_config().get("activation") == "relu"


def _rows(model):
    """layer_rows of `model` without the ReLU layers: Conv2D(activation="relu") and Conv2D then ReLU() are the same
    network (the outputs, compared afterwards, tell whether every ReLU is where it belongs)."""
    return [row for row, layer in zip(layer_rows(model), [lay for lay in model.layers if lay not in _inputs(model)])
            if not _is_relu_layer(layer)]


def _expect_rows(got, want, what, case, hint):
    """expect_same_rows, after a check of the extra layers whose message says what was expected (and, for a
    softmax, that the model returns logits)."""
    names = {row[0] for row in want}
    extra = [row for row in got if row[0] not in names]
    if extra:
        softmax = any(row[1] == "Softmax" or "softmax" in row[0] for row in extra)
        fail(f"{what}: layers that should not be there: {[row[0] for row in extra][:5]} ({extra[0][1]}, ...); "
             f"expected only the {len(want)} layers {[row[0] for row in want][:4]}...", case,
             LOGITS_HINT if softmax else hint)
    expect_same_rows(got, want, what, case, hint)


def _inputs(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.InputLayer)]


def _model(inputs, outputs, what, case):
    """keras.Model(inputs, outputs); a graph Keras cannot close (an output that does not come from these inputs)
    becomes a failed check."""
    import keras

    try:
        model = keras.Model(inputs, outputs)
    except Exception as err:  # noqa: BLE001 - say what was expected, not Keras's stack trace
        fail(f"{what}: its outputs do not come from its inputs ({type(err).__name__}: {err})", case,
             "build every layer on the tensors you were handed (the arguments), and return the last one")
    expect_rebuildable(model, what, case)
    return model


def _call(fn, what, case, hint, *args, **kwargs):
    import keras

    try:
        out = fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - a shape clash inside Keras: tell the student where
        fail(f"{what} raised {type(err).__name__}: {err} (expected it to build its layers on these inputs)", case,
             STUB_HINT if isinstance(err, NotImplementedError) else hint)
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
    student = _model(inputs, [next_layer, skip], "conv_block", case)
    rows = down_rows(hw, c_in, F, dropout > 0, max_pooling, name)
    _expect_rows(_rows(student), rows, "conv_block", case, BLOCK_HINT)
    _expect_settings(student, "conv_block", case, dropout)

    def oracle(**wrong):
        ins, _, outs = _oracle([(*hw, c_in)], rows, rate=dropout or 0.5, **wrong)
        return keras.Model(ins, [outs[rows[-1][0]], outs[f"{name}_conv2" if not dropout else f"{name}_dropout"]])

    if dropout and max_pooling:  # training mode, one call: next_layer must be the pooled skip (the same mask)
        x = np.random.default_rng(seed + 2).standard_normal((1, *hw, c_in)).astype("float32")
        got_next, got_skip = _outputs(student, [x], True, seed)
        pooled = got_skip.reshape(1, hw[0] // 2, 2, hw[1] // 2, 2, F).max(axis=(2, 4))
        if not _matches(got_next, pooled):
            fail("conv_block: in training mode next_layer is not the max pooling of skip, as expected", case,
                 "pool the output of the dropout (the skip itself), not the convolution before the dropout")
    no_relu = "no ReLU: activation='relu' on both 3x3 convolutions"
    variants = [(oracle(relu=False), "the convolutions have " + no_relu),
                (oracle(no_relu_on=("_conv2",)), "the second convolution has " + no_relu),
                (oracle(no_relu_on=("_conv1",)), "the first convolution has " + no_relu)]
    _same_outputs(student, oracle(), "conv_block (next_layer, skip)", case, seed, BLOCK_HINT + "; " + SKIP_HINT,
                  variants)


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
    out = _call(fn, "upsampling_block", case, "the transposed convolution must double the height and width exactly "
                "(strides=2, padding='same'); then " + CONCAT_HINT, below, skip, F, name=name)
    student = _model([below, skip], out, "upsampling_block", case)
    rows = up_rows(hw, c_in, c_skip, F, name)
    names = {row[0]: row for row in _rows(student)}
    got = names.get(f"{name}_concat")
    if got != rows[1]:
        fail(f"upsampling_block: expected a Concatenate named {name}_concat with output shape {rows[1][2]}, got "
             + (f"{got[1]} with output shape {got[2]}" if got else "no such layer"), case, CONCAT_HINT)
    expect_equal(_shape(out), (2 * hw[0], 2 * hw[1], F), "upsampling_block output shape", case, UP_HINT)
    _expect_rows(_rows(student), rows, "upsampling_block", case, UP_HINT)
    _expect_settings(student, "upsampling_block", case)

    def oracle(**wrong):
        ins, x, _ = _oracle([(*hw, c_in), (2 * hw[0], 2 * hw[1], c_skip)], rows, **wrong)
        return keras.Model(ins, x)

    variants = [(oracle(swap=True), "the concatenation is [skip, upsampled]: " + CONCAT_HINT),
                (oracle(relu=False), "the 3x3 convolutions have no ReLU: activation='relu' on both"),
                (oracle(transpose_relu=True), "the transposed convolution has a ReLU: it has no activation")]
    _same_outputs(student, oracle(), "upsampling_block", case, seed, CONCAT_HINT, variants)


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
    try:
        model = unet_model(input_size, n_filters, n_classes, depth)
    except Exception as err:  # noqa: BLE001 - a shape clash inside Keras: tell the student where to look
        fail(f"unet_model raised {type(err).__name__}: {err} (expected it to build the model)", case,
             STUB_HINT if isinstance(err, NotImplementedError) else "up<k> takes the skip of down<depth+1-k> (the last skip first: skips[depth - k]) and the output of the "
             "block below it; conv_block returns (next_layer, skip) in that order")
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
    _expect_rows(_rows(model), rows, "unet_model", case,
                     "only the layers of the blocks (down<k>, bottleneck, up<k>) and one 1x1 Conv2D 'logits'; "
                     "dropout 0.3 on the last contracting block and on the bottleneck, nowhere else")
    _expect_settings(model, "unet_model", case, 0.3)

    def oracle(**wrong):
        ins, x, _ = _oracle([input_size], rows, rate=0.3, **wrong)
        return keras.Model(ins, x)

    variants = [(oracle(softmax=True), LOGITS_HINT),
                (oracle(swap=True), "the concatenation is [skip, upsampled] in the expanding blocks: " + CONCAT_HINT)]
    _same_outputs(model, oracle(), "unet_model", case, seed, LOGITS_HINT, variants)
    return model


def _blame_blocks(check, unet_model):
    """Run check(unet_model) on the student's own blocks. When it fails, run it again with the course's conv_block,
    then upsampling_block, then both, swapped into the notebook's namespace: if it passes then, the mistake starts
    in that block, whose own check says what is wrong; the failure is printed with a note that says so, and the
    check passes (one mistake, one loss). Otherwise (or where the references are stubs, in the student edition) the
    first failure is raised as it was."""
    from cnncourse.checks.core import CheckFailed, reference_helpers

    try:
        check(unet_model)
    except CheckFailed as err:
        from cnncourse.models import c4_unet

        for names in (("conv_block",), ("upsampling_block",), ("conv_block", "upsampling_block")):
            try:
                with reference_helpers(unet_model, **{name: getattr(c4_unet, name) for name in names}):
                    check(unet_model)
            except Exception:  # noqa: BLE001 - still wrong, or no reference to compare with
                continue
            blocks = " and ".join(names)
            print(f"unet_model: NOTE: {err}\n  With the course's {blocks} in place of yours, your unet_model passes "
                  f"this check: the mistake is in your {blocks}, whose own check says what is wrong. This cell keeps "
                  f"its points; fix {blocks} first.")
            return
        raise


def public_unet_model(unet_model):
    """The default U-Net on 64x64 RGB scenes: the shape of every level, every layer, 2,158,773 parameters.

    Separates: a softmax on the logits, dropout on the wrong blocks, a bottleneck that does not double the filters,
    an extra 3x3 convolution before the logits (the Coursera assignment's), skips taken from the wrong level. It
    runs your own conv_block and upsampling_block: when it fails only because of one of them, it says so and passes.
    """
    _blame_blocks(_public_unet_model, unet_model)


def _public_unet_model(unet_model):
    model = _check_unet(unet_model, (64, 64, 3), 16, 5, 4, seed=0, verbose=True)
    expect_equal(model.count_params(), 2_158_773, "unet_model parameter count")


def hidden_unet_model(unet_model):
    """Other depths (1 to 5), non-square and gray inputs, other class counts; outputs with random weights, in
    inference and training mode. Runs with the course's conv_block and upsampling_block in the notebook's namespace
    (one mistake, one loss)."""
    from cnncourse.checks.core import reference_helpers
    from cnncourse.models import c4_unet

    with reference_helpers(unet_model, conv_block=c4_unet.conv_block, upsampling_block=c4_unet.upsampling_block):
        for args, seed in [(((32, 48, 1), 4, 3, 2), 1), (((16, 16, 3), 2, 2, 1), 2), (((64, 32, 3), 2, 6, 5), 3)]:
            _check_unet(unet_model, *args, seed=seed)
