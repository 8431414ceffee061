// The element kernels of a projected h (the LSTM's projection, LSTMP) for
// the GPU walks (gpu/walk.h): h_t = m_t . W_proj, P = Hh wide, with
// zoneout_h mixing the projected h. The GEMMs around them are the walk's;
// these do what the projection adds per element of h, n = B*Hh, i = b * Hh
// + j.
#ifndef TFRNN_CUSTOM_OPS_GPU_PROJECTION_H_
#define TFRNN_CUSTOM_OPS_GPU_PROJECTION_H_

#include <cstdint>

#include "gpu/elements.h"
#include "shared/host_device.h"
#include "shared/recurrent_args.h"
#include "shared/steps.h"

namespace tfrnn {
namespace gpu {

// zoneout_h's z at row b * T + t, column j of Hh.
template <typename T>
TFRNN_HOST_DEVICE inline T ProjectedZoneout(const StepWeights<T>& z,
                                            int64_t row, int64_t hidden,
                                            int64_t j) {
  return z.per_step ? z.values[row * hidden + j] : z.values[0];
}

// Step t of a forward walk after the projection's GEMM: the carried h_t
// from m_t . W_proj, for every row and column of h.
template <typename T>
struct ProjectStep {
  int64_t time, hidden, t;
  const int32_t* lengths;      // [B] or null
  const T* projected;          // [B,Hh] m_t . W_proj
  const T* mask;               // [B,Hh] recurrent mask, or null
  StepWeights<T> zoneout_h;    // one value or [B,T,Hh]; null values: off
  const T* h_read;             // [B,Hh] the masked h_{t-1}
  T* h_write;                  // [B,Hh] the masked h_t
  T* h;                        // [B,Hh] the running h
  T* output;                   // [B,T,Hh] or null

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t b = i / hidden, j = i % hidden;
    if (t >= Length(lengths, b, time)) {
      h_write[i] = h_read[i];
      return;
    }
    T next = projected[i];
    if (zoneout_h.values != nullptr) {
      const T z = ProjectedZoneout(zoneout_h, b * time + t, hidden, j);
      next = z * h[i] + (T(1) - z) * next;
    }
    h[i] = next;
    if (output != nullptr) output[(b * time + t) * hidden + j] = next;
    h_write[i] = MaskedValue(next, mask, i);
  }
};

// Step t of a backward walk before the cell's: folds in the product of the
// step visited before (pending, as BackwardStep does unprojected), then
// splits the gradient reaching h_t: (1 - z) of it reaches m_t . W_proj
// (d_projected), z of it h_{t-1} past U (left in dh, under zoneout_h).
template <typename T>
struct ProjectionBackwardStep {
  int64_t time, hidden, t, pending;
  bool reverse;
  const int32_t* lengths;      // [B] or null
  const T* mask;               // [B,Hh] or null
  StepWeights<T> zoneout_h;    // one value or [B,T,Hh]; null values: off
  const T* h0;                 // [B,Hh]
  const T* output;             // [B,T,Hh] the forward's h_t
  const T* d_output;           // [B,T,Hh]
  const T* dhu;                // [B,Hh] step `pending`'s d_recurrent . U^T
  T* dh;                       // [B,Hh] the gradient reaching h_t
  T* d_projected;              // [B,T,Hh]
  T* h_seen;                   // [B,T,Hh] the masked h_{t-1}, for dU

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t b = i / hidden, j = i % hidden;
    const int64_t len = Length(lengths, b, time);
    const bool zoneout = zoneout_h.values != nullptr;
    FoldRecurrent(pending, time, lengths, mask, dhu, zoneout, dh, b, i);
    if (t >= len) return;
    const int64_t prev = PreviousStep(reverse, t, len);
    const int64_t row = (b * time + t) * hidden + j;
    const T h_prev = prev < 0 ? h0[i] : output[(b * time + prev) * hidden + j];
    h_seen[row] = MaskedValue(h_prev, mask, i);
    const T d = dh[i] + d_output[row];
    if (!zoneout) {
      d_projected[row] = d;
      return;
    }
    const T z = ProjectedZoneout(zoneout_h, b * time + t, hidden, j);
    dh[i] = z * d;
    d_projected[row] = d - z * d;
  }
};

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_PROJECTION_H_
