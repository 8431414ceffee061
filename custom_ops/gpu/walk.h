// The GPU walks of a recurrence, for any cell (gpu/cell.h), over a
// backend that runs their pieces in order on one stream:
//
//   Status Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
//               const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
//               int64_t ldc);       // C[m,n] = op(A) . op(B), row-major
//   template <typename F> Status Each(int64_t n, const F& f);
//                                   // f(i) for i in [0, n), any order
//   Status Copy(void* dst, const void* src, size_t bytes);
//   Status Zero(void* dst, size_t bytes);
//
// (CUDA: gpu/backend_cuda.h; a host stand-in for the tests:
// gpu/backend_host.h). The algorithm is the proven baseline: x.W for
// all steps as one GEMM; per step one GEMM h_{t-1}.U and one fused
// element-wise kernel; backwards per step one element-wise kernel and one
// GEMM (d_recurrent . U^T), then dx, dW, dU as whole-sequence GEMMs and db
// as a two-pass reduction. The LSTM's projection adds a GEMM and an
// element kernel over h per step each way (gpu/projection.h) and
// dW_proj as one more whole-sequence GEMM. Nothing uses atomics: a call's
// results are the same bits every run.
//
// Every pointer is device memory, lengths included (UploadLengths copies
// host lengths); the contract is the CPU kernel's (shared/recurrent_args.h).
#ifndef TFRNN_CUSTOM_OPS_GPU_WALK_H_
#define TFRNN_CUSTOM_OPS_GPU_WALK_H_

#include <algorithm>
#include <cstdint>

#include "gpu/elements.h"
#include "gpu/projection.h"
#include "gpu/status.h"
#include "gpu/workspace.h"
#include "shared/recurrent_args.h"
#include "shared/steps.h"

namespace tfrnn {
namespace gpu {

// Copies n host lengths to the device, by value in kernel arguments (see
// LengthsChunk): nothing waits for the stream and the host buffer may go
// as soon as this returns.
template <typename Backend>
Status UploadLengthsWith(Backend& be, const int32_t* host, int64_t n,
                         int32_t* device) {
  for (int64_t first = 0; first < n; first += LengthsChunk::kMax) {
    const int64_t count = std::min<int64_t>(LengthsChunk::kMax, n - first);
    LengthsChunk chunk;
    std::copy_n(host + first, count, chunk.values);
    chunk.dst = device + first;
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(count, chunk));
  }
  return {};
}

// The call's option inputs, for the element-wise kernels of the units;
// under a projection zoneout_h is the projected h's (ProjectStep).
template <typename T>
ElementAt<T> OptionsOf(const SequenceInputs<T>& in, int64_t units) {
  const StepWeights<T> zoneout_h =
      in.projection == nullptr ? in.zoneout_h : StepWeights<T>{};
  return {in.peephole, zoneout_h, in.zoneout_c, 0, 0, units};
}

// The LSTM's layer norm (cells with kVariants): its walks, after the
// prologues of RunForward / RunBackward (cells/lstm/lstm_layer_norm_gpu_*.h).
template <typename Cell, typename T, typename Backend>
Status RunLayerNormForward(Backend& be, const typename Cell::Attrs& attrs,
                           const Walk& walk, const SequenceInputs<T>& in,
                           const ForwardOutputs<T>& out, void* workspace);
template <typename Cell, typename T, typename Backend>
Status RunLayerNormBackward(Backend& be, const typename Cell::Attrs& attrs,
                            const Walk& walk, const SequenceInputs<T>& in,
                            const SavedForward<T>& fwd,
                            const Gradients<T>& grads, void* workspace);

// Under a projection, step t's h after the cell's elements wrote m [B,H]:
// projected = m . W_proj, then ProjectStep.
template <typename T, typename Backend>
Status ProjectForward(Backend& be, const Walk& walk, int64_t t,
                      const SequenceInputs<T>& in,
                      const ForwardOutputs<T>& out, const T* m, T* projected,
                      const T* h_read, T* h_write) {
  const Dims& d = walk.dims;
  const int64_t Hh = d.hidden;
  TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, false, d.batch, Hh, d.units, m,
                                    d.units, in.projection, Hh, projected,
                                    Hh));
  return be.Each(d.batch * Hh,
                 ProjectStep<T>{d.time, Hh, t, in.lengths, projected,
                                in.recurrent_mask, in.zoneout_h, h_read,
                                h_write, out.h_n, out.output});
}

template <typename Cell, typename T, typename Backend>
Status RunForward(Backend& be, const typename Cell::Attrs& attrs,
                  const Walk& walk, const SequenceInputs<T>& in,
                  const ForwardOutputs<T>& out, void* workspace) {
  const Dims& d = walk.dims;
  const int64_t B = d.batch, time = d.time, H = d.units, Hh = d.hidden;
  const int64_t G = Cell::kGates * H, BH = B * H, BHh = B * Hh;
  TFRNN_GPU_RETURN_IF_ERROR(be.Copy(out.h_n, in.h0, BHh * sizeof(T)));
  if (Cell::kCellState) {
    TFRNN_GPU_RETURN_IF_ERROR(be.Copy(out.c_n, in.c0, BH * sizeof(T)));
  }
  // Without lengths every step runs and writes its output.
  if (out.output != nullptr && in.lengths != nullptr) {
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        B * time * Hh, ZeroPastLengths<T>{in.lengths, time, Hh, out.output}));
  }
  if (B == 0 || walk.max_len == 0 || H == 0) return {};
  if constexpr (Cell::kVariants) {
    if (in.layer_norm.on()) {
      return RunLayerNormForward<Cell, T>(be, attrs, walk, in, out,
                                          workspace);
    }
  }

  WorkspacePlan plan(workspace);
  const ForwardScratch<Cell, T> s(plan, d, in.projection != nullptr);
  TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, false, B * time, G, d.input, in.x,
                                    d.input, in.kernel, G, s.xw, G));
  TFRNN_GPU_RETURN_IF_ERROR(
      be.Each(BHh, CopyMasked<T>{in.h0, in.recurrent_mask, s.h_in}));
  for (int64_t step = 0; step < walk.max_len; ++step) {
    const int64_t t = StepTime(walk.reverse, step, walk.max_len);
    const T* h_read = s.h_in + (step % 2) * BHh;
    T* h_write = s.h_in + ((step + 1) % 2) * BHh;
    TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, false, B, G, Hh, h_read, Hh,
                                      in.recurrent_kernel, G, s.hu, G));
    const ForwardStep<Cell, T> kernel{
        attrs, time, H, t, in.lengths, s.xw, in.bias, s.hu,
        in.recurrent_mask, OptionsOf(in, H), h_read, h_write, out.h_n,
        out.c_n, out.output,
        out.cell,
        out.saved == nullptr ? nullptr : out.saved + t * B * Cell::kSaved * H,
        s.m};
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(BH, kernel));
    if (in.projection != nullptr) {
      TFRNN_GPU_RETURN_IF_ERROR(ProjectForward(
          be, walk, t, in, out, s.m, s.projected, h_read, h_write));
    }
  }
  return {};
}

// dhu = (step t's recurrent-side gradients, rows T*G apart) . U^T: what
// reaches h_{t-1} through U, folded in by the next step.
template <typename T, typename Backend>
Status RecurrentProduct(Backend& be, const Dims& d, int64_t G, int64_t t,
                        const T* d_recurrent, const SequenceInputs<T>& in,
                        T* dhu) {
  return be.Gemm(false, true, d.batch, d.hidden, G, d_recurrent + t * G,
                 d.time * G, in.recurrent_kernel, G, dhu, d.hidden);
}

// The weight GEMMs once every step's gate gradients are in:
// dx = dG_in . W^T, dW = x^T . dG_in, dU = h_seen^T . dG_rec; G: the
// gates' width (kGates * H).
template <typename T, typename Backend>
Status DenseGradients(Backend& be, const Dims& d, int64_t G,
                      const SequenceInputs<T>& in, const T* d_input,
                      const T* d_recurrent, const T* h_seen,
                      const Gradients<T>& grads) {
  const int64_t rows = d.batch * d.time, I = d.input, Hh = d.hidden;
  TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, true, rows, I, G, d_input, G,
                                    in.kernel, G, grads.dx, I));
  TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(true, false, I, G, rows, in.x, I,
                                    d_input, G, grads.dkernel, G));
  return be.Gemm(true, false, Hh, G, rows, h_seen, Hh, d_recurrent, G,
                 grads.drecurrent_kernel, G);
}

// out[c] = the column sums of columns [rows, width] (rows `width` apart),
// deterministically in double through partials [chunks * width].
template <typename T, typename Backend>
Status ColumnSums(Backend& be, int64_t rows, int64_t width, const T* columns,
                  double* partials, T* out) {
  const int64_t chunks = (rows + kBiasChunkRows - 1) / kBiasChunkRows;
  TFRNN_GPU_RETURN_IF_ERROR(be.Each(
      chunks * width,
      ColumnPartialSums<T>{rows, width, columns, partials}));
  return be.Each(width, BiasTotals<T>{chunks, width, partials, out});
}

// dpeephole (cells with kVariants, when asked for) from the gates'
// pre-activation gradients dz [B,T,4H] and the saved rows, saved_width
// wide; partials: at least chunks * 3H.
template <typename Cell, typename T, typename Backend>
Status PeepholeSums(Backend& be, const typename Cell::Attrs& attrs,
                    const Walk& walk, const SequenceInputs<T>& in,
                    const SavedForward<T>& fwd, const T* dz,
                    int64_t saved_width, double* partials,
                    const Gradients<T>& grads) {
  if constexpr (Cell::kVariants) {
    if (grads.dpeephole == nullptr) return {};
    const Dims& d = walk.dims;
    const int64_t width = 3 * d.units, chunks = BiasChunks(d);
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        chunks * width,
        PeepholePartialSums<Cell, T>{
            attrs, OptionsOf(in, d.units), d.batch, d.time, d.units,
            walk.reverse, in.lengths, in.c0, fwd.cell, fwd.saved,
            saved_width, dz, partials}));
    return be.Each(width,
                   BiasTotals<T>{chunks, width, partials, grads.dpeephole});
  }
  return {};
}

// dW_proj = m^T . d_projected over every step, under a projection; s: a
// backward scratch with m_seen and d_projected.
template <typename T, typename Scratch, typename Backend>
Status ProjectionGradient(Backend& be, const Dims& d,
                          const SequenceInputs<T>& in, const Scratch& s,
                          const Gradients<T>& grads) {
  if (in.projection == nullptr) return {};
  return be.Gemm(true, false, d.units, d.hidden, d.batch * d.time, s.m_seen,
                 d.units, s.d_projected, d.hidden, grads.dprojection,
                 d.hidden);
}

// The weight gradients of RunBackward: the GEMMs (dW_proj = m^T .
// d_projected under a projection), db per side (a row of the bias each),
// then dpeephole (its partial sums reuse the bias's buffer: chunks * 3H <=
// chunks * G).
template <typename Cell, typename T, typename Backend>
Status WeightGradients(Backend& be, const typename Cell::Attrs& attrs,
                       const Walk& walk, const SequenceInputs<T>& in,
                       const SavedForward<T>& fwd,
                       const BackwardScratch<Cell, T>& s,
                       const Gradients<T>& grads) {
  constexpr int kSides = BackwardScratch<Cell, T>::kSides;
  const Dims& d = walk.dims;
  const int64_t rows = d.batch * d.time, G = Cell::kGates * d.units;
  TFRNN_GPU_RETURN_IF_ERROR(DenseGradients(
      be, d, G, in, s.d_input, s.d_recurrent, s.h_seen, grads));
  TFRNN_GPU_RETURN_IF_ERROR(ProjectionGradient(be, d, in, s, grads));
  const T* sides[] = {s.d_input, s.d_recurrent};
  for (int side = 0; side < kSides; ++side) {
    TFRNN_GPU_RETURN_IF_ERROR(ColumnSums(be, rows, G, sides[side],
                                         s.bias_partials,
                                         grads.dbias + side * G));
  }
  return PeepholeSums<Cell>(be, attrs, walk, in, fwd, s.d_input,
                            Cell::kSaved * d.units, s.bias_partials, grads);
}

// The gradients of a call where no step runs (or H = 0): zero weights'.
template <typename Cell, typename T, typename Backend>
Status ZeroWeightGradients(Backend& be, const Dims& d,
                           const SequenceInputs<T>& in,
                           const Gradients<T>& grads) {
  constexpr int kSides = BackwardScratch<Cell, T>::kSides;
  const int64_t G = Cell::kGates * d.units, H = d.units;
  TFRNN_GPU_RETURN_IF_ERROR(
      be.Zero(grads.dx, d.batch * d.time * d.input * sizeof(T)));
  TFRNN_GPU_RETURN_IF_ERROR(be.Zero(grads.dkernel, d.input * G * sizeof(T)));
  TFRNN_GPU_RETURN_IF_ERROR(
      be.Zero(grads.drecurrent_kernel, d.hidden * G * sizeof(T)));
  if (grads.dpeephole != nullptr) {
    TFRNN_GPU_RETURN_IF_ERROR(be.Zero(grads.dpeephole, 3 * H * sizeof(T)));
  }
  if (in.projection != nullptr) {
    TFRNN_GPU_RETURN_IF_ERROR(
        be.Zero(grads.dprojection, H * d.hidden * sizeof(T)));
  }
  if constexpr (Cell::kVariants) {
    if (in.layer_norm.on()) {
      T* outputs[] = {grads.dgain_x, grads.dgain_h, grads.dgain_c,
                      grads.dshift_c};
      const int64_t widths[] = {G, G, H, H};
      for (int k = 0; k < 4; ++k) {
        TFRNN_GPU_RETURN_IF_ERROR(be.Zero(outputs[k], widths[k] * sizeof(T)));
      }
    }
  }
  return be.Zero(grads.dbias, kSides * G * sizeof(T));
}

// Zeros a backward scratch's h_seen and (under a projection) m_seen and
// d_projected: steps a row does not run keep them so, and drop out of dU
// and dW_proj.
template <typename T, typename Scratch, typename Backend>
Status ZeroHiddenScratch(Backend& be, const Dims& d,
                         const SequenceInputs<T>& in, const Scratch& s) {
  const int64_t BT = d.batch * d.time;
  TFRNN_GPU_RETURN_IF_ERROR(be.Zero(s.h_seen, BT * d.hidden * sizeof(T)));
  if (in.projection == nullptr) return {};
  TFRNN_GPU_RETURN_IF_ERROR(be.Zero(s.m_seen, BT * d.units * sizeof(T)));
  return be.Zero(s.d_projected, BT * d.hidden * sizeof(T));
}

// Under a projection, step t's h side before the cell's elements: dh's
// split (ProjectionBackwardStep), then dm = d_projected . W_proj^T; s: a
// backward scratch with dhu, h_seen, d_projected and dm.
template <typename T, typename Scratch, typename Backend>
Status ProjectionBackward(Backend& be, const Walk& walk, int64_t t,
                          int64_t pending, const SequenceInputs<T>& in,
                          const SavedForward<T>& fwd, const Scratch& s,
                          T* dh) {
  const Dims& d = walk.dims;
  const int64_t Hh = d.hidden;
  TFRNN_GPU_RETURN_IF_ERROR(be.Each(
      d.batch * Hh,
      ProjectionBackwardStep<T>{d.time, Hh, t, pending, walk.reverse,
                                in.lengths, in.recurrent_mask, in.zoneout_h,
                                in.h0, fwd.output, fwd.d_output, s.dhu, dh,
                                s.d_projected, s.h_seen}));
  return be.Gemm(false, true, d.batch, d.units, Hh, s.d_projected + t * Hh,
                 d.time * Hh, in.projection, Hh, s.dm, d.units);
}

template <typename Cell, typename T, typename Backend>
Status RunBackward(Backend& be, const typename Cell::Attrs& attrs,
                   const Walk& walk, const SequenceInputs<T>& in,
                   const SavedForward<T>& fwd, const Gradients<T>& grads,
                   void* workspace) {
  constexpr int kSides = BackwardScratch<Cell, T>::kSides;
  const Dims& d = walk.dims;
  const int64_t B = d.batch, time = d.time, H = d.units, Hh = d.hidden;
  const int64_t G = Cell::kGates * H, BH = B * H;
  const bool projected = in.projection != nullptr;
  // dh0 (and dc0) carry the running state gradients backwards in time.
  TFRNN_GPU_RETURN_IF_ERROR(
      be.Copy(grads.dh0, fwd.d_h_n, B * Hh * sizeof(T)));
  if (Cell::kCellState) {
    TFRNN_GPU_RETURN_IF_ERROR(be.Copy(grads.dc0, fwd.d_c_n, BH * sizeof(T)));
  }
  if (B == 0 || walk.max_len == 0 || H == 0) {
    return ZeroWeightGradients<Cell>(be, d, in, grads);
  }
  if constexpr (Cell::kVariants) {
    if (in.layer_norm.on()) {
      return RunLayerNormBackward<Cell, T>(be, attrs, walk, in, fwd, grads,
                                           workspace);
    }
  }

  WorkspacePlan plan(workspace);
  const BackwardScratch<Cell, T> s(plan, d, projected);
  // Steps a row does not run keep zero gradients: they drop out of the
  // weight GEMMs.
  const size_t seq_g = B * time * G * sizeof(T);
  TFRNN_GPU_RETURN_IF_ERROR(be.Zero(s.d_input, seq_g));
  if (kSides == 2) TFRNN_GPU_RETURN_IF_ERROR(be.Zero(s.d_recurrent, seq_g));
  TFRNN_GPU_RETURN_IF_ERROR(ZeroHiddenScratch(be, d, in, s));
  int64_t pending = -1;  // the step whose product dhu holds
  for (int64_t step = 0; step < walk.max_len; ++step) {
    const int64_t t = StepTime(!walk.reverse, step, walk.max_len);
    if (projected) {
      TFRNN_GPU_RETURN_IF_ERROR(ProjectionBackward(be, walk, t, pending, in,
                                                   fwd, s, grads.dh0));
    }
    const BackwardStep<Cell, T> kernel{
        attrs, B, time, H, t, pending, walk.reverse, in.lengths,
        in.recurrent_mask, OptionsOf(in, H), in.h0, in.c0, fwd.output,
        fwd.cell, fwd.saved,
        fwd.d_output, s.dhu, grads.dh0, grads.dc0, s.d_input,
        s.d_recurrent, s.h_seen, s.dm, s.m_seen};
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(BH, kernel));
    TFRNN_GPU_RETURN_IF_ERROR(
        RecurrentProduct(be, d, G, t, s.d_recurrent, in, s.dhu));
    pending = t;
  }
  const bool bypass = Cell::kHiddenBypass || in.zoneout_h.values != nullptr;
  TFRNN_GPU_RETURN_IF_ERROR(be.Each(
      B * Hh, FinishRecurrent<T>{pending, time, Hh, in.lengths,
                                 in.recurrent_mask, s.dhu, bypass,
                                 grads.dh0}));
  return WeightGradients(be, attrs, walk, in, fwd, s, grads);
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_WALK_H_
