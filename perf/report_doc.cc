#include "perf/report_doc.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "harness/fleet.h"
#include "harness/results.h"
#include "perf/report_internal.h"

namespace klab::perf {

// In report_causes.cc: top changes, root causes, recommendations.
harness::Json TopChanges(const ReportInput& in, bool improvements);
harness::Json RootCauses(const ReportInput& in);
harness::Json Recommendations(const ReportInput& in, const harness::Json& report);

namespace {

using namespace report;  // NOLINT: the report's rules and row readers

// Comparison rows by name, for the part.
std::map<std::string, const harness::RowComparison*> ByName(const ReportPart& p) {
  std::map<std::string, const harness::RowComparison*> out;
  if (p.comparison) {
    for (const harness::RowComparison& r : p.comparison->rows) out[r.name] = &r;
  }
  return out;
}

// Per case: the best peer's median and name.
std::map<std::string, std::pair<double, std::string>> BestPeers(const Json& rows) {
  std::map<std::string, std::pair<double, std::string>> best;
  for (const Json& row : rows) {
    const double t = Median(row);
    if (!harness::IsPeer(row) || !(t > 0)) continue;
    if (row.contains("check") && row["check"].is_object() && !row["check"].value("ok", true)) continue;
    auto& b = best[harness::CaseKey(row)];
    if (b.second.empty() || t < b.first) b = {t, Text(row["impl"])};
  }
  return best;
}

Json Summary(const ReportInput& in) {
  Json s = {{"runtime_s", in.wall_s}, {"budget_s", in.budget_s}, {"quick", in.quick}};
  double bytes = 0;
  int rows = 0, allocating = 0, unstable = 0;
  std::set<std::string> cases;
  Json parts = Json::array();
  for (const ReportPart& p : in.parts) {
    for (const Json& row : Rows(p.record)) {
      ++rows;
      cases.insert(p.key + "|" + harness::CaseKey(row));
      const double b = row.contains("alloc") ? Num(row["alloc"], "bytes") : NAN;
      if (b > 0) bytes += b, ++allocating;
      if (row.value("unstable", false)) ++unstable;
    }
    Json v = {{"key", p.key}, {"mode", p.mode}, {"wall_s", p.wall_s},
              {"rows", Rows(p.record).size()}, {"baseline", p.baseline_id},
              {"failure", p.failure}};
    if (p.comparison) {
      const harness::Comparison& c = *p.comparison;
      v["faster"] = c.faster, v["slower"] = c.slower, v["noise"] = c.noise;
      v["adjusted_rows"] = c.adjusted_rows;
      v["adjusted_faster"] = c.adjusted_faster, v["adjusted_slower"] = c.adjusted_slower;
      v["control_rows"] = c.control_rows, v["control_change"] = c.control_speed_change;
      v["changed_peers"] = c.changed_peers;
      v["geomean_speed_change"] = c.geomean_speed_change;
    }
    Json headlines = Json::array();
    if (p.record.is_object()) {
      for (const harness::Headline& h : harness::Headlines(p.record)) {
        headlines.push_back({{"label", h.label}, {"value", h.value}, {"text", h.text}});
      }
    }
    v["headlines"] = headlines;
    parts.push_back(v);
  }
  s["rows"] = rows;
  s["cases"] = cases.size();
  s["unstable_rows"] = unstable;
  s["bytes_allocated_per_call_sum"] = bytes;
  s["rows_allocating"] = allocating;
  s["parts"] = parts;
  return s;
}

// Hot paths: the kernel kinds' shares of each model's and training workload's time (profiles of
// the same run), and the rows that took the most of the run's measured time.
Json HotPaths(const ReportInput& in) {
  Json kinds = Json::array(), top = Json::array();
  std::vector<std::pair<double, Json>> by_time;
  double total = 0;
  for (const ReportPart& p : in.parts) {
    if (p.record.is_object() && p.record.contains("hot_paths") && p.record["hot_paths"].is_object()) {
      for (const auto& [model, h] : p.record["hot_paths"].items()) {
        kinds.push_back({{"where", absl::StrFormat("%s %s, %s thread(s)", model, Text(h.value("test", Json("?"))),
                                                   Text(h.value("threads", Json(1))))},
                         {"share", h.value("share", Json::object())}});
      }
    }
    for (const Json& row : Rows(p.record)) {
      if (row.contains("split") && row["split"].is_object() && harness::IsOurs(row)) {
        kinds.push_back({{"where", Text(row["name"])}, {"share", row["split"]}});
      }
      const double spent = Median(row) * Num(row, "reps") *
                           (row.contains("calls_per_sample") ? Num(row, "calls_per_sample") : 1.0);
      if (!(spent > 0)) continue;
      total += spent;
      by_time.push_back({spent, {{"key", p.key}, {"name", row.value("name", Json("?"))},
                                 {"median_ns", Median(row)},
                                 {"alloc_bytes", row.contains("alloc") ? OrNull(Num(row["alloc"], "bytes")) : Json(nullptr)},
                                 {"alloc_count", row.contains("alloc") ? OrNull(Num(row["alloc"], "count")) : Json(nullptr)}}});
    }
  }
  std::sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < by_time.size() && i < kTop; ++i) {
    Json r = by_time[i].second;
    r["share"] = by_time[i].first / total;
    r["measured_s"] = by_time[i].first * 1e-9;
    top.push_back(r);
  }
  return {{"kinds", kinds}, {"rows", top}, {"measured_s", total * 1e-9}};
}

Json AreaRow(const ReportPart& p, const Json& row, const harness::RowComparison* c,
             const std::map<std::string, std::pair<double, std::string>>& peers) {
  const double t = Median(row);
  Json r = {{"key", p.key}, {"name", row.value("name", Json("?"))}, {"current_ns", OrNull(t)}};
  if (c != nullptr) {
    r["previous_ns"] = c->previous_ns;
    r["delta_ns"] = c->current_ns - c->previous_ns;
    r["change"] = Change(*c);
    r["verdict"] = Verdict(*c);
    r["vs_control"] = c->has_control;
  }
  auto peer = peers.find(harness::CaseKey(row));
  if (peer != peers.end() && t > 0) {
    r["ratio_best_peer"] = peer->second.first / t;  // > 1: ours faster
    r["best_peer"] = peer->second.second;
  }
  return r;
}

// Per area: for each case our fastest row and the dispatcher's (*_auto), and any row whose change
// is significant, with current, previous, delta, change, verdict and the in-run ratio to the best
// peer on the same case. The ladder's other rungs stay in the parts' own tables.
Json Areas(const ReportInput& in) {
  std::map<std::string, Json> areas;
  std::vector<std::string> order;
  for (const ReportPart& p : in.parts) {
    if (!areas.count(p.area)) order.push_back(p.area), areas[p.area] = {{"area", p.area}, {"parts", Json::array()}, {"rows", Json::array()}, {"omitted", 0}};
    Json& a = areas[p.area];
    a["parts"].push_back(p.key);
    const auto compared = ByName(p);
    const auto peers = BestPeers(Rows(p.record));
    std::map<std::string, std::pair<double, std::string>> best;  // case -> our fastest row
    for (const Json& row : Rows(p.record)) {
      const double t = Median(row);
      if (!harness::IsOurs(row) || !(t > 0)) continue;
      auto& b = best[harness::CaseKey(row)];
      if (b.second.empty() || t < b.first) b = {t, Text(row.value("name", Json("")))};
    }
    int omitted = 0;
    for (const Json& row : Rows(p.record)) {
      if (!harness::IsOurs(row) || !(Median(row) > 0)) continue;
      const std::string name = Text(row.value("name", Json("")));
      auto c = compared.find(name);
      const bool fastest = best[harness::CaseKey(row)].second == name;
      const bool significant = c != compared.end() && Verdict(*c->second) != "noise";
      if ((!fastest && !harness::IsDispatcherRow(row) && !significant) || a["rows"].size() >= kAreaRows) {
        ++omitted;
        continue;
      }
      Json r = AreaRow(p, row, c == compared.end() ? nullptr : c->second, peers);
      r["fastest_of_case"] = fastest;
      a["rows"].push_back(std::move(r));
    }
    a["omitted"] = a["omitted"].get<int>() + omitted;
  }
  Json out = Json::array();
  for (const std::string& name : order) out.push_back(areas[name]);
  return out;
}

// The FMA peak per core that the parts measured (each suite's env.peak).
Json PeakOf(const ReportInput& in) {
  for (const ReportPart& p : in.parts) {
    if (p.record.is_object() && p.record.contains("env") && p.record["env"].contains("peak") &&
        p.record["env"]["peak"].is_object() && p.record["env"]["peak"].contains("gflops")) {
      return p.record["env"]["peak"]["gflops"];
    }
  }
  return nullptr;
}

const ReportPart* PartOf(const ReportInput& in, const std::string& suite) {
  for (const ReportPart& p : in.parts) {
    if (p.record.is_object() && p.record.value("suite", "") == suite) return &p;
  }
  return nullptr;
}

Json Models(const ReportInput& in) {
  Json out = Json::array();
  const ReportPart* p = PartOf(in, "model_bench");
  if (p == nullptr) return out;
  const auto compared = ByName(*p);
  std::map<std::string, double> pytorch;  // our row's name -> PyTorch tok/s on the same case
  for (const Json& row : Rows(p->record)) {
    const std::string name = Text(row.value("name", Json("")));
    if (row.value("impl", "") == "pytorch" && name.size() > 8) {
      pytorch[name.substr(0, name.size() - 8)] = Num(row, "tokens_per_s");
    }
  }
  for (const Json& row : Rows(p->record)) {
    if (!harness::IsOurs(row) || row.value("op", "") != "model") continue;
    const std::string name = Text(row["name"]);
    Json m = {{"name", name}, {"model", row.value("model", Json("?"))}, {"test", row.value("test", Json("?"))},
              {"kv_cache", row.value("kv_cache", Json(nullptr))}, {"threads", row.value("threads", Json(1))},
              {"tok_s", OrNull(Num(row, "tokens_per_s"))},
              {"ms_per_token", OrNull(Num(row, "latency_ms_per_token"))},
              {"bytes_per_token", OrNull(Num(row, "bytes_per_token"))},
              {"kv_cache_bytes", OrNull(Num(row, "kv_cache_bytes"))},
              {"model_bytes", row.contains("memory") ? OrNull(Num(row["memory"], "model_bytes")) : Json(nullptr)},
              {"creation_ms", OrNull(Num(row, "creation_ms"))}, {"ttft_ms", OrNull(Num(row, "ttft_ms"))},
              {"pct_peak", OrNull(Num(row, "pct_peak"))}, {"pct_ceiling", OrNull(Num(row, "pct_ceiling"))}};
    auto py = pytorch.find(name);
    if (py != pytorch.end() && py->second > 0) m["x_pytorch"] = Num(row, "tokens_per_s") / py->second;
    auto c = compared.find(name);
    if (c != compared.end()) m["verdict"] = Verdict(*c->second), m["change"] = Change(*c->second);
    out.push_back(m);
  }
  return out;
}

Json Training(const ReportInput& in) {
  Json out = Json::array();
  const ReportPart* p = PartOf(in, "train_bench");
  if (p == nullptr) return out;
  const auto compared = ByName(*p);
  for (const Json& row : Rows(p->record)) {
    if (!harness::IsOurs(row)) continue;
    Json t = {{"name", row.value("name", Json("?"))}, {"workload", row.value("workload", Json("?"))},
              {"threads", row.value("threads", Json(1))}, {"ms_per_step", OrNull(Num(row, "ms_per_step"))},
              {"pct_peak", OrNull(Num(row, "pct_peak"))}, {"x_pytorch", OrNull(Num(row, "x_pytorch"))},
              {"bytes_per_step", OrNull(Num(row, "bytes_per_step"))},
              {"loss_first", OrNull(Num(row, "loss_first"))}, {"loss_last", OrNull(Num(row, "loss_last"))}};
    auto c = compared.find(Text(row.value("name", Json(""))));
    if (c != compared.end()) t["verdict"] = Verdict(*c->second), t["change"] = Change(*c->second);
    out.push_back(t);
  }
  return out;
}

Json Memory(const ReportInput& in) {
  Json out = Json::array();
  const ReportPart* p = PartOf(in, "memory_bench");
  if (p == nullptr) return out;
  for (const Json& row : Rows(p->record)) {
    out.push_back({{"name", row.value("name", Json("?"))}, {"case", row.value("case", Json("?"))},
                   {"variant", row.value("variant", Json("?"))},
                   {"bytes_per_call", OrNull(Num(row, "bytes_per_call"))},
                   {"allocs_per_call", OrNull(Num(row, "allocs_per_call"))},
                   {"bytes_per_step", OrNull(Num(row, "bytes_per_step"))},
                   {"bytes_first_step", OrNull(Num(row, "bytes_first_step"))},
                   {"ms_per_call", OrNull(Num(row, "ms_per_call"))},
                   {"reduction_pct", OrNull(Num(row, "reduction_pct"))}});
  }
  return out;
}

// Thread scaling of every case measured on 1 and 2+ threads (our rows), and the model bench's
// size scaling (parameter ratio against time ratio).
Json Scaling(const ReportInput& in) {
  Json threads = Json::array();
  for (const ReportPart& p : in.parts) {
    // The peak suite gives each thread its own work: its times do not scale, by design.
    if (p.area == "machine") continue;
    std::map<std::string, std::map<int, double>> by_case;  // case without threads -> threads -> t
    std::map<std::string, std::string> label;
    for (const Json& row : Rows(p.record)) {
      // Of the kernel sweeps' many variants, the dispatcher's row stands for the library.
      const bool kernel_part = p.area == "matmul" || p.area == "activations and norms";
      if (!harness::IsOurs(row) || !(Median(row) > 0) || (kernel_part && !harness::IsDispatcherRow(row))) continue;
      Json no_threads = row;
      no_threads.erase("threads");
      const std::string key = harness::CaseKey(no_threads) + Text(row.value("variant", Json("")));
      auto& t = by_case[key][row.value("threads", 1)];
      t = t > 0 ? std::min(t, Median(row)) : Median(row);
      label[key] = Text(row.value("name", Json("?")));
    }
    for (const auto& [key, t] : by_case) {
      if (!t.count(1) || t.size() < 2) continue;
      const auto& [n, tn] = *t.rbegin();
      threads.push_back({{"key", p.key}, {"case", label[key]}, {"threads", n},
                         {"speedup", t.at(1) / tn}, {"efficiency", t.at(1) / tn / n}});
    }
  }
  Json out = {{"threads", threads}};
  if (const ReportPart* m = PartOf(in, "model_bench"); m != nullptr && m->record.contains("scaling")) {
    out["model_size"] = m->record["scaling"].value("size", Json(nullptr));
  }
  return out;
}

}  // namespace


Json BuildReport(const ReportInput& in) {
  Json r = {{"schema", kReportSchema}, {"run_id", in.run_id}, {"machine", in.machine},
            {"cpu_model", in.env.value("cpu_model", Json("?"))}, {"cores", in.env.value("cores", Json(nullptr))},
            {"peak_gflops_per_core", PeakOf(in)},
            {"commit", in.env.value("git_commit", Json("?"))},
            {"thresholds", {{"alpha", in.options.alpha}, {"practical", in.options.threshold},
                            {"peer_gap", kPeerGap}, {"dispatch_loss", kDispatchLoss},
                            {"ceiling_pct", kCeilingPct}, {"threads_hurt", kThreadsHurt}, {"unstable_share", kUnstableShare}}}};
  r["summary"] = Summary(in);
  r["hot_paths"] = HotPaths(in);
  r["areas"] = Areas(in);
  r["models"] = Models(in);
  r["training"] = Training(in);
  r["memory"] = Memory(in);
  r["scaling"] = Scaling(in);
  r["top_improvements"] = TopChanges(in, true);
  r["top_regressions"] = TopChanges(in, false);
  r["root_causes"] = RootCauses(in);
  r["recommendations"] = Recommendations(in, r);
  return r;
}

}  // namespace klab::perf
