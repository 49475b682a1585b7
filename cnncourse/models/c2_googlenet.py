"""Chapter 2's Inception network (GoogLeNet, Szegedy et al. 2014): nine Inception modules stacked, and two side branches.

Layer names of googlenet() (the modules' own layers are {module}_1x1, ..., {module}_concat, see c2_inception):
    conv1_7x7_s2, pool1_3x3_s2                 7x7 conv 64 stride 2, ReLU; 3x3 max pool stride 2
    conv2_3x3_reduce, conv2_3x3, pool2_3x3_s2  1x1 conv 64, 3x3 conv 192 (ReLU); 3x3 max pool stride 2
    3a, 3b, pool3_3x3_s2                       two modules at 28x28; max pool to 14x14
    4a, 4b, 4c, 4d, 4e, pool4_3x3_s2           five modules at 14x14; max pool to 7x7
    5a, 5b                                     two modules at 7x7
    pool5_7x7_s1, dropout, predictions         global average pool, dropout 0.4, softmax
    aux1_* after 4a, aux2_* after 4d           avg_pool 5x5 stride 3, conv 1x1 128, flatten, fc 1024, dropout 0.7,
                                               predictions (softmax)
The paper's local response normalisation after pool1 and conv2 is left out: it has no parameters, and Chapter 2's
AlexNet shows it.
"""

import keras
from keras import layers

from cnncourse.models.c2_classic import require_image_shape
from cnncourse.models.c2_inception import INCEPTION_3A, inception_module, require_inception_filters
from cnncourse.ops.validate import require_int


def _filters(n1, n3r, n3, n5r, n5, pool):
    return {"1x1": n1, "3x3_reduce": n3r, "3x3": n3, "5x5_reduce": n5r, "5x5": n5, "pool_proj": pool}


# The modules in order, as (name, filters); "pool" marks a 3x3 max pool of stride 2 between stages.
GOOGLENET_MODULES = [
    ("3a", INCEPTION_3A), ("3b", _filters(128, 128, 192, 32, 96, 64)), "pool",
    ("4a", _filters(192, 96, 208, 16, 48, 64)), ("4b", _filters(160, 112, 224, 24, 64, 64)),
    ("4c", _filters(128, 128, 256, 24, 64, 64)), ("4d", _filters(112, 144, 288, 32, 64, 64)),
    ("4e", _filters(256, 160, 320, 32, 128, 128)), "pool",
    ("5a", _filters(256, 160, 320, 32, 128, 128)), ("5b", _filters(384, 192, 384, 48, 128, 128)),
]
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}  # the side branches and the module whose output they read
MAIN_DROPOUT, AUX_DROPOUT, AUX_LOSS_WEIGHT = 0.4, 0.7, 0.3  # the paper's rates; aux losses weigh 0.3 in training


def module_output_channels(filters):
    """Channels out of an Inception module with these filters: 1x1 + 3x3 + 5x5 + pool_proj."""
    require_inception_filters(filters)
    return filters["1x1"] + filters["3x3"] + filters["5x5"] + filters["pool_proj"]


def auxiliary_classifier(x, n_classes, name):
    """A side branch of GoogLeNet: 5x5 average pool stride 3, 1x1 conv 128 (ReLU), fc 1024 (ReLU), dropout 0.7, softmax.

    Args:
        x: Keras tensor (batch, n_H, n_W, n_C), 14x14 in GoogLeNet (n_H, n_W >= 5).
        n_classes: number of classes.
        name: prefix of the layer names, e.g. "aux1" -> aux1_avg_pool, aux1_conv, aux1_flatten, aux1_fc,
            aux1_dropout, aux1_predictions.
    Returns:
        Keras tensor (batch, n_classes) of class probabilities.
    """
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_avg_pool")(x)
    x = layers.Conv2D(128, 1, activation="relu", name=f"{name}_conv")(x)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(AUX_DROPOUT, name=f"{name}_dropout")(x)
    return layers.Dense(n_classes, activation="softmax", name=f"{name}_predictions")(x)


def googlenet(input_shape=(224, 224, 3), n_classes=1000, auxiliary=True, module=inception_module):
    """GoogLeNet: a stem, the Inception modules of GOOGLENET_MODULES, global average pooling, dropout, softmax.

    Args:
        input_shape: (n_H, n_W, n_C) with n_H, n_W >= 160 so the side branches' 5x5 pool fits; (224, 224, 3) in the paper.
        n_classes: number of classes (>= 2).
        auxiliary: True adds the two side branches (training); False gives the network used at inference.
        module: the Inception module builder, called as module(x, filters, name) -> Keras tensor; the notebook
            passes the student's own inception_module.
    Returns:
        keras.Model named "googlenet"; its outputs are [predictions, aux1_predictions, aux2_predictions] with
        auxiliary=True, else predictions alone, each (batch, n_classes).
    """
    input_shape = require_image_shape(input_shape, 160)
    require_int(n_classes, "n_classes", 2)
    if not isinstance(auxiliary, bool):
        raise ValueError(f"auxiliary must be True or False, got {auxiliary!r}")

    def conv(inputs, n_filters, size, name, strides=1):
        return layers.Conv2D(n_filters, size, strides=strides, padding="same", activation="relu", name=name)(inputs)

    def max_pool(inputs, name):
        return layers.MaxPooling2D(3, strides=2, padding="same", name=name)(inputs)

    inputs = keras.Input(shape=input_shape)
    x = max_pool(conv(inputs, 64, 7, "conv1_7x7_s2", strides=2), "pool1_3x3_s2")
    x = conv(conv(x, 64, 1, "conv2_3x3_reduce"), 192, 3, "conv2_3x3")
    x = max_pool(x, "pool2_3x3_s2")
    side_outputs, n_pools = [], 3
    for entry in GOOGLENET_MODULES:
        if entry == "pool":
            x, n_pools = max_pool(x, f"pool{n_pools}_3x3_s2"), n_pools + 1
            continue
        name, filters = entry
        x = module(x, dict(filters), name)
        if auxiliary and name in AUX_AFTER:
            side_outputs.append(auxiliary_classifier(x, n_classes, AUX_AFTER[name]))
    x = layers.GlobalAveragePooling2D(name="pool5_7x7_s1")(x)
    x = layers.Dropout(MAIN_DROPOUT, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, [outputs, *side_outputs] if auxiliary else outputs, name="googlenet")


def layer_groups(model):
    """The model's layers grouped by the prefix of their names (the text before the first "_"), in order.

    Args:
        model: a keras.Model whose layer names start with their block, e.g. googlenet(): "3a_1x1" -> "3a".
    Returns:
        list of dicts, one per group in the order of first appearance: "group" (str), "layers" (list of layer
        names), "params" (int, the group's parameters), "output_shape" (tuple, the last layer's output without the
        batch axis).
    """
    groups = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        key = layer.name.split("_")[0]
        group = groups.setdefault(key, {"group": key, "layers": [], "params": 0})
        group["layers"].append(layer.name)
        group["params"] += layer.count_params()
        group["output_shape"] = tuple(layer.output.shape[1:])
    return list(groups.values())


def auxiliary_share(model):
    """Parameters of the side branches (layers named aux*) of a googlenet(auxiliary=True) model.

    Returns:
        (auxiliary parameters, all parameters, their ratio), ints and a float.
    """
    aux = sum(layer.count_params() for layer in model.layers if layer.name.startswith("aux"))
    total = model.count_params()
    return aux, total, aux / total
