"""The skip explorer: a trained U-Net's predictions with some of its skip connections cut, scene by scene.

Pure functions (no display needed):
    skip_levels(model) -> list of dicts        every skip connection: the contracting block it leaves, the expanding
                                               block it joins, its height, width and channels
    predict_with_skips(model, images, keep, fill) -> logits   the U-Net run layer by layer, the skips not in
                                               `keep` replaced by their mean over the images (or by zeros)
    segmentation_scores(masks, predicted, n_classes) -> dict   pixel accuracy, IoU per class, mean IoU
    skip_figure(image, mask, full, cut, class_names, kept, depth) -> Figure
The widget:
    skip_explorer(model, images, masks, class_names) -> Explorer   controls "scene" and one checkbox per skip

Cutting a skip means the expanding block receives, in place of the contracting block's features, each channel's
average over the scenes (or zeros): the same trained weights, without what the skip knows about this scene. The
network was trained with every skip, so this shows what it has learned to take from each of them, not what a U-Net
trained without skips would do.
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.widgets.conv_explorer import Explorer

CAPTION = (
    "<b>Try this.</b> Untick one skip at a time and compare the last two panels and the mean IoU under the "
    "controls. A cut skip carries its features' average over the scenes instead of this scene's: the same trained "
    "weights, without what that skip knows about the scene. Which skip does this network lean on most? Which one, "
    "cut, keeps the outlines but mixes up the classes? This network was trained with every skip; one trained "
    "without them would learn to make do, so this shows what this network relies on, not what a U-Net needs."
)


def skip_levels(model):
    """The skip connections of a U-Net built with the course's layer names (cnncourse.models.c4_unet).

    Returns:
        list of dicts, one per level k = 1 .. depth (k = 1 is full size): "level", "from" (down<k>), "to"
        (up<depth + 1 - k>) and "shape" (n_H, n_W, n_C) of the skip.
    Raises:
        ValueError when the model has no down1_conv2 / up1_concat layers.
    """
    names = {layer.name for layer in model.layers}
    depth = 0
    while f"down{depth + 1}_conv2" in names and f"up{depth + 1}_concat" in names:
        depth += 1
    if depth == 0:
        raise ValueError("model must be a U-Net with the course's layer names (down1_conv2, ..., up1_concat, ...)")
    return [{"level": k, "from": f"down{k}", "to": f"up{depth + 1 - k}",
             "shape": tuple(model.get_layer(f"down{k}_conv2").output.shape[1:])} for k in range(1, depth + 1)]


def _call(model, name, x):
    layer = {layer.name: layer for layer in model.layers}.get(name)
    return x if layer is None else layer(x)  # a block without dropout has no <name>_dropout layer


def _contract(model, x, depth):
    """The contracting path: the skips of levels 1 .. depth and the bottleneck's input."""
    skips = []
    for k in range(1, depth + 1):
        x = _call(model, f"down{k}_dropout", _call(model, f"down{k}_conv2", _call(model, f"down{k}_conv1", x)))
        skips.append(x)
        x = _call(model, f"down{k}_pool", x)
    return skips, x


def predict_with_skips(model, images, keep=None, fill="mean", batch_size=32):
    """Run the U-Net layer by layer, the skips of the levels not in `keep` replaced by a fill.

    Args:
        model: a trained U-Net with the course's layer names.
        images: (N, n_H, n_W, n_C) float array.
        keep: the levels (1 = full size .. depth) whose skips are kept; None keeps them all (the model unchanged).
        fill: what a cut skip carries instead: "mean" (each channel's mean over all `images` and positions: the
            usual size of its features, nothing about this scene) or "zeros".
        batch_size: images per call.
    Returns:
        float32 array (N, n_H, n_W, n_classes): the logits.
    """
    import keras

    depth = len(skip_levels(model))
    keep = set(range(1, depth + 1)) if keep is None else set(keep)
    unknown = keep - set(range(1, depth + 1))
    if unknown:
        raise ValueError(f"keep must hold levels in 1..{depth}, got {sorted(unknown)}")
    if fill not in ("mean", "zeros"):
        raise ValueError(f"fill must be 'mean' or 'zeros', got {fill!r}")
    images = np.asarray(images, dtype=np.float32)
    batches = [images[start:start + batch_size] for start in range(0, len(images), batch_size)]
    means = [0.0] * depth
    if fill == "mean" and len(keep) < depth:
        sums = [0.0] * depth
        for batch in batches:
            skips, _ = _contract(model, batch, depth)
            sums = [total + np.sum(keras.ops.convert_to_numpy(s), axis=(0, 1, 2)) for total, s in zip(sums, skips)]
        means = [total / (len(images) * shape[0] * shape[1])
                 for total, shape in zip(sums, (lv["shape"] for lv in skip_levels(model)))]
    outputs = []
    for batch in batches:
        skips, x = _contract(model, batch, depth)
        skips = [s if k in keep else keras.ops.zeros_like(s) + np.asarray(means[k - 1], dtype=np.float32)
                 for k, s in enumerate(skips, start=1)]
        for step in ("conv1", "conv2", "dropout"):
            x = _call(model, f"bottleneck_{step}", x)
        for k in range(1, depth + 1):
            merged = model.get_layer(f"up{k}_concat")([_call(model, f"up{k}_transpose", x), skips[depth - k]])
            x = _call(model, f"up{k}_conv2", _call(model, f"up{k}_conv1", merged))
        outputs.append(keras.ops.convert_to_numpy(_call(model, "logits", x)))
    return np.concatenate(outputs).astype(np.float32)


def segmentation_scores(masks, predicted, n_classes):
    """Pixel accuracy and IoU per class over all pixels of all images.

    Returns:
        dict with "accuracy" (float), "iou" (float array (n_classes,), nan for a class in neither truth nor
        prediction) and "mean_iou" (the mean over the other classes).
    """
    masks, predicted = np.asarray(masks).ravel(), np.asarray(predicted).ravel()
    iou = np.full(n_classes, np.nan)
    for c in range(n_classes):
        union = np.sum((masks == c) | (predicted == c))
        if union:
            iou[c] = np.sum((masks == c) & (predicted == c)) / union
    return {"accuracy": float(np.mean(masks == predicted)), "iou": iou, "mean_iou": float(np.nanmean(iou))}


def skip_text(levels, kept, full, cut, class_names, n_images):
    """The skips kept and cut, then a table: the mean IoU, the pixel accuracy and the IoU of each class, of the whole
    model and of the cut one, on all the images."""
    lines = ["skips: " + "; ".join(f"{lv['from']} -> {lv['to']} {'kept' if lv['level'] in kept else 'CUT'}"
                                   for lv in levels),
             f"{'on ' + str(n_images) + ' scenes':<14} {'mean IoU':>8} {'pixels':>7}  IoU of "
             + " ".join(f"{c[:10]:>10}" for c in class_names)]
    for name, scores in (("every skip", full), ("as set above", cut)):
        per_class = " ".join(f"{'-' if np.isnan(v) else f'{v:.2f}':>10}" for v in scores["iou"])
        lines.append(f"{name:<14} {scores['mean_iou']:>8.3f} {scores['accuracy']:>7.1%}  {'':6} {per_class}")
    return "\n".join(lines)


def skip_figure(image, mask, full, cut, class_names, kept, depth):
    """Four panels: the scene, its true mask, the prediction with every skip, the prediction with the skips cut.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    colours = ListedColormap(plt.get_cmap("tab10").colors[:len(class_names)])
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.4), layout="constrained")
    cut_levels = [k for k in range(1, depth + 1) if k not in kept]
    titles = ["scene", "true mask", "every skip kept",
              "skips cut: " + (", ".join(f"level {k}" for k in cut_levels) if cut_levels else "none")]
    for ax, picture, title in zip(axes, (image, mask, full, cut), titles):
        if picture.ndim == 3:
            ax.imshow(np.clip(picture, 0, 1))
        else:
            shown = ax.imshow(picture, cmap=colours, vmin=-0.5, vmax=len(class_names) - 0.5, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(shown, ax=list(axes), ticks=range(len(class_names)), shrink=0.8)
    bar.ax.set_yticklabels(class_names)
    fig.suptitle("U-Net predictions, the same trained weights with and without skip connections", fontsize=11)
    return fig


def skip_explorer(model, images, masks, class_names):
    """Build the skip explorer on held-out scenes and draw it once.

    Args:
        model: a trained U-Net with the course's layer names; images: (N, n_H, n_W, 3); masks: (N, n_H, n_W) ints;
        class_names: names of the classes, background first.
    Returns:
        Explorer with controls "scene" (IntSlider) and "skip 1" .. "skip <depth>" (Checkboxes, level 1 the full-size
        skip), all ticked at first.
    """
    images = np.asarray(images, dtype=np.float32)
    masks = np.asarray(masks)
    if images.ndim != 4 or masks.shape != images.shape[:3]:
        raise ValueError(f"images must be (N, n_H, n_W, n_C) and masks (N, n_H, n_W), got {images.shape} and "
                         f"{masks.shape}")
    class_names = list(class_names)
    levels = skip_levels(model)
    depth = len(levels)
    controls = {"scene": widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="scene",
                                           continuous_update=False)}
    for lv in levels:
        h, w, c = lv["shape"]
        controls[f"skip {lv['level']}"] = widgets.Checkbox(
            value=True, description=f"skip {lv['level']}: {lv['from']} -> {lv['to']} ({h}x{w}x{c})", indent=False)
    cache = {}

    def predicted(kept):
        if kept not in cache:  # the whole held-out set once per choice of skips
            cache[kept] = np.argmax(predict_with_skips(model, images, kept), axis=-1)
        return cache[kept]

    def draw(values):
        kept = frozenset(lv["level"] for lv in levels if values[f"skip {lv['level']}"])
        full, cut = predicted(frozenset(range(1, depth + 1))), predicted(kept)
        k = values["scene"]
        figure = skip_figure(images[k], masks[k], full[k], cut[k], class_names, kept, depth)
        scores = [segmentation_scores(masks, p, len(class_names)) for p in (full, cut)]
        return figure, skip_text(levels, kept, *scores, class_names, len(images))

    box = Explorer(CAPTION, controls, draw,
                   [[controls["scene"]], [controls[f"skip {lv['level']}"] for lv in levels]])
    box.update()
    return box
