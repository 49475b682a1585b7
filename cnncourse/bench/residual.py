"""Chapter 2's depth sweep over several seeds: final training error of plain and residual networks by depth."""

from cnncourse import config
from cnncourse.experiments.c2_residual import RESIDUAL_EXPERIMENT, depth_sweep


def run(repeats=3):
    """Run depth_sweep with RESIDUAL_EXPERIMENT[mode] for seeds 0 .. repeats-1; print and return the rows.

    Returns:
        list of dicts, one per seed and depth, with "seed", "depth", "n_parameters", "plain_train_error",
        "residual_train_error" (last epoch), "plain_test_accuracy", "residual_test_accuracy" and "seconds" (both
        trainings of that depth).
    """
    settings = RESIDUAL_EXPERIMENT[config.mode()]
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"{'seed':>4} {'depth':>5} {'parameters':>10} {'training error: plain':>22} {'residual':>9} "
          f"{'held-out acc.: plain':>21} {'residual':>9} {'seconds':>8}")
    rows = []
    for seed in range(max(1, int(repeats))):
        r = depth_sweep(settings, seed=seed)
        for depth in r["depths"]:
            plain, residual = r["plain"][depth], r["residual"][depth]
            row = {"seed": seed, "depth": depth, "n_parameters": plain["n_parameters"],
                   "plain_train_error": plain["train_error"][-1], "residual_train_error": residual["train_error"][-1],
                   "plain_test_accuracy": plain["test_accuracy"], "residual_test_accuracy": residual["test_accuracy"],
                   "seconds": plain["seconds"] + residual["seconds"]}
            rows.append(row)
            print(f"{seed:>4} {depth:>5} {row['n_parameters']:>10,} {row['plain_train_error']:>22.1%} "
                  f"{row['residual_train_error']:>9.1%} {row['plain_test_accuracy']:>21.1%} "
                  f"{row['residual_test_accuracy']:>9.1%} {row['seconds']:>8.0f}")
        print(f"{seed:>4} all depths: {r['seconds']:.0f} s")
    return rows
