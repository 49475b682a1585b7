"""Pretraining crops cut out of detection scenes (cnncourse.data.scene_crops), against a crop-by-index oracle."""

import numpy as np
import pytest

from cnncourse.data.scene_crops import scene_crops
from cnncourse.data.scenes import make_scenes


def mirrored(index, size):
    """numpy's 'reflect' padding, one index at a time: -1 -> 1, size -> size - 2."""
    if index < 0:
        return -index
    if index >= size:
        return 2 * (size - 1) - index
    return index


def oracle_crop(image, x, y, side):
    """The crop centred on pixel corner (x, y), pixel by pixel, mirrored at the image's border."""
    size = image.shape[0]
    rows = [mirrored(r, size) for r in range(y - side // 2, y + side // 2)]
    cols = [mirrored(c, size) for c in range(x - side // 2, x + side // 2)]
    return image[np.ix_(rows, cols)]


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(12, size=64, seed=3)


def test_every_crop_is_the_scene_at_its_centre(scenes):
    crops = scene_crops(scenes, side=32, seed=1)
    for crop, (x, y), index in zip(crops["images"], crops["centres"], crops["scene_index"]):
        np.testing.assert_array_equal(crop, oracle_crop(scenes["images"][index], x, y, 32))
    assert crops["images"].shape[1:] == (32, 32, 3) and crops["images"].dtype == np.float32


def test_one_crop_per_object_near_its_centre_and_backgrounds_away_from_every_object(scenes):
    jitter, min_distance = 3, 12
    crops = scene_crops(scenes, side=32, seed=1, jitter=jitter, min_distance=min_distance)
    assert crops["class_names"] == ["background", *scenes["class_names"]]
    for index, (boxes, labels) in enumerate(zip(scenes["boxes"], scenes["labels"])):
        mine = crops["scene_index"] == index
        centres = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2])
        objects = mine & (crops["labels"] > 0)
        assert sorted(crops["labels"][objects] - 1) == sorted(labels)  # every object once, with its class
        for (x, y), label in zip(crops["centres"][objects], crops["labels"][objects]):
            distance = np.max(np.abs(centres[labels == label - 1] - (x, y)), axis=1)
            assert distance.min() <= jitter + 0.5  # rounding the centre adds at most half a pixel
        for x, y in crops["centres"][mine & (crops["labels"] == 0)]:
            assert np.all(np.max(np.abs(centres - (x, y)), axis=1) > min_distance)
    assert np.sum(crops["labels"] == 0) >= 6  # most 64x64 scenes have room for a background crop


def test_no_jitter_centres_on_the_rounded_box_centre_and_the_seed_repeats(scenes):
    crops = scene_crops(scenes, side=16, seed=5, jitter=0, backgrounds_per_scene=0)
    boxes = np.concatenate(scenes["boxes"])
    expected = sorted(map(tuple, np.round(np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2,
                                                           (boxes[:, 1] + boxes[:, 3]) / 2])).astype(int)))
    assert sorted(map(tuple, crops["centres"])) == expected
    again = scene_crops(scenes, side=16, seed=5, jitter=0, backgrounds_per_scene=0)
    np.testing.assert_array_equal(crops["images"], again["images"])
    np.testing.assert_array_equal(crops["labels"], again["labels"])


@pytest.mark.parametrize("kwargs, words", [({"side": 15}, "even"), ({"side": 4}, "side"), ({"side": 130}, "twice"),
                                           ({"jitter": -1}, "jitter"), ({"backgrounds_per_scene": -2}, "backgrounds")])
def test_bad_arguments_raise_clear_errors(scenes, kwargs, words):
    with pytest.raises(ValueError, match=words):
        scene_crops(scenes, **kwargs)
