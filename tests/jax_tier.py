"""The JAX tier's work, run in a subprocess by tests/test_jax_tier.py: `python tests/jax_tier.py PART`.

The subprocess starts with KERAS_BACKEND=jax and CNNCOURSE_MODE=grade, and with TensorFlow made unimportable
(`--no-tensorflow`, the default for the package parts), as on a GPU machine that has JAX and no TensorFlow.
Each part prints one line per item and exits non-zero on the first failure, with its traceback.

Parts:
    imports           every module of the package imports (TensorFlow blocked)
    trainings         one smoke run (grade settings) of every chapter's training, losses included
    bench NAME        `cnncourse bench NAME` at grade size
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
    """(name, function) pairs: each runs one chapter's training at grade size and returns a short summary."""
    from cnncourse.experiments import (c2_residual, c2_transfer, c3_detection, c3_landmarks, c3_localization,
                                       c3_sliding, c4_unet, c5_faces, c5_pairs, c6_style)

    def style():
        content, style_image = c6_style.load_pair(size=c6_style.NST_TRAINING["grade"]["size"])
        result = c6_style.run_style_transfer(content, style_image, c6_style.NST_TRAINING["grade"])
        return f"style cost {result['history']['style'][0]:.3g} -> {result['history']['style'][-1]:.3g}"

    return [
        ("c2 plain vs residual", lambda: c2_residual.plain_vs_residual(c2_residual.RESIDUAL_EXPERIMENT["grade"])),
        ("c2 transfer vs scratch", lambda: c2_transfer.transfer_vs_scratch(c2_transfer.TRANSFER_EXPERIMENT["grade"])),
        ("c3 localization", lambda: c3_localization.train_localizer(c3_localization.LOCALIZATION_TRAINING["grade"])),
        ("c3 landmarks", lambda: c3_landmarks.train_landmarks(c3_landmarks.LANDMARK_TRAINING["grade"])),
        ("c3 sliding windows", lambda: c3_sliding.train_window_classifier(c3_sliding.SLIDING_TRAINING["grade"])),
        ("c3 YOLO", lambda: c3_detection.train_yolo(c3_detection.DETECTION_TRAINING["grade"])),
        ("c4 U-Net", lambda: c4_unet.train_unet(c4_unet.UNET_TRAINING["grade"])),
        ("c5 triplet encoder", lambda: c5_faces.train_triplet_encoder(c5_faces.FACE_TRAINING["grade"])),
        ("c5 pair classifier", lambda: c5_pairs.train_pair_classifier(c5_pairs.PAIR_TRAINING["grade"])),
        ("c6 style transfer", style),
    ]


def _summary(result):
    """A one-line view of a training's result: its scalar figures."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        return ", ".join(f"{k}={v:.3g}" for k, v in result.items() if isinstance(v, (int, float))
                         and not isinstance(v, bool))[:200]
    return type(result).__name__


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
        from cnncourse.bench import run_benchmark

        run_benchmark(argv[1], repeats=int(argv[2]) if len(argv) > 2 else None)
    else:
        raise SystemExit(f"unknown part {part!r}; expected imports, trainings or bench NAME")
    assert "tensorflow" not in sys.modules, "TensorFlow was imported"
    return 0


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND") != "jax" or os.environ.get("CNNCOURSE_MODE") != "grade":
        raise SystemExit("run me with KERAS_BACKEND=jax CNNCOURSE_MODE=grade (tests/test_jax_tier.py does)")
    block_tensorflow()
    sys.exit(main(sys.argv[1:]))
