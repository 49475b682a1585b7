"""Chapter 3's localization target and losses (cnncourse.models.c3_localization) and their checks."""

import keras
import numpy as np
import pytest
from keras import ops

from cnncourse.checks import CheckFailed
from cnncourse.checks import c3_localization as checks
from cnncourse.models import c3_localization as loc


@pytest.mark.parametrize("name", ["localization_target", "localization_loss"])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(getattr(loc, name))


def target_height_width_swapped(box, label, image_size, n_classes):
    return loc.localization_target(box, label, image_size[::-1], n_classes)


def target_corner_not_centre(box, label, image_size, n_classes):
    y = loc.localization_target(box, label, image_size, n_classes)
    if box is not None:
        y[1], y[2] = box[0] / image_size[1], box[1] / image_size[0]
    return y


def target_hard_coded_100px(box, label, image_size, n_classes):
    return loc.localization_target(box, label, (100, 100), n_classes)


def loss_without_mask(y_true, y_pred):
    return ops.mean(ops.sum(ops.square(y_pred - y_true), axis=-1))


def loss_masking_pc_too(y_true, y_pred):
    return ops.mean(y_true[:, 0] * ops.sum(ops.square(y_pred - y_true), axis=-1))


def loss_summed_over_batch(y_true, y_pred):
    return loc.localization_loss(y_true, y_pred) * y_true.shape[0]


MISTAKES = [
    (checks.hidden_localization_target, target_height_width_swapped, "decoded"),
    (checks.public_localization_target, target_corner_not_centre, "centre"),
    (checks.hidden_localization_target, target_hard_coded_100px, "image (height, width)"),
    (checks.public_localization_loss, loss_without_mask, "pc == 0"),
    (checks.public_localization_loss, loss_masking_pc_too, "localization_loss"),
    (checks.public_localization_loss, loss_summed_over_batch, "mean"),
]


@pytest.mark.parametrize("check, mistake, words", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_checks_catch_typical_mistakes(check, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        check(mistake)
    assert words.lower() in str(failure.value).lower()


def test_mixed_loss_is_keras_binary_plus_masked_box_and_categorical():
    rng = np.random.default_rng(0)
    n_classes, batch = 4, 16
    y_true = np.zeros((batch, 5 + n_classes), dtype=np.float32)
    y_true[:, 0] = rng.integers(0, 2, size=batch)
    y_true[:, 1:5] = rng.random((batch, 4))
    y_true[np.arange(batch), 5 + rng.integers(0, n_classes, size=batch)] = 1
    y_pred = np.concatenate([rng.uniform(0.05, 0.95, (batch, 1)), rng.random((batch, 4)),
                             rng.dirichlet(np.ones(n_classes), size=batch)], axis=1).astype(np.float32)
    bce = keras.losses.binary_crossentropy(y_true[:, :1], y_pred[:, :1])
    cce = keras.losses.categorical_crossentropy(y_true[:, 5:], y_pred[:, 5:])
    box = np.sum((y_pred[:, 1:5] - y_true[:, 1:5]) ** 2, axis=1)
    want = np.mean(np.asarray(bce) + y_true[:, 0] * (box + np.asarray(cce)))
    got = float(ops.convert_to_numpy(loc.mixed_localization_loss(y_true, y_pred)))
    assert got == pytest.approx(want, rel=1e-4)


def test_losses_train_a_tiny_model():
    """Both losses give gradients a Keras model can fit on: the loss falls."""
    rng = np.random.default_rng(1)
    x = rng.random((64, 8)).astype(np.float32)
    y = np.stack([loc.localization_target((10, 10, 30, 40), int(i % 3), (64, 64), 3) if i % 2 else
                  loc.localization_target(None, 0, (64, 64), 3) for i in range(64)])
    for loss in (loc.localization_loss, loc.mixed_localization_loss):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="sigmoid")])
        model.compile(keras.optimizers.Adam(1e-2), loss=loss)
        history = model.fit(x, y, epochs=5, verbose=0).history["loss"]
        assert history[-1] < history[0]


@pytest.mark.parametrize("call, words", [
    (lambda: loc.localization_target((0, 0, 1, 1), 3, (10, 10), 3), "label"),
    (lambda: loc.localization_target((0, 0, 1, 1), 0, (10,), 3), "image_size"),
    (lambda: loc.localization_target((5, 0, 1, 1), 0, (10, 10), 3), "x2 >= x1"),
    (lambda: loc.localization_target(None, 0, (10, 10), 0), "n_classes"),
])
def test_bad_arguments_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()
