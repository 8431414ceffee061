// The cells the C ABI (gpu/capi.cc) can run, each entered by its own
// <cell>_gpu.cu.cc with TFRNN_REGISTER_CAPI_CELL: the C ABI includes no
// cell, and a new cell is one registration away from it.
//
// A cell's entry types the C ABI's untyped arguments (CallArgs) once the
// dtype is known and runs the core's Forward/Backward for its GpuCell. What
// differs between cells is its Adapter (see NoOptions below):
//   using Cell = <its GpuCell>;
//   static Status AttrsFor(const char* name, const void* options,
//                          typename Cell::Attrs* attrs);
//   static int64_t HiddenUnits(const void* options, int64_t units);
//   template <typename T> static void AddOptions(const void* options,
//                                                SequenceInputs<T>* in);
//   template <typename T> static void AddOptionGradients(
//       void* const* d_options, Gradients<T>* grads);
#ifndef TFRNN_CUSTOM_OPS_GPU_CAPI_CELLS_H_
#define TFRNN_CUSTOM_OPS_GPU_CAPI_CELLS_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "gpu/recurrence.h"
#include "gpu/status.h"
#include "gpu/workspace.h"
#include "shared/recurrent_args.h"

namespace tfrnn {
namespace gpu {

constexpr int kBadArgument = 3000;

// A forward or backward call as the C ABI takes it (pointers as in
// shared/recurrent_args.h; null where absent); only a backward reads the
// gradient half, only a forward the outputs.
struct CallArgs {
  Walk walk;
  const void *x, *h0, *c0, *kernel, *recurrent_kernel, *bias;
  const int32_t* lengths;
  const void* recurrent_mask;
  void *output, *h_n, *c_n, *saved, *cell;  // forward outputs
  const void *saved_output, *saved_gates, *saved_cell, *d_output, *d_h_n,
      *d_c_n;                               // backward inputs
  void *dx, *dh0, *dc0, *dkernel, *drecurrent_kernel, *dbias, *dpeephole;
  void* const* d_options;  // the cell's option gradients, or null
  const void* options;     // the cell's options (its Adapter reads them)
  void *workspace, *stream;
};

// One registered cell: its C ABI name and its three calls.
struct CapiCell {
  const char* name;
  Status (*workspace_bytes)(int dtype_bytes, bool backward, const Dims& d,
                            bool layer_norm, bool projection, size_t* bytes);
  // name: the one the call gave (a cell may have several: rnn_tanh,
  // rnn_relu).
  Status (*forward)(const char* name, int dtype_bytes, const CallArgs& args);
  Status (*backward)(const char* name, int dtype_bytes, const CallArgs& args);
  int64_t (*hidden_units)(const void* options, int64_t units);
};

// The registered cells (one table per library: an inline function's static
// is shared by every translation unit).
inline std::vector<CapiCell>& CapiCells() {
  static std::vector<CapiCell> cells;
  return cells;
}

inline const CapiCell* FindCapiCell(const char* name) {
  for (const CapiCell& cell : CapiCells()) {
    if (std::strcmp(cell.name, name) == 0) return &cell;
  }
  return nullptr;
}

// The Adapter of a cell without options: none may be given.
template <typename GpuCell>
struct NoOptions {
  using Cell = GpuCell;
  static Status AttrsFor(const char*, const void* options,
                         typename Cell::Attrs*) {
    if (options != nullptr) {
      return {kBadArgument, "options are the LSTM's only"};
    }
    return {};
  }
  static int64_t HiddenUnits(const void*, int64_t units) { return units; }
  template <typename T>
  static void AddOptions(const void*, SequenceInputs<T>*) {}
  template <typename T>
  static void AddOptionGradients(void* const*, Gradients<T>*) {}
};

// fn(T{}) for the C ABI's dtype_bytes: 4 float, 8 double; else
// kBadArgument.
template <typename Fn>
Status ForDtype(int dtype_bytes, const Fn& fn) {
  if (dtype_bytes == 4) return fn(float{});
  if (dtype_bytes == 8) return fn(double{});
  return {kBadArgument, "dtype_bytes must be 4 or 8"};
}

template <typename T>
const T* In(const void* p) {
  return static_cast<const T*>(p);
}
template <typename T>
T* Out(void* p) {
  return static_cast<T*>(p);
}

// The C ABI's calls for one cell: Adapter as described at the top; the
// entry's name is the one AttrsFor receives.
template <typename Adapter>
struct CapiEntry {
  using Cell = typename Adapter::Cell;

  template <typename T>
  static SequenceInputs<T> Inputs(const CallArgs& a, bool with_bias) {
    SequenceInputs<T> in{In<T>(a.x), In<T>(a.h0), In<T>(a.c0),
                         In<T>(a.kernel), In<T>(a.recurrent_kernel),
                         with_bias ? In<T>(a.bias) : nullptr, a.lengths,
                         In<T>(a.recurrent_mask)};
    Adapter::template AddOptions<T>(a.options, &in);
    return in;
  }

  template <typename T>
  static Status RunForward(const typename Cell::Attrs& attrs,
                           const CallArgs& a) {
    const ForwardOutputs<T> out{Out<T>(a.output), Out<T>(a.h_n),
                                Out<T>(a.c_n), Out<T>(a.saved),
                                Out<T>(a.cell)};
    return Forward<Cell, T>(attrs, a.walk, Inputs<T>(a, true), out,
                            a.workspace, a.stream);
  }

  template <typename T>
  static Status RunBackward(const typename Cell::Attrs& attrs,
                            const CallArgs& a) {
    const SavedForward<T> fwd{In<T>(a.saved_output), In<T>(a.saved_gates),
                              In<T>(a.saved_cell),   In<T>(a.d_output),
                              In<T>(a.d_h_n),        In<T>(a.d_c_n)};
    Gradients<T> grads{Out<T>(a.dx),     Out<T>(a.dh0),
                       Out<T>(a.dc0),    Out<T>(a.dkernel),
                       Out<T>(a.drecurrent_kernel), Out<T>(a.dbias),
                       Out<T>(a.dpeephole)};
    if (a.d_options != nullptr) {
      Adapter::template AddOptionGradients<T>(a.d_options, &grads);
    }
    return Backward<Cell, T>(attrs, a.walk, Inputs<T>(a, false), fwd, grads,
                             a.workspace, a.stream);
  }

  // A forward or backward call typed for dtype_bytes, with the
  // attributes the name and options give.
  template <bool kBackward>
  static Status Run(const char* name, int dtype_bytes, const CallArgs& a) {
    typename Cell::Attrs attrs;
    TFRNN_GPU_RETURN_IF_ERROR(Adapter::AttrsFor(name, a.options, &attrs));
    return ForDtype(dtype_bytes, [&](auto zero) {
      using T = decltype(zero);
      return kBackward ? RunBackward<T>(attrs, a) : RunForward<T>(attrs, a);
    });
  }

  static Status WorkspaceBytes(int dtype_bytes, bool backward, const Dims& d,
                               bool layer_norm, bool projection,
                               size_t* bytes) {
    return ForDtype(dtype_bytes, [&](auto zero) {
      using T = decltype(zero);
      *bytes = backward
                   ? BackwardWorkspaceBytes<Cell, T>(d, layer_norm, projection)
                   : ForwardWorkspaceBytes<Cell, T>(d, layer_norm, projection);
      return Status{};
    });
  }
};

// Enters a cell under each of its names (a static initializer's work).
template <typename Adapter, size_t N>
bool RegisterCapiCell(const char* const (&names)[N]) {
  using Entry = CapiEntry<Adapter>;
  for (const char* name : names) {
    CapiCells().push_back(CapiCell{name, &Entry::WorkspaceBytes,
                                   &Entry::template Run<false>,
                                   &Entry::template Run<true>,
                                   &Adapter::HiddenUnits});
  }
  return true;
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_CAPI_CELLS_H_
