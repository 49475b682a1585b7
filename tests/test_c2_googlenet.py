"""GoogLeNet (cnncourse.models.c2_googlenet) against the table of its paper, counted by hand.

Oracle: Szegedy et al. 2014, "Going deeper with convolutions", Table 1, typed in below (#1x1, #3x3 reduce, #3x3,
#5x5 reduce, #5x5, pool proj per module; output sizes), and Section 5 for the side branches (5x5/3 average pool,
1x1 conv 128, fc 1024, dropout 0.7, linear + softmax). Parameters are counted by hand: k*k*c_in*c_out + c_out per
convolution, c_in*c_out + c_out per dense layer.
"""

import pytest

from cnncourse.models import c2_googlenet as g

# Table 1: module -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, output size, output depth)
TABLE_1 = {
    "3a": (64, 96, 128, 16, 32, 32, 28, 256),
    "3b": (128, 128, 192, 32, 96, 64, 28, 480),
    "4a": (192, 96, 208, 16, 48, 64, 14, 512),
    "4b": (160, 112, 224, 24, 64, 64, 14, 512),
    "4c": (128, 128, 256, 24, 64, 64, 14, 512),
    "4d": (112, 144, 288, 32, 64, 64, 14, 528),
    "4e": (256, 160, 320, 32, 128, 128, 14, 832),
    "5a": (256, 160, 320, 32, 128, 128, 7, 832),
    "5b": (384, 192, 384, 48, 128, 128, 7, 1024),
}


def conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def module_params(c_in, row):
    n1, n3r, n3, n5r, n5, pool = row[:6]
    return (conv(1, c_in, n1) + conv(1, c_in, n3r) + conv(3, n3r, n3) + conv(1, c_in, n5r) + conv(5, n5r, n5)
            + conv(1, c_in, pool))


def hand_count(n_classes=1000):
    stem = conv(7, 3, 64) + conv(1, 64, 64) + conv(3, 64, 192)
    modules, c_in = {}, 192
    for name, row in TABLE_1.items():
        modules[name] = module_params(c_in, row)
        c_in = row[7]
    head = 1024 * n_classes + n_classes
    aux = {name: conv(1, c, 128) + (4 * 4 * 128) * 1024 + 1024 + 1024 * n_classes + n_classes
           for name, c in (("aux1", TABLE_1["4a"][7]), ("aux2", TABLE_1["4d"][7]))}
    return stem, modules, head, aux


@pytest.fixture(scope="module")
def model():
    return g.googlenet()


def test_module_table_is_the_papers():
    modules = [entry for entry in g.GOOGLENET_MODULES if entry != "pool"]
    assert [name for name, _ in modules] == list(TABLE_1)
    keys = ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")
    for name, filters in modules:
        assert tuple(filters[k] for k in keys) == TABLE_1[name][:6], name
        assert g.module_output_channels(filters) == TABLE_1[name][7], name


def test_parameter_count_by_hand(model):
    stem, modules, head, aux = hand_count()
    assert model.count_params() == stem + sum(modules.values()) + head + sum(aux.values())
    groups = {group["group"]: group for group in g.layer_groups(model)}
    for name, row in TABLE_1.items():
        assert groups[name]["params"] == modules[name], name
        assert groups[name]["output_shape"] == (row[6], row[6], row[7]), name
    assert groups["aux1"]["params"] == aux["aux1"] and groups["aux2"]["params"] == aux["aux2"]
    assert sum(group["params"] for group in groups.values()) == model.count_params()


def test_without_side_branches(model):
    stem, modules, head, aux = hand_count(10)
    small = g.googlenet(n_classes=10, auxiliary=False)
    assert small.count_params() == stem + sum(modules.values()) + head
    assert tuple(small.output.shape) == (None, 10)
    assert [tuple(out.shape) for out in model.outputs] == [(None, 1000)] * 3
    aux_params, total, share = g.auxiliary_share(model)
    assert aux_params == sum(hand_count()[3].values()) and total == model.count_params()
    assert share == pytest.approx(aux_params / total)


def test_side_branches_read_4a_and_4d(model):
    for aux, module in (("aux1", "4a"), ("aux2", "4d")):
        pool = model.get_layer(f"{aux}_avg_pool")
        assert pool.input is model.get_layer(f"{module}_concat").output
        assert tuple(pool.output.shape) == (None, 4, 4, TABLE_1[module][7])  # (14 - 5) // 3 + 1 = 4
        assert model.get_layer(f"{aux}_dropout").rate == 0.7


def test_module_builder_is_used():
    calls = []

    def spy(x, filters, name):
        calls.append(name)
        return g.inception_module(x, filters, name)

    g.googlenet(n_classes=2, auxiliary=False, module=spy)
    assert calls == list(TABLE_1)


@pytest.mark.parametrize("kwargs", [{"input_shape": (100, 100, 3)}, {"n_classes": 1}, {"auxiliary": 1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        g.googlenet(**kwargs)
