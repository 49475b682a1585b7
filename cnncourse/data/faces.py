"""Synthetic faces with identities for Chapter 5's face recognition, generated offline, and a user's own folder.

Each identity has fixed traits: face shape (width, jaw), skin tone, eye spacing, height, size and iris colour,
nose length and width, mouth width, height and lip colour, brows and hair (colour, hairline, style). Each image of
an identity varies in pose (scale, squash, rotation, position: the transform of cnncourse.data.landmarks),
lighting (gain, colour cast, a shading gradient), expression (smile, eye opening, brow raise), background, noise
and accessories (glasses, a hat). The five landmarks are those of cnncourse.data.landmarks, in its conventions
(pixel (x, y), LANDMARK_NAMES order).

Traits are drawn from a generator seeded by (seed, identity id) only, and image j of identity k from one seeded
by (seed, identity id, j): identity k looks the same, and its j-th image is the same, whichever set it is drawn in.
"""

from pathlib import Path

import numpy as np

from cnncourse.data.folders import IMAGE_SUFFIXES, load_labelled_folder
from cnncourse.data.landmarks import HEAD_HALF_HEIGHT, LANDMARK_NAMES, near_points_mask, random_face_transform, skin_colour
from cnncourse.data.scenes import random_background
from cnncourse.ops.validate import require_int

HAIR_COLOURS = np.array([[0.08, 0.06, 0.05], [0.3, 0.18, 0.08], [0.55, 0.35, 0.15], [0.85, 0.7, 0.4],
                         [0.6, 0.2, 0.08], [0.6, 0.6, 0.6]])  # black, brown, light brown, blond, red, gray
IRIS_COLOURS = np.array([[0.3, 0.18, 0.08], [0.2, 0.4, 0.75], [0.25, 0.55, 0.3], [0.45, 0.45, 0.5]])
P_GLASSES, P_HAT, P_TEXTURE = 0.25, 0.15, 0.8  # per image
_CURVE = np.linspace(-1.0, 1.0, 17)


def make_faces(n_identities, per_identity, size=64, seed=0, first_identity=0):
    """Draw per_identity images of each of n_identities synthetic people, with their five landmarks.

    Args:
        n_identities: number of people, int >= 1.
        per_identity: images per person, int >= 1.
        size: height and width of every image in pixels, int >= 24.
        seed: int >= 0; the same seed gives byte-identical output.
        first_identity: id of the first person, int >= 0; the people are first_identity .. first_identity +
            n_identities - 1 (held-out people are simply other ids).
    Returns:
        dict with
            "images": float32 (N, size, size, 3) in [0, 1], N = n_identities * per_identity, person by person;
            "identities": int64 (N,), the id of each image's person;
            "points": float32 (N, 5, 2), pixel (x, y) of each landmark, in the order of "names";
            "names": LANDMARK_NAMES.
    """
    n_identities = require_int(n_identities, "n_identities", 1)
    per_identity = require_int(per_identity, "per_identity", 1)
    size, seed = require_int(size, "size", 24), require_int(seed, "seed", 0)
    first_identity = require_int(first_identity, "first_identity", 0)
    n = n_identities * per_identity
    images, points = np.empty((n, size, size, 3), np.float32), np.empty((n, len(LANDMARK_NAMES), 2), np.float32)
    ids = np.repeat(np.arange(first_identity, first_identity + n_identities, dtype=np.int64), per_identity)
    for i, (k, j) in enumerate(zip(ids, np.tile(np.arange(per_identity), n_identities))):
        traits = identity_traits(int(k), seed)
        images[i], points[i] = _draw(traits, np.random.default_rng([seed, int(k), 1, int(j)]), size)
    return {"images": images, "identities": ids, "points": points, "names": LANDMARK_NAMES}


def identity_traits(identity, seed=0):
    """The fixed traits of one person (a dict of floats and arrays, canonical units), from (seed, identity) only."""
    rng = np.random.default_rng([require_int(seed, "seed", 0), require_int(identity, "identity", 0), 0])
    hair = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] * rng.uniform(0.8, 1.15)
    return {
        "width": rng.uniform(0.29, 0.42), "jaw": rng.uniform(0.0, 0.35), "skin": skin_colour(rng),
        "eye_dx": rng.uniform(0.11, 0.19), "eye_y": rng.uniform(-0.16, -0.06), "eye_r": rng.uniform(0.05, 0.085),
        "iris": IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))] * rng.uniform(0.7, 1.2),
        "nose_y": rng.uniform(0.04, 0.13), "nose_len": rng.uniform(0.04, 0.14), "nose_r": rng.uniform(0.03, 0.055),
        "mouth_dx": rng.uniform(0.1, 0.19), "mouth_y": rng.uniform(0.23, 0.31), "smile": rng.uniform(-0.02, 0.04),
        "lips": np.array([rng.uniform(0.4, 0.75), rng.uniform(0.05, 0.2), rng.uniform(0.08, 0.2)]),
        "lip_t": rng.uniform(0.022, 0.045), "brow_gap": rng.uniform(0.06, 0.11), "brow_t": rng.uniform(0.012, 0.035),
        "brow_tilt": rng.uniform(-0.04, 0.04), "hair": np.clip(hair, 0, 1), "hairline": rng.uniform(-0.33, -0.15),
        "hair_style": int(rng.choice(3, p=[0.55, 0.3, 0.15])),  # 0 short, 1 long (down the sides), 2 bald
    }


def _draw(t, rng, size):
    """One image float64 (size, size, 3) of the person with traits t, and its landmarks (5, 2) in pixels."""
    image = random_background(rng, size) if rng.random() < P_TEXTURE else np.full((size, size, 3), rng.uniform(0.15, 0.6))
    forward, inverse = random_face_transform(rng, size)
    u, v = inverse(*np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5))
    smile, opening, raise_ = t["smile"] + rng.uniform(-0.03, 0.05), rng.uniform(0.45, 1.0), rng.uniform(-0.015, 0.03)
    skin = np.clip(t["skin"] * rng.uniform(0.95, 1.05, 3), 0, 1)
    half_width = t["width"] * (1 - t["jaw"] * np.clip(v / HEAD_HALF_HEIGHT, 0, 1))
    head = (u / half_width) ** 2 + (v / HEAD_HALF_HEIGHT) ** 2 <= 1
    big = (u / (t["width"] * 1.12)) ** 2 + (v / (HEAD_HALF_HEIGHT * 1.06)) ** 2 <= 1
    eyes = np.array([[-t["eye_dx"], t["eye_y"]], [t["eye_dx"], t["eye_y"]]])
    mouth = np.stack([t["mouth_dx"] * _CURVE, t["mouth_y"] + smile * (1 - _CURVE ** 2)], axis=-1)
    nose = np.stack([np.zeros(5), t["nose_y"] - t["nose_len"] * np.linspace(1, 0, 5)], axis=-1)
    layers = []  # (mask, colour), painted in order
    if t["hair_style"] == 1:
        layers.append((big & (v < 0.2) & (np.abs(u) > 0.75 * t["width"]), t["hair"]))
    layers += [(head, skin), (near_points_mask(u, v, nose, t["nose_r"]), 0.65 * skin),
               (near_points_mask(u, v, mouth, t["lip_t"]), t["lips"])]
    if t["hair_style"] != 2:
        layers.append((big & (v < t["hairline"] + 0.03 * np.sin(9 * u)), t["hair"]))
    for side, eye in zip((-1, 1), eyes):
        du, dv = u - eye[0], (v - eye[1]) / opening
        ring = du ** 2 + dv ** 2
        brow = eye + [0, -t["brow_gap"] - raise_] + np.stack([0.09 * _CURVE, side * t["brow_tilt"] * _CURVE], -1)
        layers += [(ring <= t["eye_r"] ** 2, np.full(3, 0.95)), (ring <= (0.6 * t["eye_r"]) ** 2, t["iris"]),
                   (ring <= (0.3 * t["eye_r"]) ** 2, np.full(3, 0.03)),
                   (near_points_mask(u, v, brow, t["brow_t"]), 0.6 * t["hair"])]
    if rng.random() < P_GLASSES:  # rims around both eyes and a bridge; the eye centres stay visible
        frame = np.clip(rng.uniform(0, 0.5, 3), 0, 1)
        radius = 1.7 * t["eye_r"]
        for eye in eyes:
            d = np.sqrt((u - eye[0]) ** 2 + (v - eye[1]) ** 2)
            layers.append((np.abs(d - radius) <= 0.012, frame))
        bridge = np.stack([(t["eye_dx"] - radius) * _CURVE, np.full(17, t["eye_y"])], -1)
        layers.append((near_points_mask(u, v, bridge, 0.012), frame))
    if rng.random() < P_HAT:
        layers.append((big & (v < t["eye_y"] - t["brow_gap"] - 0.08), rng.uniform(0.1, 0.9, 3)))
    for mask, colour in layers:
        image[mask] = colour
    direction = rng.normal(size=2)
    shading = 1 + rng.uniform(0, 0.3) * (direction[0] * u + direction[1] * v) / np.linalg.norm(direction)
    image = image * shading[..., None] * rng.uniform(0.75, 1.2) * rng.uniform(0.9, 1.1, 3)
    image = image + rng.normal(0.0, rng.uniform(0.0, 0.05), size=image.shape)
    canonical = np.stack([eyes[0], eyes[1], nose[-1], mouth[0], mouth[-1]])
    return np.clip(image, 0.0, 1.0), np.stack(forward(canonical[:, 0], canonical[:, 1]), axis=-1)


def load_face_folder(folder, size=64):
    """Load a user's own faces laid out as <folder>/<person>/<image file>, as RGB size x size.

    Args:
        folder: path of a folder with one sub-folder of images per person.
        size: output height and width in pixels, int >= 8.
    Returns:
        dict with "images" float32 (N, size, size, 3) in [0, 1]; "identities" int64 (N,), an index into "people";
        "people": the sorted sub-folder names; "points": float32 (N, 5, 2), all NaN (unknown); "names":
        LANDMARK_NAMES.
    Raises:
        FileNotFoundError: folder missing. ValueError: no person sub-folders, or no images in them.
    """
    size, folder = require_int(size, "size", 8), Path(folder)
    layout = f"expected <folder>/<person>/<image files> ({', '.join(sorted(IMAGE_SUFFIXES))})"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; {layout}")
    if not any(p.is_dir() for p in folder.iterdir()):
        raise ValueError(f"{folder} has no sub-folders; {layout}")
    try:
        images, identities, people = load_labelled_folder(folder, size=size, gray=False)
    except ValueError as err:
        raise ValueError(f"{folder} holds no face images; {layout}") from err
    points = np.full((len(images), len(LANDMARK_NAMES), 2), np.nan, np.float32)
    return {"images": np.clip(images, 0, 1).astype(np.float32), "identities": identities, "people": people,
            "points": points, "names": LANDMARK_NAMES}
