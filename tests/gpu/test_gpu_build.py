"""custom_ops/gpu_build.py's choice of toolkit, on fake toolkits: an nvcc
of the wanted CUDA major version ahead of PATH's, nvcc behind a wrapper
script, pip's wheel layouts (nvidia/cu13, nvidia/cuda_runtime), and
compute-sanitizer beside the real nvcc."""

import os
import sys

import pytest

from paths import ROOT

sys.path.insert(0, os.path.join(ROOT, "custom_ops"))
import gpu_build  # noqa: E402

FAKE_NVCC = """#!/bin/sh
case "$1" in
  --version) echo "Cuda compilation tools, release {version}, V{version}.1";;
  --dryrun) echo "#$ _HERE_={here}" >&2;;
esac
"""


def executable(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return str(path)


def fake_toolkit(root, version, runtime="lib64"):
    """root/bin/nvcc reporting `version`, its static runtime in
    root/<runtime>/."""
    bin_dir = os.path.join(root, "bin")
    nvcc = executable(os.path.join(bin_dir, "nvcc"),
                      FAKE_NVCC.format(version=version, here=bin_dir))
    if runtime:
        executable(os.path.join(root, runtime, "libcudart_static.a"), "")
    return nvcc


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real toolkit in sight: an empty PATH entry, no CUDA_HOME, and
    sys.path without the real site-packages' nvidia wheels."""
    for name in ("TFRNN_NVCC", "CUDA_HOME", "CUDA_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site")])
    monkeypatch.setattr(gpu_build, "SYSTEM_CUDA", str(tmp_path / "none"))
    return tmp_path


def test_the_wanted_major_version_wins_over_path(isolated, monkeypatch):
    cuda13 = fake_toolkit(isolated / "cuda-13", "13.0")
    cuda12 = fake_toolkit(isolated / "cuda-12", "12.4")
    # CUDA 13 first on PATH: a CUDA 12 build looks further.
    monkeypatch.setenv("PATH", os.pathsep.join(
        [os.path.dirname(cuda13), os.path.dirname(cuda12)]))
    assert gpu_build.find_nvcc(12) == cuda12
    monkeypatch.setenv("TFRNN_NVCC", cuda12)
    assert gpu_build.find_nvcc(12) == cuda12
    assert gpu_build.find_nvcc(13) is None  # TFRNN_NVCC alone is tried
    monkeypatch.delenv("TFRNN_NVCC")
    assert gpu_build.find_nvcc(13) == cuda13
    assert gpu_build.find_nvcc() == cuda13
    monkeypatch.setenv("PATH", os.path.dirname(cuda13))
    assert gpu_build.find_nvcc(12) is None
    assert gpu_build.nvcc_version(cuda12) == (12, 4)


def test_a_wrapper_script_leads_to_the_real_toolkit(isolated, monkeypatch):
    real = fake_toolkit(isolated / "cuda-13.0", "13.0")
    wrapper = executable(isolated / "wrappers" / "nvcc",
                         f'#!/bin/sh\nexec {real} "$@"\n')
    assert gpu_build.toolkit_bin(wrapper) == os.path.dirname(real)
    assert gpu_build.cudart_static(wrapper) == str(
        isolated / "cuda-13.0" / "lib64" / "libcudart_static.a")
    sanitizer = executable(isolated / "cuda-13.0" / "compute-sanitizer" /
                           "compute-sanitizer", "")
    monkeypatch.setenv("PATH", os.path.dirname(wrapper))
    assert gpu_build.find_sanitizer() == sanitizer


@pytest.mark.parametrize("runtime", ["lib", "targets/x86_64-linux/lib"])
def test_runtime_folders_other_than_lib64(isolated, runtime):
    nvcc = fake_toolkit(isolated / "cuda", "12.4", runtime=runtime)
    assert gpu_build.cudart_static(nvcc) == str(
        isolated / "cuda" / runtime / "libcudart_static.a")


def test_pip_wheel_layouts(isolated):
    """CUDA 13's wheels: nvidia/cu13/{bin,lib}; CUDA 12's runtime wheel:
    nvidia/cuda_runtime/lib beside a toolkit without the static runtime."""
    site = isolated / "site" / "nvidia"
    wheel13 = fake_toolkit(site / "cu13", "13.0", runtime="lib")
    assert gpu_build.nvcc_candidates() == [wheel13]
    assert gpu_build.find_nvcc(13) == wheel13
    assert gpu_build.cudart_static(wheel13).endswith(
        "nvidia/cu13/lib/libcudart_static.a")
    cuda12 = fake_toolkit(isolated / "cuda-12", "12.4", runtime=None)
    executable(site / "cuda_runtime" / "lib" / "libcudart_static.a", "")
    assert gpu_build.cudart_static(cuda12).endswith(
        "nvidia/cuda_runtime/lib/libcudart_static.a")


def test_no_toolkit_says_where_it_looked(isolated):
    nvcc = fake_toolkit(isolated / "bare", "12.4", runtime=None)
    with pytest.raises(SystemExit, match="libcudart_static.a"):
        gpu_build.cudart_static(nvcc)
    assert gpu_build.find_sanitizer() is None


def test_every_architecture_is_compiled():
    codes = " ".join(gpu_build.GENCODE)
    for arch in ("75", "80", "86", "89", "90"):
        assert f"code=sm_{arch}" in codes
    assert "code=compute_90" in codes
