"""`cnncourse bench NAME`: measurements of speed and quality, printed as a table.

Benchmarks are measurements, not tests: they print figures for the notes; they assert nothing.
"""

import importlib

BENCHMARKS = {
    "conv": ("cnncourse.bench.conv", "loop vs vectorized numpy vs tf.nn.conv2d on 16x32x32x16, 32 3x3 filters"),
    "mnist": ("cnncourse.bench.mnist", "Chapter 1 ConvNet: held-out accuracy and training throughput (mode-aware)"),
    "lenet": ("cnncourse.bench.lenet", "Chapter 2 LeNet-5: held-out accuracy and training throughput (mode-aware)"),
    "nets": ("cnncourse.bench.nets", "Chapter 2 networks: parameters and multiplications next to keras.applications, "
                                     "training images/s (--repeats timed steps)"),
    "residual": ("cnncourse.bench.residual", "Chapter 2 plain vs residual network of the same depth, --repeats seeds"),
    "transfer": ("cnncourse.bench.transfer", "Chapter 2 transfer learning vs training from scratch, --repeats seeds"),
    "detection": ("cnncourse.bench.detection", "Chapter 3 small YOLO: mAP@0.5 on held-out scenes, training images/s"),
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
