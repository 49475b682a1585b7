"""Chapter 6's style mixer: its controls, and that their values (and the student's functions) reach the run."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.experiments.c6_style import NST_TRAINING  # noqa: E402
from cnncourse.models.c6_vgg import STYLE_LAYERS  # noqa: E402
from cnncourse.widgets import style_mixer  # noqa: E402
from cnncourse.widgets.style_mixer import mixer_settings  # noqa: E402

SIZE = 32


def _mixer(**kwargs):
    return style_mixer("chelsea", "hubble_deep_field", size=SIZE, steps=2, run_now=False, **kwargs)


def test_controls_and_defaults():
    box = _mixer()
    assert set(box.controls) == {"alpha", "beta", "steps", *STYLE_LAYERS}
    assert isinstance(box.controls["alpha"], widgets.FloatLogSlider)
    assert isinstance(box.controls["beta"], widgets.FloatLogSlider)
    assert box.controls["alpha"].value == pytest.approx(NST_TRAINING["fast"]["alpha"])
    assert box.controls["beta"].value == pytest.approx(NST_TRAINING["fast"]["beta"])
    assert all(box.controls[name].value == pytest.approx(0.2) for name in STYLE_LAYERS)
    assert box.controls["steps"].value == 2 and isinstance(box.button, widgets.Button)
    assert "Try this" in box.caption.value
    assert box.result is None and not bytes(box.picture.value)  # nothing ran on construction
    assert box.content.shape == box.style.shape == (SIZE, SIZE, 3)


def test_run_draws_and_uses_alpha_and_beta():
    box = _mixer()
    box.controls["alpha"].value, box.controls["beta"].value = 10.0, 0.1
    result = box.run()
    assert result is box.result and bytes(box.picture.value).startswith(b"\x89PNG")
    assert len(box.figure.axes) == 4 and box.figure.axes[3].get_yscale() == "log"
    h = result["history"]
    assert len(h["total"]) == 3 and result["image"].shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(h["total"], 10.0 * np.array(h["content"]) + 0.1 * np.array(h["style"]), rtol=1e-4)
    first = bytes(box.picture.value)
    box.controls["steps"].value = 3
    box.button.click()  # the button runs it too
    assert len(box.result["history"]["total"]) == 4 and bytes(box.picture.value) != first
    assert "ms per step" in box.message.value


def test_layer_weights_and_student_costs_reach_the_run():
    box = _mixer()
    box.controls["steps"].value = 1
    for name in STYLE_LAYERS:
        box.controls[name].value = 0.1
    style_small = box.run()["history"]["style"][0]  # the seeded starting image, before any step
    for name in STYLE_LAYERS:
        box.controls[name].value = 0.2
    assert box.run()["history"]["style"][0] == pytest.approx(2 * style_small, rel=1e-4)
    # the student's total cost without its style term: J is alpha * J_content alone
    box = _mixer(costs={"total_cost": lambda J_content, J_style, alpha, beta: alpha * J_content})
    h = box.run()["history"]
    assert h["style"][0] > 0
    np.testing.assert_allclose(h["total"], NST_TRAINING["fast"]["alpha"] * np.array(h["content"]), rtol=1e-5)


def test_bad_settings_show_a_message():
    box = _mixer(costs={"style_cost": lambda *args: None})  # an unfinished student function
    assert box.run() is None and "Cannot run this" in box.message.value and box.result is None
    assert "Traceback" not in box.message.value
    box = _mixer()
    for name in STYLE_LAYERS:
        box.controls[name].value = 0.0
    assert box.run() is None and "every style layer weight is 0" in box.message.value
    assert not bytes(box.picture.value) and not box.button.disabled
    with pytest.raises(ValueError, match="alpha and beta"):
        mixer_settings({"alpha": 0.0, "beta": 1.0, "steps": 1, **dict.fromkeys(STYLE_LAYERS, 0.2)}, SIZE)
