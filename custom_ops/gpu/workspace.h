// The scratch of the GPU walks, carved out of one caller-provided buffer
// (the OpKernel's allocate_temp, a torch tensor): the same plan sizes the
// buffer and hands out its parts, so the two cannot disagree. Framework-free
// and CUDA-free: the OpKernels size the buffer with it.
#ifndef TFRNN_CUSTOM_OPS_GPU_WORKSPACE_H_
#define TFRNN_CUSTOM_OPS_GPU_WORKSPACE_H_

#include <cstddef>
#include <cstdint>

#include "shared/dims.h"

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
// per step); hu [B,G] h_{t-1}.U of the current step; h_in [2,B,Hh] the
// masked h a step multiplies by U, read from one half, written to the
// other; under the LSTM's projection m [B,H] the step's o * tanh(c_t) and
// projected [B,Hh] its m . W_proj. All live for one call.
template <typename Cell, typename T>
struct ForwardScratch {
  ForwardScratch(WorkspacePlan& plan, const Dims& d, bool projection = false) {
    const int64_t G = Cell::kGates * d.units;
    xw = plan.Take<T>(d.batch * d.time * G);
    hu = plan.Take<T>(d.batch * G);
    h_in = plan.Take<T>(2 * d.batch * d.hidden);
    if (!projection) return;
    m = plan.Take<T>(d.batch * d.units);
    projected = plan.Take<T>(d.batch * d.hidden);
  }
  T* xw;
  T* hu;
  T* h_in;
  T* m = nullptr;
  T* projected = nullptr;
};

// The backward's scratch: d_gates[side] [B,T,G] the gate gradients of the
// input side and (cells whose recurrent side differs) the recurrent side,
// zero where a row did not run; h_seen [B,T,Hh] the (masked) h_{t-1} each
// step's product saw, for dU; dhu [B,Hh] a step's d_recurrent . U^T, folded
// into dh by the next step; bias_partials [chunks, G] in double (a side's
// bias at a time, and the peepholes' 3H). Under the LSTM's projection:
// m_seen [B,T,H] each step's m_t and d_projected [B,T,Hh] the gradient
// reaching m_t . W_proj (both zero where a row did not run, for dW_proj),
// dm [B,H] a step's d_projected . W_proj^T.
template <typename Cell, typename T>
struct BackwardScratch {
  static constexpr int kSides = Cell::kRecurrentGradsDiffer ? 2 : 1;
  BackwardScratch(WorkspacePlan& plan, const Dims& d,
                  bool projection = false) {
    const int64_t G = Cell::kGates * d.units, BT = d.batch * d.time;
    d_input = plan.Take<T>(BT * G);
    d_recurrent = kSides == 2 ? plan.Take<T>(BT * G) : d_input;
    h_seen = plan.Take<T>(BT * d.hidden);
    dhu = plan.Take<T>(d.batch * d.hidden);
    bias_partials = plan.Take<double>(BiasChunks(d) * G);
    if (!projection) return;
    m_seen = plan.Take<T>(BT * d.units);
    d_projected = plan.Take<T>(BT * d.hidden);
    dm = plan.Take<T>(d.batch * d.units);
  }
  T* d_input;
  T* d_recurrent;
  T* h_seen;
  T* dhu;
  double* bias_partials;
  T* m_seen = nullptr;
  T* d_projected = nullptr;
  T* dm = nullptr;
};

// The LSTM's layer norm needs more (cells/lstm/lstm_layer_norm_gpu_*.h): the
// bytes of its scratch (with the projection's when there is one), declared
// here, defined with its walks.
template <typename T>
size_t LayerNormForwardBytes(const Dims& d, bool projection);
template <typename T>
size_t LayerNormBackwardBytes(const Dims& d, bool projection);

// The bytes of a call's workspace; layer_norm, projection: the LSTM's are
// on.
template <typename Cell, typename T>
size_t ForwardWorkspaceBytes(const Dims& d, bool layer_norm = false,
                             bool projection = false) {
  if constexpr (Cell::kVariants) {
    if (layer_norm) return LayerNormForwardBytes<T>(d, projection);
  }
  WorkspacePlan plan(nullptr);
  ForwardScratch<Cell, T>(plan, d, projection);
  return plan.bytes();
}

template <typename Cell, typename T>
size_t BackwardWorkspaceBytes(const Dims& d, bool layer_norm = false,
                              bool projection = false) {
  if constexpr (Cell::kVariants) {
    if (layer_norm) return LayerNormBackwardBytes<T>(d, projection);
  }
  WorkspacePlan plan(nullptr);
  BackwardScratch<Cell, T>(plan, d, projection);
  return plan.bytes();
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_WORKSPACE_H_
