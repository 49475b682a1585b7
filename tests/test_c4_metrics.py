"""Chapter 4's segmentation metrics (cnncourse.ops.c4_metrics) against a brute-force count, and the mean IoU checks
(cnncourse.checks.c4_segmentation): they pass the reference and catch the typical mistakes."""

import warnings

import numpy as np
import pytest

from cnncourse.checks import CheckFailed
from cnncourse.checks import c4_segmentation as checks
from cnncourse.checks.c4_segmentation import IOU_PRED, IOU_TRUE, brute_force_iou
from cnncourse.ops.c4_metrics import confusion_matrix, mean_iou


def assert_same_iou(got, want):
    (mean, per_class), (want_mean, want_per_class) = got, want
    np.testing.assert_allclose(per_class, want_per_class, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    for shape in [(20,), (6, 5), (3, 4, 5), (2, 3, 3, 2)]:
        n_classes = int(rng.integers(1, 8))
        y_true = rng.choice(rng.choice(n_classes, int(rng.integers(1, n_classes + 1)), replace=False), size=shape)
        y_pred = rng.choice(rng.choice(n_classes, int(rng.integers(1, n_classes + 1)), replace=False), size=shape)
        got = mean_iou(y_true, y_pred, n_classes)
        assert isinstance(got[0], float) and got[1].dtype == np.float64 and got[1].shape == (n_classes,)
        assert_same_iou(got, brute_force_iou(y_true, y_pred, n_classes))


def test_hand_worked_fractions():
    mean, per_class = mean_iou(IOU_TRUE, IOU_PRED, 3)
    np.testing.assert_allclose(per_class, [3 / 5, 5 / 8, 5 / 6])
    assert mean == pytest.approx(247 / 360)
    assert_same_iou((mean, per_class), brute_force_iou(IOU_TRUE, IOU_PRED, 3))
    # a batch of (the example, a perfect prediction): pixels are pooled over images before dividing
    mean, per_class = mean_iou(np.stack([IOU_TRUE, IOU_TRUE]), np.stack([IOU_PRED, IOU_TRUE]), 3)
    np.testing.assert_allclose(per_class, [7 / 9, 11 / 14, 11 / 12])
    assert mean == pytest.approx(625 / 756)


def test_absent_classes_are_nan_and_left_out_of_the_mean():
    y = np.array([[1, 1], [2, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" or division warnings
        mean, per_class = mean_iou(y, y, 4)
        assert np.isnan(per_class[0]) and np.isnan(per_class[3]) and list(per_class[1:3]) == [1.0, 1.0]
        assert mean == 1.0
        # a class in one mask only: IoU 0, and it counts
        mean, per_class = mean_iou(y, np.array([[1, 3], [2, 2]]), 4)
        np.testing.assert_allclose(per_class, [np.nan, 1 / 2, 1.0, 0.0], equal_nan=True)
        assert mean == pytest.approx(1.5 / 3)
        empty = np.zeros((0, 3, 3), dtype=np.int32)
        mean, per_class = mean_iou(empty, empty, 2)
        assert np.isnan(mean) and np.all(np.isnan(per_class))


def test_confusion_matrix_rows_true_columns_predicted():
    rng = np.random.default_rng(7)
    y_true, y_pred = rng.integers(0, 4, (3, 5, 6)), rng.integers(0, 4, (3, 5, 6)).astype(np.uint8)
    counts = confusion_matrix(y_true, y_pred, 4)
    want = np.zeros((4, 4), dtype=int)
    for t, p in zip(y_true.ravel(), y_pred.ravel()):
        want[t, p] += 1
    np.testing.assert_array_equal(counts, want)
    assert counts.sum() == y_true.size
    np.testing.assert_array_equal(confusion_matrix(np.array([0, 0, 1]), np.array([1, 0, 1]), 2), [[1, 1], [0, 1]])


@pytest.mark.parametrize("args, word", [
    ((IOU_TRUE, IOU_PRED[:3], 3), "same shape"),
    ((IOU_TRUE.astype(float), IOU_PRED, 3), "integer"),
    ((IOU_TRUE, IOU_PRED > 0, 3), "integer"),
    ((IOU_TRUE.tolist(), IOU_PRED, 3), "numpy array"),
    ((IOU_TRUE, IOU_PRED, 2), r"0\.\.1"),
    ((IOU_TRUE - 1, IOU_PRED, 3), "y_true labels"),
    ((IOU_TRUE, IOU_PRED, 0), "n_classes"),
    ((IOU_TRUE, IOU_PRED, 3.0), "n_classes"),
])
def test_bad_inputs_say_what_is_wrong(args, word):
    for fn in (mean_iou, confusion_matrix):
        with pytest.raises(ValueError, match=word):
            fn(*args)


# --- the checks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(kind):
    getattr(checks, f"{kind}_mean_iou")(mean_iou)


def _counts(y_true, y_pred, n_classes):
    counts = confusion_matrix(y_true, y_pred, n_classes)
    return np.diag(counts).astype(float), counts.sum(axis=1).astype(float), counts.sum(axis=0).astype(float)


def _finish(per_class):
    present = ~np.isnan(per_class)
    return (float(per_class[present].mean()) if present.any() else float("nan")), per_class


def _divide(numerator, denominator):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def dividing_by_the_true_count(y_true, y_pred, n_classes):
    both, true, pred = _counts(y_true, y_pred, n_classes)
    return _finish(_divide(both, true + 0 * pred))


def union_without_minus(y_true, y_pred, n_classes):
    both, true, pred = _counts(y_true, y_pred, n_classes)
    return _finish(_divide(both, true + pred))


def dice_score(y_true, y_pred, n_classes):
    both, true, pred = _counts(y_true, y_pred, n_classes)
    return _finish(_divide(2 * both, true + pred))


def absent_as_zero(y_true, y_pred, n_classes):
    _, per_class = mean_iou(y_true, y_pred, n_classes)
    per_class = np.nan_to_num(per_class, nan=0.0)
    return float(per_class.mean()), per_class


def background_always_present(y_true, y_pred, n_classes):
    _, per_class = mean_iou(y_true, y_pred, n_classes)
    if np.isnan(per_class[0]):
        per_class[0] = 0.0
    return _finish(per_class)


def skipping_the_background(y_true, y_pred, n_classes):
    _, per_class = mean_iou(y_true, y_pred, n_classes)
    return _finish(per_class[1:])


def pixel_accuracy_as_mean(y_true, y_pred, n_classes):
    _, per_class = mean_iou(y_true, y_pred, n_classes)
    return (float(np.mean(y_true == y_pred)) if y_true.size else float("nan")), per_class


def mean_of_per_image_ious(y_true, y_pred, n_classes):
    if y_true.ndim < 3:
        return mean_iou(y_true, y_pred, n_classes)
    per_image = np.array([mean_iou(t, p, n_classes)[1] for t, p in zip(y_true, y_pred)]).reshape(-1, n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finish(np.nanmean(per_image, axis=0) if len(per_image) else np.full(n_classes, np.nan))


MISTAKES = [
    (dividing_by_the_true_count, "true pixels"),
    (union_without_minus, "once"),
    (dice_score, "Dice"),
    (absent_as_zero, "absent from BOTH"),
    (background_always_present, "background"),
    (skipping_the_background, "class 0"),
    (pixel_accuracy_as_mean, "mean"),
    (mean_of_per_image_ious, "all images"),
]


@pytest.mark.parametrize("wrong,word", MISTAKES, ids=[m[0].__name__ for m in MISTAKES])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_catch_the_mistake(wrong, word, kind):
    with pytest.raises(CheckFailed) as info:
        getattr(checks, f"{kind}_mean_iou")(wrong)
    if kind == "public":  # public messages must point at the mistake
        assert word in str(info.value), str(info.value)
