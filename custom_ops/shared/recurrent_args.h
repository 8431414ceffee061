// The arguments of a recurrent op's functors, grouped by role. Every tensor
// is row-major; sequences are batch-major [B,T,..] except the saved values,
// which are time-major [T,B,..] (a step's rows are one block). Pointers a
// cell does not use (c0, c_n, cell for cells without a cell state) are null.
#ifndef TFRNN_CUSTOM_OPS_SHARED_RECURRENT_ARGS_H_
#define TFRNN_CUSTOM_OPS_SHARED_RECURRENT_ARGS_H_

#include <cstdint>

#include "shared/dims.h"

namespace tfrnn {

// Which steps a call visits: 0..max_len-1, or max_len-1..0 when reverse;
// step t of row b runs when t < lengths[b].
struct Walk {
  Dims dims;
  bool reverse;
  int64_t max_len;
};

// A cell's per-unit weights of each step (the LSTM's zoneout: the share of
// the previous state kept): none (values null), one value for every unit
// and step, or per_step [B,T,H].
template <typename T>
struct StepWeights {
  const T* values;
  bool per_step;
};

// The LSTM's layer-norm weights (each null when layer norm is off).
template <typename T>
struct LayerNormWeights {
  const T* gain_x;   // [4H] LN of each gate's x.W
  const T* gain_h;   // [4H] LN of each gate's h.U
  const T* gain_c;   // [H] LN of c_t, as tanh reads it
  const T* shift_c;  // [H]
  bool on() const { return gain_x != nullptr; }
};

// Shapes name h's width Hh: the LSTM's projection P, else H (Dims::hidden).
template <typename T>
struct SequenceInputs {
  const T* x;                 // [B,T,I]
  const T* h0;                // [B,Hh]
  const T* c0;                // [B,H]
  const T* kernel;            // W [I,G*H]
  const T* recurrent_kernel;  // U [Hh,G*H]
  const T* bias;              // [G*H] first: the input-side bias
  const int32_t* lengths;     // [B], or null: every row runs T steps
  const T* recurrent_mask;    // [B,Hh] multiplying h_{t-1} in h.U, or null
  // The LSTM's options (kVariants), each null when off:
  const T* peephole;          // [3,H]: p_i, p_f, p_o
  StepWeights<T> zoneout_h;   // per step [B,T,Hh]
  StepWeights<T> zoneout_c;   // per step [B,T,H]
  LayerNormWeights<T> layer_norm;
  // [H,P]: h_t = (o * tanh(c_t)) . projection (LSTMP), before zoneout_h
  const T* projection;
};

// Values per step and row the forward saves for the backward: the cell's
// kSaved per unit, or under the LSTM's layer norm its wider row.
template <typename Cell, typename T>
int64_t SavedWidth(const SequenceInputs<T>& in, int64_t units) {
  if constexpr (Cell::kVariants) {
    if (in.layer_norm.on()) return Cell::LayerNormSavedWidth(units);
  }
  return Cell::kSaved * units;
}

template <typename T>
struct ForwardOutputs {
  T* output;  // [B,T,Hh] (zeros where a row has ended), or null
  T* h_n;     // [B,Hh]: the state after each row's last step
  T* c_n;     // [B,H]
  T* saved;   // [T,B,SavedWidth] for the backward, or null (inference)
  T* cell;    // [B,T,H] the cell states, or null (inference)
};

// What the backward reads of the forward, and the incoming gradients.
template <typename T>
struct SavedForward {
  const T* output;    // [B,T,Hh]
  const T* saved;     // [T,B,SavedWidth]
  const T* cell;      // [B,T,H]
  const T* d_output;  // [B,T,Hh]
  const T* d_h_n;     // [B,Hh]
  const T* d_c_n;     // [B,H]
};

template <typename T>
struct Gradients {
  T* dx;                 // [B,T,I]
  T* dh0;                // [B,Hh]
  T* dc0;                // [B,H]
  T* dkernel;            // [I,G*H]
  T* drecurrent_kernel;  // [Hh,G*H]
  T* dbias;              // the bias's shape
  T* dpeephole;          // [3,H], or null without peepholes
  // The layer norm's, or null without it: [4H], [4H], [H], [H].
  T* dgain_x;
  T* dgain_h;
  T* dgain_c;
  T* dshift_c;
  T* dprojection;  // [H,P], or null without a projection
};

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_SHARED_RECURRENT_ARGS_H_
