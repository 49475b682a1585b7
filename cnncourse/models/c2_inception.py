"""Chapter 2's Inception module (its cost, with and without 1x1 bottlenecks: cnncourse.ops.c2_costs).

Layer names of inception_module(x, filters, name="3a") (GoogLeNet's inception (3a) has the default filters):
    3a_1x1                      1x1 conv, ReLU
    3a_3x3_reduce -> 3a_3x3     1x1 conv (bottleneck), ReLU -> 3x3 "same" conv, ReLU
    3a_5x5_reduce -> 3a_5x5     1x1 conv (bottleneck), ReLU -> 5x5 "same" conv, ReLU
    3a_pool -> 3a_pool_proj     3x3 max pool, stride 1, "same" -> 1x1 conv, ReLU
    3a_concat                   Concatenate on the channels, in that order
"""

import keras
from keras import layers

from cnncourse.ops.validate import require_int

# GoogLeNet's inception (3a): 28x28x192 in, 64 + 128 + 32 + 32 = 256 channels out.
INCEPTION_3A = {"1x1": 64, "3x3_reduce": 96, "3x3": 128, "5x5_reduce": 16, "5x5": 32, "pool_proj": 32}


def require_inception_filters(filters):
    """Check the filters dict of inception_module: the six keys of INCEPTION_3A, each a positive int."""
    if not isinstance(filters, dict) or set(filters) != set(INCEPTION_3A):
        raise ValueError(f"filters must be a dict with the keys {sorted(INCEPTION_3A)}, got {filters!r}")
    for key, value in filters.items():
        require_int(value, f"filters[{key!r}]", 1)


def inception_module(x, filters=None, name="3a"):
    """An Inception module: four branches side by side, concatenated on the channels.

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C_prev).
        filters: dict with the keys of INCEPTION_3A (the default) giving each convolution's filter count.
        name: prefix of the layer names, in branch order: {name}_1x1, {name}_3x3_reduce, {name}_3x3,
            {name}_5x5_reduce, {name}_5x5, {name}_pool, {name}_pool_proj, {name}_concat (see the module docstring).
    Returns:
        Keras tensor (batch, n_H, n_W, filters["1x1"] + filters["3x3"] + filters["5x5"] + filters["pool_proj"]).
    """
    filters = INCEPTION_3A if filters is None else filters
    require_inception_filters(filters)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string such as '3a', got {name!r}")
    ### BEGIN SOLUTION
    def conv(inputs, n_filters, size, suffix):
        return layers.Conv2D(n_filters, size, padding="same", activation="relu", name=f"{name}_{suffix}")(inputs)

    branch_1 = conv(x, filters["1x1"], 1, "1x1")
    branch_3 = conv(conv(x, filters["3x3_reduce"], 1, "3x3_reduce"), filters["3x3"], 3, "3x3")
    branch_5 = conv(conv(x, filters["5x5_reduce"], 1, "5x5_reduce"), filters["5x5"], 5, "5x5")
    pooled = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = conv(pooled, filters["pool_proj"], 1, "pool_proj")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([branch_1, branch_3, branch_5, branch_pool])
    ### END SOLUTION


def inception_block_model(input_shape=(28, 28, 192), filters=None, name="3a"):
    """A keras.Model of one inception_module on inputs of `input_shape` (n_H, n_W, n_C_prev), for tables and checks."""
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, inception_module(inputs, filters, name), name=f"inception_{name}")
