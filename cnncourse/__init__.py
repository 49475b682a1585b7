"""cnncourse: the package behind the course notebooks.

Folders, one concern each:
    ops/         numpy reference layers (the graded functions' single source of truth)
    analysis/    parameters, multiplications and other figures computed from ops or built models
    data/        offline data sets and loaders
    models/      Keras models per chapter
    checks/      public checks and hidden oracle tests the notebooks call
    experiments/ trainings that make a point
    diagrams/    figures drawn by the package
    widgets/     ipywidgets explorers
    grading/     build (source -> release/solutions) and grade (nbgrader autograde wrapper)
    bench/       `cnncourse bench ...` measurements
Listed bottom to top: each imports only the ones above it in this list (tests/test_layers.py holds the exact order).
"""

import logging
import os

# TensorFlow's C++ start-up notices (oneDNN, CPU features) say nothing a student needs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tf.function's "triggered retracing" warnings: the notebooks build and call many small models on purpose (a window
# classifier and its convolutional twin, one model per experiment), so the warning is noise there, and it would
# land in the saved outputs that nbval compares.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

__version__ = "0.1.0"
