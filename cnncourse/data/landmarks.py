"""Cartoon faces with known landmarks for Chapter 3's landmark detection, generated offline.

Each face is drawn in a canonical frame (head height 1, centre at the origin, x right, y down) and mapped to
the image by one transform: a slight left/right squash, an in-plane rotation and a scale and shift. The five
landmarks are the canonical points the drawing uses (eye centres, nose tip, mouth corners) mapped by that same
transform, so they are exact, not annotated by hand.

Conventions (those of cnncourse.data.scenes):
    images: float32 (n, size, size, 3) in [0, 1]; rows are y (down), columns are x (right).
    points: float32 (n, 5, 2) continuous PIXEL coordinates (x, y): pixel (row r, column c) covers
            c <= x < c + 1 and r <= y < r + 1, so its centre is (c + 0.5, r + 0.5) and 0 <= x, y <= size.
    "left" and "right" are as seen in the image (the left eye has the smaller x in an upright face).
Every image is drawn from one numpy Generator seeded by `seed`: the same seed gives byte-identical output.
"""

import numpy as np

from cnncourse.data.scenes import BACKGROUNDS, PLAIN_BACKGROUND, random_background

LANDMARK_NAMES = ("left eye", "right eye", "nose tip", "left mouth corner", "right mouth corner")
FACE_FRACTION = (0.4, 0.8)  # the head's height is this share of the image side
MAX_ROTATION = 25.0  # degrees, either way
SQUASH = (0.85, 1.15)  # the face's width is multiplied by this before rotating
HEAD_HALF_WIDTH, HEAD_HALF_HEIGHT = 0.36, 0.5  # the head ellipse, canonical units
# Radii of the features in canonical units. From size 64 up, even on the smallest, most squashed face, each
# radius exceeds 0.71 pixel, so the pixel a landmark lies in (centre <= 0.71 pixel away) takes its feature's colour.
EYE_RADIUS, PUPIL_RADIUS, NOSE_RADIUS, MOUTH_HALF_THICKNESS = 0.075, 0.04, 0.045, 0.035
MOUTH_COLOUR = (0.5, 0.06, 0.09)
NOISE = (0.0, 0.04)  # standard deviation of the Gaussian pixel noise, drawn per image
_MOUTH_SAMPLES = 17  # points along the mouth curve


def make_landmark_images(n, size=64, seed=0, background="texture"):
    """Draw n cartoon faces and their five landmarks.

    Args:
        n: number of images, int >= 1.
        size: height and width of every image in pixels, int >= 24.
        seed: seed of the generator; the same seed gives byte-identical images and points.
        background: "texture" (a dimmed crop of a skimage.data texture, as in cnncourse.data.scenes) or
            "plain" (uniform gray PLAIN_BACKGROUND).
    Returns:
        dict with
            "images": float32 (n, size, size, 3) in [0, 1];
            "points": float32 (n, 5, 2), pixel (x, y) of each landmark, in the order of "names";
            "names": LANDMARK_NAMES, ("left eye", "right eye", "nose tip", "left mouth corner",
                "right mouth corner").
    Raises:
        ValueError: n or size not an integer in range, or an unknown background.
    """
    for name, value, low in (("n", n, 1), ("size", size, 24)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    rng = np.random.default_rng(seed)
    images, points = np.empty((n, size, size, 3), np.float32), np.empty((n, len(LANDMARK_NAMES), 2), np.float32)
    for i in range(n):
        images[i], points[i] = _make_face(rng, int(size), background)
    return {"images": images, "points": points, "names": LANDMARK_NAMES}


def _make_face(rng, size, background):
    """One image float64 (size, size, 3) and its landmarks float64 (5, 2) in pixels."""
    image = random_background(rng, size) if background == "texture" else np.full((size, size, 3), PLAIN_BACKGROUND)
    face = _random_face(rng)
    forward, inverse = random_face_transform(rng, size)
    u, v = inverse(*np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5))  # canonical coords of pixel centres
    skin = skin_colour(rng)
    layers = [  # (mask, colour), painted in order
        ((u / HEAD_HALF_WIDTH) ** 2 + (v / HEAD_HALF_HEIGHT) ** 2 <= 1, skin),
        (near_points_mask(u, v, face["mouth"], MOUTH_HALF_THICKNESS), np.array(MOUTH_COLOUR)),
        (near_points_mask(u, v, face["nose"], NOSE_RADIUS), 0.6 * skin),
    ]
    for eye in face["eyes"]:
        layers += [(near_points_mask(u, v, eye, EYE_RADIUS), np.ones(3)), (near_points_mask(u, v, eye, PUPIL_RADIUS), np.full(3, 0.05))]
    for mask, colour in layers:
        image[mask] = colour
    image = image + rng.normal(0.0, rng.uniform(*NOISE), size=image.shape)
    canonical = np.stack([face["eyes"][0], face["eyes"][1], face["nose"][0], face["mouth"][0], face["mouth"][-1]])
    return np.clip(image, 0.0, 1.0), np.stack(forward(canonical[:, 0], canonical[:, 1]), axis=-1)


def _random_face(rng):
    """Canonical geometry: "eyes" (2, 2) centres, "nose" (1, 2) tip, "mouth" (_MOUTH_SAMPLES, 2) left to right."""
    eye_dx, eye_y = rng.uniform(0.12, 0.18), rng.uniform(-0.16, -0.08)
    nose_y = rng.uniform(0.04, 0.12)
    mouth_dx, mouth_y, smile = rng.uniform(0.11, 0.18), rng.uniform(0.24, 0.30), rng.uniform(-0.03, 0.06)
    t = np.linspace(-1.0, 1.0, _MOUTH_SAMPLES)
    mouth = np.stack([mouth_dx * t, mouth_y + smile * (1 - t ** 2)], axis=-1)  # a parabola through both corners
    return {"eyes": np.array([[-eye_dx, eye_y], [eye_dx, eye_y]]), "nose": np.array([[0.0, nose_y]]), "mouth": mouth}


def random_face_transform(rng, size):
    """forward(u, v) -> (x, y) pixels and its inverse, for a random squash, rotation, scale and position.

    The position keeps the whole (rotated) head ellipse inside the image.
    """
    scale = rng.uniform(*FACE_FRACTION) * size  # pixels per canonical unit: the head is `scale` pixels tall
    squash = rng.uniform(*SQUASH)
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = HEAD_HALF_WIDTH * squash * scale, HEAD_HALF_HEIGHT * scale  # the head's half-axes in pixels
    half_x, half_y = np.hypot(a * cos, b * sin), np.hypot(a * sin, b * cos)  # half-extents of the rotated ellipse
    cx, cy = rng.uniform(half_x, size - half_x), rng.uniform(half_y, size - half_y)

    def forward(u, v):
        su, sv = u * squash * scale, v * scale
        return cx + cos * su - sin * sv, cy + sin * su + cos * sv

    def inverse(x, y):
        dx, dy = x - cx, y - cy
        return (cos * dx + sin * dy) / (squash * scale), (-sin * dx + cos * dy) / scale

    return forward, inverse


def near_points_mask(u, v, points, radius):
    """Mask of the pixels whose canonical (u, v) lies within `radius` of any of `points` (k, 2) or (2,)."""
    points = np.reshape(points, (-1, 2))
    distance2 = (u[..., None] - points[:, 0]) ** 2 + (v[..., None] - points[:, 1]) ** 2
    return np.min(distance2, axis=-1) <= radius ** 2


def skin_colour(rng):
    """An RGB skin-like colour (3,): warm hue, moderate saturation, from dark to light."""
    from skimage import color

    hsv = np.array([[[rng.uniform(0.03, 0.1), rng.uniform(0.25, 0.6), rng.uniform(0.55, 1.0)]]])
    return color.hsv2rgb(hsv)[0, 0]
