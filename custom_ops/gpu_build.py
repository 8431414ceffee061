"""Builds the framework-free GPU core, and says how setup.py compiles it.

Two builds of the same sources (custom_ops/cells/*/..._gpu.cu.cc and gpu/):

* ``cuda``: nvcc, SASS for every GPU_ARCHS and compute_90 PTX, into
  ``libtfrnn_gpu.so`` with its C ABI (gpu/capi.cc), for
  benchmarks/gpu_check.py on a GPU machine, and into the TensorFlow op
  library by setup.py. The CUDA runtime is linked statically; cuBLAS is
  loaded at run time (gpu/blas.h).
* ``host``: the same sources compiled as C++ with a host stand-in for the
  GEMMs and the launches (gpu/backend_host.h), into
  ``libtfrnn_gpu_host.so``: what tests/gpu/test_gpu_core.py runs on a machine
  without a GPU.

The toolkit: TFRNN_NVCC, else the first nvcc of the wanted CUDA major
version (TensorFlow's, for the op library) on PATH (any entry), in
/usr/local/cuda*,
or in pip's nvidia wheels (``nvidia/cu13/bin``); nvcc may be a wrapper
script (its real folder is asked of nvcc itself). The static runtime is
looked for beside it (lib64/, lib/, targets/x86_64-linux/lib/), then in
pip's runtime wheel of that major version.

Usage: python custom_ops/gpu_build.py {cuda,host} OUT_DIR [--cuda-major N]
       python custom_ops/gpu_build.py sanitizer   (compute-sanitizer's path)
       python custom_ops/gpu_build.py archs LIB   (LIB has every GPU_ARCHS)
"""

import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))  # the include root
# The cells' and the shared entry points, in both builds.
CORE_SOURCES = ["cells/lstm/lstm_gpu.cu.cc", "cells/gru/gru_gpu.cu.cc",
                "cells/rnn/rnn_gpu.cu.cc", "gpu/shared.cu.cc"]
CUDA_ONLY_SOURCES = ["gpu/blas.cu.cc"]
C_API_SOURCE = "gpu/capi.cc"
# SASS for Turing (T4), Ampere (A100, A10/A40/RTX 30), Ada (L4, L40, RTX
# 40) and Hopper (H100, H200); compute_90 PTX for newer GPUs to JIT.
GPU_ARCHS = ["75", "80", "86", "89", "90"]
PTX_ARCH = "90"
GENCODE = [f"-gencode=arch=compute_{a},code=sm_{a}" for a in GPU_ARCHS] + [
    f"-gencode=arch=compute_{PTX_ARCH},code=compute_{PTX_ARCH}"]
LIBRARIES = {"cuda": "libtfrnn_gpu.so", "host": "libtfrnn_gpu_host.so"}
# Where toolkits are installed system-wide (also SYSTEM_CUDA-<version>).
SYSTEM_CUDA = "/usr/local/cuda"
RUNTIME_FOLDERS = ["lib64", "lib", os.path.join("targets", "x86_64-linux",
                                                "lib")]


def nvcc_version(nvcc):
    """(major, minor) that nvcc reports, or None when it does not run."""
    try:
        text = subprocess.run([nvcc, "--version"], capture_output=True,
                              text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"release (\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def toolkit_bin(nvcc):
    """The folder of the real nvcc, which may hide behind a wrapper script
    (`exec /usr/local/cuda-13.0/bin/nvcc "$@"`): nvcc --dryrun says it."""
    try:
        text = subprocess.run([nvcc, "--dryrun", "-x", "cu", "-E",
                               os.devnull], capture_output=True, text=True,
                              timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        text = ""
    found = re.search(r"^#\$ _HERE_=(.*)$", text, re.MULTILINE)
    if found:
        return found.group(1).strip()
    return os.path.dirname(os.path.realpath(nvcc))


def _wheel_roots():
    """The folders of pip's nvidia wheels on sys.path."""
    return [os.path.join(p, "nvidia") for p in sys.path
            if p and os.path.isdir(os.path.join(p, "nvidia"))]


def nvcc_candidates():
    """Where nvcc is looked for, in order (TFRNN_NVCC alone when set):
    every nvcc on PATH, then the system's toolkits, then pip's wheels."""
    if os.environ.get("TFRNN_NVCC"):
        return [os.environ["TFRNN_NVCC"]]
    found = [os.path.join(folder, "nvcc") for folder in
             os.environ.get("PATH", "").split(os.pathsep) if folder]
    found.append(os.path.join(SYSTEM_CUDA, "bin", "nvcc"))
    found += sorted(glob.glob(SYSTEM_CUDA + "-*/bin/nvcc"), reverse=True)
    for root in _wheel_roots():
        found += sorted(glob.glob(os.path.join(root, "cu*", "bin", "nvcc")),
                        reverse=True)
        found.append(os.path.join(root, "cuda_nvcc", "bin", "nvcc"))
    seen, result = set(), []
    for path in found:
        if path and os.path.isfile(path) and path not in seen:
            seen.add(path)
            result.append(path)
    return result


def find_nvcc(major=None):
    """The first nvcc (nvcc_candidates) of CUDA `major` (any when None),
    or None."""
    for nvcc in nvcc_candidates():
        version = nvcc_version(nvcc)
        if version is not None and (major is None or version[0] == major):
            return nvcc
    return None


def cudart_static(nvcc):
    """libcudart_static.a for nvcc's toolkit: CUDA_HOME, CUDA_PATH or the
    toolkit's own folder (lib64/, lib/ or targets/x86_64-linux/lib/), then
    pip's runtime wheel of nvcc's major version (nvidia/cu13/lib,
    nvidia/cuda_runtime/lib for CUDA 12)."""
    roots = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
             os.path.dirname(toolkit_bin(nvcc)), SYSTEM_CUDA]
    candidates = [os.path.join(root, folder, "libcudart_static.a")
                  for root in roots if root for folder in RUNTIME_FOLDERS]
    version = nvcc_version(nvcc)
    if version is not None:
        wheel = "cuda_runtime" if version[0] == 12 else f"cu{version[0]}"
        candidates += [os.path.join(root, wheel, "lib", "libcudart_static.a")
                       for root in _wheel_roots()]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise SystemExit(f"no CUDA runtime (libcudart_static.a) found for "
                     f"{nvcc}; looked in: {', '.join(candidates)}; set "
                     f"CUDA_HOME")


def find_sanitizer():
    """compute-sanitizer's path, or None: PATH, beside the real nvcc (bin/
    or the toolkit's compute-sanitizer/ folder), /usr/local/cuda."""
    candidates = [shutil.which("compute-sanitizer")]
    nvcc = find_nvcc()
    roots = [os.path.dirname(toolkit_bin(nvcc))] if nvcc else []
    for root in roots + [SYSTEM_CUDA]:
        candidates += [os.path.join(root, "bin", "compute-sanitizer"),
                       os.path.join(root, "compute-sanitizer",
                                    "compute-sanitizer")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def nvcc_command(nvcc, source, obj, extra=()):
    """Compiles one .cu.cc (a path under HERE) to obj for the GPU."""
    return [nvcc, "-c", "-x", "cu", os.path.join(HERE, source), "-o", obj,
            "-std=c++17", "-O3", "--expt-relaxed-constexpr",
            "-Xcompiler", "-fPIC", "-Xcompiler", "-fvisibility=hidden",
            "-I" + HERE] + GENCODE + list(extra)


def cuda_link_flags(nvcc):
    """What a g++ link of nvcc objects needs: the static CUDA runtime."""
    return [cudart_static(nvcc), "-ldl", "-lrt", "-lpthread"]


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


def build(kind, out_dir, cxx=None, cuda_major=None):
    """Builds LIBRARIES[kind] in out_dir (the CUDA build with an nvcc of
    `cuda_major` when given); returns its path."""
    cxx = cxx or os.environ.get("CXX", "g++")
    os.makedirs(out_dir, exist_ok=True)
    library = os.path.join(out_dir, LIBRARIES[kind])
    objects, commands = [], []
    cxx_flags = ["-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden",
                 "-Wall", "-I" + HERE]
    if kind == "cuda":
        nvcc = find_nvcc(cuda_major)
        if nvcc is None:
            wanted = f"CUDA {cuda_major} " if cuda_major else ""
            raise SystemExit(f"no {wanted}nvcc found (set TFRNN_NVCC); "
                             f"looked at: {', '.join(nvcc_candidates())}")
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
    parser.add_argument("--cuda-major", type=int, default=None,
                        help="build with an nvcc of this CUDA major version "
                             "(default: the first nvcc found)")
    args = parser.parse_args(argv)
    print(build(args.kind, args.out_dir, cuda_major=args.cuda_major))


def gpu_archs(library, cuobjdump):
    """(SASS architectures, PTX architectures) a built library carries,
    as cuobjdump lists them, e.g. (["75", ..., "90"], ["90"])."""
    def listed(kind):
        text = subprocess.run([cuobjdump, f"--list-{kind}", library],
                              capture_output=True, text=True,
                              check=True).stdout
        return sorted(set(re.findall(r"\.sm_(\d+)\.", text)), key=int)
    return listed("elf"), listed("ptx")


def check_archs(library):
    """`gpu_build.py archs LIB`: exit status 1 unless LIB carries SASS for
    every GPU_ARCHS and PTX for PTX_ARCH (cuobjdump beside nvcc)."""
    nvcc = find_nvcc()
    cuobjdump = shutil.which("cuobjdump") or (
        os.path.join(toolkit_bin(nvcc), "cuobjdump") if nvcc else None)
    if cuobjdump is None or not os.path.isfile(cuobjdump):
        sys.stderr.write("cuobjdump not found\n")
        return 1
    sass, ptx = gpu_archs(library, cuobjdump)
    print(f"{library}: SASS sm_{', sm_'.join(sass)}; PTX compute_"
          f"{', compute_'.join(ptx)}")
    if sass != GPU_ARCHS or ptx != [PTX_ARCH]:
        sys.stderr.write(f"expected SASS for {GPU_ARCHS} and PTX for "
                         f"{PTX_ARCH}\n")
        return 1
    return 0


def print_sanitizer():
    """`gpu_build.py sanitizer`: prints compute-sanitizer's path; exit
    status 1, saying where it looked, when there is none."""
    path = find_sanitizer()
    if path is None:
        sys.stderr.write("compute-sanitizer not found: not on PATH, not "
                         f"beside nvcc (bin/ or compute-sanitizer/), not in "
                         f"{SYSTEM_CUDA}\n")
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["sanitizer"]:
        sys.exit(print_sanitizer())
    if sys.argv[1:2] == ["archs"] and len(sys.argv) == 3:
        sys.exit(check_archs(sys.argv[2]))
    main()
