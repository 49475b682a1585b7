"""The backend switches: supported backends, GPUs per backend, mixed precision on the CPU, bench figures as JSON.

The JAX backend itself runs in subprocesses in tests/test_jax_tier.py (system tier); these are the quick checks.
"""

import json
import math

import keras
import numpy as np
import pytest

from cnncourse import bench, cli, config, train
from cnncourse.models.c2_classic import lenet5


@pytest.mark.parametrize("value, expected", [("", "tensorflow"), ("tensorflow", "tensorflow"), ("jax", "jax")])
def test_supported_backends_pass(monkeypatch, value, expected):
    monkeypatch.setenv("KERAS_BACKEND", value)
    assert config.require_supported_backend() == expected


@pytest.mark.parametrize("value", ["torch", "numpy", "TensorFlow", "tf"])
def test_an_unsupported_backend_is_named_with_the_supported_ones(monkeypatch, value):
    monkeypatch.setenv("KERAS_BACKEND", value)
    with pytest.raises(ValueError, match=r"not a backend this course runs on.*tensorflow, jax"):
        config.require_supported_backend()
    with pytest.raises(ValueError, match="KERAS_BACKEND"):
        config.describe_mode()


def test_the_command_line_refuses_an_unsupported_backend(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert cli.main(["bench", "conv"]) == 2
    assert "KERAS_BACKEND='torch' is not a backend this course runs on" in capsys.readouterr().err


def test_a_cpu_has_no_accelerators_on_either_backend():
    assert config.accelerators("tensorflow") == []
    pytest.importorskip("jax")
    assert config.accelerators("jax") == []
    assert config.gpu_available() is False
    assert config.accelerators("not-a-backend") == []


def test_mixed_precision_policy_per_backend():
    assert train.mixed_precision_policy("jax") == "mixed_bfloat16"
    assert train.mixed_precision_policy("tensorflow") == "mixed_float16"
    assert train.use_mixed_precision_on_gpu() == "float32"  # no GPU here: the policy stays exact


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_like_float32_on_the_cpu(policy):
    """Same weights and batch: the first loss agrees with float32's to half precision, and 20 steps lower it."""
    rng = np.random.default_rng(3)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    keras.utils.set_random_seed(3)
    weights = lenet5().get_weights()
    losses = {}
    try:
        for name in ("float32", policy):
            keras.mixed_precision.set_dtype_policy(name)
            model = lenet5()
            model.set_weights(weights)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            losses[name] = [float(model.train_on_batch(x, y)) for _ in range(20)]
            assert model.layers[-1].variable_dtype == "float32"  # the weights stay float32
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    first, mixed = losses["float32"], losses[policy]
    assert all(math.isfinite(v) for v in mixed)
    assert mixed[0] == pytest.approx(first[0], rel=2e-2)
    assert mixed[-1] < 0.95 * mixed[0]
    assert mixed[-1] == pytest.approx(first[-1], rel=0.1)


def test_jsonable_turns_numpy_into_json():
    value = {"a": np.float32(1.5), 2: [np.int64(3), (np.bool_(True), None)], "nan": float("nan"),
             "small": np.arange(4).reshape(2, 2), "big": np.zeros((200, 60)), "model": object()}
    out = bench.jsonable(value)
    assert out == {"a": 1.5, "2": [3, [True, None]], "nan": None, "small": [[0, 1], [2, 3]],
                   "big": {"shape": [200, 60], "dtype": "float64"}, "model": "<object>"}
    json.dumps(out, allow_nan=False)


def fake_run(repeats=4):
    """A benchmark for the test below: returns numpy figures."""
    return {"repeats": repeats, "images_per_second": np.float64(123.5), "curve": np.linspace(0, 1, 3)}


def test_bench_json_holds_the_figures_and_what_made_them(monkeypatch, tmp_path):
    monkeypatch.setitem(bench.BENCHMARKS, "fake", ("test_backends:fake_run", "a test"))
    path = tmp_path / "out" / "fake.json"
    assert cli.main(["bench", "fake", "--repeats", "2", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["result"] == {"repeats": 2, "images_per_second": 123.5, "curve": [0.0, 0.5, 1.0]}
    assert report["bench"] == "fake" and report["keras_backend"] == keras.backend.backend()
    assert report["mode"] == config.mode() and report["accelerators"] == [] and report["seconds"] >= 0
