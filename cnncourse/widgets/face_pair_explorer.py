"""The face pair explorer: pick two faces, see the distance of their encodings and the verification decision.

Pure functions (no display needed):
    pair_verdict(encodings, identities, a, b, threshold) -> dict   distance, decision, truth, right or wrong
    pair_text(verdict) -> str                                       the numbers, one line each
    pair_figure(images, verdict) -> Figure                          both faces side by side, the decision as title
The widget:
    face_pair_explorer(images, identities, encodings, threshold=0.7) -> Explorer
        controls "face a", "face b" (IntSliders over the images) and "threshold" (FloatSlider 0.1..2.0)
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.widgets.conv_explorer import Explorer

CAPTION = (
    "<b>Try this.</b> Pick two photos of the same person (the names are under the faces) and read their distance; "
    "then two different people. Move the threshold: where does a pair of the same person start to be rejected "
    "(a false reject), and where do two strangers start to be accepted (a false accept)? Find a pair the encoder "
    "gets wrong at 0.7, and a threshold that puts it right: which other pairs does that threshold break?"
)


def pair_verdict(encodings, identities, a, b, threshold):
    """The verification decision for images a and b, and whether it is right.

    Args:
        encodings: array (N, d), one encoding per image.
        identities: sequence of N names (the truth).
        a, b: image indices in 0..N-1.
        threshold: float; "same person" when the distance is strictly below it.
    Returns:
        dict with "a", "b", "identity_a", "identity_b", "distance" (Euclidean, float), "threshold",
        "same" (the decision), "truly_same" (the truth) and "right" (decision == truth).
    """
    encodings = np.asarray(encodings, dtype=np.float64)
    if encodings.ndim != 2 or len(encodings) != len(identities):
        raise ValueError(f"encodings must be (N, d) with one row per identity, got {encodings.shape} for "
                         f"{len(identities)} identities")
    for name, index in (("a", a), ("b", b)):
        if not 0 <= index < len(encodings):
            raise ValueError(f"face {name} must be an index in 0..{len(encodings) - 1}, got {index}")
    distance = float(np.linalg.norm(encodings[a] - encodings[b]))
    same, truly_same = distance < threshold, identities[a] == identities[b]
    return {"a": int(a), "b": int(b), "identity_a": identities[a], "identity_b": identities[b], "distance": distance,
            "threshold": float(threshold), "same": bool(same), "truly_same": bool(truly_same),
            "right": bool(same == truly_same)}


def _outcome(verdict):
    if verdict["right"]:
        return "right"
    return "wrong (false accept)" if verdict["same"] else "wrong (false reject)"


def pair_text(verdict):
    """The numbers of a verdict (from pair_verdict), one line each."""
    sign = "<" if verdict["same"] else ">="
    decision = "same person" if verdict["same"] else "different people"
    truth = "the same person" if verdict["truly_same"] else "different people"
    return "\n".join([
        f"face a: #{verdict['a']} ({verdict['identity_a']})    face b: #{verdict['b']} ({verdict['identity_b']})",
        f"distance ||f(a) - f(b)|| = {verdict['distance']:.3f} {sign} threshold {verdict['threshold']:.2f}"
        f"  ->  {decision}",
        f"truth: {truth}  ->  {_outcome(verdict)}",
    ])


def _displayable(image):
    image = np.asarray(image)
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)
    image = image.astype(np.float64)
    if image.max() > 1.0 or image.min() < 0.0:  # e.g. standardised inputs: stretch to [0, 1]
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
    return np.clip(image, 0.0, 1.0)


def pair_figure(images, verdict):
    """Both faces side by side; the title gives the distance, the decision and whether it is right.

    Args:
        images: array (N, H, W, 3) (floats in [0, 1] or uint8), indexed by the verdict's "a" and "b".
        verdict: dict from pair_verdict.
    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(6, 3.4), layout="constrained")
    for ax, key in zip(axes, ("a", "b")):
        ax.imshow(_displayable(images[verdict[key]]))
        ax.set_title(f"face {key}: #{verdict[key]} {verdict['identity_' + key]}", fontsize=10)
        ax.axis("off")
    decision = "same person" if verdict["same"] else "different"
    fig.suptitle(f"distance {verdict['distance']:.3f}, threshold {verdict['threshold']:.2f}: {decision} "
                 f"- {_outcome(verdict)}", color="tab:green" if verdict["right"] else "tab:red")
    return fig


def face_pair_explorer(images, identities, encodings, threshold=0.7):
    """Build the face pair explorer and draw it once.

    Args:
        images: array (N, H, W, 3), N >= 2, the faces shown.
        identities: sequence of N names.
        encodings: array (N, d), the encoder's output for the images (computed beforehand).
        threshold: first value of the threshold slider.
    Returns:
        Explorer (an ipywidgets VBox) with controls "face a", "face b" (IntSlider 0..N-1) and "threshold"
        (FloatSlider 0.1..2.0).
    """
    images, identities = np.asarray(images), list(identities)
    if images.ndim != 4 or len(images) < 2 or len(images) != len(identities):
        raise ValueError(f"images must be (N, H, W, 3) with N >= 2 and one identity each, got {images.shape} and "
                         f"{len(identities)} identities")
    last = len(images) - 1
    controls = {
        "face a": widgets.IntSlider(value=0, min=0, max=last, description="face a", continuous_update=False),
        "face b": widgets.IntSlider(value=1, min=0, max=last, description="face b", continuous_update=False),
        "threshold": widgets.FloatSlider(value=float(np.clip(threshold, 0.1, 2.0)), min=0.1, max=2.0, step=0.01,
                                         description="threshold", continuous_update=False),
    }

    def draw(values):
        verdict = pair_verdict(encodings, identities, values["face a"], values["face b"], values["threshold"])
        return pair_figure(images, verdict), pair_text(verdict)

    box = Explorer(CAPTION, controls, draw, [[controls["face a"], controls["face b"]], [controls["threshold"]]])
    box.update()
    return box
