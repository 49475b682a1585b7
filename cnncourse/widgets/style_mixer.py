"""The style mixer (Chapter 6): weigh content against style and the style layers against each other, run a short
neural style transfer, and see the result next to its three cost curves.

Pure functions (no display needed):
    mixer_settings(values, size) -> (settings, layer_weights)   slider values -> run_style_transfer's arguments;
                                                                 ValueError for a setting that cannot run
    mixer_figure(content, style, result) -> Figure               content | style | result, and the costs per step
The widget:
    style_mixer(content, style, ...) -> StyleMixer               controls "alpha", "beta", one per style layer,
                                                                 "steps"; a Run button; .run() does what it does
"""

import html
import io

import ipywidgets as widgets
import numpy as np

from cnncourse.models.c6_vgg import STYLE_LAYERS
from cnncourse.widgets.conv_explorer import show_png

CAPTION = (
    "<b>Try this.</b> Press <i>Run</i> with the defaults, then raise beta tenfold: the result drifts from the content "
    "image towards the texture of the style image, and the style curve falls further. Put all the weight on "
    "<i>block1_conv1</i> (the others at 0), then all of it on <i>block5_conv1</i>: which one carries colours and "
    "fine grain across, which one larger structures? Which layer mix gives the picture you like best? "
    "More steps cost time (about 0.1 s each at 96 px on a laptop CPU)."
)


def _fast_settings():
    from cnncourse.experiments.c6_style import NST_TRAINING

    return NST_TRAINING["fast"]


def mixer_settings(values, size):
    """Turn the widget's values into the settings and layer weights of run_style_transfer.

    Args:
        values: dict with "alpha", "beta" (floats > 0), "steps" (int >= 1) and one float >= 0 per name of
            STYLE_LAYERS (the lambdas).
        size: side of the images in pixels.
    Returns:
        (settings, layer_weights): settings is NST_TRAINING["fast"] with size, steps, alpha and beta replaced;
        layer_weights is {style layer: lambda} for every layer of STYLE_LAYERS (zeros included).
    Raises:
        ValueError with a plain message: all layer weights zero, a negative weight, alpha or beta <= 0, steps < 1.
    """
    layer_weights = {name: float(values[name]) for name in STYLE_LAYERS}
    if any(w < 0 for w in layer_weights.values()):
        raise ValueError("style layer weights must be >= 0")
    if sum(layer_weights.values()) <= 0:
        raise ValueError("every style layer weight is 0, so there is no style to transfer: raise at least one of "
                         + ", ".join(STYLE_LAYERS))
    if not values["alpha"] > 0 or not values["beta"] > 0:
        raise ValueError(f"alpha and beta must be > 0, got alpha={values['alpha']}, beta={values['beta']}")
    if int(values["steps"]) < 1:
        raise ValueError(f"steps must be at least 1, got {values['steps']}")
    settings = {**_fast_settings(), "size": int(size), "steps": int(values["steps"]),
                "alpha": float(values["alpha"]), "beta": float(values["beta"])}
    return settings, layer_weights


def fit_image(image, size):
    """A sample name, a file path or an (H, W, 3) array in [0, 1] -> (size, size, 3) float32, centre-cropped square."""
    from skimage import transform

    from cnncourse.data.images import load_image

    if isinstance(image, str) or hasattr(image, "__fspath__"):
        return load_image(image, size, gray=False).astype(np.float32)
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"an image must be (H, W, 3) RGB in [0, 1] or a sample name, got shape {image.shape}")
    h, w = image.shape[:2]
    side = min(h, w)
    image = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    image = transform.resize(image, (size, size, 3), anti_aliasing=side > size, preserve_range=True)
    return np.clip(image, 0, 1).astype(np.float32)


def mixer_figure(content, style, result):
    """Content, style and generated image in a row; below, the costs of every step on a log scale.

    Args:
        content, style: (H, W, 3) images in [0, 1].
        result: run_style_transfer's dict ("image", "history", "settings", "seconds").
    Returns:
        matplotlib Figure with four axes (left open; the caller closes it).
    """
    import matplotlib.pyplot as plt

    settings, history = result["settings"], result["history"]
    fig = plt.figure(figsize=(9, 4.6), layout="constrained")  # with the sliders, fits a 1440x900 window
    grid = fig.add_gridspec(2, 3, height_ratios=(1.3, 1))
    for col, (image, title) in enumerate([(content, "content C"), (style, "style S"),
                                          (result["image"], f"generated G after {settings['steps']} steps")]):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    steps = np.arange(len(history["total"]))
    alpha, beta = settings["alpha"], settings["beta"]
    tiny = 1e-12
    ax.plot(steps, np.maximum(history["total"], tiny), color="black", label="J = α J_content + β J_style")
    ax.plot(steps, np.maximum(alpha * np.asarray(history["content"]), tiny), color="tab:blue",
            label=f"α J_content (α = {alpha:.3g})")
    ax.plot(steps, np.maximum(beta * np.asarray(history["style"]), tiny), color="tab:orange",
            label=f"β J_style (β = {beta:.3g})")
    ax.set_yscale("log")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("cost (log scale)")
    ax.set_title(f"costs per step: style cost fell {result['style_drop']:.1f}x in {result['seconds']:.1f} s",
                 fontsize=10)
    ax.legend(fontsize=8)
    return fig


class StyleMixer(widgets.VBox):
    """A caption, the sliders, a Run button, a message line and the picture of the last run.

    Attributes:
        controls: dict name -> slider: "alpha", "beta" (FloatLogSlider), one FloatSlider per name of STYLE_LAYERS
            (its lambda), "steps" (IntSlider). Changing a slider does not run; .run() or the button does.
        button: the Run button.
        caption, message: widgets.HTML (what to try; a plain message for a bad setting, or the last run's timing).
        picture: widgets.Image, the PNG of mixer_figure (an image, not an Output widget, so that saved notebooks and
            nbval see stable outputs).
        result: the last successful run's dict from run_style_transfer (plus "layer_weights"), or None.
        figure: the last matplotlib Figure drawn (closed), or None.
    """

    def __init__(self, content, style, costs=None, step_fn=None, size=96, steps=30, weights="hed"):
        super().__init__()
        fast = _fast_settings()
        self.size, self.costs, self.step_fn, self.weights = int(size), costs, step_fn, weights
        self.content, self.style = fit_image(content, self.size), fit_image(style, self.size)
        wide = {"description_width": "110px"}
        self.controls = {
            "alpha": widgets.FloatLogSlider(value=fast["alpha"], base=10, min=-3, max=3, step=0.25,
                                            description="alpha (content)", style=wide, readout_format=".3g"),
            "beta": widgets.FloatLogSlider(value=fast["beta"], base=10, min=-6, max=1, step=0.25,
                                           description="beta (style)", style=wide, readout_format=".3g"),
        }
        for name in STYLE_LAYERS:
            self.controls[name] = widgets.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.05, description=name,
                                                      style=wide)
        self.controls["steps"] = widgets.IntSlider(value=int(steps), min=1, max=300, step=1, description="steps",
                                                   style=wide)
        self.button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.button.on_click(lambda _button: self.run())
        self.caption = widgets.HTML(CAPTION)
        self.message = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.result = None
        self.figure = None
        left = widgets.VBox([self.controls["alpha"], self.controls["beta"], self.controls["steps"], self.button])
        right = widgets.VBox([self.controls[name] for name in STYLE_LAYERS])
        self.children = [self.caption, widgets.HBox([left, right]), self.message, self.picture]

    def values(self):
        """dict control name -> current value."""
        return {name: control.value for name, control in self.controls.items()}

    def run(self):
        """Run a short style transfer with the current values and draw it; a failure shows a message instead.

        Returns:
            the run's dict (also in .result), or None when the settings could not run (the message says why).
        """
        import matplotlib.pyplot as plt

        from cnncourse.experiments.c6_style import run_style_transfer

        self.button.disabled = True
        self.message.value = "<i>running...</i>"
        try:
            settings, layer_weights = mixer_settings(self.values(), self.size)
            result = run_style_transfer(self.content, self.style, settings, layer_weights=layer_weights,
                                        costs=self.costs, step_fn=self.step_fn, weights=self.weights)
            result["layer_weights"] = layer_weights
            if not np.all(np.isfinite(result["history"]["total"])):
                raise ValueError("the cost became NaN or infinite; lower beta or alpha, or check your cost functions")
            fig = mixer_figure(self.content, self.style, result)
        except Exception as err:  # noqa: BLE001 - every failure becomes a message, never a traceback
            kind = "" if isinstance(err, ValueError) else f"{type(err).__name__}: "
            self.message.value = (f"<div style='color: #b00020'><b>Cannot run this:</b> "
                                  f"{html.escape(kind + str(err))}<br>The picture below still shows the last "
                                  f"run.</div>")
            return None
        finally:
            self.button.disabled = False
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=fig.dpi)
        plt.close(fig)
        show_png(self.picture, png.getvalue())
        self.figure, self.result = fig, result
        self.message.value = (f"{settings['steps']} steps in {result['seconds']:.1f} s "
                              f"({result['seconds_per_step'] * 1000:.0f} ms per step); style cost fell "
                              f"{result['style_drop']:.1f}x")
        return result


def style_mixer(content="chelsea", style="hubble_deep_field", costs=None, step_fn=None, size=96, steps=30,
                weights="hed", run_now=True):
    """Build the style mixer and, unless run_now is False, run it once (about 3 to 5 s at 96 px, 30 steps on a CPU).

    Args:
        content, style: (H, W, 3) images in [0, 1], sample names of cnncourse.data.images or file paths; both are
            centre-cropped and resized to (size, size, 3).
        costs: {"content_cost", "style_cost", "total_cost"} functions (the student's), default the package's.
        step_fn: step(generated, cost_fn, optimizer) -> (J, J_content, J_style), default the package's.
        size: side of the images in pixels; steps: first value of the steps slider.
        weights: the VGG weights (see cnncourse.models.c6_vgg.vgg_backbone).
        run_now: run once on construction, so that the widget opens with a picture.
    Returns:
        StyleMixer (an ipywidgets VBox); display it by leaving it last in a cell.
    """
    box = StyleMixer(content, style, costs=costs, step_fn=step_fn, size=size, steps=steps, weights=weights)
    if run_now:
        box.run()
    return box
