"""Checks of Chapter 2's test-time tricks: multi_crop (AlexNet's 10-crop) and ensemble_predict (averaged networks).

public_multi_crop: two 6x7 images of two channels, crops of 3, with and without mirrors, and a crop larger than the
    image. Separates: the centre rounded up or taken as H // 2 - c // 2 (H - c = 3 is odd), height and width
    swapped (the images are not square), mirrors upside down or across the channels (two channels), the crops
    stacked on the first axis instead of the second, mirror=False ignored, the corners in another order.
hidden_multi_crop: random sizes and crops, a crop as large as the image's shorter side (the boundary), crops of one
    pixel, a batch of one, integer images, bad arguments. The mirrored half may also come in torchvision's order
    (the five crops of the mirrored image): the same ten crops, so it keeps the points.
public_ensemble_predict / hidden_ensemble_predict: small numpy "networks" whose probabilities depend on where the
    pixels lie in what they see (per channel: the mean, and the means weighted by row and by column), so a wrong
    crop, a mirror the other way or a crop of another image changes the answer. Separates: majority votes instead of
    averaged probabilities, a product (geometric mean) instead of the mean, a sum instead of the mean, one network
    only, the centre crop only, the crops of different images mixed up by a reshape, the maximum over the crops.
    The hidden check runs with the course's multi_crop (one mistake, one loss); the public one runs yours, and when
    it fails only because of your multi_crop it says so and passes.
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import numpy as np

from cnncourse.checks.core import (CheckFailed, expect_close, expect_raises, expect_shape, expect_type, fail,
                                   likely_mistake, reference_helpers)

HINT_CROP = ("crops in the order top-left, top-right, bottom-left, bottom-right, centre (starting at "
             "((H - c) // 2, (W - c) // 2)), then the same five mirrored left to right; stacked on axis 1")
HINT_ENSEMBLE = ("give every network the same batch (the whole images, or all their crops), average each image's "
                 "probabilities over its crops, then over the networks")


# ---------------------------------------------------------------- multi_crop
def _corners(n_H, n_W, c, centre=None):
    """(top, left) of the five crops, in the docstring's order; centre overrides the centre's (top, left)."""
    return [(0, 0), (0, n_W - c), (n_H - c, 0), (n_H - c, n_W - c), centre or ((n_H - c) // 2, (n_W - c) // 2)]


def _crops(images, c, mirror, corners=None, flip_axis=2, torchvision_order=False):
    """The oracle (defaults) and its variants, by explicit slices. Returns (m, k, c, c, C)."""
    n_H, n_W = images.shape[1:3]
    corners = corners or _corners(n_H, n_W, c)
    crops = [images[:, top:top + c, left:left + c, :] for top, left in corners]
    if len(crops) != 5 or any(crop.shape[1:3] != (c, c) for crop in crops):
        raise ValueError("a crop leaves the image")
    if mirror:
        if torchvision_order:  # the five crops of the mirrored image
            flipped = images[:, :, ::-1, :]
            crops += [flipped[:, top:top + c, left:left + c, :] for top, left in corners]
        else:
            crops += [np.flip(crop, axis=flip_axis) for crop in crops]
    return np.stack(crops, axis=1)


def _crop_mistakes(images, c, mirror):
    """(hint, wrong answer) of the usual mistakes of multi_crop, for likely_mistake."""
    n_H, n_W = images.shape[1:3]
    return [
        ("the centre crop must start at row (H - c) // 2 and column (W - c) // 2, rounded DOWN",
         lambda: _crops(images, c, mirror, _corners(n_H, n_W, c, ((n_H - c + 1) // 2, (n_W - c + 1) // 2)))),
        ("the centre crop starts at (H - c) // 2, which is not H // 2 - c // 2 when H - c is odd",
         lambda: _crops(images, c, mirror, _corners(n_H, n_W, c, (n_H // 2 - c // 2, n_W // 2 - c // 2)))),
        ("height and width are swapped: rows go with H (axis 1), columns with W (axis 2)",
         lambda: _crops(images, c, mirror, [(l, t) for t, l in _corners(n_W, n_H, c)])),
        ("the mirrors are upside down: mirror left to right, reversing the COLUMNS (axis 2 of a crop batch)",
         lambda: _crops(images, c, mirror, flip_axis=1)),
        ("the mirrors reverse the channels: mirror left to right, reversing the COLUMNS (axis 2 of a crop batch)",
         lambda: _crops(images, c, mirror, flip_axis=3)),
        ("the crops are in another order: top-left, top-right, bottom-left, bottom-right, centre",
         lambda: _crops(images, c, mirror, [_corners(n_H, n_W, c)[k] for k in (0, 2, 1, 3, 4)])),
    ]


def _check_crop_on(fn, images, c, mirror, case):
    m = images.shape[0]
    k = 10 if mirror else 5
    original = images.copy()
    try:
        got = fn(images, c, mirror=mirror)
    except Exception as err:  # noqa: BLE001 - report the error as a failed case
        fail(f"multi_crop raised {type(err).__name__}: {err}", case,
             "every crop is crop_size x crop_size inside the image: rows start at 0 or H - c (H is axis 1), columns "
             "at 0 or W - c (W is axis 2)")
    expect_type(got, np.ndarray, "multi_crop(...)", case, hint="return one numpy array (np.stack the crops)")
    shape = (m, k, c, c, images.shape[3])
    if got.shape == (k, m, c, c, images.shape[3]) and m != k:
        fail(f"multi_crop(...): shape {got.shape}, expected {shape}", case,
             "the crops of one image go on axis 1, after the image axis: np.stack(crops, axis=1)")
    if not mirror and got.shape[1:2] == (10,):
        fail(f"multi_crop(..., mirror=False): shape {got.shape}, expected {shape}", case,
             "mirror=False gives the five crops only, without their mirrors")
    expect_shape(got, shape, "multi_crop(...)", case, HINT_CROP)
    want = _crops(original, c, mirror)
    if np.array_equal(np.asarray(got, dtype=np.float64), want.astype(np.float64)):
        return
    if mirror and np.array_equal(np.asarray(got, dtype=np.float64),
                                 _crops(original, c, mirror, torchvision_order=True).astype(np.float64)):
        return  # the same ten crops in torchvision's order
    hint = likely_mistake(got, _crop_mistakes(original, c, mirror), rtol=0, atol=0) or HINT_CROP
    expect_close(got, want, "multi_crop(...)", case, hint, rtol=0, atol=0)


def _distinct_images(shape):
    """Images whose every value is different (so that any wrong pixel shows), floats."""
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 10.0


def _expect_value_error(call, what, case):
    expect_raises(call, ValueError, what, case, hint="keep the input checks above ### BEGIN SOLUTION")


def public_multi_crop(multi_crop):
    """Two 6x7 two-channel images, crops of 3 with and without mirrors, a crop larger than the image."""
    images = _distinct_images((2, 6, 7, 2))
    for mirror in (True, False):
        _check_crop_on(multi_crop, images, 3, mirror,
                       f"images of shape (2, 6, 7, 2) with distinct values, crop_size 3, mirror={mirror}")
    _expect_value_error(lambda: multi_crop(_distinct_images((1, 4, 5, 1)), 5), "multi_crop(images 4x5, 5)",
                        "a crop of 5 does not fit a 4x5 image")


def hidden_multi_crop(multi_crop, n_cases=24, seed=25):
    """Random sizes, a crop as large as the shorter side, one-pixel crops, a batch of one, integers, bad input."""
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        m, n_H, n_W = int(rng.integers(1, 4)), int(rng.integers(1, 10)), int(rng.integers(1, 10))
        n_C = int(rng.integers(1, 4))
        c = [min(n_H, n_W), 1, int(rng.integers(1, min(n_H, n_W) + 1))][k % 3]
        images = rng.standard_normal((m, n_H, n_W, n_C)).astype([np.float64, np.float32][k % 2])
        mirror = bool(k % 4 < 2)
        _check_crop_on(multi_crop, images, c, mirror,
                       f"random images {images.shape} ({images.dtype}), crop_size {c}, mirror={mirror}")
    integers = rng.integers(0, 256, size=(1, 9, 5, 3)).astype(np.uint8)
    _check_crop_on(multi_crop, integers, 4, True, "one uint8 image (1, 9, 5, 3), crop_size 4")
    good = _distinct_images((2, 5, 6, 1))
    for args, what in [((good, 0), "crop_size 0"), ((good, 6), "crop_size 6 on a 5x6 image"),
                       ((good, 2.0), "crop_size 2.0, not an int"), ((good[0], 2), "one image (5, 6, 1), no batch axis"),
                       ((good[:0], 2), "an empty batch (0, 5, 6, 1)")]:
        _expect_value_error(lambda a=args: multi_crop(*a), f"multi_crop({what})", what)
    _expect_value_error(lambda: multi_crop(good, 2, mirror="yes"), 'multi_crop(..., mirror="yes")',
                        "mirror must be True or False")


# ---------------------------------------------------------------- ensemble_predict
class ToyNetwork:
    """A deterministic numpy "network" for the checks: (n, h, w, C) images -> (n, n_classes) probabilities.

    Its features are, per channel, the mean of the image and the means weighted by the row's and by the column's
    centred position (so a crop from elsewhere, or mirrored, gives other probabilities); a random linear layer and a
    softmax follow. Each image's row depends on that image only, in whatever batch it comes.
    """

    def __init__(self, n_channels, n_classes, seed):
        rng = np.random.default_rng(seed)
        self.weights = rng.normal(0.0, 4.0, size=(3 * n_channels, n_classes))
        self.bias = rng.normal(0.0, 1.0, size=n_classes)

    def __call__(self, images):
        x = np.asarray(images, dtype=np.float64)
        if x.ndim != 4 or x.shape[3] * 3 != self.weights.shape[0]:
            raise ValueError(f"the network expects images (n, h, w, {self.weights.shape[0] // 3}), got shape "
                             f"{np.shape(images)}")
        n_h, n_w = x.shape[1:3]
        rows = (np.arange(n_h) + 0.5) / n_h - 0.5
        cols = (np.arange(n_w) + 0.5) / n_w - 0.5
        features = np.concatenate([x.mean(axis=(1, 2)), (x * rows[:, None, None]).mean(axis=(1, 2)),
                                   (x * cols[None, :, None]).mean(axis=(1, 2))], axis=1)
        z = features @ self.weights + self.bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


def _per_network(networks, images, c, mirror, reduce_crops=np.mean, crops_of=None):
    """(n_networks, m, n_classes): each network's probabilities, reduced over each image's crops."""
    views = images[:, None] if c is None else (crops_of or _crops)(images, c, mirror)
    m, k = views.shape[:2]
    flat = views.reshape(m * k, *views.shape[2:])
    return np.stack([reduce_crops(net(flat).reshape(m, k, -1), axis=1) for net in networks])


def _ensemble_oracle(networks, images, c, mirror):
    return _per_network(networks, images, c, mirror).mean(axis=0)


def _ensemble_mistakes(networks, images, c, mirror):
    """(hint, wrong answer) of the usual mistakes of ensemble_predict, for likely_mistake."""
    n_classes = networks[0].weights.shape[1]

    def votes():
        views = images[:, None] if c is None else _crops(images, c, mirror)
        m, k = views.shape[:2]
        flat = views.reshape(m * k, *views.shape[2:])
        one_hot = [np.eye(n_classes)[net(flat).argmax(axis=1)].reshape(m, k, -1) for net in networks]
        return np.mean(one_hot, axis=(0, 2))

    def geometric():
        logs = np.log(_per_network(networks, images, c, mirror, reduce_crops=_geometric)).mean(axis=0)
        return np.exp(logs)

    def mixed():  # image-major crops read back crop-major
        views = _crops(images, c, mirror)
        m, k = views.shape[:2]
        flat = views.reshape(m * k, *views.shape[2:])
        return np.mean([net(flat).reshape(k, m, -1).mean(axis=0) for net in networks], axis=0)

    candidates = [
        ("each network voted for one class: average the PROBABILITIES, not the argmax votes", votes),
        ("the probabilities were multiplied (a geometric mean): take their plain mean", geometric),
        ("the probabilities were summed: divide by the number of networks (and of crops)",
         lambda: _per_network(networks, images, c, mirror, reduce_crops=np.sum).sum(axis=0)),
        ("the probabilities were summed over the networks: divide by their number",
         lambda: _per_network(networks, images, c, mirror).sum(axis=0)),
        ("only the first network counted: average over all of predict_fns",
         lambda: _per_network(networks[:1], images, c, mirror).mean(axis=0)),
        ("only the last network counted: average over all of predict_fns",
         lambda: _per_network(networks[-1:], images, c, mirror).mean(axis=0)),
    ]
    if c is not None:
        candidates += [
            ("only the centre crop counted: average over all the crops of each image",
             lambda: _per_network(networks, images, c, mirror, crops_of=lambda x, s, mir: _crops(x, s, False)[:, 4:5])
             .mean(axis=0)),
            ("the maximum over the crops was taken: average over the crops",
             lambda: _per_network(networks, images, c, mirror, reduce_crops=np.max).mean(axis=0)),
            ("the crops of different images were mixed: after reshaping (m * n_crops, n_classes) back, image i's "
             "crops are the rows i * n_crops ... (i + 1) * n_crops - 1: reshape(m, n_crops, n_classes)", mixed),
        ]
    return candidates


def _geometric(values, axis):
    return np.exp(np.log(values).mean(axis=axis))


def _check_ensemble_on(fn, networks, images, c, mirror, case):
    original = images.copy()
    try:
        got = fn(networks, images, c, mirror=mirror) if c is not None else fn(networks, images)
    except Exception as err:  # noqa: BLE001
        fail(f"ensemble_predict raised {type(err).__name__}: {err}", case)
    want = _ensemble_oracle(networks, original.copy(), c, mirror)
    expect_type(got, np.ndarray, "ensemble_predict(...)", case, hint="return a numpy array (m, n_classes)")
    expect_shape(got, want.shape, "ensemble_predict(...)", case,
                 "one row per image, one column per class: average over the crops and the networks, not the classes")
    close = np.allclose(np.asarray(got, dtype=np.float64), want, rtol=1e-5, atol=1e-7)
    if not close:
        hint = likely_mistake(got, _ensemble_mistakes(networks, original, c, mirror), rtol=1e-5, atol=1e-7)
        expect_close(got, want, "ensemble_predict(...)", case, hint or HINT_ENSEMBLE, rtol=1e-5, atol=1e-7)


def _course_multi_crop():
    from cnncourse.ops.twins import crop_views

    return crop_views


def _blame_multi_crop(check, fn):
    """Run check(fn) on the student's own chain. When it fails, run it again with the course's multi_crop in fn's
    namespace: if fn passes then, the mistake is in the student's multi_crop, whose own cell loses the points (one
    mistake, one loss): print the failure with a note saying so, and pass. Otherwise raise the first failure."""
    try:
        check(fn)
    except CheckFailed as err:
        try:
            with reference_helpers(fn, multi_crop=_course_multi_crop()):
                check(fn)
        except Exception:  # noqa: BLE001 - still wrong with the course's multi_crop: the mistake is here
            raise err from None
        print(f"ensemble_predict: NOTE: {err}\n  With the course's multi_crop in place of yours, your ensemble_predict "
              f"passes this check: the mistake is in your multi_crop (its check says what is wrong). This cell keeps "
              f"its points; fix multi_crop first.")


def public_ensemble_predict(ensemble_predict):
    """Three 6x7 two-channel images and two networks of four classes: whole images, 10 crops of 4, 5 crops of 4;
    and an empty list of networks."""
    def public(fn):
        networks = [ToyNetwork(2, 4, seed=1), ToyNetwork(2, 4, seed=2)]
        images = np.random.default_rng(5).uniform(0.0, 1.0, size=(3, 6, 7, 2))
        for c, mirror in [(None, True), (4, True), (4, False)]:
            _check_ensemble_on(fn, networks, images, c, mirror,
                               f"2 networks, 4 classes, images (3, 6, 7, 2), crop_size {c}, mirror={mirror}")

    _blame_multi_crop(public, ensemble_predict)
    images = np.zeros((1, 4, 4, 2))
    _expect_value_error(lambda: ensemble_predict([], images), "ensemble_predict([], images)",
                        "no network: predict_fns is an empty list")


def hidden_ensemble_predict(ensemble_predict, n_cases=16, seed=26):
    """1 to 4 networks, 2 to 6 classes, random sizes, a batch of one, a crop as large as the shorter side, one-pixel
    crops, float32 images; bad input. Run with the course's multi_crop (one mistake, one loss)."""
    rng = np.random.default_rng(seed)
    with reference_helpers(ensemble_predict, multi_crop=_course_multi_crop()):
        for k in range(n_cases):
            n_C, n_classes = int(rng.integers(1, 4)), int(rng.integers(2, 7))
            networks = [ToyNetwork(n_C, n_classes, seed=100 * k + j) for j in range(int(rng.integers(1, 5)))]
            m, n_H, n_W = int(rng.integers(1, 5)), int(rng.integers(2, 10)), int(rng.integers(2, 10))
            images = rng.uniform(-1.0, 1.0, size=(m, n_H, n_W, n_C)).astype([np.float64, np.float32][k % 2])
            c = [None, min(n_H, n_W), 1, int(rng.integers(1, min(n_H, n_W) + 1))][k % 4]
            mirror = bool(k % 8 < 4)
            _check_ensemble_on(ensemble_predict, networks, images, c, mirror,
                               f"{len(networks)} networks, {n_classes} classes, images {images.shape} "
                               f"({images.dtype}), crop_size {c}, mirror={mirror}")
    images = np.zeros((2, 5, 5, 1))
    network = ToyNetwork(1, 3, seed=0)
    for args, what in [(([], images), "an empty list of networks"), (([network, "net"], images), "a string as a network"),
                       ((network, images), "one network, not in a list"),
                       (([network], images, 6), "crop_size 6 on 5x5 images"),
                       (([network], images[0]), "one image (5, 5, 1), no batch axis")]:
        _expect_value_error(lambda a=args: ensemble_predict(*a), f"ensemble_predict({what})", what)
