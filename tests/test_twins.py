"""The machinery's twins (cnncourse/ops/twins.py, cnncourse/models/twins.py) agree with the graded references.

The package's widgets, experiments and YOLO pipeline use the twins, so that they also run in the student edition,
whose graded bodies are stubs. These tests compare each twin with its reference on random cases, edges included,
so the two cannot drift apart; and a scan proves that no machinery module calls a graded function any more. The
grader guards each twin like its reference: a graded function that merely calls its own twin is caught.
"""

import ast
import importlib
import sys
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

from cnncourse.grading import import_hooks, tripwire
from cnncourse.grading.course import REPO
from cnncourse.grading.notebooks import references
from cnncourse.grading.student import graded_functions
from cnncourse.models import c2_classic, c2_inception, c3_landmarks, c3_localization, c4_unet, c5_faces, c5_verification
from cnncourse.models import twins as model_twins
from cnncourse.ops import c3_boxes, c4_transpose, conv, pool
from cnncourse.ops import twins

PACKAGE = Path(__file__).resolve().parent.parent / "cnncourse"
RNG_SEED = 7


def random_boxes(rng, n, size=20.0):
    corners = rng.uniform(0, size, (n, 2, 2))
    corners = np.round(corners * 2) / 2  # half-pixel grid: touching edges and identical boxes happen
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)


def test_window_count_and_transpose_size_match_the_formulas_everywhere():
    for n in range(1, 12):
        for f in range(1, 6):
            for pad in range(0, 3):
                for stride in range(1, 4):
                    if n + 2 * pad >= f:
                        assert twins.window_count(n, f, pad, stride) == conv.output_size(n, f, pad, stride)
                    if f > 2 * pad or (n - 1) * stride + f - 2 * pad >= 1:
                        try:
                            want = c4_transpose.transpose_output_size(n, f, stride, pad)
                        except ValueError:
                            continue
                        assert twins.transpose_size(n, f, stride, pad) == want


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (3, 2), (2, 3)])
def test_pool2d_matches_pool_forward(mode, f, stride):
    A = np.random.default_rng(RNG_SEED).normal(size=(2, 7, 8, 3))
    want, _ = pool.pool_forward(A, {"f": f, "stride": stride}, mode)
    np.testing.assert_allclose(twins.pool2d(A, f, stride, mode), want, rtol=1e-12)


def test_box_iou_matches_iou_including_touching_nested_and_empty_boxes():
    rng = np.random.default_rng(RNG_SEED)
    boxes = np.concatenate([random_boxes(rng, 60), [[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 2, 2], [2, 0, 4, 2]]])
    matrix = twins.iou_matrix(boxes, boxes)
    for i in range(len(boxes)):
        for j in range(len(boxes)):
            want = c3_boxes.iou(boxes[i], boxes[j])
            assert matrix[i, j] == pytest.approx(want, abs=1e-12)
            assert twins.box_iou(boxes[i], boxes[j]) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_greedy_nms_and_best_class_scores_match_the_graded_versions(threshold):
    rng = np.random.default_rng(RNG_SEED)
    for trial in range(20):
        n = int(rng.integers(0, 25))
        boxes = random_boxes(rng, n)
        scores = np.round(rng.random(n), 1)  # ties on purpose
        got = twins.greedy_nms(boxes, scores, threshold, max_boxes=int(rng.integers(0, 8)))
        want = c3_boxes.non_max_suppression(boxes, scores, threshold, max_boxes=len(got) if trial % 2 else 7)
        k = min(len(got), len(want))
        np.testing.assert_array_equal(got[:k], want[:k])
        confidence, probs = rng.random((n, 1)), rng.dirichlet(np.ones(3), size=n)
        for got_part, want_part in zip(twins.best_class_scores(confidence, boxes, probs, threshold),
                                       c3_boxes.filter_boxes(confidence, boxes, probs, threshold)):
            np.testing.assert_allclose(got_part, want_part)


def test_cell_of_box_and_anchor_match_match_encode_box_and_best_anchor():
    rng = np.random.default_rng(RNG_SEED)
    anchors = np.array([[1.0, 1.0], [2.0, 0.8], [0.8, 2.0], [1.0, 1.0]])  # a repeated anchor: the first wins
    boxes = np.concatenate([random_boxes(rng, 100, size=96.0), [[90, 90, 96, 96], [0, 0, 32, 32]]])
    for box in boxes:
        np.testing.assert_allclose(twins.cell_of_box(box, 3, 96.0), c3_boxes.encode_box(box, 3, 96.0), atol=1e-12)
        shape = np.array([0.0, 0.0, *(box[2:] - box[:2]) / 32])
        got, want = twins.anchor_match(shape, anchors), c3_boxes.best_anchor(shape, anchors)
        assert got[0] == want[0] and got[1] == pytest.approx(want[1])


def test_target_twins_match_the_graded_targets():
    rng = np.random.default_rng(RNG_SEED)
    points = rng.uniform(0, 48, (5, 2))
    np.testing.assert_allclose(model_twins.landmark_vector(points, (64, 48)), c3_landmarks.landmark_target(points, (64, 48)))
    for box in [None, np.array([3.0, 5.0, 40.0, 20.0])]:
        for label in (0, 2):
            np.testing.assert_allclose(model_twins.localization_vector(box, label, (64, 80), 3),
                                       c3_localization.localization_target(box, label, (64, 80), 3), rtol=1e-6)


def same_weights(source, target):
    """Copy source's weights into target, layer by layer, by name; returns the names copied."""
    copied = []
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
            copied.append(layer.name)
    return copied


@pytest.mark.parametrize("twin, reference, shape", [
    (lambda: model_twins.build_lenet5((28, 28, 1), 10), lambda: c2_classic.lenet5((28, 28, 1), 10), (2, 28, 28, 1)),
    (lambda: model_twins.build_alexnet((67, 67, 3), 7), lambda: c2_classic.alexnet((67, 67, 3), 7), (2, 67, 67, 3)),
    (lambda: model_twins.build_inception_block((8, 8, 12)), lambda: c2_inception.inception_block_model((8, 8, 12)),
     (2, 8, 8, 12)),
    (lambda: model_twins.build_unet((32, 32, 3), 4, 5, 2), lambda: c4_unet.unet_model((32, 32, 3), 4, 5, 2),
     (2, 32, 32, 3)),
    (lambda: model_twins.build_face_encoder(32, 16), lambda: c5_faces.face_encoder(32, 16), (3, 32, 32, 3)),
], ids=["lenet5", "alexnet", "inception", "unet", "face_encoder"])
def test_model_twins_compute_what_the_references_compute(twin, reference, shape):
    keras.utils.set_random_seed(RNG_SEED)
    ref, tw = reference(), twin()
    assert sorted(l.name for l in tw.layers if l.weights) == sorted(l.name for l in ref.layers if l.weights)
    assert tw.count_params() == ref.count_params()
    same_weights(ref, tw)
    x = np.random.default_rng(RNG_SEED).random(shape).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tw(x, training=False)),
                               keras.ops.convert_to_numpy(ref(x, training=False)), rtol=1e-4, atol=1e-5)


def test_pair_model_twin_computes_what_pair_classifier_computes():
    keras.utils.set_random_seed(RNG_SEED)
    encoder = model_twins.build_face_encoder(32, 8)
    ref, tw = c5_verification.pair_classifier(encoder), model_twins.build_pair_model(encoder)
    same_weights(ref, tw)
    a, b = np.random.default_rng(RNG_SEED).random((2, 3, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tw([a, b])), keras.ops.convert_to_numpy(ref([a, b])),
                               rtol=1e-5, atol=1e-6)


def test_lrn_twin_matches_the_reference_layer():
    x = np.random.default_rng(RNG_SEED).normal(size=(2, 3, 3, 7)).astype(np.float32) * 10
    for radius in (0, 1, 2, 5):
        kwargs = dict(depth_radius=radius, bias=1.5, alpha=0.01, beta=0.75)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model_twins.LocalResponseNorm(**kwargs)(x)),
                                   keras.ops.convert_to_numpy(c2_classic.LocalResponseNormalization(**kwargs)(x)),
                                   rtol=1e-5)


def test_triplet_twins_match_the_graded_loss_and_mining():
    rng = np.random.default_rng(RNG_SEED)
    for alpha in (0.0, 0.2, 1.0):
        a, p, n = rng.normal(size=(3, 6, 4))
        assert float(model_twins.mean_triplet_loss(a, p, n, alpha)) == pytest.approx(float(c5_faces.triplet_loss(a, p, n, alpha)), rel=1e-5)
        embeddings = rng.normal(size=(12, 3))
        labels = rng.integers(0, 4, 12)
        np.testing.assert_array_equal(model_twins.mine_triplets(embeddings, labels, alpha),
                                      c5_faces.semi_hard_triplets(embeddings, labels, alpha))
    assert model_twins.mine_triplets(rng.normal(size=(3, 2)), np.zeros(3, dtype=int)).shape == (0, 3)


MACHINERY = ("data", "experiments", "widgets", "analysis", "models", "ops", "checks")
# Uses that stay, each with its reason. In the student edition they stop with the stub's message, which names the
# exercise; no release notebook takes these paths.
ALLOWED = {
    # Builders and steps whose default is the graded function; no release notebook calls them without its own:
    # the benches (not in the student edition) build MobileNets and the Inception block from the package's blocks,
    # and run_style_transfer and style_mixer get step_fn=optimisation_step from every notebook cell.
    ("cnncourse.models.c2_mobile", "cnncourse.models.c2_mobile.depthwise_separable_block"),
    ("cnncourse.models.c2_mobile", "cnncourse.models.c2_mobile.inverted_residual_block"),
    ("cnncourse.models.c2_inception", "cnncourse.models.c2_inception.inception_module"),
    # googlenet's default module builder; c2_2 passes the student's (module=inception_module) to every call
    ("cnncourse.models.c2_googlenet", "cnncourse.models.c2_inception.inception_module"),
    ("cnncourse.ops.c6_step", "cnncourse.ops.c6_step.optimisation_step"),
    # run_style_transfer's default costs: every notebook cell passes the student's own (costs=my_costs).
    ("cnncourse.experiments.c6_style", "cnncourse.ops.c6_costs.content_cost"),
    ("cnncourse.experiments.c6_style", "cnncourse.ops.c6_costs.style_cost"),
    ("cnncourse.experiments.c6_style", "cnncourse.ops.c6_costs.total_cost"),
    # One mistake, one loss: hidden tests run a graded caller with the course's helpers swapped in, and a hint of
    # conv_forward's hidden check computes the stride-ignored answer with output_size. Hidden checks (and the private
    # helpers only they use) are not in the student edition; a hint whose formula meets a stub is skipped.
    ("cnncourse.checks.c1_convolution", "cnncourse.ops.conv.output_size"),
    ("cnncourse.checks.c6_style", "cnncourse.ops.c6_costs.gram_matrix"),
    ("cnncourse.checks.c6_style", "cnncourse.ops.c6_costs.layer_style_cost"),
    # resnet50's hidden check runs with the course's blocks; its public check tries them only after a failure, and
    # in the student edition (stubs) raises the student's failure as it was.
    ("cnncourse.checks.c2_resnet", "cnncourse.models.c2_resnet.identity_block"),
    ("cnncourse.checks.c2_resnet", "cnncourse.models.c2_resnet.convolutional_block"),
    # best_anchor's hidden test swaps in the course's iou; its public check tries it only after a failure, and a stub
    # that raises there leaves the first failure as it was.
    ("cnncourse.checks.c3_boxes", "cnncourse.ops.c3_boxes.iou"),
    # Chapter 4: conv_transpose_forward's and unet_model's hidden tests, and their public checks' note on where the
    # mistake starts (a stub in the student edition: the failure is then raised as it was).
    ("cnncourse.checks.c4_segmentation", "cnncourse.ops.c4_transpose.transpose_output_size"),
    ("cnncourse.checks.c4_unet", "cnncourse.models.c4_unet.conv_block"),
    ("cnncourse.checks.c4_unet", "cnncourse.models.c4_unet.upsampling_block"),
}


def graded_uses(path, module, graded):
    """Dotted names of graded functions that a module refers to outside the graded functions' own code.

    Follows `from M import f [as g]` then `g`, `import M [as m]` then `m.f`, and the module's own graded functions
    by name. Imports alone are not uses: a graded body may import what it needs.
    """
    tree = ast.parse(path.read_text())
    dotted = {f"{mod}.{name}" for name, mod in graded.items()}
    bound = {name: f"{module}.{name}" for name, mod in graded.items() if mod == module}  # local name -> graded
    modules = {}  # local name -> imported module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in dotted:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
    own = {name for name, mod in graded.items() if mod == module}
    uses = set()
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.ClassDef)) and top.name in own:
            continue
        for node in ast.walk(top):
            if isinstance(node, ast.Name) and node.id in bound:
                uses.add(bound[node.id])
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = f"{modules.get(node.value.id, '')}.{node.attr}"
                if target in dotted:
                    uses.add(target)
    return uses


def test_no_machinery_module_calls_a_graded_function():
    """Outside the graded functions and the checks, no package code calls a graded function (see ALLOWED)."""
    graded = graded_functions(PACKAGE)  # {name: dotted module}
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] not in MACHINERY:
            continue
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        problems += [f"{module} uses {use}" for use in sorted(graded_uses(path, module, graded))
                     if (module, use) not in ALLOWED]
    assert not problems, "machinery that would stop in the student edition:\n  " + "\n  ".join(problems)


def test_the_scan_finds_each_kind_of_use(tmp_path):
    """The scan above can fail: an import, a module attribute and a same-module call are each found."""
    graded = {"iou": "cnncourse.ops.c3_boxes", "inception_module": "pkg.m"}
    path = tmp_path / "m.py"
    path.write_text("from cnncourse.ops.c3_boxes import iou\nimport cnncourse.ops.c3_boxes as boxes\n"
                    "def inception_module(x):\n    return x\n"
                    "def block(x):\n    return inception_module(boxes.iou(x, x))\n")
    assert graded_uses(path, "pkg.m", graded) == {"cnncourse.ops.c3_boxes.iou", "pkg.m.inception_module"}
    path.write_text("from cnncourse.ops.twins import box_iou as iou\ndef f(iou):\n    return iou\n")
    assert graded_uses(path, "pkg.m", graded) == set()


@pytest.mark.parametrize("mirror", [True, False])
def test_crop_views_match_multi_crop(mirror):
    from cnncourse.ops.c2_multicrop import multi_crop

    rng = np.random.default_rng(3)
    for _ in range(20):
        m, n_H, n_W, n_C = (int(v) for v in rng.integers(1, 9, size=4))
        images = rng.standard_normal((m, n_H, n_W, n_C))
        crop = int(rng.integers(1, min(n_H, n_W) + 1))
        assert np.array_equal(twins.crop_views(images, crop, mirror), multi_crop(images, crop, mirror))


def test_transfer_twins_do_what_add_new_head_and_unfreeze_top_do():
    from cnncourse.checks import c2_transfer as checks
    from cnncourse.grading import evidence
    from cnncourse.models import c2_transfer

    ours, theirs = checks.make_backbone(depth=2, seed=1), checks.make_backbone(depth=2, seed=1)
    model, twin = c2_transfer.add_new_head(ours, 3), model_twins.frozen_with_head(theirs, 3)
    twin.get_layer("predictions").set_weights(model.get_layer("predictions").get_weights())
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 3)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(twin(x)), atol=1e-6)
    assert [w.path for w in model.trainable_weights] == [w.path for w in twin.trainable_weights]
    for n_layers in (0, 1, 3):
        assert c2_transfer.unfreeze_top(ours, n_layers) == model_twins.unfreeze_last(theirs, n_layers)
        assert evidence.trainable_flags(ours) == evidence.trainable_flags(theirs)


# --- the grader guards the twins like the references (grading/tripwire.py) -----------------------------------------

def _all_references():
    """The dotted references of every graded function of the source notebooks."""
    return {dotted for path in sorted((REPO / "source").glob("*/*.ipynb"))
            for _, _, dotted in references(nbformat.read(str(path), as_version=4))}


def test_every_twin_stands_in_for_a_graded_reference_of_the_notebooks():
    import importlib

    graded = _all_references()
    twins_found = tripwire.twins_of(graded)
    for module_name in tripwire.MIRROR_MODULES:
        for twin, reference in importlib.import_module(module_name).MIRRORS.items():
            assert reference in graded, (twin, reference)  # a renamed exercise must not leave its twin unguarded
            assert (f"{module_name}.{twin}", (reference,)) in twins_found
    for builder, stands_for in tripwire.LIBRARY_MIRRORS.items():  # Keras's own builders of what an exercise builds
        assert set(stands_for) <= graded and (builder, stands_for) in twins_found, builder
        module_name, _, name = builder.rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), name))
    assert len(twins_found) >= 29


def _notebook_function(name, body, **names):
    """A function called `name` compiled as a notebook cell is (ipykernel's file name), with `names` as globals."""
    namespace = dict(names)
    exec(compile(f"def {name}(*args):\n    {body}\n", "/tmp/ipykernel_4242/1234.py", "exec"), namespace)  # noqa: S102
    return namespace[name]


@pytest.fixture
def guarded():
    """tripwire.install, as a grading kernel calls it, undone after the test."""
    yield tripwire.install
    tripwire.uninstall()


def test_a_graded_function_that_calls_its_own_twin_is_caught_and_another_exercises_twin_is_not(guarded):
    installed, problems = guarded(["cnncourse.ops.conv.output_size", "cnncourse.ops.c3_boxes.iou"])
    assert not problems and {"cnncourse.ops.twins.window_count", "cnncourse.ops.twins.box_iou"} <= set(installed)
    own = _notebook_function("output_size", "return window_count(*args)", window_count=twins.window_count)
    with pytest.raises(tripwire.ReferenceCallError, match="the course's own version of output_size, cnncourse.ops.tw"):
        own(6, 3, 0, 1)
    other = _notebook_function("non_max_suppression", "return iou(*args)", iou=twins.box_iou)  # as c3_3 does
    assert other([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert twins.window_count(6, 3, 0, 1) == 4  # the package's own calls are not affected


def _package_function(*args):
    """Stands for any code of the package between a notebook's function and a twin (a widget, an experiment)."""
    return twins.window_count(*args)


def test_a_graded_function_that_reaches_its_twin_through_other_code_is_caught(guarded):
    """Through a helper of the notebook's own or a function of the package: the exercise reaches its twin all the
    same, and no construct of its text gives that away (the code scan cannot see it); the helper alone is free."""
    guarded(["cnncourse.ops.conv.output_size"])
    helper = _notebook_function("_fast", "return window_count(*args)", window_count=twins.window_count)
    for middle, name in ((helper, "_fast"), (_package_function, "_package_function")):
        laundered = _notebook_function("output_size", "return middle(*args)", middle=middle)
        with pytest.raises(tripwire.ReferenceCallError, match=f"output_size calls the course's own version of "
                                                              f"output_size, .* \\(through {name}\\)"):
            laundered(6, 3, 0, 1)
    assert helper(6, 3, 0, 1) == 4 and _package_function(6, 3, 0, 1) == 4  # no exercise on the stack: allowed


def test_kerass_own_builder_of_an_exercise_is_caught_under_every_name_it_has(guarded):
    from keras.src.applications import resnet

    original = keras.applications.ResNet50
    guarded(["cnncourse.models.c2_resnet.resnet50", "cnncourse.models.c2_resnet.identity_block"])
    assert keras.applications.ResNet50 is resnet.ResNet50 is keras.applications.resnet50.ResNet50 is not original
    for name, call in (("resnet50", "keras.applications.ResNet50(weights=None)"),
                       ("identity_block", "residual_block_v1(*args)")):
        notebook = _notebook_function(name, f"return {call}", keras=keras, residual_block_v1=resnet.residual_block_v1)
        with pytest.raises(tripwire.ReferenceCallError, match=f"Keras's own version of .*{name}"):
            notebook()
    tripwire.uninstall()
    assert keras.applications.ResNet50 is original and resnet.ResNet50 is original


def test_notebook_code_calling_the_checks_own_code_is_caught_and_the_checks_still_work(guarded):
    """The checks' oracles hold answers too: a notebook's call of any checks function but a check or a notebook helper
    raises, from a graded function or a cell's top level; the checks themselves, and the package, call them freely."""
    from cnncourse.checks import c1_convnet, c6_style

    guarded(["cnncourse.ops.c6_style.layer_style_cost"])
    oracle = c6_style.oracle_layer_style_cost
    assert getattr(oracle, "__cnncourse_reference__", "") == "cnncourse.checks.c6_style.oracle_layer_style_cost"
    copied = _notebook_function("layer_style_cost", "return oracle_layer_style_cost(*args)",
                                oracle_layer_style_cost=oracle)
    with pytest.raises(tripwire.ReferenceCallError, match="layer_style_cost calls the checks' own code cnncourse.che"):
        copied(np.ones((1, 2, 2, 3), np.float32), np.zeros((1, 2, 2, 3), np.float32))
    namespace = {"checks": c6_style}
    with pytest.raises(tripwire.ReferenceCallError, match="a notebook cell calls the checks' own code"):
        exec(compile("checks._check_style_cost(None, [], [], 0)", "/tmp/ipykernel_4242/99.py", "exec"), namespace)  # noqa: S102
    table = _notebook_function("show", "return describe_model(*args)", describe_model=c1_convnet.describe_model)
    assert table(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))  # a notebook helper stays callable
    c6_style.public_layer_style_cost(_notebook_function(  # the checks call their own (guarded) helpers freely
        "layer_style_cost", "return cost(*args)", cost=oracle.__wrapped__))
    tripwire.uninstall()
    assert not hasattr(c6_style.oracle_layer_style_cost, "__cnncourse_reference__")


def test_a_checks_module_imported_after_the_guard_is_guarded_too(guarded):
    import cnncourse.checks as package

    name = "cnncourse.checks.c4_segmentation"
    before = sys.modules.pop(name, None)
    seen = []  # another of the kernel's hooks on checks modules, as the recorder's (evidence.install) is
    try:
        import_hooks.on_checks_import(seen.append)
        guarded([])
        fresh = importlib.import_module(name)
        assert fresh is not before and fresh in seen  # both hooks acted on it, not only the first one registered
        assert getattr(fresh._tf_transpose, "__cnncourse_reference__", "") == f"{name}._tf_transpose"
        assert not hasattr(fresh.public_conv_transpose_forward, "__cnncourse_reference__")  # the checks stay as they are
    finally:
        import_hooks.remove(seen.append)
        tripwire.uninstall()
        if before is not None:
            sys.modules[name] = before
            package.c4_segmentation = before
