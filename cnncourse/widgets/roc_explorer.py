"""The ROC explorer: move the verification threshold, watch the point move along the ROC curve.

Pure functions (no display needed):
    roc_text(distances, same, threshold) -> str        TPR, FPR, accuracy at the threshold, and the AUC
    roc_figure(distances, same, threshold) -> Figure   left: histograms of the distances of same and different
                                                       pairs with the threshold line; right: the ROC curve, the
                                                       current threshold's point marked
The widget:
    roc_explorer(distances, same, threshold=0.7) -> Explorer   control "threshold" (FloatSlider)
The rule throughout: "same person when distance < threshold" (cnncourse.models.c5_verification).
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.widgets.conv_explorer import Explorer



def _verification():
    """cnncourse.models.c5_verification, imported on first use (it imports Keras, which the widgets avoid)."""
    from cnncourse.models import c5_verification

    return c5_verification


CAPTION = (
    "<b>Try this.</b> Slide the threshold from small to large: the red point runs along the ROC curve from (0, 0), "
    "where every pair is called different, to (1, 1), where every pair is called the same. Where do the two "
    "histograms overlap, and what does a threshold inside the overlap cost? Find the threshold of best accuracy, "
    "then one that lets almost no stranger in (FPR near 0): how many true matches does it reject?"
)


def roc_text(distances, same, threshold):
    """The rates at `threshold` and the AUC, one line each.

    Args:
        distances: array (N,) of pair distances; same: array (N,) of bools (both kinds present).
        threshold: float.
    Returns:
        str with TPR, FPR, accuracy and AUC.
    """
    v = _verification()
    tpr, fpr, accuracy = v.rates_at(distances, same, threshold)
    fprs, tprs, _ = v.roc_curve(distances, same)
    same = np.asarray(same, dtype=bool).reshape(-1)
    return "\n".join([
        f"threshold {threshold:.2f}: same person when distance < {threshold:.2f}",
        f"TPR (same pairs accepted)      = {tpr:.3f}  ({int(round(tpr * same.sum()))} of {int(same.sum())})",
        f"FPR (different pairs accepted) = {fpr:.3f}  ({int(round(fpr * (~same).sum()))} of {int((~same).sum())})",
        f"accuracy = {accuracy:.3f}    AUC = {v.auc(fprs, tprs):.3f}",
    ])


def roc_figure(distances, same, threshold):
    """Histograms of the distances (same pairs, different pairs) with the threshold, and the ROC curve.

    Args:
        distances: array (N,); same: array (N,) of bools; threshold: float.
    Returns:
        matplotlib.figure.Figure with two axes (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    same = np.asarray(same, dtype=bool).reshape(-1)
    v = _verification()
    tpr, fpr, _ = v.rates_at(distances, same, threshold)
    fprs, tprs, _ = v.roc_curve(distances, same)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    bins = np.linspace(min(distances.min(), threshold), max(distances.max(), threshold), 31)
    left.hist(distances[same], bins=bins, alpha=0.6, color="tab:green", label="same person")
    left.hist(distances[~same], bins=bins, alpha=0.6, color="tab:blue", label="different people")
    left.axvline(threshold, color="tab:red", linewidth=2, label=f"threshold {threshold:.2f}")
    left.set_xlabel("distance ||f(a) - f(b)||")
    left.set_ylabel("pairs")
    left.legend(fontsize=8)
    right.plot(fprs, tprs, color="tab:purple", label=f"ROC, AUC = {v.auc(fprs, tprs):.3f}")
    right.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance")
    right.plot([fpr], [tpr], "o", color="tab:red", markersize=9, label=f"threshold {threshold:.2f}")
    right.set_xlim(-0.02, 1.02)
    right.set_ylim(-0.02, 1.02)
    right.set_aspect("equal")
    right.set_xlabel("false positive rate")
    right.set_ylabel("true positive rate")
    right.legend(loc="lower right", fontsize=8)
    return fig


def roc_explorer(distances, same, threshold=0.7):
    """Build the ROC explorer and draw it once.

    Args:
        distances: array (N,) of distances of held-out pairs; same: array (N,) of bools (both kinds present).
        threshold: first value of the slider.
    Returns:
        Explorer (an ipywidgets VBox) with the control "threshold" (FloatSlider from 0 to the larger of 2 and the
        largest distance).
    """
    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    _verification().roc_curve(distances, same)  # validate once, with a clear message
    top = float(max(2.0, np.ceil(distances.max() * 10) / 10))
    controls = {"threshold": widgets.FloatSlider(value=float(np.clip(threshold, 0.0, top)), min=0.0, max=top,
                                                 step=0.01, description="threshold", continuous_update=False)}

    def draw(values):
        return roc_figure(distances, same, values["threshold"]), roc_text(distances, same, values["threshold"])

    box = Explorer(CAPTION, controls, draw, [[controls["threshold"]]])
    box.update()
    return box
