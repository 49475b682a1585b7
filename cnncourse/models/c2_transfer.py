"""Chapter 2: the two steps of transfer learning that the student writes, on any pretrained Keras backbone.

1. add_new_head: freeze the pretrained backbone and put a new softmax layer for the new classes on it; only the new
   layer trains. A frozen batch normalization layer keeps the statistics of the large data set (Keras 3 runs it in
   inference mode); the backbone is also called with training=False, as Keras's transfer-learning guide writes.
2. unfreeze_top: fine-tuning. Unfreeze the last layers that hold weights (the most task-specific features) and
   train them with a small learning rate. Batch normalization layers stay frozen: with few labels, their statistics
   and scales would drift away from what the rest of the network was trained with.

A change of `trainable` takes effect at the next `model.compile`: the caller compiles after each step.
"""

import keras
from keras import layers

from cnncourse.ops.validate import require_int


def require_backbone(backbone):
    """Check a keras.Model with one input of known shape and a (batch, features) output; raise ValueError if not."""
    if not isinstance(backbone, keras.Model):
        raise ValueError(f"backbone must be a keras.Model (pretrained, images -> features), got "
                         f"{type(backbone).__name__}")
    if len(backbone.inputs) != 1 or len(backbone.outputs) != 1 or len(backbone.outputs[0].shape) != 2:
        raise ValueError("backbone must have one input and one output of shape (batch, features), got outputs "
                         f"{[tuple(t.shape) for t in backbone.outputs]}")


def add_new_head(backbone, n_classes):
    """Transfer learning, step 1: freeze a pretrained backbone and put a new softmax layer on it.

    Args:
        backbone: a keras.Model mapping images (batch, n_H, n_W, n_C) to features (batch, d), pretrained.
        n_classes: int >= 2, the number of classes of the new task.
    Returns:
        keras.Model named "transfer", mapping the backbone's input shape to class probabilities (batch, n_classes):
        a new keras.Input of the backbone's input shape; the backbone itself (the same object, so its pretrained
        weights) called on it (with training=False, as Keras's guide writes); a Dense layer named "predictions" with n_classes units and a
        softmax. The backbone is frozen (no weight of it trainable): the new Dense layer's kernel and bias are the
        model's only trainable weights.
    """
    require_backbone(backbone)
    n_classes = require_int(n_classes, "n_classes", 2)
    ### BEGIN SOLUTION
    backbone.trainable = False  # every layer of the backbone, and the backbone itself
    inputs = keras.Input(shape=backbone.inputs[0].shape[1:], name="image")
    features = backbone(inputs, training=False)  # Keras's guide: the backbone's batch norm in inference mode
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(features)
    return keras.Model(inputs, outputs, name="transfer")
    ### END SOLUTION


def unfreeze_top(backbone, n_layers):
    """Transfer learning, step 2 (fine-tuning): unfreeze the last n_layers layers of the backbone that hold weights.

    Counting from the top of backbone.layers, only layers with weights count (a pooling or flatten layer does not),
    and batch normalization layers are skipped: they stay frozen. Every other layer of the backbone is frozen, so
    that exactly the weights of the unfrozen layers are trainable.

    Args:
        backbone: a keras.Model, for example frozen by add_new_head.
        n_layers: int, 0 <= n_layers <= the number of layers that hold weights and are not batch normalization.
    Returns:
        list of the names of the unfrozen layers, in the order of backbone.layers (an empty list for n_layers = 0).
    """
    require_backbone(backbone)
    n_layers = require_int(n_layers, "n_layers", 0)
    candidates = [layer for layer in backbone.layers
                  if layer.weights and not isinstance(layer, layers.BatchNormalization)]
    if n_layers > len(candidates):
        raise ValueError(f"n_layers must be at most {len(candidates)}, the backbone's layers with weights (batch "
                         f"normalization excepted), got {n_layers}")
    ### BEGIN SOLUTION
    top = candidates[len(candidates) - n_layers:]
    backbone.trainable = True  # the model's own flag must be on for any of its layers to train
    for layer in backbone.layers:
        layer.trainable = any(layer is chosen for chosen in top)
    return [layer.name for layer in top]
    ### END SOLUTION
