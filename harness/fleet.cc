#include "harness/fleet.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/layout.h"
#include "harness/record_reader.h"

namespace klab::harness {
namespace fs = std::filesystem;

namespace {

bool CheckedOk(const Json& row) {
  return !row.contains("check") || !row["check"].is_object() || row["check"].value("ok", true);
}

std::string Text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string ThreadsLabel(int t) { return t == 1 ? "1 thread" : absl::StrFormat("%d threads", t); }

// Our row (best, or the dispatcher's) against the best peer on each case, per thread count.
void PeerRatios(const Json& rows, bool dispatch_only, std::vector<Headline>* out) {
  struct Case { double ours = INFINITY, peer = INFINITY; std::string name; int threads = 1; };
  std::map<std::string, Case> cases;
  std::set<std::string> peer_names;
  for (const Json& row : rows) {
    const double t = RowMedian(row);
    if (!(t > 0) || !CheckedOk(row)) continue;
    Case& c = cases[CaseKey(row)];
    c.threads = row.value("threads", 1);
    if (IsOurs(row)) {
      if (dispatch_only && !IsDispatcherRow(row)) continue;
      if (t < c.ours) c.ours = t, c.name = Text(row.value("name", Json("?")));
    } else if (IsPeer(row)) {
      c.peer = std::min(c.peer, t);
      peer_names.insert(Text(row["impl"]));
    }
  }
  std::map<int, std::vector<std::pair<double, std::string>>> by_threads;
  for (const auto& [key, c] : cases) {
    if (std::isfinite(c.ours) && std::isfinite(c.peer)) {
      by_threads[c.threads].emplace_back(c.peer / c.ours, c.name);
    }
  }
  for (const auto& [threads, ratios] : by_threads) {
    double log_sum = 0;
    auto worst = ratios.front();
    for (const auto& r : ratios) {
      log_sum += std::log(r.first);
      if (r.first < worst.first) worst = r;
    }
    Headline h;
    h.label = absl::StrFormat("%s / best peer (%s), %s, geomean of %d cases",
                              dispatch_only ? "dispatcher's choice (*_auto)" : "best kernel-lab",
                              absl::StrJoin(peer_names, ", "), ThreadsLabel(threads),
                              ratios.size());
    h.value = std::exp(log_sum / ratios.size());
    h.text = absl::StrFormat("%.2fx (min %.2fx: %s)", h.value, worst.first, worst.second);
    out->push_back(h);
  }
}

void BestPctPeak(const Json& rows, std::vector<Headline>* out) {
  double best = -1;
  std::string name;
  for (const Json& row : rows) {
    if (!IsOurs(row) || row.value("threads", 1) != 1 || !row.contains("pct_peak") ||
        !row["pct_peak"].is_number()) {
      continue;
    }
    const double p = row["pct_peak"].get<double>();
    if (p > best) best = p, name = Text(row.value("name", Json("?")));
  }
  if (best >= 0) out->push_back({"best kernel-lab % of FMA peak, 1 thread", best,
                                 absl::StrFormat("%.1f%% (%s)", best, name)});
}

}  // namespace

std::string CaseKey(const Json& row) {
  std::string key;
  for (const char* field : {"op", "model", "workload", "test", "kv_cache", "shape", "layout",
                            "threads"}) {
    key += row.contains(field) ? Text(row[field]) : std::string("-");
    key += "|";
  }
  return key;
}

bool IsOurs(const Json& row) {
  return !row.contains("impl") || Text(row["impl"]) == "kernel-lab";
}

bool IsPeer(const Json& row) { return !IsOurs(row) && Text(row["impl"]) != "read-kernel"; }

bool IsDispatcherRow(const Json& row) {
  const std::string v = row.contains("variant") ? Text(row["variant"]) : "";
  return v.size() > 5 && v.compare(v.size() - 5, 5, "_auto") == 0;
}

double RowMedian(const Json& row) {
  if (row.is_object() && row.contains("time_ns") && row["time_ns"].is_object() &&
      row["time_ns"].contains("median") && row["time_ns"]["median"].is_number()) {
    return row["time_ns"]["median"].get<double>();
  }
  return NAN;
}

std::vector<Headline> Headlines(const Json& record) {
  std::vector<Headline> out;
  const Json rows = record.value("rows", Json::array());
  const std::string suite = record.value("suite", "");
  PeerRatios(rows, /*dispatch_only=*/false, &out);
  PeerRatios(rows, /*dispatch_only=*/true, &out);
  BestPctPeak(rows, &out);
  if (suite == "peak") {
    for (const Json& row : rows) {
      const std::string name = Text(row.value("name", Json("")));
      if (name.rfind("fma_peak/", 0) == 0 && row.value("threads", 0) == 1 &&
          row.contains("gflops") && row["gflops"].is_number()) {
        const double g = row["gflops"].get<double>();
        out.push_back({"FMA peak per core, GFLOP/s (" + name + ")", g, absl::StrFormat("%.1f", g)});
      }
      if (name == "read/dram/t1" && row.contains("gbs") && row["gbs"].is_number()) {
        const double g = row["gbs"].get<double>();
        out.push_back({"DRAM read, 1 thread, GB/s", g, absl::StrFormat("%.1f", g)});
      }
    }
  }
  if (suite == "memory_bench") {
    double worst = 0;
    int n = 0;
    for (const Json& row : rows) {
      if (row.value("case", "") == "training" && row.contains("bytes_per_step") &&
          row["bytes_per_step"].is_number()) {
        worst = std::max(worst, row["bytes_per_step"].get<double>());
        ++n;
      }
    }
    if (n > 0) {
      out.push_back({absl::StrFormat("bytes allocated per training step (worst of %d)", n), worst,
                     absl::StrFormat("%.0f B", worst)});
    }
  }
  return out;
}

namespace {

// Per machine folder under `root`: the newest full record of each key (a quick one only where
// there is none; never a shard), and the newest run holding a whole report.
struct Fleet {
  std::vector<std::string> machines;
  std::set<std::string> keys;
  std::map<std::string, std::map<std::string, std::pair<std::string, Json>>> newest;  // m -> key
  std::map<std::string, std::string> latest_report;                                   // m -> id
};

void ReadMachine(const std::string& results_root, const std::string& m, Fleet* f) {
  std::error_code ec;
  std::vector<std::string> runs;
  for (const auto& e : fs::directory_iterator(fs::path(results_root) / m / "runs", ec)) {
    if (e.is_directory()) runs.push_back(e.path().string());
  }
  std::sort(runs.rbegin(), runs.rend());  // newest first
  std::map<std::string, std::pair<std::string, Json>> quick;
  for (const std::string& dir : runs) {
    const std::string id = fs::path(dir).filename().string();
    if (!f->latest_report.count(m) && fs::exists(fs::path(dir) / "report.json")) f->latest_report[m] = id;
    for (const std::string& key : RecordKeysOfRun(dir)) {
      if (f->newest[m].count(key)) continue;
      auto record = ReadRecord(RecordPath(dir, key));
      if (!record.ok() || record->contains("shard")) continue;
      if (record->value("quick", false)) {
        if (!quick.count(key)) quick[key] = {id + " (quick)", *record};
        continue;
      }
      f->newest[m][key] = {id, *record};
      f->keys.insert(key);
    }
  }
  for (auto& [key, q] : quick) {
    if (!f->newest[m].count(key)) f->newest[m][key] = q, f->keys.insert(key);
  }
}

Fleet ReadFleet(const std::string& results_root) {
  Fleet f;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(results_root, ec)) {
    if (e.is_directory() && e.path().filename() != "runs" && fs::is_directory(e.path() / "runs")) {
      f.machines.push_back(e.path().filename().string());
    }
  }
  std::sort(f.machines.begin(), f.machines.end());
  for (const std::string& m : f.machines) ReadMachine(results_root, m, &f);
  return f;
}

}  // namespace

std::string FleetMarkdown(const std::string& results_root) {
  Fleet fleet = ReadFleet(results_root);
  const std::vector<std::string>& machines = fleet.machines;
  auto& newest = fleet.newest;
  std::string md =
      "# Published results: the fleet\n\n"
      "Each table is one kind of run; each column the newest such run on one machine (its folder "
      "holds that machine's runs and index). The figures are ratios measured within each run "
      "(ours / the best peer on the same case, % of the peak the run measured), so columns can "
      "be set side by side; times from different machines are never compared. Regenerated at "
      "every publish.\n\n";
  md += "Machines: ";
  std::vector<std::string> links;
  for (const std::string& m : machines) links.push_back(absl::StrFormat("[%s](%s/README.md)", m, m));
  md += (links.empty() ? std::string("none yet") : absl::StrJoin(links, ", ")) + "\n";
  for (const auto& [m, id] : fleet.latest_report) {
    md += absl::StrFormat("\nThe newest whole report (`bazel run //perf:report`) of %s: [%s](%s/runs/%s/report.md)\n",
                          m, id, m, id);
  }
  for (const std::string& key : fleet.keys) {
    std::vector<std::string> cols;
    std::map<std::string, std::map<std::string, std::string>> cell;  // label -> machine -> text
    std::vector<std::string> labels;
    for (const std::string& m : machines) {
      auto it = newest[m].find(key);
      if (it == newest[m].end()) continue;
      cols.push_back(m);
      for (const Headline& h : Headlines(it->second.second)) {
        if (!cell.count(h.label)) labels.push_back(h.label);
        cell[h.label][m] = h.text;
      }
    }
    md += "\n## " + key + "\n\n| |";
    for (const std::string& m : cols) {
      const std::string& label = newest[m][key].first;
      const std::string id = label.substr(0, label.find(' '));
      md += absl::StrFormat(" %s ([%s](%s/runs/%s/)) |", m, label, m, id);
    }
    md += "\n|---|";
    for (size_t i = 0; i < cols.size(); ++i) md += "---|";
    md += "\n";
    if (labels.empty()) md += "| (no in-run ratios in this kind of run) |" + std::string(cols.size(), '|') + "\n";
    for (const std::string& label : labels) {
      md += "| " + label + " |";
      for (const std::string& m : cols) {
        auto it = cell[label].find(m);
        md += " " + (it == cell[label].end() ? std::string("—") : it->second) + " |";
      }
      md += "\n";
    }
  }
  return md;
}

}  // namespace klab::harness
