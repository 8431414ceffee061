// A team of pool threads walking a sequence of phases in lock step.
//
// The recurrence of a layer is a chain of small steps, each of which splits
// into independent parts (slices of the hidden units). Running every part of
// step t before any part of step t+1 needs a barrier per step; a barrier over
// TensorFlow's shared intra-op pool deadlocks when a pool thread the barrier
// waits for is busy elsewhere and never starts. So threads here *claim*
// parts: a thread only ever waits for parts that another running thread has
// already claimed. If no helper ever starts, the calling thread claims every
// part of every phase itself and the result is the same.
//
// Each thread first tries the part with its own arrival index, so a part's
// data (its slice of the recurrent weights) tends to stay in one core's cache.
#ifndef TFRNN_CUSTOM_OPS_CPU_TEAM_H_
#define TFRNN_CUSTOM_OPS_CPU_TEAM_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "cpu/gemm.h"
#include "tensorflow/core/platform/threadpool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace tfrnn {
namespace cpu {

// Spins (briefly) then yields until counter >= target.
inline void WaitFor(const std::atomic<int64_t>& counter, int64_t target) {
  for (int spins = 0; counter.load(std::memory_order_acquire) < target;
       ++spins) {
    if (spins < 4096) {
#if defined(__x86_64__) || defined(_M_X64)
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

// Runs fn(phase, part) for every phase in [0, phases) and part in
// [0, parts), on up to `parts` threads (the caller and pool threads). Every
// part of phase s finishes before any part of phase s+1 starts.
template <typename Fn>
void RunPhases(tensorflow::thread::ThreadPool* pool, int64_t phases,
               int64_t parts, Fn fn) {
  if (phases <= 0) return;
  if (parts <= 1) {
    for (int64_t s = 0; s < phases; ++s) fn(s, 0);
    return;
  }
  struct alignas(64) Claim {
    std::atomic<int64_t> phase{-1};  // the last phase this part was taken for
  };
  std::unique_ptr<Claim[]> claims(new Claim[parts]);
  alignas(64) std::atomic<int64_t> finished{0};  // parts done, all phases
  alignas(64) std::atomic<int64_t> arrivals{0};

  auto participate = [&]() {
    const int64_t me = arrivals.fetch_add(1, std::memory_order_relaxed);
    // A late arrival starts at the phase in progress.
    for (int64_t s = finished.load(std::memory_order_acquire) / parts;
         s < phases; ++s) {
      WaitFor(finished, s * parts);  // phase s-1 is complete
      for (int64_t i = 0; i < parts; ++i) {
        const int64_t part = (me + i) % parts;
        int64_t expected = s - 1;
        if (claims[part].phase.load(std::memory_order_relaxed) != expected ||
            !claims[part].phase.compare_exchange_strong(
                expected, s, std::memory_order_acq_rel)) {
          continue;
        }
        fn(s, part);
        finished.fetch_add(1, std::memory_order_release);
      }
    }
  };
  RunParts(pool, parts, [&](int64_t) { participate(); });
}

// How many parts a recurrence of `steps` steps of `flops_per_step` is worth
// splitting into: a step must keep each thread busy for well over the cost
// of the hand-over between cores (about a microsecond), and the whole call
// for well over the tens of microseconds a sleeping pool thread takes to
// wake (a single decoding step rarely is).
constexpr double kMinFlopsPerStepPart = 1 << 17;
constexpr double kMinFlopsToSplit = 1 << 24;

inline int64_t StepParts(tensorflow::thread::ThreadPool* pool,
                         double flops_per_step, int64_t steps,
                         int64_t max_parts) {
  if (flops_per_step * steps < kMinFlopsToSplit) return 1;
  const int64_t threads = pool == nullptr ? 1 : pool->NumThreads();
  const int64_t by_work =
      static_cast<int64_t>(flops_per_step / kMinFlopsPerStepPart);
  return std::max<int64_t>(1, std::min({threads, by_work, max_parts}));
}

// How a recurrence's steps are shared between threads. By hidden units: each
// part owns a slice of the recurrent weights (in its core's cache) and the
// parts meet every step, when h_t is complete. By batch rows: rows never
// interact, so each part runs every step of its rows with all the weights
// and the parts never meet; that needs a full register block of rows per
// part (fewer would stream the weights for a few rows) and weights that fit
// in one core's cache beside the rest of the step. A row-wise cell (its
// step reads whole rows) with too few rows to split splits its products by
// units and runs its rows' cell on one part after them (rows_phase: two
// phases a step).
struct StepSplit {
  int64_t parts;
  bool by_rows;
  bool rows_phase = false;
};

// A register block of rows (cpu/packed_gemm.h) per part; weights of
// half a typical 2 MiB L2 (the forward's W and U at B64 H256, 2 MiB, run
// faster split by units, its backward's 1 MiB U^T split by rows).
constexpr int64_t kMinRowsPerPart = 6;
constexpr double kMaxRowSplitWeightBytes = 1 << 20;

// TFRNN_STEP_SPLIT=units or =rows makes every call with more than one pool
// thread split that way, into as many parts as it can, whatever the work
// (for tests of each split and benchmarks comparing them).
enum class ForcedSplit { kNone, kUnits, kRows };

inline ForcedSplit ForcedStepSplit() {
  static const ForcedSplit forced = [] {
    const char* value = std::getenv("TFRNN_STEP_SPLIT");
    if (value == nullptr) return ForcedSplit::kNone;
    if (std::strcmp(value, "units") == 0) return ForcedSplit::kUnits;
    if (std::strcmp(value, "rows") == 0) return ForcedSplit::kRows;
    return ForcedSplit::kNone;
  }();
  return forced;
}

// rows_only: the cell needs whole rows (a row-wise cell: the LSTM's layer
// norm or projection), so the steps split by rows, or by units with a rows
// phase when that makes more parts (few rows) or is forced.
inline StepSplit ChooseStepSplit(tensorflow::thread::ThreadPool* pool,
                                 double flops_per_step, int64_t steps,
                                 int64_t max_unit_parts, int64_t batch,
                                 double weight_bytes, bool rows_only) {
  const int64_t threads = pool == nullptr ? 1 : pool->NumThreads();
  if (rows_only) {
    const int64_t by_rows = StepParts(pool, flops_per_step, steps, batch);
    int64_t by_units = StepParts(pool, flops_per_step, steps, max_unit_parts);
    if (ForcedStepSplit() == ForcedSplit::kRows) return {by_rows, true};
    if (ForcedStepSplit() == ForcedSplit::kUnits) {
      by_units = std::max<int64_t>(1, std::min(threads, max_unit_parts));
    } else if (by_units <= by_rows) {
      return {by_rows, true};
    }
    return {by_units, false, true};
  }
  switch (ForcedStepSplit()) {
    case ForcedSplit::kUnits:
      return {std::max<int64_t>(1, std::min(threads, max_unit_parts)), false};
    case ForcedSplit::kRows:
      return {std::max<int64_t>(1, std::min(threads, batch)), true};
    case ForcedSplit::kNone:
      break;
  }
  const int64_t by_units =
      StepParts(pool, flops_per_step, steps, max_unit_parts);
  if (flops_per_step * steps < kMinFlopsToSplit ||
      weight_bytes > kMaxRowSplitWeightBytes) {
    return {by_units, false};
  }
  const int64_t by_rows = std::min(threads, batch / kMinRowsPerPart);
  if (by_rows >= 2 && by_rows >= by_units) return {by_rows, true};
  return {by_units, false};
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_TEAM_H_
