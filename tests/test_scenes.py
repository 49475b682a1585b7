"""Chapter 3 data: detection scenes are deterministic, well-formed and hard enough; user labels load."""

import json

import numpy as np
import pytest
from skimage import io

from cnncourse.data.annotations import load_coco_json, load_voc_folder
from cnncourse.data.scenes import CLASS_NAMES, PLAIN_BACKGROUND, make_scenes, scene_statistics


def changed_pixels(image):
    """Mask (H, W) of the pixels that differ from the plain background."""
    return np.any(np.abs(image - PLAIN_BACKGROUND) > 0.05, axis=-1)


def bounding_box(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]


# ---------------------------------------------------------------- scenes

def test_same_seed_gives_identical_scenes_and_another_seed_differs():
    a, b, c = make_scenes(4, seed=3), make_scenes(4, seed=3), make_scenes(4, seed=4)
    assert a["images"].tobytes() == b["images"].tobytes()
    assert all(np.array_equal(x, y) for x, y in zip(a["boxes"], b["boxes"]))
    assert all(np.array_equal(x, y) for x, y in zip(a["labels"], b["labels"]))
    assert not np.array_equal(a["images"], c["images"])


def test_shapes_dtypes_ranges_and_boxes_inside_the_image():
    size, max_objects = 64, 3
    scenes = make_scenes(12, size=size, seed=1, max_objects=max_objects)
    images = scenes["images"]
    assert images.shape == (12, size, size, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert scenes["class_names"] == list(CLASS_NAMES)
    assert len(scenes["boxes"]) == len(scenes["labels"]) == 12
    for boxes, labels in zip(scenes["boxes"], scenes["labels"]):
        assert boxes.dtype == np.float32 and labels.dtype == np.int64
        assert boxes.shape == (len(labels), 4) and 1 <= len(labels) <= max_objects
        x1, y1, x2, y2 = boxes.T
        assert np.all((0 <= x1) & (x2 <= size) & (0 <= y1) & (y2 <= size))
        assert np.all((x2 > x1) & (y2 > y1))
        assert np.all(np.maximum(x2 - x1, y2 - y1) <= round(40 * size / 96))
        assert np.all((0 <= labels) & (labels < len(CLASS_NAMES)))


def test_a_lone_object_changes_exactly_the_pixels_of_its_tight_box():
    # On a plain background the changed pixels of a one-object scene span its box exactly: for a digit this
    # means the box hugs the ink, not the 28 x 28 frame.
    scenes = make_scenes(30, seed=2, max_objects=1, background="plain")
    assert {int(label) for labels in scenes["labels"] for label in labels} == {0, 1, 2}
    for image, boxes in zip(scenes["images"], scenes["boxes"]):
        assert bounding_box(changed_pixels(image)) == boxes[0].tolist()


def test_squares_fill_their_box_and_discs_leave_its_corners_empty():
    squares = make_scenes(5, seed=5, classes=("square",), max_objects=1, background="plain")
    for image, (box,) in zip(squares["images"], squares["boxes"]):
        x1, y1, x2, y2 = box.astype(int)
        inside = image[y1:y2, x1:x2].reshape(-1, 3)
        assert np.all(inside == inside[0]) and np.any(np.abs(inside[0] - PLAIN_BACKGROUND) > 0.3)
    discs = make_scenes(5, seed=5, classes=("disc",), max_objects=1, background="plain")
    for image, (box,) in zip(discs["images"], discs["boxes"]):
        x1, y1, x2, y2 = box.astype(int)
        drawn = changed_pixels(image)
        assert not drawn[[y1, y1, y2 - 1, y2 - 1], [x1, x2 - 1, x1, x2 - 1]].any()
        assert drawn[(y1 + y2) // 2, (x1 + x2) // 2]


def test_every_drawn_object_is_labelled():
    scenes = make_scenes(30, seed=6, background="plain")
    for image, boxes in zip(scenes["images"], scenes["boxes"]):
        covered = np.zeros(image.shape[:2], dtype=bool)
        for x1, y1, x2, y2 in boxes.astype(int):
            covered[y1:y2, x1:x2] = True
            assert changed_pixels(image)[y1:y2, x1:x2].any()
        assert not (changed_pixels(image) & ~covered).any()


def test_a_subset_of_classes_is_labelled_in_the_order_given():
    scenes = make_scenes(10, seed=7, classes=("disc", "square"))
    assert scenes["class_names"] == ["disc", "square"]
    assert set(np.concatenate(scenes["labels"]).tolist()) <= {0, 1}


def test_fifty_scenes_hold_all_classes_overlaps_and_shared_grid_cells():
    scenes = make_scenes(50, seed=0)
    stats = scene_statistics(scenes, grid=3)
    assert stats["images"] == 50
    assert stats["objects"] == sum(len(labels) for labels in scenes["labels"])
    assert sorted(stats["objects_per_class"]) == sorted(CLASS_NAMES)
    assert all(count > 0 for count in stats["objects_per_class"].values())
    assert stats["overlapping_pairs"] > 0
    assert stats["moderate_overlap_pairs"] > 0
    assert stats["same_cell_pairs"] > 0


def test_scene_statistics_counts_hand_made_boxes():
    # In a 96 x 96 image: boxes A and B overlap with IoU 50 / 150 = 1/3 and both centres lie in the top-left
    # cell of a 3 x 3 grid (32 px cells); C touches neither and sits in the bottom-right cell.
    scenes = {"images": np.zeros((1, 96, 96, 3)), "class_names": ["a", "b"],
              "boxes": [np.array([[0, 0, 10, 10], [5, 0, 15, 10], [80, 80, 90, 90]], dtype=float)],
              "labels": [np.array([0, 0, 1])]}
    stats = scene_statistics(scenes, grid=3)
    assert stats["objects_per_class"] == {"a": 2, "b": 1}
    assert stats["overlapping_pairs"] == 1 and stats["moderate_overlap_pairs"] == 1
    assert stats["same_cell_pairs"] == 1
    assert scene_statistics(scenes, grid=1)["same_cell_pairs"] == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n must"), ({"n": 2, "size": 16}, "size must"), ({"n": 2, "max_objects": 0}, "max_objects"),
    ({"n": 2, "classes": ("triangle",)}, "triangle"), ({"n": 2, "classes": ("disc", "disc")}, "repeat"),
    ({"n": 2, "background": "stars"}, "background"),
])
def test_bad_arguments_are_refused_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_scenes(**kwargs)


# ---------------------------------------------------------------- user annotations

# image name -> [(class name, x1, y1, x2, y2)]; both images are 40 high and 60 wide.
LABELS = {"a.png": [("cat", 5, 6, 20, 30), ("dog", 30, 10, 50, 35)], "b.png": [("ant", 0, 0, 10, 10)]}
EXPECTED_NAMES = ["ant", "cat", "dog"]


def write_images(folder):
    rng = np.random.default_rng(0)
    io.imsave(folder / "a.png", (rng.random((40, 60, 3)) * 255).astype(np.uint8), check_contrast=False)
    io.imsave(folder / "b.png", (rng.random((40, 60)) * 255).astype(np.uint8), check_contrast=False)


def voc_xml(filename, objects):
    body = "".join(f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
                   f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for name, x1, y1, x2, y2 in objects)
    return f"<annotation><filename>{filename}</filename>{body}</annotation>"


def write_voc(folder):
    write_images(folder)
    for filename, objects in LABELS.items():
        (folder / filename.replace(".png", ".xml")).write_text(voc_xml(filename, objects))


def write_coco(folder):
    write_images(folder)
    categories = [{"id": 7, "name": "dog"}, {"id": 8, "name": "cat"}, {"id": 9, "name": "ant"}]
    ids = {c["name"]: c["id"] for c in categories}
    images = [{"id": k + 1, "file_name": name} for k, name in enumerate(LABELS)]
    annotations = [{"id": len(images) * 10 + j, "image_id": k + 1, "category_id": ids[name],
                    "bbox": [x1, y1, x2 - x1, y2 - y1]}
                   for k, objects in enumerate(LABELS.values()) for j, (name, x1, y1, x2, y2) in enumerate(objects)]
    path = folder / "labels.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def check_loaded(data, scale_x=1.0, scale_y=1.0):
    assert data["class_names"] == EXPECTED_NAMES
    for boxes, labels, objects in zip(data["boxes"], data["labels"], LABELS.values()):
        assert [data["class_names"][k] for k in labels] == [name for name, *_ in objects]
        expected = np.array([box for _, *box in objects], dtype=float) * [scale_x, scale_y, scale_x, scale_y]
        np.testing.assert_allclose(boxes, expected, rtol=1e-6)
    assert data["images"].dtype == np.float32 and 0 <= data["images"].min() and data["images"].max() <= 1
    gray = data["images"][1]
    assert np.array_equal(gray[..., 0], gray[..., 2])  # the gray picture is repeated on R, G and B


def test_voc_folder_loads_boxes_labels_and_scales_them_when_resized(tmp_path):
    write_voc(tmp_path)
    data = load_voc_folder(tmp_path)
    assert data["images"].shape == (2, 40, 60, 3)
    check_loaded(data)
    small = load_voc_folder(tmp_path, size=20)
    assert small["images"].shape == (2, 20, 20, 3)
    check_loaded(small, scale_x=20 / 60, scale_y=20 / 40)
    assert scene_statistics(small)["objects_per_class"] == {"ant": 1, "cat": 1, "dog": 1}


def test_coco_json_loads_the_same_labels_as_voc(tmp_path):
    path = write_coco(tmp_path)
    check_loaded(load_coco_json(path, tmp_path))
    small = load_coco_json(path, tmp_path, size=30)
    assert small["images"].shape == (2, 30, 30, 3)
    check_loaded(small, scale_x=30 / 60, scale_y=30 / 40)


def test_bad_voc_folders_are_refused_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_voc_folder(tmp_path / "missing")
    write_voc(tmp_path)
    (tmp_path / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match="b.png"):
        load_voc_folder(tmp_path)
    write_voc(tmp_path)
    (tmp_path / "c.xml").write_text("<annotation><filename>a.png</filename>"
                                    "<object><name>cat</name></object></annotation>")
    with pytest.raises(ValueError, match="c.xml.*bndbox"):
        load_voc_folder(tmp_path)
    (tmp_path / "c.xml").write_text(voc_xml("a.png", [("cat", 20, 5, 20, 30)]))
    with pytest.raises(ValueError, match="c.xml.*xmax > xmin"):
        load_voc_folder(tmp_path)


def test_bad_coco_files_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="labels.json"):
        load_coco_json(tmp_path / "labels.json", tmp_path)
    path = write_coco(tmp_path)
    (tmp_path / "a.png").unlink()
    with pytest.raises(FileNotFoundError, match="a.png"):
        load_coco_json(path, tmp_path)
    write_images(tmp_path)
    data = json.loads(path.read_text())
    data["annotations"][0]["bbox"][2] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="xmax > xmin"):
        load_coco_json(path, tmp_path)
