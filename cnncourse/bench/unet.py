"""Chapter 4's U-Net on generated segmentation scenes: IoU per class on held-out scenes, training throughput."""

from cnncourse import config
from cnncourse.experiments.c4_unet import UNET_TRAINING, train_unet


def run(repeats=1):
    """Train once with UNET_TRAINING[mode]; print and return the figures.

    Returns:
        dict with "mode", "mean_iou", "per_class_iou" ({class name: IoU}), "seconds" and "images_per_second".
    """
    mode = config.mode()
    settings = UNET_TRAINING[mode]
    result = train_unet(settings, seed=0)
    per_class = dict(zip(result["test"]["class_names"], result["per_class_iou"]))
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"mean IoU on {settings['n_test']} held-out scenes: {result['mean_iou']:.3f} "
          f"(per class: {', '.join(f'{name} {iou:.3f}' for name, iou in per_class.items())})")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.0f} s)")
    return {"mode": mode, "mean_iou": result["mean_iou"], "per_class_iou": per_class, "seconds": result["seconds"],
            "images_per_second": result["images_per_second"]}
