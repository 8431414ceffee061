// CPU functors of the fused LSTM.
//
// Forward: the recurrence is split between threads (common/cpu_team.h) by
// hidden units or by batch rows, its weights as panels of one packet of
// units whose i, f, c and o weight columns lie side by side
// (common/cpu_packed_gemm.h; packed once per call, or read in place by
// calls of a few steps). Each part computes x.W + b for its units and rows a
// chunk of steps ahead, then every step multiplies h_{t-1} by the panels of
// U and runs the gate math on the product while it is hot; parts split by
// units meet once per step, when h_t is complete. The saved gates are
// time-major, so a step's rows are one block.
// Backward walks the steps the other way with the same split: each part turns
// the gradient reaching its units' h and c into their gate pre-activation
// gradients dG (summing them for db as it goes), then (once every part's dG
// of the step is in) multiplies dG by its panels of U^T for the gradient
// reaching h_{t-1}. One GEMM each then gives dx, dW and dU from all of dG.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <vector>

#include "Eigen/Core"
#include "common/cpu_gemm.h"
#include "common/cpu_packed_gemm.h"
#include "common/cpu_recurrence.h"
#include "common/cpu_team.h"
#include "lstm/lstm_cell.h"
#include "lstm/lstm_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace lstm {

using CPUDevice = Eigen::ThreadPoolDevice;

namespace {

using cpu::AlignedVector;
using cpu::Length;
using cpu::PackedPanels;
using cpu::PanelView;
using cpu::Panel;
using cpu::Pool;
using cpu::PreviousStep;
using cpu::Simd;

constexpr int kGates = 4;

// The batch rows b = first + i * stride (i < count) of a part.
struct Rows {
  int64_t first, stride, count;
  int64_t operator[](int64_t i) const { return first + i * stride; }
};

// The parts' shares of a recurrence over `panels` panels and `batch` rows
// (see cpu::StepSplit): a range of panels of every row, or every panel of
// every parts-th row (which evens out rows of different lengths). Packing
// always splits the panels.
struct Split {
  int64_t panels, batch;
  cpu::StepSplit how;

  int64_t parts() const { return how.parts; }
  int64_t PackFirst(int64_t part) const { return panels * part / how.parts; }
  int64_t FirstPanel(int64_t part) const {
    return how.by_rows ? 0 : PackFirst(part);
  }
  int64_t LastPanel(int64_t part) const {
    return how.by_rows ? panels : PackFirst(part + 1);
  }
  Rows RowsOf(int64_t part) const {
    if (!how.by_rows) return {0, 1, batch};
    return {part, how.parts, (batch - part + how.parts - 1) / how.parts};
  }
  // Phases after the packing phase: one per step when the parts meet every
  // step, else one for the whole walk.
  int64_t WalkPhases(int64_t steps) const { return how.by_rows ? 1 : steps; }
};

// The forward panels of a [K, 4H] weight matrix (W or U): panel p holds the
// units [pP, pP+P) of each gate side by side, slot j being gate j / P, unit
// pP + j % P (P = one packet). Packed (Pack, once per call; the last
// panel's missing units as zeros) for a sequence: contiguous panels stream
// well, where reading a [K, 4H] matrix in place touches four lines K rows
// apart per row (3x slower at H = 512). A call of a few steps (the step op)
// does not repay the copy: when H is a whole number of packets, each packet
// of a panel's row is a contiguous run of the matrix row, read in place.
template <typename T>
class UnitGatePanels {
 public:
  static constexpr int P = Simd<T>::kSize;
  static constexpr int64_t kPackFromSteps = 4;

  UnitGatePanels(const T* weights, int64_t depth, int64_t H, int64_t steps)
      : weights_(weights),
        H_(H),
        panels_((H + P - 1) / P),
        in_place_(H % P == 0 && steps < kPackFromSteps),
        packed_(in_place_ ? 0 : panels_, in_place_ ? 0 : depth) {}

  int64_t panels() const { return panels_; }
  bool in_place() const { return in_place_; }

  void Pack(int64_t p) {
    if (in_place_) return;
    const int64_t H = H_, G = kGates * H;
    const T* weights = weights_;
    packed_.Pack(
        p,
        [H](int64_t panel, int j) -> int64_t {
          const int64_t unit = panel * P + j % P;
          return unit < H ? (j / P) * H + unit : -1;
        },
        [weights, G](int64_t k, int64_t n) { return weights[k * G + n]; });
  }

  PanelView<T> view(int64_t p) const {
    if (!in_place_) return packed_.view(p);
    return {weights_ + p * P, kGates * H_, H_};
  }

 private:
  const T* weights_;
  int64_t H_, panels_;
  bool in_place_;
  PackedPanels<T> packed_;
};

// v times mask[0, width), or v when there is no mask (see cpu::MaskAt).
template <typename T>
typename Simd<T>::Packet Masked(const typename Simd<T>::Packet& v,
                                const T* mask, int64_t width) {
  if (mask == nullptr) return v;
  return Eigen::internal::pmul(v, Simd<T>::Load(mask, width));
}

// The new state of `width` units (u0..) of one row.
template <typename T>
struct UnitsState {
  typename Simd<T>::Packet c, h;
};

// One tile row: the sums h.U of `width` units' four gates (a packet each),
// plus x.W + b from the step's time-major gates row. Writes the activated
// gates back there and returns the units' new c and h.
template <typename T>
UnitsState<T> ActivateTileRow(const T* tile_row, T* gates, const T* c_prev,
                              int64_t H, int64_t u0, int64_t width) {
  using S = Simd<T>;
  using Packet = typename S::Packet;
  using Eigen::internal::padd;
  using Eigen::internal::pload;
  constexpr int P = S::kSize;
  Packet pre[kGates];
  for (int j = 0; j < kGates; ++j) {
    pre[j] = padd(pload<Packet>(tile_row + j * P),
                  S::Load(gates + j * H + u0, width));
  }
  const Packet i = S::Logistic(pre[0]);
  const Packet f = S::Logistic(pre[1]);
  const Packet g = S::Tanh(pre[2]);
  const Packet o = S::Logistic(pre[3]);
  S::Store(gates + u0, i, width);
  S::Store(gates + H + u0, f, width);
  S::Store(gates + 2 * H + u0, g, width);
  S::Store(gates + 3 * H + u0, o, width);
  UnitsState<T> next;
  next.c = CellState(i, f, g, S::Load(c_prev + u0, width));
  next.h = HiddenState(o, S::Tanh(next.c));
  return next;
}

}  // namespace

// Steps of x.W + b computed at a time: enough rows (steps x batch) to fill
// the micro-kernel's register block, few enough that they are still in the
// cache when the recurrence reaches them.
template <typename T>
int64_t ChunkSteps(int64_t batch, int64_t gate_width, int64_t max_len) {
  constexpr int64_t kChunkValues = 32 * 1024;
  const int64_t min_steps = (Panel<T>::kMaxRows + batch - 1) / batch;
  const int64_t steps =
      std::max(min_steps, kChunkValues / (batch * gate_width));
  return std::max<int64_t>(1, std::min({steps, max_len, int64_t{64}}));
}

template <typename T>
struct Forward<CPUDevice, T> {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& d,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const int32_t* lengths,
                  const T* recurrent_mask, T* output, T* h_n, T* c_n,
                  T* gates, T* cell) {
    using S = Simd<T>;
    using Eigen::internal::padd;
    using Eigen::internal::pload;
    const int64_t B = d.batch, T_ = d.time, I = d.input, H = d.units;
    const int64_t G = kGates * H;
    constexpr int P = S::kSize;
    constexpr int W = Panel<T>::kWidth;
    std::copy_n(h0, B * H, h_n);
    std::copy_n(c0, B * H, c_n);
    // Every step that runs writes its output; the others are zeros.
    for (int64_t b = 0; output != nullptr && b < B; ++b) {
      const int64_t len = Length(lengths, b, T_);
      std::fill(output + (b * T_ + len) * H, output + (b + 1) * T_ * H, T(0));
    }
    if (B == 0 || max_len == 0 || H == 0) return;
    auto* pool = Pool(ctx);
    const auto step_time = [&](int64_t s) {
      return reverse ? max_len - 1 - s : s;
    };

    // x.W + b is computed a chunk of steps ahead, by the part that owns the
    // units, into the saved gates (gates[t], time-major) or, in inference, a
    // ring of chunk slots; the step then activates it in place.
    const int64_t chunk = ChunkSteps<T>(B, G, max_len);
    tensorflow::Tensor ring_holder;
    T* ring = nullptr;
    if (gates == nullptr) {
      ring = cpu::AllocateScratch<T>(ctx, chunk * B * G, &ring_holder);
      if (ring == nullptr) return;
    }
    const auto gates_of_step = [&](int64_t s) {
      return gates != nullptr ? gates + step_time(s) * B * G
                              : ring + (s % chunk) * B * G;
    };
    // The h each step's product reads (times the recurrent mask), in two
    // buffers: step s reads one and writes the other.
    AlignedVector<T> h_in(2 * B * H);
    for (int64_t b = 0; b < B; ++b) {
      cpu::CopyMasked(h0 + b * H, cpu::MaskAt(recurrent_mask, b * H), H,
                      h_in.data() + b * H);
    }

    UnitGatePanels<T> w_panels(kernel, I, H, max_len);
    UnitGatePanels<T> u_panels(recurrent_kernel, H, H, max_len);
    const int64_t panels = u_panels.panels();
    const Split split{
        panels, B,
        cpu::ChooseStepSplit(pool, 2.0 * B * H * G, max_len, panels, B,
                             // split by rows, each part reads all of W and U
                             1.0 * sizeof(T) * (I + H) * panels * W)};
    // A call of a few steps of one row (decoding one sequence) reads U in
    // place, where the panel kernel would walk it panel by panel, K rows
    // apart (slower than the reference at H = 512). Eigen's vector-matrix
    // product streams U row by row instead (with more rows Eigen would pack
    // U, which costs more than the panel kernel's walk).
    const bool rows_via_eigen = u_panels.in_place() && B == 1;
    tensorflow::Tensor h_times_u_holder;
    T* h_times_u = nullptr;
    if (rows_via_eigen) {
      h_times_u = cpu::AllocateScratch<T>(ctx, B * G, &h_times_u_holder);
      if (h_times_u == nullptr) return;
    }

    // Step s for `rows` and the units of panels [first, last).
    const auto run_step = [&](int64_t s, const Rows& rows, int64_t first,
                              int64_t last) {
      const int64_t n = rows.count;
      if (s % chunk == 0) {  // x.W + b for steps s .. s + chunk - 1
        const int64_t steps = std::min(chunk, max_len - s);
        cpu::MultiplyPanels<T>(
            I, [&](int64_t p) { return w_panels.view(p); }, first, last,
            steps * n,
            [&](int64_t i) {
              return x + (rows[i % n] * T_ + step_time(s + i / n)) * I;
            },
            [&](int64_t row0, int64_t count, int64_t p, const T* tile) {
              const int64_t u0 = p * P, width = std::min<int64_t>(P, H - u0);
              for (int64_t r = 0; r < count; ++r) {
                const int64_t i = row0 + r;
                T* g = gates_of_step(s + i / n) + rows[i % n] * G;
                for (int j = 0; j < kGates; ++j) {
                  S::Store(g + j * H + u0,
                           padd(pload<typename S::Packet>(tile + r * W + j * P),
                                S::Load(bias + j * H + u0, width)),
                           width);
                }
              }
            });
      }
      const int64_t t = step_time(s);
      const T* h_read = h_in.data() + (s % 2) * B * H;
      T* h_write = h_in.data() + ((s + 1) % 2) * B * H;
      T* step_gates = gates_of_step(s);
      const int64_t u_lo = first * P, u_hi = std::min(H, last * P);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t b = rows[i];
        if (t >= Length(lengths, b, T_)) {  // not running: h carries over
          std::copy_n(h_read + b * H + u_lo, u_hi - u_lo,
                      h_write + b * H + u_lo);
        }
      }
      const auto finish_rows = [&](int64_t row0, int64_t count, int64_t p,
                                   const T* tile) {
        const int64_t u0 = p * P, width = std::min<int64_t>(P, H - u0);
        for (int64_t r = 0; r < count; ++r) {
          const int64_t b = rows[row0 + r];
          const int64_t len = Length(lengths, b, T_);
          if (t >= len) continue;
          const UnitsState<T> state = ActivateTileRow(
              tile + r * W, step_gates + b * G, c_n + b * H, H, u0, width);
          S::Store(c_n + b * H + u0, state.c, width);
          S::Store(h_n + b * H + u0, state.h, width);
          S::Store(h_write + b * H + u0,
                   Masked(state.h, cpu::MaskAt(recurrent_mask, b * H + u0),
                          width),
                   width);
          const int64_t row = b * T_ + t;
          if (cell != nullptr) S::Store(cell + row * H + u0, state.c, width);
          if (output != nullptr) {
            S::Store(output + row * H + u0, state.h, width);
          }
          // The row's next step writes the same units of these
          // batch-major rows, T steps apart.
          const int64_t next = reverse ? t - 1 : t + 1;
          if (next < 0 || next >= len) continue;
          if (cell != nullptr) {
            cpu::Prefetch(cell + (row + next - t) * H + u0, width, true);
          }
          if (output != nullptr) {
            cpu::Prefetch(output + (row + next - t) * H + u0, width, true);
          }
        }
      };
      if (!rows_via_eigen) {
        cpu::MultiplyPanels<T>(
            H, [&](int64_t p) { return u_panels.view(p); }, first, last, n,
            [&](int64_t i) { return h_read + rows[i] * H; }, finish_rows);
        return;
      }
      // One row (B == 1): h.U of the part's units (one product when the
      // part has them all, else gate by gate), then the tile of one panel
      // at a time in the panel layout.
      if (u_lo == 0 && u_hi == H) {
        cpu::GemmSlice<T>(false, false, B, G, H, h_read, H, recurrent_kernel,
                          G, false, h_times_u, G);
      } else {
        for (int j = 0; j < kGates; ++j) {
          cpu::GemmSlice<T>(false, false, B, u_hi - u_lo, H, h_read, H,
                            recurrent_kernel + j * H + u_lo, G, false,
                            h_times_u + j * H + u_lo, G);
        }
      }
      alignas(64) T tile[W];
      for (int64_t p = first; p < last; ++p) {
        const int64_t u0 = p * P, width = std::min<int64_t>(P, H - u0);
        for (int j = 0; j < kGates; ++j) {
          std::fill_n(tile + j * P, P, T(0));
          std::copy_n(h_times_u + j * H + u0, width, tile + j * P);
        }
        finish_rows(0, 1, p, tile);
      }
    };

    // Phase 0 packs; then each part runs its share of the steps.
    cpu::RunPhases(
        pool, 1 + split.WalkPhases(max_len), split.parts(),
        [&](int64_t phase, int64_t part) {
          if (phase == 0) {
            for (int64_t p = split.PackFirst(part);
                 p < split.PackFirst(part + 1); ++p) {
              w_panels.Pack(p);
              u_panels.Pack(p);
            }
            return;
          }
          const Rows rows = split.RowsOf(part);
          const int64_t first = split.FirstPanel(part);
          const int64_t last = split.LastPanel(part);
          if (!split.how.by_rows) {
            run_step(phase - 1, rows, first, last);
            return;
          }
          for (int64_t s = 0; s < max_len; ++s) {
            run_step(s, rows, first, last);
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
    const int64_t G = kGates * H;
    using S = Simd<T>;
    using Packet = typename S::Packet;
    constexpr int P = S::kSize;
    constexpr int W = Panel<T>::kWidth;
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
    tensorflow::Tensor d_gates_holder, h_prev_holder;
    T* const d_gates =
        cpu::AllocateScratch<T>(ctx, B * T_ * G, &d_gates_holder);
    T* const h_prev = cpu::AllocateScratch<T>(ctx, B * T_ * H, &h_prev_holder);
    if (d_gates == nullptr || h_prev == nullptr) return;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = Length(lengths, b, T_);
      std::fill(d_gates + (b * T_ + len) * G, d_gates + (b + 1) * T_ * G,
                T(0));
      std::fill(h_prev + (b * T_ + len) * H, h_prev + (b + 1) * T_ * H, T(0));
    }

    // U^T [4H, H] as panels of W units: dh_{t-1} = dG_t . U^T.
    PackedPanels<T> ut_panels((H + W - 1) / W, G);
    const auto unit_column = [H](int64_t p, int j) -> int64_t {
      const int64_t unit = p * W + j;
      return unit < H ? unit : -1;
    };
    const auto ut_element = [recurrent_kernel, G](int64_t k, int64_t n) {
      return recurrent_kernel[n * G + k];
    };
    auto* pool = Pool(ctx);
    const Split split{
        ut_panels.panels(), B,
        cpu::ChooseStepSplit(pool, 2.0 * B * H * G, max_len,
                             ut_panels.panels(), B,
                             1.0 * sizeof(T) * G * ut_panels.panels() * W)};
    // Step s of the walk is time step StepTime(s).
    const auto step_time = [&](int64_t s) {
      return reverse ? s : max_len - 1 - s;
    };

    // db, as each part's sums (in double, as a column sum over B*T rows
    // needs) of the dG it computes, while they are in the cache.
    using Sums = Eigen::Array<double, Eigen::Dynamic, 1>;
    std::vector<Sums> bias_sums(split.parts(), Sums::Zero(G));

    // dG of step t for `rows` and units [u_lo, u_hi), from the gradient
    // reaching their h_t (dh0: through the recurrence; d_output) and c_t
    // (dc0); adds it to bias_sum.
    const auto gate_gradients = [&](int64_t t, const Rows& rows, int64_t u_lo,
                                    int64_t u_hi, Sums& bias_sum) {
      const int64_t n = u_hi - u_lo;
      for (int64_t i = 0; i < rows.count; ++i) {
        const int64_t b = rows[i];
        const int64_t len = Length(lengths, b, T_);
        if (t >= len) continue;
        const int64_t prev = PreviousStep(reverse, t, len);
        const int64_t row = b * T_ + t;
        const T* c_before = prev < 0 ? c0 + b * H : cell + (b * T_ + prev) * H;
        const T* h_before =
            prev < 0 ? h0 + b * H : output + (b * T_ + prev) * H;
        const T* g = gates + (t * B + b) * G;  // time-major
        const T* dy = d_output + row * H;
        const T* c_row = cell + row * H;
        T* hp = h_prev + row * H;
        T* dh = dh0 + b * H;
        T* dc = dc0 + b * H;
        T* dg = d_gates + row * G;
        for (int64_t j = u_lo; j < u_hi; j += P) {
          const int64_t w = std::min<int64_t>(P, u_hi - j);
          const auto at = [j, w](const T* p) { return S::Load(p + j, w); };
          // dU pairs dG with the h the product saw: masked, when masked.
          S::Store(hp + j,
                   Masked(at(h_before), cpu::MaskAt(recurrent_mask, b * H + j),
                          w),
                   w);
          const StepGrads<Packet> r = CellBackward(
              at(g), at(g + H), at(g + 2 * H), at(g + 3 * H),
              S::Tanh(at(c_row)), at(c_before),
              Eigen::internal::padd(at(dh), at(dy)), at(dc));
          S::Store(dg + j, r.di, w);
          S::Store(dg + H + j, r.df, w);
          S::Store(dg + 2 * H + j, r.dg, w);
          S::Store(dg + 3 * H + j, r.do_, w);
          S::Store(dc + j, r.dc_prev, w);
        }
        for (int j = 0; j < kGates; ++j) {
          bias_sum.segment(j * H + u_lo, n) +=
              cpu::ConstVec<T>(dg + j * H + u_lo, n).template cast<double>();
        }
        // The rows of the row's next visited step, T steps away.
        const int64_t next = reverse ? t + 1 : t - 1;
        if (next < 0 || next >= len) continue;
        const int64_t next_row = b * T_ + next;
        const int64_t next_prev = PreviousStep(reverse, next, len);
        cpu::Prefetch(cell + next_row * H + u_lo, n, false);
        cpu::Prefetch(d_output + next_row * H + u_lo, n, false);
        cpu::Prefetch(h_prev + next_row * H + u_lo, n, true);
        for (int j = 0; j < kGates; ++j) {
          cpu::Prefetch(d_gates + next_row * G + j * H + u_lo, n, true);
        }
        if (next_prev >= 0) {
          cpu::Prefetch(cell + (b * T_ + next_prev) * H + u_lo, n, false);
          cpu::Prefetch(output + (b * T_ + next_prev) * H + u_lo, n, false);
        }
      }
    };

    // dh of `rows` = (step t's dG of those rows) . (panels [first, last)
    // of U^T): the gradient reaching h_{t-1} of the rows that ran.
    const auto recur = [&](int64_t t, const Rows& rows, int64_t first,
                           int64_t last) {
      cpu::MultiplyPanels<T>(
          G, [&](int64_t p) { return ut_panels.view(p); }, first, last,
          rows.count,
          [&](int64_t i) { return d_gates + (rows[i] * T_ + t) * G; },
          [&](int64_t row0, int64_t count, int64_t p, const T* tile) {
            const int64_t v0 = p * W, width = std::min<int64_t>(W, H - v0);
            for (int64_t r = 0; r < count; ++r) {
              const int64_t b = rows[row0 + r];
              if (t >= Length(lengths, b, T_)) continue;
              cpu::CopyMasked(tile + r * W,
                              cpu::MaskAt(recurrent_mask, b * H + v0), width,
                              dh0 + b * H + v0);
            }
          });
    };

    // Phase 0 packs. Split by units, phase 0 also takes the first step's
    // dG, and phase s (1..max_len) multiplies step s-1's complete dG by U^T,
    // then takes step s's dG. Split by rows, phase 1 walks every step.
    cpu::RunPhases(
        pool, 1 + split.WalkPhases(max_len), split.parts(),
        [&](int64_t phase, int64_t part) {
          const Rows rows = split.RowsOf(part);
          const int64_t first = split.FirstPanel(part);
          const int64_t last = split.LastPanel(part);
          const int64_t u_lo = first * W, u_hi = std::min(H, last * W);
          if (phase == 0) {
            for (int64_t p = split.PackFirst(part);
                 p < split.PackFirst(part + 1); ++p) {
              ut_panels.Pack(p, unit_column, ut_element);
            }
            if (!split.how.by_rows) {
              gate_gradients(step_time(0), rows, u_lo, u_hi, bias_sums[part]);
            }
            return;
          }
          if (!split.how.by_rows) {
            recur(step_time(phase - 1), rows, first, last);
            if (phase < max_len) {
              gate_gradients(step_time(phase), rows, u_lo, u_hi,
                             bias_sums[part]);
            }
            return;
          }
          for (int64_t s = 0; s < max_len; ++s) {
            gate_gradients(step_time(s), rows, u_lo, u_hi, bias_sums[part]);
            recur(step_time(s), rows, first, last);
          }
        });

    const T* dG = d_gates;
    // dx = dG . W^T, dW = x^T . dG, dU = h_prev^T . dG.
    cpu::Gemm<T>(pool, false, true, B * T_, I, G, dG, G, kernel, G, false, dx,
                 I);
    cpu::Gemm<T>(pool, true, false, I, G, B * T_, x, I, dG, G, false, dkernel,
                 G);
    cpu::Gemm<T>(pool, true, false, H, G, B * T_, h_prev, H, dG, G,
                 false, drecurrent_kernel, G);
    for (int64_t part = 1; part < split.parts(); ++part) {
      bias_sums[0] += bias_sums[part];
    }
    cpu::Vec<T>(dbias, G) = bias_sums[0].cast<T>();
  }
};

template struct Forward<CPUDevice, float>;
template struct Forward<CPUDevice, double>;
template struct Backward<CPUDevice, float>;
template struct Backward<CPUDevice, double>;

}  // namespace lstm
}  // namespace tfrnn
