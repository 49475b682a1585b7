"""Chapter 6: what deep ConvNets learn, seen on real photographs through the VGG of cnncourse.models.c6_vgg.

Two views (Zeiler & Fergus 2013, simplified to what runs in seconds on a CPU):
    feature_maps(image, layers) -> activations        what each channel of a layer responds to in ONE image
    feature_maps_figure(image, layers)                 the input, then the most active channels of each layer
    top_patches(images, layer) -> dict                 for a few units of a layer, the input windows (each unit's
                                                       receptive field) of its k strongest activations over a
                                                       gallery of images
    top_patches_figure(images, layers)                 those windows, one block of rows per layer
    default_gallery(size) -> list of images            colour photographs of skimage.data / scikit-learn, plus
                                                       deterministic random crops of them
Images are float arrays (H, W, 3) of RGB values in [0, 1] (cnncourse.data.images.load_image(name, size, gray=False)).

Where a unit looks: every VGG conv is 3x3, stride 1, 'same' padding, so it keeps the centre of its window; every
2x2 max pool of stride 2 maps output i to inputs 2i and 2i+1, centre 2i + 1/2. A unit (i, j) of a layer with
jump J (input pixels between neighbouring units) is therefore centred at input pixel i*J + (J - 1)/2, and its
window of rf = receptive_field(layer)[0] pixels starts at i*J + (J - rf)/2 (an integer: rf - J is even for VGG).
tests/test_c6_features.py checks this against the network itself.
"""

import functools

import numpy as np

from cnncourse.data.images import load_image
from cnncourse.models.c6_vgg import preprocess, receptive_field

ALL_CONV_LAYERS = tuple(f"block{b}_conv{i}" for b, n in enumerate((2, 2, 3, 3, 3), start=1) for i in range(1, n + 1))
GALLERY_SAMPLES = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower", "hubble_deep_field")
BATCH = 8  # images per forward pass in top_patches (bounds the memory of early, large activations)


@functools.lru_cache(maxsize=16)
def layer_model(layer_names, weights="hed"):
    """A Keras model: preprocessed images (N, H, W, 3) -> list of the activations of `layer_names` (a tuple).

    The weights are loaded once per session (the full extractor of c6_style.cached_extractor over every conv
    layer); each tuple of names gets a cheap sub-model that stops at its deepest layer.
    """
    import keras

    from cnncourse.experiments.c6_style import cached_extractor

    unknown = [name for name in layer_names if name not in ALL_CONV_LAYERS]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; VGG16's conv layers are: {', '.join(ALL_CONV_LAYERS)}")
    full = cached_extractor(ALL_CONV_LAYERS, weights)
    return keras.Model(full.input, [full.get_layer(name).output for name in layer_names])


def _check_image(image, what="image"):
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{what} must be one RGB image of shape (H, W, 3) in [0, 1], got shape {image.shape}")
    return image


def _activations(images, layer_names, weights):
    """(N, H, W, 3) images in [0, 1] -> list of numpy float32 activations (N, H_l, W_l, C_l), one per layer."""
    import keras

    model = layer_model(tuple(layer_names), weights)
    outputs = model(preprocess(images))
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32) for out in outputs]


def feature_maps(image, layer_names, weights="hed"):
    """The activations of the named layers for one image.

    Args:
        image: (H, W, 3) float image, RGB in [0, 1].
        layer_names: sequence of VGG16 conv layer names, e.g. ("block1_conv1", "block3_conv1").
        weights: as for cnncourse.models.c6_vgg.vgg_backbone ("hed", a weights file, or None for random).
    Returns:
        list of numpy float32 arrays (H_l, W_l, C_l), one per layer in the given order; block b has
        H_l = H / 2**(b-1) (rounded down at each pool) and C_l = 64, 128, 256, 512, 512 for b = 1..5.
    """
    image = _check_image(image)
    return [a[0] for a in _activations(image[None], tuple(layer_names), weights)]


def feature_maps_figure(image, layer_names, n_channels=6, weights="hed"):
    """One row per layer: the input image, then the n_channels channels of largest mean activation.

    Args:
        image: (H, W, 3) float image in [0, 1].
        layer_names: sequence of conv layer names, shallow to deep reads best.
        n_channels: channels shown per layer.
        weights: as for feature_maps.
    Returns:
        matplotlib Figure with len(layer_names) * (1 + n_channels) axes (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    image = _check_image(image)
    maps = feature_maps(image, layer_names, weights)
    rows, cols = len(maps), 1 + n_channels
    fig, axes = plt.subplots(rows, cols, figsize=(1.75 * cols, 1.9 * rows), layout="constrained", squeeze=False)
    for row, (name, a) in zip(axes, zip(layer_names, maps)):
        row[0].imshow(np.clip(image, 0, 1))
        row[0].set_title("input", fontsize=8)
        row[0].set_ylabel(f"{name}\n{a.shape[0]}x{a.shape[1]}x{a.shape[2]}", fontsize=8)
        order = np.argsort(-a.mean(axis=(0, 1)), kind="stable")[:n_channels]
        for ax, k in zip(row[1:], order):
            ax.imshow(a[:, :, k], cmap="magma", interpolation="nearest")
            ax.set_title(f"{name}, channel {k}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row[1 + len(order):]:
            ax.axis("off")
    fig.suptitle("Feature maps: the most active channels of each layer (bright = strong activation); early layers "
                 "respond to edges and colours, deep ones to larger parts", fontsize=9)
    return fig


def window_start(index, layer_name):
    """First input pixel (row or column) of the receptive field of unit `index` (row or column) of a layer.

    Args:
        index: int or integer array, position of the unit along one axis of the layer's activation.
        layer_name: "block{b}_conv{i}".
    Returns:
        index * jump + (jump - rf) // 2 (may be negative at the border: the window reaches into the padding).
    """
    rf, jump = receptive_field(layer_name)
    return np.asarray(index) * jump + (jump - rf) // 2


def _window(padded, pad, top, left, rf):
    """The rf x rf window of the image starting at (top, left), zeros outside; `padded` has `pad` zeros each side."""
    return padded[top + pad:top + pad + rf, left + pad:left + pad + rf]


def _inside_mask(grid, image_shape, layer_name):
    """Boolean (h, w): True where the unit's whole window lies inside the image (no zero padding seen)."""
    rf, _ = receptive_field(layer_name)
    masks = []
    for size, n in zip(image_shape, grid):
        start = window_start(np.arange(n), layer_name)
        masks.append((start >= 0) & (start + rf <= size))
    return masks[0][:, None] & masks[1][None, :]


def top_patches(images, layer_name, n_units=6, k=6, weights="hed", inside=True):
    """The input windows that excite a few units of one layer most, over a set of images.

    Units: the n_units channels with the largest maximum activation over all images and positions (channels that
    never fire are skipped). For each, its k strongest activations: the best position in each of the k best
    images when there are at least k images (one window per image), otherwise the k best distinct positions.
    Args:
        images: (N, H, W, 3) array or a list of (H, W, 3) arrays of one size, RGB in [0, 1].
        layer_name: a VGG16 conv layer, e.g. "block3_conv3".
        n_units, k: units, and windows per unit.
        weights: as for feature_maps.
        inside: only positions whose whole window lies inside the image (when the layer has any): otherwise deep
            units win at the borders, where half their window is zero padding.
    Returns:
        dict with
          "units":     list of n_units' channel indices (fewer if fewer channels ever fire),
          "patches":   float32 (n_units, k, rf, rf, 3): the input windows of side rf, zero-padded at the borders,
          "scores":    float32 (n_units, k): the activation of the unit at each window's position, descending,
          "positions": int (n_units, k, 3): (image index, row, column) of each activation in the layer's grid,
          "rf", "jump": receptive field side and jump of the layer, in input pixels.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3) RGB in [0, 1], got shape {images.shape}")
    rf, jump = receptive_field(layer_name)
    n = len(images)
    per_image = n >= k
    best, where, maps = [], [], []
    for start in range(0, n, BATCH):
        a = _activations(images[start:start + BATCH], (layer_name,), weights)[0]  # (b, h, w, C)
        mask = _inside_mask(a.shape[1:3], images.shape[1:3], layer_name)
        if inside and mask.any():
            a = np.where(mask[None, :, :, None], a, -np.inf).astype(np.float32)
        flat = a.reshape(a.shape[0], -1, a.shape[-1])
        best.append(flat.max(axis=1))                     # (b, C)
        where.append(flat.argmax(axis=1))                 # (b, C), flat position in the grid
        if not per_image:
            maps.append(a)
        grid = a.shape[1:3]
    best, where = np.concatenate(best), np.concatenate(where)
    channel_max = best.max(axis=0)
    units = [int(c) for c in np.argsort(-channel_max, kind="stable") if channel_max[c] > 0][:n_units]
    pad = rf
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    patches = np.zeros((len(units), k, rf, rf, 3), np.float32)
    scores = np.zeros((len(units), k), np.float32)
    positions = np.zeros((len(units), k, 3), np.int64)
    if not per_image:
        maps = np.concatenate(maps)
    for u, c in enumerate(units):
        if per_image:
            chosen = np.argsort(-best[:, c], kind="stable")[:k]
            picks = [(int(i), *np.unravel_index(int(where[i, c]), grid), float(best[i, c])) for i in chosen]
        else:
            flat = maps[..., c].reshape(-1)
            chosen = np.argsort(-flat, kind="stable")[:k]
            picks = [(*np.unravel_index(int(f), maps.shape[:3]), float(flat[f])) for f in chosen]
        for j, (i, r, col, score) in enumerate(picks):
            top, left = window_start(r, layer_name), window_start(col, layer_name)
            patches[u, j] = _window(padded[i], pad, int(top), int(left), rf)
            scores[u, j] = score
            positions[u, j] = (i, r, col)
    return {"units": units, "patches": patches, "scores": scores, "positions": positions, "rf": rf, "jump": jump}


def top_patches_figure(images, layer_names, n_units=4, k=5, weights="hed"):
    """For each layer, a block of n_units rows of k windows: what its most active units respond to.

    Args:
        images: (N, H, W, 3) array or list of same-size images in [0, 1] (e.g. default_gallery()).
        layer_names: conv layers, shallow to deep, e.g. ("block1_conv2", "block3_conv3", "block5_conv3").
        n_units, k: rows per layer and windows per row.
        weights: as for feature_maps.
    Returns:
        matplotlib Figure with len(layer_names) * n_units * k axes; each row is labelled with layer, unit and the
        receptive field in pixels (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    results = [top_patches(images, name, n_units, k, weights) for name in layer_names]
    rows = len(layer_names) * n_units
    fig, axes = plt.subplots(rows, k, figsize=(1.3 * k + 1.2, 1.25 * rows), layout="constrained", squeeze=False)
    for b, (name, res) in enumerate(zip(layer_names, results)):
        for u in range(n_units):
            row = axes[b * n_units + u]
            for j, ax in enumerate(row):
                ax.set_xticks([])
                ax.set_yticks([])
                if u >= len(res["units"]):
                    ax.axis("off")
                    continue
                ax.imshow(np.clip(res["patches"][u, j], 0, 1), interpolation="nearest")
                ax.set_title(f"{res['scores'][u, j]:.0f}", fontsize=6, pad=2)
            if u < len(res["units"]):
                row[0].set_ylabel(f"{name}\nunit {res['units'][u]}\nrf {res['rf']}x{res['rf']} px", fontsize=7)
    fig.suptitle("Top patches: the input windows (receptive fields) of each unit's strongest activations over the "
                 "gallery;\nnumbers: the activation. Deeper layers see larger windows and respond to larger "
                 "structures.", fontsize=9)
    return fig


def default_gallery(size=224, n_crops=8, seed=0):
    """Colour photographs to look for top patches in: the samples of GALLERY_SAMPLES plus random crops of them.

    Args:
        size: side of every image in pixels.
        n_crops: extra images, each a random size x size crop of a sample loaded at twice the size (closer views:
            more, and different, windows).
        seed: the crops' random generator (the gallery is deterministic).
    Returns:
        list of len(GALLERY_SAMPLES) + n_crops float32 arrays (size, size, 3) in [0, 1].
    """
    gallery = [load_image(name, size, gray=False).astype(np.float32) for name in GALLERY_SAMPLES]
    rng = np.random.default_rng(seed)
    for c in range(n_crops):
        big = load_image(GALLERY_SAMPLES[c % len(GALLERY_SAMPLES)], 2 * size, gray=False)
        top, left = rng.integers(0, size + 1, 2)
        gallery.append(big[top:top + size, left:left + size].astype(np.float32))
    return gallery
