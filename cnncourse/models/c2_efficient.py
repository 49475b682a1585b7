"""Chapter 2's EfficientNet: compound scaling of depth, width and resolution (Tan & Le, 2019).

One coefficient phi scales the three dimensions of the baseline EfficientNet-B0 together:
    depth (number of layers)   d = alpha ** phi
    width (number of channels) w = beta ** phi
    resolution (image side)    r = gamma ** phi
with alpha, beta, gamma >= 1 found by a small grid search at phi = 1 (alpha = 1.2, beta = 1.1, gamma = 1.15)
under the constraint alpha * beta**2 * gamma**2 ~ 2. The cost of a convolution grows linearly with depth and
with the square of width (channels in times channels out) and of resolution (n_H times n_W), so the FLOPs grow
by (alpha * beta**2 * gamma**2) ** phi ~ 2 ** phi.

Keras's EfficientNetB1 ... B7 do NOT use these exact powers: the paper's released models round the
coefficients by hand (and pick resolutions by hand):
    B0 width 1.0 depth 1.0 224 px   B1 1.0 1.1 240   B2 1.1 1.2 260   B3 1.2 1.4 300
    B4 1.4 1.8 380                  B5 1.6 2.2 456   B6 1.8 2.6 528   B7 2.0 3.1 600
whereas compound_scaling(1) gives width 1.1, depth 1.2 and 224 * 1.15 = 257.6 px (256 px after
scaled_configuration's rounding): our phi = 1 has B2's width and depth (9,177,569 parameters, 0.86 billion
multiplications at 256 px) where Keras's B1 has 7,856,239 parameters and 0.69 billion multiplications at 240 px.
scaling_table() puts both side by side for each phi, with the multiplications of one forward pass
(counted by cnncourse.analysis.costs).
"""

import functools
import math
import numbers

import keras

from cnncourse.analysis.costs import totals
from cnncourse.models.c2_classic import require_image_shape
from cnncourse.models.shapes_only import shapes_only
from cnncourse.models.twins import compound_multipliers

# Keras's hand-rounded (width_coefficient, depth_coefficient, default_size) of EfficientNetB0 ... B7.
KERAS_COEFFICIENTS = {
    0: (1.0, 1.0, 224), 1: (1.0, 1.1, 240), 2: (1.1, 1.2, 260), 3: (1.2, 1.4, 300),
    4: (1.4, 1.8, 380), 5: (1.6, 2.2, 456), 6: (1.8, 2.6, 528), 7: (2.0, 3.1, 600),
}
RESOLUTION_MULTIPLE = 8


def require_real(value, name, minimum):
    """Check a finite real number (not a bool) >= minimum; return it as a float."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value < minimum):
        raise ValueError(f"{name} must be a finite real number >= {minimum}, got {value!r}")
    return float(value)


def require_int_at_least(value, name, minimum):
    """Check an int (not a bool) >= minimum; return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --- compound scaling ---------------------------------------------------------------------------------

def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """The multipliers of EfficientNet's compound scaling for the compound coefficient phi.

    Args:
        phi: compound coefficient, a real number >= 0 (0 is the baseline B0).
        alpha: depth base, >= 1 (1.2 in the paper).
        beta: width base, >= 1 (1.1 in the paper).
        gamma: resolution base, >= 1 (1.15 in the paper).
    Returns:
        dict of four floats:
            "depth": alpha ** phi, multiplier of the number of layers;
            "width": beta ** phi, multiplier of the number of channels;
            "resolution": gamma ** phi, multiplier of the image height and width;
            "flops": (alpha * beta ** 2 * gamma ** 2) ** phi, multiplier of the FLOPs (about 2 ** phi).
    """
    phi = require_real(phi, "phi", 0)
    alpha = require_real(alpha, "alpha", 1)
    beta = require_real(beta, "beta", 1)
    gamma = require_real(gamma, "gamma", 1)
    ### BEGIN SOLUTION
    depth = alpha ** phi
    width = beta ** phi
    resolution = gamma ** phi
    flops = (alpha * beta ** 2 * gamma ** 2) ** phi  # = depth * width**2 * resolution**2
    return {"depth": depth, "width": width, "resolution": resolution, "flops": flops}
    ### END SOLUTION


def scaled_configuration(phi, base_resolution=224):
    """The coefficients to hand to keras's EfficientNet builder for the compound coefficient phi.

    Rule for the resolution: base_resolution * gamma ** phi rounded to the nearest multiple of 8
    (RESOLUTION_MULTIPLE; at least 32, Keras's smallest EfficientNet input). phi = 1 gives 224 * 1.15 = 257.6 -> 256.

    Args:
        phi: compound coefficient, a real number >= 0.
        base_resolution: input side of the baseline, int >= 32.
    Returns:
        dict with "depth_coefficient" (float), "width_coefficient" (float) and "resolution" (int).
    """
    base_resolution = require_int_at_least(base_resolution, "base_resolution", 32)
    factors = compound_multipliers(phi)  # the twin: the student edition's compound_scaling is a stub
    side = base_resolution * factors["resolution"]
    resolution = max(32, int(round(side / RESOLUTION_MULTIPLE)) * RESOLUTION_MULTIPLE)
    return {"depth_coefficient": factors["depth"], "width_coefficient": factors["width"], "resolution": resolution}


# --- the scaled network -------------------------------------------------------------------------------

def efficientnet(phi=0, input_shape=None, n_classes=1000):
    """EfficientNet-B0 scaled by compound_scaling(phi), built by keras.applications.efficientnet.EfficientNet.

    Keras rounds the channels of every block to a multiple of 8 (round_filters) and the repeats of every
    stage up (ceil(depth * repeats)), so the network only changes at some phi steps.

    Args:
        phi: compound coefficient, a real number >= 0; phi = 0 is exactly keras's EfficientNetB0
            (5,330,571 parameters for 1000 classes).
        input_shape: (n_H, n_W, 3), sides >= 32, or None for the scaled resolution of scaled_configuration.
        n_classes: number of output classes, >= 1.
    Returns:
        keras.Model mapping (batch, n_H, n_W, 3) images in [0, 255] to class probabilities (batch, n_classes),
        with random weights.
    """
    config = scaled_configuration(phi)
    if input_shape is None:
        input_shape = (config["resolution"], config["resolution"], 3)
    input_shape = require_image_shape(input_shape, 32)
    n_classes = require_int_at_least(n_classes, "n_classes", 1)
    name = f"efficientnet_phi{float(phi):g}".replace(".", "_")
    return _keras_efficientnet_builder()(
        config["width_coefficient"], config["depth_coefficient"], config["resolution"],
        weights=None, input_shape=input_shape, classes=n_classes, name=name,
    )


def _keras_efficientnet_builder():
    """Keras's generic EfficientNet(width_coefficient, depth_coefficient, default_size, ...) builder.

    keras.applications.efficientnet exports only EfficientNetB0..B7; the builder they all call lives in
    keras.src.applications.efficientnet (Keras 3), which is where we take it from.
    """
    public = getattr(keras.applications.efficientnet, "EfficientNet", None)
    if public is not None:
        return public
    from keras.src.applications.efficientnet import EfficientNet

    return EfficientNet


@functools.lru_cache(maxsize=None)
def _table_row(phi):
    """One row of scaling_table, built once per phi (building B3 and up takes seconds on a CPU)."""
    factors = compound_multipliers(phi)
    config = scaled_configuration(phi)
    with shapes_only():  # only counted: no weight is drawn
        ours = efficientnet(phi)
    row = {"phi": phi, "depth": factors["depth"], "width": factors["width"], "resolution": config["resolution"],
           "flops_factor": factors["flops"], "params": ours.count_params(),
           "multiplications": totals(ours)["multiplications"]}
    del ours
    if phi in KERAS_COEFFICIENTS:
        width, depth, size = KERAS_COEFFICIENTS[phi]
        with shapes_only():
            theirs = getattr(keras.applications, f"EfficientNetB{phi}")(weights=None)
        row.update(keras_depth=depth, keras_width=width, keras_resolution=size, keras_params=theirs.count_params(),
                   keras_multiplications=totals(theirs)["multiplications"])
    else:
        row.update(keras_depth=None, keras_width=None, keras_resolution=None, keras_params=None,
                   keras_multiplications=None)
    return row


def scaling_table(phis=(0, 1, 2, 3)):
    """Our compound-scaled networks next to keras's EfficientNetB{phi}, one row per phi.

    Rows are built on demand and cached, so asking again (or for a subset) costs nothing.

    Args:
        phis: iterable of compound coefficients (ints 0..7 have a keras counterpart; others get None there).
    Returns:
        list of dicts with keys phi, depth, width, resolution (ours, from scaled_configuration), flops_factor
        (compound_scaling's multiplier), params, multiplications (of one 1000-class forward pass at our
        resolution) and keras_depth, keras_width, keras_resolution, keras_params, keras_multiplications.
    """
    rows = []
    for phi in phis:
        require_real(phi, "each phi", 0)
        key = int(phi) if float(phi).is_integer() else float(phi)
        rows.append(dict(_table_row(key)))
    return rows
