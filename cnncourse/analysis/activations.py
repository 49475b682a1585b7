"""The activations of MobileNet v2's inverted residual blocks: what a block hands to the next, and how wide it gets
inside.

MobileNet v2's memory argument (Sandler et al., 2018, section 5): an inverted residual block expands its narrow input
t times, filters it depthwise and projects it back to a narrow output. Only the narrow tensors pass from block to
block (and feed the residual additions); the wide ones live while their block runs, and an implementation can even
compute them a slice of channels at a time. So the activations that must be kept between blocks are the thin
bottlenecks, about t times smaller than the wide tensors a wide-narrow-wide (ResNet-style) design would hand on.
"""


def _prefix(block_id):
    """Layer-name prefix of block `block_id`, as keras.applications.MobileNetV2 names it."""
    return "expanded_conv_" if block_id == 0 else f"block_{block_id}_"


def _values(shape):
    """Number of values of one image's tensor of shape (n_H, n_W, n_C)."""
    n_H, n_W, n_C = shape
    return n_H * n_W * n_C


def inverted_residual_activations(model):
    """One row per inverted residual block of a built Keras MobileNet v2.

    Args:
        model: a Keras model whose blocks are named as keras.applications.MobileNetV2 names them (prefix
            "expanded_conv_" for block 0, "block_{id}_" after; the course's inverted_residual_block does the same).
    Returns:
        list of dicts in block order, each with
            "block": int, the block id;
            "input", "output": (n_H, n_W, n_C) of the tensor the block reads and the one it hands on (after the
                residual addition where there is one);
            "widest": (n_H, n_W, n_C) of the largest tensor inside the block (the expanded one, or the depthwise
                output, whichever holds more values);
            "handed_on": values of "output" per image, kept until the next block has read it;
            "widest_values": values of "widest" per image, alive only while the block runs.
    Raises:
        ValueError when the model has no layer named like a block's projection.
    """
    names = {layer.name: layer for layer in model.layers}
    rows, block_id = [], 0
    while f"{_prefix(block_id)}project_BN" in names:
        prefix = _prefix(block_id)
        first = names.get(f"{prefix}expand") or names[f"{prefix}depthwise"]
        last = names.get(f"{prefix}add") or names[f"{prefix}project_BN"]
        inside = [names[f"{prefix}depthwise"].output] + ([names[f"{prefix}expand"].output]
                                                        if f"{prefix}expand" in names else [])
        widest = max((tuple(t.shape[1:]) for t in inside), key=_values)
        output = tuple(last.output.shape[1:])
        rows.append({"block": block_id, "input": tuple(first.input.shape[1:]), "output": output, "widest": widest,
                     "handed_on": _values(output), "widest_values": _values(widest)})
        block_id += 1
    if not rows:
        raise ValueError("no MobileNet v2 block found: expected layers named expanded_conv_project_BN, "
                         "block_1_project_BN, ... as keras.applications.MobileNetV2 names them")
    return rows
