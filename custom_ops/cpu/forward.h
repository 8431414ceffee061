// The CPU engine's forward walk of a recurrence, for any cell (the cell's
// side: cpu/cell.h).
//
// The steps are split between threads (cpu/team.h) by hidden units or
// by batch rows, the weights as gate panels (cpu/layout.h). Each part
// computes x.W + b for its units and rows a chunk of steps ahead (into the
// saved rows, or a ring of chunk slots in inference), then every step
// multiplies h_{t-1} by its panels of U and runs the cell on the product
// while it is hot; parts split by units meet once per step, when h_t is
// complete. A row-wise cell (layer norm: cpu/cell.h) splits by rows
// and runs on each row's whole product.
#ifndef TFRNN_CUSTOM_OPS_CPU_FORWARD_H_
#define TFRNN_CUSTOM_OPS_CPU_FORWARD_H_

#include <algorithm>
#include <cstdint>

#include "cpu/cell.h"
#include "cpu/gemm.h"
#include "cpu/layout.h"
#include "cpu/recurrence.h"
#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace cpu {

template <typename Cell>
class ForwardWalk {
 public:
  using T = typename Cell::Scalar;
  using S = Simd<T>;
  using Packet = typename S::Packet;
  using Layout = GateLayout<T, Cell>;
  static constexpr int kLanes = S::kSize;
  static constexpr int kGates = Cell::kGates;
  static constexpr int kPackets = Layout::kPackets;
  static constexpr int kUnits = Layout::kUnits;
  static constexpr int kWidth = Layout::kWidth;

  ForwardWalk(tensorflow::OpKernelContext* ctx, const Cell& cell,
              const Walk& walk, const SequenceInputs<T>& in,
              const ForwardOutputs<T>& out)
      : ctx_(ctx), cell_(cell), walk_(walk), in_(in), out_(out),
        B_(walk.dims.batch), time_(walk.dims.time), I_(walk.dims.input),
        H_(walk.dims.units), Hh_(walk.dims.hidden), G_(kGates * H_),
        // A step's row: what the cell saves, at least x.W + b.
        R_(std::max<int64_t>(SavedWidth<Cell>(in, H_), G_)),
        row_wise_(RowWise(cell)), normalizes_input_(NormalizesInput(cell)),
        w_panels_(in.kernel, I_, H_, walk.max_len),
        u_panels_(in.recurrent_kernel, Hh_, H_, walk.max_len) {}

  void Run() {
    std::copy_n(in_.h0, B_ * Hh_, out_.h_n);
    if (Cell::kCellState) std::copy_n(in_.c0, B_ * H_, out_.c_n);
    // Every step that runs writes its output; the others are zeros.
    for (int64_t b = 0; out_.output != nullptr && b < B_; ++b) {
      const int64_t len = Length(in_.lengths, b, time_);
      std::fill(out_.output + (b * time_ + len) * Hh_,
                out_.output + (b + 1) * time_ * Hh_, T(0));
    }
    if (B_ == 0 || walk_.max_len == 0 || H_ == 0) return;
    if (!Prepare()) return;
    const int64_t max_len = walk_.max_len;
    // Phase 0 packs; then each part runs its share of the steps.
    RunPhases(pool_, 1 + split_.WalkPhases(max_len), split_.parts(),
              [&](int64_t phase, int64_t part) {
                if (phase == 0) {
                  for (int64_t p = split_.PackFirst(part);
                       p < split_.PackFirst(part + 1); ++p) {
                    w_panels_.Pack(p);
                    u_panels_.Pack(p);
                  }
                  return;
                }
                const Rows rows = split_.RowsOf(part);
                const int64_t first = split_.FirstPanel(part);
                const int64_t last = split_.LastPanel(part);
                if (split_.how.rows_phase) {  // products, then part 0's rows
                  const int64_t s = (phase - 1) / 2;
                  if ((phase - 1) % 2 == 0) {
                    StepProducts(s, rows, first, last);
                  } else if (part == 0) {
                    StepRows(s, rows);
                  }
                  return;
                }
                if (!split_.how.by_rows) {
                  Step(phase - 1, rows, first, last);
                  return;
                }
                for (int64_t s = 0; s < max_len; ++s) {
                  Step(s, rows, first, last);
                }
              });
  }

 private:
  // Scratch (from the kernel's allocator), the masked h0 and the split;
  // false (status set) when an allocation fails.
  bool Prepare() {
    pool_ = Pool(ctx_);
    chunk_ = ChunkSteps<T, kPackets>(B_, R_, walk_.max_len);
    if (out_.saved == nullptr) {
      ring_ = AllocateScratch<T>(ctx_, chunk_ * B_ * R_, &ring_holder_);
      if (ring_ == nullptr) return false;
    }
    // The h each step's product reads (times the recurrent mask), in two
    // buffers: step s reads one and writes the other.
    h_in_ = AllocateScratch<T>(ctx_, 2 * B_ * Hh_, &h_in_holder_);
    if (h_in_ == nullptr) return false;
    for (int64_t b = 0; b < B_; ++b) {
      CopyMasked(in_.h0 + b * Hh_, MaskAt(in_.recurrent_mask, b * Hh_), Hh_,
                 h_in_ + b * Hh_);
    }
    for (auto* panels : {&w_panels_, &u_panels_}) {
      if (panels->in_place()) continue;
      tensorflow::Tensor* holder = &panel_holders_[panels == &u_panels_];
      T* storage =
          AllocateScratch<T>(ctx_, panels->packed().Values(), holder);
      if (storage == nullptr) return false;
      panels->packed().Bind(storage);
    }
    const int64_t panels = u_panels_.panels();
    split_ = Split{panels, B_,
                   ChooseStepSplit(pool_, 2.0 * B_ * Hh_ * G_, walk_.max_len,
                                   panels, B_,
                                   // split by rows, a part reads all of W, U
                                   1.0 * sizeof(T) * (I_ + Hh_) * panels *
                                       kWidth,
                                   row_wise_)};
    // A call of a few steps of one row (decoding one sequence) reads U in
    // place, where the panel kernel would walk it panel by panel, K rows
    // apart (slower than the reference at H = 512). Eigen's vector-matrix
    // product streams U row by row instead (with more rows Eigen would pack
    // U, which costs more than the panel kernel's walk).
    rows_via_eigen_ = u_panels_.in_place() && B_ == 1;
    if (rows_via_eigen_ || row_wise_) {  // the rows' whole h.U
      h_times_u_ = AllocateScratch<T>(ctx_, B_ * G_, &h_times_u_holder_);
      if (h_times_u_ == nullptr) return false;
    }
    return true;
  }

  int64_t StepTime(int64_t s) const {
    return ::tfrnn::StepTime(walk_.reverse, s, walk_.max_len);
  }
  T* RowsOfStep(int64_t s) const {
    return out_.saved != nullptr ? out_.saved + StepTime(s) * B_ * R_
                                 : ring_ + (s % chunk_) * B_ * R_;
  }

  // x.W + b of steps s .. s + chunk - 1 for `rows` and panels [first, last)
  // (x.W alone under layer norm: NormalizeHoisted finishes those rows).
  void HoistInput(int64_t s, const Rows& rows, int64_t first, int64_t last) {
    const int64_t n = rows.count;
    const int64_t steps = std::min(chunk_, walk_.max_len - s);
    MultiplyPanels<T, kPackets>(
        I_, [&](int64_t p) { return w_panels_.view(p); }, first, last,
        steps * n,
        [&](int64_t i) {
          return in_.x + (rows[i % n] * time_ + StepTime(s + i / n)) * I_;
        },
        [&](int64_t row0, int64_t count, int64_t p, const T* tile) {
          for (int64_t r = 0; r < count; ++r) {
            const int64_t i = row0 + r;
            StoreTileRow(tile + r * kWidth, p,
                         normalizes_input_ ? nullptr : in_.bias,
                         RowsOfStep(s + i / n) + rows[i % n] * R_);
          }
        });
  }

  // Under layer norm, the hoisted x.W of steps s .. s + chunk - 1 for
  // `rows` (every panel's) normalised, plus the bias.
  void NormalizeHoisted(int64_t s, const Rows& rows) {
    if constexpr (Cell::kVariants) {
      const int64_t n = rows.count;
      const int64_t steps = std::min(chunk_, walk_.max_len - s);
      for (int64_t i = 0; normalizes_input_ && i < steps * n; ++i) {
        const int64_t b = rows[i % n];
        if (StepTime(s + i / n) >= Length(in_.lengths, b, time_)) continue;
        cell_.NormalizeInput(RowsOfStep(s + i / n) + b * R_, in_.bias);
      }
    }
  }

  // A tile row of panel p (a packet of one gate's units at a time) to its
  // columns gate * H + unit of `row` [G], plus the bias when not null.
  void StoreTileRow(const T* tile_row, int64_t p, const T* bias,
                    T* row) const {
    for (int q = 0; q < kPackets; ++q) {
      const int64_t unit = Layout::Unit(p, q * kLanes);
      if (unit >= H_) continue;
      const int64_t width = std::min<int64_t>(kLanes, H_ - unit);
      const int64_t at = Layout::Gate(q * kLanes) * H_ + unit;
      Packet v = Eigen::internal::pload<Packet>(tile_row + q * kLanes);
      if (bias != nullptr) {
        v = Eigen::internal::padd(v, S::Load(bias + at, width));
      }
      S::Store(row + at, v, width);
    }
  }

  // The carried c of units u.. of row b (row = b * T + t) to c_n and the
  // saved cells.
  void StoreCell(int64_t b, int64_t row, int64_t u, int64_t width,
                 Packet c) {
    S::Store(out_.c_n + b * H_ + u, c, width);
    if (out_.cell != nullptr) S::Store(out_.cell + row * H_ + u, c, width);
  }

  // The carried h of columns j.. of row b to h_n, the next product's h and
  // the output.
  void StoreHidden(T* h_write, int64_t b, int64_t row, int64_t j,
                   int64_t width, Packet h) {
    S::Store(out_.h_n + b * Hh_ + j, h, width);
    S::Store(h_write + b * Hh_ + j,
             Masked(h, MaskAt(in_.recurrent_mask, b * Hh_ + j), width),
             width);
    if (out_.output != nullptr) {
      S::Store(out_.output + row * Hh_ + j, h, width);
    }
  }

  // A row-wise cell's step t for `rows`, their h.U in h_times_u_.
  void FinishRowWise(int64_t t, T* h_write, T* step_rows, const Rows& rows) {
    if constexpr (Cell::kVariants) {
      for (int64_t i = 0; i < rows.count; ++i) {
        const int64_t b = rows[i];
        if (t >= Length(in_.lengths, b, time_)) continue;
        const int64_t row = b * time_ + t;
        cell_.ForwardRow(
            h_times_u_ + b * G_, step_rows + b * R_, out_.h_n + b * Hh_,
            out_.c_n + b * H_, row,
            [&](int64_t u, int64_t width, Packet c) {
              StoreCell(b, row, u, width, c);
            },
            [&](int64_t j, int64_t width, Packet h) {
              StoreHidden(h_write, b, row, j, width, h);
            });
      }
    }
  }

  // The cell on tile rows [0, count) (rows row0.. of `rows`) of panel p.
  void FinishRows(int64_t t, T* h_write, T* step_rows, const Rows& rows,
                  int64_t row0, int64_t count, int64_t p, const T* tile) {
    const int64_t u_first = p * kUnits;
    const int64_t n_units = std::min<int64_t>(kUnits, H_ - u_first);
    for (int64_t r = 0; r < count; ++r) {
      const int64_t b = rows[row0 + r];
      const int64_t len = Length(in_.lengths, b, time_);
      if (t >= len) continue;
      const int64_t row = b * time_ + t;
      for (int64_t u = u_first; u < u_first + n_units; u += kLanes) {
        const int64_t width = std::min<int64_t>(kLanes, H_ - u);
        Packet hu[kGates];
        for (int g = 0; g < kGates; ++g) {
          hu[g] = Eigen::internal::pload<Packet>(tile + r * kWidth +
                                                 g * kUnits + (u - u_first));
        }
        const StepState<Packet> state = cell_.Forward(
            hu, step_rows + b * R_, out_.h_n + b * H_,
            Cell::kCellState ? out_.c_n + b * H_ : nullptr, row, u, width);
        if (Cell::kCellState) StoreCell(b, row, u, width, state.c);
        StoreHidden(h_write, b, row, u, width, state.h);
      }
      // The row's next step writes the same units of these batch-major
      // rows, T steps apart.
      const int64_t next = walk_.reverse ? t - 1 : t + 1;
      if (next < 0 || next >= len) continue;
      const int64_t at = (row + next - t) * H_ + u_first;
      if (out_.cell != nullptr) Prefetch(out_.cell + at, n_units, true);
      if (out_.output != nullptr) Prefetch(out_.output + at, n_units, true);
    }
  }

  // Tile rows [0, count) (rows row0.. of `rows`) of panel p's h.U, kept in
  // h_times_u_ for a row-wise cell.
  void KeepProducts(const Rows& rows, int64_t row0, int64_t count, int64_t p,
                    const T* tile) {
    for (int64_t r = 0; r < count; ++r) {
      StoreTileRow(tile + r * kWidth, p, nullptr,
                   h_times_u_ + rows[row0 + r] * G_);
    }
  }

  // Step s for `rows` and the units of panels [first, last) (a row-wise
  // part has whole rows: every panel).
  void Step(int64_t s, const Rows& rows, int64_t first, int64_t last) {
    StepProducts(s, rows, first, last);
    if (row_wise_) StepRows(s, rows);
  }

  // Step s's products for `rows` and panels [first, last): x.W at a chunk's
  // first step, then h.U, with a plain cell's step on each tile (a row-wise
  // cell's products are kept for StepRows).
  void StepProducts(int64_t s, const Rows& rows, int64_t first,
                    int64_t last) {
    if (s % chunk_ == 0) HoistInput(s, rows, first, last);
    const int64_t t = StepTime(s);
    const T* h_read = h_in_ + (s % 2) * B_ * Hh_;
    T* h_write = h_in_ + ((s + 1) % 2) * B_ * Hh_;
    T* step_rows = RowsOfStep(s);
    const int64_t u_lo = first * kUnits;
    const int64_t u_hi = std::min(H_, last * kUnits);
    if (!row_wise_) CarryOver(t, h_read, h_write, rows, u_lo, u_hi);
    const auto finish = [&](int64_t row0, int64_t count, int64_t p,
                            const T* tile) {
      if (row_wise_) {
        KeepProducts(rows, row0, count, p, tile);
      } else {
        FinishRows(t, h_write, step_rows, rows, row0, count, p, tile);
      }
    };
    if (!rows_via_eigen_) {
      MultiplyPanels<T, kPackets>(
          Hh_, [&](int64_t p) { return u_panels_.view(p); }, first, last,
          rows.count, [&](int64_t i) { return h_read + rows[i] * Hh_; },
          finish);
      return;
    }
    // One row (B == 1): h.U of the part's units (one product when the part
    // has them all, else gate by gate), then one panel's tile at a time.
    if (u_lo == 0 && u_hi == H_) {
      GemmSlice<T>(false, false, 1, G_, Hh_, h_read, Hh_,
                   in_.recurrent_kernel, G_, false, h_times_u_, G_);
    } else {
      for (int g = 0; g < kGates; ++g) {
        GemmSlice<T>(false, false, 1, u_hi - u_lo, Hh_, h_read, Hh_,
                     in_.recurrent_kernel + g * H_ + u_lo, G_, false,
                     h_times_u_ + g * H_ + u_lo, G_);
      }
    }
    if (row_wise_) return;
    alignas(64) T tile[kWidth];
    for (int64_t p = first; p < last; ++p) {
      for (int j = 0; j < kWidth; ++j) {
        const int64_t column = Layout::Column(H_, p, j);
        tile[j] = column < 0 ? T(0) : h_times_u_[column];
      }
      finish(0, 1, p, tile);
    }
  }

  // A row-wise cell's step s for `rows` once their products are in (every
  // panel's): the chunk's x.W normalised at its first step, then the cell.
  void StepRows(int64_t s, const Rows& rows) {
    if (s % chunk_ == 0) NormalizeHoisted(s, rows);
    const int64_t t = StepTime(s);
    T* h_write = h_in_ + ((s + 1) % 2) * B_ * Hh_;
    CarryOver(t, h_in_ + (s % 2) * B_ * Hh_, h_write, rows, 0, Hh_);
    FinishRowWise(t, h_write, RowsOfStep(s), rows);
  }

  // Columns [j_lo, j_hi) of the h of `rows` not running step t carry over.
  void CarryOver(int64_t t, const T* h_read, T* h_write, const Rows& rows,
                 int64_t j_lo, int64_t j_hi) const {
    for (int64_t i = 0; i < rows.count; ++i) {
      const int64_t b = rows[i];
      if (t >= Length(in_.lengths, b, time_)) {
        std::copy_n(h_read + b * Hh_ + j_lo, j_hi - j_lo,
                    h_write + b * Hh_ + j_lo);
      }
    }
  }

  tensorflow::OpKernelContext* ctx_;
  const Cell& cell_;
  const Walk walk_;
  const SequenceInputs<T> in_;
  const ForwardOutputs<T> out_;
  const int64_t B_, time_, I_, H_;
  const int64_t Hh_;  // h's width: the projection's P, else H
  const int64_t G_, R_;
  const bool row_wise_;
  // A row-wise cell's hoisted rows hold x.W alone, for NormalizeInput.
  const bool normalizes_input_;
  GatePanels<T, Cell> w_panels_, u_panels_;
  tensorflow::thread::ThreadPool* pool_ = nullptr;
  Split split_{0, 0, {1, false}};
  int64_t chunk_ = 1;
  bool rows_via_eigen_ = false;
  tensorflow::Tensor ring_holder_, h_in_holder_, h_times_u_holder_;
  tensorflow::Tensor panel_holders_[2];  // packed W, U
  T* ring_ = nullptr;
  T* h_in_ = nullptr;
  T* h_times_u_ = nullptr;  // [B,G] the rows' h.U (B = 1, or row-wise)
};

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_FORWARD_H_
