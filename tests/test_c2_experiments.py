"""Chapter 2's experiments: plain against residual networks, and transfer learning with few labels.

The experiments' results (the residual network trains, the pretrained one transfers) are shown by the notebooks
and measured by `cnncourse bench residual` / `cnncourse bench transfer`; here their parts are tested on what must
hold whatever the training does: same parameters for both variants, the identity fallback of a residual block,
freezing, the split, the shape of the results, and clear errors.
"""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.experiments import c2_residual, c2_transfer  # noqa: E402


def test_plain_and_residual_have_the_same_layers_and_parameters():
    plain, residual = c2_residual.deep_network(6, False), c2_residual.deep_network(6, True)
    assert plain.count_params() == residual.count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 3
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert plain.output.shape[1:] == residual.output.shape[1:] == (10,)


def test_a_residual_block_with_zero_weights_is_the_identity():
    """a[l+2] = relu(z[l+2] + a[l]) = a[l] when z[l+2] = 0; a plain block then outputs zeros instead."""
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    outputs = {}
    for residual in (False, True):
        model = c2_residual.deep_network(2, residual)
        conv2 = model.get_layer("block1_conv2")
        conv2.set_weights([np.zeros_like(w) for w in conv2.get_weights()])
        probe = keras.Model(model.inputs[0], [model.get_layer("stem").output, model.get_layer("block1_out").output])
        outputs[residual] = [np.asarray(t) for t in probe(x)]
    stem, block = outputs[True]
    np.testing.assert_allclose(block, stem)
    assert not np.any(outputs[False][1])


@pytest.mark.parametrize("kwargs, words", [
    ({"depth": 5, "residual": True}, "even"),
    ({"depth": 0, "residual": True}, "depth"),
    ({"depth": 4, "residual": "yes"}, "residual"),
    ({"depth": 4, "residual": True, "width": 0}, "width"),
])
def test_deep_network_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        c2_residual.deep_network(**kwargs)


def test_plain_vs_residual_result_and_plot():
    settings = {"n_images": 100, "depth": 2, "epochs": 2, "batch_size": 32, "learning_rate": 1e-3}
    result = c2_residual.plain_vs_residual(settings, seed=1)
    for name in ("plain", "residual"):
        assert len(result[name]["train_error"]) == len(result[name]["train_loss"]) == 2
        assert all(0 <= e <= 1 for e in result[name]["train_error"])
        assert 0 <= result[name]["test_accuracy"] <= 1
    assert result["n_parameters"] == c2_residual.deep_network(2, True).count_params()
    ax = c2_residual.plot_training_error(result)
    assert len(ax.get_lines()) == 2 and "plain" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="learning_rate"):
        c2_residual.plain_vs_residual({k: v for k, v in settings.items() if k != "learning_rate"})
    with pytest.raises(ValueError, match="n_images"):
        c2_residual.plain_vs_residual({**settings, "n_images": 5})


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
                "batch_size": 8, "head_learning_rate": 1e-2, "finetune_learning_rate": 1e-4, "learning_rate": 1e-3,
                "n_test": 50}
    result = c2_transfer.transfer_vs_scratch(settings, seed=0)
    assert len(result["transfer"]["val_accuracy"]) == len(result["scratch"]["val_accuracy"]) == 3
    assert result["transfer"]["frozen_test_accuracy"] == result["transfer"]["val_accuracy"][1]
    assert (result["n_train"], result["n_test"], result["head_epochs"]) == (10, 50, 2)
    assert len(result["pretrain"]["train_accuracy"]) == 1
    ax = c2_transfer.plot_transfer(result)
    assert len(ax.get_lines()) == 3  # two curves and the start of fine-tuning
    with pytest.raises(ValueError, match="finetune_learning_rate"):
        c2_transfer.transfer_vs_scratch({**settings, "finetune_learning_rate": -1})
    with pytest.raises(ValueError, match="n_test"):
        c2_transfer.transfer_vs_scratch({**settings, "n_test": 2})


def test_plots_name_the_function_whose_result_they_need():
    with pytest.raises(ValueError, match="plain_vs_residual"):
        c2_residual.plot_training_error({"plain": {}})
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
