// What a cell hands the GPU recurrence (gpu/walk.h), beside its
// traits (kGates etc., see binding/op_kernels.h): its math on one
// unit of one batch row, as static members of a class for the cell,
//
//   template <typename T> TFRNN_HOST_DEVICE static ElementState<T> Forward(
//       const Attrs&, const ElementAt<T>& at, const T* pre, const T* rec,
//       T h_prev, T c_prev, T* saved);
//   template <typename T> TFRNN_HOST_DEVICE static ElementGrads<T, kGates>
//   Backward(const Attrs&, const ElementAt<T>& at, const T* saved, T h,
//            T h_prev, T c, T c_prev, T dh, T dc);
//
// Forward: pre[g] is x.W + b of gate g (the input-side bias), rec[g] is
// h_{t-1}.U of gate g plus the recurrent bias for cells with one; saved
// receives the kSaved values the backward reads. Backward: saved as the
// forward left it, the states around the step (h_prev unmasked; c, c_prev
// only for cells with a cell state), dh and dc the gradients reaching h_t
// and c_t. The same code runs in a CUDA kernel and, for the host tests, in
// a plain loop (gpu/backend_host.h). `at` is where the element's
// option inputs are (the LSTM's, kVariants; other cells ignore it).
#ifndef TFRNN_CUSTOM_OPS_GPU_CELL_H_
#define TFRNN_CUSTOM_OPS_GPU_CELL_H_

#include <cstdint>

#include "shared/host_device.h"
#include "shared/recurrent_args.h"

namespace tfrnn {
namespace gpu {

// The option inputs of a call (SequenceInputs' peephole and zoneout) and
// one element's place: row b * T + t, unit u of H.
template <typename T>
struct ElementAt {
  const T* peephole;  // [3,H] or null
  StepWeights<T> zoneout_h, zoneout_c;
  int64_t row, u, units;

  // The same inputs at another element.
  TFRNN_HOST_DEVICE ElementAt At(int64_t at_row, int64_t at_u) const {
    return {peephole, zoneout_h, zoneout_c, at_row, at_u, units};
  }
};

// A unit's new state; c only for cells with a cell state.
template <typename T>
struct ElementState {
  T h, c;
};

// A unit's gradients of one step: of each gate's input-side pre-activation
// (dx, dW, db), of its recurrent-side one (dU, dh_{t-1} through U, the
// recurrent bias; read only for cells whose two differ), of h_{t-1} by the
// path that bypasses U (cells with kHiddenBypass), and of c_{t-1}.
template <typename T, int kGates>
struct ElementGrads {
  T input[kGates];
  T recurrent[kGates];
  T h_prev;
  T c_prev;
  T peephole[3];  // unused: PeepholePartialSums reads d_input instead
};

// At least one: a cell that saves nothing still declares its saved array.
constexpr int AtLeastOne(int n) { return n > 0 ? n : 1; }

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_CELL_H_
