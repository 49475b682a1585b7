"""Chapter 6, what deep ConvNets learn: feature maps, receptive-field windows and top patches, checked against the
network itself (a numpy convolution, perturbations of the input), never against recorded outputs."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.data.images import load_image  # noqa: E402
from cnncourse.experiments import c6_features as f  # noqa: E402
from cnncourse.models.c6_vgg import IMAGENET_BGR_MEAN, receptive_field  # noqa: E402

LAYERS = ("block1_conv2", "block2_conv2", "block3_conv1")


@pytest.fixture(scope="module")
def images():
    return np.stack([load_image(name, 48, gray=False) for name in ("chelsea", "coffee", "astronaut")]).astype(
        np.float32)


def test_feature_maps_shapes_and_a_numpy_convolution():
    image = load_image("chelsea", 32, gray=False).astype(np.float32)
    maps = f.feature_maps(image, ("block1_conv1", "block2_conv2", "block3_conv1", "block5_conv1"))
    assert [m.shape for m in maps] == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (2, 2, 512)]
    assert all(m.dtype == np.float32 and m.min() >= 0 for m in maps)  # ReLU outputs
    # block1_conv1 recomputed by hand: BGR * 255 minus the means, zero 'same' padding, 3x3 kernel, bias, ReLU
    kernel, bias = f.layer_model(("block1_conv1",)).get_layer("block1_conv1").get_weights()
    x = np.pad(image[..., ::-1] * 255.0 - np.array(IMAGENET_BGR_MEAN, np.float32), ((1, 1), (1, 1), (0, 0)))
    for i, j in [(0, 0), (5, 17), (31, 31), (20, 3)]:
        expected = np.maximum(np.einsum("hwc,hwck->k", x[i:i + 3, j:j + 3], kernel) + bias, 0)
        np.testing.assert_allclose(maps[0][i, j], expected, rtol=1e-3, atol=1e-2)
    with pytest.raises(ValueError, match="unknown layer"):
        f.feature_maps(image, ("block9_conv1",))


@pytest.mark.parametrize("layer", LAYERS)
def test_window_start_is_exactly_what_a_unit_sees(layer):
    """Randomising every pixel outside the computed window leaves the unit unchanged; randomising any one edge row
    or column of the window changes it: the window is exactly the unit's dependence, centred at i*J + (J-1)/2."""
    rf, jump = receptive_field(layer)
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, (64, 64, 3)).astype(np.float32)
    n = 64 // jump
    i, j = n // 2 - 1, n // 2  # an interior unit: its window lies inside the image
    top, left = int(f.window_start(i, layer)), int(f.window_start(j, layer))
    assert 0 <= top and top + rf <= 64 and 0 <= left and left + rf <= 64
    assert top + (rf - 1) / 2 == pytest.approx(i * jump + (jump - 1) / 2)  # the centre
    inside = np.zeros((64, 64), bool)
    inside[top:top + rf, left:left + rf] = True
    noise = rng.uniform(0, 1, base.shape).astype(np.float32)
    variants = [base, np.where(inside[..., None], base, noise)]
    for rows, cols in [(top, slice(left, left + rf)), (top + rf - 1, slice(left, left + rf)),
                       (slice(top, top + rf), left), (slice(top, top + rf), left + rf - 1)]:
        edited = base.copy()
        edited[rows, cols] = noise[rows, cols]
        variants.append(edited)
    units = np.stack([f.feature_maps(v, (layer,))[0][i, j] for v in variants])  # (6, C)
    scale = np.abs(units[0]).max()
    assert scale > 0
    np.testing.assert_allclose(units[1], units[0], atol=1e-4 * scale)
    for edited in units[2:]:
        assert np.abs(edited - units[0]).max() > 1e-3 * scale


def _expected_window(image, top, left, rf):
    """The rf x rf window at (top, left), zeros outside the image; written independently of the package."""
    out = np.zeros((rf, rf, 3), np.float32)
    for a in range(rf):
        for b in range(rf):
            y, x = top + a, left + b
            if 0 <= y < image.shape[0] and 0 <= x < image.shape[1]:
                out[a, b] = image[y, x]
    return out


# k = 2 <= 3 images: one window per image; k = 5 > 3: the best distinct positions. inside: windows wholly in the image.
@pytest.mark.parametrize("k, inside", [(2, False), (5, False), (2, True), (5, True)])
def test_top_patches_are_the_input_around_the_strongest_activations(images, k, inside):
    layer = "block2_conv2"
    res = f.top_patches(images, layer, n_units=3, k=k, inside=inside)
    rf, jump = receptive_field(layer)
    assert res["rf"] == rf and res["jump"] == jump
    assert res["patches"].shape == (3, k, rf, rf, 3) and res["patches"].dtype == np.float32
    assert res["scores"].shape == (3, k)
    maps = np.stack([f.feature_maps(image, (layer,))[0] for image in images])  # (N, h, w, C), the oracle
    if inside:  # positions whose window starts at >= 0 and ends inside the image; the others cannot win
        starts = [np.arange(n) * jump + (jump - rf) // 2 for n in maps.shape[1:3]]
        ok = [(st >= 0) & (st + rf <= size) for st, size in zip(starts, images.shape[1:3])]
        maps = np.where((ok[0][:, None] & ok[1][None, :])[None, :, :, None], maps, -np.inf)
    channel_max = maps.max(axis=(0, 1, 2))
    assert res["units"] == [int(c) for c in np.argsort(-channel_max)[:3]]
    for u, unit in enumerate(res["units"]):
        picks = [tuple(p) for p in res["positions"][u]]
        assert len(set(picks)) == k
        recomputed = np.array([maps[i, r, c, unit] for i, r, c in picks])
        np.testing.assert_allclose(res["scores"][u], recomputed, rtol=1e-4, atol=1e-3)
        assert np.all(np.diff(res["scores"][u]) <= 1e-6)
        if k <= len(images):  # one window per image, each at that image's maximum, the best images first
            assert len({i for i, _, _ in picks}) == k
            per_image = maps[..., unit].max(axis=(1, 2))
            np.testing.assert_allclose(res["scores"][u], np.sort(per_image)[::-1][:k], rtol=1e-4, atol=1e-3)
        else:
            np.testing.assert_allclose(res["scores"][u], np.sort(maps[..., unit].ravel())[::-1][:k], rtol=1e-4,
                                       atol=1e-3)
        for j, (i, r, c) in enumerate(picks):
            top, left = r * jump + (jump - rf) // 2, c * jump + (jump - rf) // 2
            np.testing.assert_array_equal(res["patches"][u, j], _expected_window(images[i], top, left, rf))


def test_figures_have_one_axis_per_panel(images):
    image = images[0]
    fig = f.feature_maps_figure(image, ("block1_conv1", "block3_conv1"), n_channels=3)
    assert len(fig.axes) == 2 * 4
    maps = f.feature_maps(image, ("block1_conv1",))[0]
    shown = [int(ax.get_title().split("channel ")[1]) for ax in fig.axes[1:4]]
    assert shown == [int(c) for c in np.argsort(-maps.mean(axis=(0, 1)))[:3]]
    assert fig.axes[1].get_title().startswith("block1_conv1, channel")
    matplotlib.pyplot.close(fig)
    fig = f.top_patches_figure(images, ("block1_conv2", "block2_conv2"), n_units=2, k=3)
    assert len(fig.axes) == 2 * 2 * 3
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert len(labels) == 4 and "block2_conv2" in labels[-1] and "rf 14x14 px" in labels[-1]
    assert fig.axes[0].get_images()[0].get_interpolation() == "nearest"
    matplotlib.pyplot.close(fig)


def test_default_gallery_is_deterministic_colour_images():
    gallery = f.default_gallery(size=32, n_crops=3)
    assert len(gallery) == len(f.GALLERY_SAMPLES) + 3
    assert all(g.shape == (32, 32, 3) and g.dtype == np.float32 and 0 <= g.min() and g.max() <= 1 for g in gallery)
    np.testing.assert_array_equal(gallery[1], load_image(f.GALLERY_SAMPLES[1], 32, gray=False).astype(np.float32))
    again = f.default_gallery(size=32, n_crops=3)
    assert all(np.array_equal(a, b) for a, b in zip(gallery, again))
    crops = gallery[len(f.GALLERY_SAMPLES):]
    assert not any(np.allclose(c, g) for c in crops for g in gallery[:len(f.GALLERY_SAMPLES)])
