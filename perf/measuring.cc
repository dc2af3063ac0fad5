#include "perf/measuring.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "absl/strings/str_format.h"
#include "harness/results.h"

namespace klab::perf {

std::vector<Outcome> CheckThenTime(const std::vector<Implementation>& impls,
                                   const harness::MeasureOptions& options, bool interleave,
                                   int alternating_passes) {
  std::vector<Outcome> out(impls.size());
  std::vector<std::unique_ptr<harness::Sampler>> samplers;
  std::vector<harness::RoundEntry> entries;
  std::vector<size_t> timed;  // index into impls of each entry
  for (size_t i = 0; i < impls.size(); ++i) {
    const Implementation& im = impls[i];
    Outcome& o = out[i];
    o.row = im.row;
    if (im.check) {
      if (im.enter) im.enter();
      o.check = im.check();
      // JSON has no infinity: an unbounded error (a wrong exact result) is written "inf".
      o.row["check"] = {{"ok", o.check.ok},
                        {"max_err_ratio", std::isinf(o.check.max_err_ratio)
                                              ? harness::Json("inf")
                                              : harness::Json(o.check.max_err_ratio)}};
      if (!o.check.ok) {
        o.row["check"]["detail"] = o.check.detail;
        if (!o.check.time_anyway) continue;  // a wrong result is never timed
      }
    }
    samplers.push_back(std::make_unique<harness::Sampler>(im.call, options));
    entries.push_back({samplers.back().get(), im.group, im.enter});
    timed.push_back(i);
  }
  const std::vector<harness::Measurement> measured =
      !interleave && alternating_passes > 1
          ? harness::SampleInBlocks(entries, alternating_passes, kSettleSeconds)
          : harness::SampleInRounds(entries, interleave);
  for (size_t e = 0; e < timed.size(); ++e) {
    Outcome& o = out[timed[e]];
    o.m = measured[e];
    const harness::Json timing = harness::TimingJson(*o.m);
    for (const auto& [key, v] : timing.items()) o.row[key] = v;
  }
  return out;
}

Alternation AlternateBlocks(int blocks, int per_block, const std::function<void()>& ours,
                            const std::function<absl::StatusOr<std::vector<double>>(int)>& theirs,
                            const std::function<void()>& before_ours,
                            const std::function<void()>& before_theirs) {
  Alternation a;
  for (int b = 0; b < blocks; ++b) {
    before_ours();
    for (int r = 0; r < per_block; ++r) {
      const auto start = std::chrono::steady_clock::now();
      ours();
      a.ours_ns.push_back(
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
              .count());
    }
    before_theirs();
    absl::StatusOr<std::vector<double>> ns = theirs(per_block);
    if (!ns.ok()) {
      a.status = ns.status();
      return a;
    }
    a.theirs_ns.insert(a.theirs_ns.end(), ns->begin(), ns->end());
  }
  return a;
}

std::string Progress::Next() { return absl::StrFormat("[%d/%d]", ++done_, total_); }

std::string MadCell(const harness::Summary& s) {
  const double pct = s.median > 0 ? 100.0 * s.mad / s.median : 0.0;
  return absl::StrFormat("%.1f%s", pct, harness::IsUnstable(s) ? " unstable" : "");
}

}  // namespace klab::perf
