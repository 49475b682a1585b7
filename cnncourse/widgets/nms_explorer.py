"""The NMS explorer: a detector's proposed boxes, the score threshold and non-max suppression, on real predictions.

Pure functions (no display needed):
    nms_steps(boxes, scores, labels, score_threshold, iou_threshold) -> dict   what happened to every box
    nms_figure(image, boxes, scores, labels, steps, class_names) -> Figure     before and after NMS, side by side
    nms_text(steps, scores, labels, class_names) -> str                        the counts, and who suppressed whom
The widget:
    nms_explorer(images, candidates, class_names) -> Explorer   controls "image", "score" and "iou"

    from cnncourse.models.c3_yolo import candidate_boxes
    nms_explorer(test["images"], candidate_boxes(model, test["images"]), test["class_names"], truths_of(test))

The steps are those of cnncourse.models.c3_yolo.predict_boxes: keep the boxes with score >= score_threshold
(as filter_boxes), then cnncourse.ops.c3_boxes.non_max_suppression_per_class (a box is suppressed when its IoU
with a kept box of the same class is > iou_threshold; at most max_boxes kept per class).
"""

import ipywidgets as widgets
import numpy as np

from cnncourse.ops.c3_boxes import non_max_suppression_per_class, require_boxes
from cnncourse.ops.twins import box_iou
from cnncourse.widgets.conv_explorer import Explorer

CAPTION = (
    "<b>Try this.</b> Left: every box the network proposes with a score (pc &times; best class probability) above "
    "the score threshold; right: what non-max suppression keeps. Raise the IoU threshold towards 0.95 until "
    "duplicates of one object survive side by side. Lower the score threshold and watch boxes appear on the "
    "background: NMS does not remove them, only the score threshold does. Find a scene with two overlapping "
    "objects of the same class and set the IoU threshold to 0.05: one of them is suppressed as if it were a "
    "duplicate. Boxes of different classes never suppress each other."
)
MAX_LISTED = 4  # suppressed boxes named per kept box in the text; the rest are counted


def nms_steps(boxes, scores, labels, score_threshold, iou_threshold, max_boxes=10):
    """What the score filter and per-class non-max suppression do to each proposed box.

    Args:
        boxes: (n, 4) corner boxes (x1, y1, x2, y2); scores: (n,) floats; labels: (n,) ints.
        score_threshold: a box passes when its score is >= this (as filter_boxes).
        iou_threshold: a passing box is suppressed when its IoU with a kept box of its class is > this.
        max_boxes: the most boxes kept per class (as non_max_suppression_per_class).
    Returns:
        dict of index arrays into the inputs, each input index in exactly one of the first four:
            "below_threshold" (b,): score < score_threshold, increasing index;
            "suppressed" (s,): passed, then removed by NMS, best score first;
            "kept" (k,): non_max_suppression_per_class on the passing boxes, best score first;
            "over_limit" (o,): passed and not suppressed, but left out because max_boxes of the class were already
                kept (empty unless a class reaches max_boxes);
        and "passed" (the passing indices, increasing), "suppressed_by" ({suppressed index: (kept index, IoU)},
        the kept box of the same class that removed it), "proposed" (n), "score_threshold", "iou_threshold",
        "max_boxes".
    """
    boxes = require_boxes(np.asarray(boxes, dtype=np.float64))
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    n = len(boxes)
    if scores.shape != (n,) or labels.shape != (n,) or (n and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"scores and labels must have shape ({n},), labels ints; got {scores.shape} and "
                         f"{labels.shape} {labels.dtype}")
    passed = np.flatnonzero(scores >= score_threshold)
    kept = np.zeros(0, dtype=int)
    if len(passed):
        kept = passed[non_max_suppression_per_class(boxes[passed], scores[passed], labels[passed], iou_threshold,
                                                    max_boxes)]
    suppressed_by, over_limit = {}, []
    for index in np.setdiff1d(passed, kept):
        # greedy NMS removes a box at the first kept box of its class (in the order they were kept) that overlaps
        # it by more than the threshold; with none, the box was still waiting when max_boxes were reached
        for k in kept[labels[kept] == labels[index]]:
            overlap = box_iou(boxes[k], boxes[index])
            if overlap > iou_threshold:
                suppressed_by[int(index)] = (int(k), overlap)
                break
        else:
            over_limit.append(int(index))
    suppressed = np.array(sorted(suppressed_by), dtype=int)
    return {"below_threshold": np.flatnonzero(scores < score_threshold),
            "suppressed": suppressed[np.argsort(-scores[suppressed], kind="stable")],
            "kept": kept, "over_limit": np.array(over_limit, dtype=int), "passed": passed,
            "suppressed_by": suppressed_by, "proposed": n, "score_threshold": float(score_threshold),
            "iou_threshold": float(iou_threshold), "max_boxes": max_boxes}


def nms_text(steps, scores, labels, class_names):
    """The story of one image, as text lines joined by newlines.

    Args:
        steps: the dict of nms_steps; scores: (n,) and labels: (n,) the arrays given to it; class_names: list.
    Returns:
        str: boxes proposed, passing the score threshold, suppressed and kept; then one line per kept box
        (index, class, score) with the boxes it suppressed and their IoU with it.
    """
    n_passed, n_kept = len(steps["passed"]), len(steps["kept"])
    lines = [f"{steps['proposed']} boxes proposed; {n_passed} with score >= {steps['score_threshold']:.2f}, "
             f"{len(steps['below_threshold'])} below",
             f"NMS (suppress IoU > {steps['iou_threshold']:.2f} with a kept box of the same class): "
             f"{len(steps['suppressed'])} suppressed, {n_kept} kept"]
    if len(steps["over_limit"]):
        lines[-1] += f", {len(steps['over_limit'])} left out (at most {steps['max_boxes']} kept per class)"
    victims = {int(k): [] for k in steps["kept"]}
    for index in steps["suppressed"]:
        victims[steps["suppressed_by"][int(index)][0]].append(int(index))
    for k in steps["kept"]:
        line = f"  kept #{k}: {class_names[labels[k]]} {scores[k]:.2f}"
        mine = victims[int(k)]
        if mine:
            named = ", ".join(f"#{i} ({scores[i]:.2f}, IoU {steps['suppressed_by'][i][1]:.2f})"
                              for i in mine[:MAX_LISTED])
            more = f" and {len(mine) - MAX_LISTED} more" if len(mine) > MAX_LISTED else ""
            line += f"  suppressed {len(mine)}: {named}{more}"
        lines.append(line)
    if not n_kept:
        lines.append("  nothing kept: lower the score threshold")
    return "\n".join(lines)


def _draw_box(ax, box, colour, **style):
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour, **style))


def nms_figure(image, boxes, scores, labels, steps, class_names, truths=None):
    """Two panels on the image: the boxes that pass the score threshold, and the ones NMS keeps.

    Args:
        image: (size, size, 3) float array in [0, 1].
        boxes: (n, 4) pixel corner boxes; scores: (n,); labels: (n,) ints; steps: nms_steps of these.
        class_names: list of names, indexed by the labels.
        truths: None, or a dict with "boxes" (k, 4) (and "labels" (k,)): the true objects, drawn dashed white.
    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    colours = plt.get_cmap("tab10")
    fig, (ax_before, ax_after) = plt.subplots(1, 2, figsize=(9.5, 5.2), layout="constrained")
    for ax in (ax_before, ax_after):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        if truths is not None:
            for box in np.asarray(truths["boxes"]).reshape(-1, 4):
                _draw_box(ax, box, "white", linestyle="--", linewidth=1.2)
    for index in steps["passed"]:
        _draw_box(ax_before, boxes[index], colours(labels[index]), linewidth=0.8, alpha=0.55)
    for index in steps["kept"]:
        colour = colours(labels[index])
        _draw_box(ax_after, boxes[index], colour, linewidth=2)
        x1, y1 = max(boxes[index][0], 0.0), max(boxes[index][1], 0.0)  # inside the box's top-left corner
        ax_after.text(x1, y1, f"{class_names[labels[index]]} {scores[index]:.2f}", va="top", color="white",
                      fontsize=7, clip_on=True, bbox={"facecolor": colour, "alpha": 0.8, "pad": 1, "linewidth": 0})
    ax_before.set_title(f"before NMS: {len(steps['passed'])} of {steps['proposed']} boxes\n"
                        f"with score >= {steps['score_threshold']:.2f}", fontsize=10)
    left_out = f", {len(steps['over_limit'])} past max_boxes" if len(steps["over_limit"]) else ""
    ax_after.set_title(f"after NMS: {len(steps['kept'])} kept, {len(steps['suppressed'])} suppressed{left_out}\n"
                       f"(IoU > {steps['iou_threshold']:.2f} with a kept box of the same class)", fontsize=10)
    handles = [Line2D([], [], color=colours(c), linewidth=2, label=name) for c, name in enumerate(class_names)]
    if truths is not None:
        handles.append(Line2D([], [], color="black", linestyle="--", label="ground truth (white, dashed)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9)
    return fig


def nms_explorer(images, candidates, class_names, truths=None, image_index=0, score_threshold=0.3,
                 iou_threshold=0.5, max_boxes=10):
    """Build the NMS explorer on a detector's proposals and draw it once.

    Args:
        images: (N, size, size, 3) float array in [0, 1].
        candidates: list of N dicts with "boxes" (m, 4), "scores" (m,), "labels" (m,): every proposed box, as
            returned by cnncourse.models.c3_yolo.candidate_boxes(model, images).
        class_names: list of names, indexed by the labels.
        truths: None, or a list of N dicts with "boxes" (k, 4) and "labels" (k,) (as truths_of(scenes)).
        image_index, score_threshold, iou_threshold: the first settings shown.
        max_boxes: the most boxes kept per class, as predict_boxes.
    Returns:
        Explorer with controls "image" (IntSlider 0..N-1), "score" and "iou" (FloatSliders 0.05..0.95).
    """
    if len(images) != len(candidates) or (truths is not None and len(truths) != len(images)):
        raise ValueError(f"images, candidates and truths must have one entry per image, got {len(images)}, "
                         f"{len(candidates)} and {'none' if truths is None else len(truths)}")

    def threshold_slider(value, description):
        return widgets.FloatSlider(value=value, min=0.05, max=0.95, step=0.05, description=description,
                                   readout_format=".2f", continuous_update=False)

    controls = {
        "image": widgets.IntSlider(value=image_index, min=0, max=len(images) - 1, description="image",
                                   continuous_update=False),
        "score": threshold_slider(score_threshold, "score"),
        "iou": threshold_slider(iou_threshold, "IoU"),
    }

    def draw(values):
        k = values["image"]
        boxes, scores, labels = (np.asarray(candidates[k][key]) for key in ("boxes", "scores", "labels"))
        steps = nms_steps(boxes, scores, labels, values["score"], values["iou"], max_boxes)
        figure = nms_figure(images[k], boxes, scores, labels, steps, class_names,
                            None if truths is None else truths[k])
        return figure, nms_text(steps, scores, labels, class_names)

    box = Explorer(CAPTION, controls, draw, [[controls["image"], controls["score"], controls["iou"]]])
    # one line per kept box: with many, the list scrolls on its own, so the figure stays in a 1440x900 window
    box.formula.layout = widgets.Layout(max_height="8em", overflow="auto")
    box.update()
    return box
