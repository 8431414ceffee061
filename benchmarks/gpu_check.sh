#!/usr/bin/env bash
# The GPU check in one command, for a machine with a GPU, nvcc and torch
# with CUDA (no TensorFlow needed): builds the CUDA core and its host build
# once, runs the smallest parity problems under compute-sanitizer's memcheck
# when it is installed, then benchmarks/gpu_check.py in full (parity with
# torch/cuDNN, the mask against the host build, determinism, the timing
# table). The output also goes to $OUT/gpu_check.txt when $OUT is set.
# Run: bash benchmarks/gpu_check.sh   (exit status 1 when a check fails)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"$python" custom_ops/gpu_build.py cuda "$build"
"$python" custom_ops/gpu_build.py host "$build"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
status=0
# compute-sanitizer ships beside nvcc in the toolkit.
sanitizer=$(command -v compute-sanitizer ||
  echo "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")/compute-sanitizer")
if [ -x "$sanitizer" ]; then
  timeout 300 "$sanitizer" --tool memcheck --error-exitcode 1 \
    "$python" benchmarks/gpu_check.py --quick --no-timing \
    --build-dir "$build" > "$out/sanitizer.txt" 2>&1 || status=$?
  tail -n 25 "$out/sanitizer.txt"
  echo "compute-sanitizer memcheck: exit status $status"
else
  echo "compute-sanitizer not found: memcheck skipped"
fi
"$python" benchmarks/gpu_check.py --build-dir "$build" 2>&1 |
  tee "$out/gpu_check.txt"
check=${PIPESTATUS[0]}
[ "$check" -eq 0 ] && [ "$status" -eq 0 ]
