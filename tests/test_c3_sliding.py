"""Chapter 3's sliding windows: the convolutional twin of the window classifier, and its check."""

import keras
import numpy as np
import pytest
from keras import layers

from cnncourse.checks import CheckFailed
from cnncourse.checks import c3_sliding as checks
from cnncourse.models import c3_sliding as sliding


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_check_passes_the_reference(kind):
    getattr(checks, f"{kind}_convolutional_classifier")(sliding.convolutional_classifier)


def twin_with(fc1_kernel=lambda k: k.reshape(5, 5, 16, 400), padding="valid", copy=True, dense_head=False):
    """A convolutional twin with one thing changed."""
    def build(classifier):
        n_classes = classifier.get_layer("predictions").units
        inputs = keras.Input((None, None, classifier.inputs[0].shape[-1]))
        x = layers.Conv2D(16, 5, padding=padding, activation="relu", name="conv1")(inputs)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(400, 5, activation="relu", name="fc1_conv")(x)
        if dense_head:
            x = layers.Dense(400, activation="relu", name="fc2_conv")(x)
            outputs = layers.Dense(n_classes, activation="softmax", name="predictions_conv")(x)
        else:
            x = layers.Conv2D(400, 1, activation="relu", name="fc2_conv")(x)
            outputs = layers.Conv2D(n_classes, 1, activation="softmax", name="predictions_conv")(x)
        model = keras.Model(inputs, outputs)
        if copy:
            model.get_layer("conv1").set_weights(classifier.get_layer("conv1").get_weights())
            k, b = classifier.get_layer("fc1").get_weights()
            model.get_layer("fc1_conv").set_weights([fc1_kernel(k), b])
            for ours, theirs in (("fc2_conv", "fc2"), ("predictions_conv", "predictions")):
                k, b = classifier.get_layer(theirs).get_weights()
                shape = model.get_layer(ours).get_weights()[0].shape
                model.get_layer(ours).set_weights([k.reshape(shape), b])
        return model
    return build


MISTAKES = [
    ("kernel read channel-first", twin_with(fc1_kernel=lambda k: k.reshape(16, 5, 5, 400).transpose(1, 2, 0, 3)),
     "probabilities differ"),
    ("same padding", twin_with(padding="same"), "windows per axis"),
    ("weights not copied", twin_with(copy=False), "copy the weights"),
    ("dense layers kept", twin_with(dense_head=True), "Dense layers"),
]


@pytest.mark.parametrize("label, mistake, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_check_catches_typical_mistakes(label, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        checks.public_convolutional_classifier(mistake)
    assert words.lower() in str(failure.value).lower()


def test_one_window_gives_the_classifier_output_and_bad_input_is_refused():
    classifier = sliding.window_classifier(3, 1)
    twin = sliding.convolutional_classifier(classifier)
    x = np.random.default_rng(0).random((2, 14, 14, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(twin(x))[:, 0, 0], np.asarray(classifier(x)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="window_classifier with a layer named .conv1."):
        sliding.convolutional_classifier(keras.Sequential([keras.Input((14, 14, 1)), layers.Flatten()]))
    with pytest.raises(ValueError, match="image"):
        sliding.sliding_window_predictions(classifier, np.zeros((10, 20, 1), dtype="float32"))
