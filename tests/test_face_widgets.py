"""Chapter 5's widgets: the face pair explorer and the ROC explorer, their pure functions and their controls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import face_pair_explorer, roc_explorer  # noqa: E402
from cnncourse.widgets.face_pair_explorer import pair_figure, pair_text, pair_verdict  # noqa: E402
from cnncourse.widgets.roc_explorer import roc_figure, roc_text  # noqa: E402

IDENTITIES = ["ann", "ann", "ben", "ben", "cy"]
ENCODINGS = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 1.0, 0.0], [0.0, 0.6, 0.8], [0.0, 0.0, 1.0]])
IMAGES = np.random.default_rng(0).random((5, 6, 6, 3))


def test_pair_verdict_and_text():
    v = pair_verdict(ENCODINGS, IDENTITIES, 0, 1, 0.7)
    assert v["distance"] == pytest.approx(np.sqrt(0.04 + 0.36)) and v["same"] and v["truly_same"] and v["right"]
    assert "0.632 < threshold 0.70" in pair_text(v) and "right" in pair_text(v)
    v = pair_verdict(ENCODINGS, IDENTITIES, 0, 1, 0.5)
    assert not v["same"] and "false reject" in pair_text(v)
    v = pair_verdict(ENCODINGS, IDENTITIES, 3, 4, 1.0)  # ben and cy at 0.632 < 1.0: accepted, wrongly
    assert v["same"] and not v["right"] and "false accept" in pair_text(v)
    fig = pair_figure(IMAGES, v)
    assert "false accept" in fig.texts[0].get_text() and len(fig.axes) == 2
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="face b"):
        pair_verdict(ENCODINGS, IDENTITIES, 0, 9, 0.7)


def test_face_pair_explorer_follows_its_controls():
    box = face_pair_explorer(IMAGES, IDENTITIES, ENCODINGS)
    assert set(box.controls) == {"face a", "face b", "threshold"}
    first, text = bytes(box.picture.value), box.formula.value
    assert first.startswith(b"\x89PNG") and "0.632" in text and "same person" in text
    box.controls["face b"].value = 2
    assert "ben" in box.formula.value and "different people" in box.formula.value
    assert bytes(box.picture.value) != first
    box.controls["threshold"].value = 1.5
    assert "false accept" in box.formula.value


def _pairs(seed=0, n=80):
    rng = np.random.default_rng(seed)
    same = np.arange(n) % 2 == 0
    return np.where(same, rng.normal(0.5, 0.15, n), rng.normal(1.0, 0.15, n)), same


def test_roc_text_and_figure():
    distances, same = _pairs()
    text = roc_text(distances, same, 10.0)
    assert "TPR (same pairs accepted)      = 1.000" in text and "FPR (different pairs accepted) = 1.000" in text
    assert "accuracy = 0.500" in text
    fig = roc_figure(distances, same, 0.75)
    assert len(fig.axes) == 2 and "AUC" in fig.axes[1].get_legend().get_texts()[0].get_text()
    matplotlib.pyplot.close(fig)


def test_roc_explorer_follows_its_threshold():
    distances, same = _pairs()
    box = roc_explorer(distances, same, threshold=0.75)
    assert set(box.controls) == {"threshold"}
    first, text = bytes(box.picture.value), box.formula.value
    assert first.startswith(b"\x89PNG") and "AUC" in text and "threshold 0.75" in text
    box.controls["threshold"].value = 0.0
    assert "TPR (same pairs accepted)      = 0.000" in box.formula.value
    assert bytes(box.picture.value) != first and box.formula.value != text
    with pytest.raises(ValueError):
        roc_explorer([0.1, 0.2], [True, True])
