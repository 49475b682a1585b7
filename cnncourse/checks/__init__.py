"""Checks the notebooks call: public checks (small exact cases that name the likely mistake) and hidden
oracle tests (random cases against TensorFlow ops, brute force or numerical gradients).

Every check RAISES CheckFailed (an AssertionError) on failure: nbgrader counts a grade cell that only
prints as passed.
"""

from cnncourse.checks.core import CheckFailed  # noqa: F401
