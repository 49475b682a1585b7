"""One mistake, one loss: run a graded caller with the reference versions of the graded helpers it calls.

A notebook's `layer_style_cost` calls the notebook's own `gram_matrix` by name, through the notebook's namespace
(the function's `__globals__`). A hidden test wraps its calls in `reference_helpers(layer_style_cost,
gram_matrix=reference)`, so that a mistake in `gram_matrix` costs the Gram matrix's points and not also those of
every function that calls it. The public checks do not swap: the student sees the whole chain and the error where it
starts.

Example:
    with reference_helpers(layer_style_cost, gram_matrix=c6_costs.gram_matrix):
        J = layer_style_cost(a_S, a_G)  # calls the reference gram_matrix; the notebook's is back afterwards
"""

import contextlib

_ABSENT = object()


@contextlib.contextmanager
def reference_helpers(fn, **references):
    """Temporarily bind each name in `references` to its value in `fn.__globals__`; restore them on the way out.

    Args:
        fn: the student's function. When it has no `__globals__` (a callable object, a stand-in that replays
            recorded outputs), nothing is replaced and no error is raised.
        **references: name -> the reference function to use while the block runs.
    Yields:
        None. Names that `fn.__globals__` did not hold are removed again afterwards; the others get their old
        values back, also when the block raises.
    """
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(namespace, dict) or not references:
        yield
        return
    saved = {name: namespace.get(name, _ABSENT) for name in references}
    try:
        namespace.update(references)
        yield
    finally:
        for name, old in saved.items():
            if old is _ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = old
