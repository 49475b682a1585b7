"""What the experiments' plot functions share: checking the result dict and getting an Axes to draw on."""


def axes_for(result, curves, producer, ax=None):
    """Check that `result` holds the keys `curves` (as `producer` returns it); return `ax` or a new 6x4 Axes.

    Args:
        result: the dict returned by the experiment function named `producer`.
        curves: the keys that must be in it, e.g. ("plain", "residual").
        producer: the experiment function's name, for the error message.
        ax: a matplotlib Axes, or None for a new figure.
    Returns:
        a matplotlib Axes.
    """
    if not isinstance(result, dict) or any(key not in result for key in curves):
        raise ValueError(f"result must be the dict returned by {producer} (keys {', '.join(map(repr, curves))})")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax
