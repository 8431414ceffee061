// CPU functors of the fused GRU; same scheme as lstm_cpu.cc: one GEMM for
// x.W, then one block of batch rows per thread walking all its steps (h.U per
// step, fused gate pass per row), and one GEMM each for dx, dW and dU.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <vector>

#include "Eigen/Core"
#include "common/cpu_gemm.h"
#include "common/cpu_recurrence.h"
#include "gru/gru_cell.h"
#include "gru/gru_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace gru {

using CPUDevice = Eigen::ThreadPoolDevice;

namespace {

using cpu::AlignedVector;
using cpu::BlockSteps;
using cpu::ConstVec;
using cpu::ForRowBlocks;
using cpu::Length;
using cpu::Pool;
using cpu::PreviousStep;
using cpu::Vec;

// One step of one row. xw: x.W of the step [3H] (no bias yet); rec: h.U
// [3H] (no bias yet); bias: [2,3H]. Writes z, r, n, h.Uh + rh to `saved`
// and the new state to h.
template <typename T>
void ForwardRow(const T* xw, const T* rec, const T* bias, int64_t H, T* h,
                T* saved) {
  const T* in_bias = bias;
  const T* rec_bias = bias + 3 * H;
  T* z = saved;
  T* r = saved + H;
  T* n = saved + 2 * H;
  T* rec_n = saved + 3 * H;
  Vec<T>(z, 2 * H) = (ConstVec<T>(xw, 2 * H) + ConstVec<T>(in_bias, 2 * H) +
                      ConstVec<T>(rec, 2 * H) + ConstVec<T>(rec_bias, 2 * H))
                         .logistic();
  Vec<T>(rec_n, H) = ConstVec<T>(rec + 2 * H, H) +
                     ConstVec<T>(rec_bias + 2 * H, H);
  Vec<T>(n, H) = (ConstVec<T>(xw + 2 * H, H) + ConstVec<T>(in_bias + 2 * H, H) +
                  ConstVec<T>(r, H) * ConstVec<T>(rec_n, H))
                     .tanh();
  for (int64_t j = 0; j < H; ++j) h[j] = HiddenState(z[j], h[j], n[j]);
}

}  // namespace

template <typename T>
struct Forward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* kernel, const T* recurrent_kernel, const T* bias,
                  const int32_t* lengths, const T* recurrent_mask, T* output,
                  T* h_n, T* reserve) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 3 * H, S = kReserveGates * H;
    std::copy_n(h0, B * H, h_n);
    if (output != nullptr) std::fill_n(output, B * T_ * H, T(0));
    if (B == 0 || max_len == 0 || H == 0) return;

    AlignedVector<T> xw(B * T_ * G);
    cpu::Gemm<T>(Pool(ctx), false, false, B * T_, G, I, x, I, kernel, G,
                 false, xw.data(), G);
    AlignedVector<T> rec(B * G);
    // Activations are computed in a per-row scratch in both modes and
    // copied to the reserve when training: Eigen's vectorised tanh/sigmoid
    // round differently at different alignments, and the two modes must
    // give bitwise the same outputs.
    AlignedVector<T> scratch(B * S);
    AlignedVector<T> masked(recurrent_mask != nullptr ? B * H : 0);

    const double flops_per_row = max_len * (2.0 * H * G + 40.0 * G);
    ForRowBlocks(ctx, B, flops_per_row, [&](int64_t lo, int64_t hi) {
      const int64_t steps = BlockSteps(lengths, lo, hi, T_);
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = reverse ? steps - 1 - s : s;
        const T* h_in = cpu::MaskedRows(h_n, recurrent_mask, lo, hi, H,
                                        masked.data());
        cpu::GemmSlice<T>(false, false, hi - lo, G, H, h_in, H,
                          recurrent_kernel, G, false, rec.data() + lo * G, G);
        for (int64_t b = lo; b < hi; ++b) {
          if (t >= Length(lengths, b, T_)) continue;
          const int64_t row = b * T_ + t;
          T* saved = scratch.data() + b * S;
          T* h = h_n + b * H;
          ForwardRow(xw.data() + row * G, rec.data() + b * G, bias, H, h,
                     saved);
          if (reserve != nullptr) std::copy_n(saved, S, reserve + row * S);
          if (output != nullptr) std::copy_n(h, H, output + row * H);
        }
      }
    });
  }
};

template <typename T>
struct Backward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* kernel, const T* recurrent_kernel,
                  const int32_t* lengths, const T* output, const T* reserve,
                  const T* d_output, const T* d_h_n, const T* recurrent_mask,
                  T* dx, T* dh0, T* dkernel, T* drecurrent_kernel, T* dbias) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 3 * H, S = kReserveGates * H;
    // dh0 carries the running state gradient backwards through time.
    std::copy_n(d_h_n, B * H, dh0);
    if (B == 0 || max_len == 0 || H == 0) {
      std::fill_n(dx, B * T_ * I, T(0));
      std::fill_n(dkernel, I * G, T(0));
      std::fill_n(drecurrent_kernel, H * G, T(0));
      std::fill_n(dbias, 2 * G, T(0));
      return;
    }

    // Gradients of the input-side and recurrent-side pre-activations (they
    // differ in the candidate part) and the h each step started from; steps
    // that do not run stay zero and drop out of the weight GEMMs.
    AlignedVector<T> d_input(B * T_ * G);
    AlignedVector<T> d_recurrent(B * T_ * G);
    AlignedVector<T> h_prev(B * T_ * H);
    AlignedVector<T> dh_rec(recurrent_mask != nullptr ? B * H : 0);

    const double flops_per_row = max_len * (2.0 * H * G + 60.0 * G);
    ForRowBlocks(ctx, B, flops_per_row, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const int64_t len = Length(lengths, b, T_);
        for (auto* buffer : {&d_input, &d_recurrent}) {
          std::fill(buffer->begin() + (b * T_ + len) * G,
                    buffer->begin() + (b + 1) * T_ * G, T(0));
        }
        std::fill(h_prev.begin() + (b * T_ + len) * H,
                  h_prev.begin() + (b + 1) * T_ * H, T(0));
      }
      const int64_t steps = BlockSteps(lengths, lo, hi, T_);
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = reverse ? s : steps - 1 - s;
        for (int64_t b = lo; b < hi; ++b) {
          const int64_t len = Length(lengths, b, T_);
          if (t >= len) continue;
          const int64_t prev = PreviousStep(reverse, t, len);
          const int64_t row = b * T_ + t;
          const T* hp = prev < 0 ? h0 + b * H : output + (b * T_ + prev) * H;
          // dU pairs dR with the h the product saw: masked, when masked.
          cpu::CopyMasked(hp, cpu::MaskAt(recurrent_mask, b * H), H,
                          h_prev.data() + row * H);
          const T* saved = reserve + row * S;
          const T* dy = d_output + row * H;
          T* dh = dh0 + b * H;
          T* di = d_input.data() + row * G;
          T* dr = d_recurrent.data() + row * G;
          for (int64_t j = 0; j < H; ++j) {
            const StepGrads<T> g =
                CellBackward(saved[j], saved[H + j], saved[2 * H + j],
                             saved[3 * H + j], hp[j], dh[j] + dy[j]);
            di[j] = dr[j] = g.dz;
            di[H + j] = dr[H + j] = g.dr;
            di[2 * H + j] = g.dn_input;
            dr[2 * H + j] = g.dn_recurrent;
            dh[j] = g.dh_prev;
          }
        }
        // dh[lo:hi] += dR[lo:hi, t, :] . U^T; rows that did not run have
        // zero dR and keep their dh.
        if (recurrent_mask == nullptr) {
          cpu::GemmSlice<T>(false, true, hi - lo, H, G,
                            d_recurrent.data() + (lo * T_ + t) * G, T_ * G,
                            recurrent_kernel, G, true, dh0 + lo * H, H);
        } else {
          // The product saw h * mask: its gradient reaches h times mask.
          cpu::GemmSlice<T>(false, true, hi - lo, H, G,
                            d_recurrent.data() + (lo * T_ + t) * G, T_ * G,
                            recurrent_kernel, G, false,
                            dh_rec.data() + lo * H, H);
          const int64_t n = (hi - lo) * H;
          Vec<T>(dh0 + lo * H, n) += ConstVec<T>(dh_rec.data() + lo * H, n) *
                                     ConstVec<T>(recurrent_mask + lo * H, n);
        }
      }
    });

    auto* pool = Pool(ctx);
    const T* dI = d_input.data();
    const T* dR = d_recurrent.data();
    cpu::Gemm<T>(pool, false, true, B * T_, I, G, dI, G, kernel, G, false, dx,
                 I);
    cpu::Gemm<T>(pool, true, false, I, G, B * T_, x, I, dI, G, false, dkernel,
                 G);
    cpu::Gemm<T>(pool, true, false, H, G, B * T_, h_prev.data(), H, dR, G,
                 false, drecurrent_kernel, G);
    cpu::ColumnSums(pool, dI, B * T_, G, dbias);
    cpu::ColumnSums(pool, dR, B * T_, G, dbias + G);
  }
};

template struct Forward<CPUDevice, float>;
template struct Forward<CPUDevice, double>;
template struct Backward<CPUDevice, float>;
template struct Backward<CPUDevice, double>;

}  // namespace gru
}  // namespace tfrnn
