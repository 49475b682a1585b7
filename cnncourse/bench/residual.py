"""Chapter 2's plain-against-residual experiment over several seeds: final training error and held-out accuracy."""

from cnncourse import config
from cnncourse.experiments.c2_residual import RESIDUAL_EXPERIMENT, plain_vs_residual


def run(repeats=3):
    """Run plain_vs_residual with RESIDUAL_EXPERIMENT[mode] for seeds 0 .. repeats-1; print and return the rows.

    Returns:
        list of dicts with "seed", "plain_train_error", "residual_train_error" (last epoch), "plain_test_accuracy",
        "residual_test_accuracy" and "seconds".
    """
    settings = RESIDUAL_EXPERIMENT[config.mode()]
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"{'seed':>4} {'training error: plain':>22} {'residual':>9} {'held-out acc.: plain':>21} {'residual':>9} "
          f"{'seconds':>8}")
    rows = []
    for seed in range(max(1, int(repeats))):
        r = plain_vs_residual(settings, seed=seed)
        row = {"seed": seed, "plain_train_error": r["plain"]["train_error"][-1],
               "residual_train_error": r["residual"]["train_error"][-1],
               "plain_test_accuracy": r["plain"]["test_accuracy"],
               "residual_test_accuracy": r["residual"]["test_accuracy"], "seconds": r["seconds"]}
        rows.append(row)
        print(f"{seed:>4} {row['plain_train_error']:>22.1%} {row['residual_train_error']:>9.1%} "
              f"{row['plain_test_accuracy']:>21.1%} {row['residual_test_accuracy']:>9.1%} {row['seconds']:>8.0f}")
    return rows
