"""ipywidgets explorers for the notebooks; each rests on pure functions that run without a display.

    from cnncourse.widgets import conv_explorer
    conv_explorer()          # last line of a cell: image, filter, stride and padding -> output and formula
"""

from cnncourse.widgets.conv_explorer import FILTERS, conv_explorer, convolve_image, parse_kernel, size_formula
from cnncourse.widgets.pool_explorer import pool_explorer, pool_image

__all__ = ["FILTERS", "conv_explorer", "convolve_image", "parse_kernel", "pool_explorer", "pool_image",
           "size_formula"]
