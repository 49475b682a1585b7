"""ipywidgets explorers for the notebooks; each rests on pure functions that run without a display.

    from cnncourse.widgets import conv_explorer
    conv_explorer()          # last line of a cell: image, filter, stride and padding -> output and formula

Chapter 1: conv_explorer, pool_explorer, layer_walker (a slider through c1_2's ConvNet: each layer's output shape
and parameters, with their formulas). Chapter 2: architecture_explorer (layers, parameters and multiplications of a
network), scaling_explorer (EfficientNet's compound scaling), residual_explorer (the size of the activations and
gradients by depth, with and without skip connections). Chapter 3: sliding_explorer (a window classifier slid over a
scene with a chosen stride: the windows, the ones it calls an object, their count), iou_playground, anchor_explorer
(which grid cell and anchor take each object of a scene), nms_explorer (score and IoU thresholds of non-max
suppression on a detector's proposed boxes). Chapter 4: transpose_stepper (a transpose convolution, one input pixel
at a time). Chapter 5: face_pair_explorer (two faces, their distance and the verification decision), roc_explorer (a
threshold slider moving the point on the ROC curve), triplet_explorer (every triplet of a batch of encodings, sorted
by a margin slider into easy, semi-hard and hard). Chapter 6: style_mixer (content and style weights and the style
layers' lambdas of a short neural style transfer, its result and cost curves).
"""

from cnncourse.widgets.anchor_explorer import anchor_explorer
from cnncourse.widgets.architecture_explorer import NETWORKS, architecture_explorer, network_summary
from cnncourse.widgets.conv_explorer import FILTERS, conv_explorer, convolve_image, parse_kernel, size_formula
from cnncourse.widgets.face_pair_explorer import face_pair_explorer
from cnncourse.widgets.iou_playground import iou_playground
from cnncourse.widgets.layer_walker import layer_walker
from cnncourse.widgets.nms_explorer import nms_explorer
from cnncourse.widgets.pool_explorer import pool_explorer, pool_image
from cnncourse.widgets.residual_explorer import residual_explorer
from cnncourse.widgets.roc_explorer import roc_explorer
from cnncourse.widgets.scaling_explorer import scaling_explorer, scaling_numbers
from cnncourse.widgets.skip_explorer import skip_explorer
from cnncourse.widgets.sliding_explorer import sliding_explorer
from cnncourse.widgets.style_mixer import style_mixer
from cnncourse.widgets.transpose_stepper import transpose_stepper
from cnncourse.widgets.triplet_explorer import triplet_explorer

__all__ = ["FILTERS", "NETWORKS", "anchor_explorer", "architecture_explorer", "conv_explorer", "convolve_image",
           "face_pair_explorer", "iou_playground", "layer_walker", "network_summary", "nms_explorer", "parse_kernel",
           "pool_explorer", "pool_image", "residual_explorer", "roc_explorer", "scaling_explorer", "scaling_numbers",
           "size_formula", "skip_explorer", "sliding_explorer", "style_mixer", "transpose_stepper", "triplet_explorer"]
