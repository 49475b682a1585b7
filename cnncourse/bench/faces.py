"""Chapter 5's face encoder trained with semi-hard triplets, and the pair classifier started from it (mode-aware)."""

from cnncourse import config
from cnncourse.experiments.c5_faces import FACE_TRAINING, evaluate_verification, held_out_faces, train_triplet_encoder
from cnncourse.experiments.c5_pairs import PAIR_FINE_TUNING, fine_tune_pair_classifier, pair_accuracy


def run(repeats=1):
    """Train once with FACE_TRAINING[mode], verify pairs of people never seen in training; then fine-tune a pair
    classifier from that encoder (PAIR_FINE_TUNING[mode]) and measure it on the same test pairs. Print and return.

    Returns:
        dict with "mode", "accuracy", "auc", "threshold", "seconds" and "images_per_second" (the triplet encoder),
        "pair_accuracy" and "pair_seconds" (the pair classifier).
    """
    mode = config.mode()
    settings = FACE_TRAINING[mode]
    result = train_triplet_encoder(settings, seed=0)
    held_out = held_out_faces(settings, seed=0)
    verification = evaluate_verification(result["encoder"], held_out, seed=0, n_pairs=settings["n_pairs"])
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"verification of {settings['n_pairs']} pairs of {settings['n_test_identities']} held-out people: "
          f"accuracy {verification['accuracy']:.3f} (threshold {verification['threshold']:.3f} on "
          f"distances, chosen on the other half), AUC {verification['auc']:.3f}")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.0f} s)")
    pairs = fine_tune_pair_classifier(result["encoder"], PAIR_FINE_TUNING[mode], seed=0)
    accuracy, _ = pair_accuracy(pairs["model"], held_out, verification["pairs"][verification["test"]])
    print(f"pair classifier started from this encoder ({PAIR_FINE_TUNING[mode]}): accuracy {accuracy:.3f} on the "
          f"same test pairs ({pairs['seconds']:.0f} s)")
    return {"mode": mode, "accuracy": verification["accuracy"], "auc": verification["auc"],
            "threshold": verification["threshold"], "seconds": result["seconds"],
            "images_per_second": result["images_per_second"], "pair_accuracy": accuracy,
            "pair_seconds": pairs["seconds"]}
