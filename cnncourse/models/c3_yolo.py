"""Chapter 3: a small YOLO for the generated scenes — the network, its output head, its loss and its predictions.

The network maps a (size, size, 3) image to raw outputs (S, S, A, 5 + n_classes), S = size / CELL (8). The head turns
them into YOLO's quantities, per cell and anchor:
    pc     = sigmoid(t_o)                         probability that an object's centre is in this cell and anchor
    bx, by = sigmoid(t_x), sigmoid(t_y)           the centre inside the cell
    bh, bw = anchor_h * exp(t_h), anchor_w * exp(t_w)   in cells
    c      = softmax(t_c)                         class probabilities
The loss (yolo_loss) compares the head with targets from cnncourse.ops.c3_yolo.yolo_targets. Written with
keras.ops, so the model trains on the TensorFlow and the JAX backends.
"""

import keras
import numpy as np
from keras import layers, ops

from cnncourse.ops.c3_boxes import non_max_suppression_per_class
from cnncourse.ops.twins import best_class_scores
from cnncourse.ops.c3_yolo import yolo_decode
from cnncourse.ops.validate import require_array, require_int

STRIDE = 16  # image pixels per pixel of the backbone's last feature map: four 2x2 max pools
CELL = 8  # pixels per grid cell of the output: the last feature map upsampled once (a 12x12 grid on 96x96 scenes)
# (height, width) of the anchors in cells, for objects of 14 to 40 pixels: small square, large square, tall
# (21, 35 and 32 x 21 pixels).
ANCHORS = np.array([[2.6, 2.6], [4.4, 4.4], [4.0, 2.6]], dtype=np.float32)
BACKBONE_FILTERS = (16, 32, 64, 128)  # filters of the four conv-pool stages
MAX_LOG_SIZE = 4.0  # clip t_h, t_w before exp: a box at most e^4 anchors tall keeps early training finite


def conv_block(x, filters, kernel_size, name):
    """Conv (no bias, 'same' padding) -> BatchNormalization -> LeakyReLU(0.1); layers named conv/bn/leaky + name."""
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"conv{name}")(x)
    x = layers.BatchNormalization(name=f"bn{name}")(x)
    return layers.LeakyReLU(0.1, name=f"leaky{name}")(x)


def backbone_stages(x):
    """The four conv-BN-LeakyReLU-pool stages shared by yolo_model and backbone_classifier (layers conv1..4, bn1..4).

    Args:
        x: a Keras tensor (batch, H, W, 3), H and W multiples of STRIDE (16).
    Returns:
        (pooled, fine): pooled (batch, H/16, W/16, 128) after the fourth pool, fine (batch, H/8, W/8, 128) the fourth
        stage before its pool (joined with the upsampled coarse features on the output grid).
    """
    for stage, filters in enumerate(BACKBONE_FILTERS, start=1):
        x = conv_block(x, filters, 3, stage)
        if stage == len(BACKBONE_FILTERS):
            fine = x
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    return x, fine


def backbone_classifier(crop_size=48, n_classes=4):
    """The YOLO backbone with a classification head, for pretraining on crops (cnncourse.data.scene_crops).

    backbone_stages -> global average pooling -> Dense(n_classes, softmax). Its conv1..4 and bn1..4 layers have the
    names and shapes of yolo_model's, so copy_backbone moves the learned weights into a detector.

    Args:
        crop_size: side of the square crops in pixels, a multiple of STRIDE (16), >= 16.
        n_classes: int >= 2 (the crops' classes, background included).
    Returns:
        keras.Model mapping (batch, crop_size, crop_size, 3) to class probabilities (batch, n_classes).
    """
    crop_size = require_int(crop_size, "crop_size", STRIDE)
    if crop_size % STRIDE:
        raise ValueError(f"crop_size must be a multiple of {STRIDE}, got {crop_size}")
    inputs = keras.Input((crop_size, crop_size, 3), name="crop")
    x, _ = backbone_stages(inputs)
    x = layers.GlobalAveragePooling2D(name="average")(x)
    outputs = layers.Dense(require_int(n_classes, "n_classes", 2), activation="softmax", name="crop_class")(x)
    return keras.Model(inputs, outputs, name="yolo_backbone_classifier")


def backbone_layer_names():
    """Names of the layers with weights that backbone_stages makes: conv1, bn1, ..., conv4, bn4."""
    return [f"{kind}{stage}" for stage in range(1, len(BACKBONE_FILTERS) + 1) for kind in ("conv", "bn")]


def copy_backbone(source, target):
    """Copy the weights of the backbone layers (backbone_layer_names) from one model into another, by name.

    Args:
        source, target: Keras models that both hold those layers (backbone_classifier, yolo_model).
    Returns:
        the list of layer names copied.
    Raises:
        ValueError: a layer is missing from either model or its weights have other shapes.
    """
    names = backbone_layer_names()
    for name in names:
        try:
            weights, layer = source.get_layer(name).get_weights(), target.get_layer(name)
        except ValueError as err:
            raise ValueError(f"copy_backbone needs layer {name!r} in both models: {err}") from err
        if [w.shape for w in weights] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"layer {name!r} has weights of shapes {[w.shape for w in weights]} in the source and "
                             f"{[tuple(w.shape) for w in layer.weights]} in the target")
        layer.set_weights(weights)
    return names


def yolo_model(image_size=96, n_anchors=len(ANCHORS), n_classes=3):
    """The YOLO network: four conv-pool stages, two more convolutions, upsampled and joined with stage 4, a 1x1 output.

    Layers, for image_size = 96 (S = 12):
        conv1..conv4, each conv-BN-LeakyReLU then 2x2 max pool   96 -> 48 -> 24 -> 12 -> 6 pixels, 16..128 channels
        conv5, conv6: 3x3, 128 channels                            (6, 6, 128): each sees most of the scene
        upsample: conv6 repeated 2x2                               (12, 12, 128)
        passthrough: stage 4 before its pool (12, 12, 128), 1x1 conv to 64 channels
        concatenated with the upsampled conv6 and mixed by conv7 (3x3, 128)   (12, 12, 128)
        output: 1x1 conv to n_anchors * (5 + n_classes)            (12, 12, n_anchors, 5 + n_classes)
    The output grid has 8-pixel cells: the coarse 6x6 features say what is there, the finer 12x12 ones of stage 4
    where. Against the 6x6 grid it replaced (16-pixel cells, the finer features brought down by YOLOv2's
    space_to_depth instead), fast mode's run reached held-out mAP@0.5 0.859 instead of 0.786 (digits 0.68 instead of
    0.61, mAP@0.7 0.68 instead of 0.51) in the same time on one CPU thread (docs/benchmarks.md, "A finer output grid").

    Args:
        image_size: side of the square input in pixels, a multiple of STRIDE (16), >= 32.
        n_anchors, n_classes: ints >= 1.
    Returns:
        keras.Model mapping (batch, image_size, image_size, 3) to raw outputs (batch, S, S, n_anchors, 5 + n_classes)
        with S = image_size // CELL.
    """
    image_size = require_int(image_size, "image_size", 32)
    if image_size % STRIDE:
        raise ValueError(f"image_size must be a multiple of {STRIDE}, got {image_size}")
    n_anchors, n_classes = require_int(n_anchors, "n_anchors", 1), require_int(n_classes, "n_classes", 1)
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x, fine = backbone_stages(inputs)
    x = conv_block(x, 128, 3, 5)
    x = conv_block(x, 128, 3, 6)
    x = layers.UpSampling2D(STRIDE // CELL, name="upsample")(x)
    fine = conv_block(fine, 64, 1, "_passthrough")
    x = layers.Concatenate(name="with_passthrough")([x, fine])
    x = conv_block(x, 128, 3, 7)
    x = layers.Conv2D(n_anchors * (5 + n_classes), 1, name="output")(x)
    grid = image_size // CELL
    outputs = layers.Reshape((grid, grid, n_anchors, 5 + n_classes), name="yolo_output")(x)
    return keras.Model(inputs, outputs, name="yolo")


def yolo_head(raw, anchors=ANCHORS):
    """Raw outputs (batch, S, S, A, 5 + n_classes) -> the same shape holding [pc, bx, by, bh, bw, c...]."""
    anchors = ops.convert_to_tensor(anchors, dtype=raw.dtype)
    pc_xy = ops.sigmoid(raw[..., 0:3])
    sizes = anchors * ops.exp(ops.clip(raw[..., 3:5], -MAX_LOG_SIZE, MAX_LOG_SIZE))
    classes = ops.softmax(raw[..., 5:], axis=-1)
    return ops.concatenate([pc_xy, sizes, classes], axis=-1)


def yolo_loss(anchors=ANCHORS, lambda_coord=5.0, lambda_noobj=0.5, epsilon=1e-7):
    """The YOLO loss as a Keras loss function of (targets, raw outputs), both (batch, S, S, A, 5 + n_classes).

    Per cell and anchor, with obj = the target's pc:
        logistic loss of pc, weighted 1 where obj = 1 and lambda_noobj where obj = 0 (most cells are empty);
        obj * lambda_coord * ((bx - bx')^2 + (by - by')^2 + (sqrt bh - sqrt bh')^2 + (sqrt bw - sqrt bw')^2),
            square roots so that an error of a pixel counts more on a small box than on a large one;
        obj * cross-entropy of the classes.
    Summed over cells and anchors, averaged over the batch.
    """
    def loss(y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
        head = yolo_head(y_pred, anchors)
        obj = y_true[..., 0]
        pc = ops.clip(head[..., 0], epsilon, 1 - epsilon)
        confidence = -(obj * ops.log(pc) + lambda_noobj * (1 - obj) * ops.log(1 - pc))
        centre = ops.sum(ops.square(head[..., 1:3] - y_true[..., 1:3]), axis=-1)
        size = ops.sum(ops.square(ops.sqrt(head[..., 3:5]) - ops.sqrt(y_true[..., 3:5])), axis=-1)
        classes = -ops.sum(y_true[..., 5:] * ops.log(ops.clip(head[..., 5:], epsilon, 1.0)), axis=-1)
        per_anchor = confidence + obj * (lambda_coord * (centre + size) + classes)
        return ops.mean(ops.sum(per_anchor, axis=(1, 2, 3)))

    return loss


def predicted_head(model, images, anchors=ANCHORS, flip=False):
    """The head's quantities for every image: the network's raw outputs through yolo_head, as numpy.

    With flip=True, test-time augmentation: the network also sees each image mirrored left to right, and its head
    for the mirror is mirrored back (columns reversed, bx -> 1 - bx inside the cell; the anchors' heights and widths
    do not change under the mirror) and averaged with the head for the image itself. Each cell and anchor then holds
    the mean of two predictions of the same object, as multi-crop averages two views in Chapter 2.

    Args:
        model: a yolo_model (or anything with predict(images, verbose=0) -> raw outputs (N, S, S, A, 5 + n_classes)).
        images: (N, size, size, 3) float array.
        anchors: the (A, 2) anchors the model was trained with.
        flip: also predict on the mirrored images and average, bool.
    Returns:
        float64 (N, S, S, A, 5 + n_classes) holding [pc, bx, by, bh, bw, c...] per cell and anchor.
    """
    require_array(images, "images (N, size, size, 3)", ndim=4)
    if not isinstance(flip, bool):
        raise ValueError(f"flip must be True or False, got {flip!r}")

    def head_of(batch):
        raw = ops.convert_to_tensor(model.predict(batch, verbose=0))
        return np.asarray(ops.convert_to_numpy(yolo_head(raw, anchors)), dtype=np.float64)

    head = head_of(images)
    if flip:
        mirrored = head_of(np.ascontiguousarray(np.asarray(images)[:, :, ::-1, :]))[:, :, ::-1].copy()
        mirrored[..., 1] = 1.0 - mirrored[..., 1]
        head = (head + mirrored) / 2
    return head


def candidate_boxes(model, images, anchors=ANCHORS, flip=False):
    """Every box the network proposes, image by image, before the score filter and non-max suppression.

    Network, head (predicted_head) and decoding (cnncourse.ops.c3_yolo.yolo_decode); each box's score and class are
    those of cnncourse.ops.c3_boxes.filter_boxes, with no threshold: score = pc * c_max, label = argmax_i pc * c_i.

    Args:
        model: a yolo_model (or anything with predict(images, verbose=0) -> raw outputs (N, S, S, A, 5 + n_classes)).
        images: (N, size, size, 3) float array.
        anchors: the (A, 2) anchors the model was trained with.
        flip: average with the mirrored images' predictions (predicted_head), bool.
    Returns:
        list of N dicts with "boxes" (S*S*A, 4) corner boxes in pixels, "scores" (S*S*A,) floats and "labels"
        (S*S*A,) ints, in the order row, col, anchor.
    """
    results = []
    for output in predicted_head(model, images, anchors, flip):
        confidence, boxes, probs = yolo_decode(output, images.shape[1])
        scores, boxes, labels = best_class_scores(confidence, boxes, probs, threshold=-np.inf)  # every box kept
        results.append({"boxes": boxes, "scores": scores, "labels": labels})
    return results


def predict_boxes(model, images, anchors=ANCHORS, score_threshold=0.5, iou_threshold=0.5, max_boxes=10, flip=False):
    """The whole pipeline: network, head, decoding, score filter and per-class NMS, image by image.

    Args:
        model: a yolo_model.
        images: (N, size, size, 3) float array.
        anchors: the (A, 2) anchors the model was trained with.
        score_threshold: keep a box when pc * c_max >= this.
        iou_threshold, max_boxes: of the per-class non-max suppression.
        flip: average with the mirrored images' predictions first (predicted_head), bool.
    Returns:
        list of N dicts with "boxes" (k, 4) corner boxes in pixels, "scores" (k,) and "labels" (k,) ints.
    """
    results = []
    for candidates in candidate_boxes(model, images, anchors, flip):
        passing = candidates["scores"] >= score_threshold  # the test of filter_boxes
        boxes, scores, labels = (candidates[key][passing] for key in ("boxes", "scores", "labels"))
        keep = non_max_suppression_per_class(boxes, scores, labels, iou_threshold, max_boxes)
        results.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
    return results
