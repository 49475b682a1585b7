"""Chapter 2's test-time tricks: multi_crop and ensemble_predict against their definitions, their checks on the
references, and one mistake, one loss between them (a wrong multi_crop costs ensemble_predict nothing)."""

import inspect

import numpy as np
import pytest

from cnncourse.checks import c2_multicrop as checks
from cnncourse.checks.core import CheckFailed
from cnncourse.experiments import c2_ensemble
from cnncourse.ops import c2_multicrop
from cnncourse.ops.c2_multicrop import ensemble_predict, multi_crop


@pytest.mark.parametrize("kind", ["public", "hidden"])
@pytest.mark.parametrize("name", ["multi_crop", "ensemble_predict"])
def test_the_references_pass_their_checks(kind, name):
    getattr(checks, f"{kind}_{name}")(getattr(c2_multicrop, name))


def test_the_five_crops_are_the_corners_and_the_centre_and_the_mirrors_reverse_the_columns():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 7, 9, 3))
    crops = multi_crop(images, 4)
    assert crops.shape == (2, 10, 4, 4, 3)
    assert np.array_equal(crops[:, 0], images[:, :4, :4])
    assert np.array_equal(crops[:, 3], images[:, -4:, -4:])
    assert np.array_equal(crops[:, 1], images[:, :4, -4:]) and np.array_equal(crops[:, 2], images[:, -4:, :4])
    assert np.array_equal(crops[:, 4], images[:, 1:5, 2:6])  # (7 - 4) // 2 = 1, (9 - 4) // 2 = 2
    assert np.array_equal(crops[:, 5:], crops[:, :5, :, ::-1])
    assert np.array_equal(multi_crop(images, 4, mirror=False), crops[:, :5])
    whole = multi_crop(images[:, :7, :7], 7)  # a crop the size of the image: ten copies of it and its mirror
    assert np.array_equal(whole[:, :5], np.repeat(images[:, None, :7, :7], 5, axis=1))


def test_ensemble_predict_is_the_mean_over_networks_and_crops():
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(3, 8, 6, 2))
    networks = [checks.ToyNetwork(2, 5, seed=s) for s in range(3)]
    whole = ensemble_predict(networks, images)
    assert np.allclose(whole, np.mean([net(images) for net in networks], axis=0))
    assert np.allclose(whole.sum(axis=1), 1.0)
    one = ensemble_predict(networks[:1], images, crop_size=5, mirror=False)
    by_hand = np.mean([networks[0](multi_crop(images, 5, mirror=False)[:, k]) for k in range(5)], axis=0)
    assert np.allclose(one, by_hand)


@pytest.mark.parametrize("call,text", [
    (lambda: multi_crop(np.zeros((1, 4, 5, 1)), 5), "at most the images' height and width"),
    (lambda: multi_crop(np.zeros((4, 5, 1)), 2), "4 dimensions"),
    (lambda: multi_crop(np.zeros((1, 4, 5, 1)), 2, mirror=1), "mirror must be True or False"),
    (lambda: ensemble_predict([], np.zeros((1, 4, 4, 1))), "non-empty list of functions"),
    (lambda: ensemble_predict([np.mean, 3], np.zeros((1, 4, 4, 1))), "predict_fns[1] must be a function"),
    (lambda: ensemble_predict([np.mean], np.zeros((0, 4, 4, 1))), "at least one image"),
])
def test_bad_arguments_say_what_was_expected(call, text):
    with pytest.raises(ValueError) as info:
        call()
    assert text in str(info.value)


def _ensemble_calling(multi_crop_fn):
    """The course's ensemble_predict defined in a namespace (a notebook's globals) whose multi_crop is multi_crop_fn."""
    namespace = {k: v for k, v in vars(c2_multicrop).items() if not k.startswith("__")}
    namespace["multi_crop"] = multi_crop_fn
    exec(compile(inspect.getsource(ensemble_predict), "<notebook>", "exec"), namespace)  # noqa: S102
    return namespace["ensemble_predict"]


def test_a_multi_crop_mistake_costs_multi_crop_only(capsys):
    def upside_down(images, crop_size, mirror=True):  # the mirrors reverse the rows
        crops = multi_crop(images, crop_size, mirror)
        if mirror:
            crops[:, 5:] = crops[:, :5, ::-1]
        return crops

    with pytest.raises(CheckFailed):
        checks.hidden_multi_crop(upside_down)
    student = _ensemble_calling(upside_down)
    checks.hidden_ensemble_predict(student)
    checks.public_ensemble_predict(student)
    assert "the mistake is in your multi_crop" in capsys.readouterr().out
    assert student.__globals__["multi_crop"] is upside_down  # the notebook's own is back afterwards


# ---------------------------------------------------------------- the experiment (cnncourse.experiments.c2_ensemble)
def test_random_crops_are_slices_of_their_own_image():
    rng = np.random.default_rng(2)
    images = rng.standard_normal((6, 9, 7, 2))
    crops = c2_ensemble.random_crops(images, 4, np.random.default_rng(0))
    assert crops.shape == (6, 4, 4, 2)
    for image, crop in zip(images, crops):
        windows = np.lib.stride_tricks.sliding_window_view(image, (4, 4), axis=(0, 1))  # (6, 4, 2, 4, 4)
        assert any(np.array_equal(windows[t, l].transpose(1, 2, 0), crop) for t in range(6) for l in range(4))


@pytest.fixture(scope="module")
def tiny_run():
    return c2_ensemble.train_crop_networks(c2_ensemble.ENSEMBLE_EXPERIMENT["grade"], seed=0)


def test_the_experiment_compares_four_ways_with_the_function_it_is_given(tiny_run):
    images, labels = tiny_run["test"]
    assert len(tiny_run["networks"]) == 2 and images.shape[1:] == (28, 28, 1)
    ours = c2_ensemble.compare_test_time_tricks(tiny_run)
    theirs = c2_ensemble.compare_test_time_tricks(tiny_run, predict=ensemble_predict)
    assert [(r["networks"], r["crops"], r["passes"]) for r in ours] == [(1, 1, 1), (1, 5, 5), (2, 1, 2), (2, 5, 10)]
    assert [r["error"] for r in ours] == [r["error"] for r in theirs]  # the course's twin and the graded reference

    def always_zero(predict_fns, images, crop_size=None, mirror=True):  # a student's function that ignores the nets
        return np.eye(10)[np.zeros(len(images), dtype=int)]

    errors = {r["error"] for r in c2_ensemble.compare_test_time_tricks(tiny_run, predict=always_zero)}
    assert errors == {float(np.mean(labels != 0))}


def test_the_course_ensemble_matches_ensemble_predict_on_trained_networks(tiny_run):
    images = tiny_run["test"][0][:7]
    fns = [c2_ensemble.predict_fn(net, batch_size=3) for net in tiny_run["networks"]]
    assert np.allclose(c2_ensemble.course_ensemble(fns, images, 24, mirror=False),
                       ensemble_predict(fns, images, 24, mirror=False), atol=1e-6)


def test_the_plot_draws_one_point_per_way(tiny_run):
    import matplotlib

    matplotlib.use("Agg")
    ax = c2_ensemble.plot_error_and_cost(c2_ensemble.compare_test_time_tricks(tiny_run))
    assert len(ax.lines) == 4 and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    with pytest.raises(ValueError, match="compare_test_time_tricks"):
        c2_ensemble.plot_error_and_cost({"way": "one"})


@pytest.mark.parametrize("change,text", [({"crop_size": 30}, "at most 28"), ({"n_networks": 0}, "n_networks"),
                                         ({"epochs": "2"}, "epochs"), ({"learning_rate": -1.0}, "learning_rate")])
def test_bad_settings_say_what_was_expected(change, text):
    settings = dict(c2_ensemble.ENSEMBLE_EXPERIMENT["grade"], **change)
    with pytest.raises(ValueError, match=text):
        c2_ensemble.train_crop_networks(settings)
    with pytest.raises(ValueError, match="missing"):
        c2_ensemble.train_crop_networks({"n_images": 200})
