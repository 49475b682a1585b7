"""Chapter 5 diagrams: face verification with a Siamese pair.

    siamese_pair(embedding_dim, image_size)   two images -> ONE encoder (shared weights) -> f(x_i), f(x_j)
                                              -> |f(x_i) - f(x_j)| -> logistic unit -> same / different

The encoding size and the image size default to those of cnncourse.models.c5_faces.face_encoder, and the two face
images are drawn by cnncourse.data.faces.make_faces (one synthetic person, two pictures).
"""

import inspect

import matplotlib.pyplot as plt

from cnncourse.data.faces import make_faces
from cnncourse.diagrams.flow import finish, link, node
from cnncourse.models.c5_faces import face_encoder

_ENCODER_DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(face_encoder).parameters.items()}


def siamese_pair(embedding_dim=None, image_size=None, seed=0):
    """Draw the Siamese pair classifier of face verification as binary classification.

    Args:
        embedding_dim: d, the length of an encoding; None for face_encoder's default (128).
        image_size: side of the square RGB input in pixels; None for face_encoder's default.
        seed: picks the synthetic person shown.
    Returns:
        matplotlib Figure. The encoder box names its output (d,), the logistic unit its d + 1 parameters.
    """
    d = _ENCODER_DEFAULTS["embedding_dim"] if embedding_dim is None else int(embedding_dim)
    size = _ENCODER_DEFAULTS["image_size"] if image_size is None else int(image_size)
    faces = make_faces(1, 2, size=size, seed=seed)["images"]
    fig, ax = plt.subplots(figsize=(12, 5))
    for k, (y, name) in enumerate(((3.2, "x_i"), (0.8, "x_j"))):
        ax.imshow(faces[k], extent=(0.0, 1.6, y - 0.8, y + 0.8), zorder=2)
        caption = f"${name}$  ({size}, {size}, 3)" + ("" if k else "\ntwo pictures of one person")
        ax.text(0.8, y - 0.9, caption, ha="center", va="top", fontsize=9)
        link(ax, (1.7, y), (3.0, y))
        node(ax, 4.2, y, f"encoder f\n(the face ConvNet)\n-> Dense({d}) -> L2 norm", "#cfe2f3",
             width=2.4, height=1.2, fontsize=8)
        node(ax, 6.9, y, f"$f({name})$\nencoding ({d},)", "#d9ead3", width=1.7, height=0.9)
        link(ax, (5.45, y), (6.0, y))
        link(ax, (7.8, y), (8.6, 2.1 + 0.25 * (1 - 2 * k)))
    ax.annotate("", xy=(4.2, 2.55), xytext=(4.2, 1.45), zorder=1,
                arrowprops={"arrowstyle": "<|-|>", "mutation_scale": 14, "color": "#cc0000", "linestyle": "--"})
    ax.text(4.35, 2.0, "the SAME network:\nshared weights", color="#cc0000", fontsize=9, va="center")
    node(ax, 9.7, 2.0, f"$|f(x_i) - f(x_j)|$\n({d},) features", "#fff2cc", width=2.1, height=0.9)
    link(ax, (10.8, 2.0), (11.45, 2.0))
    node(ax, 12.8, 2.0, f"logistic unit\n$\\sigma(w^T \\cdot + b)$\n{d} + 1 = {d + 1} parameters", "#f4cccc",
         width=2.6, height=1.2, fontsize=8)
    link(ax, (14.15, 2.0), (14.7, 2.0))
    ax.text(14.8, 2.0, "$\\hat{y}$: 1 same person\n     0 different", va="center", fontsize=9)
    title = (f"Face verification as binary classification: one encoder applied twice ({size}x{size}x3 -> {d}), "
             "then a logistic unit on the element-wise distance")
    return finish(fig, ax, title, (-0.2, 17.0), (-0.4, 4.3))
