"""The convolution explorer: pick an image and a filter, move stride and padding, watch the output.

Pure functions (no display needed), each testable on its own:
    FILTERS                                      named kernels, (f, f) float64 arrays
    parse_kernel(text) -> (f, f) array           a typed-in square kernel
    size_formula(axis, n, f, stride, pad)        "n_H = floor((128 + 2*1 - 3) / 2) + 1 = 64"
    convolve_image(image, kernel, stride, pad)   the course's own conv_forward_vectorized on one gray image
    conv_figure(image, kernel, result)           matplotlib Figure: input (with padding), filter, output
The widget:
    conv_explorer(size=128) -> Explorer          an ipywidgets VBox; its .controls dict holds the inputs

The convolution is cross-correlation, as everywhere in the course: the kernel is not flipped.
"""

import contextlib
import html
import io
import re

import ipywidgets as widgets
import numpy as np

from cnncourse.analysis.edges import EDGE_FILTERS
from cnncourse.data.images import SAMPLE_DESCRIPTIONS, SAMPLE_IMAGES, load_image
from cnncourse.ops.twins import window_count
from cnncourse.ops.validate import require_window_fits
from cnncourse.ops.vectorized import conv_forward_vectorized

_GAUSS_1D = np.array([1.0, 4.0, 6.0, 4.0, 1.0])

FILTERS = {
    **EDGE_FILTERS,  # vertical and horizontal edges, Sobel and Scharr, each in x and y
    "box blur": np.full((3, 3), 1.0 / 9.0),
    "Gaussian blur 5x5": np.outer(_GAUSS_1D, _GAUSS_1D) / 256.0,
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "Laplacian": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
}

TYPED_IN = "typed in"
MAX_KERNEL_SIZE = 15

CONV_CAPTION = (
    "<b>Try this.</b> Pick <i>vertical edge</i> on <i>camera</i> and raise the stride: the output shrinks "
    "by the formula below. Raise the padding: the blue frame of zeros around the input grows, and so does the "
    "output. "
    "Compare <i>Sobel x</i> with <i>Sobel y</i> on <i>brick</i>, and Sobel with <i>Scharr</i> (a heavier centre "
    "row), then choose <i>typed in</i> and write your "
    "own kernel, one row per line (e.g. <code>1 0 -1; 1 0 -1; 1 0 -1</code>; fractions such as 1/9 work)."
)


# ---------------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------------

_FRACTION = re.compile(r"^([+-]?[0-9.eE+-]+)/([0-9.eE+-]+)$")


def _parse_number(token, row, col):
    """One kernel entry: a float ("-1", "0.5", "2e-1") or a fraction ("1/9")."""
    where = f"row {row}, column {col}"
    match = _FRACTION.match(token)
    try:
        if match:
            value = float(match.group(1)) / float(match.group(2))
        else:
            value = float(token)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"kernel entry {token!r} ({where}) is not a number; "
                         f"write numbers such as 1, -0.5 or 1/9") from None
    if not np.isfinite(value):
        raise ValueError(f"kernel entry {token!r} ({where}) is not a finite number")
    return value


def parse_kernel(text):
    """Parse a typed-in square kernel.

    Rows are separated by ";" or by new lines; the numbers of a row by spaces and/or commas.
    "1 0 -1; 1 0 -1; 1 0 -1", "1, 0, -1\\n1, 0, -1\\n1, 0, -1" and "[1 0 -1]" lines all work; an entry may
    be a fraction such as 1/9.

    Args:
        text: str, the kernel as typed.
    Returns:
        kernel: float64 array (f, f), 1 <= f <= MAX_KERNEL_SIZE.
    Raises:
        ValueError: empty text, an entry that is not a number, rows of different lengths, or a kernel that
            is not square; the message says which.
    """
    if not isinstance(text, str):
        raise ValueError(f"the kernel must be text, got {type(text).__name__}")
    cleaned = text.replace("[", " ").replace("]", " ")
    lines = [line.strip() for line in re.split(r"[;\n]", cleaned)]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("the kernel is empty; type one row per line, e.g. 1 0 -1; 1 0 -1; 1 0 -1")
    rows = []
    for r, line in enumerate(lines, start=1):
        tokens = [t for t in re.split(r"[,\s]+", line) if t]
        rows.append([_parse_number(t, r, c) for c, t in enumerate(tokens, start=1)])
    lengths = [len(row) for row in rows]
    if len(set(lengths)) != 1:
        raise ValueError(f"every row of the kernel must have the same number of entries; "
                         f"got rows of lengths {lengths}")
    n_rows, n_cols = len(rows), lengths[0]
    if n_rows != n_cols:
        raise ValueError(f"the kernel must be square (f x f); got {n_rows} row(s) of {n_cols} number(s)")
    if n_rows > MAX_KERNEL_SIZE:
        raise ValueError(f"the kernel is {n_rows} x {n_rows}; keep it at most {MAX_KERNEL_SIZE} x {MAX_KERNEL_SIZE}")
    return np.array(rows, dtype=np.float64)


def format_kernel(kernel):
    """A kernel as text that parse_kernel reads back: one row per line, numbers separated by spaces."""
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(kernel))


def size_formula(axis, n, f, stride, pad=None):
    """The output-size formula written out with the numbers, e.g. "n_H = floor((128 + 2*1 - 3) / 2) + 1 = 64".

    Args:
        axis: "H" or "W".
        n: input size along that axis; f: window size; stride: step.
        pad: zero padding on each side, or None for pooling (no padding term written).
    Returns:
        str, ending with the value of cnncourse.ops.conv.output_size.
    """
    value = window_count(n, f, 0 if pad is None else pad, stride)
    inside = f"{n} - {f}" if pad is None else f"{n} + 2*{pad} - {f}"
    return f"n_{axis} = floor(({inside}) / {stride}) + 1 = {value}"


def _require_gray(image):
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be a gray image of shape (n_H, n_W), got shape {image.shape}")
    return image.astype(np.float64)


def convolve_image(image, kernel, stride=1, pad=0):
    """Convolve one gray image with one kernel, using the course's conv_forward_vectorized.

    Args:
        image: array (n_H_prev, n_W_prev), gray.
        kernel: array (f, f); used as is (cross-correlation, no flip), with bias 0.
        stride: int >= 1.
        pad: int >= 0, zeros added on each side.
    Returns:
        dict with
            "output": float64 array (n_H, n_W),
            "n_out": (n_H, n_W) from cnncourse.ops.conv.output_size,
            "formula": two lines, "n_H = floor((n_H_prev + 2*pad - f) / stride) + 1 = n_H" and the same for n_W,
            "padded": the zero-padded input (n_H_prev + 2 pad, n_W_prev + 2 pad),
            "f", "stride", "pad": the settings used.
    Raises:
        ValueError: image not 2-D, kernel not square, or a window that does not fit the padded image.
    """
    image = _require_gray(image)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be square (f, f), got shape {kernel.shape}")
    f = kernel.shape[0]
    require_window_fits(image.shape[0], f, pad, stride, "height")  # the twin only counts, it does not check
    require_window_fits(image.shape[1], f, pad, stride, "width")
    n_H = window_count(image.shape[0], f, pad, stride)
    n_W = window_count(image.shape[1], f, pad, stride)
    A_prev = image[np.newaxis, :, :, np.newaxis]  # (1, n_H_prev, n_W_prev, 1)
    W = kernel[:, :, np.newaxis, np.newaxis]  # (f, f, 1, 1)
    b = np.zeros((1, 1, 1, 1))
    Z, _ = conv_forward_vectorized(A_prev, W, b, {"stride": stride, "pad": pad})
    formula = "\n".join([
        size_formula("H", image.shape[0], f, stride, pad),
        size_formula("W", image.shape[1], f, stride, pad),
    ])
    return {
        "output": Z[0, :, :, 0],
        "n_out": (n_H, n_W),
        "formula": formula,
        "padded": np.pad(image, pad),
        "f": f,
        "stride": stride,
        "pad": pad,
    }


def _label_pixels(ax):
    ax.set_xlabel("width (pixels)")
    ax.set_ylabel("height (pixels)")


def _show_on_canvas(ax, picture, canvas_shape, **imshow_kw):
    """Draw `picture` at its true pixel scale on a canvas as large as the input, so sizes compare by eye."""
    ax.set_facecolor("#e8e8e8")
    im = ax.imshow(picture, interpolation="nearest", **imshow_kw)
    ax.set_xlim(-0.5, canvas_shape[1] - 0.5)
    ax.set_ylim(canvas_shape[0] - 0.5, -0.5)
    return im


def conv_figure(image, kernel, result, filter_name=None):
    """Three panels: the input with its padding, the filter with its numbers, the output.

    Args:
        image: array (n_H_prev, n_W_prev), the gray input in [0, 1].
        kernel: array (f, f).
        result: the dict returned by convolve_image(image, kernel, ...).
        filter_name: shown in the filter panel's title, or None.
    Returns:
        matplotlib.figure.Figure (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    padded, output = result["padded"], result["output"]
    f, stride, pad = result["f"], result["stride"], result["pad"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 0.75, 1.2]})
    ax_in, ax_k, ax_out = axes

    ax_in.imshow(padded, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ring = np.zeros(padded.shape + (4,))  # the zeros of the padding, tinted blue so they show on dark pixels
    ring[..., 2], ring[..., 3] = 1.0, 0.6
    ring[pad:pad + image.shape[0], pad:pad + image.shape[1], 3] = 0.0
    ax_in.imshow(ring, interpolation="nearest")
    ax_in.add_patch(Rectangle((-0.5, -0.5), f, f, fill=False, edgecolor="tab:red", linewidth=1.5))
    ax_in.set_title(f"input {image.shape} padded by p={pad} -> {padded.shape}\n"
                    f"blue: zero padding, red: first {f}x{f} window", fontsize=10)
    _label_pixels(ax_in)

    limit = float(np.max(np.abs(kernel))) or 1.0
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    size = 11 if f <= 3 else (8 if f <= 5 else 6)
    for (r, c), v in np.ndenumerate(kernel):
        ax_k.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=size,
                  color="white" if abs(v) > 0.6 * limit else "black")
    ax_k.set_xticks(range(f))
    ax_k.set_yticks(range(f))
    name = f" '{filter_name}'" if filter_name else ""
    ax_k.set_title(f"filter{name} {kernel.shape}\nred > 0 > blue", fontsize=10)
    ax_k.set_xlabel("column")
    ax_k.set_ylabel("row")

    im = _show_on_canvas(ax_out, output, padded.shape, cmap="gray")
    fig.colorbar(im, ax=ax_out, fraction=0.046, pad=0.04, label="output value")
    ax_out.set_title(f"output {output.shape} (n_H, n_W)\nstride s={stride}, drawn at input scale", fontsize=10)
    _label_pixels(ax_out)

    # the size formula is written under the controls; the figure's title says what the three panels are
    fig.suptitle("convolution of the input with the filter (cross-correlation: the filter is not flipped)", fontsize=11)
    return fig


# ---------------------------------------------------------------------------------------------------------
# Widget plumbing shared with the pooling explorer
# ---------------------------------------------------------------------------------------------------------


def formula_html(formula):
    """The formula lines as an HTML block in monospace."""
    lines = "<br>".join(html.escape(line) for line in formula.split("\n"))
    return f"<div style='font-family: monospace; font-size: 110%; white-space: pre'>{lines}</div>"


def png_size(png):
    """(width, height) in pixels of PNG bytes, read from the IHDR header; ValueError if they are not a PNG."""
    png = bytes(png)
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError(f"expected PNG bytes (starting with the PNG signature and an IHDR chunk), got {png[:16]!r}")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def show_png(picture, png):
    """Show PNG bytes in the ipywidgets Image `picture` at their natural size, shrunk only to fit the notebook.

    An Image in a VBox is otherwise stretched to the full width of the notebook (a 450 px plot became 1,000 px
    on a 1440-wide window, with only its top visible under the controls). The layout is stored in the widget
    state, so saved notebooks show the same size.
    """
    width, _ = png_size(png)
    picture.layout.width = f"{width}px"
    picture.layout.max_width = "100%"
    picture.layout.height = "auto"
    picture.value = png


def error_html(err):
    """A readable message for a bad input, instead of a traceback."""
    kind = "" if isinstance(err, ValueError) else f"{type(err).__name__}: "
    return (f"<div style='color: #b00020'><b>Cannot draw this:</b> {html.escape(kind + str(err))}<br>"
            f"The figure below still shows the last valid settings.</div>")


def image_dropdown(value):
    """A dropdown over the sample images, labelled with what each shows."""
    options = [(f"{name}: {SAMPLE_DESCRIPTIONS[name]}", name) for name in SAMPLE_IMAGES]
    return widgets.Dropdown(options=options, value=value, description="image",
                            layout=widgets.Layout(width="420px"))


class Explorer(widgets.VBox):
    """A caption, the controls, the live formula, an error line and the figure, redrawn on every change.

    Args:
        caption: HTML text saying what to try.
        controls: dict name -> widget with a `value`; every change of a value redraws.
        draw: function(values dict) -> (Figure, formula text); may raise to report a bad input.
        layout_rows: list of lists of widgets, the rows of controls as shown.
    Attributes:
        controls: dict name -> input widget; set `.value` on one to change the figure (tests do this).
        caption, formula, message: widgets.HTML (what to try; the size formula; an error or "").
        picture: widgets.Image showing the figure as PNG (an image, not an Output widget: it renders the same
            in JupyterLab, in a saved notebook and under nbval, where an Output widget's display messages would
            land in the cell's outputs).
        figure: the last matplotlib Figure drawn (closed, but savefig still works), or None.
    """

    def __init__(self, caption, controls, draw, layout_rows):
        super().__init__()
        self.controls = controls
        self.caption = widgets.HTML(caption)
        self.formula = widgets.HTML()
        self.message = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.figure = None
        self._draw = draw
        self._paused = False
        rows = [widgets.HBox(row) for row in layout_rows]
        self.children = [self.caption, *rows, self.formula, self.message, self.picture]
        for control in controls.values():
            control.observe(self._on_change, names="value")

    @contextlib.contextmanager
    def paused(self):
        """Change several controls without redrawing after each one."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def _on_change(self, _change):
        if not self._paused:
            self.update()

    def values(self):
        """dict control name -> current value."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Redraw from the current values; a bad input shows a message and leaves the last figure."""
        import matplotlib.pyplot as plt

        try:
            fig, formula = self._draw(self.values())
        except Exception as err:  # noqa: BLE001 - every failure becomes a message, never a traceback
            self.message.value = error_html(err)
            return
        self.message.value = ""
        self.formula.value = formula_html(formula)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=fig.dpi)
        show_png(self.picture, png.getvalue())
        plt.close(fig)
        self.figure = fig


# ---------------------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------------------


def conv_explorer(size=128, image="camera", filter_name="vertical edge"):
    """Build the convolution explorer and draw it once.

    Args:
        size: side of the (square, gray) sample image in pixels.
        image: the sample image shown first, one of SAMPLE_IMAGES.
        filter_name: the filter shown first, a key of FILTERS or "typed in".
    Returns:
        Explorer (an ipywidgets VBox) with controls "image", "filter", "kernel" (Textarea, used when the
        filter is "typed in"), "stride" (1-4) and "pad" (0-3). Display it by leaving it last in a cell.
    """
    style = {"description_width": "70px"}
    controls = {
        "image": image_dropdown(image),
        "filter": widgets.Dropdown(options=[*FILTERS, TYPED_IN], value=filter_name, description="filter",
                                   style=style),
        "kernel": widgets.Textarea(value=format_kernel(FILTERS.get(filter_name, FILTERS["vertical edge"])),
                                   description="kernel", placeholder="1 0 -1; 1 0 -1; 1 0 -1",
                                   continuous_update=False, disabled=filter_name != TYPED_IN,
                                   rows=5, style=style, layout=widgets.Layout(width="300px")),
        "stride": widgets.IntSlider(value=1, min=1, max=4, description="stride s", continuous_update=False,
                                    style=style),
        "pad": widgets.IntSlider(value=0, min=0, max=3, description="padding p", continuous_update=False,
                                 style=style),
    }

    def draw(values):
        if values["filter"] == TYPED_IN:
            kernel, name = parse_kernel(values["kernel"]), "typed in"
        else:
            kernel, name = FILTERS[values["filter"]], values["filter"]
        img = load_image(values["image"], size=size, gray=True)
        result = convolve_image(img, kernel, values["stride"], values["pad"])
        return conv_figure(img, kernel, result, filter_name=name), result["formula"]

    box = Explorer(
        CONV_CAPTION,
        controls,
        draw,
        [[controls["image"], controls["filter"]],
         [widgets.VBox([controls["stride"], controls["pad"]]), controls["kernel"]]],
    )

    def on_filter(change):
        # a named filter fills the text box, so "typed in" starts from the last filter seen
        if change["new"] != TYPED_IN:
            with box.paused():
                controls["kernel"].value = format_kernel(FILTERS[change["new"]])
        controls["kernel"].disabled = change["new"] != TYPED_IN

    controls["filter"].observe(on_filter, names="value")
    box.update()
    return box
