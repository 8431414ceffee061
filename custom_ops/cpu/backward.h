// The CPU engine's backward walk of a recurrence, for any cell.
//
// It walks the steps the other way with the forward's split: each part turns
// the gradient reaching its units' h (and c) into their gate pre-activation
// gradients (the cell's Backward; summing them for db as it goes), then,
// once every part's gradients of the step are in, multiplies the recurrent
// side's by its panels of U^T for the gradient reaching h_{t-1}. One GEMM
// each then gives dx, dW and dU from all the steps' gradients. A row-wise
// cell (layer norm) splits by rows and turns each row's gradients whole.
#ifndef TFRNN_CUSTOM_OPS_CPU_BACKWARD_H_
#define TFRNN_CUSTOM_OPS_CPU_BACKWARD_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "cpu/cell.h"
#include "cpu/gemm.h"
#include "cpu/layout.h"
#include "cpu/recurrence.h"
#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace cpu {

template <typename Cell>
class BackwardWalk {
 public:
  using T = typename Cell::Scalar;
  using S = Simd<T>;
  using Packet = typename S::Packet;
  static constexpr int kLanes = S::kSize;
  static constexpr int kGates = Cell::kGates;
  static constexpr int kWidth = Panel<T>::kWidth;  // units per U^T panel
  // Cells whose recurrent-side gradients differ keep them apart; their
  // bias has a row for each side (the GRU's [2, 3H]). A row-wise cell's
  // sides differ too (sides_), its bias's gradient is among its terms.
  static constexpr int kSides = Cell::kRecurrentGradsDiffer ? 2 : 1;
  using Sums = Eigen::Array<double, Eigen::Dynamic, 1>;

  BackwardWalk(tensorflow::OpKernelContext* ctx, const Cell& cell,
               const Walk& walk, const SequenceInputs<T>& in,
               const SavedForward<T>& fwd, const Gradients<T>& grads)
      : ctx_(ctx), cell_(cell), walk_(walk), in_(in), fwd_(fwd),
        grads_(grads), B_(walk.dims.batch), time_(walk.dims.time),
        I_(walk.dims.input), H_(walk.dims.units), Hh_(walk.dims.hidden),
        G_(kGates * H_),
        R_(SavedWidth<Cell>(in, H_)), row_wise_(RowWise(cell)),
        sides_(NormalizesInput(cell) ? 2 : kSides),
        bias_width_(NormalizesInput(cell) ? 0 : kSides * G_),
        terms_(TermRows(cell) * H_),
        projected_(in.projection != nullptr),
        ut_panels_((Hh_ + kWidth - 1) / kWidth, G_) {}

  void Run() {
    // dh0 (and dc0) carry the running state gradients backwards in time.
    std::copy_n(fwd_.d_h_n, B_ * Hh_, grads_.dh0);
    if (Cell::kCellState) std::copy_n(fwd_.d_c_n, B_ * H_, grads_.dc0);
    if (B_ == 0 || walk_.max_len == 0 || H_ == 0) {
      std::fill_n(grads_.dx, B_ * time_ * I_, T(0));
      std::fill_n(grads_.dkernel, I_ * G_, T(0));
      std::fill_n(grads_.drecurrent_kernel, Hh_ * G_, T(0));
      if (projected_) std::fill_n(grads_.dprojection, H_ * Hh_, T(0));
      std::fill_n(grads_.dbias, kSides * G_, T(0));
      for (const TermOutput<T>& o : TermOutputs(cell_, grads_)) {
        std::fill_n(o.values, o.rows * H_, T(0));
      }
      return;
    }
    if (!Prepare()) return;
    Recurrence();
    WeightGradients();
  }

 private:
  // Gate gradients (per side), the h each step's product saw and, under a
  // projection, its rows (ProjectionRows); steps that do not run are zero,
  // so they drop out of the weight GEMMs. False (status set) when an
  // allocation fails.
  bool Prepare() {
    for (int side = 0; side < sides_; ++side) {
      d_gates_[side] =
          AllocateScratch<T>(ctx_, B_ * time_ * G_, &d_gates_holder_[side]);
      if (d_gates_[side] == nullptr) return false;
    }
    h_prev_ = AllocateScratch<T>(ctx_, B_ * time_ * Hh_, &h_prev_holder_);
    if (h_prev_ == nullptr) return false;
    if (projected_) {
      projected_m_ = AllocateScratch<T>(ctx_, B_ * time_ * H_, &m_holder_);
      projected_dh_ = AllocateScratch<T>(ctx_, B_ * time_ * Hh_, &dh_holder_);
      if (projected_m_ == nullptr || projected_dh_ == nullptr) return false;
    }
    T* ut = AllocateScratch<T>(ctx_, ut_panels_.Values(), &ut_holder_);
    if (ut == nullptr) return false;
    ut_panels_.Bind(ut);
    for (int64_t b = 0; b < B_; ++b) {
      const int64_t len = Length(in_.lengths, b, time_);
      for (int side = 0; side < sides_; ++side) {
        std::fill(d_gates_[side] + (b * time_ + len) * G_,
                  d_gates_[side] + (b + 1) * time_ * G_, T(0));
      }
      const auto zero_tail = [&](T* values, int64_t width) {
        std::fill(values + (b * time_ + len) * width,
                  values + (b + 1) * time_ * width, T(0));
      };
      zero_tail(h_prev_, Hh_);
      if (projected_) {
        zero_tail(projected_m_, H_);
        zero_tail(projected_dh_, Hh_);
      }
    }
    pool_ = Pool(ctx_);
    const int64_t panels = ut_panels_.panels();
    split_ = Split{panels, B_,
                   ChooseStepSplit(pool_, 2.0 * B_ * Hh_ * G_, walk_.max_len,
                                   panels, B_,
                                   1.0 * sizeof(T) * G_ * panels * kWidth,
                                   row_wise_)};
    bias_sums_.assign(split_.parts(), Sums::Zero(bias_width_ + terms_));
    if (terms_ > 0) terms_of_.assign(split_.parts(), std::vector<T>(terms_));
    if constexpr (Cell::kVariants) {
      if (row_wise_) {
        row_scratch_.assign(split_.parts(),
                            std::vector<T>(cell_.RowScratch()));
      }
    }
    return true;
  }

  // Step s of the walk is time step StepTime(s): the forward's order
  // backwards.
  int64_t StepTime(int64_t s) const {
    return ::tfrnn::StepTime(!walk_.reverse, s, walk_.max_len);
  }

  // The gate gradients of step t for `rows` and units [u_lo, u_hi), from
  // the gradient reaching their h_t (dh0: through the recurrence; d_output)
  // and c_t (dc0); adds them (and any per-step terms) to the part's sums.
  void GateGradients(int64_t t, const Rows& rows, int64_t u_lo, int64_t u_hi,
                     int64_t part) {
    Sums& sums = bias_sums_[part];
    T* terms = terms_of_.empty() ? nullptr : terms_of_[part].data();
    for (int64_t i = 0; i < rows.count; ++i) {
      const int64_t b = rows[i];
      const int64_t len = Length(in_.lengths, b, time_);
      if (t >= len) continue;
      const int64_t prev = PreviousStep(walk_.reverse, t, len);
      const int64_t row = b * time_ + t;
      BackwardView<T> v{
          fwd_.saved == nullptr ? nullptr : fwd_.saved + (t * B_ + b) * R_,
          fwd_.output + row * Hh_,
          prev < 0 ? in_.h0 + b * Hh_ : fwd_.output + (b * time_ + prev) * Hh_,
          nullptr, nullptr, H_, row};
      if (Cell::kCellState) {
        v.c = fwd_.cell + row * H_;
        v.c_prev =
            prev < 0 ? in_.c0 + b * H_ : fwd_.cell + (b * time_ + prev) * H_;
      }
      if (row_wise_) {
        RowGradients(v, b, row, terms, row_scratch_[part].data());
      } else {
        for (int64_t u = u_lo; u < u_hi; u += kLanes) {
          UnitGradients(v, b, row, u, std::min<int64_t>(kLanes, u_hi - u),
                        terms);
        }
      }
      for (int side = 0; side < bias_width_ / G_; ++side) {
        for (int g = 0; g < kGates; ++g) {
          const int64_t at = g * H_ + u_lo;
          sums.segment(side * G_ + at, u_hi - u_lo) +=
              ConstVec<T>(d_gates_[side] + row * G_ + at, u_hi - u_lo)
                  .template cast<double>();
        }
      }
      // The terms' sums follow the bias's.
      for (int64_t k = 0; terms != nullptr && k < terms_ / H_; ++k) {
        sums.segment(bias_width_ + k * H_ + u_lo, u_hi - u_lo) +=
            ConstVec<T>(terms + k * H_ + u_lo, u_hi - u_lo)
                .template cast<double>();
      }
      PrefetchNext(b, t, len, u_lo, u_hi - u_lo);
    }
  }

  // GateGradients of a row-wise cell's row b (row = b * T + t), whole; the
  // step's terms to `terms`.
  void RowGradients(const BackwardView<T>& v, int64_t b, int64_t row,
                    T* terms, T* scratch) {
    if constexpr (Cell::kVariants) {
      CopyMasked(v.h_prev, MaskAt(in_.recurrent_mask, b * Hh_), Hh_,
                 h_prev_ + row * Hh_);
      T* dh = grads_.dh0 + b * Hh_;
      Vec<T>(dh, Hh_) += ConstVec<T>(fwd_.d_output + row * Hh_, Hh_);
      const ProjectionRows<T> projection =
          projected_ ? ProjectionRows<T>{projected_m_ + row * H_,
                                         projected_dh_ + row * Hh_}
                     : ProjectionRows<T>{nullptr, nullptr};
      cell_.BackwardRow(v, dh, grads_.dc0 + b * H_, d_gates_[0] + row * G_,
                        d_gates_[sides_ - 1] + row * G_, terms, scratch,
                        projection);
    }
  }

  // GateGradients of `width` units u.. of row b (row = b * T + t); the
  // step's peephole terms go to `terms` [3H] (when not null).
  void UnitGradients(const BackwardView<T>& v, int64_t b, int64_t row,
                     int64_t u, int64_t width, T* terms) {
    T* dh = grads_.dh0 + b * H_ + u;
    // dU pairs the gradients with the h the product saw: masked, when masked.
    S::Store(h_prev_ + row * H_ + u,
             Masked(S::Load(v.h_prev + u, width),
                    MaskAt(in_.recurrent_mask, b * H_ + u), width),
             width);
    const Packet dh_t = Eigen::internal::padd(
        S::Load(dh, width), S::Load(fwd_.d_output + row * H_ + u, width));
    const Packet dc_t = Cell::kCellState
                            ? S::Load(grads_.dc0 + b * H_ + u, width)
                            : Eigen::internal::pset1<Packet>(T(0));
    const StepGrads<Packet, kGates> r = cell_.Backward(v, u, width, dh_t, dc_t);
    for (int g = 0; g < kGates; ++g) {
      S::Store(d_gates_[0] + row * G_ + g * H_ + u, r.input[g], width);
      if (kSides == 2) {
        S::Store(d_gates_[1] + row * G_ + g * H_ + u, r.recurrent[g], width);
      }
    }
    if (Cell::kCellState) S::Store(grads_.dc0 + b * H_ + u, r.c_prev, width);
    // dh_{t-1}: what bypasses U now, the product with U^T after the step.
    if (cell_.HiddenBypass()) S::Store(dh, r.h_prev, width);
    for (int k = 0; terms != nullptr && k < 3; ++k) {
      S::Store(terms + k * H_ + u, r.peephole[k], width);
    }
  }

  // The rows of row b's next visited step, T steps away (units u..u+n;
  // of h, a row-wise call's whole Hh).
  void PrefetchNext(int64_t b, int64_t t, int64_t len, int64_t u, int64_t n) {
    const int64_t next = walk_.reverse ? t + 1 : t - 1;
    if (next < 0 || next >= len) return;
    const int64_t next_row = b * time_ + next;
    const int64_t next_prev = PreviousStep(walk_.reverse, next, len);
    const int64_t n_h = row_wise_ ? Hh_ : n;
    if (Cell::kCellState) Prefetch(fwd_.cell + next_row * H_ + u, n, false);
    Prefetch(fwd_.output + next_row * Hh_ + u, n_h, false);
    Prefetch(fwd_.d_output + next_row * Hh_ + u, n_h, false);
    Prefetch(h_prev_ + next_row * Hh_ + u, n_h, true);
    for (int side = 0; side < sides_; ++side) {
      for (int g = 0; g < kGates; ++g) {
        Prefetch(d_gates_[side] + next_row * G_ + g * H_ + u, n, true);
      }
    }
    if (next_prev >= 0) {
      if (Cell::kCellState) {
        Prefetch(fwd_.cell + (b * time_ + next_prev) * H_ + u, n, false);
      }
      Prefetch(fwd_.output + (b * time_ + next_prev) * Hh_ + u, n_h, false);
    }
  }

  // dh of `rows` (+)= (step t's recurrent-side gradients of those rows) .
  // (panels [first, last) of U^T), times the mask the product's h had:
  // the gradient reaching h_{t-1} of the rows that ran.
  void Recur(int64_t t, const Rows& rows, int64_t first, int64_t last) {
    const T* d_recurrent = d_gates_[sides_ - 1];
    MultiplyPanels<T>(
        G_, [&](int64_t p) { return ut_panels_.view(p); }, first, last,
        rows.count,
        [&](int64_t i) { return d_recurrent + (rows[i] * time_ + t) * G_; },
        [&](int64_t row0, int64_t count, int64_t p, const T* tile) {
          const int64_t v0 = p * kWidth;
          const int64_t width = std::min<int64_t>(kWidth, Hh_ - v0);
          for (int64_t r = 0; r < count; ++r) {
            const int64_t b = rows[row0 + r];
            if (t >= Length(in_.lengths, b, time_)) continue;
            const T* mask = MaskAt(in_.recurrent_mask, b * Hh_ + v0);
            T* dh = grads_.dh0 + b * Hh_ + v0;
            if (cell_.HiddenBypass()) {
              AddMasked(tile + r * kWidth, mask, width, dh);
            } else {
              CopyMasked(tile + r * kWidth, mask, width, dh);
            }
          }
        });
  }

  // Phase 0 packs U^T. Split by units, phase 0 also takes the first step's
  // gate gradients, and phase s (1..max_len) multiplies step s-1's complete
  // gradients by U^T, then takes step s's; with a rows phase (a row-wise
  // cell), phase 2s + 1 takes step s's on part 0 and phase 2s + 2 multiplies
  // them. Split by rows, phase 1 walks every step.
  void Recurrence() {
    const int64_t max_len = walk_.max_len;
    const T* u = in_.recurrent_kernel;
    const int64_t H = Hh_, G = G_;  // U^T's columns: h's
    const auto unit_column = [H](int64_t p, int j) -> int64_t {
      const int64_t unit = p * kWidth + j;
      return unit < H ? unit : -1;
    };
    const auto ut_element = [u, G](int64_t k, int64_t n) {
      return u[n * G + k];
    };
    RunPhases(pool_, 1 + split_.WalkPhases(max_len), split_.parts(),
              [&](int64_t phase, int64_t part) {
                const Rows rows = split_.RowsOf(part);
                const int64_t first = split_.FirstPanel(part);
                const int64_t last = split_.LastPanel(part);
                const int64_t u_lo = first * kWidth;
                // Split by rows a part has every unit (U^T's panels are
                // Hh's, not H's, under a projection).
                const int64_t u_hi =
                    split_.how.by_rows ? H_ : std::min(H_, last * kWidth);
                if (phase == 0) {
                  for (int64_t p = split_.PackFirst(part);
                       p < split_.PackFirst(part + 1); ++p) {
                    ut_panels_.Pack(p, unit_column, ut_element);
                  }
                  if (!split_.how.by_rows && !split_.how.rows_phase) {
                    GateGradients(StepTime(0), rows, u_lo, u_hi, part);
                  }
                  return;
                }
                if (split_.how.rows_phase) {
                  const int64_t t = StepTime((phase - 1) / 2);
                  if ((phase - 1) % 2 == 1) {
                    Recur(t, rows, first, last);
                  } else if (part == 0) {
                    GateGradients(t, rows, 0, H_, part);
                  }
                  return;
                }
                if (!split_.how.by_rows) {
                  Recur(StepTime(phase - 1), rows, first, last);
                  if (phase < max_len) {
                    GateGradients(StepTime(phase), rows, u_lo, u_hi, part);
                  }
                  return;
                }
                for (int64_t s = 0; s < max_len; ++s) {
                  GateGradients(StepTime(s), rows, u_lo, u_hi, part);
                  Recur(StepTime(s), rows, first, last);
                }
              });
  }

  // dx = dG_in . W^T, dW = x^T . dG_in, dU = h_prev^T . dG_rec, db the sums,
  // dW_proj = m^T . dh_proj.
  void WeightGradients() {
    const T* d_input = d_gates_[0];
    const T* d_recurrent = d_gates_[sides_ - 1];
    const int64_t rows = B_ * time_;
    Gemm<T>(pool_, false, true, rows, I_, G_, d_input, G_, in_.kernel, G_,
            false, grads_.dx, I_);
    Gemm<T>(pool_, true, false, I_, G_, rows, in_.x, I_, d_input, G_, false,
            grads_.dkernel, G_);
    Gemm<T>(pool_, true, false, Hh_, G_, rows, h_prev_, Hh_, d_recurrent, G_,
            false, grads_.drecurrent_kernel, G_);
    if (projected_) {
      Gemm<T>(pool_, true, false, H_, Hh_, rows, projected_m_, H_,
              projected_dh_, Hh_, false, grads_.dprojection, Hh_);
    }
    for (size_t part = 1; part < bias_sums_.size(); ++part) {
      bias_sums_[0] += bias_sums_[part];
    }
    Vec<T>(grads_.dbias, bias_width_) =
        bias_sums_[0].head(bias_width_).template cast<T>();
    int64_t at = bias_width_;
    for (const TermOutput<T>& o : TermOutputs(cell_, grads_)) {
      Vec<T>(o.values, o.rows * H_) =
          bias_sums_[0].segment(at, o.rows * H_).template cast<T>();
      at += o.rows * H_;
    }
  }

  tensorflow::OpKernelContext* ctx_;
  const Cell& cell_;
  const Walk walk_;
  const SequenceInputs<T> in_;
  const SavedForward<T> fwd_;
  const Gradients<T> grads_;
  const int64_t B_, time_, I_, H_;
  const int64_t Hh_;  // h's width: the projection's P, else H
  const int64_t G_, R_;
  const bool row_wise_;
  // Gate gradient arrays: 2 when the sides differ (the GRU's; the layer
  // norm's, whose x side is through its norm).
  const int sides_;
  // The sums' bias columns (none when the bias is among the layer norm's
  // terms), then the terms' (per step and row).
  const int64_t bias_width_, terms_;
  const bool projected_;
  PackedPanels<T> ut_panels_;  // U^T [G*H, Hh] as panels of kWidth columns
  tensorflow::thread::ThreadPool* pool_ = nullptr;
  Split split_{0, 0, {1, false}};
  // Per part, in double (B*T terms): bias_width_, then terms_.
  std::vector<Sums> bias_sums_;
  std::vector<std::vector<T>> terms_of_;    // per part, a row's terms
  std::vector<std::vector<T>> row_scratch_;  // per part, a row-wise cell's
  tensorflow::Tensor d_gates_holder_[2], h_prev_holder_, ut_holder_,
      m_holder_, dh_holder_;
  T* d_gates_[2] = {};  // [B,T,G]: input side, then recurrent side
  T* h_prev_ = nullptr;      // [B,T,Hh]
  T* projected_m_ = nullptr;   // [B,T,H] ProjectionRows' m of every step
  T* projected_dh_ = nullptr;  // [B,T,Hh] and dh
};

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_BACKWARD_H_
