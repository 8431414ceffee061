"""docs/architecture.md describes the tree as it is: every path its tree
names exists, and every folder of custom_ops/ and of the package is
named."""

import os
import re

from paths import ROOT

DOC = os.path.join(ROOT, "docs", "architecture.md")


def tree_block():
    text = open(DOC).read()
    tree = text[text.index("## The tree"):]
    return tree[tree.index("```") + 3:tree.index("```", tree.index("```")
                                                 + 3)]


def named_paths():
    return set(re.findall(r"\b((?:custom_ops|tfrnn)/[\w./]*)", tree_block()))


def test_every_named_path_exists():
    missing = [p for p in named_paths()
               if not os.path.exists(os.path.join(ROOT, p.rstrip(".")))]
    assert not missing


def test_every_folder_is_named():
    named = {p.rstrip("/") for p in named_paths()}
    folders = []
    for top in ("custom_ops", "tfrnn"):
        for entry in sorted(os.listdir(os.path.join(ROOT, top))):
            path = os.path.join(ROOT, top, entry)
            if os.path.isdir(path) and not entry.startswith(("_", ".")):
                folders.append(f"{top}/{entry}")
    assert folders
    assert [f for f in folders if f not in named] == []
