"""Chapter 3's small YOLO on generated scenes: mAP@0.5 on held-out scenes and training throughput (mode-aware)."""

from cnncourse import config
from cnncourse.experiments.c3_detection import DETECTION_TRAINING, train_yolo


def run(repeats=1):
    """Train once with DETECTION_TRAINING[mode]; print and return the figures.

    Returns:
        dict with "mode", "map", "per_class", "conflicts", "seconds" and "images_per_second".
    """
    mode = config.mode()
    settings = DETECTION_TRAINING[mode]
    result = train_yolo(settings, seed=0)
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"mAP@0.5 on {settings['n_test']} held-out scenes: {result['map']:.3f} "
          f"(per class: {', '.join(f'{ap:.3f}' for ap in result['per_class'])})")
    print(f"training objects left out by (cell, anchor) conflicts: {result['conflicts']}")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.0f} s)")
    return {key: result[key] for key in ("map", "per_class", "conflicts", "seconds", "images_per_second")} | {"mode": mode}
