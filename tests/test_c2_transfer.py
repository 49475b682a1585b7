"""Chapter 2's graded transfer learning: add_new_head and unfreeze_top against their checks, and the judge, which
must reach the kernel's verdict outside the kernel although both functions change the backbone they are handed (its
trainable flags travel as an effect of the call, grading/evidence.py). Their twins are tested in tests/test_twins.py."""

import keras
import numpy as np
import pytest

import test_mistake_corpus_c2 as corpus
from corpus_harness import judged
from cnncourse.checks import c2_transfer as checks
from cnncourse.models import c2_transfer


@pytest.mark.parametrize("kind", ["public", "hidden"])
@pytest.mark.parametrize("name", ["add_new_head", "unfreeze_top"])
def test_the_references_pass_their_checks(kind, name):
    getattr(checks, f"{kind}_{name}")(getattr(c2_transfer, name))


def test_fine_tuning_trains_exactly_the_unfrozen_layers():
    backbone = checks.make_backbone(depth=2, seed=2)
    model = c2_transfer.add_new_head(backbone, 2)
    names = c2_transfer.unfreeze_top(backbone, 2)
    before = {w.path: keras.ops.convert_to_numpy(w).copy() for w in model.weights}
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    model.fit(rng.uniform(size=(16, 8, 8, 3)).astype("float32"), rng.integers(0, 2, 16), epochs=1, verbose=0)
    changed = {w.path.split("/")[-2] for w in model.weights
               if not np.allclose(before[w.path], keras.ops.convert_to_numpy(w))}
    assert changed == set(names) | {"predictions"}  # the batch normalization statistics stay too


ROWS = [(name, fn) for name in ("add_new_head", "unfreeze_top")
        for fn in [getattr(c2_transfer, name), *corpus.ALTERNATIVES[name], *corpus.MISTAKES[name]]]


@pytest.mark.parametrize("name,fn", ROWS, ids=[f"{n}-{getattr(f, '__name__', f)}" for n, f in ROWS])
def test_the_judge_reaches_the_kernels_verdict(tmp_path, name, fn):
    kernel_error, verdict = judged(tmp_path, checks, name, fn)
    assert verdict.score == (2.0 if kernel_error is None else 0.0), (kernel_error, verdict.message)
    assert kernel_error is not None or not verdict.record_problem, verdict.message  # a wrong type fails either way
    assert (kernel_error is None) == (fn in corpus.ALTERNATIVES[name] or fn is getattr(c2_transfer, name))


def test_the_experiment_runs_the_functions_it_is_given():
    from cnncourse.experiments.c2_transfer import TRANSFER_EXPERIMENT, transfer_vs_scratch

    calls = []

    def new_head(backbone, n_classes):
        calls.append(("new_head", n_classes))
        return c2_transfer.add_new_head(backbone, n_classes)

    def unfreeze(backbone, n_layers):
        calls.append(("unfreeze", n_layers))
        return c2_transfer.unfreeze_top(backbone, n_layers)

    result = transfer_vs_scratch(TRANSFER_EXPERIMENT["grade"], seed=0, new_head=new_head, unfreeze=unfreeze)
    assert calls == [("new_head", 5), ("unfreeze", TRANSFER_EXPERIMENT["grade"]["finetune_layers"])]
    assert result["unfrozen"] == ["conv3", "features"]
