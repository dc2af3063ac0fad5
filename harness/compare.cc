#include "harness/compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/env.h"
#include "harness/layout.h"
#include "harness/results.h"
#include "harness/svg_plot.h"

namespace klab::harness {
namespace {

namespace fs = std::filesystem;

// Ranks of the pooled samples (1-based, ties averaged); x's values first.
std::vector<double> PooledRanks(const std::vector<double>& x, const std::vector<double>& y,
                                double* tie_term) {
  const size_t n = x.size() + y.size();
  std::vector<std::pair<double, size_t>> v;
  v.reserve(n);
  for (size_t i = 0; i < x.size(); ++i) v.push_back({x[i], i});
  for (size_t j = 0; j < y.size(); ++j) v.push_back({y[j], x.size() + j});
  std::sort(v.begin(), v.end());
  std::vector<double> rank(n);
  *tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t k = i;
    while (k + 1 < n && v[k + 1].first == v[i].first) ++k;
    const double r = (i + k) / 2.0 + 1.0;  // average of ranks i+1 .. k+1
    for (size_t m = i; m <= k; ++m) rank[v[m].second] = r;
    const double t = static_cast<double>(k - i + 1);
    *tie_term += t * t * t - t;
    i = k + 1;
  }
  return rank;
}

// P(U <= u) under the null hypothesis for sample sizes m, n without ties: the number of
// arrangements with U = k, counted by the recurrence c(m, n, k) = c(m - 1, n, k - n) + c(m, n - 1, k).
double ExactCdf(int m, int n, double u) {
  // table[a][b][k] for a <= m, b <= n, k <= m n.
  const int kmax = m * n;
  std::vector<std::vector<std::vector<double>>> c(
      m + 1, std::vector<std::vector<double>>(n + 1, std::vector<double>(kmax + 1, 0.0)));
  for (int a = 0; a <= m; ++a) {
    for (int b = 0; b <= n; ++b) {
      if (a == 0 || b == 0) {
        c[a][b][0] = 1;
        continue;
      }
      for (int k = 0; k <= a * b; ++k) {
        c[a][b][k] = (k >= b ? c[a - 1][b][k - b] : 0.0) + c[a][b - 1][k];
      }
    }
  }
  double total = 0, below = 0;
  for (int k = 0; k <= kmax; ++k) {
    total += c[m][n][k];
    if (k <= u + 1e-9) below += c[m][n][k];
  }
  return below / total;
}

std::string FormatNs(double ns) {
  if (ns >= 1e9) return absl::StrFormat("%.3f s", ns / 1e9);
  if (ns >= 1e6) return absl::StrFormat("%.3f ms", ns / 1e6);
  if (ns >= 1e3) return absl::StrFormat("%.3f µs", ns / 1e3);
  return absl::StrFormat("%.1f ns", ns);
}

std::string FormatChange(double change) {
  return absl::StrFormat("%+.1f%%", 100.0 * change);
}

// The value at `path` through nested objects, or nullptr where a key is missing or a step is not
// an object (const operator[] on a missing key is undefined behaviour in nlohmann::json).
const Json* Find(const Json& j, std::initializer_list<const char*> path) {
  const Json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string JsonText(const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::vector<double> Samples(const Json& row) {
  std::vector<double> s;
  if (row.contains("samples_ns") && row["samples_ns"].is_array()) {
    for (const Json& v : row["samples_ns"]) {
      if (v.is_number()) s.push_back(v.get<double>());
    }
  }
  return s;
}

double Median(const Json& row) {
  if (row.contains("time_ns") && row["time_ns"].contains("median") &&
      row["time_ns"]["median"].is_number()) {
    return row["time_ns"]["median"].get<double>();
  }
  return NAN;
}

std::string Family(const Json& row) {
  std::string f = row.contains("op") ? JsonText(row["op"]) : "rows";
  if (row.contains("model")) f += " " + JsonText(row["model"]);
  return f;
}

// What a peer row says its implementation was: the row's peer_config, else the run's
// env.peers[impl]; null when neither records it.
Json PeerIdentity(const Json& row, const Json& env, const std::string& impl) {
  if (row.contains("peer_config")) return row["peer_config"];
  // The model bench's bandwidth reference: a kernel of this repository, named by its variant.
  if (impl == "read-kernel" && row.contains("variant")) return Json{{"reference", row["variant"]}};
  if (env.contains("peers") && env["peers"].is_object() && env["peers"].contains(impl)) {
    return env["peers"][impl];
  }
  return nullptr;
}

constexpr const char* kFingerprintKeys[] = {"host",        "cpu_model", "microcode", "isa",
                                            "cores",       "caches",    "virtualised",
                                            "compiler",    "flags",     "best_isa"};

}  // namespace

double MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y) {
  double tie_term;
  const std::vector<double> rank = PooledRanks(x, y, &tie_term);
  double r1 = 0;
  for (size_t i = 0; i < x.size(); ++i) r1 += rank[i];
  const double n1 = static_cast<double>(x.size());
  return r1 - n1 * (n1 + 1) / 2;
}

double MannWhitneyP(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) return 1.0;
  double tie_term;
  const std::vector<double> rank = PooledRanks(x, y, &tie_term);
  double r1 = 0;
  for (size_t i = 0; i < x.size(); ++i) r1 += rank[i];
  const double n1 = static_cast<double>(x.size()), n2 = static_cast<double>(y.size());
  const double n = n1 + n2;
  const double u1 = r1 - n1 * (n1 + 1) / 2;
  if (tie_term == 0 && x.size() <= 8 && y.size() <= 8) {
    // Exact: two-sided p = 2 min(P(U <= u1), P(U >= u1)), P(U >= u1) = P(U <= n1 n2 - u1).
    const int m = static_cast<int>(x.size()), k = static_cast<int>(y.size());
    const double lower = ExactCdf(m, k, u1), upper = ExactCdf(m, k, n1 * n2 - u1);
    return std::min(1.0, 2.0 * std::min(lower, upper));
  }
  const double mu = n1 * n2 / 2;
  const double var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) return 1.0;
  const double z = std::max(0.0, std::abs(u1 - mu) - 0.5) / std::sqrt(var);
  return std::erfc(z / std::sqrt(2.0));
}

absl::StatusOr<Comparison> CompareRuns(const Json& current, const Json& previous,
                                       const CompareOptions& options) {
  Comparison c;
  c.suite = current.value("suite", "");
  if (previous.value("suite", "") != c.suite) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot compare a %s run with a %s run", c.suite, previous.value("suite", "?")));
  }
  c.current_id = current.value("run_id", "current");
  c.previous_id = previous.value("run_id", "previous");
  const Json& e1 = current.contains("env") ? current["env"] : Json::object();
  const Json& e0 = previous.contains("env") ? previous["env"] : Json::object();
  for (const char* key : kFingerprintKeys) {
    const Json a = e0.contains(key) ? e0[key] : Json(nullptr);
    const Json b = e1.contains(key) ? e1[key] : Json(nullptr);
    if (a != b) c.fingerprint_differences.push_back(absl::StrCat(key, ": ", JsonText(a), " -> ", JsonText(b)));
  }
  static const Json kNoRows = Json::array();
  const Json& previous_rows = previous.contains("rows") ? previous["rows"] : kNoRows;
  const Json& current_rows = current.contains("rows") ? current["rows"] : kNoRows;
  std::map<std::string, const Json*> before;  // points into `previous`
  for (const Json& row : previous_rows) {
    if (row.contains("name")) before[JsonText(row["name"])] = &row;
  }
  std::set<std::string> matched;
  double log_sum = 0;
  for (const Json& row : current_rows) {
    if (!row.contains("name")) continue;
    const std::string name = JsonText(row["name"]);
    auto it = before.find(name);
    if (it == before.end()) {
      c.only_current.push_back(name);
      continue;
    }
    matched.insert(name);
    RowComparison r;
    r.name = name;
    r.family = Family(row);
    r.current_ns = Median(row);
    r.previous_ns = Median(*it->second);
    if (!(r.current_ns > 0) || !(r.previous_ns > 0)) continue;
    r.change = r.current_ns / r.previous_ns - 1;
    r.impl = row.contains("impl") ? JsonText(row["impl"]) : "kernel-lab";
    r.p = MannWhitneyP(Samples(row), Samples(*it->second));
    const bool real = r.p < options.alpha && std::abs(r.change) > options.threshold;
    r.verdict = !real ? "noise" : r.change < 0 ? "faster" : "slower";
    (r.verdict == "faster" ? c.faster : r.verdict == "slower" ? c.slower : c.noise) += 1;
    log_sum += std::log(r.previous_ns / r.current_ns);
    c.rows.push_back(r);
  }
  for (const auto& [name, row] : before) {
    if (!matched.count(name)) c.only_previous.push_back(name);
  }
  // Control: rows of peer libraries or reference kernels (impl other than kernel-lab: the model
  // bench's read kernel), whose code did not change
  // between the runs, measure how much the machine itself moved.
  // A peer is a control only when both runs recorded the same implementation of it (library
  // version, the kernel it chose, its configuration): OpenBLAS switching from SkylakeX to Haswell
  // kernels is a change of the peer, not of the machine.
  std::set<std::string> controls;
  for (const Json& row : current_rows) {
    if (!row.contains("impl") || JsonText(row["impl"]) == "kernel-lab" || !row.contains("name")) {
      continue;
    }
    const std::string name = JsonText(row["name"]), impl = JsonText(row["impl"]);
    auto it = before.find(name);
    if (it == before.end()) continue;
    // Only rows sampled in the same rounds as ours measure the drift ours saw: a peer timed in
    // alternating blocks (PyTorch, in its own process) has its own variance, its 2-thread runs
    // on a shared VM most of all.
    if (row.value("stopped_by", "") == "alternating blocks") continue;
    const Json now = PeerIdentity(row, e1, impl), then = PeerIdentity(*it->second, e0, impl);
    if (now.is_null() || now != then) {
      c.changed_peers.insert(impl);
      continue;
    }
    controls.insert(name);
  }
  double control_log = 0;
  for (const RowComparison& r : c.rows) {
    if (controls.count(r.name)) {
      control_log += std::log(r.previous_ns / r.current_ns);
      ++c.control_rows;
    }
  }
  if (c.control_rows > 0) c.control_speed_change = std::exp(control_log / c.control_rows) - 1;
  // Per-case control: peers on the same shape and thread count.
  std::map<std::string, std::pair<double, int>> case_log;  // case -> (sum log ratio, count)
  std::map<std::string, const Json*> row_by_name;
  for (const Json& row : current_rows) {
    if (row.contains("name")) row_by_name[JsonText(row["name"])] = &row;
  }
  auto case_key = [](const Json& row) {
    return (row.contains("shape") ? row["shape"].dump() : std::string("?")) + "/" +
           (row.contains("threads") ? row["threads"].dump() : std::string("?"));
  };
  for (const RowComparison& r : c.rows) {
    if (r.impl == "kernel-lab" || !controls.count(r.name)) continue;
    auto& [sum, n] = case_log[case_key(*row_by_name[r.name])];
    sum += std::log(r.current_ns / r.previous_ns);
    ++n;
  }
  for (RowComparison& r : c.rows) {
    if (r.impl != "kernel-lab") continue;
    auto it = case_log.find(case_key(*row_by_name[r.name]));
    if (it == case_log.end() || it->second.second == 0) continue;
    r.has_control = true;
    r.control_change = std::exp(it->second.first / it->second.second) - 1;
    r.adjusted_change = (1 + r.change) / (1 + r.control_change) - 1;
    std::vector<double> scaled = Samples(*before.at(r.name));
    for (double& v : scaled) v *= 1 + r.control_change;
    r.adjusted_p = MannWhitneyP(Samples(*row_by_name[r.name]), scaled);
    const bool real = r.adjusted_p < options.alpha && std::abs(r.adjusted_change) > options.threshold;
    r.adjusted_verdict = !real ? "noise" : r.adjusted_change < 0 ? "faster" : "slower";
    ++c.adjusted_rows;
    if (r.adjusted_verdict == "faster") ++c.adjusted_faster;
    if (r.adjusted_verdict == "slower") ++c.adjusted_slower;
  }
  if (!c.rows.empty()) c.geomean_speed_change = std::exp(log_sum / c.rows.size()) - 1;
  return c;
}

std::string ReportMarkdown(const Json& current, const Json& previous, const Comparison& c,
                           const CompareOptions& options) {
  std::ostringstream md;
  md << "# Report: " << c.suite << " " << c.current_id << " vs " << c.previous_id << "\n\n";
  if (!c.fingerprint_differences.empty()) {
    md << "> **The two runs' machine fingerprints differ** — differences may be the machine's, "
          "not the code's:\n";
    for (const std::string& d : c.fingerprint_differences) md << "> - " << d << "\n";
    md << "\n";
  }
  md << "Verdict rule: `faster`/`slower` only where the Mann-Whitney U test over the two rows' "
     << "timing samples gives p < " << options.alpha << " and the median moved by more than "
     << absl::StrFormat("%.0f%%", 100 * options.threshold) << "; otherwise `noise`. Change = "
     << "current median / previous median - 1 (negative is faster).\n\n";

  // Executive summary.
  double cur_total = 0, prev_total = 0;
  for (const RowComparison& r : c.rows) {
    cur_total += r.current_ns;
    prev_total += r.previous_ns;
  }
  auto alloc_total = [](const Json& record) {
    double bytes = 0;
    int rows = 0;
    for (const Json& row : record.value("rows", Json::array())) {
      if (row.contains("alloc") && row["alloc"].contains("bytes") &&
          row["alloc"]["bytes"].is_number()) {
        bytes += row["alloc"]["bytes"].get<double>();
        if (row["alloc"]["bytes"].get<double>() > 0) ++rows;
      }
    }
    return std::make_pair(bytes, rows);
  };
  const auto [cur_alloc, cur_alloc_rows] = alloc_total(current);
  const auto [prev_alloc, prev_alloc_rows] = alloc_total(previous);
  md << "## Summary\n\n";
  md << absl::StrFormat(
      "- %d rows compared: **%d faster, %d slower, %d noise**; %d only in this run, %d only in "
      "the previous.\n",
      c.rows.size(), c.faster, c.slower, c.noise, c.only_current.size(), c.only_previous.size());
  md << absl::StrFormat(
      "- Geometric mean of the speed changes (previous / current - 1): **%+.1f%%**.\n",
      100 * c.geomean_speed_change);
  if (c.adjusted_rows > 0) {
    md << absl::StrFormat(
        "- Against the drift control (peer rows whose recorded version, kernel and configuration "
        "are the same in both runs, on the same case, sampled in the same "
        "rounds): **%d faster, %d slower** of %d kernel-lab rows (`vs control` columns below).\n",
        c.adjusted_faster, c.adjusted_slower, c.adjusted_rows);
  }
  if (c.control_rows > 0) {
    md << absl::StrFormat(
        "- Control: the %d peer rows whose implementation did not change between the runs moved by "
        "**%+.1f%%** (geometric mean of speed): the machine's own drift. Read a verdict of the "
        "same sign and size as the drift as the machine's, not the code's.\n",
        c.control_rows, 100 * c.control_speed_change);
  }
  if (!c.changed_peers.empty()) {
    md << "- Not used as a control (their recorded version, kernel or configuration changed "
          "between the runs, or was not recorded): "
       << absl::StrJoin(c.changed_peers, ", ") << ".\n";
  }
  auto during = [](const Json& record) {
    const Json* d = Find(record, {"env", "during_run"});
    if (d == nullptr) return std::string("not recorded");
    const Json* steal = Find(*d, {"steal_pct"});
    const Json* load = Find(*d, {"load_1min"});
    return absl::StrFormat(
        "steal %s, load %s",
        steal != nullptr && steal->is_number()
            ? absl::StrFormat("%.1f%%", steal->get<double>())
            : std::string("?"),
        load != nullptr && load->is_number() ? absl::StrFormat("%.2f", load->get<double>())
                                             : std::string("?"));
  };
  md << "- During the runs: " << during(current) << " (previous: " << during(previous) << ").\n";
  md << "- Sum of the compared rows' medians: " << FormatNs(cur_total) << " (previous "
     << FormatNs(prev_total) << ").\n";
  md << absl::StrFormat(
      "- Allocations: %.0f bytes per call summed over rows, %d rows allocating (previous %.0f "
      "bytes, %d rows).\n\n",
      cur_alloc, cur_alloc_rows, prev_alloc, prev_alloc_rows);

  // Hot paths: a suite's own breakdown if it records one, else the costliest rows.
  md << "## Top hot paths\n\n";
  if (current.contains("hot_paths") && current["hot_paths"].is_object()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [model, entry] : current["hot_paths"].items()) {
      if (!entry.is_object() || !entry.contains("share")) continue;
      for (const auto& [part, share] : entry["share"].items()) {
        std::string prev = "—";
        const Json* before = Find(previous, {"hot_paths", model.c_str(), "share", part.c_str()});
        if (before != nullptr && before->is_number()) {
          prev = absl::StrFormat("%.1f%%", 100 * before->get<double>());
        }
        rows.push_back({model, part, absl::StrFormat("%.1f%%", 100 * share.get<double>()), prev});
      }
    }
    md << MarkdownTable({"model", "part", "share now", "share before"},
                        {false, false, true, true}, rows);
  } else {
    std::vector<RowComparison> costly = c.rows;
    std::sort(costly.begin(), costly.end(),
              [](const auto& a, const auto& b) { return a.current_ns > b.current_ns; });
    if (costly.size() > 10) costly.resize(10);
    std::vector<std::vector<std::string>> rows;
    for (const RowComparison& r : costly) {
      rows.push_back({r.name, FormatNs(r.current_ns),
                      absl::StrFormat("%.1f%%", cur_total > 0 ? 100 * r.current_ns / cur_total : 0)});
    }
    md << MarkdownTable({"row", "median", "share of the compared time"}, {false, true, true}, rows);
  }

  // One table per family.
  std::vector<std::string> families;
  for (const RowComparison& r : c.rows) {
    if (std::find(families.begin(), families.end(), r.family) == families.end()) {
      families.push_back(r.family);
    }
  }
  for (const std::string& family : families) {
    md << "\n## " << family << "\n\n";
    std::vector<std::vector<std::string>> rows;
    bool controlled = false;
    for (const RowComparison& r : c.rows) controlled |= r.family == family && r.has_control;
    auto bold = [](const std::string& v) { return v == "noise" ? v : "**" + v + "**"; };
    for (const RowComparison& r : c.rows) {
      if (r.family != family) continue;
      std::vector<std::string> cells = {
          r.name, FormatNs(r.current_ns), FormatNs(r.previous_ns),
          (r.current_ns >= r.previous_ns ? "+" : "-") +
              FormatNs(std::abs(r.current_ns - r.previous_ns)),
          FormatChange(r.change), absl::StrFormat("%.2g", r.p), bold(r.verdict)};
      if (controlled) {
        if (r.has_control) {
          cells.push_back(FormatChange(r.control_change));
          cells.push_back(FormatChange(r.adjusted_change));
          cells.push_back(bold(r.adjusted_verdict));
        } else {
          cells.insert(cells.end(), {r.impl == "kernel-lab" ? "—" : "(peer)", "", ""});
        }
      }
      rows.push_back(cells);
    }
    std::vector<std::string> header = {"row", "current", "previous", "delta", "change", "p",
                                       "verdict"};
    std::vector<bool> numeric = {false, true, true, true, true, true, false};
    if (controlled) {
      header.insert(header.end(), {"control", "change vs control", "verdict vs control"});
      numeric.insert(numeric.end(), {true, true, false});
    }
    md << MarkdownTable(header, numeric, rows);
  }

  // Top improvements and regressions.
  auto top = [&](const std::string& verdict, bool ascending) {
    std::vector<RowComparison> v;
    for (const RowComparison& r : c.rows) {
      if (r.verdict == verdict) v.push_back(r);
    }
    std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      return ascending ? a.change < b.change : a.change > b.change;
    });
    if (v.size() > 10) v.resize(10);
    std::vector<std::vector<std::string>> rows;
    for (const RowComparison& r : v) {
      rows.push_back({r.name, FormatChange(r.change), absl::StrFormat("%.2g", r.p)});
    }
    return rows;
  };
  for (const auto& [title, verdict, ascending] :
       {std::tuple{"Top improvements", "faster", true}, std::tuple{"Top regressions", "slower", false}}) {
    md << "\n## " << title << "\n\n";
    const auto rows = top(verdict, ascending);
    if (rows.empty()) {
      md << "None.\n";
    } else {
      md << MarkdownTable({"row", "change", "p"}, {false, true, true}, rows);
    }
  }

  // Scaling, where the suite records it.
  if (current.contains("scaling")) {
    md << "\n## Scaling\n\n";
    const Json& s1 = current["scaling"];
    const Json s0 = previous.contains("scaling") && previous["scaling"].is_object()
                        ? previous["scaling"]
                        : Json::object();
    if (s1.contains("size")) {
      md << absl::StrFormat("- Size: %.2fx parameters -> %.2fx time", 
                            s1["size"].value("params_ratio", 0.0),
                            s1["size"].value("time_ratio", 0.0));
      if (s0.contains("size")) {
        md << absl::StrFormat(" (previous %.2fx time)", s0["size"].value("time_ratio", 0.0));
      }
      md << ".\n";
    }
    if (s1.contains("threads")) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [key, per] : s1["threads"].items()) {
        for (const auto& [t, v] : per.items()) {
          std::string before = "—";
          if (const Json* b = Find(s0, {"threads", key.c_str(), t.c_str()}); b != nullptr) {
            before = absl::StrFormat("%.2fx", b->value("speedup", 0.0));
          }
          rows.push_back({key, t, absl::StrFormat("%.2fx", v.value("speedup", 0.0)), before});
        }
      }
      md << "\n" << MarkdownTable({"case", "threads", "speed-up now", "before"},
                                  {false, true, true, true}, rows);
    }
  }
  if (!c.only_current.empty() || !c.only_previous.empty()) {
    md << absl::StrFormat("\nRows only in this run: %d; only in the previous: %d.\n",
                          c.only_current.size(), c.only_previous.size());
  }
  return md.str();
}

std::string ReportChartSvg(const Comparison& c, const CompareOptions& options,
                           const std::string& machine) {
  // One named bar per row: the significant ones first, then the largest moves, at most
  // kMaxBars (a chart of 600 bars reads as nothing); coloured by verdict, the same colours in
  // every chart.
  constexpr size_t kMaxBars = 40;
  std::vector<const RowComparison*> rows;
  for (const RowComparison& r : c.rows) rows.push_back(&r);
  auto verdict = [](const RowComparison* r) { return r->has_control ? r->adjusted_verdict : r->verdict; };
  auto change = [](const RowComparison* r) { return r->has_control ? r->adjusted_change : r->change; };
  std::stable_sort(rows.begin(), rows.end(), [&](const RowComparison* a, const RowComparison* b) {
    const bool sa = verdict(a) != "noise", sb = verdict(b) != "noise";
    if (sa != sb) return sa;
    return std::abs(change(a)) > std::abs(change(b));
  });
  const size_t shown = std::min(rows.size(), kMaxBars);
  rows.resize(shown);
  std::sort(rows.begin(), rows.end(), [&](const RowComparison* a, const RowComparison* b) {
    return change(a) < change(b);
  });
  std::vector<Bar> bars;
  for (const RowComparison* r : rows) {
    const std::string v = verdict(r);
    bars.push_back({r->name, 100 * change(r),
                    v == "slower" ? "#d62728" : v == "faster" ? "#2ca02c" : "#9e9e9e",
                    absl::StrFormat("%+.1f%% %s%s", 100 * change(r), v,
                                    r->has_control ? " (vs control)" : "")});
  }
  const double t = 100 * options.threshold;
  return BarChartSvg(
      absl::StrFormat("%s on %s: change per row vs %s (%zu of %zu rows)", c.suite,
                      machine.empty() ? std::string("?") : machine, c.previous_id, shown,
                      c.rows.size()),
      "change of the median time, % (negative is faster; against the drift control where there is one)",
      bars, {{absl::StrFormat("+%.0f%%", t), t}, {absl::StrFormat("-%.0f%%", t), -t}});
}

namespace {

// (run id, record path) of every run holding a record of `key` (any key when empty), oldest first.
std::vector<std::pair<std::string, std::string>> RecordsOf(const std::string& results_root,
                                                           const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& dir : AllRunDirs(results_root)) {
    const std::string id = fs::path(dir).filename().string();
    if (!key.empty()) {
      const std::string path = RecordPath(dir, key);
      if (!path.empty()) out.emplace_back(id, path);
    } else if (SuiteOfRun(dir).ok()) {
      out.emplace_back(id, RecordPath(dir, *SuiteOfRun(dir)));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> ListRuns(const std::string& results_root, const std::string& suite) {
  std::vector<std::string> runs;
  for (const auto& [id, path] : RecordsOf(results_root, suite)) runs.push_back(id);
  return runs;
}

absl::StatusOr<std::string> SuiteOfRun(const std::string& run_dir) {
  const std::vector<std::string> keys = RecordKeysOfRun(run_dir);
  if (keys.size() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s holds %d records; name one with --suite (%s)", run_dir, keys.size(),
        absl::StrJoin(keys, ", ")));
  }
  return keys[0];
}

std::string PreviousRun(const std::string& results_root, const std::string& suite,
                        const std::string& run_id, const std::string& host,
                        const Json* current, std::vector<std::string>* warnings) {
  const auto runs = RecordsOf(results_root, suite);
  std::set<std::string> names;
  std::string command;
  if (current != nullptr) {
    command = current->value("command", "");
    if (current->contains("rows")) {
      for (const Json& row : (*current)["rows"]) {
        if (row.contains("name")) names.insert(JsonText(row["name"]));
      }
    }
  }
  // Newest first: the same command wins; else the newest run sharing a row; without a current
  // record, simply the newest.
  std::string overlapping;
  std::set<std::string> own_shards;  // a merged run is not compared with its own shards
  if (current != nullptr && current->contains("merged_from") && (*current)["merged_from"].is_array()) {
    for (const Json& id : (*current)["merged_from"]) own_shards.insert(JsonText(id));
  }
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const auto& [id, path] = *it;
    if (id >= run_id || own_shards.count(id)) continue;
    auto record = ReadRecord(path);
    if (!record.ok()) {
      if (warnings != nullptr) {
        warnings->push_back("skipped an unreadable earlier record: " +
                            std::string(record.status().message()));
      }
      continue;
    }
    const Json env = record->contains("env") ? (*record)["env"] : Json::object();
    // The same kind of machine (SameMachine: CPU, caches, ISA, peak), not the same host name:
    // every host of these VMs is "vm", and times from another CPU compare nothing.
    if (current != nullptr && current->contains("env")) {
      if (!SameMachine((*current)["env"], env)) continue;
    } else if (env.value("host", "") != host) {
      continue;
    }
    if (current == nullptr) return id;
    // Quick runs measure smaller cases under the same names: quick against quick only.
    if (record->value("quick", false) != current->value("quick", false)) continue;
    // A report's part and a suite's own run of the same key share the command's flags only in
    // part: the command decides among equals, overlapping rows otherwise.
    if (!command.empty() && record->value("command", "") == command) return id;
    if (overlapping.empty() && record->contains("rows")) {
      for (const Json& row : (*record)["rows"]) {
        if (row.contains("name") && names.count(JsonText(row["name"]))) {
          overlapping = id;
          break;
        }
      }
    }
  }
  return overlapping;
}

absl::StatusOr<Json> MergeShards(const std::vector<Json>& shards) {
  if (shards.size() < 2) return absl::InvalidArgumentError("give at least two shards to merge");
  const Json& first = shards[0];
  const Json none = Json::object();
  Json merged = first;
  merged.erase("shard");
  merged["rows"] = Json::array();
  merged["merged_from"] = Json::array();
  std::set<std::string> names, shard_labels;
  for (const Json& s : shards) {
    const std::string id = s.value("run_id", "?");
    std::string why;
    if (s.value("suite", "") != first.value("suite", "") || s.value("mode", "") != first.value("mode", "") ||
        s.value("quick", false) != first.value("quick", false)) {
      return absl::InvalidArgumentError(id + " is another kind of run (suite, mode or --quick differ)");
    }
    if (!SameMachine(first.value("env", none), s.value("env", none), &why)) {
      return absl::InvalidArgumentError(id + " ran on another machine (" + why + ")");
    }
    const Json* commit_a = Find(first, {"env", "git_commit"});
    const Json* commit_b = Find(s, {"env", "git_commit"});
    if ((commit_a == nullptr) != (commit_b == nullptr) || (commit_a != nullptr && *commit_a != *commit_b)) {
      return absl::InvalidArgumentError(id + " measured another commit");
    }
    const std::string label = s.value("shard", "");
    if (label.empty() || !shard_labels.insert(label).second) {
      return absl::InvalidArgumentError(id + (label.empty() ? " is not a shard (no \"shard\")" : " repeats shard " + label));
    }
    for (const Json& row : s.value("rows", Json::array())) {
      const std::string name = row.contains("name") ? JsonText(row["name"]) : "";
      if (!names.insert(name).second) {
        return absl::InvalidArgumentError("row " + name + " is in two shards");
      }
      merged["rows"].push_back(row);
    }
    merged["merged_from"].push_back(id);
  }
  return merged;
}

}  // namespace klab::harness
