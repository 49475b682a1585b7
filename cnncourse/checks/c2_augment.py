"""Checks of Chapter 2's data augmentation: pca_color_augment (numpy) and data_augmenter (Keras layers).

public_pca_color_augment: a 2x2 image whose colours vary along one axis u only, worked by hand (the shift is
    alpha_1 * variance * u: separates ddof=1, the ascending order of np.linalg.eigh, the square root of lambda and
    the uncentred covariance), a random 4x4 image (eigenvectors taken as rows; an unsigned eigenvector where eigh
    returns it negative), a bright image that must be clipped, and an image without three channels.
hidden_pca_color_augment: random images of random sizes, float32 and float64, small and large alphas, a constant
    image, against an oracle that takes the principal axes from the SVD of the centred pixel matrix (not from the
    covariance matrix) and fixes each axis's sign by the docstring's rule, so its answer does not depend on the sign
    that the SVD returns.
public_data_augmenter / hidden_data_augmenter: by behaviour, layer by layer, in any order:
    - inference mode returns the images unchanged, training mode changes them and keeps their shape;
    - on random images (left-right and up-down both visible), a layer mirrors left-right about half of the images
      and leaves the others alone, and no layer turns any image upside down (separates RandomFlip() and
      "vertical" from "horizontal", and a flip of every image);
    - on a horizontal bar, the angles that the layers turn it by stay within +-72 degrees and reach past +-40 both
      ways (separates a factor read as a fraction of half a turn, a one-sided range, a missing rotation);
    - the bar's length grows by up to 1.25 (zoom in by up to 20 %) and never shrinks (separates a zoom out, a zoom
      both ways, a missing zoom).
    The hidden check repeats it under other seeds, the modes on non-square images and a batch of one.
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import itertools

import keras
import numpy as np

from cnncourse.checks.core import expect_close, expect_raises, expect_shape, expect_type, fail, likely_mistake

HINT_PCA = ("centre the H * W pixels, covariance with ddof = 0, eigenvalues largest first with alphas[i] on the i-th, "
            "each eigenvector's largest component positive, add sum_i alpha_i lambda_i p_i, clip to [0, 1]")


# ---------------------------------------------------------------- pca_color_augment
def _signed(axes):
    """Rows of `axes` turned so that each row's component of largest absolute value is positive."""
    largest = np.argmax(np.abs(axes), axis=1)
    return axes * np.sign(axes[np.arange(len(axes)), largest])[:, None]


def _axes(image, centred=True):
    """(lambdas largest first, principal axes as rows) from the SVD of the (centred) pixel matrix."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    if centred:
        pixels = pixels - pixels.mean(axis=0)
    _, s, vt = np.linalg.svd(pixels, full_matrices=False)
    lambdas = np.zeros(3)
    lambdas[:len(s)] = s ** 2 / pixels.shape[0]
    axes = np.eye(3)
    axes[:len(vt)] = vt
    return lambdas, _signed(axes)


def _oracle(image, alphas, clip=True):
    lambdas, axes = _axes(image)
    shift = sum(alphas[i] * lambdas[i] * axes[i] for i in range(3))
    out = image.astype(np.float64) + shift
    return np.clip(out, 0.0, 1.0) if clip else out


def _pca_mistakes(image, alphas):
    """(hint, wrong answer) of the usual mistakes of pca_color_augment, for likely_mistake."""
    image64 = image.astype(np.float64)
    lambdas, axes = _axes(image)
    n = image.shape[0] * image.shape[1]

    def shifted(lams, rows, a=alphas):
        return np.clip(image64 + sum(a[i] * lams[i] * rows[i] for i in range(3)), 0.0, 1.0)

    candidates = [
        ("the covariance was divided by H * W - 1 (np.cov's default ddof=1): divide by H * W (bias=True)",
         lambda: shifted(lambdas * n / (n - 1), axes)),
        ("np.linalg.eigh returns the eigenvalues in ASCENDING order: sort them largest first, with their vectors",
         lambda: shifted(lambdas[::-1], axes[::-1])),
        ("the shift used sqrt(lambda_i): AlexNet's shift is alpha_i * lambda_i * p_i",
         lambda: shifted(np.sqrt(np.maximum(lambdas, 0)), axes)),
        ("the eigenvectors were taken as the ROWS of eigh's matrix: they are its columns, vectors[:, i]",
         lambda: shifted(lambdas, axes.T)),
        ("the pixels were not centred: subtract the mean colour before the covariance",
         lambda: shifted(*_axes(image, centred=False))),
        ("the result was not clipped to [0, 1]", lambda: _oracle(image, alphas, clip=False)),
    ]
    for signs in itertools.product((1, -1), repeat=3):
        if signs != (1, 1, 1):
            candidates.append(("an eigenvector has the other sign: turn each p_i so that its component of largest "
                               "absolute value is positive", lambda s=signs: shifted(lambdas, axes * np.array(s)[:, None])))
    return candidates


def _compare_pca(fn, image, alphas, case):
    """fn(image, alphas) against the oracle. The oracle reads its own copy: the checks' control flow depends only on
    what fn returns (the judge replays it), so a function that also changes its input is not failed for that here."""
    original = image.copy()
    try:
        got = fn(image, alphas)
    except Exception as err:  # noqa: BLE001 - report the error as a failed case
        fail(f"pca_color_augment raised {type(err).__name__}: {err}", case)
    want = _oracle(original, alphas)
    expect_type(got, np.ndarray, "pca_color_augment(...)", case, hint="return a numpy array")
    expect_shape(got, image.shape, "pca_color_augment(...)", case)
    close = got.shape == want.shape and np.allclose(np.asarray(got, dtype=np.float64), want, rtol=1e-5, atol=1e-6)
    if not close:
        hint = likely_mistake(got, _pca_mistakes(original, alphas), rtol=1e-5, atol=1e-6) or HINT_PCA
        expect_close(got, want, "pca_color_augment(...)", case, hint, rtol=1e-5, atol=1e-6)


def public_pca_color_augment(pca_color_augment):
    """A hand-worked 2x2 image, a random 4x4 image, a clipped bright image, bad input."""
    # Colours c + t * u with u = (1, 2, 2) / 3 and t = (-0.1, -0.1, 0.1, 0.1): the covariance is 0.01 u u^T, so
    # lambda_1 = 0.01 (ddof 0), p_1 = u, lambda_2 = lambda_3 = 0, and alphas (2, 0.5, -0.5) shift by 0.02 u.
    u = np.array([1.0, 2.0, 2.0]) / 3.0
    t = np.array([-0.1, -0.1, 0.1, 0.1])
    image = (0.5 + t[:, None] * u).reshape(2, 2, 3)
    case = "2x2 image, colours 0.5 + t * (1, 2, 2) / 3 with t = -0.1, -0.1, 0.1, 0.1; alphas = (2, 0.5, -0.5)"
    before = image.copy()
    try:
        got = pca_color_augment(image, np.array([2.0, 0.5, -0.5]))
    except Exception as err:  # noqa: BLE001
        fail(f"pca_color_augment raised {type(err).__name__}: {err}", case)
    hint = likely_mistake(got, _pca_mistakes(before, np.array([2.0, 0.5, -0.5])), rtol=1e-9, atol=1e-12) or HINT_PCA
    expect_close(got, before + 0.02 * u, "pca_color_augment(...)", case, hint, rtol=1e-9, atol=1e-12)
    rng = np.random.default_rng(7)
    _compare_pca(pca_color_augment, rng.uniform(0.2, 0.8, size=(4, 4, 3)), np.array([0.3, -0.2, 0.1]),
                 "random 4x4 image, alphas = (0.3, -0.2, 0.1)")
    bright = np.clip(0.9 + 0.1 * rng.standard_normal((3, 5, 3)), 0.0, 1.0)
    _compare_pca(pca_color_augment, bright, np.array([30.0, 10.0, -5.0]),
                 "bright 3x5 image, alphas = (30, 10, -5): some values must be clipped to 1")
    expect_raises(lambda: pca_color_augment(np.zeros((4, 4)), [0.1, 0.1, 0.1]), ValueError,
                  "pca_color_augment(image of shape (4, 4), ...)", "a grey image without its colour axis",
                  hint="keep the input checks above ### BEGIN SOLUTION")


def hidden_pca_color_augment(pca_color_augment, n_cases=30, seed=24):
    """Random images (1..12 x 1..12, float32 and float64), alphas from N(0, 0.1) and large ones, a constant image."""
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        n_H, n_W = (int(v) for v in rng.integers(1, 13, size=2))
        if n_H * n_W < 2:
            n_W = 2
        mix = rng.standard_normal((3, 3))  # correlated channels, as in a photo
        image = np.clip(0.5 + 0.15 * rng.standard_normal((n_H, n_W, 3)) @ mix, 0.0, 1.0)
        image = image.astype(np.float32 if k % 2 else np.float64)
        alphas = rng.normal(0.0, 0.1 if k % 3 else 5.0, size=3)
        _compare_pca(pca_color_augment, image, alphas,
                     f"random {n_H}x{n_W} {image.dtype} image, alphas = {np.round(alphas, 4).tolist()}")
    _compare_pca(pca_color_augment, np.full((3, 3, 3), 0.25), np.array([1.0, 1.0, 1.0]),
                 "a constant image: no colour varies, nothing shifts")
    for bad, what in ((np.zeros((4, 4, 4)), "4 channels"), (np.full((2, 2, 3), 1.5), "values above 1")):
        expect_raises(lambda b=bad: pca_color_augment(b, [0.1, 0.1, 0.1]), ValueError,
                      f"pca_color_augment(image with {what}, ...)", what)


# ---------------------------------------------------------------- data_augmenter
MAX_ANGLE = 72.0  # RandomRotation(0.2): 0.2 of a full turn
MAX_ZOOM = 1.25  # RandomZoom((-0.2, 0)): a crop of 80 % of the side, resized back
HINT_FLIP = 'mirror left-right only, for a random half of the images: layers.RandomFlip("horizontal")'
HINT_ROTATION = ("layers.RandomRotation(0.2): the factor is a fraction of a full turn (0.2 * 360 = 72 degrees), "
                 "in both directions")
HINT_ZOOM = "layers.RandomZoom(height_factor=(-0.2, 0.0)): zoom IN only (negative), by up to 20 %, on both axes"


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def _build(fn, seed, case):
    keras.utils.set_random_seed(seed)
    try:
        model = fn()
    except Exception as err:  # noqa: BLE001
        fail(f"data_augmenter() raised {type(err).__name__}: {err}", case)
    expect_type(model, keras.Model, "data_augmenter()", case, hint="return keras.Sequential([...the layers...])")
    steps = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not steps:
        fail("data_augmenter(): expected a model of preprocessing layers, got a model without layers", case)
    return model, steps


def _call(what, layer, x, training, case):
    try:
        return _numpy(layer(x, training=training))
    except Exception as err:  # noqa: BLE001
        fail(f"{what}(x of shape {x.shape}, training={training}) raised {type(err).__name__}: {err}", case,
             "the pipeline must take images of any size")


def _name(layer):
    return f"layer {layer.name!r} ({type(layer).__name__})"


def _check_modes(model, x, case):
    """Inference: unchanged. Training: same shape, changed."""
    same = _call("the model", model, x, False, case)
    expect_close(same, x, "data_augmenter()(x, training=False)", case,
                 "in inference mode (predict, evaluate) augmentation layers must pass the images through unchanged",
                 rtol=0, atol=1e-5)
    changed = False
    for _ in range(3):
        out = _call("the model", model, x, True, case)
        expect_shape(out, x.shape, "data_augmenter()(x, training=True)", case,
                     "augmentation keeps the image size (a crop is resized back: RandomZoom, not RandomCrop)")
        changed = changed or not np.allclose(out, x, atol=1e-5)
    if not changed:
        fail("data_augmenter()(x, training=True): expected changed images, got the images unchanged three times",
             case, "random layers act only when called with training=True")


def _flips(steps, x, case, draws=1):
    """Every layer's outputs on images whose four mirror images all differ: each image is unchanged, mirrored
    left-right, upside down, both, or something else. With 64 images a fair coin mirrors none or all of them with a
    chance of 2 ** -63."""
    mirror = {"same": lambda a: a, "left-right": lambda a: a[:, ::-1], "upside down": lambda a: a[::-1],
              "turned 180 degrees": lambda a: a[::-1, ::-1]}
    seen = []
    for layer in steps:
        kinds = set()
        for _ in range(draws):
            out = _call(_name(layer), layer, x, True, case)
            for a, b in zip(x, out):
                kinds.add(next((k for k, f in mirror.items() if f(a).shape == b.shape
                                and np.allclose(f(a), b, atol=1e-5)), "other"))
        bad = kinds & {"upside down", "turned 180 degrees"}
        if bad:
            fail(f"{_name(layer)}: expected mirror images left-right only, got images {' and '.join(sorted(bad))}",
                 case, HINT_FLIP + ' (RandomFlip() and RandomFlip("horizontal_and_vertical") also flip up-down)')
        seen.append((layer, kinds))
    flippers = [(layer, kinds) for layer, kinds in seen if "left-right" in kinds]
    if not flippers:
        fail("data_augmenter(): expected some images mirrored left-right, no layer mirrored any", case, HINT_FLIP)
    for layer, kinds in flippers:
        if kinds == {"left-right"}:
            fail(f"{_name(layer)}: expected about half of the images mirrored, it mirrored every one", case, HINT_FLIP)


def _bar(n_H, n_W, m):
    """m copies of a horizontal bar (3 px thick, 25 px long) at the centre of a black n_H x n_W RGB image."""
    image = np.zeros((n_H, n_W, 3), dtype=np.float32)
    r, c = n_H // 2, n_W // 2
    image[r - 1:r + 2, c - 12:c + 13] = 1.0
    return np.repeat(image[None], m, axis=0)


def _geometry(images):
    """Per image: the angle of its main axis in degrees (in (-90, 90]) and the spread along it (a length)."""
    angles, lengths = [], []
    for image in images:
        grey = image.mean(axis=-1)
        weight = np.abs(grey - np.median(grey))  # the background's level, whatever a layer did to it, weighs 0
        total = weight.sum()
        if total <= 0:
            angles.append(0.0)
            lengths.append(0.0)
            continue
        rows, cols = np.indices(grey.shape)
        r0, c0 = (weight * rows).sum() / total, (weight * cols).sum() / total
        cov = np.array([[(weight * (cols - c0) ** 2).sum(), (weight * (cols - c0) * (rows - r0)).sum()],
                        [(weight * (cols - c0) * (rows - r0)).sum(), (weight * (rows - r0) ** 2).sum()]]) / total
        values, vectors = np.linalg.eigh(cov)
        axis = vectors[:, -1]
        angle = np.degrees(np.arctan2(axis[1], axis[0]))
        angle = (angle + 90.0) % 180.0 - 90.0
        angles.append(angle)
        lengths.append(np.sqrt(values[-1]))
    return np.array(angles), np.array(lengths)


def _check_geometry(steps, n_H, n_W, case, m=64, draws=1):
    bar = _bar(n_H, n_W, m)
    _, (length,) = _geometry(bar[:1])
    angles, scales = [], []
    for layer in steps:
        for _ in range(draws):
            a, lengths = _geometry(_call(_name(layer), layer, bar, True, case))
            s = lengths / length
            if np.max(np.abs(a)) > MAX_ANGLE + 4:
                fail(f"{_name(layer)}: expected rotations within +-{MAX_ANGLE:g} degrees, it turned a bar by "
                     f"{a[np.argmax(np.abs(a))]:.0f} degrees", case, HINT_ROTATION)
            if s.min() < 0.97:
                fail(f"{_name(layer)}: expected zooms IN only, it shrank a bar to {s.min():.2f} of its length", case,
                     HINT_ZOOM)
            if s.max() > MAX_ZOOM + 0.04:
                fail(f"{_name(layer)}: expected zooms in by up to 20 % (x{MAX_ZOOM:g}), it stretched a bar "
                     f"x{s.max():.2f}", case, HINT_ZOOM)
            angles.append(a)
            scales.append(s)
    angles, scales = np.concatenate(angles), np.concatenate(scales)
    if angles.max() < 40 or angles.min() > -40:
        fail(f"data_augmenter(): expected rotations up to +-{MAX_ANGLE:g} degrees both ways, the layers turned a bar "
             f"by {angles.min():.0f} to {angles.max():.0f} degrees in {len(angles)} draws", case, HINT_ROTATION)
    if scales.max() < 1.12:
        fail(f"data_augmenter(): expected zooms in by up to 20 % (x{MAX_ZOOM:g}), the longest bar grew only "
             f"x{scales.max():.2f} in {len(scales)} draws", case, HINT_ZOOM)


def _check_augmenter(fn, seed, n_H, n_W, m):
    case = f"seed {seed}, {m} random images of {n_H}x{n_W}x3"
    model, steps = _build(fn, seed, case)
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(m, n_H, n_W, 3)).astype(np.float32)
    _check_modes(model, x, case)
    # The probes share one shape (on JAX each new shape compiles the image ops again): 64 images of 64x64, square
    # and large enough that a reflected border never reaches the bar.
    side, m = 64, 64
    _flips(steps, rng.uniform(size=(m, side, side, 3)).astype(np.float32), f"seed {seed}, {m} random images of "
           f"{side}x{side}x3")
    _check_geometry(steps, side, side, f"seed {seed}, a horizontal bar on a black {side}x{side} image", m=m)


def public_data_augmenter(data_augmenter):
    """Modes on 48x48 images, flips, rotation and zoom on 64x64 probes, under one seed."""
    _check_augmenter(data_augmenter, seed=0, n_H=48, n_W=48, m=8)


def hidden_data_augmenter(data_augmenter):
    """The same under other seeds, the modes on non-square images and a batch of one."""
    for seed, n_H, n_W, m in ((1, 40, 64, 6), (2, 64, 48, 4), (3, 33, 35, 1)):
        _check_augmenter(data_augmenter, seed=seed, n_H=n_H, n_W=n_W, m=m)
