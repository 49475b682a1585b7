"""Build and grade the course with nbgrader.

- `build.build(chapters=None, execute=True)`: render reference cells from the package into source/, generate
  release/ (nbgrader generate_assignment) and execute solutions/ in fast mode. (`cnncourse build`)
- `grade.grade(folder)`: validate and autograde a folder of submissions, write feedback HTML and grades CSVs,
  print a summary; returns a GradeReport. (`cnncourse grade <folder>`)
- `notebooks`: reference cells (`sync_references`, `check_references`) and reproducible execution.
- `submissions`: finding and validating submissions; `course`: the nbgrader course directory and its config.

nbgrader's configuration is autograder/nbgrader_config.py; see autograder/README.md.
Import the sub-modules directly; this package imports nothing heavy on its own.
"""
