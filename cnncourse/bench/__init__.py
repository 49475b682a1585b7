"""`cnncourse bench NAME`: measurements of speed and quality, printed as a table.

Benchmarks are measurements, not tests: they print figures for the notes; they assert nothing.
"""

import importlib
import json
import math
import platform
import time
from pathlib import Path

BENCHMARKS = {
    "conv": ("cnncourse.bench.conv", "loop vs vectorized numpy vs the backend's conv on 16x32x32x16, 32 3x3 filters"),
    "mnist": ("cnncourse.bench.mnist", "Chapter 1 ConvNet: held-out accuracy and training throughput (mode-aware)"),
    "lenet": ("cnncourse.bench.lenet", "Chapter 2 LeNet-5: held-out accuracy and training throughput (mode-aware)"),
    "nets": ("cnncourse.bench.nets", "Chapter 2 networks: parameters and multiplications next to keras.applications, "
                                     "training images/s (--repeats timed steps)"),
    "residual": ("cnncourse.bench.residual", "Chapter 2 plain vs residual networks of several depths, --repeats seeds"),
    "transfer": ("cnncourse.bench.transfer", "Chapter 2 transfer learning vs training from scratch, --repeats seeds"),
    "ensemble": ("cnncourse.bench.ensemble", "Chapter 2 multi-crop and ensembling at test time: held-out error and "
                                             "time per image, --repeats seeds"),
    "detection": ("cnncourse.bench.detection", "Chapter 3 small YOLO, pretrained backbone: mAP@0.3/0.5/0.7 per class held out, training time"),
    "unet": ("cnncourse.bench.unet", "Chapter 4 U-Net: mean IoU per class on held-out scenes, training images/s"),
    "faces": ("cnncourse.bench.faces", "Chapter 5 triplet-loss encoder: verification accuracy and AUC on held-out "
                                       "people, training images/s"),
    "nst": ("cnncourse.bench.nst", "Chapter 6 neural style transfer: seconds per step, style cost drop (>= 10x)"),
    "grade": ("cnncourse.bench.grade", "cnncourse grade (parallel, sandboxed) against sequential nbgrader autograde "
                                       "on --repeats Chapter 1 submissions (default 40)"),
    "grade-dask": ("cnncourse.bench.grade_dask", "cnncourse grade on the local pool against Dask (LocalCluster), 2 "
                                                 "workers each, on --repeats Chapter 1 submissions (default 40)"),
    "grade-chapters": ("cnncourse.bench.grade_dask:run_chapters", "seconds per submission of every chapter on one "
                                                                  "Dask worker (--repeats each, default 2), and the "
                                                                  "time for 1,000 students on N machines"),
}


def run_benchmark(name, repeats=None):
    """Run the benchmark `name` (a key of BENCHMARKS) and return its result; repeats None: the benchmark's default."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; expected one of: "
                         + ", ".join(f"{k} ({v[1]})" for k, v in BENCHMARKS.items()))
    module, _, function = BENCHMARKS[name][0].partition(":")
    run = getattr(importlib.import_module(module), function or "run")
    return run() if repeats is None else run(repeats=repeats)


def jsonable(value):
    """`value` with numpy scalars and small arrays as plain numbers and lists, for json.dump.

    Dicts, lists and tuples are converted item by item (keys become str); arrays of up to 10,000 numbers become
    nested lists, larger ones {"shape": [...], "dtype": "..."}; NaN and infinities become None (JSON has neither);
    objects that are no data (a trained model, a figure) become "<TypeName>".
    """
    import numpy as np

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.size <= 10_000 else {"shape": list(value.shape),
                                                                      "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return f"<{type(value).__name__}>"


def write_json(path, name, result, seconds):
    """Write one bench's figures to `path` as JSON, with what ran it; return the written dict.

    Args:
        path: file to write (its folder is created).
        name: the benchmark's name; result: what its run() returned; seconds: its wall time.
    Returns:
        dict {"bench", "seconds", "keras_backend", "mode", "python", "machine", "accelerators", "result"}.
    """
    import keras

    from cnncourse import config

    report = {"bench": name, "seconds": seconds, "keras_backend": keras.backend.backend(), "mode": config.mode(),
              "python": platform.python_version(), "machine": platform.machine(),
              "accelerators": config.accelerators(), "result": jsonable(result)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def run_and_report(name, repeats=None, json_path=None):
    """run_benchmark(name, repeats), then write_json(json_path, ...) when json_path is given; return the result."""
    start = time.perf_counter()
    result = run_benchmark(name, repeats)
    if json_path is not None:
        write_json(json_path, name, result, time.perf_counter() - start)
    return result
