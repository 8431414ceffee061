// The LSTM's options as the GPU core's C ABI takes them (gpu/capi.cc),
// and its Adapter for gpu/capi_cells.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CAPI_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CAPI_H_

#include <cstdint>

#include "cells/lstm/lstm_cell_gpu.h"
#include "gpu/capi_cells.h"

// The options of a call (cells/lstm/lstm_cell.h): each pointer null when
// off; a zoneout is one value, or [B,T,H] when its per_step is nonzero;
// cell_clip negative for none; layer norm: gain_x [4H], gain_h [4H],
// gain_c [H], shift_c [H] (all or none) and its epsilon; projection [H,P]
// (zoneout_h then [B,T,P] per step) and P. Their gradients (d_options):
// dgain_x, dgain_h, dgain_c, dshift_c, dprojection, each null where off.
struct TfrnnLstmOptions {
  const void* peephole;
  const void* zoneout_h;
  const void* zoneout_c;
  int zoneout_h_per_step;
  int zoneout_c_per_step;
  double cell_clip;
  const void* layer_norm[4];
  double layer_norm_epsilon;
  const void* projection;
  int64_t projection_units;
};

namespace tfrnn {
namespace lstm {

struct CapiAdapter {
  using Cell = GpuCell;

  static const TfrnnLstmOptions* Of(const void* options) {
    return static_cast<const TfrnnLstmOptions*>(options);
  }

  static gpu::Status AttrsFor(const char*, const void* options,
                              Attrs* attrs) {
    if (options != nullptr) {
      attrs->cell_clip = Of(options)->cell_clip;
      attrs->layer_norm_epsilon = Of(options)->layer_norm_epsilon;
    }
    return {};
  }

  // h is P wide under a projection.
  static int64_t HiddenUnits(const void* options, int64_t units) {
    const TfrnnLstmOptions* o = Of(options);
    return o != nullptr && o->projection != nullptr ? o->projection_units
                                                    : units;
  }

  template <typename T>
  static void AddOptions(const void* options, SequenceInputs<T>* in) {
    const TfrnnLstmOptions* o = Of(options);
    if (o == nullptr) return;
    using gpu::In;
    in->peephole = In<T>(o->peephole);
    in->zoneout_h = {In<T>(o->zoneout_h), o->zoneout_h_per_step != 0};
    in->zoneout_c = {In<T>(o->zoneout_c), o->zoneout_c_per_step != 0};
    in->layer_norm = {In<T>(o->layer_norm[0]), In<T>(o->layer_norm[1]),
                      In<T>(o->layer_norm[2]), In<T>(o->layer_norm[3])};
    in->projection = In<T>(o->projection);
  }

  template <typename T>
  static void AddOptionGradients(void* const* d, Gradients<T>* grads) {
    using gpu::Out;
    grads->dgain_x = Out<T>(d[0]);
    grads->dgain_h = Out<T>(d[1]);
    grads->dgain_c = Out<T>(d[2]);
    grads->dshift_c = Out<T>(d[3]);
    grads->dprojection = Out<T>(d[4]);
  }
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CAPI_H_
