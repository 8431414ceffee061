// How the CPU engine lays a cell's weights out for the per-step product, and
// how it shares a recurrence between threads.
//
// Gate panels: panel p of W [K,G*H] or U holds the columns of kUnits units
// (p*kUnits ..) of every gate side by side, slot j being gate j / kUnits,
// unit p*kUnits + j % kUnits; one panel's product then holds all the gates
// of those units, and the cell's math runs on it while it is hot. kUnits is
// one packet for the LSTM (4 gates, 4 packets) and the GRU (3 and 3), four
// for the Elman RNN (1 gate, 4 packets).
#ifndef TFRNN_CUSTOM_OPS_CPU_LAYOUT_H_
#define TFRNN_CUSTOM_OPS_CPU_LAYOUT_H_

#include <algorithm>
#include <cstdint>

#include "cpu/packed_gemm.h"
#include "cpu/team.h"
#include "cpu/simd.h"

namespace tfrnn {
namespace cpu {

template <typename T, typename Cell>
struct GateLayout {
  static constexpr int kLanes = Simd<T>::kSize;
  static constexpr int kPackets = Cell::kPanelPackets;
  static constexpr int kGates = Cell::kGates;
  static constexpr int kUnits = kLanes * kPackets / kGates;
  static constexpr int kWidth = Panel<T, kPackets>::kWidth;
  static_assert(kUnits % kLanes == 0 && kUnits * kGates == kLanes * kPackets,
                "a panel holds whole packets of units of every gate");

  static int64_t Panels(int64_t H) { return (H + kUnits - 1) / kUnits; }
  static int64_t Gate(int slot) { return slot / kUnits; }
  static int64_t Unit(int64_t panel, int slot) {
    return panel * kUnits + slot % kUnits;
  }
  // The matrix column in slot j of panel p, or -1 past the last unit.
  static int64_t Column(int64_t H, int64_t p, int j) {
    const int64_t unit = Unit(p, j);
    return unit < H ? Gate(j) * H + unit : -1;
  }
};

// The gate panels of W or U, packed once per call for a sequence
// (contiguous panels stream well, where reading [K, G*H] in place touches a
// line per gate, K rows apart, per row: 3x slower at H = 512) or, for a
// call of a few steps (the step op), which does not repay the copy, read in
// place when H fills whole panels: each packet of a panel's row is then a
// contiguous run of the matrix row.
template <typename T, typename Cell>
class GatePanels {
 public:
  using Layout = GateLayout<T, Cell>;
  using View = PanelView<T, Layout::kPackets>;
  static constexpr int64_t kPackFromSteps = 4;

  GatePanels(const T* weights, int64_t depth, int64_t H, int64_t steps)
      : weights_(weights),
        H_(H),
        panels_(Layout::Panels(H)),
        in_place_(H % Layout::kUnits == 0 && steps < kPackFromSteps),
        packed_(in_place_ ? 0 : panels_, in_place_ ? 0 : depth) {}

  int64_t panels() const { return panels_; }
  bool in_place() const { return in_place_; }
  // Packed panels need storage (PackedPanels::Bind), in place ones none.
  PackedPanels<T, Layout::kPackets>& packed() { return packed_; }

  void Pack(int64_t p) {
    if (in_place_) return;
    const int64_t H = H_, G = Layout::kGates * H;
    const T* weights = weights_;
    packed_.Pack(
        p, [H](int64_t panel, int j) { return Layout::Column(H, panel, j); },
        [weights, G](int64_t k, int64_t n) { return weights[k * G + n]; });
  }

  View view(int64_t p) const {
    if (!in_place_) return packed_.view(p);
    View v{weights_ + p * Layout::kUnits, Layout::kGates * H_, {}};
    for (int q = 0; q < Layout::kPackets; ++q) {
      const int slot = q * Layout::kLanes;
      v.offset[q] = Layout::Gate(slot) * H_ + slot % Layout::kUnits;
    }
    return v;
  }

 private:
  const T* weights_;
  int64_t H_, panels_;
  bool in_place_;
  PackedPanels<T, Layout::kPackets> packed_;
};

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
  StepSplit how;

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
  // step (two with a rows phase), else one for the whole walk.
  int64_t WalkPhases(int64_t steps) const {
    return how.by_rows ? 1 : how.rows_phase ? 2 * steps : steps;
  }
};

// Steps of x.W + b computed at a time: enough rows (steps x batch) to fill
// the micro-kernel's register block, few enough that they are still in the
// cache when the recurrence reaches them.
template <typename T, int kPackets>
int64_t ChunkSteps(int64_t batch, int64_t row_width, int64_t max_len) {
  constexpr int64_t kChunkValues = 32 * 1024;
  const int64_t min_steps =
      (Panel<T, kPackets>::kMaxRows + batch - 1) / batch;
  const int64_t steps =
      std::max(min_steps, kChunkValues / (batch * row_width));
  return std::max<int64_t>(1, std::min({steps, max_len, int64_t{64}}));
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_LAYOUT_H_
