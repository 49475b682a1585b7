"""Chapter 3's YOLO network, head, loss and prediction pipeline (cnncourse.models.c3_yolo), and its training run."""

import keras
import numpy as np
import pytest
from keras import ops

from cnncourse.data.scenes import make_scenes
from cnncourse.experiments.c3_detection import (DETECTION_TRAINING, IOU_THRESHOLDS, fit_with_frozen_backbone,
                                                scene_targets, train_yolo)
from cnncourse.models.c3_yolo import (ANCHORS, CELL, backbone_classifier, backbone_layer_names, candidate_boxes,
                                      copy_backbone, predict_boxes, predicted_head, yolo_head, yolo_loss, yolo_model)
from cnncourse.ops.c3_map import mean_average_precision


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_model_output_shape_and_head_at_zero():
    model = yolo_model(96, 3, 3)
    assert model.output.shape[1:] == (12, 12, 3, 8) and 96 // CELL == 12
    head = numpy(yolo_head(ops.zeros((1, 12, 12, 3, 8))))
    np.testing.assert_allclose(head[..., :3], 0.5)
    np.testing.assert_allclose(head[0, 2, 4, :, 3:5], ANCHORS)  # exp(0) times the anchors
    np.testing.assert_allclose(head[..., 5:], 1 / 3, rtol=1e-6)


def test_the_coarse_features_are_upsampled_and_joined_with_stage_4_on_the_output_grid():
    model = yolo_model(96, 3, 3)
    assert model.get_layer("leaky6").output.shape[1:] == (6, 6, 128)  # after the fourth pool
    assert model.get_layer("leaky4").output.shape[1:] == (12, 12, 128)  # stage 4 before its pool
    assert model.get_layer("upsample").output.shape[1:] == (12, 12, 128)
    assert model.get_layer("with_passthrough").output.shape[1:] == (12, 12, 128 + 64)
    coarse = keras.Model(model.inputs, [model.get_layer("leaky6").output, model.get_layer("upsample").output])
    low, high = coarse.predict(np.random.default_rng(0).random((1, 96, 96, 3)).astype(np.float32), verbose=0)
    np.testing.assert_array_equal(high, np.repeat(np.repeat(low, 2, axis=1), 2, axis=2))  # each pixel repeated 2x2


def loop_loss(y_true, raw, lambda_coord=5.0, lambda_noobj=0.5):
    """The YOLO loss by loops over examples, cells and anchors, from the formulas of yolo_loss's docstring."""
    sigmoid = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    total = 0.0
    for b in range(raw.shape[0]):
        for i, j, a in np.ndindex(raw.shape[1:4]):
            t, y = raw[b, i, j, a], y_true[b, i, j, a]
            pc = sigmoid(t[0])
            if y[0] == 1:
                bx, by = sigmoid(t[1]), sigmoid(t[2])
                bh, bw = ANCHORS[a] * np.exp(t[3:5])
                probs = np.exp(t[5:]) / np.exp(t[5:]).sum()
                total += -np.log(pc) + lambda_coord * ((bx - y[1]) ** 2 + (by - y[2]) ** 2 + (np.sqrt(bh) - np.sqrt(y[3])) ** 2
                                                      + (np.sqrt(bw) - np.sqrt(y[4])) ** 2) - np.log(probs[np.argmax(y[5:])])
            else:
                total += -lambda_noobj * np.log(1 - pc)
    return total / raw.shape[0]


def test_loss_matches_a_loop_over_cells_and_anchors():
    scenes = make_scenes(3, seed=1)
    targets, _ = scene_targets(scenes)
    raw = np.random.default_rng(0).normal(0, 0.5, targets.shape).astype(np.float32)
    got = float(numpy(yolo_loss()(targets, ops.convert_to_tensor(raw))))
    assert got == pytest.approx(loop_loss(targets.astype(np.float64), raw.astype(np.float64)), rel=1e-4)


class PerfectModel:
    """Stands in for a network: returns the raw outputs whose head equals the given targets (near enough)."""

    def __init__(self, targets):
        logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))  # noqa: E731
        raw = np.zeros_like(targets)
        raw[..., 0] = np.where(targets[..., 0] == 1, 12.0, -12.0)
        raw[..., 1:3] = logit(targets[..., 1:3])
        sizes = np.where(targets[..., 3:5] > 0, targets[..., 3:5], ANCHORS)
        raw[..., 3:5] = np.log(sizes / ANCHORS)
        raw[..., 5:] = np.where(targets[..., 5:] == 1, 12.0, 0.0)
        self.raw = raw

    def predict(self, images, verbose=0):
        return self.raw[: len(images)]


def test_pipeline_gives_back_the_true_boxes_from_perfect_outputs():
    from cnncourse.ops.c3_yolo import yolo_targets

    scenes = make_scenes(20, seed=2)
    targets, _ = scene_targets(scenes)
    truths = []  # the objects a YOLO target can hold: every object but the reported conflicts
    for boxes, labels in zip(scenes["boxes"], scenes["labels"]):
        _, conflicts = yolo_targets(boxes, labels, 96 // CELL, ANCHORS, 96, 3)
        keep = np.setdiff1d(np.arange(len(boxes)), [c[0] for c in conflicts])
        truths.append({"boxes": boxes[keep], "labels": labels[keep]})
    predictions = predict_boxes(PerfectModel(targets), scenes["images"])
    value, per_class = mean_average_precision(predictions, truths, 3)
    assert value == pytest.approx(1.0) and per_class == pytest.approx([1.0, 1.0, 1.0])
    assert [len(p["boxes"]) for p in predictions] == [len(t["boxes"]) for t in truths]


class TwoViewModel:
    """Stands in for a network with given raw outputs for an image and for its mirror, told apart by a marker: the
    image's top-left pixel is 1 (its mirror has the 1 at the top right)."""

    def __init__(self, raw_image, raw_mirror):
        self.raw_image, self.raw_mirror = raw_image, raw_mirror

    def predict(self, images, verbose=0):
        images = np.asarray(images)
        is_image, is_mirror = images[:, 0, 0, 0] == 1, images[:, 0, -1, 0] == 1
        assert np.all(is_image ^ is_mirror), "neither the image nor its left-right mirror"
        return np.where(is_image[:, None, None, None, None], self.raw_image, self.raw_mirror)


def test_mirrored_prediction_is_brought_back_and_averaged_in_pixels():
    rng = np.random.default_rng(3)
    size, grid = 96, 96 // CELL
    images = np.zeros((1, size, size, 3), np.float32)
    images[0, 0, 0, 0] = 1
    raw_image, raw_mirror = (rng.normal(0, 1, (1, grid, grid, 3, 8)).astype(np.float32) for _ in range(2))
    sigmoid = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    softmax = lambda t: np.exp(t) / np.exp(t).sum()  # noqa: E731
    row, col, anchor = 3, 2, 1
    mirror_col = grid - 1 - col  # the same object, seen in the mirror, sits in the mirrored column
    t, m = raw_image[0, row, col, anchor].astype(np.float64), raw_mirror[0, row, mirror_col, anchor].astype(np.float64)
    # each view's box in pixels, the mirror's x brought back as size - x
    x_image, x_mirror = (col + sigmoid(t[1])) * CELL, size - (mirror_col + sigmoid(m[1])) * CELL
    y_image, y_mirror = (row + sigmoid(t[2])) * CELL, (row + sigmoid(m[2])) * CELL
    h = (ANCHORS[anchor, 0] * (np.exp(t[3]) + np.exp(m[3]))) / 2 * CELL
    w = (ANCHORS[anchor, 1] * (np.exp(t[4]) + np.exp(m[4]))) / 2 * CELL
    x, y = (x_image + x_mirror) / 2, (y_image + y_mirror) / 2
    pc = (sigmoid(t[0]) + sigmoid(m[0])) / 2
    probs = (softmax(t[5:]) + softmax(m[5:])) / 2
    got = candidate_boxes(TwoViewModel(raw_image, raw_mirror), images, flip=True)[0]
    index = (row * grid + col) * 3 + anchor
    np.testing.assert_allclose(got["boxes"][index], [x - w / 2, y - h / 2, x + w / 2, y + h / 2], rtol=1e-5)
    assert got["scores"][index] == pytest.approx(pc * probs.max(), rel=1e-5)
    assert got["labels"][index] == np.argmax(probs)
    plain = candidate_boxes(TwoViewModel(raw_image, raw_mirror), images)[0]  # flip=False: the image's view only
    np.testing.assert_allclose(plain["boxes"][index][[0, 2]], [x_image - ANCHORS[anchor, 1] * np.exp(t[4]) * CELL / 2,
                                                               x_image + ANCHORS[anchor, 1] * np.exp(t[4]) * CELL / 2],
                               rtol=1e-5)


def seen_in_the_mirror(head):
    """What a head (N, S, S, A, 5 + n) says about the mirrored scene: columns reversed, bx -> 1 - bx."""
    mirrored = head[:, :, ::-1].copy()
    mirrored[..., 1] = 1 - mirrored[..., 1]
    return mirrored


def test_mirrored_averaging_sees_a_mirrored_scene_as_the_mirror_of_the_scene():
    model = yolo_model(96, 3, 3)  # untrained, so not symmetric itself: only the averaging makes it so
    images = np.random.default_rng(4).random((2, 96, 96, 3)).astype(np.float32)
    mirrors = np.ascontiguousarray(images[:, :, ::-1])
    np.testing.assert_allclose(predicted_head(model, mirrors, flip=True),
                               seen_in_the_mirror(predicted_head(model, images, flip=True)), atol=1e-6)
    # without the averaging, the symmetry is absent
    assert not np.allclose(predicted_head(model, mirrors), seen_in_the_mirror(predicted_head(model, images)), atol=1e-3)
    with pytest.raises(ValueError, match="flip must be True or False"):
        predicted_head(model, images, flip="yes")


def test_training_runs_in_grade_mode_and_reports_its_figures():
    result = train_yolo(DETECTION_TRAINING["grade"], seed=0)
    assert len(result["history"]) == 1 and np.isfinite(result["history"][0])
    assert 0 <= result["map"] <= 1 and len(result["per_class"]) == 3 and result["images_per_second"] > 0
    assert sorted(result["maps"]) == sorted(IOU_THRESHOLDS) and result["maps"][0.5] == (result["map"], result["per_class"])
    # a looser IoU threshold can only match more detections
    assert result["maps"][0.3][0] >= result["maps"][0.5][0] >= result["maps"][0.7][0]
    assert sorted(result["maps_flipped"]) == sorted(IOU_THRESHOLDS)
    assert result["maps_flipped"][0.3][0] >= result["maps_flipped"][0.5][0] >= result["maps_flipped"][0.7][0]
    pretraining = result["pretraining"]
    assert pretraining["class_names"] == ["background", "digit", "square", "disc"] and pretraining["crops"] > 64
    assert 0 <= pretraining["accuracy"] <= 1 and "model" not in pretraining


def test_training_without_pretraining_skips_it():
    result = train_yolo({**DETECTION_TRAINING["grade"], "pretrain_epochs": 0}, seed=0)
    assert result["pretraining"] is None and np.isfinite(result["history"][0])


def stage4(model):
    """The model up to its fourth stage's activation (before the pool), the passthrough's input."""
    return keras.Model(model.inputs, model.get_layer("leaky4").output)


def test_copied_backbone_computes_what_the_classifier_computed():
    classifier = backbone_classifier(48, 4)
    # move the batch-norm statistics and the weights away from their initial values, so a copy is visible
    for layer in classifier.layers:
        layer.set_weights([w + np.random.default_rng(len(layer.name)).normal(0, 0.1, w.shape).astype(w.dtype) ** 2
                           for w in layer.get_weights()])
    detector = yolo_model(48, 3, 3)  # the crops' size, so both networks take the same images
    assert copy_backbone(classifier, detector) == backbone_layer_names()
    images = np.random.default_rng(1).random((2, 48, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(stage4(detector).predict(images, verbose=0),
                               stage4(classifier).predict(images, verbose=0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(stage4(yolo_model(48, 3, 3)).predict(images, verbose=0),
                           stage4(detector).predict(images, verbose=0), atol=1e-3)


def test_copy_backbone_names_a_missing_or_misshapen_layer():
    with pytest.raises(ValueError, match="conv1"):
        copy_backbone(backbone_classifier(48, 4), keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)]))
    other = keras.Model(*(lambda i: (i, keras.layers.Conv2D(8, 3, name="conv1")(i)))(keras.Input((16, 16, 3))))
    with pytest.raises(ValueError, match="shapes"):
        copy_backbone(other, backbone_classifier(48, 4))


def test_the_frozen_phase_trains_the_head_and_leaves_the_backbone_alone():
    scenes = make_scenes(8, size=96, seed=2)
    targets, _ = scene_targets(scenes)
    model = yolo_model(96, 3, 3)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers if layer.weights}
    settings = {"freeze_epochs": 1, "batch_size": 4, "learning_rate": 1e-2}
    assert fit_with_frozen_backbone(model, scenes["images"], targets, settings) > 0
    backbone = set(backbone_layer_names())
    for name, weights in before.items():
        unchanged = all(np.array_equal(w, v) for w, v in zip(weights, model.get_layer(name).get_weights()))
        assert unchanged == (name in backbone), name
    assert all(layer.trainable for layer in model.layers)  # unfrozen for the next phase
    assert fit_with_frozen_backbone(model, scenes["images"], targets, {**settings, "freeze_epochs": 0}) == 0.0


@pytest.mark.parametrize("kwargs, words", [({"image_size": 100}, "multiple of 16"), ({"n_classes": 0}, "n_classes")])
def test_bad_arguments_raise_clear_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        yolo_model(**kwargs)
