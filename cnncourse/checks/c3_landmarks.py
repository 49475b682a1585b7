"""Checks of Chapter 3's landmark target (cnncourse.models.c3_landmarks.landmark_target).

Oracle: decoding the target back to pixels (multiply lx by the width and ly by the height) must give the points.
When the values are wrong the checks compare them with the typical mistakes (x and y swapped, height and width
swapped, all x first and then all y) and name the one that matches.
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_equal, expect_shape, fail

TARGET_LAYOUT = "y = [lx_1, ly_1, lx_2, ly_2, ...] with lx = x / width and ly = y / height"


def _mistake_hint(y, points, image_size):
    """Name the typical mistake whose output equals y, or give the general rule."""
    height, width = image_size
    mistakes = {
        "x and y are swapped: each pair must be (lx, ly), x first; points[:, 0] is x and points[:, 1] is y":
            (points[:, ::-1] / [height, width]).reshape(-1),
        "x is divided by the height and y by the width: image_size is (height, width), so width = image_size[1]":
            (points / [height, width]).reshape(-1),
        "all lx come first and then all ly: interleave them, [lx_1, ly_1, lx_2, ly_2, ...] (flatten row by row)":
            (points / [width, height]).T.reshape(-1),
    }
    for hint, wrong in mistakes.items():
        if y.shape == wrong.shape and np.allclose(y, wrong, rtol=1e-5, atol=1e-6):
            return hint
    return TARGET_LAYOUT


def _check_target(fn, points, image_size, expected=None):
    """Call fn(points, image_size); compare with `expected` when given, and always decode it back to the points."""
    original = np.array(points, dtype=np.float64, copy=True)
    n = len(original)
    case = f"{n} landmark(s), image (height, width) {tuple(image_size)}"
    y = np.asarray(fn(points, image_size))
    if isinstance(points, np.ndarray) and not np.array_equal(points, original.astype(points.dtype)):
        fail(f"landmark_target changed its argument points: expected them unchanged, {original[0].tolist()} "
             f"first, got {points[0].tolist()} after the call", case,
             hint="compute a new array (points / ...) instead of dividing in place (points /= ...)")
    if y.shape == (n, 2):
        fail(f"landmark_target: expected shape ({2 * n},), got {y.shape}", case,
             hint="flatten the (n_landmarks, 2) array into one vector: .reshape(-1)")
    expect_shape(y, (2 * n,), "landmark_target", case, hint=TARGET_LAYOUT)
    hint = _mistake_hint(y, original, image_size)
    if expected is not None:
        expect_close(y, expected, "landmark_target", case, rtol=1e-6, atol=1e-7, hint=hint)
    height, width = image_size
    decoded = y.astype(np.float64).reshape(n, 2) * [width, height]
    expect_close(decoded, original, "points decoded from the target, (lx * width, ly * height)", case,
                 rtol=1e-5, atol=1e-3, hint=hint)
    expect_equal(str(y.dtype), "float32", "landmark_target's dtype", case, hint="return the vector .astype(np.float32)")


def public_landmark_target(landmark_target):
    """Two hand-worked cases: two landmarks on a 64 x 64 image, three on a wide 100 x 200 (height x width) one."""
    # (16, 48) and (32, 8) on 64 x 64: 16 / 64, 48 / 64, 32 / 64, 8 / 64.
    _check_target(landmark_target, np.array([[16.0, 48.0], [32.0, 8.0]]), (64, 64), [0.25, 0.75, 0.5, 0.125])
    # (40, 10), (160, 90), (100, 50) on height 100, width 200: every x over 200, every y over 100.
    _check_target(landmark_target, np.array([[40.0, 10.0], [160.0, 90.0], [100.0, 50.0]]), (100, 200),
                  [0.2, 0.1, 0.8, 0.9, 0.5, 0.5])


def hidden_landmark_target(landmark_target):
    """Random landmark counts (1 to 68) and image sizes, tall and wide, float32, float64 and list inputs, points on
    the border; decoding the target must give the points back, and `points` must not change."""
    rng = np.random.default_rng(23)
    for i in range(12):
        height, width = int(rng.integers(10, 400)), int(rng.integers(10, 400))
        n = int(rng.choice([1, 2, 5, 21, 68]))
        points = rng.uniform(0, 1, size=(n, 2)) * [width, height]
        points[0] = [[0.0, 0.0], [width, height], [width, 0.0]][i % 3]  # on the border, inside by the rules
        points = points.astype(np.float32) if i % 2 else points
        _check_target(landmark_target, points, (height, width))
    _check_target(landmark_target, [[30.0, 5.0], [2.5, 17.5]], (20, 40))  # a nested list, not an array
    _check_target(landmark_target, np.array([[7.0, 300.0]]), (320, 8))  # very tall: x and y far apart
