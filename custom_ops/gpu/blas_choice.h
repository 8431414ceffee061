// What gpu_blas.cu.cc decides without CUDA, so that the host tests check
// it (tests/gpu/test_gpu_blas_choice.py): which cuBLAS to try, in which order,
// and the bounded cache of handles. CUDA-free: plain C++17.
#ifndef TFRNN_CUSTOM_OPS_GPU_BLAS_CHOICE_H_
#define TFRNN_CUSTOM_OPS_GPU_BLAS_CHOICE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tfrnn {
namespace gpu {

// The CUDA major versions whose cuBLAS has the entry points' ABI.
constexpr int kCublasMajors[] = {12, 13};

// Where cuBLAS is looked for, best first:
//   1. `chosen` (TFRNN_CUBLAS), when set;
//   2. a cuBLAS the process has already loaded (TensorFlow's, torch's), of
//      the CUDA runtime's major version first: entries starting with '?'
//      are taken only if already loaded (dlopen's RTLD_NOLOAD);
//   3. per major version, the runtime's first: its soname (the loader's
//      search path), then pip's nvidia wheel beside TensorFlow's library
//      folder (tensorflow/../nvidia/...) and beside torch's
//      (torch/lib/../../nvidia/...), where those libraries are loaded
//      (an empty folder: not loaded).
inline std::vector<std::string> CublasCandidates(
    const char* chosen, int runtime_major, const std::string& tensorflow_dir,
    const std::string& torch_dir) {
  std::vector<std::string> names;
  if (chosen != nullptr && *chosen != '\0') names.push_back(chosen);
  std::vector<int> majors = {runtime_major};
  for (int major : kCublasMajors) {
    if (major != runtime_major) majors.push_back(major);
  }
  const auto soname = [](int major) {
    return "libcublas.so." + std::to_string(major);
  };
  for (int major : majors) names.push_back("?" + soname(major));
  for (int major : majors) {
    names.push_back(soname(major));
    const std::string wheel =
        major == 12 ? "/nvidia/cublas/lib/" : "/nvidia/cu13/lib/";
    if (!tensorflow_dir.empty()) {
      names.push_back(tensorflow_dir + "/.." + wheel + soname(major));
    }
    if (!torch_dir.empty()) {
      names.push_back(torch_dir + "/../.." + wheel + soname(major));
    }
  }
  return names;
}

// At most `capacity` handles, one per key (device, stream); when full, the
// least recently used one is released for a new one (after the new one
// was made: a failed creation leaves the cache as it was). Not
// thread-safe: the caller holds a lock. Handle is a pointer type; create(key, &handle) returns 0
// on success, release(key, handle) frees one.
template <typename Key, typename Handle>
class LruHandles {
 public:
  explicit LruHandles(size_t capacity) : capacity_(capacity) {}

  template <typename Create, typename Release>
  int For(const Key& key, const Create& create, const Release& release,
          Handle* out) {
    ++clock_;
    for (Entry& entry : entries_) {
      if (entry.key == key) {
        entry.last_use = clock_;
        *out = entry.handle;
        return 0;
      }
    }
    Handle handle = nullptr;
    const int rc = create(key, &handle);
    if (rc != 0) return rc;  // the cache as it was
    if (entries_.size() >= capacity_) {
      auto oldest = std::min_element(
          entries_.begin(), entries_.end(),
          [](const Entry& a, const Entry& b) {
            return a.last_use < b.last_use;
          });
      release(oldest->key, oldest->handle);
      entries_.erase(oldest);
    }
    entries_.push_back({key, handle, clock_});
    *out = handle;
    return 0;
  }

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Key key;
    Handle handle;
    uint64_t last_use;
  };
  size_t capacity_;
  std::vector<Entry> entries_;
  uint64_t clock_ = 0;
};

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_BLAS_CHOICE_H_
