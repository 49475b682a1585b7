"""Boxes and arrows for the flow diagrams of the chapters (c5's Siamese pair, c6's style transfer costs).

    node(ax, x, y, text, colour, width, height)    a rounded box centred at (x, y) with its text; returns the patch
    link(ax, start, end, text, colour)             an arrow from start to end (x, y), with an optional label
    finish(fig, ax, title, xlim, ylim)             title, limits, equal scales, no axes; returns the figure
"""

from matplotlib.patches import FancyBboxPatch


def node(ax, x, y, text, colour="#dddddd", width=2.0, height=0.8, fontsize=9):
    """Draw a rounded box centred at (x, y) with its text. Returns the FancyBboxPatch."""
    box = FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                         facecolor=colour, edgecolor="black", linewidth=0.9, zorder=2)
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return box


def link(ax, start, end, text=None, colour="black", fontsize=8, dashed=False):
    """Draw an arrow from start (x, y) to end (x, y), with text beside its middle if given. Returns the annotation."""
    arrow = ax.annotate("", xy=end, xytext=start, zorder=1,
                        arrowprops={"arrowstyle": "-|>", "mutation_scale": 14, "color": colour, "linewidth": 1.2,
                                    "linestyle": "--" if dashed else "-"})
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12, text, ha="center", va="bottom",
                fontsize=fontsize, color=colour, zorder=3)
    return arrow


def finish(fig, ax, title, xlim, ylim):
    """Give the diagram its title and limits (x_min, x_max), (y_min, y_max), equal scales and no axes. Returns fig."""
    ax.set_title(title, fontsize=10)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig
