"""Read a user's own labelled images, laid out as <folder>/<class name>/<image file>."""

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}


def load_labelled_folder(folder, size=28, gray=True):
    """Load every image under <folder>/<class>/ resized to size x size.

    Args:
        folder: path of a folder with one sub-folder per class.
        size: output height and width in pixels.
        gray: convert to one channel (shape (N, size, size, 1)) or keep RGB ((N, size, size, 3)).
    Returns:
        x: float32 (N, size, size, C) in [0, 1]; y: int64 (N,); class_names: sorted list of sub-folder names.
    """
    from skimage import color, io, transform

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; expected <folder>/<class name>/<image files>")
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not class_names:
        raise ValueError(f"{folder} has no sub-folders; expected one sub-folder of images per class")
    images, labels = [], []
    for label, name in enumerate(class_names):
        for path in sorted((folder / name).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            img = io.imread(path)
            if img.ndim == 3 and img.shape[-1] == 4:
                img = img[..., :3]
            if gray and img.ndim == 3:
                img = color.rgb2gray(img)
            elif not gray and img.ndim == 2:
                img = np.stack([img] * 3, axis=-1)
            img = transform.resize(img, (size, size), anti_aliasing=True, preserve_range=True).astype(np.float32)
            if img.max() > 1.0:
                img /= 255.0
            images.append(img[..., None] if gray else img)
            labels.append(label)
    if not images:
        raise ValueError(f"{folder} holds no images with a suffix in {sorted(IMAGE_SUFFIXES)}")
    return np.stack(images), np.array(labels, dtype=np.int64), class_names
