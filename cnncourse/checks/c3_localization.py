"""Checks of Chapter 3's localization target and its masked loss.

Oracles: decoding the target back to the box (target), and a loop over the examples with an if on pc (loss).
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_equal, expect_shape, fail


def _check_target(fn, box, label, image_size, n_classes):
    case = f"box {box}, label {label}, image (height, width) {image_size}, {n_classes} classes"
    y = np.asarray(fn(box, label, image_size, n_classes))
    expect_shape(y, (5 + n_classes,), "localization_target", case, hint="y = [pc, bx, by, bh, bw, c1, ..., c_n]")
    if box is None:
        expect_close(y, np.zeros(5 + n_classes), "localization_target without an object", case,
                     hint="pc = 0 and, by convention, every other entry 0 too")
        return
    height, width = image_size
    pc, bx, by, bh, bw = y[:5]
    expect_close(pc, 1.0, "pc", case)
    decoded = np.array([(bx - bw / 2) * width, (by - bh / 2) * height, (bx + bw / 2) * width, (by + bh / 2) * height])
    expect_close(decoded, np.asarray(box, dtype=float), "box decoded from bx, by, bh, bw (x1, y1, x2, y2)", case,
                 rtol=1e-5, atol=1e-3, hint="bx, by is the centre; divide x by the width and y by the height")
    expect_close(y[5:], np.eye(n_classes)[label], "one-hot class c1..c_n", case)


def public_localization_target(localization_target):
    """The lecture's car in the lower right, and an image with no object (3 classes)."""
    _check_target(localization_target, (60.0, 55.0, 90.0, 75.0), 1, (100, 100), 3)
    _check_target(localization_target, None, 0, (100, 100), 3)


def hidden_localization_target(localization_target):
    """Non-square images (height and width must not be swapped), every class, boxes touching the border."""
    rng = np.random.default_rng(11)
    for _ in range(12):
        height, width = int(rng.integers(20, 300)), int(rng.integers(20, 300))
        x1, y1 = rng.uniform(0, width - 2), rng.uniform(0, height - 2)
        box = (float(x1), float(y1), float(rng.uniform(x1 + 1, width)), float(rng.uniform(y1 + 1, height)))
        n_classes = int(rng.integers(1, 6))
        _check_target(localization_target, box, int(rng.integers(0, n_classes)), (height, width), n_classes)
    _check_target(localization_target, (0.0, 0.0, 64.0, 32.0), 0, (32, 64), 1)
    _check_target(localization_target, None, 0, (48, 80), 4)


def _loop_loss(y_true, y_pred):
    total = 0.0
    for t, p in zip(y_true, y_pred):
        total += (p[0] - t[0]) ** 2 if t[0] == 0 else float(np.sum((p - t) ** 2))
    return total / len(y_true)


def _as_number(value, case):
    try:
        from keras import ops

        return float(np.asarray(ops.convert_to_numpy(value)).reshape(()))
    except (ValueError, TypeError) as err:
        fail(f"localization_loss must return one number (a scalar tensor), got {value!r}: {err}", case)


def _check_loss(fn, batch, n_classes, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.random((batch, 5 + n_classes)).astype(np.float32)
    y_true[:, 0] = rng.integers(0, 2, size=batch)
    y_true[:, 0][0] = 0  # at least one example of each kind
    y_true[:, 0][-1] = 1
    y_pred = rng.random((batch, 5 + n_classes)).astype(np.float32)
    case = f"batch {batch}, {n_classes} classes, {int(y_true[:, 0].sum())} examples with an object"
    got = _as_number(fn(y_true, y_pred), case)
    expect_close(got, _loop_loss(y_true, y_pred), "localization_loss", case, rtol=1e-5,
                 hint="per example: (pc_pred - pc)^2 if pc == 0, else the sum of all squared errors; then the mean")
    noisy = y_true.copy()
    noisy[y_true[:, 0] == 0, 1:] = rng.normal(0, 100, size=(int((y_true[:, 0] == 0).sum()), 4 + n_classes))
    expect_equal(round(_as_number(fn(noisy, y_pred), case), 4), round(got, 4),
                 "localization_loss with other don't-care entries where pc = 0", case,
                 hint="when pc = 0 nothing but pc may enter the loss")


def public_localization_loss(localization_loss):
    """A batch of 6 with and without objects, 3 classes."""
    _check_loss(localization_loss, 6, 3, seed=0)


def hidden_localization_loss(localization_loss):
    """Other batch sizes and class counts; don't-care entries replaced by large values must not change the loss."""
    for batch, n_classes, seed in [(2, 1, 1), (33, 4, 2), (64, 10, 3)]:
        _check_loss(localization_loss, batch, n_classes, seed)
