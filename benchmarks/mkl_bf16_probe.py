"""One thread's GEMMs of an LSTM call in MKL, float32 against bfloat16 and
float16 operands with float32 results (issue 30: which library could run
the fused op's reduced-precision GEMMs inside it).

MKL's sequential layer runs on the calling thread, as each thread of the
op's own team would call it, so it brings no thread pool of its own; B is
packed once, as the op packs its weights once a call. Needs MKL's wheels
(not a tfrnn dependency): pip install mkl mkl-include. The C++ side is
mkl_bf16_probe.cc beside this file, built here with g++.

    python benchmarks/mkl_bf16_probe.py [--configs 32,100,128,256 ...]

Per config B,T,I,H (an LSTM, 4 gates) it times, in microseconds, the
median of rounds on one thread:
  x.W    [B*T, I] x [I, 4H]   the hoisted input product (once a call)
  h.U    [B, H] x [H, 4H]     the recurrent product (once a step)
  dW     [I, B*T] x [B*T, 4H] a weight gradient (once a call)
"""

import argparse
import glob
import os
import subprocess
import sys
import sysconfig
import tempfile

from tfrnn.bench.configs import lstm_gemms, parse
from tfrnn.ops.loader import cpu_flags

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIGS = [(32, 100, 128, 256), (64, 100, 256, 512),
                   (256, 50, 512, 512), (8, 500, 256, 256),
                   (1, 500, 256, 256)]
LIBRARIES = ("mkl_intel_lp64", "mkl_sequential", "mkl_core")


def find_mkl():
    """(library folder, include folder) of the installed MKL wheels, or
    exits saying what to install."""
    roots = {sys.prefix, sysconfig.get_paths()["data"]}
    for root in roots:
        lib = os.path.join(root, "lib")
        include = os.path.join(root, "include")
        if glob.glob(os.path.join(lib, "libmkl_core.so*")) and \
                os.path.isfile(os.path.join(include, "mkl_cblas.h")):
            return lib, include
    sys.exit("MKL not found: pip install mkl mkl-include (looked in "
             f"{', '.join(sorted(roots))})")


def build(lib, include, out_dir):
    """The probe's executable, linked to MKL's sequential layer."""
    exe = os.path.join(out_dir, "mkl_bf16_probe")
    links = []
    for name in LIBRARIES:  # the wheels ship only versioned names
        found = sorted(glob.glob(os.path.join(lib, f"lib{name}.so*")))
        links.append("-l:" + os.path.basename(found[0]))
    subprocess.run(["g++", "-O2", "-std=c++17", "-mf16c",
                    os.path.join(HERE, "mkl_bf16_probe.cc"), "-I" + include,
                    "-L" + lib, "-Wl,--no-as-needed", *links, "-lpthread",
                    "-lm", "-ldl", "-o", exe], check=True)
    return exe


def flags_that_matter():
    flags = cpu_flags()
    if flags is None:
        return "unknown"
    wanted = ("avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_fp16")
    return " ".join(f for f in wanted if f in flags)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=None)
    args = parser.parse_args(argv)
    configs = parse(parser, args.configs, DEFAULT_CONFIGS)
    lib, include = find_mkl()
    cases = [(config, name, mkn) for config in configs
             for name, mkn in lstm_gemms(*config).items()]
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(lib, include, tmp)
        env = dict(os.environ, LD_LIBRARY_PATH=lib, MKL_NUM_THREADS="1")
        lines = subprocess.run(
            [exe] + [str(v) for _, _, mkn in cases for v in mkn],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.split()
    print(f"CPU flags: {flags_that_matter()}; MKL sequential, one thread; "
          f"median microseconds; B packed once")
    print(f"{'B,T,I,H':>16} {'GEMM':>4} {'m,k,n':>16} | {'sgemm':>9} "
          f"{'packed':>9} {'bf16':>9} {'f16':>9} | {'x bf16':>6} {'x f16':>6}")
    for (config, name, _), i in zip(cases, range(0, len(lines), 5)):
        mkn = lines[i]
        plain, packed, bf16, f16 = (float(v) for v in lines[i + 1:i + 5])
        print(f"{','.join(map(str, config)):>16} {name:>4} {mkn:>16} | "
              f"{plain:9.1f} {packed:9.1f} {bf16:9.1f} {f16:9.1f} | "
              f"{packed / bf16:6.2f} {packed / f16:6.2f}")


if __name__ == "__main__":
    main()
