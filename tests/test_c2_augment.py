"""Chapter 2's data augmentation: pca_color_augment against the definition worked another way, data_augmenter by
behaviour, and the checks that grade both (the mistakes are in tests/test_mistake_corpus_c2.py); data_augmenter's
verdict reached outside the kernel, as the kernel reached it."""

import numpy as np
import pytest

import test_mistake_corpus_c2 as corpus
from cnncourse.checks import c2_augment as checks
from corpus_harness import judged
from cnncourse.models.c2_augment import data_augmenter
from cnncourse.ops.c2_augment import pca_color_augment


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_references(kind):
    getattr(checks, f"{kind}_pca_color_augment")(pca_color_augment)
    getattr(checks, f"{kind}_data_augmenter")(data_augmenter)


def _principal_axes(image):
    """Eigenvalues and eigenvectors (columns) of the covariance written as a sum over pixels, by np.linalg.eig."""
    pixels = image.reshape(-1, 3)
    mean = pixels.mean(axis=0)
    covariance = sum(np.outer(p - mean, p - mean) for p in pixels) / len(pixels)
    values, vectors = np.linalg.eig(covariance)
    return values, vectors


def test_pca_shift_is_alpha_lambda_along_each_axis():
    """Unclipped, every pixel moves by the same vector, whose coordinate on principal axis i is alpha_i lambda_i
    (up to the axis's sign, which the docstring's rule fixes)."""
    rng = np.random.default_rng(3)
    image = np.clip(0.5 + 0.1 * rng.standard_normal((6, 5, 3)) @ rng.standard_normal((3, 3)), 0.05, 0.95)
    alphas = np.array([0.1, -0.05, 0.2])
    out = pca_color_augment(image, alphas)
    shift = (out - image).reshape(-1, 3)
    assert np.allclose(shift, shift[0])  # one shift for all pixels (nothing clipped here)
    values, vectors = _principal_axes(image)
    for i, k in enumerate(np.argsort(-values)):
        p = vectors[:, k] * np.sign(vectors[np.argmax(np.abs(vectors[:, k])), k])
        assert shift[0] @ p == pytest.approx(alphas[i] * values[k], rel=1e-9, abs=1e-15)


def test_pca_leaves_the_image_alone_when_nothing_varies_or_alphas_are_zero():
    flat = np.full((4, 3, 3), 0.3)
    assert np.allclose(pca_color_augment(flat, [1.0, -1.0, 2.0]), flat)
    photo = np.random.default_rng(0).uniform(size=(5, 5, 3))
    before = photo.copy()
    assert np.allclose(pca_color_augment(photo, np.zeros(3)), photo)
    assert np.array_equal(photo, before)


@pytest.mark.parametrize("image,alphas,what", [
    (np.zeros((4, 4)), [0.1, 0.1, 0.1], "image"),
    (np.zeros((4, 4, 1)), [0.1, 0.1, 0.1], "image"),
    (np.full((2, 2, 3), 2.0), [0.1, 0.1, 0.1], r"\[0, 1\]"),
    (np.zeros((2, 2, 3)), [0.1, 0.1], "alphas"),
    (np.zeros((2, 2, 3)), [0.1, np.nan, 0.1], "alphas"),
    (np.zeros((2, 2, 3), dtype=np.uint8), [0.1, 0.1, 0.1], "floating"),
])
def test_pca_rejects_bad_input_with_a_clear_message(image, alphas, what):
    with pytest.raises(ValueError, match=what):
        pca_color_augment(image, alphas)


def test_data_augmenter_flips_left_right_only_and_is_the_identity_at_inference():
    import keras

    keras.utils.set_random_seed(5)
    model = data_augmenter()
    x = np.random.default_rng(5).uniform(size=(16, 20, 30, 3)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(model(x, training=False)), x)
    (flip,) = [layer for layer in model.layers if isinstance(layer, keras.layers.RandomFlip)]
    out = keras.ops.convert_to_numpy(flip(x, training=True))
    mirrored = [np.allclose(o, a[:, ::-1]) for o, a in zip(out, x)]
    kept = [np.allclose(o, a) for o, a in zip(out, x)]
    assert all(m or k for m, k in zip(mirrored, kept)) and any(mirrored) and any(kept)
    assert keras.ops.convert_to_numpy(model(x, training=True)).shape == x.shape


AUGMENTERS = [data_augmenter, *corpus.ALTERNATIVES["data_augmenter"], *corpus.MISTAKES["data_augmenter"]]


@pytest.mark.parametrize("fn", AUGMENTERS, ids=[fn.__name__ for fn in AUGMENTERS])
def test_the_pipeline_is_judged_outside_the_kernel_even_with_a_layer_class_of_its_own(tmp_path, fn):
    """A layer class of the notebook's travels as the outputs of its calls (grading/layer_replay.py)."""
    kernel_error, verdict = judged(tmp_path, checks, "data_augmenter", fn)
    assert verdict.score == (2.0 if kernel_error is None else 0.0), (kernel_error, verdict.message)
    assert not verdict.record_problem, verdict.message


def test_a_pipeline_with_a_layer_class_of_its_own_cannot_keep_a_forged_verdict(tmp_path):
    """The forger's route before: a layer class of its own made the cell the kernel's, and the kernel's check was
    tampered with (its flip test a no-op). The judge now runs the real check on what that layer did."""
    forged = {"_flips": lambda *args, **kwargs: None}
    kernel_error, verdict = judged(tmp_path, checks, "data_augmenter", corpus.aug_hand_written_mirror_upside_down,
                                   kernel_patches=forged)
    assert kernel_error is None  # the tampered kernel passed it
    assert verdict.score == 0.0 and "mirror" in verdict.message, verdict
