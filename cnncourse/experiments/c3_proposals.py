"""Chapter 3: the cost of region-proposal detectors against YOLO's single pass, counted and timed on one scene.

R-CNN runs its classifier once per proposed region (each crop resized to CROP x CROP pixels); Fast R-CNN runs the
backbone once over the whole image and crops its feature map (RoI pooling, cnncourse.ops.c3_proposals.roi_max_pool),
then one batched head; YOLO runs one network once. The R-CNN classifier is the same backbone and head as Fast R-CNN's
(a 2x2 max pool between them), so the two differ only in where the crop is taken. The networks are untrained: the
number of evaluations and the time do not depend on the weights.
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.ops.c3_proposals import roi_max_pool

CROP = 16  # R-CNN's crops are resized to CROP x CROP pixels
STRIDE = 4  # the backbone's two 2x2 pools: image pixels per feature pixel
BINS = 2  # RoI pooling to BINS x BINS


class CountedNetwork:
    """A network wrapped so that its evaluations are counted: calls (forward passes) and images (batch rows) seen."""

    def __init__(self, model):
        self.model, self.calls, self.images = model, 0, 0

    def __call__(self, batch):
        """Run the model on a (batch, ...) array; return its output as a numpy array."""
        self.calls += 1
        self.images += len(batch)
        return keras.ops.convert_to_numpy(self.model(batch, training=False))


def proposal_networks(n_classes=4, seed=0):
    """The backbone, head and R-CNN classifier, sharing their layers.

    Returns:
        (backbone, head, classifier): backbone maps (1, H, W, 3) to features (1, H / 4, W / 4, 32); head maps pooled
        regions (n, BINS, BINS, 32) to class probabilities (n, n_classes); classifier maps crops (n, CROP, CROP, 3)
        to (n, n_classes) through the same backbone, a 2x2 max pool and the same head.
    """
    keras.utils.set_random_seed(seed)
    backbone = keras.Sequential([layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
                                 layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2)],
                                name="backbone")
    head = keras.Sequential([layers.Flatten(), layers.Dense(64, activation="relu"),
                             layers.Dense(n_classes, activation="softmax")], name="head")
    crops = keras.Input((CROP, CROP, 3))
    classifier = keras.Model(crops, head(layers.MaxPooling2D(CROP // STRIDE // BINS)(backbone(crops))),
                             name="rcnn_classifier")
    return backbone, head, classifier


def resize_nearest(image, size):
    """(h, w, C) -> (size, size, C): each output pixel takes the input pixel under its centre."""
    rows = ((np.arange(size) + 0.5) * image.shape[0] / size).astype(int)
    cols = ((np.arange(size) + 0.5) * image.shape[1] / size).astype(int)
    return image[np.ix_(rows, cols)]


def rcnn_scores(classifier, image, proposals):
    """R-CNN: crop each proposal from the image, resize it to CROP x CROP, classify it alone: one pass per region.

    Returns:
        (n, n_classes) class probabilities, one row per proposal (corner boxes in pixels, (n, 4)).
    """
    rows = []
    for x1, y1, x2, y2 in np.asarray(proposals).astype(int):
        crop = resize_nearest(image[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)], CROP)
        rows.append(classifier(crop[None].astype("float32"))[0])
    return np.stack(rows)


def fast_rcnn_scores(backbone, head, image, proposals):
    """Fast R-CNN: one backbone pass over the image, RoI max pooling of its feature map per proposal, one head pass.

    Returns:
        (n, n_classes) class probabilities, one row per proposal.
    """
    features = backbone(image[None].astype("float32"))[0]  # (H / STRIDE, W / STRIDE, 32)
    pooled = np.stack([roi_max_pool(features, box, STRIDE, BINS) for box in proposals])
    return head(pooled)


def compare_detector_costs(image, proposals, yolo_model, repeats=3):
    """Count and time the three ways of scoring the proposals of one image, and YOLO's one pass.

    Args:
        image: (H, W, 3) float image, H and W multiples of STRIDE.
        proposals: (n, 4) corner boxes in pixels, each at least STRIDE * BINS pixels a side.
        yolo_model: a keras.Model taking (1, H, W, 3).
        repeats: timings are the best of this many runs (the first call of a network also builds it: one warm-up).
    Returns:
        list of dicts, one per method ("R-CNN", "Fast R-CNN", "YOLO"), with "evaluations" (forward passes of one
        run), "regions" (rows classified) and "seconds" (best run).
    """
    backbone, head, classifier = (CountedNetwork(model) for model in proposal_networks())
    yolo = CountedNetwork(yolo_model)
    methods = [("R-CNN", lambda: rcnn_scores(classifier, image, proposals), [classifier]),
               ("Fast R-CNN", lambda: fast_rcnn_scores(backbone, head, image, proposals), [backbone, head]),
               ("YOLO", lambda: yolo(image[None].astype("float32")), [yolo])]
    results = []
    for name, run, networks in methods:
        run()  # warm-up
        times = []
        for _ in range(repeats):
            for network in networks:
                network.calls = network.images = 0
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        results.append({"method": name, "evaluations": sum(n.calls for n in networks),
                        "regions": len(proposals) if name != "YOLO" else 0, "seconds": min(times)})
    return results
