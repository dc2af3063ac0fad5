// The types //perf:matmul_sweep shares between its runner (matmul_sweep.cc) and its report
// (matmul_report.cc: the markdown tables and the charts).
#ifndef KLAB_PERF_MATMUL_SWEEP_H_
#define KLAB_PERF_MATMUL_SWEEP_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/json.h"
#include "harness/measure.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "perf/peers.h"

namespace klab::perf {

// One implementation in the sweep: a registered variant, Sgemm itself, the models' linear call,
// or a peer library.
struct Impl {
  enum class Kind {
    kVariant,  // a registry variant, called directly
    kSgemm,    // sgemm_auto: the public Sgemm with its shape heuristic
    kLinear,   // linear_packed: kernels::LinearThreaded on W packed once before timing (the
               // call the models make; transformer shapes only)
    kPeer,
  };
  static constexpr int kAnyThreadCount = std::numeric_limits<int>::max();
  std::string variant;  // registry name, or the peer's name
  std::string impl;     // "kernel-lab" or the peer's name
  std::string isa;      // the variant's ISA; "library" for peers
  Kind kind = Kind::kVariant;
  int max_threads = kAnyThreadCount;
  const kernels::GemmVariant* variant_ptr = nullptr;  // kVariant
  PeerGemm* peer = nullptr;                           // kPeer
};

// One problem of the sweep.
struct Case {
  int64_t m, n, k;
  kernels::Trans trans_b;
  std::string label;  // "512" for squares, "1x128x384" (M x K x N) for transformer shapes
};

struct Settings {
  std::vector<int64_t> sizes;
  std::vector<Case> cases;
  std::string shapes;
  std::vector<int64_t> threads;
  harness::MeasureOptions measure;
  int64_t naive_max_size;
  std::optional<kernels::Blocking> blocking;
  bool interleave = true;
};

// A (threads, case, implementation) cell of the tables.
struct SweepRow {
  int64_t threads;
  std::string shape;  // Case::label
  std::string variant, impl;
  double gflops = std::nan("");
  std::string status;  // "ok", "WRONG", "skipped: why"
};

// The read ceiling measured for one M = 1 case: its packed weights read with the same split over
// the threads as linear_packed, sampled in the case's rounds.
struct ReadCeiling {
  int64_t threads;
  std::string shape;
  double weight_bytes, gbs;
};

std::string RenderMarkdown(const harness::Json& record, const std::vector<SweepRow>& rows,
                           const std::vector<Impl>& impls, const Settings& settings,
                           const std::vector<ReadCeiling>& ceilings);

// The run's SVG files (name, contents): GFLOP/s against n per thread count, and the roofline.
std::vector<std::pair<std::string, std::string>> Charts(const harness::Json& record);

}  // namespace klab::perf

#endif  // KLAB_PERF_MATMUL_SWEEP_H_
