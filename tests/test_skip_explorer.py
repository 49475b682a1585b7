"""Chapter 4's skip explorer: the U-Net run layer by layer against Keras's own graph, a cut skip against the same
network with that skip's weights zeroed (fill "zeros") or rebuilt with a constant skip (fill "mean"), the scores
against counts written here, and the widget's controls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import skip_explorer  # noqa: E402
from cnncourse.widgets.skip_explorer import predict_with_skips, segmentation_scores, skip_levels  # noqa: E402

NAMES = ["background", "digit", "square", "disc", "triangle"]


@pytest.fixture(scope="module")
def unet():
    import keras

    from cnncourse.models.twins import build_unet

    keras.utils.set_random_seed(4)
    return build_unet((32, 32, 3), n_filters=4, n_classes=len(NAMES), depth=3, dropout=0.3)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((5, 32, 32, 3)).astype(np.float32)


def test_levels_name_the_skips(unet):
    levels = skip_levels(unet)
    assert [(lv["from"], lv["to"]) for lv in levels] == [("down1", "up3"), ("down2", "up2"), ("down3", "up1")]
    assert [lv["shape"] for lv in levels] == [(32, 32, 4), (16, 16, 8), (8, 8, 16)]
    for lv in levels:  # the skip is the second input of the concat it joins
        concat = unet.get_layer(f"{lv['to']}_concat")
        assert tuple(concat.input[1].shape[1:]) == lv["shape"]


def test_every_skip_kept_is_the_model_itself(unet, images):
    np.testing.assert_allclose(predict_with_skips(unet, images, batch_size=2), unet.predict(images, verbose=0),
                               atol=1e-5)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_a_skip_of_zeros_is_the_model_with_that_skips_weights_zeroed(unet, images, level):
    import keras

    to = skip_levels(unet)[level - 1]["to"]
    oracle = keras.models.clone_model(unet)
    oracle.set_weights(unet.get_weights())
    conv = oracle.get_layer(f"{to}_conv1")
    kernel, bias = conv.get_weights()
    n_transpose = oracle.get_layer(f"{to}_transpose").filters  # the concat puts the transpose's channels first
    kernel[:, :, n_transpose:, :] = 0.0
    conv.set_weights([kernel, bias])
    keep = {1, 2, 3} - {level}
    np.testing.assert_allclose(predict_with_skips(unet, images, keep, fill="zeros"), oracle.predict(images, verbose=0),
                               atol=1e-5)


def test_a_skip_filled_with_its_mean_matches_a_graph_built_here(unet, images):
    """The U-Net rewired as a Keras graph with the trained layers, the level-1 skip a constant: its channel means."""
    import keras

    skip_model = keras.Model(unet.inputs, unet.get_layer("down1_conv2").output)
    means = np.asarray(skip_model.predict(images, verbose=0)).mean(axis=(0, 1, 2)).astype(np.float32)
    layer = unet.get_layer
    inputs = keras.Input((32, 32, 3))
    x, skips = inputs, []
    for k in (1, 2, 3):
        x = layer(f"down{k}_conv2")(layer(f"down{k}_conv1")(x))
        skips.append(x)
        x = layer(f"down{k}_pool")(x)
    x = layer("bottleneck_conv2")(layer("bottleneck_conv1")(x))
    skips[0] = keras.ops.zeros_like(skips[0]) + means
    for k in (1, 2, 3):
        x = layer(f"up{k}_concat")([layer(f"up{k}_transpose")(x), skips[3 - k]])
        x = layer(f"up{k}_conv2")(layer(f"up{k}_conv1")(x))
    oracle = keras.Model(inputs, layer("logits")(x))
    np.testing.assert_allclose(predict_with_skips(unet, images, {2, 3}, fill="mean", batch_size=2),
                               oracle.predict(images, verbose=0), atol=1e-5)


def test_scores_count_pixels():
    rng = np.random.default_rng(1)
    masks, predicted = rng.integers(0, 4, (3, 6, 6)), rng.integers(0, 4, (3, 6, 6))
    predicted[masks == 3] = 3  # class 3 always right; class 4 in neither
    scores = segmentation_scores(masks, predicted, 5)
    for c in range(4):
        both = sum(int(t == c and p == c) for t, p in zip(masks.ravel(), predicted.ravel()))
        either = sum(int(t == c or p == c) for t, p in zip(masks.ravel(), predicted.ravel()))
        assert scores["iou"][c] == pytest.approx(both / either)
    assert np.isnan(scores["iou"][4]) and scores["mean_iou"] == pytest.approx(np.mean(scores["iou"][:4]))
    assert scores["accuracy"] == pytest.approx(np.mean(masks == predicted))


def test_bad_input_is_a_value_error(unet, images):
    with pytest.raises(ValueError, match="keep"):
        predict_with_skips(unet, images, {4})
    with pytest.raises(ValueError, match="fill"):
        predict_with_skips(unet, images, {1}, fill="noise")
    with pytest.raises(ValueError, match="U-Net"):
        import keras

        skip_levels(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))


def test_explorer_follows_its_controls(unet, images):
    masks = np.random.default_rng(2).integers(0, len(NAMES), images.shape[:3])
    box = skip_explorer(unet, images, masks, NAMES)
    assert set(box.controls) == {"scene", "skip 1", "skip 2", "skip 3"} and "Try" in box.caption.value
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and "CUT" not in box.formula.value
    assert box.figure.axes[3].get_title() == "skips cut: none"
    box.controls["skip 1"].value = False
    assert "down1 -&gt; up3 CUT" in box.formula.value and box.figure.axes[3].get_title() == "skips cut: level 1"
    cut = np.argmax(predict_with_skips(unet, images, {2, 3}), axis=-1)
    cut_row = box.formula.value.split("as set above")[1]
    assert f"{segmentation_scores(masks, cut, len(NAMES))['mean_iou']:>8.3f}" in cut_row
    box.controls["scene"].value = 4
    assert bytes(box.picture.value) != first and box.message.value == ""
