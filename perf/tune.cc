// //perf:tune — measure this machine once and keep what was learned (docs/tuning.md): for each
// GEMM shape class, the variant family that runs it fastest on 1 and on 2 threads, written as a
// tuning profile the library compiles in (kernels/tuning/<machine>.json) or loads (KLAB_TUNING).
//
//   bazel run //perf:tune                    ~5 minutes on 2 cores; writes kernels/tuning/<machine>.json
//   bazel run //perf:tune -- --out=/tmp/p.json --quick
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/env.h"
#include "harness/record_reader.h"
#include "harness/results.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/tuning/tuning.h"
#include "perf/child_process.h"
#include "perf/suite.h"

ABSL_FLAG(std::string, profile, "",
          "Where to write the profile (default: kernels/tuning/<machine>.json in the workspace, "
          "compiled in at the next build; a relative path is taken from where `bazel run` started).");
ABSL_FLAG(double, budget, 900, "Seconds the sweeps may take before they are stopped.");
ABSL_FLAG(std::string, compare, "",
          "An earlier profile of this machine: say, per class, whether this run chose the same, "
          "or a choice within the noise (its score in this run at most 1.03), or another.");

namespace klab::perf {
namespace {

namespace fs = std::filesystem;
using harness::Json;

constexpr char kUsage[] =
    "Measures this machine's GEMM variants per shape class on 1 and 2 threads (interleaved, each\n"
    "checked before timed: //perf:matmul_sweep with --peers=none) and writes a tuning profile.\n"
    "  bazel run //perf:tune -- [--quick] [--profile=FILE] [--budget=SECONDS] [--compare=OLD]\n"
    "Exit status: 0 written, 1 a sweep failed or nothing could be chosen, 2 usage.\n";

// The candidates: every registered variant the dispatcher may choose (not the textbook loops).
constexpr char kCandidates[] = "(regblock|packed|smallm).*";

// The threaded member of a serial variant's family: "_mt" after its first word
// (smallm__avx512 -> smallm_mt__avx512, packed_8x32__avx512 -> packed_mt_8x32__avx512), or the
// serial variant itself when the family has none.
std::string Threaded(const std::string& serial) {
  const size_t at = serial.find('_');
  const std::string mt = at == std::string::npos ? "" : serial.substr(0, at) + "_mt" + serial.substr(at);
  return kernels::FindGemmVariant(mt) != nullptr ? mt : serial;
}

struct Shape {
  std::string label, shape_class;
  std::map<std::string, double> t1, t2;  // variant -> median ns
};

// The shapes of the sweep records, with each checked variant's median on 1 and 2 threads.
std::map<std::string, Shape> ShapesOf(const std::vector<Json>& records) {
  std::map<std::string, Shape> shapes;
  for (const Json& record : records) {
    for (const Json& row : record["rows"]) {
      if (row.value("impl", "") != "kernel-lab" || !row.contains("time_ns") ||
          !row.contains("check") || !row["check"].value("ok", false)) {
        continue;
      }
      const kernels::SgemmArgs args{kernels::Trans::kNo,
                                    row.value("layout", "NN") == "NT" ? kernels::Trans::kYes : kernels::Trans::kNo,
                                    row["shape"]["m"].get<int64_t>(), row["shape"]["n"].get<int64_t>(),
                                    row["shape"]["k"].get<int64_t>()};
      const std::string label = absl::StrFormat("%dx%dx%d/%s", args.m, args.k, args.n, row.value("layout", "NN"));
      Shape& s = shapes[label];
      s.label = label;
      s.shape_class = kernels::GemmShapeClass(args);
      (row.value("threads", 1) == 1 ? s.t1 : s.t2)[row["variant"].get<std::string>()] =
          row["time_ns"]["median"].get<double>();
    }
  }
  return shapes;
}

// Per class, the family whose serial member on 1 thread and threaded member on 2 are nearest the
// best of each: score = geometric mean over the class's shapes of sqrt(t1 / best t1 x t2 / best
// t2) (1 is best everywhere). A family whose threaded member was not measured runs serial on 2
// threads: its 1-thread time stands.
Json Choose(const std::map<std::string, Shape>& shapes) {
  std::map<std::string, std::vector<const Shape*>> classes;
  for (const auto& [label, s] : shapes) classes[s.shape_class].push_back(&s);
  Json gemm = Json::object();
  for (const auto& [shape_class, members] : classes) {
    std::set<std::string> serials;
    for (const Shape* s : members) {
      for (const auto& [v, t] : s->t1) {
        const kernels::GemmVariant* gv = kernels::FindGemmVariant(v);
        if (gv != nullptr && gv->max_threads == 1) serials.insert(v);
      }
    }
    std::string best;
    double best_score = INFINITY;
    Json evidence = Json::object();
    for (const std::string& serial : serials) {
      const std::string mt = Threaded(serial);
      double log_sum = 0;
      int n = 0;
      for (const Shape* s : members) {
        auto a = s->t1.find(serial);
        if (a == s->t1.end()) continue;
        double best1 = INFINITY, best2 = INFINITY;
        for (const auto& [v, t] : s->t1) {
          if (kernels::FindGemmVariant(v) != nullptr && kernels::FindGemmVariant(v)->max_threads == 1) best1 = std::min(best1, t);
        }
        for (const auto& [v, t] : s->t2) best2 = std::min(best2, t);
        auto b = s->t2.find(mt);
        const double t2 = b != s->t2.end() ? b->second : a->second;
        log_sum += 0.5 * std::log(a->second / best1) + (std::isfinite(best2) ? 0.5 * std::log(t2 / std::min(best2, t2)) : 0.0);
        ++n;
      }
      if (n < static_cast<int>(members.size())) continue;  // not measured on every shape
      const double score = std::exp(log_sum / n);
      evidence[serial] = {{"threaded", mt}, {"score", score}};
      if (score < best_score) best_score = score, best = serial;
    }
    if (best.empty()) continue;
    Json shapes_json = Json::array();
    for (const Shape* s : members) {
      shapes_json.push_back({{"shape", s->label}, {"t1_ns", s->t1}, {"t2_ns", s->t2}});
    }
    gemm[shape_class] = {{"serial", best}, {"threaded", Threaded(best)}, {"score", best_score},
                         {"candidates", evidence}, {"shapes", shapes_json}};
  }
  return gemm;
}

// A large GEMM (2mnk >= 2^30) on 2 threads slower than on 1 means the machine was busy or in a
// slow mode while the sweep ran (a VM's neighbours; another build): the profile would learn that.
// Each such shape is a warning, written into the profile and said on stderr.
Json Disturbances(const std::map<std::string, Shape>& shapes) {
  Json warnings = Json::array();
  for (const auto& [label, s] : shapes) {
    double best1 = INFINITY, best2 = INFINITY;
    for (const auto& [v, t] : s.t1) best1 = std::min(best1, t);
    for (const auto& [v, t] : s.t2) best2 = std::min(best2, t);
    int64_t m = 0, k = 0, n = 0;
    if (std::sscanf(label.c_str(), "%ldx%ldx%ld", &m, &k, &n) != 3) continue;
    if (2.0 * m * n * k >= 1073741824.0 && best2 > best1) {
      warnings.push_back(absl::StrFormat(
          "%s: the best on 2 threads (%.3f ms) is slower than on 1 (%.3f ms): the machine was "
          "disturbed; rerun on a quiet machine before trusting this profile", label,
          best2 * 1e-6, best1 * 1e-6));
    }
  }
  return warnings;
}

// How this run's choices reproduce `old`'s: per class "same", "within noise" (the old choice
// scores at most kNoise in this run: 3%, the run-to-run spread of a median on this VM) or
// "differs"; classes only one profile has are "new" or "gone".
constexpr double kNoise = 1.03;
Json Reproduces(const Json& gemm, const Json& old) {
  Json out = Json::object();
  const Json old_gemm = old.value("gemm", Json::object());
  for (const auto& [c, choice] : gemm.items()) {
    if (!old_gemm.contains(c)) {
      out[c] = "new";
      continue;
    }
    const std::string before = old_gemm[c].value("serial", "");
    if (before == choice["serial"]) {
      out[c] = "same";
    } else {
      const Json& cands = choice["candidates"];
      const double score = cands.contains(before) ? cands[before].value("score", INFINITY) : INFINITY;
      out[c] = absl::StrFormat("%s (was %s, which scores %.3f now)",
                               score <= kNoise ? "within noise" : "differs", before, score);
    }
  }
  for (const auto& [c, choice] : old_gemm.items()) {
    if (!gemm.contains(c)) out[c] = "gone";
  }
  return out;
}

// --compare: how this run's choices reproduce the profile at `old_path`, said on stderr.
Json CompareWith(const std::string& old_path, const Json& gemm) {
  const Json old = Json::parse(harness::ReadWholeFile(old_path), nullptr, false);
  if (old.is_discarded()) {
    std::fprintf(stderr, "tune: --compare: cannot read a profile from %s\n", old_path.c_str());
    std::exit(1);
  }
  Json reproduces = Reproduces(gemm, old);
  int same = 0, noise = 0, differ = 0;
  for (const auto& [c, v] : reproduces.items()) {
    const std::string t = v.get<std::string>();
    same += t == "same", noise += t.rfind("within", 0) == 0, differ += t.rfind("differs", 0) == 0;
    if (t != "same") std::fprintf(stderr, "tune: %s: %s\n", c.c_str(), t.c_str());
  }
  std::fprintf(stderr, "tune: against %s: %d classes the same, %d within the noise, %d differ\n",
               old_path.c_str(), same, noise, differ);
  return reproduces;
}

// Runs one matmul_sweep into `out`; its record, or exits 1 saying why.
Json Sweep(const char* argv0, std::vector<std::string> args, const std::string& out,
           const std::string& key, double deadline) {
  const std::string binary = SuiteBinary(argv0, "matmul_sweep");
  if (binary.empty()) {
    std::fprintf(stderr, "tune: the //perf:matmul_sweep binary was not found beside this one\n");
    std::exit(1);
  }
  args.insert(args.begin(), binary);
  args.push_back("--peers=none");
  args.push_back(std::string("--variants=") + kCandidates);
  args.push_back("--out=" + out);
  args.push_back("--format=json");
  const int status = RunChild(args, out + ".log", deadline);
  auto record = harness::ReadRecord((fs::path(out) / (key + ".json")).string());
  if (status != 0 || !record.ok()) {
    std::fprintf(stderr, "tune: the %s sweep %s\n", key.c_str(),
                 status == -1 ? "ran past --budget" : status != 0 ? "failed (a wrong result?)"
                                                                   : "wrote no record");
    std::exit(1);
  }
  return *record;
}

std::string DefaultProfilePath(const std::string& machine) {
  const std::string ws = harness::WorkspaceDirectory();
  if (ws.empty()) {
    ExitWithUsageError("not started from the repository (use `bazel run`): pass --profile=FILE");
  }
  return (fs::path(ws) / "kernels" / "tuning" / (machine + ".json")).string();
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, kUsage);
  const bool quick = QuickFromFlags();
  const double budget = absl::GetFlag(FLAGS_budget);
  if (!(budget > 0)) ExitWithUsageError("--budget must be positive");
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit("tune");
  const Json header = NewRecord("tune", argc, argv, *topology);
  const std::string machine = header["env"].value("machine", "unknown");
  std::string path = harness::UserPath(absl::GetFlag(FLAGS_profile));
  if (path.empty()) path = DefaultProfilePath(machine);
  if (const absl::Status s = harness::CheckWritableFolder(fs::path(path).parent_path().string()); !s.ok()) {
    ExitWithUsageError("--profile: " + std::string(s.message()));
  }
  const std::string tmp = fs::temp_directory_path() / absl::StrFormat("klab-tune-%d", getpid());
  fs::create_directories(tmp);
  const double deadline = Now() + budget;
  std::vector<std::string> common = {"--threads=1,2"};
  if (quick) common.push_back("--quick");
  std::fprintf(stderr, "tune: [1/2] square shapes, 1 and 2 threads\n");
  const Json square = Sweep(argv[0], common, tmp + "/square", "matmul_sweep", deadline);
  common.push_back("--shapes=transformer");
  std::fprintf(stderr, "tune: [2/2] transformer shapes, 1 and 2 threads\n");
  const Json transformer = Sweep(argv[0], common, tmp + "/transformer", "matmul_sweep-transformer", deadline);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  const std::map<std::string, Shape> shapes = ShapesOf({square, transformer});
  const Json warnings = Disturbances(shapes);
  for (const Json& w : warnings) std::fprintf(stderr, "tune: warning: %s\n", w.get<std::string>().c_str());
  const Json gemm = Choose(shapes);
  if (gemm.empty()) {
    std::fprintf(stderr, "tune: no class had a variant measured on all its shapes\n");
    return 1;
  }
  const kernels::CpuFeatures& cpu = kernels::GetCpuFeatures();
  Json reproduces = nullptr;
  if (const std::string old = harness::UserPath(absl::GetFlag(FLAGS_compare)); !old.empty()) {
    reproduces = CompareWith(old, gemm);
  }
  const Json profile = {
      {"schema", kernels::kTuningSchema}, {"machine", machine},
      {"cpu", {{"vendor", cpu.vendor}, {"family", cpu.family}, {"models", {cpu.model}}, {"brand", cpu.brand}}},
      {"made_by", header["command"]}, {"commit", header["env"].value("git_commit", "?")},
      {"started", header["env"].value("started", "?")}, {"quick", quick},
      {"sweeps", {square["run_id"], transformer["run_id"]}}, {"warnings", warnings},
      {"reproduces", reproduces},
      {"rule", "per shape class, the family minimising the geometric mean over its shapes of "
               "sqrt(t1/best t1 x t2/best t2); serial member on 1 thread, threaded member on 2"},
      {"gemm", gemm}};
  // What the library will read back must pass its own checks.
  auto parsed = kernels::ParseTuningProfile(profile.dump(), path, cpu);
  absl::Status valid = parsed.ok() ? kernels::ValidateGemmTuning(*parsed) : parsed.status();
  if (!valid.ok()) {
    std::fprintf(stderr, "tune: the profile does not validate: %s\n", std::string(valid.message()).c_str());
    return 1;
  }
  if (absl::Status s = harness::WriteFileAtomic(path, profile.dump(1) + "\n"); !s.ok()) {
    std::fprintf(stderr, "tune: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("| class | serial | threaded | score (1 = best on every shape) |\n|---|---|---|---:|\n");
  for (const auto& [c, choice] : gemm.items()) {
    std::printf("| %s | %s | %s | %.3f |\n", c.c_str(), choice["serial"].get<std::string>().c_str(),
                choice["threaded"].get<std::string>().c_str(), choice["score"].get<double>());
  }
  std::fprintf(stderr, "tune: wrote %s (%zu classes); rebuild to compile it in, or KLAB_TUNING=%s\n",
               path.c_str(), gemm.size(), path.c_str());
  return 0;
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
