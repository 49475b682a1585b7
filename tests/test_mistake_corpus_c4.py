"""Chapter 4's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The checks are called on the functions directly, not through nbgrader. Graded callers find their helpers by name in
a notebook-like namespace (the course's reference cells run in one dict, as in tests/test_mistake_corpus_c6.py):
conv_transpose_forward may call transpose_output_size, unet_model calls conv_block and upsampling_block. Their
hidden checks swap the course's helpers in (core.reference_helpers), their public checks do not: see the
one-mistake-one-loss tests at the end.
"""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from cnncourse.checks import c4_segmentation as checks
from cnncourse.checks import c4_unet as unet_checks
from cnncourse.checks.core import CheckFailed
from cnncourse.models import c4_unet as unet
from cnncourse.ops import c4_metrics, c4_transpose
from cnncourse.ops.c4_transpose import require_crop_fits


# ---------------------------------------------------------------- transpose_output_size
def _size(formula):
    """A student's transpose_output_size: the notebook's validation (kept), then `formula`."""
    def transpose_output_size(n_prev, f, stride, pad):
        require_crop_fits(n_prev, f, stride, pad, "axis")
        return formula(n_prev, f, stride, pad)

    transpose_output_size.__name__ = formula.__name__
    return transpose_output_size


size_stride_times_n = _size(lambda n, f, s, p: s * n)
size_stride_times_n.__name__ = "size_stride_times_n"
size_no_pad = _size(lambda n, f, s, p: (n - 1) * s + f)
size_no_pad.__name__ = "size_no_pad"
size_pad_once = _size(lambda n, f, s, p: (n - 1) * s + f - p)
size_pad_once.__name__ = "size_pad_once"
size_off_by_one = _size(lambda n, f, s, p: n * s + f - 2 * p)
size_off_by_one.__name__ = "size_off_by_one"
size_conv_formula = _size(lambda n, f, s, p: (n + 2 * p - f) // s + 1)
size_conv_formula.__name__ = "size_conv_formula"
size_float = _size(lambda n, f, s, p: (n - 1) * s + f - 2.0 * p)  # a float: 5.0 is not an int
size_float.__name__ = "size_float"

size_reordered = _size(lambda n, f, s, p: s * (n - 1) - 2 * p + f)
size_reordered.__name__ = "size_reordered"
size_numpy_int = _size(lambda n, f, s, p: np.int64(np.subtract(np.multiply(n - 1, s) + f, 2 * p)))
size_numpy_int.__name__ = "size_numpy_int"
size_canvas_then_crop = _size(lambda n, f, s, p: len(range(0, (n - 1) * s + f)[p:(n - 1) * s + f - p]))
size_canvas_then_crop.__name__ = "size_canvas_then_crop"


# ---------------------------------------------------------------- conv_transpose_forward
def _transpose(place, crop=lambda canvas, pad, n_H, n_W: canvas[:, pad:pad + n_H, pad:pad + n_W, :], bias=True,
               kernel=lambda W: W):
    """A student's loop over the input pixels: place(canvas, region, scaled) lays one scaled filter."""
    def conv_transpose_forward(A_prev, W, b, stride=1, pad=0):
        m, n_H_prev, n_W_prev, _ = A_prev.shape
        W = kernel(W)
        f, n_C = W.shape[0], W.shape[3]
        canvas = np.zeros((m, (n_H_prev - 1) * stride + f, (n_W_prev - 1) * stride + f, n_C))
        for h in range(n_H_prev):
            for w in range(n_W_prev):
                scaled = np.einsum("ic,abcn->iabn", A_prev[:, h, w, :], W)
                place(canvas, (h, w, stride, f), scaled)
        n_H = transpose_output_size(n_H_prev, f, stride, pad)
        n_W = transpose_output_size(n_W_prev, f, stride, pad)
        Z = crop(canvas, pad, n_H, n_W)
        return Z + b if bias else Z

    return conv_transpose_forward


def _add(canvas, region, scaled):
    h, w, s, f = region
    canvas[:, h * s:h * s + f, w * s:w * s + f, :] += scaled


def _overwrite(canvas, region, scaled):
    h, w, s, f = region
    canvas[:, h * s:h * s + f, w * s:w * s + f, :] = scaled


def _stride_ignored(canvas, region, scaled):
    h, w, s, f = region
    canvas[:, h:h + f, w:w + f, :] += scaled


transpose_overwrites = _transpose(_overwrite)
transpose_stride_ignored = _transpose(_stride_ignored)
transpose_flipped = _transpose(_add, kernel=lambda W: W[::-1, ::-1])  # the convolution's flip, carried over
transpose_without_bias = _transpose(_add, bias=False)
transpose_full_canvas = _transpose(_add, crop=lambda canvas, pad, n_H, n_W: canvas)
transpose_one_side = _transpose(_add, crop=lambda canvas, pad, n_H, n_W: canvas[:, pad:, pad:, :])
transpose_keras_layout = _transpose(_add, kernel=lambda W: W.transpose(0, 1, 3, 2))  # Keras's (f, f, n_C, n_C_prev)
for _name, _fn in list(globals().items()):
    if _name.startswith("transpose_") and callable(_fn) and _fn.__name__ == "conv_transpose_forward":
        _fn.__name__ = _name


def transpose_by_filter_taps(A_prev, W, b, stride=1, pad=0):
    """Vectorised over the input pixels: one strided slice of the canvas per filter entry (f * f additions)."""
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    canvas = np.zeros((m, (n_H_prev - 1) * stride + f, (n_W_prev - 1) * stride + f, n_C))
    for a in range(f):
        for k in range(f):
            canvas[:, a:a + (n_H_prev - 1) * stride + 1:stride, k:k + (n_W_prev - 1) * stride + 1:stride, :] += (
                A_prev @ W[a, k])
    n_H, n_W = (transpose_output_size(n, f, stride, pad) for n in (n_H_prev, n_W_prev))
    return canvas[:, pad:pad + n_H, pad:pad + n_W, :] + b


def transpose_as_dilated_convolution(A_prev, W, b, stride=1, pad=0):
    """The textbook identity: zeros between the input pixels (stride - 1 of them), f - 1 - pad zeros around, then a
    stride-1 convolution (cross-correlation) with the filter turned by 180 degrees."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f = W.shape[0]
    dilated = np.zeros((m, (n_H_prev - 1) * stride + 1, (n_W_prev - 1) * stride + 1, n_C_prev))
    dilated[:, ::stride, ::stride, :] = A_prev
    padded = np.pad(dilated, ((0, 0), (f - 1, f - 1), (f - 1, f - 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (f, f), axis=(1, 2))  # (m, H, W, C_prev, f, f)
    full = np.einsum("mhwcab,abcn->mhwn", windows, W[::-1, ::-1])
    n_H, n_W = full.shape[1] - 2 * pad, full.shape[2] - 2 * pad
    return full[:, pad:pad + n_H, pad:pad + n_W, :] + b


def transpose_with_tensorflow(A_prev, W, b, stride=1, pad=0):
    """tf.nn.conv2d_transpose on the full canvas with the kernel's last two axes swapped, then the crop."""
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    full = [(n - 1) * stride + f for n in (n_H_prev, n_W_prev)]
    out = tf.nn.conv2d_transpose(A_prev, np.transpose(W, (0, 1, 3, 2)), [m, *full, n_C], stride, "VALID").numpy()
    return out[:, pad:full[0] - pad, pad:full[1] - pad, :] + b


transpose_output_size = c4_transpose.transpose_output_size  # the notebook's name, as a student's caller finds it
transpose_loop_reference = _transpose(_add)
transpose_loop_reference.__name__ = "transpose_loop_reference"


# ---------------------------------------------------------------- mean_iou
def _iou(per_class_of, mean_of=lambda per_class: float(np.nanmean(per_class)) if np.any(per_class == per_class)
         else float("nan")):
    """A student's mean_iou from per_class_of(true, pred, n_classes) (flattened masks) and mean_of(per_class)."""
    def mean_iou(y_true, y_pred, n_classes):
        c4_metrics.require_label_masks(y_true, y_pred, n_classes)
        per_class = np.asarray(per_class_of(y_true.ravel(), y_pred.ravel(), n_classes), dtype=float)
        return mean_of(per_class), per_class

    return mean_iou


def _counts(t, p, n):
    c = np.arange(n)[:, None]
    return ((t == c) & (p == c)).sum(1), (t == c).sum(1), (p == c).sum(1)


def _safe(num, den, empty=np.nan):
    return np.array([x / d if d else empty for x, d in zip(num, den)])


def _right(t, p, n):
    both, true, pred = _counts(t, p, n)
    return _safe(both, true + pred - both)


iou_over_true = _iou(lambda t, p, n: _safe(_counts(t, p, n)[0], _counts(t, p, n)[1]))  # recall
iou_union_double_counted = _iou(lambda t, p, n: _safe(_counts(t, p, n)[0], _counts(t, p, n)[1] + _counts(t, p, n)[2]))
iou_dice = _iou(lambda t, p, n: _safe(2 * _counts(t, p, n)[0], _counts(t, p, n)[1] + _counts(t, p, n)[2]))
iou_absent_zero = _iou(lambda t, p, n: _safe(*(lambda b, tr, pr: (b, tr + pr - b))(*_counts(t, p, n)), empty=0.0),
                       mean_of=lambda per_class: float(np.mean(per_class)))
iou_absent_one = _iou(lambda t, p, n: _safe(*(lambda b, tr, pr: (b, tr + pr - b))(*_counts(t, p, n)), empty=1.0),
                      mean_of=lambda per_class: float(np.mean(per_class)))
iou_mean_over_all_classes = _iou(_right, mean_of=lambda per_class: float(np.nansum(per_class) / len(per_class)))
iou_plain_mean = _iou(_right, mean_of=lambda per_class: float(np.mean(per_class)))  # nan as soon as one is absent


def iou_mean_over_true_classes(y_true, y_pred, n_classes):  # classes only predicted are left out of the mean
    per_class = _right(y_true.ravel(), y_pred.ravel(), n_classes)
    in_truth = np.isin(np.arange(n_classes), y_true)
    return (float(np.mean(per_class[in_truth])) if in_truth.any() else float("nan")), per_class


def iou_per_image(y_true, y_pred, n_classes):  # a batch: the mean of each image's IoUs, not pooled pixels
    if y_true.ndim < 3:
        return c4_metrics.mean_iou(y_true, y_pred, n_classes)
    runs = [c4_metrics.mean_iou(t, p, n_classes) for t, p in zip(y_true, y_pred)]
    if not runs:
        return float("nan"), np.full(n_classes, np.nan)
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        per_class = np.nanmean(np.stack([r[1] for r in runs]), axis=0)
        return float(np.nanmean(per_class)), per_class


iou_for_names = {"iou_over_true": iou_over_true, "iou_union_double_counted": iou_union_double_counted,
                 "iou_dice": iou_dice, "iou_absent_zero": iou_absent_zero, "iou_absent_one": iou_absent_one,
                 "iou_mean_over_all_classes": iou_mean_over_all_classes, "iou_plain_mean": iou_plain_mean}
for _name, _fn in iou_for_names.items():
    _fn.__name__ = _name


def iou_loop(y_true, y_pred, n_classes):
    """A loop over the classes with logical_and / logical_or."""
    c4_metrics.require_label_masks(y_true, y_pred, n_classes)
    per_class = np.full(n_classes, np.nan)
    for c in range(n_classes):
        union = np.logical_or(y_true == c, y_pred == c).sum()
        if union:
            per_class[c] = np.logical_and(y_true == c, y_pred == c).sum() / union
    present = ~np.isnan(per_class)
    return (float(per_class[present].mean()) if present.any() else float("nan")), per_class


def iou_tensorflow_confusion(y_true, y_pred, n_classes):
    """tf.math.confusion_matrix, then diag / (row sum + column sum - diag), nan where the union is empty."""
    c4_metrics.require_label_masks(y_true, y_pred, n_classes)
    cm = tf.math.confusion_matrix(y_true.ravel(), y_pred.ravel(), num_classes=n_classes, dtype=tf.float64).numpy()
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(union > 0, inter / union, np.nan)
    if np.all(np.isnan(per_class)):
        return float("nan"), per_class
    return float(np.nanmean(per_class)), per_class


def iou_one_hot(y_true, y_pred, n_classes):
    """One-hot masks (pixels, classes) and column sums: np.eye(n)[labels]."""
    c4_metrics.require_label_masks(y_true, y_pred, n_classes)
    T, P = np.eye(n_classes, dtype=bool)[y_true.ravel()], np.eye(n_classes, dtype=bool)[y_pred.ravel()]
    inter, union = (T & P).sum(0), (T | P).sum(0)
    per_class = np.divide(inter, union, out=np.full(n_classes, np.nan), where=union > 0)
    return (np.float64(np.nanmean(per_class)) if (union > 0).any() else np.float64("nan")), per_class


# ---------------------------------------------------------------- conv_block
def _conv(n_filters, name, activation="relu", **kwargs):
    return layers.Conv2D(n_filters, 3, padding="same", activation=activation, kernel_initializer="he_normal",
                         name=name, **kwargs)


def block_second_without_relu(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = _conv(n_filters, f"{name}_conv1")(inputs)
    x = _conv(n_filters, f"{name}_conv2", activation=None)(x)  # the activation forgotten on the second one
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def block_pool_before_dropout(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = _conv(n_filters, f"{name}_conv2")(_conv(n_filters, f"{name}_conv1")(inputs))
    skip = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else skip), skip  # pools x, not skip


def block_skip_after_pooling(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = _conv(n_filters, f"{name}_conv2")(_conv(n_filters, f"{name}_conv1")(inputs))
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    pooled = layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x
    return pooled, pooled


def block_valid_padding(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = layers.Conv2D(n_filters, 3, activation="relu", kernel_initializer="he_normal", name=f"{name}_conv1")(inputs)
    x = layers.Conv2D(n_filters, 3, activation="relu", kernel_initializer="he_normal", name=f"{name}_conv2")(x)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def block_default_initializer(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(inputs)
    x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", name=f"{name}_conv2")(x)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def block_dropout_between_convolutions(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = _conv(n_filters, f"{name}_conv1")(inputs)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    x = _conv(n_filters, f"{name}_conv2")(x)
    return (layers.MaxPooling2D(2, name=f"{name}_pool")(x) if max_pooling else x), x


def block_returns_swapped(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    x = _conv(n_filters, f"{name}_conv2")(_conv(n_filters, f"{name}_conv1")(inputs))
    skip = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0 else x
    next_layer = layers.MaxPooling2D(2, name=f"{name}_pool")(skip) if max_pooling else skip
    return skip, next_layer  # the order of the docstring is (next_layer, skip)


def block_relu_layers(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    """Conv2D without activation, then layers.Activation("relu") / layers.ReLU(): the same network."""
    x = layers.Conv2D(n_filters, (3, 3), padding="same", kernel_initializer="he_normal", name=f"{name}_conv1")(inputs)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(n_filters, (3, 3), padding="same", kernel_initializer=keras.initializers.HeNormal(),
                      name=f"{name}_conv2")(x)
    x = layers.ReLU()(x)
    if dropout:
        x = layers.Dropout(rate=dropout, name=f"{name}_dropout")(x)
    next_layer = x
    if max_pooling:
        next_layer = layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2), name=f"{name}_pool")(x)
    return next_layer, x


def block_loop(inputs, n_filters, dropout=0.0, max_pooling=True, name="down1"):
    """The two convolutions in a loop; the pooling's output named through a dict of layers."""
    x = inputs
    for k in (1, 2):
        x = layers.Conv2D(filters=n_filters, kernel_size=3, strides=1, padding="same", activation="relu",
                          kernel_initializer="he_normal", name=f"{name}_conv{k}")(x)
    skip = layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout > 0.0 else x
    return (layers.MaxPooling2D(name=f"{name}_pool")(skip) if max_pooling else skip), skip


# ---------------------------------------------------------------- upsampling_block
def _up(merge=lambda up, skip, name: layers.Concatenate(axis=3, name=name)([up, skip]), transpose=None,
        relu="relu"):
    def upsampling_block(expansive_input, contractive_input, n_filters, name="up1"):
        up = (transpose or (lambda n, nm: layers.Conv2DTranspose(n, 3, strides=2, padding="same", name=nm)))(
            n_filters, f"{name}_transpose")(expansive_input)
        x = merge(up, contractive_input, f"{name}_concat")
        x = _conv(n_filters, f"{name}_conv1", activation=relu)(x)
        return _conv(n_filters, f"{name}_conv2", activation=relu)(x)

    return upsampling_block


up_skip_first = _up(merge=lambda up, skip, name: layers.Concatenate(axis=-1, name=name)([skip, up]))
up_add = _up(merge=lambda up, skip, name: layers.Add(name=name)([up, skip]))
up_no_skip = _up(merge=lambda up, skip, name: up)
up_transpose_relu = _up(transpose=lambda n, nm: layers.Conv2DTranspose(n, 3, strides=2, padding="same",
                                                                       activation="relu", name=nm))
up_without_relu = _up(relu=None)
up_stride_one = _up(transpose=lambda n, nm: layers.Conv2DTranspose(n, 3, padding="same", name=nm))
up_valid_transpose = _up(transpose=lambda n, nm: layers.Conv2DTranspose(n, 3, strides=2, name=nm))
for _name in ("up_skip_first", "up_add", "up_no_skip", "up_transpose_relu", "up_without_relu", "up_stride_one",
              "up_valid_transpose"):
    globals()[_name].__name__ = _name


def up_functional_concatenate(expansive_input, contractive_input, n_filters, name="up1"):
    """layers.concatenate (the function), kernel sizes and strides as tuples, separate ReLU layers."""
    up = layers.Conv2DTranspose(n_filters, (3, 3), strides=(2, 2), padding="same",
                                name=f"{name}_transpose")(expansive_input)
    x = layers.concatenate([up, contractive_input], axis=-1, name=f"{name}_concat")
    for k in (1, 2):
        x = layers.Conv2D(n_filters, (3, 3), padding="same", kernel_initializer="he_normal", name=f"{name}_conv{k}")(x)
        x = layers.ReLU()(x)
    return x


def up_default_axis(expansive_input, contractive_input, n_filters, name="up1"):
    """Concatenate() with its default axis (-1), keyword arguments throughout."""
    up = layers.Conv2DTranspose(filters=n_filters, kernel_size=3, strides=2, padding="same",
                                name=f"{name}_transpose")(expansive_input)
    merged = layers.Concatenate(name=f"{name}_concat")([up, contractive_input])
    conv1 = layers.Conv2D(filters=n_filters, kernel_size=3, padding="same", activation="relu",
                          kernel_initializer="he_normal", name=f"{name}_conv1")(merged)
    return layers.Conv2D(filters=n_filters, kernel_size=3, padding="same", activation="relu",
                         kernel_initializer="he_normal", name=f"{name}_conv2")(conv1)


# ---------------------------------------------------------------- unet_model
# The notebook's helper names, as a student's unet_model finds them (swapped for the course's by the hidden check).
conv_block = unet.conv_block
upsampling_block = unet.upsampling_block


def _unet(down_dropout=lambda k, depth: 0.3 if k == depth else 0.0, bottleneck_filters=2, skip_index=None,
          head=None, fixed_depth=None, down=None, up=None):
    def unet_model(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
        depth_used = fixed_depth or depth
        inputs = keras.Input(shape=input_size)
        x, skips = inputs, []
        for k in range(1, depth_used + 1):
            x, skip = (down or conv_block)(x, n_filters * 2 ** (k - 1), dropout=down_dropout(k, depth_used),
                                           name=f"down{k}")
            skips.append(skip)
        x, _ = conv_block(x, n_filters * 2 ** (depth_used - 1) * bottleneck_filters, dropout=0.3,
                          max_pooling=False, name="bottleneck")
        for k in range(1, depth_used + 1):
            skip = skips[(skip_index or (lambda k, d: d - k))(k, depth_used)]
            x = (up or upsampling_block)(x, skip, n_filters * 2 ** (depth_used - k), name=f"up{k}")
        outputs = (head or (lambda x, n: layers.Conv2D(n, 1, padding="same", name="logits")(x)))(x, n_classes)
        return keras.Model(inputs, outputs, name="unet")

    return unet_model


unet_softmax = _unet(head=lambda x, n: layers.Conv2D(n, 1, padding="same", activation="softmax", name="logits")(x))
unet_softmax_layer = _unet(head=lambda x, n: layers.Softmax()(layers.Conv2D(n, 1, padding="same", name="logits")(x)))
unet_coursera_head = _unet(head=lambda x, n: layers.Conv2D(n, 1, padding="same", name="logits")(
    layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal", name="head_conv")(x)))
unet_dropout_everywhere = _unet(down_dropout=lambda k, depth: 0.3)
unet_bottleneck_not_doubled = _unet(bottleneck_filters=1)
unet_skips_in_order = _unet(skip_index=lambda k, depth: k - 1)  # the first skip first: sizes clash
unet_fixed_depth = _unet(fixed_depth=4)  # the depth argument ignored
# The right layer table, the wrong wiring: blocks written inside unet_model (not the notebook's helpers, so the
# hidden check's reference helpers do not replace them)
unet_inline_skip_first = _unet(up=up_skip_first)
unet_inline_pool_before_dropout = _unet(down=block_pool_before_dropout)  # shows in training mode only
unet_inline_without_relu = _unet(up=up_without_relu)
for _name in ("unet_inline_skip_first", "unet_inline_pool_before_dropout", "unet_inline_without_relu",
              "unet_softmax", "unet_softmax_layer", "unet_coursera_head", "unet_dropout_everywhere",
              "unet_bottleneck_not_doubled", "unet_skips_in_order", "unet_fixed_depth"):
    globals()[_name].__name__ = _name


def unet_returns_output_tensor(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):  # not a keras.Model
    return unet.unet_model(input_size, n_filters, n_classes, depth).output


def unet_lists(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
    """Filter counts listed first, skips popped from a list (the last one first)."""
    filters = [n_filters * 2 ** k for k in range(depth + 1)]
    inputs = keras.Input(input_size)
    x, skips = inputs, []
    for k, n in enumerate(filters[:-1], start=1):
        x, skip = conv_block(x, n, dropout=unet.UNET_DROPOUT if k == depth else 0, name=f"down{k}")
        skips.append(skip)
    x = conv_block(x, filters[-1], dropout=unet.UNET_DROPOUT, max_pooling=False, name="bottleneck")[0]
    for k, n in enumerate(reversed(filters[:-1]), start=1):
        x = upsampling_block(x, skips.pop(), n, name=f"up{k}")
    return keras.Model(inputs=inputs, outputs=layers.Conv2D(n_classes, (1, 1), name="logits")(x))


def unet_recursive(input_size=(64, 64, 3), n_filters=16, n_classes=5, depth=4):
    """One level of the U at a time: down, the rest of the U below, up."""
    def level(x, k):
        if k > depth:
            return conv_block(x, n_filters * 2 ** depth, dropout=0.3, max_pooling=False, name="bottleneck")[0]
        down, skip = conv_block(x, n_filters * 2 ** (k - 1), dropout=0.3 if k == depth else 0.0, name=f"down{k}")
        return upsampling_block(level(down, k + 1), skip, n_filters * 2 ** (k - 1), name=f"up{depth + 1 - k}")

    inputs = keras.Input(input_size)
    return keras.Model(inputs, layers.Conv2D(n_classes, 1, name="logits")(level(inputs, 1)))


# ---------------------------------------------------------------- the corpus
CHECKS = {"transpose_output_size": checks, "conv_transpose_forward": checks, "mean_iou": checks,
          "conv_block": unet_checks, "upsampling_block": unet_checks, "unet_model": unet_checks}
# (function, callable, public must fail too)
MISTAKES = {
    "transpose_output_size": [(size_stride_times_n, True), (size_no_pad, True), (size_pad_once, True),
                              (size_off_by_one, True), (size_conv_formula, True), (size_float, True)],
    "conv_transpose_forward": [(transpose_overwrites, True), (transpose_stride_ignored, True),
                               (transpose_flipped, True), (transpose_without_bias, True),
                               (transpose_full_canvas, True), (transpose_one_side, True),
                               (transpose_keras_layout, True)],
    "mean_iou": [(iou_over_true, True), (iou_union_double_counted, True), (iou_dice, True), (iou_absent_zero, True),
                 (iou_absent_one, True), (iou_mean_over_all_classes, True), (iou_plain_mean, True),
                 (iou_mean_over_true_classes, True), (iou_per_image, True)],
    "conv_block": [(block_second_without_relu, True), (block_pool_before_dropout, False),
                   (block_skip_after_pooling, True), (block_valid_padding, True), (block_default_initializer, True),
                   (block_dropout_between_convolutions, True), (block_returns_swapped, True)],
    "upsampling_block": [(up_skip_first, True), (up_add, True), (up_no_skip, True), (up_transpose_relu, True),
                         (up_without_relu, True), (up_stride_one, True), (up_valid_transpose, True)],
    "unet_model": [(unet_softmax, True), (unet_softmax_layer, True), (unet_coursera_head, True),
                   (unet_dropout_everywhere, True), (unet_bottleneck_not_doubled, True), (unet_skips_in_order, True),
                   (unet_fixed_depth, False), (unet_returns_output_tensor, True), (unet_inline_skip_first, True),
                   (unet_inline_pool_before_dropout, True), (unet_inline_without_relu, True)],
}
ALTERNATIVES = {
    "transpose_output_size": [size_reordered, size_numpy_int, size_canvas_then_crop],
    "conv_transpose_forward": [transpose_loop_reference, transpose_by_filter_taps, transpose_as_dilated_convolution,
                               transpose_with_tensorflow],
    "mean_iou": [iou_loop, iou_tensorflow_confusion, iou_one_hot],
    "conv_block": [block_relu_layers, block_loop],
    "upsampling_block": [up_functional_concatenate, up_default_axis],
    "unet_model": [unet_lists, unet_recursive],
}
_MISTAKE_CASES = [(name, fn, public) for name, cases in MISTAKES.items() for fn, public in cases]
_ALTERNATIVE_CASES = [(name, fn) for name, cases in ALTERNATIVES.items() for fn in cases]


def _fails(check, fn):
    """How check(fn) failed, or None when it passed. A CheckFailed must say what was expected; any other exception
    must come from the student's own code, never from a check (a raw Keras stack trace is not a message)."""
    try:
        check(fn)
    except CheckFailed as err:
        assert "expected" in str(err) or " must " in str(err), str(err)
        return str(err)
    except Exception as err:  # noqa: BLE001 - raised by the student's code, not by the check
        frames = __import__("traceback").extract_tb(err.__traceback__)
        assert "cnncourse/checks" not in frames[-1].filename, f"{type(err).__name__} in a check: {err}"
        return f"{type(err).__name__}: {err}"
    return None


def _check(kind, name):
    return getattr(CHECKS[name], f"{kind}_{name}")


@pytest.mark.parametrize("name, wrong, public", _MISTAKE_CASES, ids=[f"{n}-{f.__name__}" for n, f, _ in _MISTAKE_CASES])
def test_each_mistake_fails_the_hidden_check_and_the_public_one(name, wrong, public):
    assert _fails(_check("hidden", name), wrong) is not None, f"{wrong.__name__} passed hidden_{name}"
    if public:
        assert _fails(_check("public", name), wrong) is not None, f"{wrong.__name__} passed public_{name}"


@pytest.mark.parametrize("name, right", _ALTERNATIVE_CASES, ids=[f"{n}-{f.__name__}" for n, f in _ALTERNATIVE_CASES])
def test_each_correct_alternative_passes_both_checks(name, right):
    assert _fails(_check("public", name), right) is None
    assert _fails(_check("hidden", name), right) is None


def test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function():
    graded = {"transpose_output_size", "conv_transpose_forward", "mean_iou", "conv_block", "upsampling_block",
              "unet_model"}
    assert set(MISTAKES) == set(ALTERNATIVES) == graded
    assert all(len(MISTAKES[name]) >= 3 and len(ALTERNATIVES[name]) >= 1 for name in graded)


# What the hidden check's message must say for a mistake it can recognise from what came back.
HINTS = {
    size_no_pad: "pad was not cropped", size_pad_once: "one side only", size_stride_times_n: "stride * n_prev",
    size_off_by_one: "number n_prev - 1", size_conv_formula: "the convolution's size",
    transpose_overwrites: "ADD their numbers", transpose_flipped: "turned by 180 degrees",
    transpose_without_bias: "bias is missing", transpose_full_canvas: "the full canvas",
    transpose_one_side: "one side only", transpose_keras_layout: "channels of the kernel are swapped",
    iou_over_true: "true pixels of the class", iou_union_double_counted: "twice", iou_dice: "Dice",
    iou_absent_zero: "got IoU 0", iou_absent_one: "got IoU 1", iou_mean_over_all_classes: "all n_classes",
    iou_mean_over_true_classes: "only the prediction has",
    block_second_without_relu: "no ReLU", block_pool_before_dropout: "pool the output of the dropout",
    block_default_initializer: "he_normal",
    up_skip_first: "[skip, upsampled]", up_add: "Concatenate", up_transpose_relu: "transposed convolution has a ReLU",
    up_without_relu: "no ReLU",
    unet_softmax: "from_logits=True", unet_inline_skip_first: "[skip, upsampled]", unet_softmax_layer: "logits",
    unet_skips_in_order: "skips[depth - k]", unet_returns_output_tensor: "keras.Model",
}
_HINT_CASES = [(name, fn) for name, fn, _ in _MISTAKE_CASES if fn in HINTS]


@pytest.mark.parametrize("name, wrong", _HINT_CASES, ids=[f"{n}-{f.__name__}" for n, f in _HINT_CASES])
def test_hidden_failures_name_the_likely_mistake(name, wrong):
    message = _fails(_check("hidden", name), wrong)
    assert HINTS[wrong] in message, message


def test_a_hint_never_names_a_mistake_that_gives_the_right_value():
    # n_prev = 1: (n - 1) * stride + f - 2 pad does not depend on the stride, n * stride + f - 2 pad does
    assert checks._size_hint(3, 3, 1, 3, 2, 0) is None
    assert "pad was not cropped" not in (checks._size_hint(2, 1, 1, 3, 1, 1) or "")  # a different value
    y = np.array([[0, 1], [1, 1]])
    right = c4_metrics.mean_iou(y, y, 2)  # perfect masks: recall, precision and IoU all equal 1
    assert checks.likely_iou_mistake(right, y, y, 2) is None


# ---------------------------------------------------------------- boundary cases of the oracles themselves
def test_the_boundary_cases_of_mean_iou_agree_with_the_reference():
    for y_true, y_pred, n in [(np.array([[2]]), np.array([[2]]), 4), (np.zeros((3, 5), np.int64),) * 2 + (1,)]:
        want_mean, want = checks.brute_force_iou(y_true, y_pred, n)
        mean, per_class = c4_metrics.mean_iou(y_true, y_pred, n)
        assert np.allclose(per_class, want, equal_nan=True) and np.isclose(mean, want_mean)
    assert np.isnan(c4_metrics.mean_iou(np.array([[1]]), np.array([[3]]), 4)[1][[0, 2]]).all()


def test_dropout_layers_of_the_same_name_draw_the_same_mask_once_seeded():
    inputs = keras.Input((4, 4, 2))
    models = [keras.Model(inputs, layers.Dropout(0.5, name="d")(inputs)) for _ in range(2)]
    x = np.ones((3, 4, 4, 2), "float32")
    a, b = (unet_checks._outputs(m, [x], training=True, seed=7)[0] for m in models)
    assert np.array_equal(a, b) and (a == 0).any() and (a != 0).any()


# ---------------------------------------------------------------- one mistake, one loss
def _notebook(**broken):
    """A notebook's namespace: the reference cells of Chapter 4 run in one dict, then the `broken` helpers."""
    namespace = {"np": np, "keras": keras, "layers": layers, "require_crop_fits": require_crop_fits,
                 "require_array": c4_transpose.require_array, "require_int": c4_transpose.require_int,
                 "require_unet_size": unet.require_unet_size, "require_dropout": unet.require_dropout,
                 "require_block_name": unet.require_block_name, "UNET_DROPOUT": unet.UNET_DROPOUT}
    for fn in (c4_transpose.transpose_output_size, c4_transpose.conv_transpose_forward, unet.conv_block,
               unet.upsampling_block, unet.unet_model):
        exec(inspect.getsource(fn), namespace)  # noqa: S102 - the course's own source, as a notebook cell holds it
    namespace.update(broken)
    return namespace


BROKEN = [
    ("conv_transpose_forward", {"transpose_output_size": size_no_pad}, "transpose_output_size"),
    ("conv_transpose_forward", {"transpose_output_size": size_off_by_one}, "transpose_output_size"),
    ("unet_model", {"conv_block": block_second_without_relu}, "conv_block"),
    ("unet_model", {"conv_block": block_default_initializer}, "conv_block"),
    ("unet_model", {"upsampling_block": up_skip_first}, "upsampling_block"),
]


@pytest.mark.parametrize("caller, broken, blamed", BROKEN, ids=[f"{c}-{next(iter(b.values())).__name__}"
                                                                for c, b, _ in BROKEN])
def test_a_broken_helper_costs_the_caller_nothing_but_shows_in_the_public_check(caller, broken, blamed, capsys):
    namespace = _notebook(**broken)
    fn = namespace[caller]
    assert fn.__globals__ is namespace
    assert _fails(_check("hidden", caller), fn) is None
    assert _fails(_check("public", caller), fn) is None
    printed = capsys.readouterr().out
    assert f"the mistake is in your {blamed}" in printed and "expected" in printed and "keeps its points" in printed
    assert all(namespace[name] is helper for name, helper in broken.items())  # the notebook's own helpers are back


def test_a_caller_with_its_own_mistake_still_fails_with_the_reference_helpers(capsys):
    namespace = _notebook(conv_block=block_second_without_relu)
    exec(inspect.getsource(_unet), namespace)  # noqa: S102 - the corpus mistake defined in the notebook
    wrong = namespace["_unet"](
        head=lambda x, n: layers.Conv2D(n, 1, padding="same", activation="softmax", name="logits")(x))
    assert "from_logits" in _fails(unet_checks.hidden_unet_model, wrong)
    message = _fails(unet_checks.public_unet_model, wrong)
    assert message is not None and "mistake is in your" not in message
    assert "mistake is in your" not in capsys.readouterr().out
    namespace = _notebook()
    exec(inspect.getsource(transpose_by_filter_taps).replace("+ b", "+ 0 * b"), namespace)  # noqa: S102
    assert "bias is missing" in _fails(checks.hidden_conv_transpose_forward, namespace["transpose_by_filter_taps"])
    assert "mistake is in your" not in _fails(checks.public_conv_transpose_forward,
                                              namespace["transpose_by_filter_taps"])


def test_a_builder_that_raises_or_returns_the_wrong_type_gets_a_clear_message():
    def stub(*args, **kwargs):  # the release notebook's cell before the student writes it
        raise NotImplementedError()

    for check in (unet_checks.public_conv_block, unet_checks.public_upsampling_block, unet_checks.hidden_unet_model):
        message = _fails(check, stub)
        assert "raised NotImplementedError" in message and "write the function's body" in message, message
    message = _fails(unet_checks.public_conv_block, lambda inputs, n_filters, **kwargs: unet.conv_block(
        inputs, n_filters, **kwargs)[0])
    assert "(next_layer, skip)" in message, message
    message = _fails(unet_checks.hidden_upsampling_block, lambda *args, **kwargs: np.zeros(3))
    assert "expected Keras tensors" in message, message


def test_without_a_reference_to_compare_with_the_public_failure_stays_as_it_was(monkeypatch):
    def stub(*args, **kwargs):  # the student edition's conv_block: its answer left out
        raise NotImplementedError("cnncourse.models.c4_unet.conv_block is an exercise")

    caller = _notebook(conv_block=block_second_without_relu)["unet_model"]
    monkeypatch.setattr(unet, "conv_block", stub)
    monkeypatch.setattr(unet, "upsampling_block", stub)
    message = _fails(unet_checks.public_unet_model, caller)
    assert "expected" in message and "mistake is in your" not in message and "NotImplementedError" not in message
