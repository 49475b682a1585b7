"""Chapter 2: multi-crop and ensembling, the two test-time tricks that win benchmarks.

- **Multi-crop** (Krizhevsky et al., 2012): classify several crops of each test image and average the class
  probabilities. AlexNet's 10-crop takes the four corner crops and the centre crop, and the same five mirrored left
  to right. Digits and text must not be mirrored: for them, the five crops alone.
- **Ensembling**: train several networks independently (other seeds, other architectures) and average their class
  probabilities. Their mistakes differ, so the average is wrong less often than each.

Both multiply the cost of a prediction: 10 crops cost 10 passes, an ensemble of 3 networks 3 passes, both 30.
"""

import numpy as np

from cnncourse.ops.validate import require_array, require_int

CORNERS_AND_CENTRE = ("top-left", "top-right", "bottom-left", "bottom-right", "centre")


def require_crop(images, crop_size, mirror):
    """Check multi_crop's arguments (see there); raise ValueError saying what was expected."""
    require_array(images, "images (m, H, W, C)", ndim=4, floating=False)
    if images.shape[0] == 0:
        raise ValueError(f"images (m, H, W, C) must hold at least one image, got shape {images.shape}")
    crop_size = require_int(crop_size, "crop_size", 1)
    if crop_size > min(images.shape[1:3]):
        raise ValueError(f"crop_size must be at most the images' height and width, min{images.shape[1:3]} = "
                         f"{min(images.shape[1:3])}, got {crop_size}")
    if not isinstance(mirror, bool):
        raise ValueError(f"mirror must be True or False, got {mirror!r}")


def multi_crop(images, crop_size, mirror=True):
    """The five square crops of each image (four corners and the centre) and, with mirror=True, their mirrors.

    Conventions (the checks use exactly these):
    - crop order: top-left, top-right, bottom-left, bottom-right, centre (CORNERS_AND_CENTRE);
    - the centre crop starts at row (H - crop_size) // 2 and column (W - crop_size) // 2 (rounded down);
    - with mirror=True, crops 5 to 9 are crops 0 to 4 mirrored left to right (crop k + 5 is crop k with its columns
      in reverse order): AlexNet's 10-crop.

    Args:
        images: numpy array (m, H, W, C), m >= 1.
        crop_size: int, the side of the square crops, 1 <= crop_size <= min(H, W).
        mirror: True for 10 crops per image, False for the 5 crops only (for digits or text, which a mirror changes).
    Returns:
        numpy array (m, 10, crop_size, crop_size, C) with mirror=True, (m, 5, crop_size, crop_size, C) with
        mirror=False, of the images' dtype.
    """
    require_crop(images, crop_size, mirror)
    ### BEGIN SOLUTION
    n_H, n_W = images.shape[1:3]
    c = crop_size
    corners = [(0, 0), (0, n_W - c), (n_H - c, 0), (n_H - c, n_W - c), ((n_H - c) // 2, (n_W - c) // 2)]
    crops = [images[:, top:top + c, left:left + c, :] for top, left in corners]  # 5 x (m, c, c, C)
    if mirror:
        crops += [crop[:, :, ::-1, :] for crop in crops]  # columns reversed: left and right swapped
    return np.stack(crops, axis=1)
    ### END SOLUTION


def require_predict_fns(predict_fns):
    """Check that predict_fns is a non-empty list or tuple of functions; raise ValueError saying what was expected."""
    if not isinstance(predict_fns, (list, tuple)) or not predict_fns:
        raise ValueError(f"predict_fns must be a non-empty list of functions, got {predict_fns!r}")
    for k, predict in enumerate(predict_fns):
        if not callable(predict):
            raise ValueError(f"predict_fns[{k}] must be a function (images -> probabilities), got "
                             f"{type(predict).__name__}")


def ensemble_predict(predict_fns, images, crop_size=None, mirror=True):
    """The class probabilities of an ensemble of networks, each on the whole images or on their multi-crops.

    Every network counts the same, and every crop the same: the result is the plain mean of the probabilities over
    the networks (and, with crop_size, over each image's crops).

    Args:
        predict_fns: non-empty list of functions; each maps a float32 numpy array (n, h, w, C) of n images to their
            class probabilities (n, n_classes), one row per image, in the same order (a keras.Model fits, and so
            does `lambda x: model.predict(x, verbose=0)`). All return the same n_classes.
        images: numpy array (m, H, W, C), m >= 1.
        crop_size: None: each network sees the whole images. An int (1 <= crop_size <= min(H, W)): each network
            sees the crops multi_crop(images, crop_size, mirror), and an image's probabilities are the mean over its
            crops.
        mirror: passed to multi_crop (10 crops or 5); not used when crop_size is None.
    Returns:
        numpy array (m, n_classes), float64: each row the mean class probabilities of one image.
    """
    require_predict_fns(predict_fns)
    require_array(images, "images (m, H, W, C)", ndim=4, floating=False)
    if images.shape[0] == 0:
        raise ValueError(f"images (m, H, W, C) must hold at least one image, got shape {images.shape}")
    if crop_size is not None:
        require_crop(images, crop_size, mirror)
    ### BEGIN SOLUTION
    if crop_size is None:
        views = images[:, None]  # (m, 1, H, W, C): one "crop", the whole image
    else:
        views = multi_crop(images, crop_size, mirror)  # (m, n_crops, c, c, C)
    m, n_crops = views.shape[:2]
    batch = views.reshape(m * n_crops, *views.shape[2:]).astype(np.float32)  # image-major: image i's crops together
    total = 0.0
    for predict in predict_fns:
        probabilities = np.asarray(predict(batch), dtype=np.float64)  # (m * n_crops, n_classes)
        total = total + probabilities.reshape(m, n_crops, -1).mean(axis=1)  # mean over each image's crops
    return total / len(predict_fns)
    ### END SOLUTION

