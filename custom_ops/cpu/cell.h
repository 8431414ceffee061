// What a cell hands the CPU recurrence engine (cpu/engine.h), beside
// its traits (kGates etc., see binding/op_kernels.h): its pointwise
// math on the SIMD packets of `width` units u.. of one batch row, as
//
//   Cell(const Attrs&, const SequenceInputs<T>& in, const Dims& d);
//   StepState<Packet> Forward(const Packet* hu, T* saved, const T* h_prev,
//                             const T* c_prev, int64_t row, int64_t u,
//                             int64_t width) const;
//   StepGrads<Packet, kGates> Backward(const BackwardView<T>& v, int64_t u,
//                                      int64_t width, Packet dh,
//                                      Packet dc) const;
//   bool HiddenBypass() const;  // part of dh_{t-1} bypasses U in this call
//
// and, for cells with kVariants (the LSTM's options):
//
//   bool RowWise() const;        // whole rows at a time (layer norm,
//                                // projection)
//   bool NormalizesInput() const;  // NormalizeInput makes the x side
//   int64_t TermRows() const;    // rows of H of per-step gradient terms
//   std::vector<TermOutput<T>> TermOutputs(const Gradients<T>&) const;
//   int64_t RowScratch() const;  // values of scratch BackwardRow needs
//   void NormalizeInput(T* saved, const T* bias) const;
//   template <typename StoreCell, typename StoreHidden>
//   void ForwardRow(T* hu, T* saved, const T* h_prev, const T* c_prev,
//                   int64_t row, const StoreCell&,
//                   const StoreHidden&) const;
//   void BackwardRow(const BackwardView<T>& v, T* dh, T* dc, T* d_input,
//                    T* d_recurrent, T* terms, T* scratch,
//                    const ProjectionRows<T>& projection) const;
//
// Each step's rows of a row-wise call go through ForwardRow / BackwardRow
// whole (lstm_cell_cpu.h documents them), its steps split by batch rows or,
// with too few rows, its products by units and the rows after them on one
// part (StepSplit::rows_phase); under NormalizesInput its hoisted rows hold
// x.W alone until NormalizeInput makes them the x side's pre-activations,
// and the two sides' gate gradients differ. The per-step terms (the
// peepholes', the layer norm's with its bias) are summed over every step
// and row into their gradients. Under the LSTM's projection h is
// Dims::hidden wide (BackwardView's h, h_prev too) and BackwardRow leaves
// each row's pair for dW_proj = sum of m^T . dh_proj in ProjectionRows.
//
// Forward: hu[g] is h_{t-1}.U of gate g; saved is the row's values of the
// step: x.W + b in its first kGates * H on entry, left holding what the
// backward needs (kSaved * H values); h_prev, c_prev are the row's state
// before the step (c_prev null for cells without a cell state); row is
// b * T + t, where the step's per-step inputs are.
// Backward: dh and dc are the gradients reaching h_t and c_t.
#ifndef TFRNN_CUSTOM_OPS_CPU_CELL_H_
#define TFRNN_CUSTOM_OPS_CPU_CELL_H_

#include <cstdint>
#include <vector>

#include "shared/recurrent_args.h"

namespace tfrnn {
namespace cpu {

// A row's new state; c only for cells with a cell state.
template <typename Packet>
struct StepState {
  Packet h, c;
};

// One row's saved values of step t and its states around it (c and c_prev
// only for cells with a cell state; saved null for cells that save nothing).
template <typename T>
struct BackwardView {
  const T* saved;   // the step's saved row [kSaved * H]
  const T* h;       // h_t
  const T* h_prev;  // h_{t-1}, before any recurrent mask
  const T* c;       // c_t
  const T* c_prev;  // c_{t-1}
  int64_t units;    // H
  int64_t row;      // b * T + t
};

// Gradients of one step for `width` units: of each gate's input-side
// pre-activation (the x.W + b part: dx, dW, db), of its recurrent-side one
// (the h.U part: dh_{t-1} through U, dU, the recurrent bias; only read for
// cells whose two differ), of h_{t-1} by paths that bypass U (only for
// cells that have one), of c_{t-1}, and the step's terms of the peephole
// gradient (LSTM with peepholes).
template <typename Packet, int kGates>
struct StepGrads {
  Packet input[kGates];
  Packet recurrent[kGates];
  Packet h_prev;
  Packet c_prev;
  Packet peephole[3];
};

// Whether `cell` runs whole rows in this call (see above).
template <typename Cell>
bool RowWise(const Cell& cell) {
  if constexpr (Cell::kVariants) {
    return cell.RowWise();
  } else {
    return false;
  }
}

// Whether `cell`'s hoisted rows are x.W alone, for NormalizeInput.
template <typename Cell>
bool NormalizesInput(const Cell& cell) {
  if constexpr (Cell::kVariants) {
    return cell.NormalizesInput();
  } else {
    return false;
  }
}

// A row's share of the projection's gradient (the LSTM's LSTMP), both null
// without one: m_t = o * tanh(..) [H], what the projection read, and the
// gradient reaching its product m_t . W_proj [Hh].
template <typename T>
struct ProjectionRows {
  T* m;
  T* dh;
};

// A gradient summed from per-step terms: its values, `rows` rows of H.
template <typename T>
struct TermOutput {
  T* values;
  int64_t rows;
};

// The gradients `cell`'s per-step terms sum into, in the terms' order
// (TermRows() rows in all); a row-wise cell's bias is among them.
template <typename Cell, typename T>
std::vector<TermOutput<T>> TermOutputs(const Cell& cell,
                                       const Gradients<T>& grads) {
  if constexpr (Cell::kVariants) {
    return cell.TermOutputs(grads);
  } else {
    return {};
  }
}

// The rows of H of per-step gradient terms `cell` writes in this call.
template <typename Cell>
int64_t TermRows(const Cell& cell) {
  if constexpr (Cell::kVariants) {
    return cell.TermRows();
  } else {
    return 0;
  }
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_CELL_H_
