"""Chapter 2's EfficientNet: compound_scaling and its checks, the scaled Keras builds against keras.applications,
and the compound-scaling explorer driven through its sliders."""

import math
import re

import matplotlib

matplotlib.use("Agg")  # no display in tests; set before pyplot is imported anywhere

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.checks.c2_efficient import hidden_compound_scaling, public_compound_scaling  # noqa: E402
from cnncourse.checks.core import CheckFailed  # noqa: E402
from cnncourse.models.c2_efficient import (  # noqa: E402
    compound_scaling,
    efficientnet,
    scaled_configuration,
    scaling_table,
)
from cnncourse.widgets.scaling_explorer import scaling_explorer, scaling_formula, scaling_numbers  # noqa: E402

B0_PARAMS = 5_330_571  # keras.applications.EfficientNetB0(weights=None), 1000 classes


# --- compound_scaling -----------------------------------------------------------------------------------


def test_compound_scaling_values():
    assert compound_scaling(0) == {"depth": 1.0, "width": 1.0, "resolution": 1.0, "flops": 1.0}
    one = compound_scaling(1)
    assert one["depth"] == pytest.approx(1.2) and one["width"] == pytest.approx(1.1)
    assert one["resolution"] == pytest.approx(1.15) and one["flops"] == pytest.approx(1.92027)
    for phi in (2, 3.5, 7):
        got = compound_scaling(phi, alpha=1.3, beta=1.05, gamma=1.2)
        assert got["depth"] == pytest.approx(1.3 ** phi) and got["width"] == pytest.approx(1.05 ** phi)
        assert got["resolution"] == pytest.approx(1.2 ** phi)
        assert got["flops"] == pytest.approx(got["depth"] * got["width"] ** 2 * got["resolution"] ** 2)
    assert compound_scaling(7)["flops"] == pytest.approx(1.92027 ** 7)  # ~ 2 ** 7


@pytest.mark.parametrize("kwargs,name", [
    ({"phi": -1}, "phi"), ({"phi": float("nan")}, "phi"), ({"phi": "1"}, "phi"), ({"phi": True}, "phi"),
    ({"phi": 1, "alpha": 0.9}, "alpha"), ({"phi": 1, "beta": 0.5}, "beta"), ({"phi": 1, "gamma": -2}, "gamma"),
])
def test_compound_scaling_rejects_with_a_clear_message(kwargs, name):
    with pytest.raises(ValueError, match=rf"{name} must be a finite real number >= "):
        compound_scaling(**kwargs)


# --- the checks -----------------------------------------------------------------------------------------


def test_checks_pass_the_reference():
    public_compound_scaling(compound_scaling)
    hidden_compound_scaling(compound_scaling)


def _variant(depth=None, width=None, resolution=None, flops=None, validate=True, drop=None):
    """compound_scaling with one entry replaced by a typical mistake."""
    def fn(phi, alpha=1.2, beta=1.1, gamma=1.15):
        if validate:
            compound_scaling(phi, alpha, beta, gamma)  # raises as the reference does
        out = {"depth": alpha ** phi, "width": beta ** phi, "resolution": gamma ** phi,
               "flops": (alpha * beta ** 2 * gamma ** 2) ** phi}
        for key, wrong in (("depth", depth), ("width", width), ("resolution", resolution), ("flops", flops)):
            if wrong is not None:
                out[key] = wrong(phi, alpha, beta, gamma)
        if drop:
            del out[drop]
        return out
    return fn


@pytest.mark.parametrize("check", [public_compound_scaling, hidden_compound_scaling])
@pytest.mark.parametrize("mistake,message", [
    (_variant(flops=lambda p, a, b, g: (a * b * g) ** p), r'\["flops"\]'),
    (_variant(flops=lambda p, a, b, g: a * b * g), r'\["flops"\]'),
    (_variant(depth=lambda p, a, b, g: a * p), r'\["depth"\]'),
    (_variant(width=lambda p, a, b, g: b ** (2 * p)), r'\["width"\]'),
    (_variant(resolution=lambda p, a, b, g: a ** p), r'\["resolution"\]'),
    (_variant(drop="flops"), "missing"),
    (_variant(validate=False), "ValueError"),
    (lambda phi, alpha=1.2, beta=1.1, gamma=1.15: (alpha ** phi, beta ** phi, gamma ** phi), "dict"),
])
def test_checks_catch_mistakes_and_name_the_case(check, mistake, message):
    with pytest.raises(CheckFailed, match=message) as err:
        check(mistake)
    assert "case:" in str(err.value) and "phi" in str(err.value)


def test_check_message_says_expected_and_got():
    with pytest.raises(CheckFailed) as err:
        public_compound_scaling(_variant(depth=lambda p, a, b, g: a * p))
    text = str(err.value)
    assert re.search(r"expected 1, got 0", text) and "phi=0" in text and "alpha ** phi" in text, text


# --- the Keras builds -----------------------------------------------------------------------------------


def test_scaled_configuration_rounds_the_resolution_to_a_multiple_of_8():
    assert scaled_configuration(0) == {"depth_coefficient": 1.0, "width_coefficient": 1.0, "resolution": 224}
    one = scaled_configuration(1)
    assert one["resolution"] == 256  # 224 * 1.15 = 257.6
    assert one["depth_coefficient"] == pytest.approx(1.2) and one["width_coefficient"] == pytest.approx(1.1)
    assert scaled_configuration(3, base_resolution=100)["resolution"] == 152  # 100 * 1.15**3 = 152.1
    with pytest.raises(ValueError, match="base_resolution"):
        scaled_configuration(1, base_resolution=16)


def test_phi_0_is_keras_efficientnet_b0():
    ours = efficientnet(0)
    theirs = keras.applications.EfficientNetB0(weights=None)
    assert ours.count_params() == theirs.count_params() == B0_PARAMS
    assert ours.input_shape == theirs.input_shape == (None, 224, 224, 3)
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]


def _blocks(model):
    return sum(layer.name.endswith("_project_conv") for layer in model.layers)


def test_phi_1_is_wider_deeper_and_larger():
    model = efficientnet(1)
    assert model.input_shape == (None, 256, 256, 3) and model.output_shape == (None, 1000)
    assert model.get_layer("top_conv").filters == 1408  # 1280 * 1.1
    assert _blocks(model) == sum(math.ceil(1.2 * r) for r in (1, 2, 2, 3, 3, 4, 1)) == 23  # B0 has 16
    assert model.count_params() > B0_PARAMS
    assert model.count_params() == 9_177_569  # width 1.1 / depth 1.2: Keras's B2 coefficients, hence its count


def test_efficientnet_input_shape_classes_and_errors():
    model = efficientnet(0, input_shape=(64, 64, 3), n_classes=5)
    assert model.output_shape == (None, 5)
    assert model.count_params() == B0_PARAMS - 1281 * 1000 + 1281 * 5  # the head is Dense(1280 -> classes)
    out = model(np.zeros((2, 64, 64, 3), dtype="float32"))
    np.testing.assert_allclose(np.sum(np.asarray(out), axis=1), 1.0, rtol=1e-5)
    for kwargs, name in (({"phi": -1}, "phi"), ({"input_shape": (16, 16, 3)}, "input_shape"),
                         ({"n_classes": 0}, "n_classes"), ({"input_shape": (64, 64)}, "input_shape")):
        with pytest.raises(ValueError, match=name):
            efficientnet(**kwargs)


def test_scaling_table_row_for_phi_0():
    (row,) = scaling_table((0,))
    assert row["params"] == row["keras_params"] == B0_PARAMS
    assert row["multiplications"] == row["keras_multiplications"]
    assert 0.38e9 < row["multiplications"] < 0.40e9  # the paper's 0.39B FLOPs (multiply-adds)
    assert (row["depth"], row["width"], row["resolution"], row["flops_factor"]) == (1.0, 1.0, 224, 1.0)
    assert scaling_table([0.0])[0] == row  # cached, and 0.0 is the same row
    with pytest.raises(ValueError, match="phi"):
        scaling_table((-1,))


# --- the explorer ---------------------------------------------------------------------------------------


def test_scaling_numbers_and_formula():
    n = scaling_numbers(1, 1.2, 1.1, 1.15)
    assert n["flops_base"] == pytest.approx(1.92027) and n["flops"] == pytest.approx(1.92027)
    assert n["layers"] == 5 and n["side"] == 258
    assert scaling_numbers(0)["layers"] == 4 and scaling_numbers(0)["flops"] == 1.0
    text = scaling_formula(n)
    assert "1.920" in text and "258 px" in text and "1.200" in text
    for bad in ({"phi": -1}, {"phi": 1, "alpha": 0.5}, {"phi": 1, "gamma": float("inf")}):
        with pytest.raises(ValueError):
            scaling_numbers(**bad)


def test_scaling_explorer_follows_its_sliders():
    box = scaling_explorer()
    assert {"phi", "alpha", "beta", "gamma"} <= set(box.controls)
    assert "Try" in box.caption.value and box.message.value == ""
    first = bytes(box.picture.value)
    assert first.startswith(b"\x89PNG"), "the figure is shown as a PNG image widget"
    assert len(box.figure.axes) == 3
    assert "1.920" in box.formula.value
    box.controls["phi"].value = 3.0
    assert bytes(box.picture.value) != first, "a change of phi redraws the picture"
    assert f"{1.92027 ** 3:.3f}" in box.formula.value
    assert any("phi = 3" in ax.get_title() for ax in box.figure.axes)
    with box.paused():
        box.controls["alpha"].value = 1.0
        box.controls["gamma"].value = 1.0
        box.controls["beta"].value = 1.5
    box.update()
    assert f"{1.5 ** 6:.3f}" in box.formula.value  # width alone: (beta**2) ** phi
    box.controls["phi"].value = 7.0  # many layers: still draws, no message
    assert box.message.value == ""
