"""cnncourse.models.shapes_only: models built without weights have the shapes and counts of weighted builds."""

import keras
import pytest

from cnncourse.analysis.costs import layer_table
from cnncourse.models.c2_efficient import efficientnet
from cnncourse.models.shapes_only import shapes_only
from cnncourse.models.twins import build_alexnet, build_inception_block, build_lenet5

BUILDERS = {
    "LeNet-5": build_lenet5, "AlexNet": build_alexnet, "Inception (3a)": build_inception_block,
    "MobileNet v2": lambda: keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), classes=7),
    "EfficientNet phi=0": lambda: efficientnet(0),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_the_layer_table_is_that_of_a_weighted_build(name):
    with shapes_only():
        bare = BUILDERS[name]()
    weighted = BUILDERS[name]()
    assert bare.count_params() == weighted.count_params() > 0
    assert [{k: r[k] for k in r if k != "name"} for r in layer_table(bare)] == \
           [{k: r[k] for k in r if k != "name"} for r in layer_table(weighted)]


def test_no_weight_is_drawn_and_none_is_drawn_later():
    from keras.src.backend.common import global_state

    before = list(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    with shapes_only():
        bare = build_lenet5()
    assert bare.weights and all(w._value is None for w in bare.weights)
    assert global_state.get_global_attribute("uninitialized_variables") == before
    with keras.StatelessScope():  # leaving a plain stateless scope initialises what is waiting: not these
        pass
    assert all(w._value is None for w in bare.weights)
    weighted = build_lenet5()  # outside, models get their weights as always
    assert all(w._value is not None for w in weighted.weights)


def test_the_waiting_list_is_restored_when_the_build_fails():
    from keras.src.backend.common import global_state

    before = list(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    with pytest.raises(ValueError):
        with shapes_only():
            keras.layers.Dense(3).build((None, 4))
            raise ValueError("a build that fails half way")
    assert global_state.get_global_attribute("uninitialized_variables") == before
