"""Segmentation scenes for Chapter 4: digits, squares, discs and triangles on real textures, with a class per pixel.

Drawn with the helpers of cnncourse.data.scenes (MNIST digits, skimage textures, bright colours), but from a
generator of its own, so Chapter 3's make_scenes is untouched. The same seed always gives byte-identical images
and masks.

Conventions:
    images: float32 (N, H, W, 3) in [0, 1], rows are y (down), columns are x (right).
    masks:  uint8 (N, H, W), the class index of every pixel: 0 is the background, k indexes class_names.
A pixel belongs to an object where the object's opacity is above INK_THRESHOLD (the rule of make_scenes' boxes);
objects are drawn in order and a later object wins the pixels it covers, in the image and in the mask alike.
"""

from pathlib import Path

import numpy as np

from cnncourse.data.folders import IMAGE_SUFFIXES
from cnncourse.data.scenes import INK_THRESHOLD, random_background, bright_colour, object_alpha

SEGMENTATION_CLASSES = ("background", "digit", "square", "disc", "triangle")


def make_segmentation_scenes(n, size=64, seed=0, max_objects=4):
    """Draw n scenes of 1 .. max_objects objects on a texture, with their per-pixel class masks.

    Objects are 16 to 32 pixels wide at size=64 (scaled with size), of a random class, colour and position;
    they may overlap (the later one is on top). Colours say nothing about the class: only shapes do.

    Args:
        n: number of scenes, int >= 1.
        size: height and width in pixels, int >= 32.
        seed: seed of the generator; the same seed gives byte-identical scenes.
        max_objects: most objects per scene, int >= 1.
    Returns:
        dict with "images" float32 (n, size, size, 3) in [0, 1], "masks" uint8 (n, size, size) of indices into
        "class_names" (list(SEGMENTATION_CLASSES); 0 is the background).
    Raises:
        ValueError: n, size or max_objects not an integer of at least 1, 32 and 1.
    """
    for name, value, low in (("n", n, 1), ("size", size, 32), ("max_objects", max_objects, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.uint8)
    low, high = round(16 * size / 64), round(32 * size / 64)
    for k in range(n):
        image = random_background(rng, size)
        for _ in range(rng.integers(1, max_objects + 1)):
            label = int(rng.integers(1, len(SEGMENTATION_CLASSES)))
            alpha = _alpha(rng, SEGMENTATION_CLASSES[label], int(rng.integers(low, high + 1)))
            colour = bright_colour(rng)
            h, w = alpha.shape
            top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
            patch = image[top:top + h, left:left + w]
            patch[:] = alpha[..., None] * colour + (1 - alpha[..., None]) * patch
            masks[k, top:top + h, left:left + w][alpha > INK_THRESHOLD] = label
        images[k] = np.clip(image, 0.0, 1.0)
    return {"images": images, "masks": masks, "class_names": list(SEGMENTATION_CLASSES)}


def _alpha(rng, kind, side):
    """Opacity (h, w) in [0, 1] of one object whose ink touches all four edges of its patch."""
    if kind == "triangle":  # pointing up: apex in the middle of the top row, base the whole bottom row
        yy, xx = np.mgrid[:side, :side]
        return (np.abs(xx + 0.5 - side / 2) <= (yy + 1) / side * side / 2).astype(np.float64)
    return object_alpha(rng, kind, side)


def load_segmentation_folder(folder, size=None):
    """Load a user's segmentation data: <folder>/images/<stem>.<ext> with <folder>/masks/<stem>.png.

    A mask is a one-channel PNG (8 or 16 bit) whose value at every pixel is the class index (0: background), the
    same height and width as its image. An optional <folder>/classes.txt names the classes, one per line;
    otherwise they are called "class 0", "class 1", ... up to the largest index found.

    Args:
        folder: the folder holding images/ and masks/ (and maybe classes.txt).
        size: resize every image (smoothly) and mask (nearest neighbour) to (size, size), or None to keep them;
            with None every image must have the same height and width.
    Returns:
        dict with "images" float32 (N, H, W, 3) in [0, 1], "masks" uint8 (N, H, W), "class_names" (list);
        images in the order of their sorted file names (gray pictures repeated on R, G and B).
    Raises:
        FileNotFoundError: folder, images/, masks/ or the mask of an image missing (the message names it).
        ValueError: no image, a mask without its image, a mask that is not one channel of integers, image and
            mask of different sizes, images of different sizes with size=None, or an index beyond classes.txt.
    """
    from skimage import io, transform

    from cnncourse.data.images import _to_float_rgb_or_gray

    folder = Path(folder)
    for path in (folder, folder / "images", folder / "masks"):
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a folder; expected <folder>/images/<name>.png and "
                                    f"<folder>/masks/<name>.png (class index per pixel)")
    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1):
        raise ValueError(f"size must be an integer >= 1 or None, got {size!r}")
    image_paths = sorted(p for p in (folder / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not image_paths:
        raise ValueError(f"{folder / 'images'} holds no images with a suffix in {sorted(IMAGE_SUFFIXES)}")
    orphans = sorted({p.stem for p in (folder / "masks").glob("*.png")} - {p.stem for p in image_paths})
    if orphans:
        raise ValueError(f"masks without an image in {folder / 'images'}: {orphans[:5]}")
    images, masks = [], []
    for path in image_paths:
        mask_path = folder / "masks" / f"{path.stem}.png"
        if not mask_path.is_file():
            raise FileNotFoundError(f"image {path.name} has no mask: expected {mask_path}")
        img = _to_float_rgb_or_gray(io.imread(path))
        img = np.stack([img] * 3, axis=-1) if img.ndim == 2 else img
        mask = _read_mask(mask_path, io)
        if mask.shape != img.shape[:2]:
            raise ValueError(f"{mask_path.name}: mask of height and width {mask.shape}, but its image {path.name} "
                             f"is {img.shape[:2]}")
        if size is not None:
            img = transform.resize(img, (size, size, 3), anti_aliasing=max(img.shape[:2]) > size)
            mask = transform.resize(mask, (size, size), order=0, preserve_range=True, anti_aliasing=False)
        images.append(img)
        masks.append(mask.astype(np.uint8))
    shapes = sorted({img.shape for img in images})
    if len(shapes) > 1:
        raise ValueError(f"the images have different shapes {shapes}; pass size= to resize them all")
    masks = np.stack(masks)
    return {"images": np.clip(np.stack(images), 0.0, 1.0).astype(np.float32), "masks": masks,
            "class_names": _class_names(folder, int(masks.max()))}


def _read_mask(path, io):
    """A mask PNG -> int (H, W); RGB(A) masks are accepted when R, G and B are equal."""
    mask = np.asarray(io.imread(path))
    if mask.ndim == 3 and mask.shape[-1] in (3, 4) and np.all(mask[..., :3] == mask[..., :1]):
        mask = mask[..., 0]
    if mask.ndim != 2 or not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(f"{path.name}: a mask must be one channel of integer class indices, got shape {mask.shape} "
                         f"and dtype {mask.dtype}")
    if mask.max() > 255:
        raise ValueError(f"{path.name}: class index {int(mask.max())} is above 255")
    return mask


def _class_names(folder, largest):
    """Names from <folder>/classes.txt (one per line), or "class 0" .. f"class {largest}"."""
    listing = folder / "classes.txt"
    if not listing.is_file():
        return [f"class {k}" for k in range(largest + 1)]
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    if largest >= len(names):
        raise ValueError(f"a mask holds class index {largest}, but {listing} names only {len(names)} classes")
    return names
