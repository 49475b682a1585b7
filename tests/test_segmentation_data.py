"""Chapter 4 data: segmentation scenes are deterministic and their masks match what is drawn; user folders load.

cnncourse.data.scenes is not modified by the segmentation generator (it only borrows its private drawing helpers),
so Chapter 3's scenes keep their bytes; tests/test_scenes.py covers them.
"""

import numpy as np
import pytest
from skimage import io

from cnncourse.data.segmentation import SEGMENTATION_CLASSES, load_segmentation_folder, make_segmentation_scenes

DIGIT, SQUARE, DISC, TRIANGLE = 1, 2, 3, 4


@pytest.fixture(scope="module")
def scenes():
    return make_segmentation_scenes(60, seed=5, max_objects=3)


@pytest.fixture(scope="module")
def lone():
    """Scenes of exactly one object."""
    return make_segmentation_scenes(40, seed=6, max_objects=1)


def test_same_seed_gives_identical_scenes_and_another_seed_differs():
    a, b, c = (make_segmentation_scenes(4, seed=s) for s in (3, 3, 4))
    assert a["images"].tobytes() == b["images"].tobytes() and a["masks"].tobytes() == b["masks"].tobytes()
    assert not np.array_equal(a["masks"], c["masks"])


def test_layout_dtypes_ranges_and_every_class_present(scenes):
    images, masks = scenes["images"], scenes["masks"]
    assert images.shape == (60, 64, 64, 3) and images.dtype == np.float32
    assert masks.shape == (60, 64, 64) and masks.dtype == np.uint8
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert scenes["class_names"] == list(SEGMENTATION_CLASSES) and len(SEGMENTATION_CLASSES) >= 5
    assert set(np.unique(masks)) == set(range(len(SEGMENTATION_CLASSES)))
    assert all((mask > 0).any() for mask in masks)  # every scene holds at least one object
    assert make_segmentation_scenes(2, size=96)["masks"].shape == (2, 96, 96)


def test_without_digits_the_mask_is_exactly_the_bright_pixels(scenes):
    # squares, discs and triangles are fully opaque in a colour whose brightest channel is >= 0.85, and every
    # background is dimmed to <= 0.5: so the drawn pixels, top object included, are exactly the mask's.
    checked = 0
    for image, mask in zip(scenes["images"], scenes["masks"]):
        if DIGIT in mask:
            continue
        np.testing.assert_array_equal(image.max(axis=-1) > 0.6, mask > 0)
        checked += 1
    assert checked >= 10


def test_digit_ink_is_bright_and_background_away_from_objects_is_dim(scenes):
    from scipy import ndimage

    for image, mask in zip(scenes["images"], scenes["masks"]):
        brightest = image.max(axis=-1)
        near = ndimage.binary_dilation(mask > 0, iterations=2)  # half-transparent digit edges are background
        assert brightest[~near].max() <= 0.5 + 1e-6
        assert np.all(brightest[mask == DIGIT] > 0.42)  # opacity > 0.5 of a colour whose top channel is >= 0.85


def bbox(region):
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def test_each_shape_has_its_own_mask_region(lone):
    seen = set()
    for mask in lone["masks"]:
        (label,) = set(np.unique(mask)) - {0}
        top, bottom, left, right = bbox(mask > 0)
        region = mask[top:bottom, left:right] == label
        seen.add(label)
        assert 16 <= max(bottom - top, right - left) <= 32
        if label == SQUARE:
            assert region.all() and bottom - top == right - left
        elif label == DISC:
            assert not region[0, 0] and not region[-1, -1] and region[region.shape[0] // 2].all()
        elif label == TRIANGLE:
            widths = region.sum(axis=1)
            assert np.all(np.diff(widths) >= 0) and widths[0] <= 2 and widths[-1] == region.shape[1]
        else:
            assert region.mean() < 0.8  # a digit's strokes, not its box
    assert seen == {DIGIT, SQUARE, DISC, TRIANGLE}


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 2, "size": 16}, {"n": 2, "max_objects": 0}, {"n": 2.0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="must be an integer"):
        make_segmentation_scenes(**kwargs)


# ---------------------------------------------------------------- a user's folder

def write_folder(root, scenes, names=None):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for k, (image, mask) in enumerate(zip(scenes["images"], scenes["masks"])):
        io.imsave(root / "images" / f"scene{k}.png", np.round(image * 255).astype(np.uint8), check_contrast=False)
        io.imsave(root / "masks" / f"scene{k}.png", mask, check_contrast=False)
    if names:
        (root / "classes.txt").write_text("\n".join(names) + "\n")
    return root


def test_folder_round_trip(tmp_path):
    scenes = make_segmentation_scenes(3, size=32, seed=2)
    loaded = load_segmentation_folder(write_folder(tmp_path / "a", scenes))
    np.testing.assert_allclose(loaded["images"], np.round(scenes["images"] * 255) / 255, atol=1e-6)
    np.testing.assert_array_equal(loaded["masks"], scenes["masks"])
    assert loaded["masks"].dtype == np.uint8 and loaded["images"].dtype == np.float32
    assert loaded["class_names"] == [f"class {k}" for k in range(int(scenes["masks"].max()) + 1)]
    named = load_segmentation_folder(write_folder(tmp_path / "b", scenes, SEGMENTATION_CLASSES), size=48)
    assert named["class_names"] == list(SEGMENTATION_CLASSES)
    assert named["images"].shape == (3, 48, 48, 3) and named["masks"].shape == (3, 48, 48)
    assert set(np.unique(named["masks"])) <= set(np.unique(scenes["masks"]))  # nearest neighbour: no new classes


def test_folder_errors_name_the_problem(tmp_path):
    scenes = make_segmentation_scenes(2, size=32, seed=3)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_segmentation_folder(tmp_path / "nothing")
    root = write_folder(tmp_path / "missing", scenes)
    (root / "masks" / "scene1.png").unlink()
    with pytest.raises(FileNotFoundError, match="scene1.png has no mask"):
        load_segmentation_folder(root)
    root = write_folder(tmp_path / "size", scenes)
    io.imsave(root / "masks" / "scene0.png", np.zeros((16, 32), np.uint8), check_contrast=False)
    with pytest.raises(ValueError, match="scene0.png: mask of height and width"):
        load_segmentation_folder(root)
    root = write_folder(tmp_path / "rgb", scenes)
    io.imsave(root / "masks" / "scene0.png", np.random.default_rng(0).integers(0, 5, (32, 32, 3), dtype=np.uint8),
              check_contrast=False)
    with pytest.raises(ValueError, match="one channel of integer class indices"):
        load_segmentation_folder(root)
    root = write_folder(tmp_path / "names", scenes, ["background", "thing"])
    with pytest.raises(ValueError, match="names only 2 classes"):
        load_segmentation_folder(root)
    root = write_folder(tmp_path / "shapes", scenes)
    io.imsave(root / "images" / "scene0.png", np.zeros((40, 40, 3), np.uint8), check_contrast=False)
    io.imsave(root / "masks" / "scene0.png", np.zeros((40, 40), np.uint8), check_contrast=False)
    with pytest.raises(ValueError, match="pass size="):
        load_segmentation_folder(root)
    assert load_segmentation_folder(root, size=32)["images"].shape == (2, 32, 32, 3)
    root = write_folder(tmp_path / "orphan", scenes)
    io.imsave(root / "masks" / "extra.png", np.zeros((32, 32), np.uint8), check_contrast=False)
    with pytest.raises(ValueError, match="masks without an image"):
        load_segmentation_folder(root)
