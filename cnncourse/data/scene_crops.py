"""Classification crops cut out of detection scenes: the offline pretraining data of Chapter 3's YOLO backbone.

Real detectors start from a backbone pretrained on a classification task (YOLO's on ImageNet). The course cannot
download ImageNet, but it can make a classification task of its own from the scenes: a square crop centred on each
object, labelled with the object's class, and crops centred away from every object, labelled "background". The crops
keep what makes detection hard (textures, neighbours, overlaps), so features that tell them apart are the features
the detector needs.

Conventions: as cnncourse.data.scenes (images float32 in [0, 1], boxes in pixel corners (x1, y1, x2, y2)).
"""

import numpy as np

from cnncourse.ops.validate import require_int

BACKGROUND = "background"  # crop label 0; an object of scene class c gets crop label c + 1


def scene_crops(scenes, side=48, seed=0, jitter=3, min_distance=12, backgrounds_per_scene=1):
    """Cut one crop per object and background crops from every scene, shuffled.

    An object's crop is centred on its box centre, moved by up to `jitter` pixels in x and y (a detector's cell
    rarely sits exactly on the centre). A background crop is centred on a random pixel farther than `min_distance`
    pixels (in x or in y) from every object's centre; a scene where 20 random pixels all fail gives none. The image
    is mirrored at its border (numpy's "reflect" padding), so crops near the edge keep a natural texture; side / 2
    must be smaller than the scenes' size.

    Args:
        scenes: dict with "images" (N, size, size, 3), "boxes" (list of (k_i, 4) pixel corners), "labels" (list of
            (k_i,) ints) and "class_names", as made by cnncourse.data.scenes.make_scenes.
        side: height and width of a crop in pixels, an even int >= 8.
        seed: seeds the jitter, the background positions and the shuffle.
        jitter: largest shift of an object crop's centre, int >= 0.
        min_distance: background centres are farther than this from every object centre, int >= 0.
        backgrounds_per_scene: background crops tried per scene, int >= 0.
    Returns:
        dict with "images" float32 (n, side, side, 3), "labels" int64 (n,) with 0 = background and c + 1 = the
        scene's class c, "centres" int64 (n, 2) the (x, y) pixel corner each crop is centred on (rows y - side/2 ..
        y + side/2 - 1 of its scene, columns likewise), "scene_index" int64 (n,) the scene it comes from, and
        "class_names" ("background", *scene class names).
    Raises:
        ValueError: bad side, jitter, min_distance or backgrounds_per_scene, or scenes without images.
    """
    side = require_int(side, "side", 8)
    if side % 2:
        raise ValueError(f"side must be even (a crop centred on a pixel corner), got {side}")
    jitter, min_distance = require_int(jitter, "jitter", 0), require_int(min_distance, "min_distance", 0)
    backgrounds_per_scene = require_int(backgrounds_per_scene, "backgrounds_per_scene", 0)
    images = np.asarray(scenes["images"])
    if images.ndim != 4 or not len(images):
        raise ValueError(f"scenes['images'] must be a non-empty (N, size, size, 3) array, got shape {images.shape}")
    if side // 2 >= min(images.shape[1:3]):
        raise ValueError(f"side must be less than twice the scenes' size {images.shape[1:3]}, got {side}")
    rng = np.random.default_rng(seed)
    half = side // 2
    crops, labels, centres_xy, sources = [], [], [], []
    for index, (image, boxes, scene_labels) in enumerate(zip(images, scenes["boxes"], scenes["labels"])):
        padded = np.pad(image, ((half, half), (half, half), (0, 0)), mode="reflect")
        centres = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2]).reshape(-1, 2)
        for (cx, cy), label in zip(centres, scene_labels):
            dx, dy = rng.integers(-jitter, jitter + 1, size=2)
            x, y = _on_image(int(round(cx)) + dx, int(round(cy)) + dy, image.shape)
            crops.append(padded[y:y + side, x:x + side])
            labels.append(int(label) + 1)
            centres_xy.append((x, y))
            sources.append(index)
        for _ in range(backgrounds_per_scene):
            for _try in range(20):
                x, y = rng.integers(0, image.shape[1]), rng.integers(0, image.shape[0])
                if np.all((np.abs(centres[:, 0] - x) > min_distance) | (np.abs(centres[:, 1] - y) > min_distance)):
                    crops.append(padded[y:y + side, x:x + side])
                    labels.append(0)
                    centres_xy.append((x, y))
                    sources.append(index)
                    break
    order = rng.permutation(len(crops))
    return {"images": np.stack(crops).astype(np.float32)[order], "labels": np.array(labels, dtype=np.int64)[order],
            "centres": np.array(centres_xy, dtype=np.int64).reshape(-1, 2)[order],
            "scene_index": np.array(sources, dtype=np.int64)[order], "class_names": [BACKGROUND, *scenes["class_names"]]}


def _on_image(x, y, shape):
    """Clip a crop centre (x, y), a pixel corner, to the image of shape (H, W, 3): 0 <= x <= W, 0 <= y <= H."""
    return int(np.clip(x, 0, shape[1])), int(np.clip(y, 0, shape[0]))
