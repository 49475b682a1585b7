"""Chapter 3's small YOLO on generated scenes: mAP at IoU 0.3, 0.5 and 0.7 per class, and training time (mode-aware)."""

from cnncourse import config
from cnncourse.data.scenes import CLASS_NAMES
from cnncourse.experiments.c3_detection import DETECTION_TRAINING, train_yolo


def run(repeats=1):
    """Train once with DETECTION_TRAINING[mode] (pretraining included); print and return the figures.

    Returns:
        dict with "mode", "map" (mAP@0.5), "per_class" (AP@0.5 per class), "maps" ({"0.3": {"map", "per_class"},
        ...}), "maps_flipped" (the same with test-time mirroring, predicted_head's flip), "pretraining" (crops,
        held-out crop accuracy, seconds; None without pretraining), "conflicts", "seconds" (all training phases) and
        "images_per_second" (of the detector's own phase).
    """
    mode = config.mode()
    settings = DETECTION_TRAINING[mode]
    result = train_yolo(settings, seed=0)
    print(config.describe_mode())
    print(f"settings: {settings}")
    pretraining = result["pretraining"]
    if pretraining:
        print(f"pretraining: {pretraining['crops']} crops ({', '.join(pretraining['class_names'])}), "
              f"{pretraining['accuracy']:.3f} right on held-out crops, {pretraining['seconds']:.0f} s")
    for key, how in (("maps", ""), ("maps_flipped", ", mirrored scenes' predictions averaged in")):
        for threshold, (value, per_class) in result[key].items():
            classes = ", ".join(f"{name} {ap:.3f}" for name, ap in zip(CLASS_NAMES, per_class))
            print(f"mAP@{threshold} on {settings['n_test']} held-out scenes{how}: {value:.3f} ({classes})")
    print(f"training objects left out by (cell, anchor) conflicts: {result['conflicts']}")
    print(f"training time, all phases: {result['seconds']:.0f} s; detector throughput "
          f"{result['images_per_second']:.0f} images/s")
    maps, maps_flipped = ({str(threshold): {"map": value, "per_class": per_class}
                           for threshold, (value, per_class) in result[key].items()}
                          for key in ("maps", "maps_flipped"))
    kept = ("map", "per_class", "pretraining", "conflicts", "seconds", "images_per_second")
    return {key: result[key] for key in kept} | {"mode": mode, "maps": maps, "maps_flipped": maps_flipped}
