"""Numpy reference implementations of the layers the students write.

The code between `### BEGIN SOLUTION` and `### END SOLUTION` is what nbgrader removes from the
student's copy: `cnncourse build` renders each graded function verbatim into its source notebook, so
the package and the notebooks never disagree (see docs/architecture.md).
"""
