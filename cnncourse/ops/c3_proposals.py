"""Chapter 3: the pieces of region-proposal detectors (R-CNN, Fast R-CNN, Faster R-CNN), in numpy.

anchor_proposals is the simplest proposal method: every anchor shape centred on every cell of a grid (the boxes that
Faster R-CNN's region proposal network scores). roi_max_pool is Fast R-CNN's RoI pooling: a box in pixels is mapped
onto a feature map of a given stride and max-pooled into a fixed grid of bins, so that regions of any size give
vectors of one size for the classifier head.
"""

import numpy as np

from cnncourse.ops.c3_boxes import require_box
from cnncourse.ops.validate import require_array, require_int


def anchor_proposals(image_size, cell, anchors):
    """Every anchor centred on every cell of the grid, as corner boxes in pixels, clipped to the image.

    Args:
        image_size: side of the square image in pixels (int >= 1), a multiple of cell.
        cell: pixels per grid cell (int >= 1); the grid has S = image_size // cell cells a side.
        anchors: (A, 2) anchor (height, width) in cells.
    Returns:
        float64 array (S * S * A, 4) of boxes (x1, y1, x2, y2) in the order row, col, anchor.
    """
    image_size, cell = require_int(image_size, "image_size", 1), require_int(cell, "cell", 1)
    if image_size % cell:
        raise ValueError(f"image_size must be a multiple of cell ({cell}), got {image_size}")
    anchors = require_array(anchors, "anchors (A, 2)", ndim=2, shape=(None, 2)).astype(np.float64)
    grid = image_size // cell
    centres = (np.arange(grid) + 0.5) * cell
    cy, cx = np.meshgrid(centres, centres, indexing="ij")  # (S, S)
    half_h, half_w = anchors[:, 0] * cell / 2, anchors[:, 1] * cell / 2  # (A,)
    boxes = np.stack([cx[..., None] - half_w, cy[..., None] - half_h, cx[..., None] + half_w, cy[..., None] + half_h],
                     axis=-1)  # (S, S, A, 4)
    return np.clip(boxes, 0, image_size).reshape(-1, 4)


def roi_max_pool(feature_map, box, stride, bins=2):
    """Fast R-CNN's RoI pooling of one box: crop the feature map under the box and max-pool it into bins x bins.

    The box (pixels) becomes feature rows floor(y1 / stride) .. ceil(y2 / stride) - 1 and the columns likewise (at
    least one of each); these are split into bins nearly equal runs (np.array_split), and each bin keeps its maximum.

    Args:
        feature_map: (H_f, W_f, C) array, the backbone's output for the whole image.
        box: (4,) corner box (x1, y1, x2, y2) in image pixels, inside the image.
        stride: image pixels per feature-map pixel (int >= 1).
        bins: bins per side (int >= 1); needs at least bins feature rows and columns under the box.
    Returns:
        (bins, bins, C) array of the maxima, whatever the box's size.
    """
    feature_map = require_array(feature_map, "feature_map (H_f, W_f, C)", ndim=3)
    require_box(box)
    stride, bins = require_int(stride, "stride", 1), require_int(bins, "bins", 1)
    x1, y1, x2, y2 = (float(v) for v in box)
    rows = _feature_span(y1, y2, stride, feature_map.shape[0])  # require_box: x1 <= x2, y1 <= y2
    cols = _feature_span(x1, x2, stride, feature_map.shape[1])
    if len(rows) < bins or len(cols) < bins:
        raise ValueError(f"box {box} covers {len(rows)} x {len(cols)} feature pixels, fewer than bins = {bins}")
    out = np.empty((bins, bins, feature_map.shape[2]), dtype=feature_map.dtype)
    for i, bin_rows in enumerate(np.array_split(rows, bins)):
        for j, bin_cols in enumerate(np.array_split(cols, bins)):
            out[i, j] = feature_map[np.ix_(bin_rows, bin_cols)].max(axis=(0, 1))
    return out


def _feature_span(start, stop, stride, size):
    """Feature indices under the pixel span [start, stop): floor(start / stride) .. ceil(stop / stride) - 1, clipped."""
    first = min(int(np.floor(start / stride)), size - 1)
    last = max(min(int(np.ceil(stop / stride)), size), first + 1)
    return np.arange(first, last)
