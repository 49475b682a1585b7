"""Chapter 2's experiments: plain against residual networks by depth, and transfer learning with few labels.

The experiments' results (the deeper plain network trains worse, the pretrained one transfers) are shown by the
notebooks and measured by `cnncourse bench residual` / `cnncourse bench transfer`; here their parts are tested on what
must hold whatever the training does: the same layers, parameters and batch normalisation in both variants, the
identity fallback of a residual block, freezing, the split, the shape of the results, and clear errors.
"""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.experiments import c2_residual, c2_transfer  # noqa: E402


def _weighted_layers(model):
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers if layer.weights]


@pytest.mark.parametrize("depth, n", [(8, 1), (20, 3)])
def test_plain_and_residual_have_the_same_layers_and_parameters(depth, n):
    plain, residual = c2_residual.deep_network(depth, False), c2_residual.deep_network(depth, True)
    assert plain.count_params() == residual.count_params()
    assert _weighted_layers(plain) == _weighted_layers(residual)
    convs = [layer for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) + 1 == depth  # 6n + 2: the stem, 6n convolutions and the softmax layer
    for model in (plain, residual):
        assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) == len(convs)
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 3 * n
    shortcuts = [layer for layer in residual.layers if isinstance(layer, c2_residual.ZeroPadShortcut)]
    assert len(shortcuts) == 2 and not any(layer.weights for layer in shortcuts)  # stages 2 and 3 start
    assert not any(isinstance(layer, (keras.layers.Add, c2_residual.ZeroPadShortcut)) for layer in plain.layers)
    assert plain.output.shape[1:] == residual.output.shape[1:] == (10,)
    assert [convs[i].filters for i in (0, -1)] == [16, 64] and residual.get_layer("pool").output.shape[1:] == (64,)


@pytest.mark.parametrize("training", [False, True])
def test_a_residual_block_whose_last_bn_outputs_zero_is_the_identity(training):
    """a[l+2] = relu(bn(z[l+2]) + a[l]) = a[l] when the BN's scale and shift are 0; a plain block outputs zeros."""
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    outputs = {}
    for residual in (False, True):
        model = c2_residual.deep_network(8, residual, width=4)
        bn = model.get_layer("stage1_block1_2_bn")
        gamma, beta, mean, variance = bn.get_weights()
        bn.set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, variance])
        probe = keras.Model(model.inputs[0], [model.get_layer("stem_relu").output,
                                              model.get_layer("stage1_block1_out").output])
        outputs[residual] = [np.asarray(t) for t in probe(x, training=training)]
    stem, block = outputs[True]
    assert np.any(stem)
    np.testing.assert_allclose(block, stem)
    assert not np.any(outputs[False][1])


def test_the_zero_pad_shortcut_keeps_every_other_pixel_and_pads_the_channels():
    x = np.random.default_rng(1).random((2, 7, 7, 3), dtype=np.float32)
    layer = c2_residual.ZeroPadShortcut(8, 2)
    out = np.asarray(layer(x))
    assert out.shape == (2, 4, 4, 8) == layer.compute_output_shape((2, 7, 7, 3))
    np.testing.assert_array_equal(out[..., :3], x[:, ::2, ::2, :])
    assert not np.any(out[..., 3:])
    conv = keras.layers.Conv2D(8, 3, strides=2, padding="same")
    assert conv.compute_output_shape((2, 7, 7, 3)) == out.shape  # the shapes of the two paths agree


@pytest.mark.parametrize("kwargs, words", [
    ({"depth": 9, "residual": True}, "6n \\+ 2"),
    ({"depth": 2, "residual": True}, "depth"),
    ({"depth": 8, "residual": True, "stages": 2}, "4n \\+ 2"),
    ({"depth": 8, "residual": "yes"}, "residual"),
    ({"depth": 8, "residual": True, "width": 0}, "width"),
    ({"depth": 8, "residual": True, "stages": 4}, "stages"),
])
def test_deep_network_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        c2_residual.deep_network(**kwargs)


def test_depth_sweep_result_and_plot():
    settings = {"n_images": 100, "depths": (8, 14), "width": 2, "epochs": 2, "batch_size": 32, "learning_rate": 0.05,
                "momentum": 0.9}
    result = c2_residual.depth_sweep(settings, seed=1)
    assert result["depths"] == (8, 14) and result["epochs"] == 2 and result["seconds"] > 0
    for depth in (8, 14):
        runs = [result[name][depth] for name in ("plain", "residual")]
        for run in runs:
            assert len(run["train_error"]) == len(run["train_loss"]) == 2
            assert all(0 <= e <= 1 for e in run["train_error"])
            assert 0 <= run["test_accuracy"] <= 1 and run["seconds"] > 0
        assert runs[0]["n_parameters"] == runs[1]["n_parameters"] == \
            c2_residual.deep_network(depth, True, width=2).count_params()
    ax = c2_residual.plot_depth_sweep(result)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["plain-8", "residual-8", "plain-14", "residual-14"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"] * 2
    assert ax.get_title() and ax.get_xlabel() == "epoch" and "training error" in ax.get_ylabel()


@pytest.mark.parametrize("change, words", [
    ({"learning_rate": None}, "learning_rate"),
    ({"n_images": 5}, "n_images"),
    ({"depths": (8, 9)}, "6n \\+ 2"),
    ({"depths": ()}, "depths"),
    ({"depths": (8, 8)}, "depths"),
    ({"width": 0}, "width"),
    ({"momentum": 1.0}, "momentum"),
])
def test_depth_sweep_rejects_bad_settings_before_training(change, words):
    settings = {**c2_residual.RESIDUAL_EXPERIMENT["grade"], **change}
    if change.get("learning_rate", 0) is None:
        del settings["learning_rate"]
    with pytest.raises(ValueError, match=words):
        c2_residual.depth_sweep(settings)


def test_settings_of_every_mode_are_valid():
    from cnncourse import config

    from cnncourse.models.c1_convnet import TRAINING
    from cnncourse.models.c2_classic import LENET_TRAINING

    for mode in config.MODES:
        c2_residual._check_residual_settings(c2_residual.RESIDUAL_EXPERIMENT[mode])
        c2_transfer._check_transfer_settings(c2_transfer.TRANSFER_EXPERIMENT[mode])
        assert set(TRAINING[mode]) == set(TRAINING["fast"]) and set(LENET_TRAINING[mode]) == set(LENET_TRAINING["fast"])


def test_freezing_leaves_only_the_new_head_to_train():
    backbone = c2_transfer.backbone_network()
    assert backbone.output.shape[1:] == (128,)
    frozen = c2_transfer.classifier(backbone, 5, frozen=True)
    assert [w.shape for w in frozen.trainable_weights] == [(128, 5), (5,)]
    unfrozen = c2_transfer.classifier(c2_transfer.backbone_network(), 5)
    assert len(unfrozen.trainable_weights) == len(backbone.weights) + 2
    with pytest.raises(ValueError, match="backbone"):
        c2_transfer.classifier("vgg", 5)


def test_few_labels_split_is_balanced_and_disjoint():
    (x_train, y_train), (x_test, y_test) = c2_transfer.few_labels_split(3, n_test=200, seed=2)
    assert x_train.shape == (15, 28, 28, 1) and len(y_test) == len(x_test) == 200
    assert sorted(np.bincount(y_train)) == [3] * 5 and set(np.unique(y_test)) <= set(range(5))
    train_rows = {x.tobytes() for x in x_train}
    assert not any(x.tobytes() in train_rows for x in x_test)


def test_transfer_vs_scratch_result_and_plot():
    settings = {"labels_per_class": 2, "pretrain_epochs": 1, "head_epochs": 2, "finetune_epochs": 1,
                "finetune_layers": 2, "batch_size": 8, "head_learning_rate": 1e-2, "finetune_learning_rate": 1e-4, "learning_rate": 1e-3,
                "n_test": 50}
    result = c2_transfer.transfer_vs_scratch(settings, seed=0)
    assert len(result["transfer"]["val_accuracy"]) == len(result["scratch"]["val_accuracy"]) == 3
    assert result["transfer"]["frozen_test_accuracy"] == result["transfer"]["val_accuracy"][1]
    assert (result["n_train"], result["n_test"], result["head_epochs"]) == (10, 50, 2)
    assert len(result["pretrain"]["train_accuracy"]) == 1
    assert result["unfrozen"] == ["conv3", "features"]  # the top two layers with weights
    ax = c2_transfer.plot_transfer(result)
    assert len(ax.get_lines()) == 3  # two curves and the start of fine-tuning
    with pytest.raises(ValueError, match="finetune_learning_rate"):
        c2_transfer.transfer_vs_scratch({**settings, "finetune_learning_rate": -1})
    with pytest.raises(ValueError, match="n_test"):
        c2_transfer.transfer_vs_scratch({**settings, "n_test": 2})
    with pytest.raises(ValueError, match="finetune_layers"):
        c2_transfer.transfer_vs_scratch({**settings, "finetune_layers": 5})


def test_plots_name_the_function_whose_result_they_need():
    with pytest.raises(ValueError, match="depth_sweep"):
        c2_residual.plot_depth_sweep({"plain": {}})
    with pytest.raises(ValueError, match="transfer_vs_scratch"):
        c2_transfer.plot_transfer([])


def test_training_with_augmentation_and_cosine_decay_leaves_the_model_bare():
    from cnncourse.data.mnist import load_mnist
    from cnncourse.models.c2_classic import lenet5
    from cnncourse.train import digit_augmentation, train_classifier

    train, test = load_mnist(n=200, seed=0)
    model = lenet5()
    result = train_classifier(model, train, test, epochs=2, batch_size=50, learning_rate=1e-3,
                              augmentation=digit_augmentation(), cosine_decay=True)
    assert [layer.name for layer in model.layers][1:3] == ["conv1", "pool1"], "augmentation stays outside the model"
    assert len(result["history"]["val_accuracy"]) == 2 and 0 <= result["test_accuracy"] <= 1
    x = train[0][:4]
    augmented = np.asarray(digit_augmentation()(x, training=True))
    np.testing.assert_array_equal(np.asarray(digit_augmentation()(x, training=False)), x)
    assert augmented.shape == x.shape and not np.allclose(augmented, x)
