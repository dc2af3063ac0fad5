// Fuzz target: the result-record reader (harness/record_reader.h) and everything that reads a
// record it accepts: the comparison against itself and against a fixed good record, the report
// and its chart. Nothing the reader accepts may throw or crash them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "harness/compare.h"
#include "harness/record_reader.h"

namespace {
const klab::harness::Json& Reference() {
  static const klab::harness::Json r = klab::harness::Json::parse(R"({
    "schema": "kernel-lab/results/v1", "suite": "demo", "run_id": "r0",
    "env": {"host": "vm", "during_run": {"steal_pct": 0.5, "load_1min": 1.0}},
    "rows": [{"name": "a", "op": "gemm", "impl": "openblas", "samples_ns": [1, 2, 3],
              "time_ns": {"median": 2}}],
    "scaling": {"size": {"params_ratio": 2, "time_ratio": 1.5}},
    "hot_paths": {"m": {"share": {"gemm": 0.8}}}})");
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using klab::harness::Json;
  auto record = klab::harness::ParseRecord(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!record.ok()) return 0;
  const klab::harness::CompareOptions options;
  const Json& mine = *record;
  for (const Json* previous : {&mine, &Reference()}) {
    using Pair = std::pair<const Json*, const Json*>;
    for (const auto& [a, b] : {Pair{&mine, previous}, Pair{previous, &mine}}) {
      auto c = klab::harness::CompareRuns(*a, *b, options);
      if (!c.ok()) continue;
      (void)klab::harness::ReportMarkdown(*a, *b, *c, options);
      (void)klab::harness::ReportChartSvg(*c, options, "fuzz");
    }
  }
  return 0;
}
