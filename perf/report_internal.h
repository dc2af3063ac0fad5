// What report_doc.cc (summary, areas, models) and report_causes.cc (changes, causes,
// recommendations) share: the report's stated rules and small readers of record rows.
#ifndef KLAB_PERF_REPORT_INTERNAL_H_
#define KLAB_PERF_REPORT_INTERNAL_H_

#include <cmath>
#include <cstddef>
#include <string>

#include "harness/compare.h"
#include "harness/fleet.h"
#include "harness/json.h"

namespace klab::perf::report {

using harness::Json;

// The rules of the report, stated once (docs/report.md, "Rules"):
inline constexpr double kPeerGap = 0.95;        // ours below 95% of the best peer's speed: a gap
inline constexpr double kDispatchLoss = 0.95;   // the dispatcher's pick below 95% of our best variant
inline constexpr double kCeilingPct = 50;       // below half the bandwidth ceiling AND half the peak
inline constexpr double kThreadsHurt = 0.95;    // more threads below 95% of one thread's speed
inline constexpr double kUnstableShare = 0.10;  // over 10% of rows unstable: a noisy machine
inline constexpr size_t kTop = 10;              // the top-10 lists
inline constexpr size_t kAreaRows = 40;         // rows per area table before the rest is summarised
inline constexpr size_t kPerRule = 5;           // recommendations per rule, worst first

inline std::string Text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

inline double Num(const Json& row, const char* field) {
  return row.is_object() && row.contains(field) && row[field].is_number() ? row[field].get<double>()
                                                                          : NAN;
}

inline double Median(const Json& row) { return harness::RowMedian(row); }

inline Json OrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

inline const Json& Rows(const Json& record) {
  static const Json kNone = Json::array();
  return record.is_object() && record.contains("rows") && record["rows"].is_array()
             ? record["rows"]
             : kNone;
}

// The verdict and change of a compared row: against the drift control where it has one.
inline std::string Verdict(const harness::RowComparison& r) {
  return r.has_control ? r.adjusted_verdict : r.verdict;
}
inline double Change(const harness::RowComparison& r) {
  return r.has_control ? r.adjusted_change : r.change;
}

}  // namespace klab::perf::report

#endif  // KLAB_PERF_REPORT_INTERNAL_H_
