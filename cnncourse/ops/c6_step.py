"""Chapter 6: one optimisation step of the generated image (the backend-specific part of style transfer).

In style transfer the network's weights stay fixed and the PIXELS are trained: the generated image is a variable
(1, H, W, 3) of RGB values in [0, 1], and each step moves it down the gradient of the total cost.
`optimisation_step` (graded) does it with TensorFlow's GradientTape; `jax_optimisation_step` is its twin for the
JAX backend (Keras 3 on a GPU machine without TensorFlow), and optimisation_step hands over to it on that backend
(given code, before the graded part: the course grades on TensorFlow). Nothing else in Chapter 6 depends on the
backend.
"""

import keras
from keras import ops


def require_image_variable(generated):
    """Check that `generated` is a keras.Variable of shape (1, H, W, 3); raise ValueError saying what was expected."""
    if not isinstance(generated, keras.Variable):
        raise ValueError(f"generated must be a keras.Variable holding the image (the pixels are trained), got "
                         f"{type(generated).__name__}; make one with keras.Variable(image)")
    if len(generated.shape) != 4 or generated.shape[0] != 1 or generated.shape[-1] != 3:
        raise ValueError(f"generated must have shape (1, H, W, 3), got {tuple(generated.shape)}")


def optimisation_step(generated, cost_fn, optimizer):
    """Move the generated image one step down the gradient of its cost, then keep its pixels in [0, 1].

    Args:
        generated: keras.Variable (1, H, W, 3), the image being generated, RGB in [0, 1]; updated in place.
        cost_fn: function image -> (J, J_content, J_style), three scalar tensors; J is the cost to minimise.
        optimizer: a keras optimizer (e.g. keras.optimizers.Adam(learning_rate=0.01)).
    Returns:
        (J, J_content, J_style) of the image BEFORE the step, as cost_fn returned them.
    """
    require_image_variable(generated)
    if keras.backend.backend() == "jax":  # given: this exercise teaches TensorFlow's tape; on JAX, the package's twin
        return jax_optimisation_step(generated, cost_fn, optimizer)
    import tensorflow as tf

    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        J, J_content, J_style = cost_fn(generated)
    grad = tape.gradient(J, generated)
    optimizer.apply_gradients([(grad, generated)])
    generated.assign(ops.clip(generated, 0.0, 1.0))
    return J, J_content, J_style
    ### END SOLUTION


def jax_optimisation_step(generated, cost_fn, optimizer):
    """The same step on the JAX backend: jax.value_and_grad instead of a tape. Same arguments and result.

    The cost is traced as a pure function of the pixels; the optimizer's update is applied as on TensorFlow.
    """
    import jax

    require_image_variable(generated)

    def cost_of(pixels):
        J, J_content, J_style = cost_fn(pixels)
        return J, (J, J_content, J_style)

    (_, costs), grad = jax.value_and_grad(cost_of, has_aux=True)(generated.value)
    optimizer.apply_gradients([(grad, generated)])
    generated.assign(ops.clip(generated, 0.0, 1.0))
    return costs


def jax_compiled_step(generated, cost_fn, optimizer):
    """A jax.jit-compiled version of jax_optimisation_step for long runs; returns a no-argument step function.

    The optimizer's update is applied statelessly inside the compiled function (optimizer.stateless_apply), and
    the new pixels and optimizer state are written back to their variables after each call.
    Returns:
        step() -> (J, J_content, J_style) of the image before the step, like optimisation_step.
    """
    import jax

    require_image_variable(generated)
    optimizer.build([generated])

    def cost_of(pixels):
        J, J_content, J_style = cost_fn(pixels)
        return J, (J, J_content, J_style)

    @jax.jit
    def pure_step(pixels, optimizer_state):
        (_, costs), grad = jax.value_and_grad(cost_of, has_aux=True)(pixels)
        (new_pixels,), new_state = optimizer.stateless_apply(optimizer_state, [grad], [pixels])
        return ops.clip(new_pixels, 0.0, 1.0), new_state, costs

    def step():
        state = [v.value for v in optimizer.variables]
        pixels, state, costs = pure_step(generated.value, state)
        generated.assign(pixels)
        for variable, value in zip(optimizer.variables, state):
            variable.assign(value)
        return costs

    return step


def backend_step():
    """The step function for the active Keras backend: optimisation_step on TensorFlow, jax_optimisation_step on JAX."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return optimisation_step
    if backend == "jax":
        return jax_optimisation_step
    raise RuntimeError(f"style transfer runs on the tensorflow or jax backend, not {backend!r}")
