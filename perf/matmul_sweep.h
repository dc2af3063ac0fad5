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
#include "harness/topology.h"
#include "perf/measuring.h"
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
  kernels::Trans trans_a = kernels::Trans::kNo;
};

// "NN", "NT", "TN" or "TT": A, then B, as stored (N row-major, T transposed).
std::string LayoutOf(const Case& cs);

struct Settings {
  std::vector<int64_t> sizes;
  std::vector<Case> cases;
  std::string shapes;
  std::vector<int64_t> threads;
  harness::MeasureOptions measure;
  int64_t naive_max_size;
  std::optional<kernels::Blocking> blocking;
  bool interleave = true;
  int passes = 3;  // alternating passes of blocks where the implementations cannot share rounds
  uint64_t seed = 1;  // of the random inputs
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

struct CaseData;  // matmul_run.cc: a case's inputs, packed W and reference

// The sweep over thread counts and cases; rows accumulate into the record and the tables.
class Sweep {
 public:
  Sweep(const Settings& settings, const std::vector<Impl>& impls, const harness::Topology& topo,
        const std::vector<int>& core_order, bool have_peers, double peak, harness::Json& rows)
      : settings_(settings), impls_(impls), topo_(topo), core_order_(core_order),
        have_peers_(have_peers), peak_(peak), rows_(rows),
        progress_(static_cast<int>(settings.threads.size() * settings.cases.size() * impls.size())) {}

  void RunThreads(int64_t threads);
  int wrong() const { return wrong_; }
  std::vector<SweepRow>& table_rows() { return table_rows_; }
  std::vector<ReadCeiling>& ceilings() { return ceilings_; }
  harness::Json& ceiling_json() { return ceiling_json_; }

 private:
  std::optional<std::string> SkipReason(const Impl& im, const Case& cs, int64_t threads) const;
  Implementation Declare(const Impl& im, const Case& cs, CaseData& d, int64_t threads);
  void RunCase(const Case& cs, int64_t threads, bool interleave);
  void Record(const Impl& im, const Case& cs, int64_t threads, Outcome& o, bool interleave);
  harness::PinResult PinFor(const Impl& im, int64_t threads) const;

  const Settings& settings_;
  const std::vector<Impl>& impls_;
  const harness::Topology& topo_;
  const std::vector<int>& core_order_;
  const bool have_peers_;
  const double peak_;
  harness::Json& rows_;
  Progress progress_;
  int wrong_ = 0;
  std::vector<SweepRow> table_rows_;
  std::vector<ReadCeiling> ceilings_;
  harness::Json ceiling_json_ = harness::Json::array();
};

std::string RenderMarkdown(const harness::Json& record, const std::vector<SweepRow>& rows,
                           const std::vector<Impl>& impls, const Settings& settings,
                           const std::vector<ReadCeiling>& ceilings);

// The run's SVG files (name, contents): GFLOP/s against n per thread count, and the roofline.
std::vector<std::pair<std::string, std::string>> Charts(const harness::Json& record);

}  // namespace klab::perf

#endif  // KLAB_PERF_MATMUL_SWEEP_H_
