"""Chapter 4: train the U-Net on generated segmentation scenes, measure the IoU per class on held-out scenes.

Training and held-out scenes come from cnncourse.data.segmentation with different seeds, so no scene is in both.
"""

import time

import keras
import numpy as np

from cnncourse.data.segmentation import SEGMENTATION_CLASSES, make_segmentation_scenes
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c4_unet import UNET_DROPOUT
from cnncourse.models.twins import build_unet

# fast: a small U-Net (8 filters, depth 3) in about a minute on a 2-core CPU; held-out mean IoU 0.83 (measured).
# full: the default U-Net (16 filters, depth 4), sized to meet the held-out mean IoU >= 0.9 target on a CPU too: 0.955
# on 1,000 held-out scenes (digits 0.86) in 42 minutes on 2 shared cores (docs/benchmarks.md). An exploratory run of
# 3,000 scenes, 10 epochs stopped at 0.899; full mode sees 3.2x the images.
UNET_TRAINING = {
    "fast": {"n_train": 1000, "n_test": 200, "image_size": 64, "n_filters": 8, "depth": 3, "epochs": 8,
             "batch_size": 8, "learning_rate": 3e-3},
    "full": {"n_train": 8000, "n_test": 1000, "image_size": 64, "n_filters": 16, "depth": 4, "epochs": 12,
             "batch_size": 16, "learning_rate": 2e-3},
    "grade": {"n_train": 64, "n_test": 16, "image_size": 64, "n_filters": 4, "depth": 2, "epochs": 1,
              "batch_size": 32, "learning_rate": 3e-3},
}
SETTING_KEYS = ("n_train", "n_test", "image_size", "n_filters", "depth", "epochs", "batch_size", "learning_rate")
TEST_SEED_OFFSET = 10_000  # held-out scenes are drawn with seed + this
CLASS_COLOURS = ("#303030", "tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:purple", "tab:brown",
                 "tab:red", "tab:green", "tab:blue")


def train_unet(settings, seed=0):
    """Generate scenes, train unet_model with per-pixel sparse cross-entropy (Adam, cosine decay), measure IoU.

    Args:
        settings: dict with the keys of UNET_TRAINING["fast"], e.g. UNET_TRAINING[config.mode()].
        seed: seeds the scenes (training: seed, held out: seed + TEST_SEED_OFFSET) and the weights.
    Returns:
        dict with "model", "history" (per-epoch training loss), "test" (the held-out scenes dict), "predicted"
        (int64 (n_test, H, W) argmax classes), "mean_iou" (mean over the classes present in the truth or the
        prediction), "per_class_iou" (list, nan for a class in neither), "seconds" (fit time) and
        "images_per_second" (training images per second of fit).
    """
    require_settings(settings, SETTING_KEYS)
    keras.utils.set_random_seed(seed)
    size = settings["image_size"]
    train = make_segmentation_scenes(settings["n_train"], size=size, seed=seed)
    test = make_segmentation_scenes(settings["n_test"], size=size, seed=seed + TEST_SEED_OFFSET)
    n_classes = len(SEGMENTATION_CLASSES)
    model = build_unet((size, size, 3), settings["n_filters"], n_classes, settings["depth"], UNET_DROPOUT)
    steps = settings["epochs"] * -(-settings["n_train"] // settings["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(settings["learning_rate"], steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    history = model.fit(train["images"], train["masks"], epochs=settings["epochs"],
                        batch_size=settings["batch_size"], verbose=0).history
    seconds = time.perf_counter() - start
    predicted = predict_masks(model, test["images"])
    per_class = _iou_per_class(test["masks"], predicted, n_classes)
    return {"model": model, "history": history["loss"], "test": test, "predicted": predicted,
            "mean_iou": float(np.nanmean(per_class)), "per_class_iou": per_class.tolist(), "seconds": seconds,
            "images_per_second": settings["epochs"] * settings["n_train"] / seconds}


def predict_masks(model, images, batch_size=64):
    """The class of every pixel: argmax of the model's logits, int64 (N, H, W) for images (N, H, W, 3)."""
    logits = model.predict(np.asarray(images, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.argmax(logits, axis=-1).astype(np.int64)


def _iou_per_class(true_masks, predicted_masks, n_classes):
    """IoU of every class over all pixels of all images, float64 (n_classes,); nan where the union is empty."""
    true, pred = np.asarray(true_masks).ravel().astype(np.int64), np.asarray(predicted_masks).ravel().astype(np.int64)
    confusion = np.bincount(true * n_classes + pred, minlength=n_classes ** 2).reshape(n_classes, n_classes)
    inter = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), np.nan)


def plot_segmentations(images, true_masks, predicted_masks, class_names, n=4, title=None):
    """Input, true mask and (if given) predicted mask of the first n scenes, one column per scene, fixed colours.

    Args:
        images: (N, H, W, 3) in [0, 1]; true_masks: int (N, H, W) class indices; predicted_masks: the same shape,
            or None to show the data only (two rows).
        class_names: names indexed by the class indices (at most len(CLASS_COLOURS) classes); shown in a legend.
        n: number of scenes shown (at most N).
        title: the figure's title; by default it says what the rows are.
    Returns:
        matplotlib Figure with rows titled "input", "true mask" (and "predicted mask") and n columns.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    images, true_masks = np.asarray(images), np.asarray(true_masks)
    rows = [("input", None), ("true mask", true_masks)]
    if predicted_masks is not None:
        predicted_masks = np.asarray(predicted_masks)
        if true_masks.shape != predicted_masks.shape:
            raise ValueError(f"true_masks {true_masks.shape} and predicted_masks {predicted_masks.shape} must hold "
                             "the same scenes")
        rows.append(("predicted mask", predicted_masks))
    if len(images) != len(true_masks):
        raise ValueError(f"images {images.shape} and true_masks {true_masks.shape} must hold the same scenes")
    if not 1 <= len(class_names) <= len(CLASS_COLOURS):
        raise ValueError(f"class_names must name 1 to {len(CLASS_COLOURS)} classes, got {len(class_names)}")
    n = min(int(n), len(images))
    colours = ListedColormap(CLASS_COLOURS[:len(class_names)])
    fig, axes = plt.subplots(len(rows), n, figsize=(2.2 * n, 2.6 * len(rows)), squeeze=False)
    for col in range(n):
        for row, (name, masks) in enumerate(rows):
            if masks is None:
                axes[row, col].imshow(images[col])
            else:
                axes[row, col].imshow(masks[col], cmap=colours, vmin=-0.5, vmax=len(class_names) - 0.5,
                                      interpolation="nearest")
            axes[row, col].set_title(f"{name} {col + 1}", fontsize=9)
            axes[row, col].axis("off")
    fig.legend(handles=[Patch(color=colours(k), label=name) for k, name in enumerate(class_names)],
               loc="lower center", ncol=len(class_names), frameon=False)
    fig.suptitle(title or ", ".join(name for name, _ in rows))
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig
