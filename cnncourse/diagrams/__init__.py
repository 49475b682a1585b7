"""Diagrams that the package draws with matplotlib, one module per chapter (c1.py ... c6.py), instead of image files.

Each function draws one figure of an idea of its chapter (the residual block, the Inception module, the YOLO grid with
its anchors, the U-Net's shape, the Siamese pair, ...) and returns the matplotlib Figure, left open for the caller.
Where a diagram shows sizes (channels, grid cells, shapes), it takes them from the package's own models or settings,
so that the picture cannot drift from the code.

Layer: diagrams import ops, analysis, data and models, never checks, experiments, widgets or grading; widgets may
import diagrams (tests/test_layers.py holds the order).
"""
