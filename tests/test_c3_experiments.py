"""Chapter 3's small trainings: the localizer (one object or none per image) and the 14x14 window classifier.

The data functions are tested on what they must hold (targets decode to the boxes, crops hold what their label
says), the trainings on the shape of their results in grade mode, and one short run of each beats chance.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse import config  # noqa: E402
from cnncourse.data.scenes import CLASS_NAMES, make_scenes  # noqa: E402
from cnncourse.experiments import c3_localization as loc  # noqa: E402
from cnncourse.experiments import c3_sliding as sliding  # noqa: E402
from cnncourse.models.c3_sliding import WINDOW, convolutional_classifier  # noqa: E402


@pytest.fixture(scope="module")
def grade_localizer():
    return loc.train_localizer(loc.LOCALIZATION_TRAINING["grade"], seed=1)


@pytest.fixture(scope="module")
def grade_windows():
    return sliding.train_window_classifier(sliding.SLIDING_TRAINING["grade"], seed=1)


# --- localization --------------------------------------------------------------------------------------------


def test_localization_data_targets_decode_to_the_boxes():
    data = loc.localization_data(40, size=64, seed=3, empty_fraction=0.25)
    assert data["images"].shape == (40, 64, 64, 3) and data["images"].dtype == np.float32
    assert data["targets"].shape == (40, 8) and data["targets"].dtype == np.float32
    assert 0 <= data["images"].min() and data["images"].max() <= 1
    empty = [i for i, box in enumerate(data["boxes"]) if box is None]
    assert len(empty) == 10 and len(data["boxes"]) == len(data["labels"]) == 40
    for i in range(40):
        y = data["targets"][i]
        if i in empty:
            assert not np.any(y) and data["labels"][i] == -1
            assert data["images"][i].std() > 0.01  # a texture, not a flat image
        else:
            assert y[0] == 1 and np.argmax(y[5:]) == data["labels"][i] and y[5:].sum() == 1
            np.testing.assert_allclose(loc.target_box(y, (64, 64)), data["boxes"][i], atol=1e-3)


def test_localization_data_is_deterministic_and_reuses_the_scenes():
    a, b = loc.localization_data(12, seed=5), loc.localization_data(12, seed=5)
    np.testing.assert_array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(a["targets"], b["targets"])
    assert not np.array_equal(a["images"], loc.localization_data(12, seed=6)["images"])
    scenes = make_scenes(9, size=64, seed=5, max_objects=1)
    with_object = [i for i, box in enumerate(a["boxes"]) if box is not None]
    np.testing.assert_array_equal(a["images"][with_object], scenes["images"])
    assert not any(box is None for box in loc.localization_data(5, empty_fraction=0)["boxes"])
    assert all(box is None for box in loc.localization_data(5, empty_fraction=1)["boxes"])
    with pytest.raises(ValueError, match="empty_fraction"):
        loc.localization_data(5, empty_fraction=1.5)


def test_localizer_outputs_probabilities_in_the_target_layout():
    model = loc.localizer_model(64, 3)
    y = np.asarray(model(np.zeros((2, 64, 64, 3), dtype=np.float32)))
    assert y.shape == (2, 8)
    assert np.all((y[:, :5] > 0) & (y[:, :5] < 1))
    np.testing.assert_allclose(y[:, 5:].sum(axis=1), 1, rtol=1e-5)


def test_grade_localizer_returns_its_results_and_plots(grade_localizer):
    result = grade_localizer
    for key in ("model", "history", "test", "predicted", "pc_accuracy", "mean_iou", "class_accuracy", "seconds"):
        assert key in result
    n_test = loc.LOCALIZATION_TRAINING["grade"]["n_test"]
    assert result["predicted"].shape == (n_test, 8) and len(result["history"]) == 1
    assert 0 <= result["pc_accuracy"] <= 1 and 0 <= result["mean_iou"] <= 1 and 0 <= result["class_accuracy"] <= 1
    fig = loc.plot_localizations(result["test"], result["predicted"], CLASS_NAMES, n=4)
    assert isinstance(fig, plt.Figure) and fig._suptitle.get_text()
    assert all(ax.get_title() for ax in fig.axes[:4])
    plt.close(fig)


def test_plot_says_no_object_when_pc_is_low():
    data = loc.localization_data(3, seed=0, empty_fraction=0)
    predicted = data["targets"].copy()
    predicted[0, 0] = 0.2
    fig = loc.plot_localizations(data, predicted, CLASS_NAMES, n=3)
    texts = [t.get_text() for t in fig.axes[0].texts] + [t.get_text() for t in fig.axes[1].texts]
    assert any("no object" in t for t in texts) and any(CLASS_NAMES[data["labels"][1]] in t for t in texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="predicted"):
        loc.plot_localizations(data, predicted[:, :5], CLASS_NAMES)


# --- sliding windows -----------------------------------------------------------------------------------------


def test_window_crops_hold_what_their_label_says():
    scenes = make_scenes(60, size=48, seed=2)
    positions = sliding.window_positions(scenes, seed=2)
    assert positions.shape[1] == 4 and len(positions) > 100
    for index, top, left, label in positions:
        assert 0 <= top <= 48 - WINDOW and 0 <= left <= 48 - WINDOW
        boxes = scenes["boxes"][index]
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        inside = (cx >= left) & (cx < left + WINDOW) & (cy >= top) & (cy < top + WINDOW)
        if label == 0:
            assert not np.any(inside), "a background crop holds an object's centre"
        else:
            offset = np.maximum(np.abs(cx - (left + WINDOW / 2)), np.abs(cy - (top + WINDOW / 2)))
            centred = offset <= sliding.MAX_JITTER + 0.5
            assert np.any(centred & (scenes["labels"][index] == label - 1)), "no object of its class is centred"
    counts = np.bincount(positions[:, 3], minlength=4)
    assert counts.min() >= 0.5 * counts.max(), f"classes far from balanced: {counts}"


def test_window_dataset_shapes_and_determinism():
    crops, labels = sliding.window_dataset(30, seed=4)
    assert crops.shape == (len(labels), 14, 14, 3) and crops.dtype == np.float32
    assert set(np.unique(labels)) <= {0, 1, 2, 3} and len(sliding.WINDOW_CLASS_NAMES) == 4
    again, labels_again = sliding.window_dataset(30, seed=4)
    np.testing.assert_array_equal(crops, again)
    np.testing.assert_array_equal(labels, labels_again)
    scenes = make_scenes(30, size=48, seed=4)
    index, top, left, _ = sliding.window_positions(scenes, seed=4)[0]
    np.testing.assert_array_equal(crops[0], scenes["images"][index, top:top + WINDOW, left:left + WINDOW])


def test_grade_window_classifier_returns_its_results(grade_windows):
    result = grade_windows
    for key in ("model", "history", "test_accuracy", "seconds"):
        assert key in result
    assert result["model"].output.shape[1:] == (4,) and len(result["history"]["loss"]) == 1
    assert 0 <= result["test_accuracy"] <= 1 and result["seconds"] > 0


def test_class_map_figure_and_time_sliding(grade_windows):
    classifier = grade_windows["model"]
    twin = convolutional_classifier(classifier)
    image = make_scenes(1, size=48, seed=9)["images"][0]
    probabilities = np.asarray(twin(image[None]))[0]
    assert probabilities.shape == (18, 18, 4)
    fig = sliding.class_map_figure(image, probabilities)
    assert isinstance(fig, plt.Figure) and fig._suptitle.get_text()
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titled) == 4 and "digit" in titled[1]
    assert len(fig.axes) == 5  # image, three maps, the colour bar
    plt.close(fig)
    with pytest.raises(ValueError, match="probabilities"):
        sliding.class_map_figure(image, probabilities[..., :3])
    timing = sliding.time_sliding(classifier, twin, image, repeats=1)
    assert timing["crops_seconds"] > 0 and timing["convolution_seconds"] > 0 and timing["speedup"] > 0
    assert timing["windows"] == 18 * 18


# --- settings and short trainings -----------------------------------------------------------------------------


def test_settings_of_every_mode_have_the_same_keys_and_are_valid():
    for table, check in ((loc.LOCALIZATION_TRAINING, loc._check_settings),
                         (sliding.SLIDING_TRAINING, sliding._check_settings)):
        assert set(table) == set(config.MODES)
        for mode in config.MODES:
            assert set(table[mode]) == set(table["fast"])
            check(table[mode])
    with pytest.raises(ValueError, match="learning_rate"):
        loc.train_localizer({k: v for k, v in loc.LOCALIZATION_TRAINING["grade"].items() if k != "learning_rate"})
    with pytest.raises(ValueError, match="scene_size"):
        sliding.train_window_classifier({**sliding.SLIDING_TRAINING["grade"], "scene_size": 8})


def test_short_trainings_beat_chance():
    settings = {**loc.LOCALIZATION_TRAINING["fast"], "n_train": 1500, "n_test": 200, "epochs": 4}
    result = loc.train_localizer(settings, seed=0)
    majority = max(settings["empty_fraction"], 1 - settings["empty_fraction"])
    assert result["pc_accuracy"] > majority
    assert result["mean_iou"] > result["baseline_iou"]
    assert result["class_accuracy"] > 1 / len(CLASS_NAMES)
    settings = {**sliding.SLIDING_TRAINING["fast"], "n_scenes_train": 800, "n_scenes_test": 200, "epochs": 4}
    assert sliding.train_window_classifier(settings, seed=0)["test_accuracy"] > 1 / 4
