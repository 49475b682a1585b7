"""Chapter 4's transpose-convolution stepper: its steps add up to the layer's output, and the widget follows its
sliders."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.ops.c4_transpose import conv_transpose_forward, transpose_steps  # noqa: E402
from cnncourse.widgets.transpose_stepper import (  # noqa: E402
    FILTER,
    INPUT,
    stepper_figure,
    stepper_state,
    stepper_text,
    transpose_stepper,
)


def layer_output(x, W, stride, pad):
    x, W = np.asarray(x, dtype=float), np.asarray(W, dtype=float)
    return conv_transpose_forward(x[None, :, :, None], W[:, :, None, None], np.zeros(1), stride, pad)[0, :, :, 0]


CASES = [(INPUT, FILTER, s, p) for s in (1, 2, 3) for p in (0, 1)] + [
    (INPUT, FILTER, 2, 2), (INPUT, FILTER, 3, 2),
    (np.arange(6.0).reshape(2, 3) - 2, np.array([[1.0, -1.0], [2.0, 0.5]]), 2, 0),
    (np.array([[2.0, -1.0, 0.5]]), np.ones((4, 4)), 1, 1),
]


@pytest.mark.parametrize("x, W, stride, pad", CASES)
def test_steps_add_up_to_the_layer_output(x, W, stride, pad):
    steps = transpose_steps(x, W, stride, pad)
    f = W.shape[0]
    assert len(steps) == x.size
    assert [(s["row"], s["col"]) for s in steps] == [rc for rc, _ in np.ndenumerate(x)]  # row-major
    np.testing.assert_allclose(steps[-1]["cropped"], layer_output(x, W, stride, pad))
    previous = np.zeros_like(steps[0]["canvas"])
    for s in steps:
        top, left = s["region"]
        assert (top, left) == (s["row"] * stride, s["col"] * stride) and s["value"] == x[s["row"], s["col"]]
        added = s["canvas"] - previous  # exactly the scaled filter, at its region, nothing elsewhere
        np.testing.assert_allclose(added[top:top + f, left:left + f], s["value"] * W)
        added[top:top + f, left:left + f] = 0
        assert not np.any(added)
        n_H, n_W = s["cropped"].shape
        np.testing.assert_array_equal(s["cropped"], s["canvas"][pad:pad + n_H, pad:pad + n_W])
        previous = s["canvas"]


def test_state_text_and_figure_of_the_lecture_example():
    state = stepper_state(INPUT, FILTER, 2, 1, 0)
    assert state["current"] is None and not np.any(state["canvas"]) and state["cropped"].shape == (3, 3)
    text = stepper_text(INPUT, FILTER, 2, 1, 2)
    assert "input pixel (row 0, column 1)" in text and "value 2" in text
    assert "rows 0..2, columns 2..4" in text and "(2 - 1) * 2 + 3 - 2*1 = 3" in text and "full canvas 5" in text
    assert "nothing laid yet" in stepper_text(INPUT, FILTER, 2, 1, 0)
    fig = stepper_figure(INPUT, FILTER, 2, 1, 4)
    ax_x, ax_w, ax_c, ax_o = fig.axes
    written = [t.get_text() for t in ax_c.texts]
    assert len(written) == 25 and "36" in written and "55" in written  # every canvas cell has its number
    assert len(ax_c.patches) == 1 and len(ax_x.patches) == 1  # the current region and the current pixel
    assert "output (3, 3)" in ax_o.get_title()
    matplotlib.pyplot.close(fig)
    for step in (-1, 5, 1.0):
        with pytest.raises(ValueError, match="step"):
            stepper_state(INPUT, FILTER, 2, 1, step)


def test_stepper_follows_its_sliders():
    box = transpose_stepper()
    assert set(box.controls) == {"step", "stride", "pad"}
    assert box.controls["step"].max == 4 and box.controls["stride"].max == 3 and box.controls["pad"].max == 2
    assert "Try this" in box.caption.value
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG") and "step 0 of 4" in box.formula.value
    box.controls["step"].value = 3
    third = bytes(box.picture.value)
    assert third != first and "value 3" in box.formula.value and "rows 2..4, columns 0..2" in box.formula.value
    box.controls["stride"].value = 3
    assert "rows 3..5" in box.formula.value and "full canvas 6" in box.formula.value
    assert bytes(box.picture.value) != third
    with box.paused():
        box.controls["stride"].value, box.controls["pad"].value = 1, 2  # 2 + 3 - 1 - 4 = 0: nothing left
    box.update()
    last = bytes(box.picture.value)
    assert "crops the whole" in box.message.value
    box.controls["pad"].value = 0
    assert box.message.value == "" and bytes(box.picture.value) != last and "= 4" in box.formula.value
