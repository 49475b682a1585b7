"""Chapter 2: AlexNet's PCA colour augmentation, in numpy.

AlexNet (Krizhevsky et al., 2012) shifts the colours of each training image along the principal components of its
RGB pixels: a bright, saturated image gets a large shift along its dominant colour axis, a grey one almost none.
For one image with pixels x (3 numbers each), the 3x3 covariance of the pixels has eigenvalues
lambda_1 >= lambda_2 >= lambda_3 and unit eigenvectors p_1, p_2, p_3; every pixel gets the same shift

    delta = alpha_1 lambda_1 p_1 + alpha_2 lambda_2 p_2 + alpha_3 lambda_3 p_3,

with alpha_i drawn from a normal distribution of standard deviation 0.1 once per image (here: given, so that the
result is exact). AlexNet took the covariance over the whole training set; the course takes it over the one image,
which needs no data set and gives each photo its own colour axes.
"""

import numbers

import numpy as np

from cnncourse.ops.validate import require_array


def pca_color_augment(image, alphas):
    """AlexNet's PCA colour augmentation of one RGB image, with given coefficients.

    Conventions (the checks use exactly these):
    - the pixels are the H * W rows of `image` reshaped to (H * W, 3); they are centred (the mean colour
      subtracted) and the covariance divides by the number of pixels, H * W (ddof = 0, np.cov(..., bias=True));
    - the eigenvalues are sorted from the LARGEST to the smallest, lambda_1 >= lambda_2 >= lambda_3, and alphas[i]
      goes with the i-th of them and its unit eigenvector p_i;
    - an eigenvector's sign is arbitrary (numpy may return p or -p): each p_i is turned so that its component of
      largest absolute value is positive;
    - the shift sum_i alphas[i] * lambda_i * p_i is added to every pixel, and the result is clipped to [0, 1].

    Args:
        image: numpy array (H, W, 3), floats in [0, 1] (RGB).
        alphas: three real numbers (a sequence or array of shape (3,)); AlexNet draws them from N(0, 0.1 ** 2).
    Returns:
        numpy array (H, W, 3), float64, in [0, 1]; `image` itself is not changed.
    """
    require_array(image, "image (H, W, 3)", ndim=3, shape=(None, None, 3))
    if image.shape[0] * image.shape[1] == 0:
        raise ValueError(f"image (H, W, 3) must have at least one pixel, got shape {image.shape}")
    if not (np.all(np.isfinite(image)) and image.min() >= 0.0 and image.max() <= 1.0):
        raise ValueError("image (H, W, 3) must hold floats in [0, 1]")
    alphas = np.asarray(alphas)
    if alphas.shape != (3,) or not all(isinstance(a, numbers.Real) and np.isfinite(a) for a in alphas.tolist()):
        raise ValueError(f"alphas must be three finite real numbers, got {alphas!r}")
    ### BEGIN SOLUTION
    pixels = image.reshape(-1, 3).astype(np.float64)
    centred = pixels - pixels.mean(axis=0)
    covariance = centred.T @ centred / pixels.shape[0]  # (3, 3), ddof = 0
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending; eigenvectors are the COLUMNS
    order = np.argsort(eigenvalues)[::-1]  # largest first
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    largest = np.argmax(np.abs(eigenvectors), axis=0)
    eigenvectors = eigenvectors * np.sign(eigenvectors[largest, np.arange(3)])  # largest component positive
    shift = eigenvectors @ (alphas * eigenvalues)  # sum_i alpha_i lambda_i p_i, shape (3,)
    return np.clip(image + shift, 0.0, 1.0)
    ### END SOLUTION
