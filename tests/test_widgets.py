"""The explorers' pure functions against independent oracles (scipy, skimage, numpy loops), the sample
images, and the widgets driven by setting their controls' values as a student's clicks would."""

import math
import re

import matplotlib

matplotlib.use("Agg")  # no display in tests; set before pyplot is imported anywhere

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.signal import correlate2d  # noqa: E402
from skimage import io  # noqa: E402
from skimage.measure import block_reduce  # noqa: E402

from cnncourse.data.images import SAMPLE_IMAGES, load_image  # noqa: E402
from cnncourse.widgets import (  # noqa: E402
    FILTERS,
    conv_explorer,
    convolve_image,
    parse_kernel,
    pool_explorer,
    pool_image,
)

rng = np.random.default_rng(0)


def expected_size(n, f, pad, stride):
    """The output size, written independently of cnncourse.ops.conv.output_size."""
    return math.floor((n + 2 * pad - f) / stride) + 1


def check_formula_line(line, axis, n, f, pad, stride):
    """The line names the axis and the numbers, and its left side evaluates to its right side."""
    want = expected_size(n, f, pad or 0, stride)
    assert line.startswith(f"n_{axis} = "), line
    pad_term = "" if pad is None else f" + 2*{pad}"
    assert f"floor(({n}{pad_term} - {f}) / {stride}) + 1 = {want}" in line, line
    lhs, rhs = line.split(" = ")[1:]
    assert eval(lhs, {"floor": math.floor}) == int(rhs) == want  # noqa: S307 - our own formula text


# --- sample images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_every_sample_loads_offline_gray_and_colour(name):
    gray = load_image(name, size=24)
    colour = load_image(name, size=20, gray=False)
    assert gray.shape == (24, 24) and colour.shape == (20, 20, 3)
    for img in (gray, colour):
        assert img.dtype == np.float64
        assert 0.0 <= img.min() <= img.max() <= 1.0
        assert img.std() > 0.01, "a sample image should not be flat"


def test_load_image_hands_out_copies():
    a = load_image("camera", size=16)
    a[:] = 0
    assert load_image("camera", size=16).max() > 0


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown sample image 'camara'") as err:
        load_image("camara")
    assert all(name in str(err.value) for name in ("camera", "chelsea", "china"))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_photo.png"):
        load_image(tmp_path / "no_such_photo.png")
    with pytest.raises(FileNotFoundError):
        load_image(str(tmp_path / "no_such_photo.jpg"))


def test_user_file_is_center_cropped_then_resized(tmp_path):
    # 30 x 90: red, green, blue thirds; the central square is all green
    img = np.zeros((30, 90, 3), dtype=np.uint8)
    img[:, :30, 0] = img[:, 30:60, 1] = img[:, 60:, 2] = 255
    path = tmp_path / "thirds.png"
    io.imsave(path, img, check_contrast=False)
    colour = load_image(path, size=12, gray=False)
    assert colour.shape == (12, 12, 3)
    np.testing.assert_allclose(colour, np.broadcast_to([0.0, 1.0, 0.0], (12, 12, 3)), atol=1e-6)
    gray = load_image(str(path), size=10)
    assert gray.shape == (10, 10)
    np.testing.assert_allclose(gray, 0.7152, atol=1e-3)  # ITU-R 709 weight of green, as in rgb2gray


def test_user_file_gray_and_rgba(tmp_path):
    gray_path, rgba_path = tmp_path / "g.png", tmp_path / "a.png"
    io.imsave(gray_path, (np.arange(40 * 40).reshape(40, 40) % 256).astype(np.uint8), check_contrast=False)
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[..., 3] = 0  # fully transparent: shown on white
    io.imsave(rgba_path, rgba, check_contrast=False)
    assert load_image(gray_path, size=8, gray=False).shape == (8, 8, 3)
    np.testing.assert_allclose(load_image(rgba_path, size=8, gray=False), 1.0)


def test_unreadable_file_is_a_value_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ValueError, match="could not read"):
        load_image(path)


# --- parse_kernel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "1 0 -1; 1 0 -1; 1 0 -1",
    "1 0 -1\n1 0 -1\n1 0 -1",
    "1, 0, -1\n 1,0,-1 \n\n1 ,0 , -1;",
    "[1 0 -1]\n[1 0 -1]\n[1 0 -1]",
    "1.0 0e0 -1; +1 0 -1.0; 1 0.0 -1",
])
def test_parse_kernel_reads_the_vertical_edge(text):
    kernel = parse_kernel(text)
    assert kernel.dtype == np.float64
    np.testing.assert_array_equal(kernel, [[1, 0, -1]] * 3)


def test_parse_kernel_fractions_and_sizes():
    np.testing.assert_allclose(parse_kernel("1/9 1/9; 1/9 -1/9"), [[1 / 9, 1 / 9], [1 / 9, -1 / 9]])
    assert parse_kernel("7").shape == (1, 1)
    assert parse_kernel("\n".join(["1 " * 5] * 5)).shape == (5, 5)


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    (" ;\n ; ", "empty"),
    ("1 0 -1; 1 0 -1", "square"),
    ("1 2 3; 4 5 6; 7 8", "same number of entries"),
    ("1 a; 2 3", "'a' .*row 1, column 2.* not a number"),
    ("1 2; 3 x4", "'x4' .*row 2, column 2"),
    ("1 nan; 2 3", "not a finite number"),
    ("1/0 1; 1 1", "not a number"),
])
def test_parse_kernel_rejects_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_kernel(text)


def test_filters_are_square_and_typed_in_format_round_trips():
    from cnncourse.widgets.conv_explorer import format_kernel

    for name, kernel in FILTERS.items():
        assert kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1] and kernel.shape[0] in (3, 5), name
        np.testing.assert_allclose(parse_kernel(format_kernel(kernel)), kernel, rtol=1e-5, err_msg=name)
    for blur in ("box blur", "Gaussian blur 5x5"):
        assert FILTERS[blur].sum() == pytest.approx(1.0)
    for edge in ("vertical edge", "horizontal edge", "Sobel x", "Sobel y", "Scharr x", "Scharr y", "Laplacian"):
        assert FILTERS[edge].sum() == pytest.approx(0.0)


# --- convolve_image -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_H,n_W,f,stride,pad", [
    (12, 12, 3, 1, 0), (12, 15, 3, 2, 1), (13, 9, 5, 3, 2), (10, 10, 2, 4, 3), (7, 8, 1, 1, 0),
])
def test_convolve_image_matches_scipy_correlate2d(n_H, n_W, f, stride, pad):
    image = rng.random((n_H, n_W))
    kernel = rng.standard_normal((f, f))  # asymmetric: a flipped kernel would not match
    out = convolve_image(image, kernel, stride, pad)
    want = correlate2d(np.pad(image, pad), kernel, mode="valid")[::stride, ::stride]
    np.testing.assert_allclose(out["output"], want, rtol=1e-12, atol=1e-12)
    assert out["n_out"] == (expected_size(n_H, f, pad, stride), expected_size(n_W, f, pad, stride))
    assert out["output"].shape == out["n_out"]
    line_H, line_W = out["formula"].split("\n")
    check_formula_line(line_H, "H", n_H, f, pad, stride)
    check_formula_line(line_W, "W", n_W, f, pad, stride)


def test_convolve_image_named_filters_on_a_step_edge():
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0  # dark left, bright right
    vertical = convolve_image(step, FILTERS["vertical edge"])["output"]
    horizontal = convolve_image(step, FILTERS["horizontal edge"])["output"]
    identity = convolve_image(step, FILTERS["identity"], pad=1)["output"]
    assert vertical.min() == -3.0 and np.all(vertical[:, [0, 1, 4, 5]] == 0)  # dark-to-bright: 1*0 + (-1)*1, x3
    np.testing.assert_array_equal(horizontal, 0.0)
    np.testing.assert_array_equal(identity, step)


def test_convolve_image_rejects_bad_input():
    with pytest.raises(ValueError, match="gray"):
        convolve_image(np.zeros((8, 8, 3)), FILTERS["box blur"])
    with pytest.raises(ValueError, match="square"):
        convolve_image(np.zeros((8, 8)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        convolve_image(np.zeros((4, 4)), np.ones((7, 7)), pad=1)


# --- pool_image -----------------------------------------------------------------------------------------


def brute_force_pool(image, f, stride, reduce):
    """Loop over every window of a (H, W, C) image."""
    n_H, n_W = expected_size(image.shape[0], f, 0, stride), expected_size(image.shape[1], f, 0, stride)
    out = np.empty((n_H, n_W, image.shape[2]))
    for h in range(n_H):
        for w in range(n_W):
            window = image[h * stride:h * stride + f, w * stride:w * stride + f, :]
            out[h, w] = reduce(window.reshape(-1, image.shape[2]), axis=0)
    return out


@pytest.mark.parametrize("mode,reduce", [("max", np.max), ("average", np.mean)])
@pytest.mark.parametrize("f,stride", [(2, 2), (3, 2), (2, 3), (1, 1), (4, 1)])
def test_pool_image_rgb_matches_a_loop_per_channel(mode, reduce, f, stride):
    image = rng.random((11, 9, 3))
    out = pool_image(image, f, stride, mode)
    np.testing.assert_allclose(out["output"], brute_force_pool(image, f, stride, reduce), rtol=1e-12)
    assert out["n_out"] == (expected_size(11, f, 0, stride), expected_size(9, f, 0, stride))
    assert out["output"].shape == out["n_out"] + (3,)
    line_H, line_W = out["formula"].split("\n")
    check_formula_line(line_H, "H", 11, f, None, stride)
    check_formula_line(line_W, "W", 9, f, None, stride)


@pytest.mark.parametrize("mode,reduce", [("max", np.max), ("average", np.mean)])
@pytest.mark.parametrize("f", [2, 3])
def test_pool_image_gray_matches_block_reduce_when_stride_equals_f(mode, reduce, f):
    image = rng.random((12, 18))
    out = pool_image(image, f, f, mode)
    assert out["output"].shape == (12 // f, 18 // f)
    np.testing.assert_allclose(out["output"], block_reduce(image, (f, f), reduce), rtol=1e-12)


def test_pool_image_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        pool_image(np.zeros((8, 8)), 2, 2, "median")
    with pytest.raises(ValueError, match="does not fit"):
        pool_image(np.zeros((4, 4)), 5, 1, "max")
    with pytest.raises(ValueError, match="shape"):
        pool_image(np.zeros(8), 2, 2, "max")


# --- the widgets ----------------------------------------------------------------------------------------


def formula_lines(box):
    """The formula HTML as plain text lines."""
    text = re.sub(r"<br\s*/?>", "\n", box.formula.value)
    return [line.strip() for line in re.sub(r"<[^>]+>", "", text).split("\n") if line.strip()]


def test_conv_explorer_follows_its_controls():
    size = 64
    box = conv_explorer(size=size)
    assert {"image", "filter", "kernel", "stride", "pad"} <= set(box.controls)
    assert "Try" in box.caption.value and "stride" in box.caption.value
    assert len(box.figure.axes) >= 3 and box.message.value == ""
    first_picture = bytes(box.picture.value)
    assert first_picture.startswith(b"\x89PNG"), "the figure is shown as a PNG image widget"

    def check(f, stride, pad):
        line_H, line_W = formula_lines(box)
        check_formula_line(line_H, "H", size, f, pad, stride)
        check_formula_line(line_W, "W", size, f, pad, stride)
        n = expected_size(size, f, pad, stride)
        titles = [ax.get_title() for ax in box.figure.axes]
        assert any(f"({size + 2 * pad}, {size + 2 * pad})" in t for t in titles), titles  # padded input
        assert any(f"({f}, {f})" in t for t in titles), titles  # filter
        assert any(f"({n}, {n})" in t for t in titles), titles  # output
        assert all(ax.get_title() for ax in box.figure.axes[:3])

    check(3, 1, 0)
    box.controls["stride"].value = 3
    check(3, 3, 0)
    assert bytes(box.picture.value) != first_picture, "a change of stride redraws the picture"
    box.controls["pad"].value = 2
    check(3, 3, 2)
    box.controls["filter"].value = "Gaussian blur 5x5"
    check(5, 3, 2)
    assert box.controls["kernel"].disabled
    assert parse_kernel(box.controls["kernel"].value).shape == (5, 5)  # the text box follows the filter


def test_conv_explorer_shows_a_bad_kernel_as_a_message():
    box = conv_explorer(size=32)
    box.controls["filter"].value = "typed in"
    assert not box.controls["kernel"].disabled
    box.controls["kernel"].value = "1 2\n3 oops"  # must not raise
    assert "oops" in box.message.value and "not a number" in box.message.value
    assert "Traceback" not in box.message.value
    box.controls["kernel"].value = "1 2 3\n4 5 6"
    assert "square" in box.message.value
    box.controls["kernel"].value = "1 -1\n1 -1"  # fixed: the message goes, the formula follows the 2x2
    assert box.message.value == ""
    check_formula_line(formula_lines(box)[0], "H", 32, 2, 0, 1)


def test_pool_explorer_follows_its_controls():
    size = 48
    box = pool_explorer(size=size)
    assert {"image", "mode", "f", "stride"} <= set(box.controls)
    assert "Try" in box.caption.value
    for f, stride, mode in [(2, 2, "max"), (3, 2, "max"), (3, 2, "average"), (6, 5, "average")]:
        with box.paused():
            box.controls["f"].value = f
            box.controls["stride"].value = stride
            box.controls["mode"].value = mode
        box.update()
        line_H, line_W = formula_lines(box)
        check_formula_line(line_H, "H", size, f, None, stride)
        check_formula_line(line_W, "W", size, f, None, stride)
        n = expected_size(size, f, 0, stride)
        titles = " | ".join(ax.get_title() for ax in box.figure.axes)
        assert f"({size}, {size}, 3)" in titles and f"({n}, {n}, 3)" in titles and mode in titles, titles
    box.controls["stride"].value = 1  # a single change redraws without update()
    check_formula_line(formula_lines(box)[0], "H", size, 6, None, 1)


@pytest.mark.parametrize("make", [lambda: conv_explorer(size=32), lambda: pool_explorer(size=32)],
                         ids=["conv_explorer", "pool_explorer"])
def test_the_size_formula_is_written_once_and_the_picture_keeps_its_natural_width(make):
    """The formula is under the controls, not again as the figure's title; the PNG is not stretched to the page."""
    box = make()
    assert formula_lines(box) and "floor" in box.formula.value
    title = box.figure.get_suptitle()
    assert title and "floor" not in title and "n_H" not in title, title
    png = bytes(box.picture.value)
    width = int.from_bytes(png[16:20], "big")  # the IHDR chunk of the PNG: width, then height
    assert width == round(box.figure.get_figwidth() * box.figure.dpi)
    assert box.picture.layout.width == f"{width}px" and box.picture.layout.max_width == "100%"


def test_show_png_refuses_bytes_that_are_not_a_png():
    from ipywidgets import Image

    from cnncourse.widgets.conv_explorer import show_png

    with pytest.raises(ValueError, match="expected PNG bytes"):
        show_png(Image(), b"GIF89a not a png at all")
