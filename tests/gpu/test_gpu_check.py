"""benchmarks/gpu_check.py's own logic, without a GPU: torch's fake tensors
stand for the CUDA core's results (on "cuda") against the host build's (on
the CPU), the comparison the GPU run makes and --host cannot show."""

import os
import subprocess
import sys

import pytest

from paths import ROOT

torch = pytest.importorskip("torch")
from torch._subclasses.fake_tensor import FakeTensorMode  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import gpu_check  # noqa: E402


def test_fake_tensors_model_the_two_device_error():
    """The fake tensors refuse what a GPU refuses: the check below can
    fail."""
    with FakeTensorMode():
        on_gpu = torch.empty(3, 4, device="cuda")
        on_cpu = torch.empty(3, 4)
        with pytest.raises(RuntimeError, match="device"):
            (on_gpu.double() - on_cpu.double()).abs().max()


@pytest.mark.parametrize("got_device,want_device",
                         [("cuda", "cpu"), ("cpu", "cuda"),
                          ("cuda", "cuda")])
def test_relative_error_compares_on_one_device(got_device, want_device):
    with FakeTensorMode():
        got = torch.empty(3, 4, device=got_device)
        want = torch.empty(3, 4, device=want_device, dtype=torch.float64)
        error = gpu_check.relative_error(got, want)
    assert error.device.type == "cpu" and error.dim() == 0
    assert error.dtype == torch.float64


def test_worst_errors_on_real_tensors():
    want = (torch.tensor([[1.0, -4.0]]), None, torch.tensor([2.0]),
            torch.tensor([0.5, 0.5]))
    got = (torch.tensor([[1.0, -3.0]]), torch.ones(1), torch.tensor([2.0]),
           torch.tensor([0.5, float("nan")]))
    forward, gradient = gpu_check.worst_errors(got, want)
    assert forward == pytest.approx(0.25)  # |-3 - -4| / 4; h_n has no ref
    assert gradient == float("inf")  # an unwritten (NaN) gradient


def test_core_only_and_host_flags_parse():
    """The flags gpu_check.sh passes exist (a GPU run would die on a
    renamed one)."""
    result = subprocess.run([sys.executable, os.path.join(
        ROOT, "benchmarks", "gpu_check.py"), "--help"],
        capture_output=True, text=True, check=True)
    for flag in ("--core-only", "--build-dir", "--host"):
        assert flag in result.stdout
    script = open(os.path.join(ROOT, "benchmarks", "gpu_check.sh")).read()
    assert "--core-only --build-dir" in script
    assert "PYTORCH_NO_CUDA_MEMORY_CACHING=1" in script


STUB_PYTHON = """#!/bin/sh
case "$*" in
  *"gpu_build.py sanitizer"*)
    [ -n "$STUB_SANITIZER" ] && echo "$STUB_SANITIZER" && exit 0
    echo "compute-sanitizer not found" >&2; exit 1;;
  *gpu_build.py*) exit 0;;
  *--core-only*) exit 0;;
  *gpu_check.py*) echo "ok   one"; [ -z "$STUB_FAIL" ] && exit 0
    echo "FAIL parity two"; exit 1;;
esac
"""
SANITIZERS = {
    "refused": 'echo "Device not supported"; echo "error 999"; exit 1',
    "slow": "sleep 5",
    "finds an error": 'echo "Invalid __global__ write"; exit 1',
    "passes": 'shift 4; "$@"',  # --tool memcheck --error-exitcode 1
}


@pytest.mark.parametrize("sanitizer,fail,status,memcheck", [
    (None, False, 0, "unavailable: compute-sanitizer not found"),
    (None, True, 1, "unavailable: compute-sanitizer not found"),
    ("refused", False, 0, "unavailable: compute-sanitizer refused"),
    ("slow", False, 0, "timed out after 1 s (not a failure)"),
    ("finds an error", False, 1, "FAILED (exit status 1"),
    ("passes", True, 1, "passed"),
])
def test_gpu_check_sh_summarises_whatever_fails(tmp_path, sanitizer, fail,
                                                status, memcheck):
    """gpu_check.sh on stubs of python and compute-sanitizer: the summary
    comes whatever fails, and only a failed check or a memcheck error
    fails the run (a missing, refusing or slow sanitizer does not)."""
    python = tmp_path / "python"
    python.write_text(STUB_PYTHON)
    python.chmod(0o755)
    env = dict(os.environ, PYTHON=str(python), OUT=str(tmp_path),
               MEMCHECK_LIMIT_S="1", STUB_FAIL="1" if fail else "")
    if sanitizer:
        stub = tmp_path / "compute-sanitizer"
        stub.write_text("#!/bin/sh\n" + SANITIZERS[sanitizer] + "\n")
        stub.chmod(0o755)
        env["STUB_SANITIZER"] = str(stub)
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu_check.sh")],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == status, result.stdout + result.stderr
    summary = result.stdout[result.stdout.index("SUMMARY"):]
    assert memcheck in summary
    assert ("FAIL parity two" in summary) == fail
