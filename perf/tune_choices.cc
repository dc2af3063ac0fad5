#include "perf/tune_choices.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_format.h"
#include "kernels/gemm/gemm.h"

namespace klab::perf::tune {
namespace {

bool IsSerialVariant(const std::string& name) {
  const kernels::GemmVariant* v = kernels::FindGemmVariant(name);
  return v != nullptr && v->max_threads == 1;
}

// The best median among `times` (variant -> ns), serial variants only when `serial_only`.
double Best(const std::map<std::string, double>& times, bool serial_only) {
  double best = INFINITY;
  for (const auto& [v, t] : times) {
    if (!serial_only || IsSerialVariant(v)) best = std::min(best, t);
  }
  return best;
}

}  // namespace

std::string Threaded(const std::string& serial) {
  const size_t at = serial.find('_');
  const std::string mt = at == std::string::npos ? "" : serial.substr(0, at) + "_mt" + serial.substr(at);
  return kernels::FindGemmVariant(mt) != nullptr ? mt : serial;
}

void ShapesOf(const std::vector<Json>& records, std::map<std::string, Shape>* gemm,
              std::map<std::string, Shape>* linear) {
  for (const Json& record : records) {
    for (const Json& row : record["rows"]) {
      if (row.value("impl", "") != "kernel-lab" || !row.contains("time_ns") ||
          !row.contains("check") || !row["check"].value("ok", false) || !row.contains("variant")) {
        continue;
      }
      const std::string variant = row["variant"].get<std::string>();
      const bool is_linear = variant == "linear_packed";
      if (!is_linear && kernels::FindGemmVariant(variant) == nullptr) continue;  // sgemm_auto
      const std::string layout = row.value("layout", "NN");
      auto trans = [&](size_t i) { return layout.size() == 2 && layout[i] == 'T' ? kernels::Trans::kYes : kernels::Trans::kNo; };
      const kernels::SgemmArgs args{trans(0), trans(1),
                                    row["shape"]["m"].get<int64_t>(), row["shape"]["n"].get<int64_t>(),
                                    row["shape"]["k"].get<int64_t>()};
      const std::string label = absl::StrFormat("%dx%dx%d/%s", args.m, args.k, args.n, layout);
      Shape& s = (is_linear ? *linear : *gemm)[label];
      s.label = label;
      s.shape_class = kernels::GemmShapeClass(args);
      (row.value("threads", 1) == 1 ? s.t1 : s.t2)[variant] = row["time_ns"]["median"].get<double>();
    }
  }
}

// The serial variant's 2-thread time is its 1-thread time: it leaves the pool idle.
Json ChooseGemm(const std::map<std::string, Shape>& shapes) {
  std::map<std::string, std::vector<const Shape*>> classes;
  for (const auto& [label, s] : shapes) classes[s.shape_class].push_back(&s);
  Json gemm = Json::object();
  for (const auto& [shape_class, members] : classes) {
    std::set<std::string> serials;
    for (const Shape* s : members) {
      for (const auto& [v, t] : s->t1) {
        if (IsSerialVariant(v)) serials.insert(v);
      }
    }
    std::string best_serial, best_threaded;
    double best_score = INFINITY;
    Json evidence = Json::object();
    for (const std::string& serial : serials) {
      for (const std::string& threaded : std::set<std::string>{serial, Threaded(serial)}) {
        double log_sum = 0;
        int n = 0;
        for (const Shape* s : members) {
          auto a = s->t1.find(serial);
          auto b = s->t2.find(threaded);
          if (a == s->t1.end() || (threaded != serial && b == s->t2.end())) continue;
          const double t2 = threaded == serial ? a->second : b->second;
          const double best2 = std::min(Best(s->t2, false), Best(s->t1, true));
          log_sum += 0.5 * std::log(a->second / Best(s->t1, true)) + 0.5 * std::log(t2 / best2);
          ++n;
        }
        if (n < static_cast<int>(members.size())) continue;  // not measured on every shape
        const double score = std::exp(log_sum / n);
        evidence[serial + " / " + threaded] = score;
        if (score < best_score) best_score = score, best_serial = serial, best_threaded = threaded;
      }
    }
    if (best_serial.empty()) continue;
    Json shapes_json = Json::array();
    for (const Shape* s : members) {
      shapes_json.push_back({{"shape", s->label}, {"t1_ns", s->t1}, {"t2_ns", s->t2}});
    }
    gemm[shape_class] = {{"serial", best_serial}, {"threaded", best_threaded}, {"score", best_score},
                         {"candidates", evidence}, {"shapes", shapes_json}};
  }
  return gemm;
}

Json ChooseLinear(const std::map<std::string, Shape>& linear) {
  struct Point {
    double mnk, t1, t2;
    std::string label;
  };
  std::vector<Point> points;
  for (const auto& [label, s] : linear) {
    auto a = s.t1.find("linear_packed");
    auto b = s.t2.find("linear_packed");
    int64_t m = 0, k = 0, n = 0;
    if (a == s.t1.end() || b == s.t2.end() ||
        std::sscanf(label.c_str(), "%ldx%ldx%ld", &m, &k, &n) != 3) {
      continue;
    }
    points.push_back({static_cast<double>(m) * n * k, a->second, b->second, label});
  }
  if (points.empty()) return nullptr;
  std::sort(points.begin(), points.end(), [](const Point& x, const Point& y) { return x.mnk < y.mnk; });
  // From the top down: the threshold stops above the largest shape that 2 threads did not speed up.
  double from = points.front().mnk;
  for (const Point& p : points) {
    if (p.t2 >= p.t1) from = p.mnk + 1;
  }
  Json shapes = Json::array();
  for (const Point& p : points) {
    shapes.push_back({{"shape", p.label}, {"mnk", p.mnk}, {"t1_ns", p.t1}, {"t2_ns", p.t2},
                      {"t1_over_t2", p.t1 / p.t2}});
  }
  return {{"threads_from_mnk", static_cast<int64_t>(from)},
          {"rule", "the smallest m*n*k from which every measured layer (linear_packed, the "
                   "transformer shapes) ran faster on 2 threads than on 1"},
          {"shapes", shapes}};
}

Json ChooseDecode(const std::vector<Json>& model_benches) {
  struct Model {
    int64_t bytes = -1;
    std::map<std::string, std::map<int, double>> ns;  // "<test> (pass <p>)" -> threads -> median
  };
  std::map<std::string, Model> models;
  Json run_ids = Json::array();
  for (size_t pass = 0; pass < model_benches.size(); ++pass) {
    run_ids.push_back(model_benches[pass].value("run_id", ""));
    for (const Json& row : model_benches[pass]["rows"]) {
      if (row.value("impl", "kernel-lab") != "kernel-lab" || row.value("op", "") != "model" ||
          !row.value("kv_cache", false) || !row.contains("packed_weight_bytes") || !row.contains("time_ns")) {
        continue;
      }
      Model& m = models[row["model"].get<std::string>()];
      m.bytes = row["packed_weight_bytes"].get<int64_t>();
      const std::string test = absl::StrFormat("%s (pass %d)", row["test"].get<std::string>(), pass + 1);
      m.ns[test][row.value("threads", 1)] = row["time_ns"]["median"].get<double>();
    }
  }
  int64_t above = 0;
  Json evidence = Json::array();
  for (const auto& [name, m] : models) {
    double worst = INFINITY;
    Json tests = Json::object();
    for (const auto& [test, by_threads] : m.ns) {
      if (by_threads.count(1) == 0 || by_threads.count(2) == 0) continue;
      tests[test] = by_threads.at(1) / by_threads.at(2);
      worst = std::min(worst, by_threads.at(1) / by_threads.at(2));
    }
    if (tests.empty()) continue;
    if (worst <= 1.0) above = std::max(above, m.bytes);
    evidence.push_back({{"model", name}, {"packed_weight_bytes", m.bytes}, {"t1_over_t2", tests},
                        {"faster_on_2_threads", worst > 1.0}});
  }
  if (evidence.empty()) return nullptr;
  return {{"threads_above_weight_bytes", above},
          {"rule", "a model takes 2 threads when its packed weights exceed those of every model "
                   "that was not faster on 2 threads in every test of every pass (KV cache on; "
                   "the last pass with the profile's GEMM, blocking and linear choices in force, "
                   "the first minutes earlier with the blocking only)"},
          {"run_ids", run_ids},
          {"models", evidence}};
}

std::vector<double> BlockingScores(const std::vector<BlockingTrial>& trials) {
  std::map<std::string, double> best;
  for (const BlockingTrial& t : trials) {
    for (const auto& [c, ns] : t.ns) best[c] = best.count(c) ? std::min(best[c], ns) : ns;
  }
  std::vector<double> scores;
  for (const BlockingTrial& t : trials) {
    double log_sum = 0;
    for (const auto& [c, ns] : t.ns) log_sum += std::log(ns / best[c]);
    scores.push_back(t.ns.size() == best.size() && !best.empty() ? std::exp(log_sum / t.ns.size()) : INFINITY);
  }
  return scores;
}

Json ChooseBlocking(const std::vector<BlockingTrial>& trials) {
  const std::vector<double> scores = BlockingScores(trials);
  int chosen = -1, analytic = -1;
  Json evidence = Json::array();
  for (size_t i = 0; i < trials.size(); ++i) {
    const BlockingTrial& t = trials[i];
    if (!std::isfinite(scores[i])) continue;  // a case did not run
    evidence.push_back({{"mc", t.mc}, {"kc", t.kc}, {"nc", t.nc}, {"analytic", t.analytic},
                        {"score", scores[i]}, {"ns", t.ns}});
    if (chosen < 0 || scores[i] < scores[chosen]) chosen = static_cast<int>(i);
    if (t.analytic) analytic = static_cast<int>(i);
  }
  if (chosen < 0) return nullptr;
  const bool keep_analytic = analytic >= 0 && scores[analytic] <= scores[chosen] * std::cbrt(kNoise);
  if (keep_analytic) chosen = analytic;
  const BlockingTrial& c = trials[chosen];
  return {{"mc", c.mc}, {"kc", c.kc}, {"nc", c.nc}, {"use", !keep_analytic}, {"score", scores[chosen]},
          {"rule", "the trial with the smallest geometric mean of time / best time over the cases; "
                   "the analytic blocking stays unless beaten by more than 1%"},
          {"trials", evidence}};
}

Json Reproduces(const Json& now, const Json& old) {
  Json out = Json::object();
  const Json gemm = now.value("gemm", Json::object());
  const Json old_gemm = old.value("gemm", Json::object());
  auto pair = [](const Json& c) { return c.value("serial", "") + " / " + c.value("threaded", ""); };
  for (const auto& [c, choice] : gemm.items()) {
    if (!old_gemm.contains(c)) {
      out[c] = "new";
      continue;
    }
    const std::string before = pair(old_gemm[c]);
    if (before == pair(choice)) {
      out[c] = "same";
    } else {
      const Json& cands = choice["candidates"];
      const double score = cands.contains(before) ? cands[before].get<double>() : INFINITY;
      out[c] = absl::StrFormat("%s (was %s, which scores %.3f now)",
                               score <= kNoise ? "within noise" : "differs", before, score);
    }
  }
  for (const auto& [c, choice] : old_gemm.items()) {
    if (!gemm.contains(c)) out[c] = "gone";
  }
  const std::pair<const char*, const char*> values[] = {{"linear", "threads_from_mnk"},
                                                        {"decode", "threads_above_weight_bytes"}};
  for (const auto& [block, field] : values) {
    const Json a = now.contains(block) ? now[block].value(field, Json()) : Json();
    const Json b = old.contains(block) ? old[block].value(field, Json()) : Json();
    out[block] = a == b ? "same" : absl::StrFormat("differs (was %s)", b.dump());
  }
  const Json blocking = now.value("blocking", Json::object());
  const Json old_blocking = old.value("blocking", Json::object());
  auto key = [](const Json& j) {
    return j.is_object() ? absl::StrFormat("%d,%d,%d", j.value("mc", 0), j.value("kc", 0), j.value("nc", 0))
                         : std::string("analytic");
  };
  std::set<std::string> kernels;
  for (const auto& [kernel, b] : blocking.items()) kernels.insert(kernel);
  for (const auto& [kernel, b] : old_blocking.items()) kernels.insert(kernel);
  for (const std::string& kernel : kernels) {
    const std::string a = key(blocking.value(kernel, Json())), b = key(old_blocking.value(kernel, Json()));
    out["blocking." + kernel] = a == b ? "same" : "differs (was " + b + ")";
  }
  return out;
}

}  // namespace klab::perf::tune
