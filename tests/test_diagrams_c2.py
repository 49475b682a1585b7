"""Chapter 2's diagrams draw, and the channels they label are the package's and the papers'.

Oracles: GoogLeNet's inception (3a) row of Szegedy et al. 2014, Table 1 (64; 96 -> 128; 16 -> 32; pool proj 32; 28x28x192
in, 256 out), and ResNet-50's conv3 stage of He et al. 2016, Table 1 (1x1 128, 3x3 128, 1x1 512, 56x56 -> 28x28),
typed in; and the package's own tables, which the diagrams must follow.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cnncourse.diagrams import c2  # noqa: E402
from cnncourse.models.c2_googlenet import GOOGLENET_MODULES  # noqa: E402
from cnncourse.models.c2_resnet import RESNET50_STAGES  # noqa: E402


def labels(fig):
    return [text.get_text() for ax in fig.axes for text in ax.texts]


def numbers(fig):
    return sorted(int(n) for label in labels(fig) for n in re.findall(r"\d+", label))


def test_inception_module_diagram_labels_the_papers_3a():
    fig = c2.inception_module_diagram("3a")
    text = labels(fig)
    for expected in ("1x1 conv, 64", "1x1 conv, 96", "3x3 conv, 128", "1x1 conv, 16", "5x5 conv, 32", "1x1 conv, 32",
                     "28x28x192", "28x28x256", "3x3 max pool"):
        assert any(expected in label for label in text), expected
    assert fig.axes[0].get_title()
    plt.close(fig)


@pytest.mark.parametrize("name", ["3b", "4d", "5b"])
def test_inception_module_diagram_follows_the_package(name, monkeypatch):
    filters = dict(next(e[1] for e in GOOGLENET_MODULES if e != "pool" and e[0] == name))
    fig = c2.inception_module_diagram(name)
    got = numbers(fig)
    for key, value in filters.items():
        assert value in got, (name, key)
    assert sum(filters[k] for k in ("1x1", "3x3", "5x5", "pool_proj")) in got
    plt.close(fig)
    changed = [(n, {**f, "5x5": 77}) if n == name else (n, f) for n, f in (e for e in GOOGLENET_MODULES if e != "pool")]
    monkeypatch.setattr(c2, "GOOGLENET_MODULES", changed)
    fig = c2.inception_module_diagram(name)
    assert any("5x5 conv, 77" in label for label in labels(fig))
    plt.close(fig)


def test_residual_blocks_diagram_labels_resnet50_conv3():
    fig = c2.residual_blocks_diagram("conv3", 56)
    text = labels(fig)
    for expected in ("1x1 conv, 128, stride 2", "3x3 conv, 128", "1x1 conv, 512", "shortcut: 1x1 conv, 512, stride 2",
                     "56x56x256", "28x28x512", "identity", "ReLU", "+"):
        assert any(expected in label for label in text), expected
    plt.close(fig)


@pytest.mark.parametrize("stage", [s[0] for s in RESNET50_STAGES])
def test_residual_blocks_diagram_follows_the_package(stage):
    _, _, filters, stride = next(s for s in RESNET50_STAGES if s[0] == stage)
    fig = c2.residual_blocks_diagram(stage, 56)
    text = labels(fig)
    assert any(f"1x1 conv, {filters[0]}" in label for label in text)
    assert any(f"3x3 conv, {filters[1]}" in label for label in text)
    assert any(f"x{filters[2]}" in label for label in text)  # the output's channels
    assert (stride > 1) == any(f"stride {stride}" in label for label in text)
    plt.close(fig)


@pytest.mark.parametrize("call", [lambda: c2.inception_module_diagram("6a"),
                                  lambda: c2.residual_blocks_diagram("conv9")])
def test_unknown_names_raise(call):
    with pytest.raises(ValueError):
        call()
