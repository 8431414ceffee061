#!/usr/bin/env bash
# The GPU check in one command, for a machine with a GPU, nvcc and torch
# with CUDA (no TensorFlow needed), under 8 minutes on an H100:
#   1. builds the CUDA core and its host build once;
#   2. memcheck: compute-sanitizer over the core's own checks (against the
#      host build, determinism; no cuDNN, no timing), with torch's caching
#      allocator off so that an overrun meets unallocated memory rather
#      than a neighbouring tensor; its own time limit, reported as a
#      timeout, not as a failure; a sanitizer that is missing or refuses
#      the device is reported as memcheck unavailable;
#   3. benchmarks/gpu_check.py in full (parity with torch/cuDNN, the mask
#      and options against the host build, determinism, the timing table).
# A summary is printed whatever fails. The output also goes to $OUT when
# it is set. Run: bash benchmarks/gpu_check.sh
# Exit status: 0 when every check passed, 1 when a check or memcheck found
# an error, 2 when the build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
memcheck_limit=${MEMCHECK_LIMIT_S:-240}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

if ! { "$python" custom_ops/gpu_build.py cuda "$build" &&
       "$python" custom_ops/gpu_build.py host "$build"; }; then
  echo "SUMMARY: the CUDA core did not build"
  exit 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv ||
  echo "nvidia-smi failed"

memcheck="unavailable"
memcheck_failed=0
if sanitizer=$("$python" custom_ops/gpu_build.py sanitizer); then
  PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout "$memcheck_limit" \
    "$sanitizer" --tool memcheck --error-exitcode 1 \
    "$python" benchmarks/gpu_check.py --core-only --build-dir "$build" \
    > "$out/sanitizer.txt" 2>&1
  rc=$?
  tail -n 25 "$out/sanitizer.txt"
  if [ "$rc" -eq 0 ]; then
    memcheck="passed"
  elif [ "$rc" -eq 124 ]; then
    memcheck="timed out after ${memcheck_limit} s (not a failure)"
  elif grep -q -e "Device not supported" -e "error 999" \
       -e "unknown error" "$out/sanitizer.txt"; then
    memcheck="unavailable: compute-sanitizer refused this device"
  else
    memcheck="FAILED (exit status $rc, see $out/sanitizer.txt)"
    memcheck_failed=1
  fi
else
  echo "!!! compute-sanitizer NOT FOUND: memcheck is skipped !!!"
  memcheck="unavailable: compute-sanitizer not found"
fi

"$python" benchmarks/gpu_check.py --build-dir "$build" 2>&1 |
  tee "$out/gpu_check.txt"
check=${PIPESTATUS[0]}

echo
echo "SUMMARY"
echo "  memcheck:   $memcheck"
if [ "$check" -eq 0 ]; then
  echo "  gpu_check:  all checks passed"
else
  echo "  gpu_check:  FAILED (exit status $check):"
  grep '^FAIL' "$out/gpu_check.txt" | sed 's/^/    /'
fi
[ "$check" -eq 0 ] && [ "$memcheck_failed" -eq 0 ]
