"""Chapter 2's transfer-learning experiment over several seeds: pretrained on digits 0-4 vs from scratch on 5-9."""

from cnncourse import config
from cnncourse.experiments.c2_transfer import TRANSFER_EXPERIMENT, transfer_vs_scratch


def run(repeats=3):
    """Run transfer_vs_scratch with TRANSFER_EXPERIMENT[mode] for seeds 0 .. repeats-1; print and return the rows.

    Returns:
        list of dicts with "seed", "frozen", "transfer", "scratch" (held-out accuracies) and "seconds".
    """
    settings = TRANSFER_EXPERIMENT[config.mode()]
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"{'seed':>4} {'frozen + head':>14} {'fine-tuned':>11} {'scratch':>8} {'gain':>7} {'seconds':>8}")
    rows = []
    for seed in range(max(1, int(repeats))):
        r = transfer_vs_scratch(settings, seed=seed)
        row = {"seed": seed, "frozen": r["transfer"]["frozen_test_accuracy"], "transfer": r["transfer"]["test_accuracy"],
               "scratch": r["scratch"]["test_accuracy"], "seconds": r["seconds"]}
        rows.append(row)
        print(f"{seed:>4} {row['frozen']:>14.1%} {row['transfer']:>11.1%} {row['scratch']:>8.1%} "
              f"{row['transfer'] - row['scratch']:>+7.1%} {row['seconds']:>8.0f}")
    mean_gain = sum(r["transfer"] - r["scratch"] for r in rows) / len(rows)
    print(f"mean gain of transfer over scratch: {mean_gain:+.1%} ({len(rows)} seeds)")
    return rows
