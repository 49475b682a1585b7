"""Parameters and multiplications of a Keras model, layer by layer.

A multiplication is one multiply of a weight by an input in the forward pass of one image (one multiply-add).
Only the layers that hold weights multiply:
    Conv2D:          n_H_out * n_W_out * n_C * (f_H * f_W * n_C_prev / groups)
    DepthwiseConv2D: n_H_out * n_W_out * n_C_prev * depth_multiplier * f_H * f_W
    SeparableConv2D: its depthwise part plus n_H_out * n_W_out * n_C_prev * depth_multiplier * n_C
    Dense:           n_in * units (times the positions when applied to a feature map)
    Conv2DTranspose: n_H_in * n_W_in * n_C_prev * f_H * f_W * n_C (each input value scales the whole filter)
Batch normalization, activations, pooling and additions are counted as free: they are a few operations per
activation, orders of magnitude below the convolutions.
"""

import math


def _positions(shape):
    """Number of spatial positions of an output shape (batch axis excluded), 1 for a vector."""
    return math.prod(shape[:-1]) if len(shape) > 1 else 1


def layer_multiplications(layer):
    """Multiplications of one built Keras layer for one image (see the module docstring); 0 for other layers."""
    import keras

    out = tuple(layer.output.shape[1:])
    if isinstance(layer, keras.layers.SeparableConv2D):
        n_C_prev = layer.input.shape[-1]
        f_H, f_W = layer.kernel_size
        depth = n_C_prev * layer.depth_multiplier
        return _positions(out) * depth * (f_H * f_W + layer.filters)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        n_C_prev = layer.input.shape[-1]
        f_H, f_W = layer.kernel_size
        return _positions(out) * n_C_prev * layer.depth_multiplier * f_H * f_W
    if isinstance(layer, keras.layers.Conv2DTranspose):  # not a Conv2D subclass in Keras 3
        f_H, f_W = layer.kernel_size
        return _positions(tuple(layer.input.shape[1:])) * layer.input.shape[-1] * f_H * f_W * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        n_C_prev = layer.input.shape[-1]
        f_H, f_W = layer.kernel_size
        return _positions(out) * layer.filters * f_H * f_W * n_C_prev // layer.groups
    if isinstance(layer, keras.layers.Dense):
        return _positions(out) * layer.input.shape[-1] * layer.units
    return 0


def layer_table(model):
    """One row per layer of a built Keras model (input layers left out), in the model's order.

    Returns:
        list of dicts with "name", "kind" (the layer class), "output_shape" (tuple, batch axis excluded),
        "params" (int) and "multiplications" (int, per image).
    """
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        output = layer.output
        shape = tuple(output.shape[1:]) if not isinstance(output, (list, tuple)) else tuple(output[0].shape[1:])
        rows.append({
            "name": layer.name,
            "kind": type(layer).__name__,
            "output_shape": shape,
            "params": int(layer.count_params()),
            "multiplications": int(layer_multiplications(layer)),
        })
    return rows


def totals(model):
    """Totals of layer_table(model): dict with "params" and "multiplications" (per image)."""
    rows = layer_table(model)
    return {"params": sum(r["params"] for r in rows), "multiplications": sum(r["multiplications"] for r in rows)}


def format_table(rows, max_rows=None):
    """The rows of layer_table as aligned text, with a total line; the first max_rows rows when given."""
    lines = [f"{'layer':<26} {'kind':<27} {'output shape':<20} {'parameters':>12} {'multiplications':>16}"]
    for row in rows[:max_rows]:
        lines.append(f"{row['name']:<26} {row['kind']:<27} {str(row['output_shape']):<20} "
                     f"{row['params']:>12,} {row['multiplications']:>16,}")
    if max_rows is not None and len(rows) > max_rows:
        lines.append(f"... {len(rows) - max_rows} more layers")
    params = sum(r["params"] for r in rows)
    mults = sum(r["multiplications"] for r in rows)
    lines.append(f"{'total':<75} {params:>12,} {mults:>16,}")
    return "\n".join(lines)
