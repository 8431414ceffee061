// The launch shape of an element-wise kernel over n elements: blocks of
// kThreads, at most kMaxBlocks of them (a grid-stride loop covers the
// rest). CUDA-free so the host tests check it on odd sizes.
#ifndef TFRNN_CUSTOM_OPS_GPU_LAUNCH_H_
#define TFRNN_CUSTOM_OPS_GPU_LAUNCH_H_

#include <cstdint>

namespace tfrnn {
namespace gpu {

struct LaunchShape {
  int64_t blocks, threads;
};

constexpr int64_t kThreads = 256;
// Enough blocks to fill a GPU many times over (an H200 runs 132 SMs x 8
// blocks of 256), few enough that no count overflows.
constexpr int64_t kMaxBlocks = 1 << 16;

inline LaunchShape ShapeFor(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return {blocks < kMaxBlocks ? blocks : kMaxBlocks, kThreads};
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_LAUNCH_H_
