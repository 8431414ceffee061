// The CPU engine of the fused recurrent ops: binds a cell's math on packets
// (a class with the cell's traits, Scalar = T, a constructor taking
// (attrs, inputs, units) and the Forward/Backward of cpu/cell.h) to the
// walks of cpu/forward.h and cpu/backward.h, for
// binding/op_kernels.h.
#ifndef TFRNN_CUSTOM_OPS_CPU_ENGINE_H_
#define TFRNN_CUSTOM_OPS_CPU_ENGINE_H_

#include "cpu/backward.h"
#include "cpu/forward.h"
#include "shared/recurrent_args.h"

namespace tfrnn {
namespace cpu {

template <typename CellMath>
struct Engine {
  using Cell = CellMath;
  using T = typename CellMath::Scalar;
  // The kernels may read input values on the host (validation).
  static constexpr bool kInputsOnHost = true;

  static void Forward(tensorflow::OpKernelContext* ctx,
                      const typename Cell::Attrs& attrs, const Walk& walk,
                      const SequenceInputs<T>& in,
                      const ForwardOutputs<T>& out) {
    const CellMath cell(attrs, in, walk.dims);
    ForwardWalk<CellMath>(ctx, cell, walk, in, out).Run();
  }

  static void Backward(tensorflow::OpKernelContext* ctx,
                       const typename Cell::Attrs& attrs, const Walk& walk,
                       const SequenceInputs<T>& in,
                       const SavedForward<T>& fwd,
                       const Gradients<T>& grads) {
    const CellMath cell(attrs, in, walk.dims);  // in.bias: null
    BackwardWalk<CellMath>(ctx, cell, walk, in, fwd, grads).Run();
  }
};

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_ENGINE_H_
