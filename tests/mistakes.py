"""Typical mistakes, one per entry, used by tests/test_roundtrip_chapters.py.

Each Mistake is a text substitution in a solution cell of a chapter's source notebook (after the build has
rendered the reference cells from the package). Graded as a submission, the mistake must lose exactly the
points of the grade cells in `loses` (score 0 there) while every other grade cell of the chapter keeps full
marks. `old` must occur exactly once in the cell, so that an entry which no longer matches the notebook fails
loudly instead of testing nothing. `message`, when given, must appear in the error output of every cell in
`loses` (the check says what went wrong, by name).

Example:
    Mistake("c1_convolution", "c1_1_convolution_numpy", "zero_pad",
            old="(pad, pad), (pad, pad)", new="(0, 0), (pad, pad)", loses={"zero_pad_tests"}, message="zero_pad")

One mistake, one loss (issue 26): the hidden test of a graded caller runs it with the course's versions of the graded
helpers it calls (cnncourse.checks.core.reference_helpers), so the zero_pad mistake above fails only zero_pad's
hidden test. The callers' PUBLIC checks run the student's own chain; when it fails only because of a helper (it
passes with the course's helpers in place), they print the failure with a note naming the helper, and pass. So the
example loses zero_pad_tests alone. tests/test_mistakes_direct_c1.py proves it without nbgrader, the round trip
under nbgrader.
"""

import inspect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mistake:
    chapter: str  # e.g. "c1_convolution"
    notebook: str  # e.g. "c1_1_convolution_numpy" (".ipynb" optional)
    cell_grade_id: str  # grade_id of the solution cell to edit
    old: str  # text in that cell, exactly once
    new: str  # what replaces it
    loses: frozenset = field(default_factory=frozenset)  # grade_ids that must score 0
    message: str = ""  # optional: text the output of each lost (or partly lost) cell must contain
    keeps: tuple = ()  # (grade_id, points) of cells with partial credit that must score exactly those points

    def __post_init__(self):
        object.__setattr__(self, "loses", frozenset(self.loses))
        object.__setattr__(self, "keeps", tuple(sorted(dict(self.keeps).items())))
        object.__setattr__(self, "notebook", self.notebook.removesuffix(".ipynb"))
        if not self.loses and not self.keeps:
            raise ValueError(f"{self.label}: `loses` is empty; a mistake must lose some grade cell's points")

    @property
    def expected(self):
        """{grade_id: score} of the grade cells this mistake changes (0 for `loses`, the points of `keeps`)."""
        return {**{gid: 0.0 for gid in self.loses}, **{gid: float(points) for gid, points in self.keeps}}

    def namespace(self, functions, base=None):
        """The notebook's graded functions defined from the course's source, this mistake applied, in one namespace.

        functions: {name: the package module holding its reference}; base: names the notebook also has (imports).
        Returns the namespace dict, as a notebook's globals would hold it.
        """
        namespace = dict(base or {})
        for module in set(functions.values()):
            namespace.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
        for name, module in functions.items():
            source = inspect.getsource(getattr(module, name))
            if name == self.cell_grade_id:
                assert source.count(self.old) == 1, f"{self.label}: `old` is not in {module.__name__}.{name} once"
                source = source.replace(self.old, self.new)
            exec(compile(source, f"<{self.notebook}: {name}>", "exec"), namespace)  # noqa: S102 - the course's source
        return namespace

    @property
    def label(self):
        return f"{self.chapter}/{self.notebook}:{self.cell_grade_id}"

    def apply(self, nb):
        """Return nothing; edit `nb` (a source notebook) in place. Raises ValueError if `old` is not there once."""
        cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == self.cell_grade_id]
        if len(cells) != 1:
            raise ValueError(f"{self.label}: {len(cells)} cells have grade_id {self.cell_grade_id!r}")
        (cell,) = cells
        if not cell.metadata["nbgrader"].get("solution"):
            raise ValueError(f"{self.label}: cell {self.cell_grade_id!r} is not a solution cell")
        count = cell.source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.label}: {self.old!r} occurs {count} times in the cell, expected exactly once")
        cell.source = cell.source.replace(self.old, self.new)


# Typical mistakes per chapter. Each one must cost the points of its own function and of no other (see the module's
# docstring for a mistake in a graded helper).
# Chapter 1's entries are checked without nbgrader by tests/test_mistakes_direct_c1.py.
_C1_NUMPY = ("c1_convolution", "c1_1_convolution_numpy")
MISTAKES = [
    # only the height padded: zero_pad alone loses; conv_forward and conv_backward call it and keep their points
    Mistake(*_C1_NUMPY, "zero_pad", old="(pad, pad), (pad, pad)", new="(pad, pad), (0, 0)",
            loses={"zero_pad_tests"}, message="zero_pad"),
    # stride ignored along the height: only stride-1 cases stay right
    Mistake(*_C1_NUMPY, "conv_forward", old="vert_start = h * stride", new="vert_start = h",
            loses={"conv_forward_tests"}, message="stride 2"),
    # max taken where the average was asked for
    Mistake(*_C1_NUMPY, "pool_forward", old="A[i, h, w, c] = np.mean(a_slice)", new="A[i, h, w, c] = np.max(a_slice)",
            loses={"pool_forward_tests"}, message="average"),
    # gradients of overlapping windows overwritten instead of added (only shows when stride < f)
    Mistake(*_C1_NUMPY, "pool_backward", old="c] += mask * dA[i, h, w, c]", new="c] = mask * dA[i, h, w, c]",
            loses={"pool_backward_tests"}, message="numerical gradient"),
    # db overwritten instead of added up: dA_prev and dW stay right, so conv_backward keeps 2 of its 3 points
    Mistake(*_C1_NUMPY, "conv_backward", old="db[:, :, :, c] += dZ[i, h, w, c]", new="db[:, :, :, c] = dZ[i, h, w, c]",
            keeps={"conv_backward_tests": 2}, message="part db: FAILED"),
    # the dense layer's biases forgotten
    Mistake(*_C1_NUMPY, "conv_vs_dense_parameters", old="dense = n_in * n_out + n_out", new="dense = n_in * n_out",
            loses={"conv_vs_dense_parameters_tests"}, message="dense"),
    # "valid" padding where the architecture table says "same": every later shape is off
    Mistake("c1_convolution", "c1_2_convnet_keras", "convnet_sequential",
            old='padding="same", name="conv1"', new='padding="valid", name="conv1"',
            loses={"convnet_sequential_tests"}, message="layer 1"),
]

# Chapter 2: one per notebook (four in c2_3), each local to its function
_C2 = "c2_classic_nets"
MISTAKES += [
    # block 4 copied from block 3: 256 filters where VGG-16 has 512
    Mistake(_C2, "c2_1_classic_networks", "vgg16", old="(256, 3), (512, 3), (512, 3)", new="(256, 3), (256, 3), (512, 3)",
            loses={"vgg16_tests"}, message="block4_conv1"),
    # the 1x1 convolution without its non-linearity
    Mistake(_C2, "c2_2_resnet_inception", "conv1x1_forward", old="return np.maximum(Z, 0) if relu else Z",
            new="return Z", loses={"conv1x1_forward_tests"}, message="relu"),
    # 1/f instead of 1/f**2 in the cost ratio of a separable convolution
    Mistake(_C2, "c2_3_mobilenet_efficientnet", "separable_cost_ratio", old="1.0 / f ** 2", new="1.0 / f",
            loses={"separable_cost_ratio_tests"}, message="separable_cost_ratio"),
    # RandomFlip's default mode: images turned upside down too (a second submission of c2_3)
    Mistake(_C2, "c2_3_mobilenet_efficientnet", "data_augmenter", old='layers.RandomFlip("horizontal")',
            new="layers.RandomFlip()", loses={"data_augmenter_tests"}, message="flip up-down"),
    # the backbone left trainable: the whole pretrained network trains with the new head; unfreeze_top keeps its points
    Mistake(_C2, "c2_3_mobilenet_efficientnet", "add_new_head",
            old="backbone.trainable = False  # every layer of the backbone, and the backbone itself",
            new="pass  # (not frozen)", loses={"add_new_head_tests"}, message="freeze it"),
    # the mirrors of the 10-crop upside down; ensemble_predict, which calls multi_crop, keeps its points (a third
    # submission of c2_3)
    Mistake(_C2, "c2_3_mobilenet_efficientnet", "multi_crop", old="crop[:, :, ::-1, :] for crop in crops",
            new="crop[:, ::-1, :, :] for crop in crops", loses={"multi_crop_tests"}, message="upside down"),
]

# Chapter 3: one per notebook, each local to its function
_C3 = "c3_detection"
MISTAKES += [
    # the pc mask forgotten: don't-care entries of background images enter the loss
    Mistake(_C3, "c3_1_localization_sliding", "localization_loss",
            old="squared[:, 0] + has_object * ops.sum(", new="squared[:, 0] + ops.sum(",
            loses={"localization_loss_tests"}, message="pc == 0"),
    # intersection height not clipped at 0: boxes side by side in y get a negative "intersection"
    Mistake(_C3, "c3_2_boxes_anchors", "iou",
            old="inter_h = max(0.0, min(box1[3], box2[3]) - max(box1[1], box2[1]))",
            new="inter_h = min(box1[3], box2[3]) - max(box1[1], box2[1])",
            loses={"iou_tests"}, message="overlap only in x"),
    # boxes visited in input order instead of best score first
    Mistake(_C3, "c3_3_yolo", "non_max_suppression",
            old='order = list(np.argsort(-scores, kind="stable"))', new="order = list(range(len(scores)))",
            loses={"non_max_suppression_tests"}, message="tf.image.non_max_suppression"),
]

# Chapter 4: two per notebook (two submissions)
_C4 = "c4_unet"
MISTAKES += [
    # overlapping placements overwrite each other instead of adding up
    Mistake(_C4, "c4_1_transpose_convolution", "conv_transpose_forward",
            old="horiz_start:horiz_end, :] += scaled", new="horiz_start:horiz_end, :] = scaled",
            loses={"conv_transpose_forward_tests"}, message="ADD their numbers"),
    # IoU divided by the true pixels of the class instead of the union
    Mistake(_C4, "c4_2_unet", "mean_iou",
            old="union = counts.sum(axis=1) + counts.sum(axis=0) - intersection", new="union = counts.sum(axis=1)",
            loses={"mean_iou_tests"}, message="divide by the union"),
    # pad cropped from one side only. conv_transpose_forward calls it: its public check says where the mistake
    # starts and passes, its hidden test runs with the course's size (one mistake, one loss)
    Mistake(_C4, "c4_1_transpose_convolution", "transpose_output_size",
            old="return (n_prev - 1) * stride + f - 2 * pad", new="return (n_prev - 1) * stride + f - pad",
            loses={"transpose_output_size_tests"}, message="BOTH sides"),
    # the second convolution of the contracting block without its ReLU. unet_model calls conv_block: it keeps its
    # points (its public check blames conv_block, its hidden test runs with the course's blocks)
    Mistake(_C4, "c4_2_unet", "conv_block",
            old='activation="relu", kernel_initializer="he_normal",\n                         name=f"{name}_conv2")',
            new='activation=None, kernel_initializer="he_normal",\n                         name=f"{name}_conv2")',
            loses={"conv_block_tests"}, message="no ReLU"),
]

# Chapter 5: one per notebook
_C5 = "c5_face_recognition"
MISTAKES += [
    # the hinge forgotten: satisfied triplets give negative losses that reward pushing them further apart
    Mistake(_C5, "c5_1_triplet_loss", "triplet_loss",
            old="ops.mean(ops.maximum(positive_distance - negative_distance + alpha, 0.0))",
            new="ops.mean(positive_distance - negative_distance + alpha)",
            loses={"triplet_loss_tests"}, message="the hinge"),
    # the closest person returned even when nobody is close enough
    Mistake(_C5, "c5_2_verification", "who_is_it",
            old="if min_distance >= threshold:\n        identity = None\n", new="",
            loses={"who_is_it_tests"}, message="who_is_it"),
]

# Chapter 6: one notebook, so each mistake is its own submission
_C6 = ("c6_style_transfer", "c6_1_neural_style_transfer")
MISTAKES += [
    # unrolled straight to (n_C, n_H * n_W): right shape, channels and positions mixed. style_cost calls it: its
    # hidden test runs with the course's layer_style_cost (checks/core.py reference_helpers), and its public check, which runs the
    # student's own chain, notes that the mistake is in layer_style_cost and passes: one mistake, one loss.
    Mistake(*_C6, "layer_style_cost",
            old="S = ops.transpose(ops.reshape(a_S, (n_H * n_W, n_C)))\n    G = ops.transpose(ops.reshape(a_G, (n_H * n_W, n_C)))",
            new="S = ops.reshape(a_S, (n_C, n_H * n_W))\n    G = ops.reshape(a_G, (n_C, n_H * n_W))",
            loses={"layer_style_cost_tests"}, message="layer_style_cost"),
    # the Gram matrix averaged over the positions instead of summed. Costs gram_matrix only: the callers' public
    # checks find that the mistake starts there, and their hidden tests use the course's gram_matrix. (A^T A, the
    # other classic, is tested directly in test_mistakes_direct_c5_c6.py: graded whole, its (n_H n_W)^2 matrices
    # in the notebook's style-transfer run can exhaust the grading kernel's memory, and the kernel dies.)
    Mistake(*_C6, "gram_matrix", old="ops.matmul(A, ops.transpose(A))",
            new="ops.matmul(A, ops.transpose(A)) / ops.cast(ops.shape(A)[1], A.dtype)",
            loses={"gram_matrix_tests"}, message="gram_matrix"),
    # pixels left outside [0, 1] after the step
    Mistake(*_C6, "optimisation_step", old="    generated.assign(ops.clip(generated, 0.0, 1.0))\n", new="",
            loses={"optimisation_step_tests"}, message="clip to [0, 1]"),
]
