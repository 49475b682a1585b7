"""cnncourse: the package behind the course notebooks.

Folders, one concern each:
    ops/      numpy reference layers (the graded functions' single source of truth)
    checks/   public checks and hidden oracle tests the notebooks call
    data/     offline data sets and loaders
    models/   Keras models per chapter
    widgets/  ipywidgets explorers
    grading/  build (source -> release/solutions) and grade (nbgrader autograde wrapper)
    bench/    `cnncourse bench ...` measurements
"""

import os

# TensorFlow's C++ start-up notices (oneDNN, CPU features) say nothing a student needs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
