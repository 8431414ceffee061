// Whole-row math of the LSTM's row-wise options on the CPU engine's packets
// (cpu/simd.h): the layer norm's reductions over a row's H units (Rows)
// and the projection's product with W_proj (Projector). Every sum runs in
// one order whatever the addresses, so a row's values do not depend on
// where its scratch lies (on the thread split).
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_ROWS_CPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_ROWS_CPU_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cells/lstm/lstm_cell.h"
#include "cpu/simd.h"
#include "shared/recurrent_args.h"

namespace tfrnn {
namespace lstm {

// A step weight at flat index `at` of its per-step [B,T,width] values.
template <typename T>
typename cpu::Simd<T>::Packet WeightAt(const StepWeights<T>& w, int64_t at,
                                       int64_t width) {
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;
  if (!w.per_step) return Eigen::internal::pset1<Packet>(w.values[0]);
  return S::Load(w.values + at, width);
}

// Rows of H values: maps, means, the layer norm's normalisation and its
// gradient (epsilon: the norm's).
template <typename T>
class Rows {
 public:
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;

  Rows(int64_t H, T epsilon) : H_(H), epsilon_(epsilon) {}

  using RowMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstRowMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  RowMap Row(T* p) const { return RowMap(p, H_); }
  ConstRowMap ConstRow(const T* p) const { return ConstRowMap(p, H_); }

  // The mean over the row's H units of f(load), load(p) being p's values
  // at a packet (or a unit) of them: in one order whatever the addresses.
  // (Eigen's reductions peel to an aligned address first, so a row's
  // statistics would depend on where its scratch lies: on the thread
  // split.)
  template <typename F>
  T Mean(const F& f) const {
    Packet sum = Eigen::internal::pset1<Packet>(T(0));
    int64_t u = 0;
    for (; u + S::kSize <= H_; u += S::kSize) {
      sum = Eigen::internal::padd(sum, f([u](const T* p) {
        return Eigen::internal::ploadu<Packet>(p + u);
      }));
    }
    T total = Eigen::internal::predux(sum);
    for (; u < H_; ++u) total += f([u](const T* p) { return p[u]; });
    return total / T(H_);
  }

  // normed = (x - mean) * rstd over H values; returns rstd (two passes,
  // as tf.nn.moments).
  T Normalize(const T* x, T* normed) const {
    const T mean = Mean([&](auto at) { return at(x); });
    const T variance = Mean([&](auto at) {
      const auto d = at(x) - mean;
      return d * d;
    });
    const T rstd = T(1) / std::sqrt(variance + epsilon_);
    Row(normed) = (ConstRow(x) - mean) * rstd;
    return rstd;
  }

  // The gradient dz reaching LN(x) * gain: gain's term dz * normed (to
  // d_gain, when not null) and x's (to dx, when not null; may be dz).
  void NormBackward(const T* dz, const T* gain, const T* normed, T rstd,
                    T* d_gain, T* dx) const {
    if (d_gain != nullptr) Row(d_gain) = ConstRow(dz) * ConstRow(normed);
    if (dx == nullptr) return;
    const T mean_dy = Mean([&](auto at) { return at(dz) * at(gain); });
    const T mean_dy_normed = Mean(
        [&](auto at) { return at(dz) * at(gain) * at(normed); });
    const auto dy = ConstRow(dz) * ConstRow(gain);
    Row(dx) = rstd * (dy - mean_dy - ConstRow(normed) * mean_dy_normed);
  }

  // The sum of a[k] * b[k] over k < n, in one order whatever the addresses.
  static T Dot(const T* a, const T* b, int64_t n) {
    Packet sum = Eigen::internal::pset1<Packet>(T(0));
    int64_t k = 0;
    for (; k + S::kSize <= n; k += S::kSize) {
      sum = Eigen::internal::pmadd(Eigen::internal::ploadu<Packet>(a + k),
                                   Eigen::internal::ploadu<Packet>(b + k),
                                   sum);
    }
    T total = Eigen::internal::predux(sum);
    for (; k < n; ++k) total += a[k] * b[k];
    return total;
  }

 private:
  int64_t H_;
  T epsilon_;
};

// The projection h = m . W_proj of a row (m [H], h [Hh]), zoneout_h acting
// on the projected h.
template <typename T>
class Projector {
 public:
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;

  Projector(int64_t H, int64_t Hh, const T* projection,
            StepWeights<T> zoneout_h)
      : H_(H), Hh_(Hh), projection_(projection), zoneout_h_(zoneout_h) {}

  // columns j.. (width w) of m . W_proj, m [H]: in one order whatever the
  // addresses (as Rows::Mean).
  Packet Project(const T* m, int64_t j, int64_t w) const {
    Packet h = Eigen::internal::pset1<Packet>(T(0));
    for (int64_t u = 0; u < H_; ++u) {
      h = Eigen::internal::pmadd(Eigen::internal::pset1<Packet>(m[u]),
                                 S::Load(projection_ + u * Hh_ + j, w), h);
    }
    return h;
  }

  // The projection's backward at row b * T + t: dh [Hh], the gradient
  // reaching the carried h_t, split under zoneout_h into z * dh (left in
  // dh, reaching h_{t-1}) and (1 - z) * dh (to d_projected [Hh], reaching
  // m_t . W_proj); dm [H] = d_projected . W_proj^T.
  void Backward(int64_t row, T* dh, T* d_projected, T* dm) const {
    for (int64_t j = 0; j < Hh_; j += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, Hh_ - j);
      const Packet d = S::Load(dh + j, w);
      if (zoneout_h_.values == nullptr) {
        S::Store(d_projected + j, d, w);
        continue;
      }
      const Packet z = WeightAt(zoneout_h_, row * Hh_ + j, w);
      S::Store(dh + j, Eigen::internal::pmul(z, d), w);
      S::Store(d_projected + j,
               Eigen::internal::psub(d, Eigen::internal::pmul(z, d)), w);
    }
    for (int64_t u = 0; u < H_; ++u) {
      dm[u] = Rows<T>::Dot(projection_ + u * Hh_, d_projected, Hh_);
    }
  }

  // The row's carried h [Hh]: m . W_proj, mixed with h_prev [Hh] under
  // zoneout_h, columns j.. to store_hidden(j, width, h).
  template <typename StoreHidden>
  void ProjectRow(const T* m, const T* h_prev, int64_t row,
                  const StoreHidden& store_hidden) const {
    for (int64_t j = 0; j < Hh_; j += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, Hh_ - j);
      Packet h = Project(m, j, w);
      if (zoneout_h_.values != nullptr) {
        h = Zoneout(WeightAt(zoneout_h_, row * Hh_ + j, w),
                    S::Load(h_prev + j, w), h);
      }
      store_hidden(j, w, h);
    }
  }

 private:
  int64_t H_;
  int64_t Hh_;
  const T* projection_;  // [H, Hh]
  StepWeights<T> zoneout_h_;
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_ROWS_CPU_H_
