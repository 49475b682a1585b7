"""Synthetic faces with identities (cnncourse.data.faces): deterministic, identities stable, images varied; the
loader of a user's own person/image folder."""

import numpy as np
import pytest
from skimage import io

from cnncourse.data.faces import identity_traits, load_face_folder, make_faces
from cnncourse.data.landmarks import LANDMARK_NAMES


def test_faces_have_the_documented_keys_shapes_and_ranges():
    data = make_faces(3, 2, size=32, seed=0, first_identity=5)
    assert data["images"].shape == (6, 32, 32, 3) and data["images"].dtype == np.float32
    assert 0.0 <= data["images"].min() and data["images"].max() <= 1.0
    assert data["identities"].dtype == np.int64 and data["identities"].tolist() == [5, 5, 6, 6, 7, 7]
    assert data["points"].shape == (6, 5, 2) and data["points"].dtype == np.float32
    assert np.all((data["points"] >= 0) & (data["points"] <= 32))
    assert data["names"] == LANDMARK_NAMES


def test_same_seed_same_bytes_and_other_seed_other_faces():
    a, b = make_faces(2, 2, size=32, seed=3), make_faces(2, 2, size=32, seed=3)
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["points"], b["points"])
    assert not np.array_equal(a["images"], make_faces(2, 2, size=32, seed=4)["images"])


def test_identity_looks_the_same_whichever_set_it_is_drawn_in():
    alone = make_faces(1, 3, size=32, seed=1, first_identity=7)
    among = make_faces(4, 3, size=32, seed=1, first_identity=5)
    assert np.array_equal(alone["images"], among["images"][among["identities"] == 7])
    first, again = identity_traits(7, seed=1), identity_traits(7, seed=1)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    other = identity_traits(8, seed=1)
    assert any(not np.array_equal(first[k], other[k]) for k in first)


def test_images_of_one_identity_differ():
    images = make_faces(1, 4, size=32, seed=0)["images"]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.mean(np.abs(images[i] - images[j])) > 0.02


def test_bad_arguments_are_refused():
    for kwargs in ({"n_identities": 0, "per_identity": 1}, {"n_identities": 1, "per_identity": 1, "size": 8},
                   {"n_identities": 1, "per_identity": 1, "first_identity": -1}):
        with pytest.raises(ValueError):
            make_faces(**kwargs)


def test_face_folder_round_trip(tmp_path):
    data = make_faces(2, 2, size=32, seed=0)
    for image, person in zip(data["images"], ["zoe", "zoe", "adam", "adam"]):
        (tmp_path / person).mkdir(exist_ok=True)
        count = len(list((tmp_path / person).iterdir()))
        io.imsave(tmp_path / person / f"{count}.png", (image * 255).round().astype(np.uint8), check_contrast=False)
    (tmp_path / "adam" / "notes.txt").write_text("not an image")
    loaded = load_face_folder(tmp_path, size=32)
    assert loaded["people"] == ["adam", "zoe"]
    assert loaded["identities"].tolist() == [0, 0, 1, 1]
    assert loaded["images"].shape == (4, 32, 32, 3) and loaded["images"].dtype == np.float32
    assert np.abs(loaded["images"][2:] - data["images"][:2]).max() < 0.01  # zoe's images, back
    assert np.isnan(loaded["points"]).all() and loaded["points"].shape == (4, 5, 2)


def test_bad_face_folders_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="<person>"):
        load_face_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no sub-folders"):
        load_face_folder(tmp_path)
    (tmp_path / "nobody").mkdir()
    with pytest.raises(ValueError, match="no face images"):
        load_face_folder(tmp_path)
