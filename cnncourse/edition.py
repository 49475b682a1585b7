"""Which edition of the package this is: the full one (the grader's) or the student edition.

`cnncourse student` rewrites this file in the student edition's wheel: EDITION becomes "student", EXERCISES maps
each stubbed function to the notebook that asks for it, and REVEALED lists the chapters whose answers were kept.
Every stubbed body there ends in `raise NotImplementedError(stub_message())`, so a student who calls a graded
function of the package learns which exercise it is, instead of meeting a bare error deep inside a library.
"""

import sys

EDITION = "full"
REVEALED = ()
EXERCISES = {}  # "cnncourse.ops.conv.zero_pad" -> "c1_convolution/c1_1_convolution_numpy.ipynb"


def stub_message():
    """The message of a stubbed graded function, for the function that calls this (found from the call stack).

    Returns:
        str naming the function, the notebook whose exercise it is, and what to do.
    """
    frame = sys._getframe(1)
    name = f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_qualname}"
    if name.endswith(".call"):  # a Keras layer's call(): the exercise is the layer class
        name = name[: -len(".call")]
    notebook = EXERCISES.get(name, "one of the course's notebooks")
    return (f"{name} is an exercise ({notebook}): the student edition of cnncourse leaves its answer out. "
            f"Use the version you write in the notebook.")
