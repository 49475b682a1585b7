"""Chapter 3: classification with localization — the target vector y and the losses that read it.

For an image with at most one object of n_classes classes the network outputs
    y = [pc, bx, by, bh, bw, c1, ..., c_n_classes]
    pc       1 if there is an object, else 0
    bx, by   the centre of its box as fractions of the image width and height, in [0, 1]
    bh, bw   the height and width of its box as fractions of the image height and width
    c_i      1 for the object's class, 0 for the others (one-hot)
When pc = 0 the other entries are "don't care": the losses must not depend on them.
The losses are written with keras.ops, so they run on the TensorFlow and the JAX backends.
"""

import numpy as np
from keras import ops

from cnncourse.ops.c3_boxes import require_box
from cnncourse.ops.validate import require_int


def localization_target(box, label, image_size, n_classes):
    """The target vector y of one image.

    Args:
        box: corner box (x1, y1, x2, y2) in pixels, or None when the image holds no object.
        label: class index in 0..n_classes-1 (ignored when box is None).
        image_size: (height, width) of the image in pixels, both > 0.
        n_classes: number of classes (int >= 1).
    Returns:
        float32 array (5 + n_classes,): [1, bx, by, bh, bw, one-hot class] for an object, all zeros without one.
    """
    n_classes = require_int(n_classes, "n_classes", 1)
    if len(image_size) != 2 or min(image_size) <= 0:
        raise ValueError(f"image_size must be (height, width) with both > 0, got {image_size!r}")
    if box is not None:
        box = require_box(box)
        label = require_int(label, "label", 0)
        if label >= n_classes:
            raise ValueError(f"label must be in 0..{n_classes - 1}, got {label}")
    ### BEGIN SOLUTION
    y = np.zeros(5 + n_classes, dtype=np.float32)
    if box is None:
        return y
    height, width = image_size
    y[0] = 1.0
    y[1] = (box[0] + box[2]) / 2 / width
    y[2] = (box[1] + box[3]) / 2 / height
    y[3] = (box[3] - box[1]) / height
    y[4] = (box[2] - box[0]) / width
    y[5 + label] = 1.0
    return y
    ### END SOLUTION


def localization_loss(y_true, y_pred):
    """Squared error that looks only at pc when there is no object.

    Per example: (pc_pred - pc)^2 when pc = 0; the sum of squared errors of all 5 + n_classes entries when pc = 1.

    Args:
        y_true: (batch, 5 + n_classes) targets, pc in {0, 1} (tensor or array).
        y_pred: (batch, 5 + n_classes) predictions.
    Returns:
        scalar tensor, the mean over the batch.
    """
    ### BEGIN SOLUTION
    squared = ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true))
    has_object = y_true[:, 0]
    per_example = squared[:, 0] + has_object * ops.sum(squared[:, 1:], axis=-1)
    return ops.mean(per_example)
    ### END SOLUTION


def mixed_localization_loss(y_true, y_pred, epsilon=1e-7):
    """The loss used in practice: logistic loss for pc, squared error for the box, log loss for the class.

    Per example: BCE(pc, pc_pred) + pc * (sum of squared box errors + cross-entropy of c_pred against the one-hot c).
    y_pred's pc is a probability (sigmoid output) and its class part a softmax; both are clipped to
    [epsilon, 1 - epsilon] before the logarithms.

    Args:
        y_true, y_pred: (batch, 5 + n_classes), as for localization_loss.
    Returns:
        scalar tensor, the mean over the batch.
    """
    y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
    pc, pc_pred = y_true[:, 0], ops.clip(y_pred[:, 0], epsilon, 1 - epsilon)
    logistic = -(pc * ops.log(pc_pred) + (1 - pc) * ops.log(1 - pc_pred))
    box = ops.sum(ops.square(y_pred[:, 1:5] - y_true[:, 1:5]), axis=-1)
    classes = -ops.sum(y_true[:, 5:] * ops.log(ops.clip(y_pred[:, 5:], epsilon, 1.0)), axis=-1)
    return ops.mean(logistic + pc * (box + classes))
