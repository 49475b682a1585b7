"""Checks of Chapter 3's localization target and its masked loss.

Oracles: decoding the target back to the box (target), and a loop over the examples with an if on pc (loss).
When a case fails, the message names the typical mistake whose formula gives what came back, when one does.
"""

import numpy as np

from cnncourse.checks.core import expect_close, expect_equal, expect_shape, fail, likely_mistake


def _target_mistakes(box, label, image_size, n_classes):
    """(hint, y) of the typical mistakes in localization_target, for an image with an object."""
    height, width = image_size
    x1, y1, x2, y2 = (float(v) for v in box)
    one_hot = np.eye(n_classes)[label]

    def y(bx, by, bh, bw, classes=one_hot):
        return np.concatenate([[1.0, bx, by, bh, bw], classes])

    right = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (y2 - y1) / height, (x2 - x1) / width)
    return [
        ("looks like x was divided by the height and y by the width: image_size is (height, width)",
         lambda: y((x1 + x2) / 2 / height, (y1 + y2) / 2 / width, (y2 - y1) / width, (x2 - x1) / height)),
        ("looks like bh and bw were swapped: bh is the height (y2 - y1) / height, bw the width (x2 - x1) / width",
         lambda: y(right[0], right[1], right[3], right[2])),
        ("looks like bx, by are the corner (x1, y1), not the centre of the box",
         lambda: y(x1 / width, y1 / height, right[2], right[3])),
        ("looks like the box was left in pixels: divide x by the width and y by the height",
         lambda: y((x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1)),
        ("looks like bx, by were swapped: bx is the centre's x",
         lambda: y(right[1], right[0], right[2], right[3])),
    ]


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
    hint = likely_mistake(y, _target_mistakes(box, label, image_size, n_classes), rtol=1e-5, atol=1e-6)
    expect_close(pc, 1.0, "pc", case)
    decoded = np.array([(bx - bw / 2) * width, (by - bh / 2) * height, (bx + bw / 2) * width, (by + bh / 2) * height])
    expect_close(decoded, np.asarray(box, dtype=float), "box decoded from bx, by, bh, bw (x1, y1, x2, y2)", case,
                 rtol=1e-5, atol=1e-3, hint="; ".join(filter(None, [
                     hint, "bx, by is the centre; divide x by the width and y by the height"])))
    expect_close(y[5:], np.eye(n_classes)[label], "one-hot class c1..c_n", case,
                 hint="a 1 at index label (0-based) of the classes, 0 elsewhere")


def public_localization_target(localization_target):
    """The lecture's car in the lower right, the same car on a wide 100 x 200 (height x width) image, and an image
    with no object (3 classes).

    Separates: bh and bw swapped, the corner instead of the centre, pixels left unscaled (the car, 30 wide and 20
    tall), height and width swapped (the wide image), pc or the other entries left non-zero without an object.
    """
    _check_target(localization_target, (60.0, 55.0, 90.0, 75.0), 1, (100, 100), 3)
    _check_target(localization_target, (120.0, 55.0, 180.0, 75.0), 2, (100, 200), 3)
    _check_target(localization_target, None, 0, (100, 100), 3)


def hidden_localization_target(localization_target):
    """Non-square images (height and width must not be swapped), every class, boxes touching the border, one class,
    a box of zero width."""
    rng = np.random.default_rng(11)
    for _ in range(12):
        height, width = int(rng.integers(20, 300)), int(rng.integers(20, 300))
        x1, y1 = rng.uniform(0, width - 2), rng.uniform(0, height - 2)
        box = (float(x1), float(y1), float(rng.uniform(x1 + 1, width)), float(rng.uniform(y1 + 1, height)))
        n_classes = int(rng.integers(1, 6))
        _check_target(localization_target, box, int(rng.integers(0, n_classes)), (height, width), n_classes)
    _check_target(localization_target, (0.0, 0.0, 64.0, 32.0), 0, (32, 64), 1)
    _check_target(localization_target, (10.0, 4.0, 10.0, 20.0), 3, (30, 50), 4)
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


def _loss_mistakes(y_true, y_pred):
    squared = (y_pred.astype(np.float64) - y_true) ** 2
    pc = y_true[:, 0]
    right = squared[:, 0] + pc * squared[:, 1:].sum(axis=1)
    return [
        ("looks like the pc mask was forgotten: where pc = 0 only (pc_pred - pc)^2 may count",
         lambda: squared.sum(axis=1).mean()),
        ("looks like the batch was summed, not averaged", lambda: right.sum()),
        ("looks like the mean was taken over every entry, not the sum per example then the mean over the batch",
         lambda: right.mean() / y_true.shape[1]),
        ("looks like the mask multiplied pc's own term too: (pc_pred - pc)^2 counts for every example",
         lambda: (pc * squared.sum(axis=1)).mean()),
        ("looks like the mask was taken from y_pred's pc: the target's pc says where an object is",
         lambda: (squared[:, 0] + y_pred[:, 0] * squared[:, 1:].sum(axis=1)).mean()),
    ]


def _check_loss(fn, batch, n_classes, seed, pcs=None):
    """Random targets and predictions; `pcs` gives the targets' pc (by default random, with at least one 0 and
    one 1)."""
    rng = np.random.default_rng(seed)
    y_true = rng.random((batch, 5 + n_classes)).astype(np.float32)
    y_true[:, 0] = rng.integers(0, 2, size=batch)
    y_true[:, 0][0] = 0  # at least one example of each kind
    y_true[:, 0][-1] = 1
    if pcs is not None:
        y_true[:, 0] = pcs
    y_pred = rng.random((batch, 5 + n_classes)).astype(np.float32)
    case = f"batch {batch}, {n_classes} classes, {int(y_true[:, 0].sum())} examples with an object"
    got = _as_number(fn(y_true, y_pred), case)
    want = _loop_loss(y_true, y_pred)
    hint = None
    if not np.isclose(got, want, rtol=1e-5):
        hint = likely_mistake(got, _loss_mistakes(y_true, y_pred), rtol=1e-5)
    expect_close(got, want, "localization_loss", case, rtol=1e-5, hint="; ".join(filter(None, [
        hint, "per example: (pc_pred - pc)^2 if pc == 0, else the sum of all squared errors; then the mean"])))
    if not (y_true[:, 0] == 0).any():
        return
    noisy = y_true.copy()
    noisy[y_true[:, 0] == 0, 1:] = rng.normal(0, 100, size=(int((y_true[:, 0] == 0).sum()), 4 + n_classes))
    expect_equal(round(_as_number(fn(noisy, y_pred), case), 4), round(got, 4),
                 "localization_loss with other don't-care entries where pc = 0", case,
                 hint="when pc = 0 nothing but pc may enter the loss")


def public_localization_loss(localization_loss):
    """A batch of 6 with and without objects, 3 classes.

    Separates: the pc mask forgotten, the batch summed, a mean over every entry, pc's own term masked, the mask taken
    from y_pred.
    """
    _check_loss(localization_loss, 6, 3, seed=0)


def hidden_localization_loss(localization_loss):
    """Other batch sizes and class counts; don't-care entries replaced by large values must not change the loss; a
    batch of one with and without an object; a batch without any object."""
    for batch, n_classes, seed in [(2, 1, 1), (33, 4, 2), (64, 10, 3)]:
        _check_loss(localization_loss, batch, n_classes, seed)
    _check_loss(localization_loss, 1, 3, seed=4, pcs=[1.0])
    _check_loss(localization_loss, 1, 3, seed=5, pcs=[0.0])
    _check_loss(localization_loss, 5, 2, seed=6, pcs=[0.0] * 5)
