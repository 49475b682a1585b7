"""Chapter 1's Keras ConvNet: both builders match the table, the checks catch a wrong layer, and it learns."""

import keras
import pytest
from keras import layers

from cnncourse.checks import CheckFailed
from cnncourse.checks import c1_convnet as checks
from cnncourse.data.mnist import load_mnist
from cnncourse.models.c1_convnet import convnet_functional, convnet_sequential
from cnncourse.train import train_classifier


@pytest.mark.parametrize("build", [convnet_sequential, convnet_functional])
def test_builders_pass_public_and_hidden_checks(build):
    checks.public_convnet(build, build.__name__)
    checks.hidden_convnet(build, build.__name__)


def test_parameter_count_matches_keras():
    want = sum(r[2] for r in checks.expected_architecture())
    assert convnet_sequential().count_params() == want == convnet_functional().count_params()


def wrong_padding(input_shape=(28, 28, 1), n_classes=10):
    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                             layers.Dense(64, activation="relu"), layers.Dense(n_classes, activation="softmax")])


def fixed_shape(input_shape=(28, 28, 1), n_classes=10):
    return convnet_sequential()


def test_checks_catch_wrong_padding_and_ignored_arguments():
    with pytest.raises(CheckFailed, match="layer 1"):
        checks.public_convnet(wrong_padding, "model")
    checks.public_convnet(fixed_shape, "model")
    with pytest.raises(CheckFailed):
        checks.hidden_convnet(fixed_shape, "model")


def test_mnist_split_is_stratified_and_reproducible():
    (xa, ya), (ta, tya) = load_mnist(n=1000, seed=3)
    (xb, yb), _ = load_mnist(n=1000, seed=3)
    assert xa.shape == (800, 28, 28, 1) and ta.shape == (200, 28, 28, 1)
    assert (ya == yb).all() and 0.0 <= xa.min() and xa.max() <= 1.0
    assert set(range(10)) == set(tya.tolist())
    with pytest.raises(ValueError, match="test_fraction"):
        load_mnist(test_fraction=1.5)


def test_convnet_learns_digits_beyond_chance():
    train, test = load_mnist(n=600, seed=0)
    result = train_classifier(convnet_sequential(), train, test, epochs=2, batch_size=32)
    assert result["test_accuracy"] > 0.5  # chance is 0.1
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]
