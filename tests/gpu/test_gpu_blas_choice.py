"""The GPU core's cuBLAS choice and handle cache on the host
(custom_ops/gpu/blas_choice.h, what gpu_blas.cu.cc decides without
CUDA): a small C++ program built with g++ prints the decisions for the
cases below."""

import json
import os
import subprocess

import pytest
from paths import ROOT


PROGRAM = r"""
#include <cstdio>
#include <string>
#include <utility>
#include <vector>
#include "gpu/blas_choice.h"

using tfrnn::gpu::CublasCandidates;
using tfrnn::gpu::LruHandles;

void Print(const std::vector<std::string>& names) {
  std::printf("[");
  for (size_t i = 0; i < names.size(); ++i) {
    std::printf("%s\"%s\"", i ? ", " : "", names[i].c_str());
  }
  std::printf("]");
}

int main() {
  std::printf("{\"chosen\": ");
  Print(CublasCandidates("/opt/my/libcublas.so", 12, "/site/tensorflow",
                         ""));
  std::printf(", \"runtime13_torch\": ");
  Print(CublasCandidates(nullptr, 13, "", "/site/torch/lib"));
  std::printf(", \"bare\": ");
  Print(CublasCandidates("", 12, "", ""));
  // The cache: 2 handles at most; keys (device, stream).
  using Key = std::pair<int, int>;
  LruHandles<Key, int*> cache(2);
  static int slots[10];
  int made = 0;
  std::vector<Key> released;
  auto create = [&](const Key&, int** h) { *h = &slots[made++]; return 0; };
  auto release = [&](const Key& k, int*) { released.push_back(k); };
  auto failing = [&](const Key&, int** h) { *h = nullptr; return 7; };
  int* h = nullptr;
  std::vector<int> got;
  for (Key k : {Key{0, 1}, Key{0, 2}, Key{0, 1}, Key{1, 1}, Key{0, 2},
                Key{0, 1}}) {
    cache.For(k, create, release, &h);
    got.push_back(static_cast<int>(h - slots));
  }
  const int rc = cache.For(Key{5, 5}, failing, release, &h);
  std::printf(", \"handles\": [");
  for (size_t i = 0; i < got.size(); ++i) {
    std::printf("%s%d", i ? ", " : "", got[i]);
  }
  std::printf("], \"released\": [");
  for (size_t i = 0; i < released.size(); ++i) {
    std::printf("%s[%d, %d]", i ? ", " : "", released[i].first,
                released[i].second);
  }
  std::printf("], \"made\": %d, \"failed_rc\": %d, \"size\": %zu}\n", made,
              rc, cache.size());
}
"""


@pytest.fixture(scope="module")
def decisions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blas_choice")
    source, binary = folder / "choice.cc", folder / "choice"
    source.write_text(PROGRAM)
    subprocess.run(["g++", "-std=c++17", "-Wall", "-Werror", "-I",
                    os.path.join(ROOT, "custom_ops"), str(source), "-o",
                    str(binary)], check=True)
    return json.loads(subprocess.run([str(binary)], check=True,
                                     capture_output=True, text=True).stdout)


def test_the_chosen_library_then_the_loaded_one_of_the_runtimes_version(
        decisions):
    assert decisions["chosen"] == [
        "/opt/my/libcublas.so",
        "?libcublas.so.12", "?libcublas.so.13",  # already loaded only
        "libcublas.so.12",
        "/site/tensorflow/../nvidia/cublas/lib/libcublas.so.12",
        "libcublas.so.13",
        "/site/tensorflow/../nvidia/cu13/lib/libcublas.so.13"]


def test_a_cuda_13_runtime_prefers_cublas_13_and_torchs_wheel(decisions):
    assert decisions["runtime13_torch"] == [
        "?libcublas.so.13", "?libcublas.so.12",
        "libcublas.so.13",
        "/site/torch/lib/../../nvidia/cu13/lib/libcublas.so.13",
        "libcublas.so.12",
        "/site/torch/lib/../../nvidia/cublas/lib/libcublas.so.12"]
    assert decisions["bare"] == ["?libcublas.so.12", "?libcublas.so.13",
                                 "libcublas.so.12", "libcublas.so.13"]


def test_handles_are_reused_bounded_and_released_least_recent_first(
        decisions):
    # (0,1) -> 0, (0,2) -> 1, (0,1) again -> 0; (1,1) evicts (0,2), the
    # least recently used -> 2; (0,2) evicts (0,1) -> 3; (0,1) evicts
    # (1,1) -> 4. A failed creation leaves the cache as it was.
    assert decisions["handles"] == [0, 1, 0, 2, 3, 4]
    assert decisions["released"] == [[0, 2], [0, 1], [1, 1]]
    assert decisions["made"] == 5
    assert decisions["failed_rc"] == 7 and decisions["size"] == 2
