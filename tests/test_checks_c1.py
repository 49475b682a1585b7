"""The Chapter 1 checks pass the package's reference functions and catch typical mistakes."""

import numpy as np
import pytest

from cnncourse.checks import CheckFailed
from cnncourse.checks import c1_convolution as checks
from cnncourse.ops import conv, counting, pool

REFERENCES = {
    "output_size": conv.output_size,
    "zero_pad": conv.zero_pad,
    "conv_single_step": conv.conv_single_step,
    "conv_forward": conv.conv_forward,
    "conv_backward": conv.conv_backward,
    "pool_forward": pool.pool_forward,
    "create_mask_from_window": pool.create_mask_from_window,
    "distribute_value": pool.distribute_value,
    "pool_backward": pool.pool_backward,
    "conv_vs_dense_parameters": counting.conv_vs_dense_parameters,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(REFERENCES[name])


def conv_forward_ignoring_stride(A_prev, W, b, hparams):
    return conv.conv_forward(A_prev, W, b, {"stride": 1, "pad": hparams["pad"]})


def conv_forward_without_bias(A_prev, W, b, hparams):
    return conv.conv_forward(A_prev, W, np.zeros_like(b), hparams)


def zero_pad_all_axes(X, pad):
    return np.pad(X, pad)


def output_size_without_plus_one(n, f, pad, stride):
    return (n + 2 * pad - f) // stride


def conv_backward_forgetting_padding(dZ, cache):
    A_prev, W, b, hparams = cache
    if hparams["pad"] == 0:
        return conv.conv_backward(dZ, cache)
    dA, dW, db = conv.conv_backward(dZ, cache)
    return dA * 0.5, dW, db


def pool_forward_max_only(A_prev, hparams, mode="max"):
    return pool.pool_forward(A_prev, hparams, "max")


def pool_backward_assigning(dA, cache, mode="max"):
    """Writes (=) instead of adding (+=): wrong when windows overlap."""
    A_prev, hparams = cache
    return checks._pool_backward_numpy(A_prev, dA, hparams["f"], hparams["stride"], mode, accumulate=False)


def dense_count_without_bias(n_H, n_W, n_C_prev, f, n_C, stride=1, pad=0):
    got = counting.conv_vs_dense_parameters(n_H, n_W, n_C_prev, f, n_C, stride, pad)
    n_out = conv.output_size(n_H, f, pad, stride) * conv.output_size(n_W, f, pad, stride) * n_C
    return {"conv": got["conv"], "dense": got["dense"] - n_out}


MISTAKES = [
    ("conv_forward", conv_forward_ignoring_stride, "stride"),
    ("conv_forward", conv_forward_without_bias, "Z"),
    ("zero_pad", zero_pad_all_axes, "shape"),
    ("output_size", output_size_without_plus_one, "+ 1"),
    ("conv_backward", conv_backward_forgetting_padding, "dA_prev"),
    ("pool_forward", pool_forward_max_only, "average"),
    ("pool_backward", pool_backward_assigning, "dA_prev"),
    ("conv_vs_dense_parameters", dense_count_without_bias, "dense"),
]


@pytest.mark.parametrize("name,wrong,word", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_catch_the_mistake(name, wrong, word, kind):
    with pytest.raises(CheckFailed) as info:
        getattr(checks, f"{kind}_{name}")(wrong)
    if kind == "public":  # public messages must point at the mistake
        assert word in str(info.value), str(info.value)


def test_message_names_expected_got_and_case():
    with pytest.raises(CheckFailed) as info:
        checks.public_conv_forward(conv_forward_without_bias)
    text = str(info.value)
    assert "expected" in text and "got" in text and "stride" in text and "index" in text


def test_partial_credit_gives_each_right_gradient_its_point(capsys):
    """conv_backward's grade cell: a wrong db costs 1 of 3 points; all wrong raises; a crash costs only its part."""
    from cnncourse.checks.core import CheckFailed, PartialCredit
    from cnncourse.ops.conv import conv_backward

    def wrong_db(dZ, cache):
        dA, dW, db = conv_backward(dZ, cache)
        return dA, dW, db * 2

    credit = PartialCredit("conv_backward", {"dA_prev": 1, "dW": 1, "db": 1})
    for part in credit:
        credit.run(part, checks.public_conv_backward, wrong_db, grads=(part,))
    assert credit.total() == 2.0
    assert "part db: FAILED, 0 of 1 point(s)" in capsys.readouterr().out

    def broken(dZ, cache):
        raise TypeError("unpack")

    credit = PartialCredit("conv_backward", {"dA_prev": 1, "dW": 1, "db": 1})
    for part in credit:
        credit.run(part, checks.public_conv_backward, broken, grads=(part,))
    with pytest.raises(CheckFailed, match="every part failed, 0 of 3 points"):
        credit.total()
    with pytest.raises(ValueError, match="points"):
        PartialCredit("f", {"a": 0})
