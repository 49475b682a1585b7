"""Chapter 6: the costs of neural style transfer, written with keras.ops (they run on TensorFlow and JAX).

An activation is the output of one conv layer for ONE image: shape (1, n_H, n_W, n_C).
- content cost  J_content(C, G) = 1 / (4 n_H n_W n_C) * sum over all entries of (a_C - a_G)^2
- Gram matrix   G = A A^T for the activation unrolled to A of shape (n_C, n_H n_W): G[k, k'] = sum over the
                n_H n_W positions of a_k * a_k', how much channels k and k' fire together
- style cost of one layer  J_style^[l](S, G) = 1 / (2 n_H n_W n_C)^2 * sum over k, k' of (G_S - G_G)[k, k']^2
- style cost   J_style(S, G) = sum over layers l of lambda_l J_style^[l](S, G)
- total cost   J(G) = alpha J_content(C, G) + beta J_style(S, G)
Each graded function's body lies between `### BEGIN SOLUTION` and `### END SOLUTION`; the lines before it check
the input and raise ValueError saying what was expected.
"""

from keras import ops


def require_activation(a, name):
    """Check that `a` is one image's activation, shape (1, n_H, n_W, n_C) with known sizes; raise ValueError if not.

    Args:
        a: numpy array or tensor.
        name: what to call it in the message, e.g. "a_C".
    Returns:
        (n_H, n_W, n_C) as ints.
    """
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) != 4:
        raise ValueError(f"{name} must be one image's activation of shape (1, n_H, n_W, n_C), got "
                         f"{'shape ' + str(tuple(shape)) if shape is not None else type(a).__name__}")
    if shape[0] != 1 or any(s is None for s in shape):
        raise ValueError(f"{name} must have shape (1, n_H, n_W, n_C) with known sizes (one image), got {tuple(shape)}")
    return tuple(int(s) for s in shape[1:])


def require_same_activations(a_X, a_G, names):
    """Check two activations of the same shape (1, n_H, n_W, n_C); return (n_H, n_W, n_C). Raises ValueError."""
    shape_x = require_activation(a_X, names[0])
    shape_g = require_activation(a_G, names[1])
    if shape_x != shape_g:
        raise ValueError(f"{names[0]} and {names[1]} must come from the same layer (same shape), got "
                         f"(1, {', '.join(map(str, shape_x))}) and (1, {', '.join(map(str, shape_g))})")
    return shape_g


def content_cost(a_C, a_G):
    """How far the generated image's activation is from the content image's, at one layer.

    Args:
        a_C: (1, n_H, n_W, n_C) activation of the content image C.
        a_G: (1, n_H, n_W, n_C) activation of the generated image G, same layer.
    Returns:
        scalar tensor J_content = 1 / (4 n_H n_W n_C) * sum of (a_C - a_G)^2 over every entry.
    """
    require_same_activations(a_C, a_G, ("a_C", "a_G"))
    ### BEGIN SOLUTION
    _, n_H, n_W, n_C = a_G.shape
    return ops.sum(ops.square(a_C - a_G)) / (4.0 * n_H * n_W * n_C)
    ### END SOLUTION


def gram_matrix(A):
    """The style matrix of an unrolled activation: how strongly each pair of channels fires together.

    Args:
        A: (n_C, n_H * n_W), row k holds channel k at every position.
    Returns:
        (n_C, n_C) tensor G = A A^T: G[k, k'] = sum over positions of A[k, p] * A[k', p].
    """
    if len(getattr(A, "shape", ())) != 2:
        raise ValueError(f"A must be an unrolled activation of shape (n_C, n_H * n_W), got "
                         f"{tuple(A.shape) if hasattr(A, 'shape') else type(A).__name__}")
    ### BEGIN SOLUTION
    return ops.matmul(A, ops.transpose(A))
    ### END SOLUTION


def layer_style_cost(a_S, a_G):
    """How far the generated image's style is from the style image's, at one layer.

    Args:
        a_S: (1, n_H, n_W, n_C) activation of the style image S.
        a_G: (1, n_H, n_W, n_C) activation of the generated image G, same layer.
    Returns:
        scalar tensor 1 / (2 n_H n_W n_C)^2 * sum over k, k' of (G_S[k, k'] - G_G[k, k'])^2, with G_S and G_G the
        gram_matrix of each activation unrolled to (n_C, n_H * n_W) (channel k = row k).
    """
    require_same_activations(a_S, a_G, ("a_S", "a_G"))
    ### BEGIN SOLUTION
    _, n_H, n_W, n_C = a_G.shape
    # Positions first, then transpose: a plain reshape to (n_C, n_H * n_W) would mix channels and positions.
    S = ops.transpose(ops.reshape(a_S, (n_H * n_W, n_C)))
    G = ops.transpose(ops.reshape(a_G, (n_H * n_W, n_C)))
    GS, GG = gram_matrix(S), gram_matrix(G)
    return ops.sum(ops.square(GS - GG)) / (2.0 * n_H * n_W * n_C) ** 2
    ### END SOLUTION


def style_cost(style_activations, generated_activations, layer_weights):
    """The style cost over several layers, each weighted by its lambda.

    Args:
        style_activations: list of L activations of the style image, a_S^[l] of shape (1, n_H^[l], n_W^[l], n_C^[l]).
        generated_activations: list of the L activations of the generated image, same layers and order.
        layer_weights: L numbers lambda_l (they often sum to 1).
    Returns:
        scalar tensor sum over l of lambda_l * layer_style_cost(a_S^[l], a_G^[l]).
    """
    lengths = (len(style_activations), len(generated_activations), len(layer_weights))
    if len(set(lengths)) != 1 or lengths[0] == 0:
        raise ValueError("style_activations, generated_activations and layer_weights must be lists of the same "
                         f"length L >= 1 (one entry per style layer), got lengths {lengths}")
    ### BEGIN SOLUTION
    J_style = 0.0
    for a_S, a_G, weight in zip(style_activations, generated_activations, layer_weights):
        J_style += weight * layer_style_cost(a_S, a_G)
    return J_style
    ### END SOLUTION


def total_cost(J_content, J_style, alpha=10, beta=40):
    """The cost that the generated image minimises.

    Args:
        J_content: scalar (tensor or float), the content cost.
        J_style: scalar, the style cost.
        alpha, beta: weights of content and style (floats >= 0).
    Returns:
        alpha * J_content + beta * J_style.
    """
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta weigh two costs and must be >= 0, got alpha={alpha}, beta={beta}")
    ### BEGIN SOLUTION
    return alpha * J_content + beta * J_style
    ### END SOLUTION
