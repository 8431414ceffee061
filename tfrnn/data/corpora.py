"""Text every machine has: the embedded default corpus of the demo and the
`tfrnn` command line, so they need no download."""

import glob
import os
import sysconfig

STDLIB_MODULES = ("textwrap", "string", "argparse", "csv", "shlex",
                  "difflib", "heapq", "bisect", "fractions", "calendar")


def stdlib_text(max_chars=400_000):
    """The source of a fixed list of standard-library modules (~400 kB of
    Python), read from this interpreter's installation."""
    root = sysconfig.get_paths()["stdlib"]
    paths = [os.path.join(root, m + ".py") for m in STDLIB_MODULES]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:  # an unusual layout: take whatever .py files are there
        paths = sorted(glob.glob(os.path.join(root, "*.py")))
    if not paths:
        raise FileNotFoundError(f"no Python sources under {root}; pass a "
                                "text file instead")
    parts = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
    return "".join(parts)[:max_chars]


def read_text(path):
    """A UTF-8 text file's contents. ValueError, naming the file (and the
    byte, for a file that is not UTF-8), when it is missing, not a file,
    empty or undecodable."""
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a file")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text: byte {err.start} is "
                         f"0x{raw[err.start]:02x}; convert it, e.g. iconv "
                         "-f latin1 -t utf-8") from None
    if not text:
        raise ValueError(f"{path} is empty")
    return text
