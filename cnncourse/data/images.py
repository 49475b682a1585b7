"""Sample photographs for the convolution and pooling explorers, or a user's own image: no download needed.

Every sample ships inside scikit-image (skimage.data) or scikit-learn (load_sample_images), so it loads
offline. load_image returns a square float64 image in [0, 1]:
    gray=True:  (size, size)
    gray=False: (size, size, 3)
"""

import functools
from pathlib import Path

import numpy as np

# name -> what the picture shows; the keys are the names load_image accepts.
SAMPLE_DESCRIPTIONS = {
    "camera": "a cameraman with a tripod (gray)",
    "astronaut": "astronaut Eileen Collins (colour)",
    "coffee": "a cup of coffee (colour)",
    "chelsea": "Chelsea the cat (colour)",
    "brick": "a brick wall texture (gray)",
    "grass": "a grass texture (gray)",
    "gravel": "a gravel texture (gray)",
    "rocket": "a rocket on its launch pad (colour)",
    "hubble_deep_field": "galaxies seen by the Hubble telescope (colour)",
    "moon": "the surface of the moon (gray)",
    "coins": "Greek coins on a plain background (gray)",
    "checkerboard": "a black-and-white checkerboard (gray)",
    "text": "printed text photographed at an angle (gray)",
    "china": "a Chinese temple (colour, scikit-learn)",
    "flower": "a flower (colour, scikit-learn)",
}

SAMPLE_IMAGES = tuple(SAMPLE_DESCRIPTIONS)

_SKLEARN_FILES = {"china": "china.jpg", "flower": "flower.jpg"}


@functools.lru_cache(maxsize=None)
def _read_sample(name):
    """The sample's pixels as shipped (uint8), read once per session."""
    if name in _SKLEARN_FILES:
        from sklearn.datasets import load_sample_image

        return load_sample_image(_SKLEARN_FILES[name])
    import skimage.data

    return getattr(skimage.data, name)()


def _read_file(path):
    """Read an image file with skimage.io; errors name the file."""
    from skimage import io

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}; pass one of the sample names {list(SAMPLE_IMAGES)} "
                                f"or the path of an existing image file")
    try:
        return io.imread(path)
    except Exception as err:  # noqa: BLE001 - readers raise many types; one clear message is enough
        raise ValueError(f"could not read {path} as an image ({type(err).__name__}: {err})") from err


def _to_float_rgb_or_gray(img):
    """Any image array -> float64 in [0, 1], shape (H, W) or (H, W, 3)."""
    from skimage import color, util

    img = np.asarray(img)
    if img.ndim == 4:  # animated GIF or multi-page TIFF: keep the first frame
        img = img[0]
    if img.ndim == 3 and img.shape[-1] == 2:  # gray + alpha
        img = img[..., 0]
    if np.issubdtype(img.dtype, np.floating):
        img = img.astype(np.float64)
        low, high = np.nanmin(img), np.nanmax(img)
        if low < 0 or high > 1:
            img = (img - low) / (high - low) if high > low else np.zeros_like(img)
    else:
        img = util.img_as_float64(img)
    if img.ndim == 3 and img.shape[-1] == 4:
        img = color.rgba2rgb(img)  # transparent pixels become white
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
        raise ValueError(f"expected a gray (H, W) or colour (H, W, 3) image, got shape {img.shape}")
    return img


def _center_crop_square(img):
    """Keep the central square of side min(H, W)."""
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return img[top:top + side, left:left + side]


def _looks_like_path(text):
    return any(sep in text for sep in ("/", "\\")) or Path(text).suffix != ""


def load_image(name_or_path, size=128, gray=True):
    """Load a sample image by name, or a user's image file, as a square float64 array in [0, 1].

    The image is centre-cropped to a square, then resized with anti-aliasing.

    Args:
        name_or_path: one of SAMPLE_IMAGES (e.g. "camera", "chelsea", "china"), or the path (str or
            pathlib.Path) of an image file that skimage.io can read (PNG, JPEG, TIFF, ...).
        size: height and width of the result in pixels, int >= 1.
        gray: True for one channel, False for three (a gray picture is repeated on R, G and B).
    Returns:
        image: float64 array in [0, 1], shape (size, size) if gray else (size, size, 3).
    Raises:
        ValueError: unknown sample name (the message lists the known names), bad size, unreadable file.
        FileNotFoundError: a path that does not exist.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be an integer >= 1 (pixels), got {size!r}")
    if isinstance(name_or_path, str) and name_or_path in SAMPLE_DESCRIPTIONS:
        return _load_sample(name_or_path, int(size), bool(gray)).copy()
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path) and not Path(name_or_path).exists():
        raise ValueError(f"unknown sample image {name_or_path!r}; known names: {', '.join(SAMPLE_IMAGES)} "
                         f"(or pass the path of an image file)")
    if not isinstance(name_or_path, (str, Path)):
        raise ValueError(f"name_or_path must be a sample name or a file path, got {type(name_or_path).__name__}")
    return _prepare(_read_file(name_or_path), int(size), bool(gray))


@functools.lru_cache(maxsize=64)
def _load_sample(name, size, gray):
    image = _prepare(_read_sample(name), size, gray)
    image.flags.writeable = False  # the cached copy; load_image hands out copies
    return image


def _prepare(raw, size, gray):
    """Raw pixels -> float64 [0, 1], centre-cropped square, resized to size x size, gray or RGB."""
    from skimage import color, transform

    img = _center_crop_square(_to_float_rgb_or_gray(raw))
    if gray and img.ndim == 3:
        img = color.rgb2gray(img)
    elif not gray and img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    out_shape = (size, size) if gray else (size, size, 3)
    img = transform.resize(img, out_shape, anti_aliasing=img.shape[0] > size, preserve_range=True)
    return np.clip(img, 0.0, 1.0).astype(np.float64)
