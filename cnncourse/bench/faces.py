"""Chapter 5's face encoder trained with semi-hard triplets: verification of held-out people (mode-aware)."""

from cnncourse import config
from cnncourse.experiments.c5_faces import FACE_TRAINING, evaluate_verification, held_out_faces, train_triplet_encoder


def run(repeats=1):
    """Train once with FACE_TRAINING[mode], verify pairs of people never seen in training; print and return figures.

    Returns:
        dict with "mode", "accuracy", "auc", "threshold", "seconds" and "images_per_second".
    """
    mode = config.mode()
    settings = FACE_TRAINING[mode]
    result = train_triplet_encoder(settings, seed=0)
    verification = evaluate_verification(result["encoder"], held_out_faces(settings, seed=0), seed=0,
                                         n_pairs=settings["n_pairs"])
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"verification of {settings['n_pairs']} pairs of {settings['n_test_identities']} held-out people: "
          f"accuracy {verification['accuracy']:.3f} (threshold {verification['threshold']:.3f} on "
          f"distances, chosen on the other half), AUC {verification['auc']:.3f}")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.0f} s)")
    return {"mode": mode, "accuracy": verification["accuracy"], "auc": verification["auc"],
            "threshold": verification["threshold"], "seconds": result["seconds"],
            "images_per_second": result["images_per_second"]}
