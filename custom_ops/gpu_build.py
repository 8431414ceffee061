"""Builds the framework-free GPU core, and says how setup.py compiles it.

Two builds of the same sources (custom_ops/*/..._gpu.cu.cc and common/):

* ``cuda``: nvcc for sm_80 and sm_90 plus compute_90 PTX, into
  ``libtfrnn_gpu.so`` with its C ABI (common/gpu_capi.cc), for
  benchmarks/gpu_check.py on a GPU machine, and into the TensorFlow op
  library by setup.py. cuBLAS is loaded at run time (common/gpu_blas.h).
* ``host``: the same sources compiled as C++ with a host stand-in for the
  GEMMs and the launches (common/gpu_backend_host.h), into
  ``libtfrnn_gpu_host.so``: what tests/test_gpu_core.py runs on a machine
  without a GPU.

Usage: python custom_ops/gpu_build.py {cuda,host} OUT_DIR
"""

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))  # the include root
# The cells' and the shared entry points, in both builds.
CORE_SOURCES = ["lstm/lstm_gpu.cu.cc", "gru/gru_gpu.cu.cc",
                "rnn/rnn_gpu.cu.cc", "common/gpu_shared.cu.cc"]
CUDA_ONLY_SOURCES = ["common/gpu_blas.cu.cc"]
C_API_SOURCE = "common/gpu_capi.cc"
GENCODE = ["-gencode=arch=compute_80,code=sm_80",
           "-gencode=arch=compute_90,code=sm_90",
           "-gencode=arch=compute_90,code=compute_90"]
LIBRARIES = {"cuda": "libtfrnn_gpu.so", "host": "libtfrnn_gpu_host.so"}


def find_nvcc():
    """nvcc's path (TFRNN_NVCC, then PATH, then /usr/local/cuda), or None."""
    for candidate in (os.environ.get("TFRNN_NVCC"), shutil.which("nvcc"),
                      "/usr/local/cuda/bin/nvcc"):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def cuda_root(nvcc):
    """The toolkit directory with lib64/libcudart_static.a: CUDA_HOME,
    CUDA_PATH, the one above nvcc (unless nvcc is a wrapper script
    elsewhere), or /usr/local/cuda."""
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                 os.path.dirname(os.path.dirname(os.path.realpath(nvcc))),
                 "/usr/local/cuda"):
        if root and os.path.isfile(
                os.path.join(root, "lib64", "libcudart_static.a")):
            return root
    raise SystemExit(f"no CUDA toolkit (lib64/libcudart_static.a) found "
                     f"for {nvcc}; set CUDA_HOME")


def nvcc_command(nvcc, source, obj, extra=()):
    """Compiles one .cu.cc (a path under HERE) to obj for the GPU."""
    return [nvcc, "-c", "-x", "cu", os.path.join(HERE, source), "-o", obj,
            "-std=c++17", "-O3", "--expt-relaxed-constexpr",
            "-Xcompiler", "-fPIC", "-Xcompiler", "-fvisibility=hidden",
            "-I" + HERE] + GENCODE + list(extra)


def cuda_link_flags(nvcc):
    """What a g++ link of nvcc objects needs: the static CUDA runtime."""
    lib = os.path.join(cuda_root(nvcc), "lib64")
    return [os.path.join(lib, "libcudart_static.a"), "-ldl", "-lrt",
            "-lpthread"]


def _run_all(commands):
    workers = max(1, min(len(commands), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for result in pool.map(
                lambda c: subprocess.run(c, capture_output=True, text=True),
                commands):
            if result.returncode != 0:
                sys.stderr.write(" ".join(result.args) + "\n" +
                                 result.stdout + result.stderr)
                raise SystemExit(f"{result.args[0]} failed")


def build(kind, out_dir, cxx=None):
    """Builds LIBRARIES[kind] in out_dir; returns its path."""
    cxx = cxx or os.environ.get("CXX", "g++")
    os.makedirs(out_dir, exist_ok=True)
    library = os.path.join(out_dir, LIBRARIES[kind])
    objects, commands = [], []
    cxx_flags = ["-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden",
                 "-Wall", "-I" + HERE]
    if kind == "cuda":
        nvcc = find_nvcc()
        if nvcc is None:
            raise SystemExit("nvcc not found (set TFRNN_NVCC)")
        for source in CORE_SOURCES + CUDA_ONLY_SOURCES:
            obj = os.path.join(out_dir, os.path.basename(source) + ".o")
            commands.append(nvcc_command(nvcc, source, obj))
            objects.append(obj)
        link_flags = cuda_link_flags(nvcc)
    else:
        for source in CORE_SOURCES:
            obj = os.path.join(out_dir, os.path.basename(source) + ".host.o")
            commands.append([cxx, "-c", "-x", "c++", os.path.join(HERE, source),
                             "-o", obj] + cxx_flags)
            objects.append(obj)
        link_flags = []
    capi = os.path.join(out_dir, f"gpu_capi.{kind}.o")
    commands.append([cxx, "-c", os.path.join(HERE, C_API_SOURCE), "-o", capi]
                    + cxx_flags)
    _run_all(commands)
    subprocess.run([cxx, "-shared", "-o", library, capi] + objects +
                   link_flags, check=True)
    return library


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(LIBRARIES),
                        help="cuda: nvcc for the GPU; host: the host "
                             "stand-in, for tests without a GPU")
    parser.add_argument("out_dir", help="where the library is written")
    args = parser.parse_args(argv)
    print(build(args.kind, args.out_dir))


if __name__ == "__main__":
    main()
