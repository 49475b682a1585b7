"""A user's own labelled images: loaded, resized and labelled by sub-folder; bad folders get clear errors."""

import numpy as np
import pytest
from skimage import io

from cnncourse.data.folders import load_labelled_folder


def write_images(root, layout):
    rng = np.random.default_rng(0)
    for name, count in layout.items():
        (root / name).mkdir(parents=True)
        for k in range(count):
            io.imsave(root / name / f"{k}.png", (rng.random((40, 30, 3)) * 255).astype(np.uint8), check_contrast=False)


def test_folder_of_classes_is_loaded_with_labels_in_sorted_order(tmp_path):
    write_images(tmp_path, {"zebra": 2, "ant": 3})
    (tmp_path / "ant" / "notes.txt").write_text("not an image")
    x, y, names = load_labelled_folder(tmp_path, size=16, gray=True)
    assert names == ["ant", "zebra"]
    assert x.shape == (5, 16, 16, 1) and x.dtype == np.float32
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1]
    assert 0.0 <= x.min() and x.max() <= 1.0
    x_rgb, _, _ = load_labelled_folder(tmp_path, size=8, gray=False)
    assert x_rgb.shape == (5, 8, 8, 3)


def test_bad_folders_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="<class name>"):
        load_labelled_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no sub-folders"):
        load_labelled_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no images"):
        load_labelled_folder(tmp_path)
