"""Builds the fused recurrent ops' TensorFlow library `tfrnn/ops/_tfrnn_ops.so`
(for the building CPU's best ISA level) and, where that is above it, the
portable `_tfrnn_ops_x86_64_v3.so` (AVX2 + FMA) the loader takes on older
CPUs.

The op is compiled with exactly TensorFlow's own `tf.sysconfig` flags (C++17)
and linked against libtensorflow_framework; the TensorFlow version and flags
used are recorded in `_build_info.json` beside the library so the loader can
refuse a library built for another TensorFlow.

The GPU kernels (custom_ops/gpu_build.py compiles their CUDA core with nvcc)
are built in when TensorFlow is a CUDA build and an nvcc of TensorFlow's
CUDA major version is found (TFRNN_NVCC names one); TFRNN_CUDA=1 forces
them (failing without such an nvcc), TFRNN_CUDA=0 leaves them out. A
CPU-only TensorFlow gets the CPU build, with nothing to compile for CUDA.
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "custom_ops"))
import gpu_build  # noqa: E402

OP_ROOT = "custom_ops"  # include root: "cpu/...", "cells/lstm/..."
CPU_SOURCES = ["cells/lstm/lstm_ops.cc", "cells/lstm/lstm_kernels.cc",
               "cells/gru/gru_ops.cc", "cells/gru/gru_kernels.cc",
               "cells/rnn/rnn_ops.cc", "cells/rnn/rnn_kernels.cc"]
LIBRARY_NAME = "_tfrnn_ops.so"
BUILD_INFO = "_build_info.json"


# The ISA levels, each adding its CPU flags to the one before. The library
# is built for the building CPU's best level and, below it, for the
# portable baseline (x86-64-v3: AVX2 + FMA), which the loader takes on a
# CPU without the best level's flags (tfrnn/ops/loader.py): one library per
# level, since objects compiled with other flags inside one library would
# share Eigen's inline functions, and the linker could keep the AVX-512
# copy for the baseline's calls.
ISA_LEVELS = [("x86-64-v3", ["avx2", "fma"]),
              ("avx512", ["avx512f", "avx512dq", "avx512bw", "avx512vl"])]


def _building_cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(l for l in f if l.startswith("flags")).split())
    except (OSError, StopIteration):
        return set()


def _isa_levels():
    """[(level, the CPU flags it needs, its compile flags)] to build, best
    first: the building CPU's best level (AVX2+FMA, and AVX-512 F/DQ/BW/VL
    where present), then the baseline when that is another. Not
    -march=native: on CPUs with AVX512-FP16 TF's bundled Eigen fails to
    compile. TFRNN_MARCH=ARCH builds one library for -march=ARCH, which the
    loader takes on any CPU."""
    march = os.environ.get("TFRNN_MARCH")
    if march:
        return [(f"march={march}", [], [f"-march={march}"])]
    flags, levels, needed = _building_cpu_flags(), [], []
    for name, group in ISA_LEVELS:
        if not set(group) <= flags:
            break
        needed = needed + group
        levels.append((name, needed, ["-m" + g for g in needed]))
    if not levels:
        return [("generic", [], [])]
    return [levels[-1]] + levels[:1] if len(levels) > 1 else levels


def library_name(index, level):
    """The best level's library is LIBRARY_NAME; the others add their
    level's name."""
    if index == 0:
        return LIBRARY_NAME
    return LIBRARY_NAME.replace(".so", "_" + re.sub(r"\W", "_", level) + ".so")


def _sanitizer_flags():
    """TFRNN_SANITIZE=address builds with AddressSanitizer (for the fuzz
    job: .ci/asan); the library then needs libasan preloaded."""
    sanitizer = os.environ.get("TFRNN_SANITIZE")
    if not sanitizer:
        return [], []
    flags = [f"-fsanitize={sanitizer}", "-fno-omit-frame-pointer", "-g"]
    return flags, [f"-fsanitize={sanitizer}"]


def _tf_cuda_major(tf):
    """The CUDA major version TensorFlow was built with, or None."""
    version = tf.sysconfig.get_build_info().get("cuda_version")
    return int(str(version).split(".")[0]) if version else None


def _cuda_build(tf):
    """nvcc's path when the GPU kernels are to be built, else None. The
    nvcc must be of TensorFlow's CUDA major version (CUDA 12 for pip's TF
    2.21): the library then runs on the drivers TensorFlow runs on."""
    wanted = os.environ.get("TFRNN_CUDA", "")
    if wanted == "0" or (wanted != "1" and not tf.test.is_built_with_cuda()):
        return None
    major = _tf_cuda_major(tf)
    nvcc = gpu_build.find_nvcc(major)
    if nvcc is None:
        seen = [f"{path} ({gpu_build.nvcc_version(path)})"
                for path in gpu_build.nvcc_candidates()]
        cuda = f"CUDA {major} " if major else ""
        message = (f"no {cuda}nvcc found for TensorFlow {tf.__version__} "
                   f"(nvcc seen: {', '.join(seen) or 'none'}); set "
                   f"TFRNN_NVCC to a {cuda}nvcc")
        if wanted == "1":
            raise SystemExit("TFRNN_CUDA=1 but " + message)
        print(f"tfrnn: {message}; building the CPU kernels only",
              file=sys.stderr, flush=True)
    return nvcc


class BuildTensorFlowOps(build_ext):
    """Compiles the op sources with g++ in parallel and links one .so."""

    def get_ext_filename(self, ext_name):
        package_dir = os.path.dirname(super().get_ext_filename(ext_name))
        return os.path.join(package_dir, LIBRARY_NAME)

    def build_extension(self, ext):
        import tensorflow as tf

        # TensorFlow's headers as system headers: -Wall then speaks of our
        # code only, not of deprecations inside TensorFlow.
        tf_flags = [
            "-isystem" + f[2:] if f.startswith("-I") else f
            for f in tf.sysconfig.get_compile_flags()]
        cxx = os.environ.get("CXX", "g++")
        # -Wno-maybe-uninitialized: GCC 12 reports false positives inside
        # its own AVX-512 intrinsics header when Eigen instantiates them.
        # -Wno-ignored-attributes: a SIMD type (__m512) as a template
        # argument (lstm_cell.h's helpers run on packets) drops its
        # may_alias attribute, which is all GCC says there.
        sanitize_compile, sanitize_link = _sanitizer_flags()
        common = ["-O3", "-fPIC", "-fvisibility=hidden", "-Wall",
                  "-Wno-sign-compare", "-Wno-maybe-uninitialized",
                  "-Wno-ignored-attributes", "-I" + OP_ROOT] + \
            sanitize_compile
        nvcc = _cuda_build(tf)
        if nvcc is not None:  # the OpKernels register DEVICE_GPU too
            common.append("-DGOOGLE_CUDA=1")
        levels = _isa_levels()
        shared, per_level = self._compile_all(
            ext.sources, levels, cxx, common, tf_flags, nvcc)
        link_flags = tf.sysconfig.get_link_flags() + sanitize_link
        if nvcc is not None:
            link_flags += gpu_build.cuda_link_flags(nvcc)
        out_dir = os.path.dirname(self.get_ext_fullpath(ext.name))
        os.makedirs(out_dir, exist_ok=True)
        for index, (level, _, _) in enumerate(levels):
            cmd = [cxx, "-shared", "-o",
                   os.path.join(out_dir, library_name(index, level))] + \
                shared + per_level[level] + link_flags
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        info = {
            "tensorflow_version": tf.__version__,
            "compile_flags": common + levels[0][2] + tf_flags,
            # best first: the loader takes the first the CPU can run
            "levels": [{"level": level, "library": library_name(i, level),
                        "cpu_flags": needed}
                       for i, (level, needed, _) in enumerate(levels)],
            "cuda": nvcc is not None,
            "nvcc": (".".join(map(str, gpu_build.nvcc_version(nvcc)))
                     if nvcc is not None else None),
            "gpu_archs": gpu_build.GENCODE if nvcc is not None else [],
            "sanitize": os.environ.get("TFRNN_SANITIZE") or None,
            "python": sys.version.split()[0],
        }
        with open(os.path.join(out_dir, BUILD_INFO), "w") as f:
            json.dump(info, f, indent=2)

    def _compile_all(self, sources, levels, cxx, common, tf_flags, nvcc):
        """Compiles in parallel: the op registrations (<cell>_ops.cc) and
        the GPU core once, at the lowest level's flags, and each level's
        kernels at its own. Returns (shared objects, {level: objects})."""
        lowest = levels[-1][2]
        jobs = []  # (command, object, level or None)
        for source in sources:
            for level, _, flags in (levels if source.endswith("_kernels.cc")
                                    else [(None, None, lowest)]):
                obj = os.path.join(self.build_temp, level or "",
                                   os.path.relpath(source, OP_ROOT) + ".o")
                jobs.append(([cxx, "-c", source, "-o", obj] + common +
                             flags + tf_flags, obj, level))
        for source in (gpu_build.CORE_SOURCES + gpu_build.CUDA_ONLY_SOURCES
                       if nvcc is not None else []):
            obj = os.path.join(self.build_temp, source + ".o")
            jobs.append((gpu_build.nvcc_command(nvcc, source, obj), obj,
                         None))

        def compile_one(job):
            cmd, obj, _ = job
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)

        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(compile_one, jobs))
        shared = [obj for _, obj, level in jobs if level is None]
        per_level = {level: [obj for _, obj, lv in jobs if lv == level]
                     for level, _, _ in levels}
        return shared, per_level

    def copy_extensions_to_source(self):
        """In-place builds: the build info and the other levels' libraries
        travel with the library."""
        super().copy_extensions_to_source()
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            package = ".".join(ext.name.split(".")[:-1])
            built = os.path.join(self.build_lib, *package.split("."))
            target = build_py.get_package_dir(package)
            with open(os.path.join(built, BUILD_INFO)) as f:
                levels = json.load(f)["levels"]
            for name in [BUILD_INFO] + [lv["library"] for lv in levels[1:]]:
                shutil.copyfile(os.path.join(built, name),
                                os.path.join(target, name))


setup(
    ext_modules=[
        Extension("tfrnn.ops._tfrnn_ops",
                  sources=[os.path.join(OP_ROOT, s) for s in CPU_SOURCES])
    ],
    cmdclass={"build_ext": BuildTensorFlowOps},
    package_data={"tfrnn.ops": [BUILD_INFO, "_tfrnn_ops*.so"]},
)
