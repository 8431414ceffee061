// CPU functors of the fused LSTM.
//
// Forward: one GEMM gives x.W for every step. The recurrence then runs on
// blocks of batch rows, one block per thread: rows never interact, so each
// block walks all its steps without synchronising with the others. A step
// adds h.U with a GEMM written straight into the step's gate rows, then one
// fused pass per row activates the gates and updates c and h.
// Backward walks the steps the other way per row block, producing the gate
// pre-activation gradients dG, then one GEMM each gives dx, dW and dU.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <vector>

#include "Eigen/Core"
#include "common/cpu_gemm.h"
#include "common/cpu_recurrence.h"
#include "lstm/lstm_cell.h"
#include "lstm/lstm_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace lstm {

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

// Activates one row of gate pre-activations in place and advances (h, c).
template <typename T>
void ForwardRow(T* g, const T* bias, int64_t H, T* h, T* c) {
  const int64_t G = 4 * H;
  Vec<T>(g, G) += ConstVec<T>(bias, G);
  Vec<T>(g, 2 * H) = Vec<T>(g, 2 * H).logistic();          // i, f
  Vec<T>(g + 2 * H, H) = Vec<T>(g + 2 * H, H).tanh();      // candidate
  Vec<T>(g + 3 * H, H) = Vec<T>(g + 3 * H, H).logistic();  // o
  const T* gi = g;
  const T* gf = g + H;
  const T* gg = g + 2 * H;
  const T* go = g + 3 * H;
  for (int64_t j = 0; j < H; ++j) c[j] = CellState(gi[j], gf[j], gg[j], c[j]);
  Vec<T>(h, H) = ConstVec<T>(c, H).tanh();
  for (int64_t j = 0; j < H; ++j) h[j] = HiddenState(go[j], h[j]);
}

}  // namespace

template <typename T>
struct Forward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const int32_t* lengths,
                  const T* recurrent_mask, T* output, T* h_n, T* c_n,
                  T* gates, T* cell) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 4 * H;
    std::copy_n(h0, B * H, h_n);
    std::copy_n(c0, B * H, c_n);
    if (output != nullptr) std::fill_n(output, B * T_ * H, T(0));
    if (B == 0 || max_len == 0 || H == 0) return;

    // x.W for all steps at once: [B*T, I] x [I, 4H].
    cpu::Gemm<T>(Pool(ctx), false, false, B * T_, G, I, x, I, kernel, G,
                 false, gates, G);

    AlignedVector<T> masked(recurrent_mask != nullptr ? B * H : 0);
    const double flops_per_row = max_len * (2.0 * H * G + 40.0 * G);
    ForRowBlocks(ctx, B, flops_per_row, [&](int64_t lo, int64_t hi) {
      const int64_t steps = BlockSteps(lengths, lo, hi, T_);
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = reverse ? steps - 1 - s : s;
        const T* h_in = cpu::MaskedRows(h_n, recurrent_mask, lo, hi, H,
                                        masked.data());
        // gates[lo:hi, t, :] += h[lo:hi] . U, in the step's strided rows.
        cpu::GemmSlice<T>(false, false, hi - lo, G, H, h_in, H,
                          recurrent_kernel, G, true, gates + (lo * T_ + t) * G,
                          T_ * G);
        for (int64_t b = lo; b < hi; ++b) {
          if (t >= Length(lengths, b, T_)) continue;
          const int64_t row = b * T_ + t;
          T* h = h_n + b * H;
          T* c = c_n + b * H;
          ForwardRow(gates + row * G, bias, H, h, c);
          if (cell != nullptr) std::copy_n(c, H, cell + row * H);
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
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const int32_t* lengths, const T* output, const T* gates,
                  const T* cell, const T* d_output, const T* d_h_n,
                  const T* d_c_n, const T* recurrent_mask, T* dx, T* dh0,
                  T* dc0, T* dkernel, T* drecurrent_kernel, T* dbias) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 4 * H;
    // dh0/dc0 carry the running state gradients backwards through time.
    std::copy_n(d_h_n, B * H, dh0);
    std::copy_n(d_c_n, B * H, dc0);
    if (B == 0 || max_len == 0 || H == 0) {
      std::fill_n(dx, B * T_ * I, T(0));
      std::fill_n(dkernel, I * G, T(0));
      std::fill_n(drecurrent_kernel, H * G, T(0));
      std::fill_n(dbias, G, T(0));
      return;
    }

    // Gate pre-activation gradients and the h each step started from. Steps
    // that do not run are zero, so they drop out of the weight GEMMs.
    AlignedVector<T> d_gates(B * T_ * G);
    AlignedVector<T> h_prev(B * T_ * H);
    AlignedVector<T> dh_rec(B * H);
    AlignedVector<T> tanh_c_rows(B * H);

    const double flops_per_row = max_len * (2.0 * H * G + 60.0 * G);
    ForRowBlocks(ctx, B, flops_per_row, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const int64_t len = Length(lengths, b, T_);
        std::fill(d_gates.begin() + (b * T_ + len) * G,
                  d_gates.begin() + (b + 1) * T_ * G, T(0));
        std::fill(h_prev.begin() + (b * T_ + len) * H,
                  h_prev.begin() + (b + 1) * T_ * H, T(0));
      }
      const int64_t steps = BlockSteps(lengths, lo, hi, T_);
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = reverse ? s : steps - 1 - s;
        for (int64_t b = lo; b < hi; ++b) {
          const int64_t len = Length(lengths, b, T_);
          if (t >= len) {
            // Not run: zero gate gradients keep dh unchanged through the
            // GEMM below (it is restored after it).
            continue;
          }
          const int64_t prev = PreviousStep(reverse, t, len);
          const int64_t row = b * T_ + t;
          const T* c_before =
              prev < 0 ? c0 + b * H : cell + (b * T_ + prev) * H;
          const T* h_before =
              prev < 0 ? h0 + b * H : output + (b * T_ + prev) * H;
          // dU pairs dG with the h the product saw: masked, when masked.
          cpu::CopyMasked(h_before, recurrent_mask, b, H,
                          h_prev.data() + row * H);

          const T* g = gates + row * G;
          T* tanh_c = tanh_c_rows.data() + b * H;
          Vec<T>(tanh_c, H) = ConstVec<T>(cell + row * H, H).tanh();
          T* dh = dh0 + b * H;
          T* dc = dc0 + b * H;
          T* dg = d_gates.data() + row * G;
          const T* dy = d_output + row * H;
          for (int64_t j = 0; j < H; ++j) {
            const StepGrads<T> r =
                CellBackward(g[j], g[H + j], g[2 * H + j], g[3 * H + j],
                             tanh_c[j], c_before[j], dh[j] + dy[j], dc[j]);
            dg[j] = r.di;
            dg[H + j] = r.df;
            dg[2 * H + j] = r.dg;
            dg[3 * H + j] = r.do_;
            dc[j] = r.dc_prev;
          }
        }
        // dh for the step before: dG[lo:hi, t, :] . U^T.
        cpu::GemmSlice<T>(false, true, hi - lo, H, G,
                          d_gates.data() + (lo * T_ + t) * G, T_ * G,
                          recurrent_kernel, G, false,
                          dh_rec.data() + lo * H, H);
        for (int64_t b = lo; b < hi; ++b) {
          if (t < Length(lengths, b, T_)) {
            cpu::CopyMasked(dh_rec.data() + b * H, recurrent_mask, b, H,
                            dh0 + b * H);
          }
        }
      }
    });

    auto* pool = Pool(ctx);
    const T* dG = d_gates.data();
    // dx = dG . W^T, dW = x^T . dG, dU = h_prev^T . dG, db = sum(dG).
    cpu::Gemm<T>(pool, false, true, B * T_, I, G, dG, G, kernel, G, false, dx,
                 I);
    cpu::Gemm<T>(pool, true, false, I, G, B * T_, x, I, dG, G, false, dkernel,
                 G);
    cpu::Gemm<T>(pool, true, false, H, G, B * T_, h_prev.data(), H, dG, G,
                 false, drecurrent_kernel, G);
    cpu::ColumnSums(dG, B * T_, G, dbias);
  }
};

template struct Forward<CPUDevice, float>;
template struct Forward<CPUDevice, double>;
template struct Backward<CPUDevice, float>;
template struct Backward<CPUDevice, double>;

}  // namespace lstm
}  // namespace tfrnn
