// CPU functors of the fused LSTM.
//
// Forward: one GEMM gives x.W for every step; each step adds h.U with a GEMM
// written straight into that step's rows of the gate buffer, then one fused
// pass per row activates the gates and updates c and h. Backward walks the
// steps the other way, producing the gate pre-activation gradients dG, and
// finishes with one GEMM each for dx, dW and dU.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <cstring>
#include <vector>

#include "Eigen/Core"
#include "cpu_gemm.h"
#include "lstm_cell.h"
#include "lstm_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace lstm {

using CPUDevice = Eigen::ThreadPoolDevice;

namespace {

template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

tensorflow::thread::ThreadPool* Pool(tensorflow::OpKernelContext* ctx) {
  return ctx->device()->tensorflow_cpu_worker_threads()->workers;
}

using cpu::Adaptive;

// Runs fn(b) for every batch row active at step t, sharded on the pool.
template <typename Fn>
void ForActiveRows(tensorflow::OpKernelContext* ctx, int64_t batch, int64_t t,
                   const int32_t* lengths, int64_t cost_per_row, Fn fn) {
  Pool(ctx)->ParallelFor(batch, Adaptive(cost_per_row), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      if (lengths == nullptr || t < lengths[b]) fn(b);
    }
  });
}

// Where step t's state came from for row b: the step visited before t, or -1
// for the initial state.
inline int64_t PreviousStep(bool reverse, int64_t t, int64_t length) {
  if (reverse) return t + 1 < length ? t + 1 : -1;
  return t - 1;
}

}  // namespace

template <typename T>
struct Forward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const int32_t* lengths, T* output, T* h_n,
                  T* c_n, T* gates, T* cell) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 4 * H;
    auto* pool = Pool(ctx);
    std::copy_n(h0, B * H, h_n);
    std::copy_n(c0, B * H, c_n);
    if (output != nullptr) std::fill_n(output, B * T_ * H, T(0));
    if (B == 0 || max_len == 0 || H == 0) return;

    // x.W for all steps at once: [B*T, I] x [I, 4H].
    cpu::Gemm<T>(pool, false, false, B * T_, G, I, x, I, kernel, G, false,
                 gates, G);

    const int64_t row_cost = 30 * G;
    for (int64_t s = 0; s < max_len; ++s) {
      const int64_t t = reverse ? max_len - 1 - s : s;
      // gates[:, t, :] += h . U, in place in the strided rows of step t.
      cpu::Gemm<T>(pool, false, false, B, G, H, h_n, H, recurrent_kernel, G,
                   true, gates + t * G, T_ * G);
      ForActiveRows(ctx, B, t, lengths, row_cost, [&](int64_t b) {
        T* g = gates + (b * T_ + t) * G;
        Vec<T> pre(g, G);
        pre += ConstVec<T>(bias, G);
        Vec<T>(g, 2 * H) = Vec<T>(g, 2 * H).logistic();     // i, f
        Vec<T>(g + 2 * H, H) = Vec<T>(g + 2 * H, H).tanh();  // candidate
        Vec<T>(g + 3 * H, H) = Vec<T>(g + 3 * H, H).logistic();  // o
        const T* gi = g;
        const T* gf = g + H;
        const T* gg = g + 2 * H;
        const T* go = g + 3 * H;
        T* c = c_n + b * H;
        T* h = h_n + b * H;
        for (int64_t j = 0; j < H; ++j) {
          c[j] = CellState(gi[j], gf[j], gg[j], c[j]);
        }
        Vec<T>(h, H) = Vec<T>(c, H).tanh();
        for (int64_t j = 0; j < H; ++j) h[j] = HiddenState(go[j], h[j]);
        if (cell != nullptr) std::copy_n(c, H, cell + (b * T_ + t) * H);
        if (output != nullptr) std::copy_n(h, H, output + (b * T_ + t) * H);
      });
    }
  }
};

template <typename T>
struct Backward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const int32_t* lengths, const T* output, const T* gates,
                  const T* cell, const T* d_output, const T* d_h_n,
                  const T* d_c_n, T* dx, T* dh0, T* dc0, T* dkernel,
                  T* drecurrent_kernel, T* dbias) {
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = 4 * H;
    auto* pool = Pool(ctx);
    // dh0/dc0 carry the running state gradients backwards through time.
    std::copy_n(d_h_n, B * H, dh0);
    std::copy_n(d_c_n, B * H, dc0);
    std::fill_n(dx, B * T_ * I, T(0));
    std::fill_n(dkernel, I * G, T(0));
    std::fill_n(drecurrent_kernel, H * G, T(0));
    std::fill_n(dbias, G, T(0));
    if (B == 0 || max_len == 0 || H == 0) return;

    // Gate pre-activation gradients and the h each step started from; steps
    // that do not run stay zero and so drop out of the weight GEMMs.
    std::vector<T> d_gates(B * T_ * G, T(0));
    std::vector<T> h_prev(B * T_ * H, T(0));
    std::vector<T> dh_rec(B * H);
    std::vector<T> tanh_c_rows(B * H);

    const int64_t row_cost = 40 * G;
    for (int64_t s = 0; s < max_len; ++s) {
      const int64_t t = reverse ? s : max_len - 1 - s;
      ForActiveRows(ctx, B, t, lengths, row_cost, [&](int64_t b) {
        const int64_t len = lengths == nullptr ? T_ : lengths[b];
        const int64_t prev = PreviousStep(reverse, t, len);
        const int64_t row = b * T_ + t;
        const T* c_before = prev < 0 ? c0 + b * H : cell + (b * T_ + prev) * H;
        const T* h_before =
            prev < 0 ? h0 + b * H : output + (b * T_ + prev) * H;
        std::copy_n(h_before, H, h_prev.data() + row * H);

        const T* g = gates + row * G;
        T* tanh_c = tanh_c_rows.data() + b * H;
        Vec<T>(tanh_c, H) = ConstVec<T>(cell + row * H, H).tanh();
        T* dh = dh0 + b * H;
        T* dc = dc0 + b * H;
        T* dg = d_gates.data() + row * G;
        const T* dy = d_output == nullptr ? nullptr : d_output + row * H;
        for (int64_t j = 0; j < H; ++j) {
          const T dh_total = dh[j] + (dy == nullptr ? T(0) : dy[j]);
          const StepGrads<T> r =
              CellBackward(g[j], g[H + j], g[2 * H + j], g[3 * H + j],
                           tanh_c[j], c_before[j], dh_total, dc[j]);
          dg[j] = r.di;
          dg[H + j] = r.df;
          dg[2 * H + j] = r.dg;
          dg[3 * H + j] = r.do_;
          dc[j] = r.dc_prev;
        }
      });
      // dh for the step before: dG[:, t, :] . U^T (rows that did not run
      // contribute nothing and keep their dh).
      cpu::Gemm<T>(pool, false, true, B, H, G, d_gates.data() + t * G, T_ * G,
                   recurrent_kernel, G, false, dh_rec.data(), H);
      ForActiveRows(ctx, B, t, lengths, H, [&](int64_t b) {
        std::copy_n(dh_rec.data() + b * H, H, dh0 + b * H);
      });
    }

    const T* dG = d_gates.data();
    // dx = dG . W^T, dW = x^T . dG, dU = h_prev^T . dG, db = sum(dG).
    cpu::Gemm<T>(pool, false, true, B * T_, I, G, dG, G, kernel, G, false, dx,
                 I);
    cpu::Gemm<T>(pool, true, false, I, G, B * T_, x, I, dG, G, false, dkernel,
                 G);
    cpu::Gemm<T>(pool, true, false, H, G, B * T_, h_prev.data(), H, dG, G,
                 false, drecurrent_kernel, G);
    Vec<T> db(dbias, G);
    for (int64_t r = 0; r < B * T_; ++r) db += ConstVec<T>(dG + r * G, G);
  }
};

template struct Forward<CPUDevice, float>;
template struct Forward<CPUDevice, double>;
template struct Backward<CPUDevice, float>;
template struct Backward<CPUDevice, double>;

}  // namespace lstm
}  // namespace tfrnn
