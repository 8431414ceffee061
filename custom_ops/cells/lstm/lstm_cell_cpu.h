// The LSTM cell's math on the packets of the CPU engine (cpu/cell.h):
// what it reads and saves per step, around the formulas of lstm_cell.h.
// Under layer norm or a projection the cell works on whole rows (RowWise),
// since each normalisation reads all H units of a gate and each column of
// the projection all of m_t.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_CPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_CPU_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/cell.h"
#include "shared/recurrent_args.h"
#include "cpu/simd.h"
#include "cells/lstm/lstm_cell.h"
#include "cells/lstm/lstm_rows_cpu.h"

namespace tfrnn {
namespace lstm {

template <typename T>
class CpuCell : public Cell {
 public:
  using Scalar = T;
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;
  using Act = cpu::PacketActivations<T>;

  // in: the options' inputs (peephole, zoneout_h, zoneout_c, the layer
  // norm's weights, the projection; null: off).
  CpuCell(const Attrs& attrs, const SequenceInputs<T>& in, const Dims& d)
      : H_(d.units), Hh_(d.hidden), clip_(static_cast<T>(attrs.cell_clip)),
        peephole_(in.peephole), zoneout_h_(in.zoneout_h),
        zoneout_c_(in.zoneout_c), ln_(in.layer_norm),
        projection_(in.projection),
        rows_(H_, static_cast<T>(attrs.layer_norm_epsilon)),
        projector_(H_, Hh_, in.projection, in.zoneout_h) {}

  // Under zoneout_h, z * dh_t reaches h_{t-1} past U.
  bool HiddenBypass() const { return zoneout_h_.values != nullptr; }
  bool RowWise() const { return ln_.on() || projection_ != nullptr; }
  bool NormalizesInput() const { return ln_.on(); }
  // The per-row gradient terms the engine sums, in rows of H: dpeephole's
  // 3, then the layer norm's (LayerNormTerm, dbias first: under the norm
  // the bias's gradient is neither side's).
  int64_t TermRows() const {
    return (peephole_ != nullptr ? 3 : 0) +
           (ln_.on() ? LayerNormTerm::kRows : 0);
  }
  std::vector<cpu::TermOutput<T>> TermOutputs(const Gradients<T>& g) const {
    std::vector<cpu::TermOutput<T>> outputs;
    if (peephole_ != nullptr) outputs.push_back({g.dpeephole, 3});
    if (ln_.on()) {
      static_assert(LayerNormTerm::kBias == 0 &&
                        LayerNormTerm::kGainX == kGates &&
                        LayerNormTerm::kGainH == 2 * kGates &&
                        LayerNormTerm::kGainC == 3 * kGates &&
                        LayerNormTerm::kRows == 3 * kGates + 2,
                    "the term outputs follow LayerNormTerm's rows");
      outputs.insert(outputs.end(), {{g.dbias, kGates},
                                     {g.dgain_x, kGates},
                                     {g.dgain_h, kGates},
                                     {g.dgain_c, 1},
                                     {g.dshift_c, 1}});
    }
    return outputs;
  }
  // The layer norm's 3H (OutputRowBackward), then the projection's dm_t.
  int64_t RowScratch() const {
    return (ln_.on() ? 3 * H_ : 0) + (projection_ != nullptr ? H_ : 0);
  }

  // saved: x.W + b of the step's i, f, g, o, replaced by the activated gates.
  cpu::StepState<Packet> Forward(const Packet* hu, T* saved, const T* h_prev,
                                 const T* c_prev, int64_t row, int64_t u,
                                 int64_t width) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    Packet pre[kGates];
    for (int j = 0; j < kGates; ++j) {
      pre[j] = Eigen::internal::padd(hu[j], at(saved + j * H_));
    }
    const Options<Packet> opt = OptionsAt(row, u, width);
    const Packet h = opt.zoneout_h ? at(h_prev)
                                   : Eigen::internal::pset1<Packet>(T(0));
    Gates<Packet> a;
    const State<Packet> s =
        Step<Act>(pre[0], pre[1], pre[2], pre[3], h, at(c_prev), opt, &a);
    StoreGates(a, saved, u, width);
    return {s.h, s.c};
  }

  cpu::StepGrads<Packet, kGates> Backward(const cpu::BackwardView<T>& v,
                                          int64_t u, int64_t width,
                                          Packet dh, Packet dc) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    const StepGrads<Packet> r =
        CellBackward<Act>(LoadGates(v.saved, u, width), at(v.c_prev), at(v.c),
                          dh, dc, OptionsAt(v.row, u, width));
    return ToEngine<cpu::StepGrads<Packet, kGates>>(r);
  }

  // Layer norm, the hoisted x.W of a step's row (its first 4H, no bias):
  // the x.W side's pre-activations LN(x.W) * gain_x + b, the normalised
  // values and statistics to their places in the saved row.
  void NormalizeInput(T* saved, const T* bias) const {
    for (int g = 0; g < kGates; ++g) {
      T* normed = saved + (LayerNormRow::kInput + g) * H_;
      Stat(saved, LayerNormRow::kInputStats + g) =
          rows_.Normalize(saved + g * H_, normed);
      rows_.Row(saved + g * H_) =
          rows_.Row(normed) * rows_.ConstRow(ln_.gain_x + g * H_) +
          rows_.ConstRow(bias + g * H_);
    }
  }

  // A row-wise cell's step of a whole row: hu is the row's h_{t-1}.U [4H]
  // (scratch afterwards); saved as the hoist (and NormalizeInput) left it;
  // h_prev [Hh], c_prev [H] the row's state; the carried c of units u..
  // goes to store_cell(u, width, c), the carried h of columns j.. to
  // store_hidden(j, width, h).
  template <typename StoreCell, typename StoreHidden>
  void ForwardRow(T* hu, T* saved, const T* h_prev, const T* c_prev,
                  int64_t row, const StoreCell& store_cell,
                  const StoreHidden& store_hidden) const {
    const auto at = [](const T* p, int64_t u, int64_t w) {
      return S::Load(p + u, w);
    };
    const T* c_new = RowGatesAndCell(hu, saved, c_prev, row);
    const T* c_normed = saved + LayerNormRow::kCell * H_;
    T* m = hu + H_;  // the projection's input m_t
    for (int64_t u = 0; u < H_; u += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, H_ - u);
      const Packet c_out =
          ln_.on() ? Eigen::internal::pmadd(at(c_normed, u, w),
                                            at(ln_.gain_c, u, w),
                                            at(ln_.shift_c, u, w))
                   : at(c_new, u, w);
      // Under a projection zoneout_h acts on the projected h (ProjectRow).
      const Packet h = projection_ == nullptr
                           ? at(h_prev, u, w)
                           : Eigen::internal::pset1<Packet>(T(0));
      const State<Packet> s =
          Carry<Act>(LoadGates(saved, u, w), at(c_new, u, w), c_out, h,
                     at(c_prev, u, w), OptionsAt(row, u, w));
      store_cell(u, w, s.c);
      if (projection_ == nullptr) {
        store_hidden(u, w, s.h);
      } else {
        S::Store(m + u, s.h, w);
      }
    }
    if (projection_ != nullptr) {
      projector_.ProjectRow(m, h_prev, row, store_hidden);
    }
  }

  // ForwardRow's first pass: h.U normalised (under layer norm), the gates
  // into saved, the clipped c_t into hu's first H (returned), normalised
  // into saved (under layer norm).
  T* RowGatesAndCell(T* hu, T* saved, const T* c_prev, int64_t row) const {
    const auto at = [](const T* p, int64_t u, int64_t w) {
      return S::Load(p + u, w);
    };
    for (int g = 0; ln_.on() && g < kGates; ++g) {
      Stat(saved, LayerNormRow::kRecurrentStats + g) = rows_.Normalize(
          hu + g * H_, saved + (LayerNormRow::kRecurrent + g) * H_);
    }
    T* c_new = hu;
    for (int64_t u = 0; u < H_; u += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, H_ - u);
      Packet pre[kGates];
      for (int g = 0; g < kGates; ++g) {
        const int64_t j = g * H_ + u;
        pre[g] = ln_.on() ? Eigen::internal::pmadd(
                                at(saved + LayerNormRow::kRecurrent * H_, j, w),
                                at(ln_.gain_h, j, w), at(saved, j, w))
                          : Eigen::internal::padd(at(hu, j, w),
                                                  at(saved, j, w));
      }
      Gates<Packet> a;
      S::Store(c_new + u,
               GatesAndCell<Act>(pre[0], pre[1], pre[2], pre[3],
                                 at(c_prev, u, w), OptionsAt(row, u, w), &a),
               w);
      StoreGates(a, saved, u, w);
    }
    if (ln_.on()) {
      Stat(saved, LayerNormRow::kCellStats) =
          rows_.Normalize(c_new, saved + LayerNormRow::kCell * H_);
    }
    return c_new;
  }

  // A row-wise cell's backward of a whole row. dh [Hh], dc [H]: the
  // gradients reaching the carried h_t, c_t; left as dh's share past U
  // (under zoneout_h) and the gradient reaching c_{t-1}. d_input,
  // d_recurrent [4H]: the x.W and h.U sides' gradients (one array unless
  // NormalizesInput: without the norm they agree); terms: the row's
  // TermRows(); scratch: RowScratch() values; projection: where the row's
  // m_t and projected dh go (under a projection).
  void BackwardRow(const cpu::BackwardView<T>& v, T* dh, T* dc, T* d_input,
                   T* d_recurrent, T* terms, T* scratch,
                   const cpu::ProjectionRows<T>& projection) const {
    const T* dm = dh;  // the gradient reaching o * tanh(..)
    if (projection_ != nullptr) {
      T* d_cell_out = scratch + (ln_.on() ? 3 * H_ : 0);
      projector_.Backward(v.row, dh, projection.dh, d_cell_out);
      dm = d_cell_out;
    }
    if (!ln_.on()) {
      PlainRowBackward(v, dm, dh, dc, d_input, terms, projection.m);
      return;
    }
    T* ln_terms = terms + (peephole_ != nullptr ? 3 * H_ : 0);
    const auto term = [&](int64_t k) { return ln_terms + k * H_; };
    OutputRowBackward(v, dm, dh, dc, term(LayerNormTerm::kGainC), scratch,
                      d_input, projection.m);
    GateRowBackward(v, dc, scratch, d_input, terms);
    for (int g = 0; g < kGates; ++g) {
      const T* dz = d_input + g * H_;
      rows_.Row(term(LayerNormTerm::kBias + g)) = rows_.ConstRow(dz);
      rows_.NormBackward(dz, ln_.gain_x + g * H_,
                   v.saved + (LayerNormRow::kInput + g) * H_,
                   Stat(v.saved, LayerNormRow::kInputStats + g),
                   term(LayerNormTerm::kGainX + g), nullptr);
      rows_.NormBackward(dz, ln_.gain_h + g * H_,
                   v.saved + (LayerNormRow::kRecurrent + g) * H_,
                   Stat(v.saved, LayerNormRow::kRecurrentStats + g),
                   term(LayerNormTerm::kGainH + g), d_recurrent + g * H_);
    }
    for (int g = 0; g < kGates; ++g) {  // last: they overwrite dz
      rows_.NormBackward(d_input + g * H_, ln_.gain_x + g * H_,
                   v.saved + (LayerNormRow::kInput + g) * H_,
                   Stat(v.saved, LayerNormRow::kInputStats + g), nullptr,
                   d_input + g * H_);
    }
  }

 private:
  // Statistic k of a saved row (LayerNormRow's offsets past kStats * H).
  T& Stat(T* saved, int64_t k) const {
    return saved[LayerNormRow::kStats * H_ + k];
  }
  T Stat(const T* saved, int64_t k) const {
    return saved[LayerNormRow::kStats * H_ + k];
  }

  // BackwardRow without layer norm (under a projection): per unit, from dm
  // (the gradient reaching o * tanh(c_t)) and dc, the gates' gradients to
  // d_input, c_{t-1}'s to dc, the peepholes' terms, m_t to m (when not
  // null); dh's bypass into dh.
  void PlainRowBackward(const cpu::BackwardView<T>& v, const T* dm, T* dh,
                        T* dc, T* d_input, T* terms, T* m) const {
    for (int64_t u = 0; u < H_; u += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, H_ - u);
      const auto at = [u, w](const T* p) { return S::Load(p + u, w); };
      const auto [opt, a, c_prev] = UnitOf(v, u, w);
      const CellValues<Packet> cv = NewCell<Act>(a, c_prev, at(v.c), opt);
      const Packet tanh_out = Act::Tanh(cv.c);
      if (m != nullptr) {
        S::Store(m + u, HiddenState(a.o, tanh_out), w);
      }
      const OutputGrads<Packet> out =
          OutputBackward(a, tanh_out, at(dm), at(dc), opt);
      const StepGrads<Packet> r =
          GateBackward<Act>(a, c_prev, cv, out.dc + out.d_out, out, opt);
      StoreRowGrads(r, u, w, d_input, dc, terms);
      if (opt.zoneout_h) S::Store(dh + u, r.dh_prev, w);
    }
  }

  // r of units u.. (width w): the gates' to d_input, c_{t-1}'s to dc, the
  // peepholes' terms (when on) to terms.
  void StoreRowGrads(const StepGrads<Packet>& r, int64_t u, int64_t w,
                     T* d_input, T* dc, T* terms) const {
    const Packet dz[] = {r.di, r.df, r.dg, r.do_};
    for (int g = 0; g < kGates; ++g) S::Store(d_input + g * H_ + u, dz[g], w);
    S::Store(dc + u, r.dc_prev, w);
    if (peephole_ == nullptr) return;
    const Packet dp[] = {r.dp_i, r.dp_f, r.dp_o};
    for (int k = 0; k < 3; ++k) S::Store(terms + k * H_ + u, dp[k], w);
  }

  // BackwardRow's first pass under layer norm, to what tanh read: from dm
  // (the gradient reaching o * tanh(..)), the gradient reaching LN(c_t)
  // (its terms for gain_c, then shift_c: c_terms [2H]), and per unit into
  // scratch [3H] d(normalised c_t), dc's share reaching c_t and its share
  // kept for c_{t-1}; do_ into d_input's o; dh's bypass into dh; m_t to m
  // (when not null).
  void OutputRowBackward(const cpu::BackwardView<T>& v, const T* dm, T* dh,
                         const T* dc, T* c_terms, T* scratch, T* d_input,
                         T* m) const {
    const T* c_normed = v.saved + LayerNormRow::kCell * H_;
    for (int64_t u = 0; u < H_; u += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, H_ - u);
      const auto at = [u, w](const T* p) { return S::Load(p + u, w); };
      const Packet normed = at(c_normed);
      const Packet tanh_out = Act::Tanh(Eigen::internal::pmadd(
          normed, at(ln_.gain_c), at(ln_.shift_c)));
      const Gates<Packet> a = LoadGates(v.saved, u, w);
      const Options<Packet> opt = OptionsAt(v.row, u, w);
      if (m != nullptr) S::Store(m + u, HiddenState(a.o, tanh_out), w);
      const OutputGrads<Packet> r =
          OutputBackward(a, tanh_out, at(dm), at(dc), opt);
      S::Store(c_terms + u, Eigen::internal::pmul(r.d_out, normed), w);
      S::Store(c_terms + H_ + u, r.d_out, w);
      S::Store(scratch + u, Eigen::internal::pmul(r.d_out, at(ln_.gain_c)),
               w);
      S::Store(scratch + H_ + u, r.dc, w);
      S::Store(scratch + 2 * H_ + u, r.dc_kept, w);
      S::Store(d_input + 3 * H_ + u, r.do_, w);
      if (opt.zoneout_h) S::Store(dh + u, r.dh_prev, w);
    }
  }

  // BackwardRow's second pass: through LN(c_t) to c_t, then the gates:
  // their pre-activations' gradients dz to d_input, c_{t-1}'s to dc, the
  // peepholes' terms (when on) to terms.
  void GateRowBackward(const cpu::BackwardView<T>& v, T* dc,
                       const T* scratch, T* d_input, T* terms) const {
    const T* c_normed = v.saved + LayerNormRow::kCell * H_;
    const T rstd = Stat(v.saved, LayerNormRow::kCellStats);
    const T mean_dy = rows_.Mean([&](auto at) { return at(scratch); });
    const T mean_dy_normed =
        rows_.Mean([&](auto at) { return at(scratch) * at(c_normed); });
    const auto splat = [](T x) { return Eigen::internal::pset1<Packet>(x); };
    for (int64_t u = 0; u < H_; u += S::kSize) {
      const int64_t w = std::min<int64_t>(S::kSize, H_ - u);
      const auto at = [u, w](const T* p) { return S::Load(p + u, w); };
      const auto [opt, a, c_prev] = UnitOf(v, u, w);
      OutputGrads<Packet> out{};
      out.do_ = at(d_input + 3 * H_);
      out.dc_kept = at(scratch + 2 * H_);
      const Packet dc_t = Eigen::internal::padd(
          at(scratch + H_),
          LayerNormBackward(at(scratch), at(c_normed), splat(mean_dy),
                            splat(mean_dy_normed), splat(rstd)));
      StoreRowGrads(GateBackward<Act>(a, c_prev,
                                      NewCell<Act>(a, c_prev, at(v.c), opt),
                                      dc_t, out, opt),
                    u, w, d_input, dc, terms);
    }
  }

  // What a row's backward reads at units u.. of step row v.row: the
  // options, the saved gates and c_{t-1}.
  struct Unit {
    Options<Packet> opt;
    Gates<Packet> a;
    Packet c_prev;
  };
  Unit UnitOf(const cpu::BackwardView<T>& v, int64_t u, int64_t w) const {
    return {OptionsAt(v.row, u, w), LoadGates(v.saved, u, w),
            S::Load(v.c_prev + u, w)};
  }

  Gates<Packet> LoadGates(const T* saved, int64_t u, int64_t w) const {
    return {S::Load(saved + u, w), S::Load(saved + H_ + u, w),
            S::Load(saved + 2 * H_ + u, w), S::Load(saved + 3 * H_ + u, w)};
  }
  void StoreGates(const Gates<Packet>& a, T* saved, int64_t u,
                  int64_t w) const {
    S::Store(saved + u, a.i, w);
    S::Store(saved + H_ + u, a.f, w);
    S::Store(saved + 2 * H_ + u, a.g, w);
    S::Store(saved + 3 * H_ + u, a.o, w);
  }

  // The options of units u.. at row b * T + t of the sequence.
  Options<Packet> OptionsAt(int64_t row, int64_t u, int64_t width) const {
    Options<Packet> opt{};
    if (peephole_ != nullptr) {
      opt.peephole = true;
      opt.p_i = S::Load(peephole_ + u, width);
      opt.p_f = S::Load(peephole_ + H_ + u, width);
      opt.p_o = S::Load(peephole_ + 2 * H_ + u, width);
    }
    if (clip_ >= T(0)) {
      opt.clip = true;
      opt.limit = Eigen::internal::pset1<Packet>(clip_);
    }
    // Under a projection zoneout_h acts on the projected h (ForwardRow,
    // ProjectionBackward), not on units.
    if (zoneout_h_.values != nullptr && projection_ == nullptr) {
      opt.zoneout_h = true;
      opt.z_h = WeightAt(zoneout_h_, row * H_ + u, width);
    }
    if (zoneout_c_.values != nullptr) {
      opt.zoneout_c = true;
      opt.z_c = WeightAt(zoneout_c_, row * H_ + u, width);
    }
    return opt;
  }

  int64_t H_;
  int64_t Hh_;  // h's width: the projection's P, else H
  T clip_;
  const T* peephole_;
  StepWeights<T> zoneout_h_, zoneout_c_;
  LayerNormWeights<T> ln_;
  const T* projection_;  // [H, Hh] or null
  Rows<T> rows_;
  Projector<T> projector_;
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_CPU_H_
