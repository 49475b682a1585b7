"""Chapter 4's U-Net: blocks and model (cnncourse.models.c4_unet), their checks, training, figure and bench.

Each check must pass the package's reference and fail on a typical mistake with a message that names it. A
softmax inside the model is a mistake here: the model returns logits, trained with from_logits=True.
"""

import keras
import numpy as np
import pytest
from keras import layers

from cnncourse.bench import BENCHMARKS
from cnncourse.checks import CheckFailed
from cnncourse.checks import c4_unet as checks
from cnncourse.experiments import c4_unet as experiment
from cnncourse.models import c4_unet as unet

NAMES = ["conv_block", "upsampling_block", "unet_model"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(getattr(unet, name))


def test_model_shapes_parameters_and_clear_errors():
    model = unet.unet_model()
    assert model.output.shape[1:] == (64, 64, 5) and model.count_params() == 2_158_773
    assert unet.unet_model((32, 48, 1), 4, 3, 2).output.shape[1:] == (32, 48, 3)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 16"):
        unet.unet_model((60, 64, 3))
    with pytest.raises(ValueError, match="twice the height"):
        unet.upsampling_block(keras.Input((4, 4, 8)), keras.Input((6, 6, 8)), 4)
    with pytest.raises(ValueError, match="dropout"):
        unet.conv_block(keras.Input((8, 8, 3)), 4, dropout=1.0)


# --- typical mistakes ------------------------------------------------------------------------------------

def conv(n_filters, name, **kwargs):
    return layers.Conv2D(n_filters, 3, padding="same", activation="relu", kernel_initializer="he_normal", name=name,
                         **kwargs)


def block_skip_after_pooling(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = conv(n_filters, f"{name}_conv2")(conv(n_filters, f"{name}_conv1")(inputs))
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x
    pooled = layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x
    return pooled, pooled


def block_one_conv(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = conv(n_filters, f"{name}_conv1")(inputs)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def block_glorot(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(inputs)
    x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", name=f"{name}_conv2")(x)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def upsampling(merge, label):
    def block(expansive_input, contractive_input, n_filters, name="up1"):
        up = layers.Conv2DTranspose(n_filters, 3, strides=2, padding="same", name=f"{name}_transpose")(expansive_input)
        x = merge(up, contractive_input, f"{name}_concat")
        return conv(n_filters, f"{name}_conv2")(conv(n_filters, f"{name}_conv1")(x))

    block.__name__ = label
    return block


up_wrong_axis = upsampling(lambda up, skip, name: layers.Concatenate(axis=1, name=name)([up, skip]), "up_wrong_axis")
up_add = upsampling(lambda up, skip, name: layers.Add(name=name)([up, skip]), "up_add")
up_skip_first = upsampling(lambda up, skip, name: layers.Concatenate(axis=-1, name=name)([skip, up]), "up_skip_first")


def unet_with(label, activation=None, bottleneck_factor=2, dropout_everywhere=False):
    def build(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
        inputs = keras.Input(input_size)
        x, skips = inputs, []
        for k in range(1, depth + 1):
            dropout = 0.3 if k == depth or dropout_everywhere else 0.0
            x, skip = unet.conv_block(x, n_filters * 2 ** (k - 1), dropout, name=f"down{k}")
            skips.append(skip)
        x, _ = unet.conv_block(x, n_filters * 2 ** (depth - 1) * bottleneck_factor, 0.3, False, "bottleneck")
        for k in range(1, depth + 1):
            x = unet.upsampling_block(x, skips[depth - k], n_filters * 2 ** (depth - k), name=f"up{k}")
        return keras.Model(inputs, layers.Conv2D(n_classes, 1, activation=activation, name="logits")(x))

    build.__name__ = label
    return build


def unet_fixed_depth(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
    """Ignores depth: right on the public case only."""
    return unet.unet_model(input_size, n_filters, n_classes, 4)


MISTAKES = [
    ("public", "conv_block", block_skip_after_pooling, "BEFORE pooling"),
    ("public", "conv_block", block_one_conv, "no layer named 'down1_conv2'"),
    ("public", "conv_block", block_glorot, "he_normal"),
    ("public", "upsampling_block", up_wrong_axis, "channel axis"),
    ("public", "upsampling_block", up_add, "not Add"),
    ("public", "upsampling_block", up_skip_first, "[the transposed convolution's output, the skip]"),
    ("hidden", "upsampling_block", up_wrong_axis, "channel axis"),  # channels differ: Keras itself refuses
    ("public", "unet_model", unet_with("unet_softmax", activation="softmax"), "WITHOUT activation"),
    ("public", "unet_model", unet_with("unet_small_bottleneck", bottleneck_factor=1), "shape at level bottleneck"),
    ("public", "unet_model", unet_with("unet_dropout_everywhere", dropout_everywhere=True), "down1_dropout"),
    ("hidden", "unet_model", unet_fixed_depth, "shape at level"),
]


@pytest.mark.parametrize("kind, name, mistake, words", MISTAKES, ids=[f"{m[0]}-{m[2].__name__}" for m in MISTAKES])
def test_checks_catch_typical_mistakes(kind, name, mistake, words):
    with pytest.raises(CheckFailed) as info:
        getattr(checks, f"{kind}_{name}")(mistake)
    assert words in str(info.value) and "case:" in str(info.value)


# --- training, IoU, figure, bench ----------------------------------------------------------------------

def test_settings_have_the_same_keys_in_every_mode():
    assert set(experiment.UNET_TRAINING) == {"fast", "full", "grade"}
    assert all(set(s) == set(experiment.SETTING_KEYS) for s in experiment.UNET_TRAINING.values())


def test_iou_per_class_matches_a_loop():
    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 4, (3, 8, 8)), rng.integers(0, 4, (3, 8, 8))
    pred[pred == 3] = 0  # class 3 never predicted; class 4 in neither
    want = [np.sum((true == c) & (pred == c)) / np.sum((true == c) | (pred == c)) for c in range(4)]
    got = experiment._iou_per_class(true, pred, 5)
    np.testing.assert_allclose(got[:4], want)
    assert np.isnan(got[4])
    assert np.all(experiment._iou_per_class(true, true, 4) == 1.0)


def test_training_runs_in_grade_mode_and_reports_its_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = experiment.UNET_TRAINING["grade"]
    result = experiment.train_unet(settings, seed=0)
    assert len(result["history"]) == settings["epochs"] and np.all(np.isfinite(result["history"]))
    assert result["predicted"].shape == (settings["n_test"], 64, 64)
    assert 0 <= result["mean_iou"] <= 1 and len(result["per_class_iou"]) == 5 and result["images_per_second"] > 0
    test = result["test"]
    fig = experiment.plot_segmentations(test["images"], test["masks"], result["predicted"], test["class_names"], n=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert {"input 1", "true mask 2", "predicted mask 3"} <= set(titles) and fig._suptitle is not None
    assert [t.get_text() for t in fig.legends[0].get_texts()] == test["class_names"]
    plt.close(fig)
    data_only = experiment.plot_segmentations(test["images"], test["masks"], None, test["class_names"], n=2)
    assert len(data_only.axes) == 4 and "predicted" not in data_only._suptitle.get_text()
    plt.close(data_only)
    with pytest.raises(ValueError, match="settings must have keys"):
        experiment.train_unet({"epochs": 1})


def test_bench_is_registered():
    from cnncourse.cli import make_parser

    assert BENCHMARKS["unet"][0] == "cnncourse.bench.unet"
    assert make_parser().parse_args(["bench", "unet"]).name == "unet"
