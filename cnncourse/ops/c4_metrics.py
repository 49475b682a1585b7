"""Chapter 4: how good is a segmentation? The confusion matrix and the mean IoU over classes, in numpy.

Masks are integer label maps of any shape, e.g. (N, H, W): one class label in 0..n_classes-1 per pixel.
For a class c, the pixels where the truth says c and those where the prediction says c are two sets;
IoU_c = |both| / |either| = |true == c AND pred == c| / |true == c OR pred == c|.
A class absent from both masks has no IoU (nan) and does not count in the mean; a class present in only one of
them has IoU 0 and does count. Each graded function's body lies between `### BEGIN SOLUTION` and `### END SOLUTION`.
"""

import numpy as np

from cnncourse.ops.validate import require_int


def require_label_masks(y_true, y_pred, n_classes):
    """Check two integer label masks of the same shape with labels in 0..n_classes-1; raise ValueError if not.

    Args:
        y_true, y_pred: numpy integer arrays of the same shape (any shape).
        n_classes: int >= 1.
    """
    require_int(n_classes, "n_classes", 1)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(y, np.ndarray):
            raise ValueError(f"{name} must be a numpy array of integer labels, got {type(y).__name__}")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class labels (e.g. int64), got dtype {y.dtype}; "
                             f"turn scores into labels with np.argmax(..., axis=-1) first")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} labels must lie in 0..{n_classes - 1} (n_classes={n_classes}), "
                             f"got values from {y.min()} to {y.max()}")


def confusion_matrix(y_true, y_pred, n_classes):
    """Pixel counts of every (true class, predicted class) pair.

    Args:
        y_true, y_pred: integer arrays of the same shape, labels in 0..n_classes-1.
        n_classes: int >= 1.
    Returns:
        int64 array (n_classes, n_classes): entry [t, p] counts the pixels whose true class is t and predicted
        class is p (rows true, columns predicted). Its diagonal holds the correct pixels of each class.
    """
    require_label_masks(y_true, y_pred, n_classes)
    pairs = n_classes * y_true.astype(np.int64).ravel() + y_pred.astype(np.int64).ravel()
    return np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def mean_iou(y_true, y_pred, n_classes):
    """Intersection over union of every class, and their mean over the classes present in either mask.

    Args:
        y_true: integer array of any shape, e.g. (N, H, W), the true label of every pixel.
        y_pred: integer array of the same shape, the predicted labels.
        n_classes: int >= 1; labels lie in 0..n_classes-1.
    Returns:
        (mean, per_class):
            per_class: float64 array (n_classes,), IoU_c = |true==c AND pred==c| / |true==c OR pred==c|,
                nan for a class absent from both masks;
            mean: float, the mean of per_class over its non-nan entries (nan when every class is absent).
    """
    require_label_masks(y_true, y_pred, n_classes)
    ### BEGIN SOLUTION
    # counts[t, p]: pixels of true class t predicted as p (the confusion matrix)
    pairs = n_classes * y_true.astype(np.int64).ravel() + y_pred.astype(np.int64).ravel()
    counts = np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    intersection = np.diag(counts)
    union = counts.sum(axis=1) + counts.sum(axis=0) - intersection  # |true == c| + |pred == c| - |both|
    per_class = np.full(n_classes, np.nan)
    present = union > 0
    per_class[present] = intersection[present] / union[present]
    mean = float(np.mean(per_class[present])) if np.any(present) else float("nan")
    return mean, per_class
    ### END SOLUTION
