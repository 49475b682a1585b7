"""Chapter 6's neural style transfer: seconds per optimisation step and how far the style cost falls."""

import numpy as np

from cnncourse import config
from cnncourse.experiments.c6_style import NST_TRAINING, load_pair, run_style_transfer


def run(repeats=1):
    """Run style transfer (chelsea in the style of hubble_deep_field) with NST_TRAINING[mode]; print and return.

    Args:
        repeats: runs (seeds 0, 1, ...); the timing is their mean, the costs are those of the last run.
    Returns:
        dict with "mode", "settings", "seconds_per_step", "seconds" (total optimisation time per run),
        "style_first", "style_last", "style_drop" (first / last; the target is >= 10), "content_first",
        "content_last".
    """
    mode = config.mode()
    settings = NST_TRAINING[mode]
    content, style = load_pair("chelsea", "hubble_deep_field", settings["size"])
    results = [run_style_transfer(content, style, settings, seed=seed) for seed in range(max(1, int(repeats)))]
    last = results[-1]
    style_costs, content_costs = last["history"]["style"], last["history"]["content"]
    out = {
        "mode": mode,
        "settings": dict(settings),
        "seconds_per_step": float(np.mean([r["seconds_per_step"] for r in results])),
        "seconds": float(np.mean([r["seconds"] for r in results])),
        "style_first": style_costs[0],
        "style_last": style_costs[-1],
        "style_drop": last["style_drop"],
        "content_first": content_costs[0],
        "content_last": content_costs[-1],
    }
    print(config.describe_mode())
    print(f"settings: {settings}")
    print(f"{settings['steps']} steps at {settings['size']} px: {out['seconds_per_step'] * 1000:.1f} ms per step, "
          f"{out['seconds']:.1f} s in all (mean of {len(results)} run(s))")
    print(f"style cost:   {out['style_first']:.4g} -> {out['style_last']:.4g} "
          f"(fell {out['style_drop']:.1f}x; target >= 10x)")
    print(f"content cost: {out['content_first']:.4g} -> {out['content_last']:.4g}")
    return out
