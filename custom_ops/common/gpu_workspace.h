// The scratch of the GPU walks, carved out of one caller-provided buffer
// (the OpKernel's allocate_temp, a torch tensor): the same plan sizes the
// buffer and hands out its parts, so the two cannot disagree. Framework-free
// and CUDA-free: the OpKernels size the buffer with it.
#ifndef TFRNN_CUSTOM_OPS_COMMON_GPU_WORKSPACE_H_
#define TFRNN_CUSTOM_OPS_COMMON_GPU_WORKSPACE_H_

#include <cstddef>
#include <cstdint>

#include "common/dims.h"

namespace tfrnn {
namespace gpu {

// Parts start 256 bytes apart at least (cuBLAS's and coalescing's liking).
class WorkspacePlan {
 public:
  // base: the buffer (any alignment), or null to size one.
  explicit WorkspacePlan(void* base)
      : base_(base == nullptr
                  ? nullptr
                  : reinterpret_cast<char*>(
                        (reinterpret_cast<uintptr_t>(base) + kAlign - 1) /
                        kAlign * kAlign)) {}

  template <typename U>
  U* Take(int64_t count) {
    const size_t at = (used_ + kAlign - 1) / kAlign * kAlign;
    used_ = at + static_cast<size_t>(count > 0 ? count : 0) * sizeof(U);
    return base_ == nullptr ? nullptr : reinterpret_cast<U*>(base_ + at);
  }
  size_t bytes() const { return used_ + kAlign; }  // room to align the base

 private:
  static constexpr size_t kAlign = 256;
  char* base_;
  size_t used_ = 0;
};

// Rows of the bias gradient's first reduction pass per partial sum.
constexpr int64_t kBiasChunkRows = 256;

inline int64_t BiasChunks(const Dims& d) {
  return (d.batch * d.time + kBiasChunkRows - 1) / kBiasChunkRows;
}

// The forward's scratch: xw [B,T,G] x.W of every step (the bias is added
// per step); hu [B,G] h_{t-1}.U of the current step; h_in [2,B,H] the
// masked h a step multiplies by U, read from one half, written to the
// other. All live for one call.
template <typename Cell, typename T>
struct ForwardScratch {
  ForwardScratch(WorkspacePlan& plan, const Dims& d) {
    const int64_t G = Cell::kGates * d.units;
    xw = plan.Take<T>(d.batch * d.time * G);
    hu = plan.Take<T>(d.batch * G);
    h_in = plan.Take<T>(2 * d.batch * d.units);
  }
  T* xw;
  T* hu;
  T* h_in;
};

// The backward's scratch: d_gates[side] [B,T,G] the gate gradients of the
// input side and (cells whose recurrent side differs) the recurrent side,
// zero where a row did not run; h_seen [B,T,H] the (masked) h_{t-1} each
// step's product saw, for dU; dhu [B,H] a step's d_recurrent . U^T, folded
// into dh by the next step; bias_partials [chunks, G] in double (a side's
// bias at a time, and the peepholes' 3H).
template <typename Cell, typename T>
struct BackwardScratch {
  static constexpr int kSides = Cell::kRecurrentGradsDiffer ? 2 : 1;
  BackwardScratch(WorkspacePlan& plan, const Dims& d) {
    const int64_t G = Cell::kGates * d.units;
    d_input = plan.Take<T>(d.batch * d.time * G);
    d_recurrent = kSides == 2 ? plan.Take<T>(d.batch * d.time * G) : d_input;
    h_seen = plan.Take<T>(d.batch * d.time * d.units);
    dhu = plan.Take<T>(d.batch * d.units);
    bias_partials = plan.Take<double>(BiasChunks(d) * G);
  }
  T* d_input;
  T* d_recurrent;
  T* h_seen;
  T* dhu;
  double* bias_partials;
};

// The LSTM's layer norm needs more (lstm/lstm_layer_norm_gpu.h): the
// bytes of its scratch, declared here, defined with its walks.
template <typename T>
size_t LayerNormForwardBytes(const Dims& d);
template <typename T>
size_t LayerNormBackwardBytes(const Dims& d);

// The bytes of a call's workspace; layer_norm: the LSTM's is on.
template <typename Cell, typename T>
size_t ForwardWorkspaceBytes(const Dims& d, bool layer_norm = false) {
  if constexpr (Cell::kVariants) {
    if (layer_norm) return LayerNormForwardBytes<T>(d);
  }
  WorkspacePlan plan(nullptr);
  ForwardScratch<Cell, T>(plan, d);
  return plan.bytes();
}

template <typename Cell, typename T>
size_t BackwardWorkspaceBytes(const Dims& d, bool layer_norm = false) {
  if constexpr (Cell::kVariants) {
    if (layer_norm) return LayerNormBackwardBytes<T>(d);
  }
  WorkspacePlan plan(nullptr);
  BackwardScratch<Cell, T>(plan, d);
  return plan.bytes();
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_GPU_WORKSPACE_H_
