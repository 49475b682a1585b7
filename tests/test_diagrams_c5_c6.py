"""cnncourse.diagrams.c5 and .c6 draw, and what they label is the package's: the encoder's real output size, the
pair model's logistic unit (d + 1 parameters, counted by Keras), the style transfer's layers and weights."""

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnncourse.diagrams.c5 import siamese_pair  # noqa: E402
from cnncourse.diagrams.c6 import style_transfer_costs  # noqa: E402
from cnncourse.experiments.c6_style import DEFAULT_LAYER_WEIGHTS  # noqa: E402
from cnncourse.models.c5_faces import face_encoder  # noqa: E402
from cnncourse.models.c6_vgg import CONTENT_LAYER, STYLE_LAYERS  # noqa: E402


def _texts(fig):
    ax = fig.axes[0]
    return "\n".join([t.get_text() for t in ax.texts] + [ax.get_title()])


def test_siamese_pair_labels_the_encoders_real_output_size():
    encoder = face_encoder(32)                        # the default embedding size, as the package builds it
    d = encoder.output_shape[-1]
    fig = siamese_pair(image_size=32)
    text = _texts(fig)
    assert f"Dense({d})" in text and f"encoding ({d},)" in text and f"({d},) features" in text
    assert f"{d} + 1 = {d + 1} parameters" in text   # Dense(1) on d features: d weights and one bias
    assert "(32, 32, 3)" in text and "shared weights" in text
    assert len(fig.axes[0].images) == 2               # the two pictures of the pair
    plt.close(fig)


@pytest.mark.parametrize("d", [16, 64])
def test_siamese_pair_follows_another_encoding_size(d):
    fig = siamese_pair(embedding_dim=d, image_size=24)
    assert f"{d} + 1 = {d + 1} parameters" in _texts(fig)
    plt.close(fig)


def test_style_transfer_costs_labels_the_packages_layers_and_weights():
    fig = style_transfer_costs()
    text = _texts(fig)
    assert f"at {CONTENT_LAYER}" in text
    for name in STYLE_LAYERS:                        # every style layer, with the weight the experiment uses
        assert f"= {DEFAULT_LAYER_WEIGHTS[name]:.2g}: {name}" in text
    assert f"style cost at {len(STYLE_LAYERS)} layers" in text
    assert "\\alpha" in text and "\\beta" in text and "partial J / \\partial G" in text
    plt.close(fig)


def test_style_transfer_costs_takes_other_layers_and_refuses_too_many():
    fig = style_transfer_costs("block5_conv2", ("block1_conv1", "block3_conv1"), {"block1_conv1": 0.75,
                                                                                  "block3_conv1": 0.25})
    text = _texts(fig)
    assert "at block5_conv2" in text and "= 0.75: block1_conv1" in text and "= 0.25: block3_conv1" in text
    plt.close(fig)
    with pytest.raises(ValueError):
        style_transfer_costs(style_layers=[f"block{i}_conv1" for i in range(1, 8)])
