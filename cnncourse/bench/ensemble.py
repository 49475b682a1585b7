"""Chapter 2's test-time tricks over several seeds: held-out error and time per image of each way of predicting."""

from cnncourse import config
from cnncourse.experiments.c2_ensemble import ENSEMBLE_EXPERIMENT, compare_test_time_tricks, train_crop_networks


def run(repeats=3):
    """Train ENSEMBLE_EXPERIMENT[mode]'s networks for seeds 0 .. repeats-1 and compare the four ways on each.

    Returns:
        list of dicts with "seed", "way", "passes", "error" (fraction of the held-out digits), "ms_per_image" and
        "training_seconds" (all the networks of that seed), one per seed and way, plus one "mean" row per way.
    """
    settings = ENSEMBLE_EXPERIMENT[config.mode()]
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"{'seed':>4} {'way':<26} {'passes':>6} {'held-out error':>15} {'ms per image':>13} {'training s':>11}")
    rows = []
    for seed in range(max(1, int(repeats))):
        trained = train_crop_networks(settings, seed=seed)
        for row in compare_test_time_tricks(trained):
            rows.append({"seed": seed, **{k: row[k] for k in ("way", "passes", "error", "ms_per_image")},
                         "training_seconds": trained["seconds"]})
            print(f"{seed:>4} {row['way']:<26} {row['passes']:>6} {row['error']:>15.1%} {row['ms_per_image']:>13.3f} "
                  f"{trained['seconds']:>11.0f}")
    for way in dict.fromkeys(r["way"] for r in rows):
        same = [r for r in rows if r["way"] == way]
        mean = {"seed": "mean", "way": way, "passes": same[0]["passes"],
                "error": sum(r["error"] for r in same) / len(same),
                "ms_per_image": sum(r["ms_per_image"] for r in same) / len(same)}
        rows.append(mean)
        print(f"{'mean':>4} {way:<26} {mean['passes']:>6} {mean['error']:>15.2%} {mean['ms_per_image']:>13.3f}")
    return rows
