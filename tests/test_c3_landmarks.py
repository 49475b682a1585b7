"""Chapter 3's landmark detection: generated faces, the graded target encoding, its checks, the model, training."""

import matplotlib

matplotlib.use("Agg")  # no display in tests; set before pyplot is imported anywhere

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.checks import CheckFailed  # noqa: E402
from cnncourse.checks import c3_landmarks as checks  # noqa: E402
from cnncourse.data.landmarks import LANDMARK_NAMES, make_landmark_images  # noqa: E402
from cnncourse.experiments import c3_landmarks as experiment  # noqa: E402
from cnncourse.models import c3_landmarks as lm  # noqa: E402

# ---------------------------------------------------------------- generated faces


def test_same_seed_gives_identical_faces_and_another_seed_differs():
    a, b, c = make_landmark_images(5, seed=3), make_landmark_images(5, seed=3), make_landmark_images(5, seed=4)
    assert a["images"].tobytes() == b["images"].tobytes() and a["points"].tobytes() == b["points"].tobytes()
    assert not np.array_equal(a["images"], c["images"]) and not np.array_equal(a["points"], c["points"])


@pytest.mark.parametrize("background", ["texture", "plain"])
def test_shapes_dtypes_ranges_and_points_inside_the_image(background):
    faces = make_landmark_images(20, size=48, seed=1, background=background)
    assert faces["images"].shape == (20, 48, 48, 3) and faces["images"].dtype == np.float32
    assert faces["points"].shape == (20, 5, 2) and faces["points"].dtype == np.float32
    assert faces["names"] == LANDMARK_NAMES and len(LANDMARK_NAMES) == 5
    assert 0.0 <= faces["images"].min() and faces["images"].max() <= 1.0
    assert np.all((faces["points"] >= 0) & (faces["points"] <= 48))


def test_geometry_left_is_left_eyes_above_nose_above_mouth_and_faces_vary():
    points = make_landmark_images(200, seed=2, background="plain")["points"].astype(np.float64)
    left_eye, right_eye, nose, left_mouth, right_mouth = np.moveaxis(points, 1, 0)
    assert np.all(left_eye[:, 0] < right_eye[:, 0]) and np.all(left_mouth[:, 0] < right_mouth[:, 0])
    assert np.all((left_eye[:, 1] + right_eye[:, 1]) / 2 < nose[:, 1])  # rotation is at most 25 degrees
    assert np.all(nose[:, 1] < (left_mouth[:, 1] + right_mouth[:, 1]) / 2)
    inter_ocular = np.linalg.norm(right_eye - left_eye, axis=1)
    assert inter_ocular.min() > 4 and inter_ocular.max() / inter_ocular.min() > 2  # sizes vary
    assert np.ptp(nose, axis=0).min() > 20  # positions vary
    tilt = np.degrees(np.arctan2(right_eye[:, 1] - left_eye[:, 1], right_eye[:, 0] - left_eye[:, 0]))
    assert tilt.min() < -15 and tilt.max() > 15 and np.abs(tilt).max() <= 26  # in-plane rotation of +-25 degrees


def test_each_landmark_lies_on_its_drawn_feature():
    # The forehead, 2 * eye midpoint - nose (the transform is affine), is skin; the pixel each landmark lies in
    # has its feature's colour: the eyes' pupils are dark, the nose is a darker shade of skin, the mouth dark red.
    faces = make_landmark_images(40, seed=5, background="plain")
    for image, points in zip(faces["images"], faces["points"].astype(np.float64)):
        def colour(xy):
            return image[int(xy[1]), int(xy[0])].astype(np.float64)

        skin = colour(points[:2].mean(axis=0) * 2 - points[2])
        assert skin.max() > 0.45  # skin is brighter than the plain background's 0.3
        for k, name in enumerate(LANDMARK_NAMES):
            assert np.abs(colour(points[k]) - skin).max() > 0.12, f"{name} has the skin's colour"
        assert colour(points[0]).max() < 0.25 and colour(points[1]).max() < 0.25  # pupils
        assert colour(points[2]).sum() < skin.sum()  # nose darker than skin
        for k in (3, 4):
            r, g, b = colour(points[k])
            assert r > g + 0.2 and r > b + 0.2  # mouth: red


@pytest.mark.parametrize("kwargs, words", [
    ({"n": 0}, "n must be an integer >= 1"),
    ({"n": 2.0}, "n must be an integer"),
    ({"n": 2, "size": 8}, "size must be an integer >= 24"),
    ({"n": 2, "background": "sky"}, "background must be one of"),
])
def test_bad_generator_arguments_raise_clear_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        make_landmark_images(**kwargs)


# ---------------------------------------------------------------- target encoding


def test_target_on_a_non_square_image_and_the_round_trip():
    points = np.array([[40.0, 10.0], [160.0, 90.0]])
    y = lm.landmark_target(points, (100, 200))
    assert y.dtype == np.float32 and y.tolist() == pytest.approx([0.2, 0.1, 0.8, 0.9])
    np.testing.assert_allclose(lm.decode_landmarks(y, (100, 200)), points, rtol=1e-6)
    faces = make_landmark_images(8, size=64, seed=7)
    batch = np.stack([lm.landmark_target(p, (64, 64)) for p in faces["points"]])
    assert batch.shape == (8, 10) and np.all((batch >= 0) & (batch <= 1))
    np.testing.assert_allclose(lm.decode_landmarks(batch, (64, 64)), faces["points"], atol=1e-4)


@pytest.mark.parametrize("call, words", [
    (lambda: lm.landmark_target(np.zeros((3,)), (10, 10)), "points must be an \\(n_landmarks, 2\\) array"),
    (lambda: lm.landmark_target(np.zeros((0, 2)), (10, 10)), "n_landmarks >= 1"),
    (lambda: lm.landmark_target(np.zeros((2, 3)), (10, 10)), "got shape \\(2, 3\\)"),
    (lambda: lm.landmark_target([[np.nan, 1.0]], (10, 10)), "finite"),
    (lambda: lm.landmark_target([[1.0, 1.0]], (10,)), "image_size must be \\(height, width\\)"),
    (lambda: lm.landmark_target([[1.0, 1.0]], (10, 0)), "two numbers > 0"),
    (lambda: lm.landmark_target([[1.0, 1.0]], (True, 10)), "two numbers > 0"),
    (lambda: lm.landmark_target([[15.0, 5.0]], (20, 10)), "0 <= x <= width"),
    (lambda: lm.landmark_target([[5.0, -1.0]], (20, 10)), "inside the image"),
    (lambda: lm.decode_landmarks(np.zeros(5), (10, 10)), "2 \\* n_landmarks"),
])
def test_bad_target_arguments_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(kind):
    getattr(checks, f"{kind}_landmark_target")(lm.landmark_target)


def target_x_y_swapped(points, image_size):
    height, width = image_size
    return (np.asarray(points, dtype=np.float64)[:, ::-1] / [height, width]).reshape(-1).astype(np.float32)


def target_x_over_height(points, image_size):  # reads image_size as (width, height)
    return (np.asarray(points, dtype=np.float64) / np.array(image_size)).reshape(-1).astype(np.float32)


def target_not_flattened(points, image_size):
    return lm.landmark_target(points, image_size).reshape(-1, 2)


def target_all_x_then_all_y(points, image_size):
    return lm.landmark_target(points, image_size).reshape(-1, 2).T.reshape(-1)


def target_float64(points, image_size):
    return lm.landmark_target(points, image_size).astype(np.float64)


def target_in_place(points, image_size):
    points = np.asarray(points, dtype=np.float64)
    points /= [image_size[1], image_size[0]]
    return points.reshape(-1).astype(np.float32)


def target_pixels_not_fractions(points, image_size):
    return np.asarray(points, dtype=np.float32).reshape(-1)


MISTAKES = [
    (checks.public_landmark_target, target_x_y_swapped, "x and y are swapped"),
    (checks.public_landmark_target, target_x_over_height, "image_size is (height, width)"),
    (checks.hidden_landmark_target, target_x_over_height, "image_size is (height, width)"),
    (checks.public_landmark_target, target_not_flattened, ".reshape(-1)"),
    (checks.public_landmark_target, target_all_x_then_all_y, "interleave"),
    (checks.public_landmark_target, target_float64, "float32"),
    (checks.hidden_landmark_target, target_in_place, "changed its argument"),
    (checks.public_landmark_target, target_pixels_not_fractions, "lx = x / width"),
]


@pytest.mark.parametrize("check, mistake, words", MISTAKES, ids=[f"{m[0].__name__}-{m[1].__name__}" for m in MISTAKES])
def test_checks_catch_typical_mistakes(check, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        check(mistake)
    message = str(failure.value)
    assert words.lower() in message.lower() and "expected" in message and "case:" in message


# ---------------------------------------------------------------- model, training, plot


def test_model_maps_images_to_2n_fractions_with_named_layers():
    model = lm.landmark_model(64, 5)
    out = np.asarray(model(make_landmark_images(3, seed=0)["images"]))
    assert out.shape == (3, 10) and np.all((out > 0) & (out < 1))
    names = [layer.name for layer in model.layers]
    assert {"image", "conv1", "bn1", "relu1", "pool1", "flatten", "hidden", "landmarks"} <= set(names)
    assert lm.landmark_model(32, 3).output_shape == (None, 6)
    with pytest.raises(ValueError, match="n_landmarks"):
        lm.landmark_model(64, 0)


def test_grade_settings_train_and_return_every_key():
    result = experiment.train_landmarks(experiment.LANDMARK_TRAINING["grade"])
    settings = experiment.LANDMARK_TRAINING["grade"]
    assert {"model", "history", "test", "predicted", "mean_error_pixels", "normalised_error", "seconds"} <= set(result)
    assert len(result["history"]) == settings["epochs"]
    assert result["predicted"].shape == result["test"]["points"].shape == (settings["n_test"], 5, 2)
    assert result["mean_error_pixels"] > 0 and result["normalised_error"] > 0 and result["seconds"] > 0
    with pytest.raises(ValueError, match="missing"):
        experiment.train_landmarks({"n_train": 10})


def test_fast_training_beats_the_mean_landmark_predictor_on_held_out_faces():
    # Fast mode itself (about 30 s on 2 shared cores): the held-out error must fall far below that of always
    # answering the training faces' mean landmark positions (measured: 1.7 against 12.2 pixels).
    result = experiment.train_landmarks(experiment.LANDMARK_TRAINING["fast"])
    assert result["mean_error_pixels"] < 0.3 * result["baseline_error_pixels"]
    assert result["normalised_error"] < 0.3 * result["baseline_normalised_error"]
    assert result["history"][-1] < result["history"][0]


def test_errors_and_plot():
    true = np.array([[[10.0, 10.0], [20.0, 10.0], [15.0, 15.0], [12.0, 20.0], [18.0, 20.0]]])
    shifted = true + [3.0, 4.0]  # every landmark 5 pixels off; the eyes are 10 pixels apart
    assert experiment.landmark_errors(true, shifted) == pytest.approx((5.0, 0.5))
    faces = make_landmark_images(4, seed=1)
    fig = experiment.plot_landmarks(faces["images"], faces["points"], faces["points"] + 1.0, faces["names"], n=4)
    title = fig._suptitle.get_text()
    assert "true" in title and "predicted" in title and "1.4 pixels" in title
    assert fig.axes[0].get_ylabel() == "y (pixels)" and any(ax.get_xlabel() == "x (pixels)" for ax in fig.axes)
    assert fig.legends and len(fig.legends[0].get_texts()) == 10
    matplotlib.pyplot.close(fig)
