"""The triplet explorer: every (anchor, positive, negative) triplet of a batch of encodings, and a margin slider that
sorts them into easy, semi-hard and hard.

Pure functions (no display needed):
    triplet_kinds(embeddings, labels, alpha) -> dict   all triplets, their squared distances, kinds and losses
    triplet_text(kinds) -> str                         how many of each kind, and the mean loss
    triplet_figure(kinds) -> Figure                    d(A, N) against d(A, P) with the lines d(A, N) = d(A, P) and
                                                       d(A, N) = d(A, P) + alpha; the histogram of d(A, N) - d(A, P)
The widget:
    triplet_explorer(embeddings, labels, alpha=0.2) -> Explorer   control "margin" (FloatSlider)

The kinds, with d the squared Euclidean distance as in the triplet loss of c5_1 (FaceNet, Schroff et al., 2015):
    easy       d(A, N) >= d(A, P) + alpha          the loss is 0: the triplet teaches nothing
    semi-hard  d(A, P) < d(A, N) < d(A, P) + alpha  the negative is farther than the positive, inside the margin
    hard       d(A, N) <= d(A, P)                  the negative is at least as close as the positive
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.widgets.conv_explorer import Explorer

KINDS = ("easy", "semi-hard", "hard")
COLOURS = {"easy": "tab:green", "semi-hard": "tab:orange", "hard": "tab:red"}
CAPTION = (
    "<b>Try this.</b> Each dot is one triplet of the batch: a positive at distance d(A, P) and a negative at d(A, N). "
    "Dots above the dashed line are easy (loss 0), between the two lines semi-hard, below the solid line hard. "
    "Slide the margin to 0: nothing is semi-hard, and only the hard triplets have a loss. Raise it: the band widens "
    "and takes in more and more of the easy ones. Which margin makes most triplets teach something? At 2, how many "
    "are still easy (on unit vectors a squared distance is at most 4)?"
)


def triplet_kinds(embeddings, labels, alpha=0.2):
    """Every triplet of a batch, its squared distances, its kind at margin `alpha` and its loss.

    Args:
        embeddings: (batch, d) array of encodings.
        labels: (batch,) identities; a triplet takes an anchor a, a positive p != a of the same identity and a
            negative n of another identity.
        alpha: the margin, a number >= 0.
    Returns:
        dict with "triplets" (int array (k, 3): anchor, positive, negative, sorted), "d_ap" and "d_an" (float arrays
        (k,), squared distances), "kind" (str array (k,), one of KINDS), "loss" (float array (k,),
        max(d_ap - d_an + alpha, 0)), "counts" (dict kind -> int) and "alpha".
    Raises:
        ValueError: shapes that do not match, a negative alpha, or a batch without any triplet.
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must have shape (batch, d), got {embeddings.shape}")
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(f"labels must have one entry per embedding, got {labels.shape[0]} labels for "
                         f"{embeddings.shape[0]} embeddings")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or alpha < 0:
        raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")
    distances = np.sum((embeddings[:, None, :] - embeddings[None, :, :]) ** 2, axis=-1)  # (batch, batch)
    same = labels[:, None] == labels[None, :]
    positive = same & ~np.eye(len(labels), dtype=bool)
    a, p, n = np.nonzero(positive[:, :, None] & ~same[:, None, :])  # (a, p) positive pair, (a, n) negative pair
    if len(a) == 0:
        raise ValueError("the batch holds no triplet: it needs two images of one identity and one of another")
    d_ap, d_an = distances[a, p], distances[a, n]
    kind = np.where(d_an >= d_ap + alpha, "easy", np.where(d_an <= d_ap, "hard", "semi-hard"))
    return {
        "triplets": np.stack([a, p, n], axis=1).astype(np.int64),
        "d_ap": d_ap,
        "d_an": d_an,
        "kind": kind,
        "loss": np.maximum(d_ap - d_an + alpha, 0.0),
        "counts": {k: int(np.sum(kind == k)) for k in KINDS},
        "alpha": float(alpha),
    }


def triplet_text(kinds):
    """The counts of each kind with their share, and the mean loss over all triplets and over those with loss > 0."""
    total = len(kinds["kind"])
    lines = [f"margin alpha = {kinds['alpha']:.2f}: {total:,} triplets (anchor, positive, negative) in the batch"]
    for k in KINDS:
        lines.append(f"  {k:<9} {kinds['counts'][k]:>7,}  ({kinds['counts'][k] / total:6.1%})")
    teaching = kinds["loss"] > 0
    lines.append(f"mean loss over all triplets: {kinds['loss'].mean():.4f}; "
                 f"{int(teaching.sum()):,} triplets have a loss > 0"
                 + (f", mean {kinds['loss'][teaching].mean():.4f}" if teaching.any() else ""))
    return "\n".join(lines)


def triplet_figure(kinds, max_points=4000):
    """Left: d(A, N) against d(A, P), one dot per triplet (at most `max_points`: every semi-hard and hard one and an
    even sample of the easy ones), coloured by kind,
    with the lines d(A, N) = d(A, P) and d(A, N) = d(A, P) + alpha. Right: the histogram of d(A, N) - d(A, P) per
    kind, the band [0, alpha) shaded.

    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    d_ap, d_an, kind, alpha = kinds["d_ap"], kinds["d_an"], kinds["kind"], kinds["alpha"]
    rare, easy = np.flatnonzero(kind != "easy"), np.flatnonzero(kind == "easy")
    room = max(max_points - len(rare), 0)
    if len(easy) > room:  # every semi-hard and hard triplet is drawn, an even sample of the easy ones
        easy = easy[np.linspace(0, len(easy) - 1, room).astype(int)]
    shown = np.concatenate([easy, rare])
    fig, (ax, ax_hist) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    for k in KINDS:
        mask = kind[shown] == k
        ax.scatter(d_ap[shown][mask], d_an[shown][mask], s=6, alpha=0.5, color=COLOURS[k],
                   label=f"{k} ({kinds['counts'][k]:,})")
    top = max(float(d_ap.max()), float(d_an.max()), 0.1) * 1.05
    line = np.array([0.0, top])
    ax.plot(line, line, color="black", linewidth=1.2, label="d(A, N) = d(A, P)")
    ax.plot(line, line + alpha, color="black", linestyle="--", linewidth=1.2, label=f"d(A, N) = d(A, P) + {alpha:.2f}")
    ax.fill_between(line, line, line + alpha, color="tab:orange", alpha=0.12)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("d(A, P) = ||f(A) - f(P)||^2")
    ax.set_ylabel("d(A, N) = ||f(A) - f(N)||^2")
    drawn = f" ({len(shown):,} drawn: every one that is not easy)" if len(shown) < len(d_ap) else ""
    ax.set_title(f"the triplets of the batch{drawn}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right", markerscale=2)

    slack = d_an - d_ap
    bins = np.linspace(min(float(slack.min()), -0.05), max(float(slack.max()), alpha + 0.05), 41)
    ax_hist.hist([slack[kind == k] for k in KINDS], bins=bins, stacked=True, color=[COLOURS[k] for k in KINDS],
                 label=list(KINDS))
    ax_hist.axvspan(0, alpha, color="tab:orange", alpha=0.12)
    ax_hist.axvline(0, color="black", linewidth=1.2)
    ax_hist.axvline(alpha, color="black", linestyle="--", linewidth=1.2)
    ax_hist.set_xlabel("d(A, N) - d(A, P)")
    ax_hist.set_ylabel("triplets")
    ax_hist.set_title(f"loss > 0 left of the dashed line (alpha = {alpha:.2f})", fontsize=10)
    ax_hist.legend(fontsize=8)
    fig.suptitle("Triplets of the batch: easy, semi-hard and hard at this margin", fontsize=11)
    return fig


def triplet_explorer(embeddings, labels, alpha=0.2):
    """Build the triplet explorer on a batch of encodings and draw it once.

    Args:
        embeddings: (batch, d) encodings (L2-normalised ones give squared distances between 0 and 4).
        labels: (batch,) identities.
        alpha: first value of the margin slider.
    Returns:
        Explorer (an ipywidgets VBox) with the control "margin" (FloatSlider from 0 to 2).
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    triplet_kinds(embeddings, labels, alpha)  # validate once, with a clear message
    controls = {"margin": widgets.FloatSlider(value=float(np.clip(alpha, 0.0, 2.0)), min=0.0, max=2.0, step=0.05,
                                              description="margin alpha", continuous_update=False,
                                              style={"description_width": "90px"})}

    def draw(values):
        kinds = triplet_kinds(embeddings, labels, values["margin"])
        return triplet_figure(kinds), triplet_text(kinds)

    box = Explorer(CAPTION, controls, draw, [[controls["margin"]]])
    box.update()
    return box
