"""The JAX tier's work, run in a subprocess by tests/test_jax_tier.py: `python tests/jax_tier.py PART`.

The subprocess starts with KERAS_BACKEND=jax and CNNCOURSE_MODE=grade, and with TensorFlow made unimportable
(`--no-tensorflow`, the default for the package parts), as on a GPU machine that has JAX and no TensorFlow.
Each part prints one line per item and exits non-zero on the first failure, with its traceback.

Parts:
    imports           every module of the package imports (TensorFlow blocked)
    trainings         one smoke run (grade settings) of each chapter's training that no bench runs
    bench NAME[:N] .. `cnncourse bench NAME` at grade size (N timed repeats where given), each of the NAMEs in turn,
                      in this one process (a process each would start JAX and the package again, 4 s a time); one
                      line per bench, "bench NAME: ok in X s" or its traceback, and a non-zero exit if any failed
    twins IN OUT      the JAX twins of the package's two custom gradient steps on the inputs in IN.npz (see
                      twin_problem); their results go to OUT.npz, to be compared with TensorFlow's
"""

import importlib
import os
import pkgutil
import sys
import time


class _NoTensorFlow:
    """A meta-path finder that refuses tensorflow, as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: the JAX tier runs without TensorFlow)",
                                      name=name)
        return None


def block_tensorflow():
    """Make `import tensorflow` fail in this process, and fail if it was imported already."""
    assert "tensorflow" not in sys.modules, "tensorflow was imported before it could be blocked"
    sys.meta_path.insert(0, _NoTensorFlow())


def import_everything():
    """Import every module of cnncourse; return their names."""
    import cnncourse

    names = []
    for info in pkgutil.walk_packages(cnncourse.__path__, "cnncourse."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def _trainings():
    """(name, function) pairs: one smoke run (grade settings) of each chapter's training that no bench runs.

    The benches cover the others (mnist, lenet, residual, transfer, detection, unet, faces, nst): see
    test_jax_tier.BENCHES, run by the same tier.
    """
    from cnncourse.experiments import c3_landmarks, c3_localization, c3_sliding, c5_pairs

    return [
        ("c3 localization", lambda: c3_localization.train_localizer(c3_localization.LOCALIZATION_TRAINING["grade"])),
        ("c3 landmarks", lambda: c3_landmarks.train_landmarks(c3_landmarks.LANDMARK_TRAINING["grade"])),
        ("c3 sliding windows", lambda: c3_sliding.train_window_classifier(c3_sliding.SLIDING_TRAINING["grade"])),
        ("c5 pair classifier", lambda: c5_pairs.train_pair_classifier(c5_pairs.PAIR_TRAINING["grade"])),
    ]


def twin_problem(inputs):
    """The two problems that test_jax_tier compares across backends, built from the arrays of `inputs`.

    Args:
        inputs: dict of arrays: "weights_0" ... (a face encoder's weights, as get_weights() lists them), "images"
            float32 (n, 32, 32, 3), "labels" int (n,), "pixels" float32 (1, 6, 5, 3), "target" float32 (1, 6, 5, 3).
    Returns:
        (encoder, images, labels, pixels, cost_fn): the encoder (build_face_encoder(32, 16)) holding those weights,
        and a cost of the pixels, J = sum((tanh(3 pixels) - target)^2), with J_content = J / 2, J_style = 2 J.
    """
    import keras
    import numpy as np

    from cnncourse.models.twins import build_face_encoder

    encoder = build_face_encoder(32, 16)
    encoder.set_weights([inputs[f"weights_{k}"] for k in range(len(encoder.get_weights()))])
    target = keras.ops.convert_to_tensor(inputs["target"])

    def cost_fn(image):
        J = keras.ops.sum(keras.ops.square(keras.ops.tanh(3.0 * image) - target))
        return J, 0.5 * J, 2.0 * J

    return encoder, inputs["images"], np.asarray(inputs["labels"]), inputs["pixels"], cost_fn


def twin_steps(inputs, triplet_step, pixel_steps):
    """Run one triplet step (SGD 0.5) and two pixel steps of each kind (Adam 0.05) on twin_problem(inputs).

    Args:
        inputs: as for twin_problem.
        triplet_step: cnncourse.train.triplet_gradient_step (it picks the backend's version).
        pixel_steps: {name: function(generated, cost_fn, optimizer) -> no-argument step}.
    Returns:
        dict of numpy arrays: "triplet_loss", "triplet_count", "weights_0" ... after the step, and per pixel step
        name "<name>_pixels" after two steps and "<name>_costs" (2, 3) returned by them.
    """
    import keras
    import numpy as np

    from cnncourse.models.twins import mean_triplet_loss, mine_triplets

    encoder, images, labels, pixels, cost_fn = twin_problem(inputs)
    step = triplet_step(encoder, keras.optimizers.SGD(0.5), lambda e, y: mine_triplets(e, y, 0.2),
                        lambda a, p, n: mean_triplet_loss(a, p, n, 0.2))
    loss, count = step(images, labels)
    out = {"triplet_loss": np.float64(keras.ops.convert_to_numpy(loss)), "triplet_count": np.int64(count)}
    out.update({f"weights_{k}": w for k, w in enumerate(encoder.get_weights())})
    for name, make in pixel_steps.items():
        generated = keras.Variable(pixels)
        run = make(generated, cost_fn, keras.optimizers.Adam(0.05))
        costs = [[float(keras.ops.convert_to_numpy(c)) for c in run()] for _ in range(2)]
        out[f"{name}_pixels"] = np.asarray(keras.ops.convert_to_numpy(generated))
        out[f"{name}_costs"] = np.asarray(costs)
    return out


def _summary(result):
    """A one-line view of a training's result: its scalar figures."""
    if isinstance(result, dict):
        return ", ".join(f"{k}={v:.3g}" for k, v in result.items() if isinstance(v, (int, float))
                         and not isinstance(v, bool))[:200]
    return type(result).__name__


def _bench(spec):
    """Run `cnncourse bench` NAME of spec "NAME" or "NAME:REPEATS"; print one line; return None when it ran,
    else the traceback (str)."""
    import traceback

    import keras

    from cnncourse.bench import run_benchmark

    name, _, repeats = spec.partition(":")
    start = time.perf_counter()
    try:
        run_benchmark(name, repeats=int(repeats) if repeats else None)
    except Exception:  # noqa: BLE001  (every bench is run and reported; the exit status says one failed)
        print(f"bench {name}: FAILED", flush=True)
        return traceback.format_exc()
    finally:
        keras.backend.clear_session()
    print(f"bench {name}: ok in {time.perf_counter() - start:.1f} s", flush=True)
    return None


def main(argv):
    """Run the part named in argv; return the exit status."""
    import keras

    assert keras.backend.backend() == "jax", f"KERAS_BACKEND must be jax, Keras runs on {keras.backend.backend()}"
    part = argv[0]
    if part == "imports":
        names = import_everything()
        print(f"imported {len(names)} modules without TensorFlow")
    elif part == "trainings":
        for name, run in _trainings():
            start = time.perf_counter()
            summary = _summary(run())
            print(f"{name}: {time.perf_counter() - start:.1f} s; {summary}", flush=True)
    elif part == "bench":
        failures = [(spec, error) for spec in argv[1:] for error in [_bench(spec)] if error]
        for spec, error in failures:  # at the end, where the test's report of the output's tail shows them
            print(f"bench {spec} failed:\n{error}")
        if failures:
            return 1
    elif part == "twins":
        import numpy as np

        from cnncourse.ops.c6_step import jax_compiled_step, jax_optimisation_step
        from cnncourse.train import triplet_gradient_step

        steps = {"eager": lambda g, c, o: (lambda: jax_optimisation_step(g, c, o)), "compiled": jax_compiled_step}
        np.savez(argv[2], **twin_steps(dict(np.load(argv[1])), triplet_gradient_step, steps))
        print(f"wrote {argv[2]}")
    else:
        raise SystemExit(f"unknown part {part!r}; expected imports, trainings, bench NAME or twins IN OUT")
    assert "tensorflow" not in sys.modules, "TensorFlow was imported"
    return 0


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND") != "jax" or os.environ.get("CNNCOURSE_MODE") != "grade":
        raise SystemExit("run me with KERAS_BACKEND=jax CNNCOURSE_MODE=grade (tests/test_jax_tier.py does)")
    block_tensorflow()
    sys.exit(main(sys.argv[1:]))
